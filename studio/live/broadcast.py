"""A live stream's audience: who watches it through a share link, what they
vote, and the owner's sockets that hear about it.

A live session lives in one server process (see :mod:`generation.live`), so
its audience does too: this hub is in-process, keyed by the owner, with no
channel layer. Every socket has an :class:`Outbox`: JSON messages in order
(a newer tally or viewer count replaces one not sent yet) and at most
:data:`VIEWER_FRAMES` frames, the oldest dropped when a newer one comes. A
frame is packed once and the same bytes go to every outbox, so a slow viewer
costs the owner and the other viewers nothing: it only sees fewer frames.

The hub's methods run on the server's event loop, except :meth:`Hub.drop_link`
and :meth:`Hub.viewers`, which any thread may call (a revocation is a plain
Django view).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Frames waiting for one viewer's socket; the oldest goes when a newer comes.
VIEWER_FRAMES = 4
# JSON messages waiting for one socket; past this the oldest goes.
OUTBOX_MESSAGES = 64
# Messages of which only the newest matters.
COALESCED = frozenset({"tally", "viewers"})
# Votes are counted as they come and told at most this often (seconds).
TALLY_EVERY = 0.25
MIN_CHOICES, MAX_CHOICES = 2, 4
MIN_POLL_SECONDS, MAX_POLL_SECONDS = 10, 120
DEFAULT_POLL_SECONDS = 30
MAX_LABEL_CHARS = 60


class Outbox:
    """What waits to go out on one socket. Filled on the event loop it was
    made on (from another thread, through that loop); emptied by the
    socket's own task, which waits on :attr:`ready`."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop or asyncio.get_running_loop()
        self.messages: deque[dict[str, Any]] = deque()
        self.frames: deque[bytes] = deque(maxlen=VIEWER_FRAMES)
        self.ready = asyncio.Event()
        self.closing: int | None = None
        self.dropped = 0  # frames this socket never got

    def _soon(self, action: Callable[[], None]) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            action()
        else:
            try:
                self.loop.call_soon_threadsafe(action)
            except RuntimeError:
                pass  # the loop has closed: nobody is listening

    def message(self, message: dict[str, Any]) -> None:
        self._soon(lambda: self._message(message))

    def _message(self, message: dict[str, Any]) -> None:
        if message["type"] in COALESCED:
            for position, waiting in enumerate(self.messages):
                if waiting["type"] == message["type"]:
                    self.messages[position] = message
                    self.ready.set()
                    return
        if len(self.messages) >= OUTBOX_MESSAGES:
            self.messages.popleft()
        self.messages.append(message)
        self.ready.set()

    def frame(self, data: bytes) -> None:
        if len(self.frames) == self.frames.maxlen:
            self.dropped += 1
        self.frames.append(data)
        self.ready.set()

    def clear_frames(self) -> None:
        self.frames.clear()

    def close(self, code: int) -> None:
        def action() -> None:
            self.closing = code
            self.ready.set()

        self._soon(action)

    def take(self) -> tuple[list[dict[str, Any]], list[bytes], int | None]:
        """Everything waiting: messages, frames, and a close code if the
        socket is to be closed after sending them."""
        self.ready.clear()
        messages, frames = list(self.messages), list(self.frames)
        self.messages.clear()
        self.frames.clear()
        return messages, frames, self.closing


@dataclass(frozen=True)
class Choice:
    label: str
    prompt: str


@dataclass
class Poll:
    """A vote the owner offers: choices, how long it runs, who chose what
    (a viewer's latest choice counts; a viewer who leaves takes their vote
    away)."""

    id: int
    choices: tuple[Choice, ...]
    seconds: int
    ends: float  # time.monotonic()
    votes: dict[int, int] = field(default_factory=dict)

    def counts(self) -> list[int]:
        counts = [0] * len(self.choices)
        for choice in self.votes.values():
            counts[choice] += 1
        return counts

    def winner(self) -> int | None:
        """The choice with the most votes, the earliest of those tied; None
        when nobody voted."""
        counts = self.counts()
        if not any(counts):
            return None
        return counts.index(max(counts))

    def public(self) -> dict[str, Any]:
        """The vote as viewers see it: labels, never prompts."""
        return {
            "type": "poll",
            "poll": self.id,
            "choices": [{"label": choice.label} for choice in self.choices],
            "seconds": self.seconds,
            "ends_in": round(max(0.0, self.ends - time.monotonic()), 1),
            "counts": self.counts(),
        }


