"""A websocket test client that waits for what it waits on.

Channels' communicator gives up after one second by default, which a busy
machine can pass between two messages of a healthy server; these waits end
when the message comes, and the ceiling only stops a broken run hanging.
"""

from __future__ import annotations

from typing import Any

from channels.testing import WebsocketCommunicator

from tests.studio.generations.processes import PATIENCE


class PatientCommunicator(WebsocketCommunicator):
    async def connect(self, timeout: float = PATIENCE) -> Any:
        return await super().connect(timeout)

    async def receive_output(self, timeout: float = PATIENCE) -> Any:
        return await super().receive_output(timeout)

    async def receive_from(self, timeout: float = PATIENCE) -> Any:
        return await super().receive_from(timeout)

    async def receive_json_from(self, timeout: float = PATIENCE) -> Any:
        return await super().receive_json_from(timeout)

    async def disconnect(self, code: int = 1000, timeout: float = PATIENCE) -> None:
        return await super().disconnect(code, timeout)
