"""``/ws/live``: a live stream of the built-in model, steered by the prompt.

The protocol is in the README ("Live mode"). JSON text both ways; frames
come as binary messages of type 2, framed like a clip's previews. A session
runs on a thread of its own (:class:`generation.live.LiveSession`); this
consumer relays its frames, paces nothing and buffers little: frames the
socket has not sent yet are dropped for newer ones. Each frame, packed once,
also goes to whoever watches through a share link (:mod:`studio.live.broadcast`),
and the owner hears how many watch and how they vote.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import time
from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.urls import reverse

from generation.live import (
    FRAME_FORMAT,
    LIVE_FRAME_MESSAGE,
    LiveBusy,
    LiveEvent,
    LiveFrame,
    LiveSession,
    LiveSettings,
    LiveSettingsError,
    Recording,
    live_busy,
    live_settings,
)
from generation.service import failure_reason
from generation.specs import MAX_PROMPT_CHARS
from studio import jsontext
from studio.live.broadcast import (
    DEFAULT_POLL_SECONDS,
    MAX_CHOICES,
    MAX_LABEL_CHARS,
    MAX_POLL_SECONDS,
    MIN_CHOICES,
    MIN_POLL_SECONDS,
    Choice,
    Outbox,
    hub,
)
from studio.live.services import (
    clip_waiting,
    live_look,
    live_project,
    live_recording_save,
)

logger = logging.getLogger(__name__)

CLOSE_BAD_MESSAGE = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_BUSY = 4409
# A vote's prompts of the longest length, every character escaped, and room
# to spare.
MAX_CLIENT_MESSAGE = 6 * (MAX_PROMPT_CHARS + MAX_LABEL_CHARS) * MAX_CHOICES + 1024
# How long a stop or a closed socket waits for the session's thread (it
# ends after the frame in hand; this only guards against a stuck device).
JOIN_SECONDS = 10.0
STATS_EVERY = 1.0

# Each message type, its fields and their types; (required, optional).
_INT = (int,)
MESSAGES: dict[str, tuple[dict[str, tuple[type, ...]], dict[str, tuple[type, ...]]]] = {
    "start": (
        {"prompt": (str,)},
        {
            "model": (str,),
            "seed": _INT,
            "fps": _INT,
            "width": _INT,
            "height": _INT,
            "project": (str,),
            "style": _INT,
        },
    ),
    "prompt": ({"prompt": (str,)}, {}),
    # Grade the frames with one of the creator's styles' looks (null: none).
    "style": ({}, {"style": _INT}),
    "record": ({"on": (bool,)}, {}),
    "stop": ({}, {}),
    "ping": ({}, {}),
    # Offer a vote (choices, seconds), or end the open one: close (its winner
    # steers the stream) or cancel (nothing changes).
    "poll": (
        {},
        {"choices": (list,), "seconds": _INT, "close": (bool,), "cancel": (bool,)},
    ),
}
# Choices a poll message may list before it is malformed rather than refused
# with a sentence.
MAX_LISTED_CHOICES = 16
# Style ids are database keys of this size.
MAX_STYLE_ID = 2**31 - 1
BUSY = "Live mode is in use by another session on this studio; try again when it ends."


def parse_message(text: str | None) -> dict[str, Any] | None:
    """A well-formed client message, or None: not JSON, too long, an unknown
    type, a missing or unknown field, a value of the wrong type, a prompt
    over the engine's length."""
    if text is None or len(text) > MAX_CLIENT_MESSAGE:
        return None
    try:
        message = jsontext.loads(text)
    except jsontext.JSONTextError:
        return None
    if not isinstance(message, dict) or message.get("type") not in MESSAGES:
        return None
    required, optional = MESSAGES[message["type"]]
    fields = {k: v for k, v in message.items() if k != "type"}
    if not set(required) <= set(fields) or not set(fields) <= {*required, *optional}:
        return None
    for name, value in fields.items():
        kinds = required.get(name) or optional[name]
        if value is None and name in optional:
            continue
        # JSON true is no number, here or anywhere.
        if not isinstance(value, kinds) or (
            isinstance(value, bool) and bool not in kinds
        ):
            return None
    prompt = fields.get("prompt")
    if isinstance(prompt, str) and len(prompt) > MAX_PROMPT_CHARS:
        return None
    if message["type"] == "poll" and not _well_formed_poll(fields):
        return None
    return message


