"""``/ws/live/watch?share=<token>``: a live stream for anyone with its share
link, and their votes.

No login: the token is checked as share pages check theirs. The viewer gets
the frames the owner gets (binary type 2, the same bytes) and JSON messages
about the stream and its votes; the protocol is in the README ("Sharing
live"). Like the owner's socket, this one takes no channel layer: the
stream and its audience live in this process (:mod:`studio.live.broadcast`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from studio import jsontext
from studio.live.broadcast import MAX_CHOICES, Outbox, Viewer, hub
from studio.live.services import live_watch_admit
from studio.sharing.ratelimit import scope_address

CLOSE_BAD_MESSAGE = 4400
CLOSE_NO_LINK = 4404
CLOSE_RATE_LIMITED = 4429
CLOSE_FULL = 4503
# {"type": "vote", "choice": 3} with room for spaces.
MAX_VIEWER_MESSAGE = 256

REFUSALS = {
    "missing": (
        CLOSE_NO_LINK,
        "This link does not work: it may have been mistyped, or its owner "
        "turned it off.",
    ),
    "expired": (CLOSE_NO_LINK, "This link has expired."),
    "limited": (
        CLOSE_RATE_LIMITED,
        "Too many requests from your address; wait a minute and reload.",
    ),
}


def parse_viewer_message(text: str | None) -> dict[str, Any] | None:
    """``{"type": "vote", "choice": 0..3}`` or ``{"type": "ping"}``; None
    for anything else."""
    if text is None or len(text) > MAX_VIEWER_MESSAGE:
        return None
    try:
        message = jsontext.loads(text)
    except jsontext.JSONTextError:
        return None
    if not isinstance(message, dict):
        return None
    if message == {"type": "ping"}:
        return message
    if message.keys() != {"type", "choice"} or message["type"] != "vote":
        return None
    choice = message["choice"]
    # JSON true is no number.
    if not isinstance(choice, int) or isinstance(choice, bool):
        return None
    if not 0 <= choice < MAX_CHOICES:
        return None
    return message


_admit = database_sync_to_async(live_watch_admit, thread_sensitive=False)


class WatchConsumer(AsyncWebsocketConsumer):
    """One viewer of one owner's live stream."""

    # The audience lives in this process: no channel layer, so no layer
    # receive loop to outlive the socket.
    channel_layer_alias = "live-needs-no-layer"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner_id: int | None = None
        self.viewer: Viewer | None = None
        self._pump: asyncio.Task | None = None
        self._expiry: asyncio.TimerHandle | None = None

    async def connect(self) -> None:
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("share") or [""])[0]
        admission = await _admit(token=token, address=scope_address(self.scope))
        if admission.link is None:
            code, sentence = REFUSALS[admission.refused]
            await self.send_json(type="error", error=sentence)
            await self.close(code=code)
            return
        link = admission.link
        outbox = Outbox()
        viewer = hub.join(
            link.owner_id, link.pk, outbox, limit=settings.STUDIO_LIVE_MAX_VIEWERS
        )
        if viewer is None:
            await self.send_json(
                type="error",
                error=(
                    "This stream has as many viewers as it can take "
                    f"({settings.STUDIO_LIVE_MAX_VIEWERS}); try again in a while."
                ),
            )
            await self.close(code=CLOSE_FULL)
            return
        self.owner_id, self.viewer = link.owner_id, viewer
        self._pump = asyncio.create_task(self._send_outbox(outbox))
        if link.expires is not None:
            left = (link.expires - timezone.now()).total_seconds()
            loop = asyncio.get_running_loop()
            self._expiry = loop.call_later(
                max(0.0, left), lambda: outbox.close(CLOSE_NO_LINK)
            )

    async def disconnect(self, code: int) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        if self.viewer is not None:
            hub.leave(self.owner_id, self.viewer)
            self.viewer = None
        if self._pump is not None:
            self._pump.cancel()

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        message = parse_viewer_message(text_data)
        if message is None:
            await self.close(code=CLOSE_BAD_MESSAGE)
            return
        if message["type"] == "ping":
            await self.send_json(type="pong")
        elif self.viewer is not None:
            sorry = hub.vote(self.owner_id, self.viewer, message["choice"])
            if sorry:
                await self.send_json(type="error", error=sorry)

    async def send_json(self, **message: Any) -> None:
        await self.send(text_data=json.dumps(message))

    async def _send_outbox(self, outbox: Outbox) -> None:
        """Send what waits for this viewer: messages first, then the newest
        frames; close when the hub says so (the link was revoked or ran
        out)."""
        while True:
            await outbox.ready.wait()
            messages, frames, closing = outbox.take()
            for message in messages:
                await self.send_json(**message)
            for frame in frames:
                await self.send(bytes_data=frame)
            if closing is not None:
                if self.viewer is not None:
                    hub.leave(self.owner_id, self.viewer)
                    self.viewer = None
                await self.send_json(
                    type="error", error="This link no longer opens the stream."
                )
                await self.close(code=closing)
                return