@dataclass
class Viewer:
    id: int
    link_id: int
    outbox: Outbox


@dataclass
class Channel:
    """One owner's stream and its audience."""

    viewers: dict[int, Viewer] = field(default_factory=dict)
    owners: list[Outbox] = field(default_factory=list)
    stream: dict[str, int] | None = None  # fps, width, height while it runs
    last_frame: bytes | None = None
    poll: Poll | None = None
    tally_due: bool = False

    @property
    def idle(self) -> bool:
        return not self.viewers and not self.owners and self.stream is None


class Hub:
    def __init__(self) -> None:
        self._channels: dict[int, Channel] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def _channel(self, owner_id: int) -> Channel:
        with self._lock:
            return self._channels.setdefault(owner_id, Channel())

    def _forget_if_idle(self, owner_id: int) -> None:
        with self._lock:
            channel = self._channels.get(owner_id)
            if channel is not None and channel.idle:
                del self._channels[owner_id]

    def viewers(self, owner_id: int) -> int:
        with self._lock:
            channel = self._channels.get(owner_id)
            return len(channel.viewers) if channel else 0

    def streaming(self, owner_id: int) -> bool:
        with self._lock:
            channel = self._channels.get(owner_id)
            return channel is not None and channel.stream is not None

    # -- the owner's sockets ----------------------------------------------------

    def attach_owner(self, owner_id: int, outbox: Outbox) -> None:
        channel = self._channel(owner_id)
        channel.owners.append(outbox)
        if channel.viewers:
            # Viewers already wait for the stream; none is the page's default.
            outbox.message({"type": "viewers", "count": len(channel.viewers)})

    def detach_owner(self, owner_id: int, outbox: Outbox) -> None:
        channel = self._channel(owner_id)
        if outbox in channel.owners:
            channel.owners.remove(outbox)
        self._forget_if_idle(owner_id)

    def _to_owners(self, channel: Channel, message: dict[str, Any]) -> None:
        for outbox in channel.owners:
            outbox.message(message)

    def _to_viewers(self, channel: Channel, message: dict[str, Any]) -> None:
        for viewer in channel.viewers.values():
            viewer.outbox.message(message)

    def stream_started(self, owner_id: int, *, fps: int, width: int, height: int):
        channel = self._channel(owner_id)
        channel.stream = {"fps": fps, "width": width, "height": height}
        channel.last_frame = None
        for viewer in channel.viewers.values():
            viewer.outbox.clear_frames()
        self._to_viewers(channel, {"type": "started", **channel.stream})

    def publish_frame(self, owner_id: int, data: bytes) -> None:
        """Hand one packed frame to every viewer: the same bytes, once."""
        channel = self._channels.get(owner_id)
        if channel is None or channel.stream is None:
            return
        channel.last_frame = data
        for viewer in channel.viewers.values():
            viewer.outbox.frame(data)

    def stream_stopped(self, owner_id: int) -> None:
        channel = self._channels.get(owner_id)
        if channel is None or channel.stream is None:
            return
        if channel.poll is not None:
            self.poll_close(owner_id, cancelled=True)
        channel.stream = None
        channel.last_frame = None
        for viewer in channel.viewers.values():
            viewer.outbox.clear_frames()
        self._to_viewers(channel, {"type": "stopped"})
        self._forget_if_idle(owner_id)

    # -- viewers ------------------------------------------------------------------

    def join(
        self, owner_id: int, link_id: int, outbox: Outbox, *, limit: int
    ) -> Viewer | None:
        """A new viewer, told where the stream is; None when ``limit``
        viewers already watch."""
        channel = self._channel(owner_id)
        if len(channel.viewers) >= limit:
            self._forget_if_idle(owner_id)
            return None
        viewer = Viewer(next(self._ids), link_id, outbox)
        with self._lock:
            channel.viewers[viewer.id] = viewer
        if channel.stream is None:
            outbox.message({"type": "waiting"})
        else:
            outbox.message({"type": "started", **channel.stream})
            if channel.poll is not None:
                outbox.message(channel.poll.public())
            if channel.last_frame is not None:
                outbox.frame(channel.last_frame)
        self._to_owners(channel, {"type": "viewers", "count": len(channel.viewers)})
        return viewer

    def leave(self, owner_id: int, viewer: Viewer) -> None:
        channel = self._channels.get(owner_id)
        with self._lock:
            if channel is None or channel.viewers.pop(viewer.id, None) is None:
                return
        poll = channel.poll
        if poll is not None and poll.votes.pop(viewer.id, None) is not None:
            self._tally_soon(owner_id, channel)
        self._to_owners(channel, {"type": "viewers", "count": len(channel.viewers)})
        self._forget_if_idle(owner_id)

    def drop_link(self, owner_id: int, link_id: int) -> None:
        """Close every viewer who came through ``link_id`` (it was revoked).
        Any thread may call it."""
        with self._lock:
            channel = self._channels.get(owner_id)
            viewers = list(channel.viewers.values()) if channel else []
        for viewer in viewers:
            if viewer.link_id == link_id:
                viewer.outbox.close(4404)

    # -- votes ----------------------------------------------------------------------

    def poll(self, owner_id: int) -> Poll | None:
        channel = self._channels.get(owner_id)
        return channel.poll if channel else None

    def poll_open(
        self, owner_id: int, choices: tuple[Choice, ...], seconds: int
    ) -> Poll:
        channel = self._channel(owner_id)
        poll = Poll(
            id=next(self._ids),
            choices=choices,
            seconds=seconds,
            ends=time.monotonic() + seconds,
        )
        channel.poll = poll
        self._to_viewers(channel, poll.public())
        self._to_owners(
            channel,
            {
                **poll.public(),
                "choices": [
                    {"label": c.label, "prompt": c.prompt} for c in poll.choices
                ],
            },
        )
        return poll

    def vote(self, owner_id: int, viewer: Viewer, choice: int) -> str | None:
        """Count ``viewer``'s choice (their latest counts); a sentence when
        it cannot be counted."""
        channel = self._channels.get(owner_id)
        poll = channel.poll if channel else None
        if poll is None:
            return "There is no vote open right now."
        if not 0 <= choice < len(poll.choices):
            return f"Choose one of the {len(poll.choices)} options."
        poll.votes[viewer.id] = choice
        viewer.outbox.message({"type": "voted", "poll": poll.id, "choice": choice})
        self._tally_soon(owner_id, channel)
        return None

    def _tally_soon(self, owner_id: int, channel: Channel) -> None:
        if channel.tally_due:
            return
        channel.tally_due = True
        asyncio.get_running_loop().call_later(
            TALLY_EVERY, self._tally, owner_id, channel
        )

    def _tally(self, owner_id: int, channel: Channel) -> None:
        channel.tally_due = False
        poll = channel.poll
        if poll is None or self._channels.get(owner_id) is not channel:
            return
        counts = poll.counts()
        message = {"type": "tally", "poll": poll.id, "counts": counts}
        message["votes"] = sum(counts)
        self._to_viewers(channel, message)
        self._to_owners(channel, message)

    def poll_close(
        self, owner_id: int, *, cancelled: bool = False
    ) -> tuple[Poll, Choice | None] | None:
        """End the open vote and tell everyone; the winning choice (None
        when cancelled or nobody voted), or None when no vote was open."""
        channel = self._channels.get(owner_id)
        poll = channel.poll if channel else None
        if poll is None:
            return None
        channel.poll = None
        winner = None if cancelled else poll.winner()
        counts = poll.counts()
        closed = {
            "type": "poll_closed",
            "poll": poll.id,
            "winner": winner,
            "label": poll.choices[winner].label if winner is not None else None,
            "counts": counts,
            "votes": sum(counts),
            "cancelled": cancelled,
        }
        self._to_viewers(channel, closed)
        prompt = poll.choices[winner].prompt if winner is not None else None
        self._to_owners(channel, {**closed, "prompt": prompt})
        return poll, (poll.choices[winner] if winner is not None else None)


hub = Hub()