def _well_formed_poll(fields: dict[str, Any]) -> bool:
    """One of: choices (with seconds or not), close: true, cancel: true;
    each choice a prompt, or {"prompt", "label"?}, within their lengths."""
    if "choices" in fields:
        if fields.keys() - {"choices", "seconds"}:
            return False
        choices = fields["choices"]
        if len(choices) > MAX_LISTED_CHOICES:
            return False
        return all(_well_formed_choice(choice) for choice in choices)
    if len(fields) != 1:
        return False
    return fields.get("close") is True or fields.get("cancel") is True


def _well_formed_choice(choice: Any) -> bool:
    if isinstance(choice, str):
        return len(choice) <= MAX_PROMPT_CHARS
    if not isinstance(choice, dict) or "prompt" not in choice:
        return False
    if choice.keys() - {"prompt", "label"}:
        return False
    prompt, label = choice["prompt"], choice.get("label", "")
    return (
        isinstance(prompt, str)
        and len(prompt) <= MAX_PROMPT_CHARS
        and isinstance(label, str)
        and len(label) <= MAX_LABEL_CHARS
    )


def poll_choices(choices: list[Any]) -> tuple[Choice, ...] | str:
    """The choices of a well-formed poll message, or a sentence saying why
    they cannot be offered. A choice without a label is labelled by its
    prompt."""
    if not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
        return f"Offer from {MIN_CHOICES} to {MAX_CHOICES} choices."
    made = []
    for choice in choices:
        if isinstance(choice, str):
            choice = {"prompt": choice}
        prompt = choice["prompt"].strip()
        if not prompt:
            return "Every choice needs the prompt it steers the stream to."
        label = " ".join(choice.get("label", "").split()) or _label_of(prompt)
        made.append(Choice(label=label, prompt=prompt))
    return tuple(made)


def _label_of(prompt: str) -> str:
    words = " ".join(prompt.split())
    if len(words) <= MAX_LABEL_CHARS:
        return words
    return words[: MAX_LABEL_CHARS - 1].rstrip() + "…"


def pack_frame(session: str, frame: LiveFrame) -> bytes:
    """Frame a live frame: type 2, header length, JSON header, JPEG bytes.
    ``sent_at`` is when it was handed to the sockets (Unix time, ms)."""
    header = {
        "session": session,
        "index": frame.index,
        "width": frame.width,
        "height": frame.height,
        "format": FRAME_FORMAT,
        "prompt_index": frame.prompt_index,
        "sent_at": round(time.time() * 1000, 1),
    }
    raw = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack(">II", LIVE_FRAME_MESSAGE, len(raw)) + raw + frame.image


def unpack_frame(message: bytes) -> tuple[dict[str, Any], bytes]:
    """The header and JPEG of a live frame message (for clients and tests)."""
    kind, length = struct.unpack(">II", message[:8])
    if kind != LIVE_FRAME_MESSAGE:
        raise ValueError(f"not a live frame: type {kind}")
    return json.loads(message[8 : 8 + length]), message[8 + length :]


_save_recording = database_sync_to_async(live_recording_save, thread_sensitive=False)


