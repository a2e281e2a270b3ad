from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from studio import jsontext
from studio.generations import runtime
from studio.generations.events import group_name
from studio.generations.models import Generation
from studio.generations.services import generation_state

logger = logging.getLogger(__name__)

# Close codes: the 4000 range mirrors the HTTP status it stands for.
CLOSE_BAD_MESSAGE = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
# Below 4000, so the page connects again: the server could not answer in time.
CLOSE_TRY_AGAIN = 1013
MAX_CLIENT_MESSAGE = 1024
# How long joining the live events and reading the clip may take on connect.
# A socket that got no ``state`` by then is closed, and the page reconnects,
# instead of waiting on a stalled channel layer or database for good.
CONNECT_SECONDS = 30.0


@database_sync_to_async
def _state_for(user: Any, generation_id: str) -> dict[str, Any] | None:
    try:
        pk = uuid.UUID(generation_id)
    except ValueError:
        return None
    generation = Generation.objects.filter(pk=pk, owner_id=user.pk).first()
    if generation is None:
        return None
    state = generation_state(generation)
    if generation.status == Generation.Status.RUNNING:
        # The latest preview, read here too: it may come from the shared cache.
        state["_preview"] = runtime.events.live_preview(state["id"])
    return state


class GenerationConsumer(AsyncWebsocketConsumer):
    """Live events of one generation for its owner.

    On connect the client gets ``state`` (and the latest preview while the job
    runs), then every event as it happens. Clients may send ``{"type":
    "ping"}``; anything else closes the socket with 4400.
    """

    group: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Live events that arrive while ``connect`` still reads the state wait
        # here, so ``state`` always comes first (as it does through a group).
        self._held: list[dict[str, Any]] | None = []
        # The preview sent on connect, which may also come through the group.
        self._caught_up_with: bytes | None = None

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        generation_id = self.scope["url_route"]["kwargs"]["generation_id"]
        # Subscribe before reading the state, so no event falls in between.
        self.group = group_name(generation_id)
        try:
            async with asyncio.timeout(CONNECT_SECONDS):
                await self._subscribe()
                state = await _state_for(user, generation_id)
        except TimeoutError:
            logger.warning(
                "A viewer of %s got no state in %.0f s; it will reconnect",
                generation_id,
                CONNECT_SECONDS,
            )
            # ``disconnect`` leaves the group once the socket is closed.
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        if state is None:
            await self._unsubscribe()
            await self.close(code=CLOSE_NOT_FOUND)
            return
        preview = state.pop("_preview", None)
        await self.send(text_data=json.dumps({"type": "state", **state}))
        held = self._held if self._held is not None else []
        caught_up = any(m["type"] == "generation.preview" for m in held)
        if preview is not None and state["status"] == Generation.Status.RUNNING:
            # A held preview is older than the latest one, which is on its way.
            if not caught_up:
                self._caught_up_with = preview
                await self.send(bytes_data=preview)
        while held:
            await self._send_event(held.pop(0))
        self._held = None

    async def disconnect(self, code: int) -> None:
        await self._unsubscribe()

    async def _subscribe(self) -> None:
        # One process (in-memory layer): the live events come straight here.
        if runtime.events.delivers_locally():
            runtime.events.watch(self.group, self)
        else:
            await self.channel_layer.group_add(self.group, self.channel_name)

    async def _unsubscribe(self) -> None:
        if self.group is None:
            return
        runtime.events.unwatch(self.group, self)
        if not runtime.events.delivers_locally():
            await self.channel_layer.group_discard(self.group, self.channel_name)
        self.group = None

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        message = None
        if text_data is not None and len(text_data) <= MAX_CLIENT_MESSAGE:
            try:
                message = jsontext.loads(text_data)
            except jsontext.JSONTextError:
                message = None
        if isinstance(message, dict) and message.get("type") == "ping":
            await self.send(text_data=json.dumps({"type": "pong"}))
            return
        await self.close(code=CLOSE_BAD_MESSAGE)

    async def deliver(self, message: dict[str, Any]) -> None:
        """A live event handed over in this process (see ``LiveEvents``).

        Unlike ``dispatch`` it skips closing old database connections, which
        costs a thread hop per message and these handlers never use.
        """
        if self._held is not None:
            self._held.append(message)
            return
        await self._send_event(message)

    async def _send_event(self, message: dict[str, Any]) -> None:
        if message["type"] == "generation.preview":
            await self.generation_preview(message)
        else:
            await self.generation_event(message)

    async def generation_event(self, message: dict[str, Any]) -> None:
        await self.send(text_data=message["text"])

    async def generation_preview(self, message: dict[str, Any]) -> None:
        frame = message["frame"]
        if self._caught_up_with is not None:
            seen, self._caught_up_with = self._caught_up_with, None
            if frame == seen:
                return
        await self.send(bytes_data=frame)
