"""From the worker thread to the websockets: the service's EventSink.

The worker runs in its own thread; the consumers live on the server's event
loop. Calling ``async_to_sync(group_send)`` from the worker was measured to
deliver late (62–545 ms) and to drop frames with the in-memory layer, so each
event is handed to the loop with ``call_soon_threadsafe`` and one pump task on
that loop sends them with ``group_send`` in the order they were emitted.

With the in-memory layer every viewer is in this process, so the pump hands
each event straight to the viewers watching it: one send per viewer, instead
of a task, a deep copy, a queue hop and a database clean-up in a worker
thread (a consumer's ``dispatch``) per viewer and event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import threading
import time
from pathlib import Path
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.core.cache import cache

from generation.specs import StepEvent

logger = logging.getLogger(__name__)

PREVIEW_MESSAGE = 1
# With a shared layer the live state also goes to the shared cache (Redis), so
# a server process without the worker can catch a late viewer up too.
LIVE_KEY = "live:{kind}:{job}"
LIVE_SECONDS = 3600
# Workers in their own processes (``manage.py worker``) listen here, so a
# clip queued through any server process starts at once.
WORKERS_GROUP = "generation-workers"


def group_name(generation_id: object) -> str:
    return f"generation-{generation_id}"


def pack_preview(header: dict[str, Any], image: bytes) -> bytes:
    """Frame a preview: type, header length, JSON header, image bytes."""
    raw = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack(">II", PREVIEW_MESSAGE, len(raw)) + raw + image


def unpack_preview(frame: bytes) -> tuple[dict[str, Any], bytes]:
    kind, length = struct.unpack(">II", frame[:8])
    if kind != PREVIEW_MESSAGE:
        raise ValueError(f"not a preview message: type {kind}")
    return json.loads(frame[8 : 8 + length]), frame[8 + length :]


def media_url(path: str | Path | None) -> str:
    """The URL of a file the service wrote under MEDIA_ROOT."""
    if not path:
        return ""
    return settings.MEDIA_URL + media_relative(path)


def media_relative(path: str | Path) -> str:
    """A path under MEDIA_ROOT as stored on the Generation row."""
    return Path(path).resolve().relative_to(settings.MEDIA_ROOT).as_posix()


class LiveEvents:
    """Relays events to channel-layer groups and remembers the live state.

    The latest preview and progress of each running generation are kept in
    memory so that a viewer who connects late can catch up at once; with a
    channel layer shared between processes, in the shared cache as well.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]]] | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self.latest_preview: dict[str, bytes] = {}
        self.progress: dict[str, dict[str, Any]] = {}
        self._viewers: dict[str, set[Any]] = {}

    @staticmethod
    def delivers_locally() -> bool:
        """Whether viewers watch here rather than join a channel-layer group."""
        return isinstance(get_channel_layer(), InMemoryChannelLayer)

    def watch(self, group: str, viewer: Any) -> None:
        """Deliver ``group``'s events to ``await viewer.deliver(message)``."""
        self._viewers.setdefault(group, set()).add(viewer)

    def unwatch(self, group: str, viewer: Any) -> None:
        viewers = self._viewers.get(group)
        if viewers is not None:
            viewers.discard(viewer)
            if not viewers:
                del self._viewers[group]

    def watching(self, group: str) -> int:
        return len(self._viewers.get(group, ()))

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Send from now on through ``loop``; call this on that loop."""
        with self._lock:
            if self._loop is loop and self._pump_task and not self._pump_task.done():
                return
            self._loop = loop
            self._queue = asyncio.Queue()
            self._pump_task = loop.create_task(self._pump(self._queue))

    @property
    def bound_loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop

    async def _pump(self, queue: asyncio.Queue[tuple[str, dict[str, Any]]]) -> None:
        while True:
            group, message = await queue.get()
            try:
                await self._send(group, message)
            finally:
                queue.task_done()

    async def _send(self, group: str, message: dict[str, Any]) -> None:
        if self.delivers_locally():
            for viewer in list(self._viewers.get(group, ())):
                try:
                    await viewer.deliver(message)
                except Exception:
                    # A viewer that went away must not stop the others.
                    logger.debug("Dropped a viewer of %s", group, exc_info=True)
                    self.unwatch(group, viewer)
            return
        try:
            await get_channel_layer().group_send(group, message)
        except Exception:
            logger.exception("Could not relay an event to %s", group)

    async def flushed(self) -> None:
        """Return once every event published so far has been sent."""
        with self._lock:
            queue = self._queue
        if queue is not None:
            await queue.join()

    def _publish(self, job_id: str, message: dict[str, Any]) -> None:
        self._publish_to(group_name(job_id), message)

    def _publish_to(self, group: str, message: dict[str, Any]) -> None:
        with self._lock:
            loop, queue = self._loop, self._queue
        if loop is None or queue is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(queue.put_nowait, (group, message))
        except RuntimeError:
            # The loop closed between the check and the call: nobody is listening.
            pass

    def wake_workers(self) -> None:
        """Tell workers in other processes that a clip was queued."""
        if not self.delivers_locally():
            self._publish_to(WORKERS_GROUP, {"type": "worker.wake"})

    def publish_event(self, job_id: str, event: dict[str, Any]) -> None:
        text = json.dumps(event, separators=(",", ":"))
        self._publish(str(job_id), {"type": "generation.event", "text": text})

    # The EventSink protocol.

    def emit(self, job_id: str, event: dict[str, Any]) -> None:
        job_id = str(job_id)
        kind = event.get("type")
        if kind == "started":
            self.progress[job_id] = {
                "step": 0,
                "steps": event.get("steps", 0),
                "elapsed": 0.0,
                "eta": None,
            }
            out = {"type": "started"}
        elif kind == "progress":
            out = self._progress(job_id, event)
        elif kind == "succeeded":
            self.forget(job_id)
            out = {
                "type": "succeeded",
                "video_url": media_url(event.get("video_path") or event.get("video")),
                "poster_url": media_url(
                    event.get("poster_path") or event.get("poster")
                ),
            }
            if event.get("captions_path"):
                out["captions_url"] = media_url(event["captions_path"])
        elif kind == "failed":
            self.forget(job_id)
            reason = event.get("error") or event.get("reason") or "Generation failed."
            out = {"type": "failed", "error": str(reason)}
        elif kind == "cancelled":
            self.forget(job_id)
            out = {"type": "cancelled"}
        else:
            out = dict(event)
        self.publish_event(job_id, out)

    def emit_preview(self, job_id: str, event: StepEvent) -> None:
        # The service sends a progress event right after each preview.
        job_id = str(job_id)
        if not event.preview:
            return
        header = {
            "generation": job_id,
            "step": event.step,
            "steps": event.steps,
            "frames": event.frames,
            "width": event.width,
            "height": event.height,
            "format": event.preview_format,
            "layout": event.layout,
            # Server wall-clock time of publishing, for latency measurements.
            "sent": round(time.time(), 4),
        }
        frame = pack_preview(header, event.preview)
        self.latest_preview[job_id] = frame
        self._share(job_id, "preview", frame)
        self._publish(job_id, {"type": "generation.preview", "frame": frame})

    def _progress(self, job_id: str, event: dict[str, Any]) -> dict[str, Any]:
        progress = {
            "step": int(event.get("step", 0)),
            "steps": int(event.get("steps", 0)),
            "elapsed": round(float(event.get("elapsed") or 0.0), 3),
            "eta": None if event.get("eta") is None else round(float(event["eta"]), 3),
        }
        self.progress[job_id] = progress
        self._share(job_id, "progress", progress)
        return {"type": "progress", **progress}

    def forget(self, job_id: str) -> None:
        self.latest_preview.pop(job_id, None)
        self.progress.pop(job_id, None)
        if not self.delivers_locally():
            try:
                cache.delete_many(
                    [_live_key("preview", job_id), _live_key("progress", job_id)]
                )
            except Exception:
                logger.warning("Could not clear the live state of %s", job_id)

    def _share(self, job_id: str, kind: str, value: Any) -> None:
        if self.delivers_locally():
            return
        try:
            cache.set(_live_key(kind, job_id), value, LIVE_SECONDS)
        except Exception:
            # Viewers elsewhere catch up at the next step instead.
            logger.debug(
                "Could not share the live %s of %s", kind, job_id, exc_info=True
            )

    def _shared(self, job_id: str, kind: str) -> Any:
        if self.delivers_locally():
            return None
        try:
            return cache.get(_live_key(kind, job_id))
        except Exception:
            logger.debug(
                "Could not read the live %s of %s", kind, job_id, exc_info=True
            )
            return None

    def live_progress(self, job_id: str) -> dict[str, Any] | None:
        """A running job's latest progress, from this process or another."""
        job_id = str(job_id)
        return self.progress.get(job_id) or self._shared(job_id, "progress")

    def live_preview(self, job_id: str) -> bytes | None:
        """A running job's latest preview message, from this process or another."""
        job_id = str(job_id)
        return self.latest_preview.get(job_id) or self._shared(job_id, "preview")


def _live_key(kind: str, job_id: str) -> str:
    return LIVE_KEY.format(kind=kind, job=job_id)