class LiveConsumer(AsyncWebsocketConsumer):
    """One creator's live stream: start, steer, record, stop."""

    # A live session lives in this process and takes no messages from others:
    # no channel layer, so no layer receive loop to outlive the socket.
    channel_layer_alias = "live-needs-no-layer"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session: LiveSession | None = None
        self.project_id: str | None = None
        self._ready = asyncio.Event()
        self._pump: asyncio.Task | None = None
        self._saving: set[asyncio.Task] = set()
        # (sent at, seconds from asking for the frame to sending it)
        self._sent: deque[tuple[float, float]] = deque(maxlen=256)
        self._last_stats = 0.0
        # What the audience says (viewers, tallies), and its sender.
        self.owner_id: int | None = None
        self.outbox: Outbox | None = None
        self._notes: asyncio.Task | None = None
        self._poll_timer: asyncio.TimerHandle | None = None

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.owner_id = user.pk
        self.outbox = Outbox()
        hub.attach_owner(self.owner_id, self.outbox)
        self._notes = asyncio.create_task(self._send_notes(self.outbox))

    async def disconnect(self, code: int) -> None:
        # The tab went away: the device and the slot are free when this ends;
        # what was being recorded is kept as a clip all the same.
        await self._end(notify=False)
        if self.outbox is not None:
            hub.detach_owner(self.owner_id, self.outbox)
        if self._notes is not None:
            self._notes.cancel()
        if self._saving:
            await asyncio.gather(*self._saving, return_exceptions=True)

    async def _send_notes(self, outbox: Outbox) -> None:
        """Send what the hub has for the owner, in order, as it comes."""
        while True:
            await outbox.ready.wait()
            messages, _, _ = outbox.take()
            for message in messages:
                await self.send_json(**message)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        message = parse_message(text_data)
        if message is None:
            await self.close(code=CLOSE_BAD_MESSAGE)
            return
        handler = getattr(self, f"on_{message['type']}")
        await handler(message)

    async def send_json(self, **message: Any) -> None:
        await self.send(text_data=json.dumps(message))

    async def error(self, sentence: str) -> None:
        await self.send_json(type="error", error=sentence)

    # -- client messages -----------------------------------------------------

    async def on_ping(self, message: dict[str, Any]) -> None:
        await self.send_json(type="pong")

    async def on_start(self, message: dict[str, Any]) -> None:
        if self.session is not None:
            await self.error("The stream is already running; stop it to start anew.")
            return
        look = None
        if message.get("style") is not None:
            look = await self._look(message["style"])
            if look is None:
                return
        try:
            live = live_settings(
                prompt=message["prompt"],
                model=message.get("model"),
                seed=message.get("seed"),
                fps=message.get("fps"),
                width=message.get("width"),
                height=message.get("height"),
                look=look,
            )
        except LiveSettingsError as error:
            await self.error(str(error))
            return
        project_id = message.get("project")
        if project_id:
            user = self.scope["user"]
            found = await database_sync_to_async(live_project)(
                user=user, project_id=project_id
            )
            if found is None:
                await self.error("That project is not one of yours.")
                return
        if live_busy():
            await self._refuse_busy()
            return
        loop = asyncio.get_running_loop()
        session = LiveSession(
            live,
            device=settings.STUDIO_DEVICE,
            on_output=lambda: self._wake(loop),
            device_wanted=clip_waiting,
        )
        try:
            await asyncio.to_thread(session.open)
        except LiveBusy:
            await self._refuse_busy()
            return
        except Exception as error:
            logger.exception("live mode could not start")
            await self.error(f"Live mode could not start. {failure_reason(error)}")
            return
        self.session, self.project_id = session, project_id or None
        self._sent.clear()
        self._last_stats = time.monotonic()
        await self.send_json(
            type="started",
            session=session.id,
            fps=live.fps,
            width=live.width,
            height=live.height,
            seed=live.seed,
            record_limit_seconds=live.record_seconds,
        )
        hub.stream_started(
            self.owner_id, fps=live.fps, width=live.width, height=live.height
        )
        self._pump = asyncio.create_task(self._relay(session))

    async def on_prompt(self, message: dict[str, Any]) -> None:
        if self.session is None:
            await self.error("Start the stream first; then every edit steers it.")
            return
        try:
            self.session.set_prompt(message["prompt"])
        except LiveSettingsError as error:
            await self.error(str(error))

    async def on_style(self, message: dict[str, Any]) -> None:
        if self.session is None:
            await self.error("Start the stream first; then a style grades it.")
            return
        look = None
        if message.get("style") is not None:
            look = await self._look(message["style"])
            if look is None:
                return
        try:
            self.session.set_look(look)
        except LiveSettingsError as error:
            await self.error(str(error))

    async def _look(self, style_id: int) -> tuple[str, dict[str, Any]] | None:
        """The look of the creator's style ``style_id``; None after saying
        why it can't be used."""
        if not 1 <= style_id <= MAX_STYLE_ID:
            await self.error("That style no longer exists; choose another one.")
            return None
        found = await database_sync_to_async(live_look)(
            user=self.scope["user"], style_id=style_id
        )
        if isinstance(found, str):
            await self.error(found)
            return None
        return found

    async def on_record(self, message: dict[str, Any]) -> None:
        session = self.session
        if session is None:
            await self.error("Start the stream before recording.")
            return
        if message["on"]:
            session.record(True)
            return
        recording = session.record(False)
        if recording is None or not recording.frames:
            await self.error("Nothing is being recorded.")
            return
        self._keep(recording, session.settings, self.project_id)

    async def on_poll(self, message: dict[str, Any]) -> None:
        if self.session is None:
            await self.error("Start the stream before offering a vote.")
            return
        open_poll = hub.poll(self.owner_id)
        if "choices" not in message:
            if open_poll is None:
                await self.error("No vote is open.")
                return
            await self._close_poll(cancelled=bool(message.get("cancel")))
            return
        if open_poll is not None:
            await self.error("A vote is open; close it before offering another.")
            return
        choices = poll_choices(message["choices"])
        if isinstance(choices, str):
            await self.error(choices)
            return
        seconds = message.get("seconds")
        seconds = DEFAULT_POLL_SECONDS if seconds is None else seconds
        if not MIN_POLL_SECONDS <= seconds <= MAX_POLL_SECONDS:
            await self.error(
                f"A vote lasts from {MIN_POLL_SECONDS} to {MAX_POLL_SECONDS} seconds."
            )
            return
        poll = hub.poll_open(self.owner_id, choices, seconds)
        loop = asyncio.get_running_loop()
        self._poll_timer = loop.call_later(seconds, lambda: self._poll_due(poll.id))

    def _poll_due(self, poll_id: int) -> None:
        poll = hub.poll(self.owner_id)
        if poll is not None and poll.id == poll_id:
            task = asyncio.create_task(self._close_poll(cancelled=False))
            self._saving.add(task)
            task.add_done_callback(self._saving.discard)

    async def _close_poll(self, *, cancelled: bool) -> None:
        """End the open vote; its winner steers the stream."""
        if self._poll_timer is not None:
            self._poll_timer.cancel()
            self._poll_timer = None
        closed = hub.poll_close(self.owner_id, cancelled=cancelled)
        if closed is None:
            return
        _, winner = closed
        if winner is not None and self.session is not None:
            self.session.set_prompt(winner.prompt)

    async def on_stop(self, message: dict[str, Any]) -> None:
        if self.session is None:
            await self.send_json(type="stopped", reason="The stream is not running.")
            return
        await self._end(notify=True)

    # -- the session ---------------------------------------------------------

    async def _refuse_busy(self) -> None:
        await self.error(BUSY)
        await self.close(code=CLOSE_BUSY)

    def _wake(self, loop: asyncio.AbstractEventLoop) -> None:
        """From the session's thread: frames or events are waiting."""
        try:
            loop.call_soon_threadsafe(self._ready.set)
        except RuntimeError:
            pass  # the server's loop has closed; nobody is watching

    async def _end(self, *, notify: bool) -> None:
        """Stop the session, wait for its thread, keep what was recorded."""
        session, self.session = self.session, None
        if session is None:
            return
        project_id = self.project_id
        session.stop()
        joined = await asyncio.to_thread(session.join, JOIN_SECONDS)
        if not joined:
            logger.warning("live session %s did not stop in time", session.id)
        pump, self._pump = self._pump, None
        if pump is not None:
            if notify and joined:
                self._ready.set()  # the last frames and events go out first
            else:
                pump.cancel()  # nobody is watching, or the thread is stuck
            try:
                await pump
            except asyncio.CancelledError:
                pass
            except Exception:
                logger.exception("relaying live session %s failed", session.id)
        # Viewers get the last frames the owner got, then the end.
        self._stream_over()
        recordings = [
            event.recording
            for event in session.take_events()
            if event.kind == "record_full" and event.recording is not None
        ]
        recordings.append(session.record(False))
        for recording in recordings:
            if recording is not None and recording.frames:
                self._keep(recording, session.settings, project_id, notify=notify)
        if notify:
            await asyncio.gather(*self._saving, return_exceptions=True)
            await self.send_json(type="stopped", reason="Stopped.")

    async def _relay(self, session: LiveSession) -> None:
        """Send the session's frames and events as they come, and the stats
        about once a second, until its thread has ended."""
        while True:
            wait = max(0.0, self._last_stats + STATS_EVERY - time.monotonic())
            try:
                async with asyncio.timeout(wait):
                    await self._ready.wait()
            except TimeoutError:
                pass
            self._ready.clear()
            for frame in session.take_frames():
                packed = pack_frame(session.id, frame)
                await self.send(bytes_data=packed)
                hub.publish_frame(self.owner_id, packed)
                now = time.monotonic()
                self._sent.append((now, now - frame.asked_at))
            ended = False
            for event in session.take_events():
                ended = await self._on_event(session, event) or ended
            if ended:
                return
            if time.monotonic() >= self._last_stats + STATS_EVERY:
                await self._send_stats(session)

    async def _on_event(self, session: LiveSession, event: LiveEvent) -> bool:
        """Handle one event of the session; whether its thread has ended."""
        if event.kind == "record_full" and event.recording is not None:
            limit = session.settings.record_seconds
            await self.error(
                f"Recording stopped at its limit of {limit} seconds; the clip is "
                "being saved. Press Record again to go on."
            )
            self._keep(event.recording, session.settings, self.project_id, limit=True)
        elif event.kind == "failed":
            await self.error(f"The stream stopped. {event.message}")
        elif event.kind == "ended":
            if self.session is session:
                # The thread ended on its own (a failure): the session is over.
                self.session = None
                self._stream_over()
                recording = session.record(False)
                if recording is not None and recording.frames:
                    self._keep(recording, session.settings, self.project_id)
                await self.send_json(type="stopped", reason="The stream stopped.")
            return True
        return False

    async def _send_stats(self, session: LiveSession) -> None:
        now = time.monotonic()
        span = max(now - self._last_stats, 1e-6)
        recent = [latency for at, latency in self._sent if at > now - span]
        self._last_stats = now
        await self.send_json(
            type="stats",
            fps=round(len(recent) / span, 1),
            latency_ms=round(1000 * sum(recent) / len(recent)) if recent else None,
            dropped=session.dropped,
            recording=session.recording,
            viewers=hub.viewers(self.owner_id),
        )

    def _stream_over(self) -> None:
        """Viewers hear the stream ended; an open vote ends unanswered."""
        if self._poll_timer is not None:
            self._poll_timer.cancel()
            self._poll_timer = None
        hub.stream_stopped(self.owner_id)

    # -- recordings ----------------------------------------------------------

    def _keep(
        self,
        recording: Recording,
        live: LiveSettings,
        project_id: str | None,
        *,
        notify: bool = True,
        limit: bool = False,
    ) -> None:
        """Save a recording as a clip beside the stream, then say so
        (``limit``: it was cut at the longest a recording may be)."""
        task = asyncio.create_task(
            self._save(recording, live, project_id, notify=notify, limit=limit)
        )
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)

    async def _save(
        self,
        recording: Recording,
        live: LiveSettings,
        project_id: str | None,
        *,
        notify: bool,
        limit: bool,
    ) -> None:
        try:
            generation = await _save_recording(
                user=self.scope["user"],
                project_id=project_id,
                settings=live,
                recording=recording,
            )
        except Exception as error:
            logger.exception("saving a live recording failed")
            if notify:
                await self.error(
                    f"The recording was not saved. {failure_reason(error)}"
                )
            return
        if notify:
            await self.send_json(
                type="recorded",
                generation=str(generation.pk),
                url=reverse("generations:detail", args=[generation.pk]),
                frames=len(recording.frames),
                seconds=round(len(recording.frames) / live.fps, 2),
                limit_reached=limit,
            )
