"""Live sessions: the built-in model's stream, run beside the clip worker.

A :class:`LiveSession` runs one :class:`~generation.builtin.streaming.LiveStream`
on a thread of its own: it makes a frame, encodes it as JPEG, keeps it for a
recording when one is on, and hands it to whoever watches through a small
bounded queue — a watcher that falls behind loses the oldest frames, nothing
piles up. Frames are paced to the session's frames a second; a model slower
than that runs as fast as it can.

Sharing the device, decided here:

- One live session per process at a time (:class:`LiveBusy` for a second
  one, whoever asks): a stream wants the device continuously, and two would
  each run at half speed.
- Every frame's model call takes the process-wide pipeline lock that the
  generation worker takes for a clip, so the two never run on the device at
  once. The worker holds it for a whole clip; the stream, for one frame. When
  a clip has waited for the device for :data:`HANDOFF_EVERY` seconds the
  stream steps aside until the clip has taken it (and pauses while it
  renders): clips and the stream take turns, and neither starves.
- Stopping (or a watcher going away) ends the thread after the frame in
  hand; waiting for the device is checked every tenth of a second, so the
  lock and the slot are free within about a second.

Nothing here knows about the studio: settings in, frames, recordings and
events out.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from generation import encode
from generation.previews import encode_strip
from generation.service import _PIPELINE_LOCK, failure_reason, resolve_device
from generation.specs import (
    MAX_FPS,
    MAX_PROMPT_CHARS,
    MAX_SEED,
    MIN_FPS,
    GenerationSpec,
)

logger = logging.getLogger(__name__)

# The one model that streams for now.
LIVE_MODEL = "builtin"
# Binary websocket message type of one live frame (1 is a clip's preview).
LIVE_FRAME_MESSAGE = 2
FRAME_FORMAT = "jpeg"
FRAME_QUALITY = 85
# Frames made but not yet taken by the watcher; older ones are dropped.
FRAME_QUEUE = 4
# The longest recording, in seconds of stream: at 30 fps, 900 frames of at
# most 128 × 128 (44 MB held until the clip is written).
MAX_RECORD_SECONDS = 30
# The largest live frame side: the recording bound above holds for it.
MAX_LIVE_SIDE = 128
# A clip that has waited this long for the device gets it before the next
# frame (seconds of stream between turns).
HANDOFF_EVERY = 1.0
# How long the stream waits for the clip to take the device it stepped
# aside for (a job that needs no model never takes it).
HANDOFF_WAIT = 0.25
# How often a stream waiting for the device checks that it should go on.
WAIT_STEP = 0.1


class LiveSettingsError(ValueError):
    """Settings a live session cannot use; ``str()`` is a sentence for the creator."""


class LiveBusy(Exception):
    """Another live session runs in this process."""

    def __init__(self) -> None:
        super().__init__(
            "Live mode is in use by another session on this studio; try again "
            "when it ends."
        )


@dataclass(frozen=True)
class LiveSettings:
    """What a session streams: the first prompt, seed, pace and frame size."""

    prompt: str
    seed: int
    fps: int
    width: int
    height: int
    model: str = LIVE_MODEL
    record_seconds: int = MAX_RECORD_SECONDS
    # The look that grades every frame (generation/looks.py): its name and
    # resolved parameters; "" for none.
    look: str = ""
    look_params: dict[str, Any] = field(default_factory=dict)

    @property
    def record_limit(self) -> int:
        """Frames a recording may hold."""
        return self.record_seconds * self.fps


def live_defaults() -> dict[str, int]:
    """The stream's own defaults: frames a second, width and height."""
    from generation.builtin.streaming import LIVE_FPS, LIVE_HEIGHT, LIVE_WIDTH

    return {"fps": LIVE_FPS, "width": LIVE_WIDTH, "height": LIVE_HEIGHT}


def live_settings(
    *,
    prompt: str,
    model: str | None = None,
    seed: int | None = None,
    fps: int | None = None,
    width: int | None = None,
    height: int | None = None,
    look: tuple[str, Mapping[str, Any]] | None = None,
) -> LiveSettings:
    """Check a session's settings and fill in the stream's defaults.
    ``look`` (a name and its resolved parameters) grades every frame.

    Raises :class:`LiveSettingsError` with a sentence for the creator.
    """
    from generation.builtin.pipeline import MIN_SIDE

    if model not in (None, "", LIVE_MODEL):
        raise LiveSettingsError(
            f"Live mode streams the built-in model only, for now; “{model[:60]}” "
            "makes clips from the project page."
        )
    if not prompt.strip():
        raise LiveSettingsError("Type a prompt to start the stream.")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise LiveSettingsError(
            f"The prompt must be at most {MAX_PROMPT_CHARS} characters."
        )
    defaults = live_defaults()
    fps = defaults["fps"] if fps is None else fps
    if not MIN_FPS <= fps <= MAX_FPS:
        raise LiveSettingsError(
            f"Frames a second must be from {MIN_FPS} to {MAX_FPS}; got {fps}."
        )
    sides = {
        "Width": defaults["width"] if width is None else width,
        "Height": defaults["height"] if height is None else height,
    }
    for label, side in sides.items():
        if side % 8 or not MIN_SIDE <= side <= MAX_LIVE_SIDE:
            raise LiveSettingsError(
                f"{label} must be a multiple of 8 from {MIN_SIDE} to {MAX_LIVE_SIDE} "
                f"pixels; got {side}."
            )
    if seed is None:
        seed = secrets.randbelow(MAX_SEED + 1)
    elif not 0 <= seed <= MAX_SEED:
        raise LiveSettingsError(f"The seed must be from 0 to {MAX_SEED}.")
    name, params = check_live_look(look)
    return LiveSettings(
        prompt=prompt,
        seed=seed,
        fps=fps,
        width=sides["Width"],
        height=sides["Height"],
        record_seconds=MAX_RECORD_SECONDS,
        look=name,
        look_params=params,
    )


def check_live_look(
    look: tuple[str, Mapping[str, Any]] | None,
) -> tuple[str, dict[str, Any]]:
    """A look for the stream as (name, parameters), ("", {}) for none;
    raises :class:`LiveSettingsError` with the look's own sentence."""
    from generation import looks

    if look is None or not look[0]:
        return "", {}
    name, params = look
    if problems := looks.check(name, params):
        raise LiveSettingsError(problems[0])
    return name, dict(params)


# -- the stream's pipeline, once per device ----------------------------------

_pipelines: dict[str, Any] = {}
_pipelines_lock = threading.Lock()


def stream_pipeline(device: str) -> Any:
    """The built-in pipeline with the stream's weights on ``device``, loaded
    on first use and kept for the next sessions."""
    from generation.builtin.streaming import load_stream_pipeline

    with _pipelines_lock:
        pipe = _pipelines.get(device)
        if pipe is None:
            pipe = _pipelines[device] = load_stream_pipeline(device)
        return pipe


# -- the process's one live slot ---------------------------------------------

_slot = threading.Lock()


def live_busy() -> bool:
    """Whether a live session holds this process's slot."""
    return _slot.locked()


# -- what a session hands out ------------------------------------------------


@dataclass(frozen=True)
class LiveFrame:
    """One frame for the watcher: its number, JPEG bytes and prompt index;
    ``asked_at`` is when the session asked for it (``time.monotonic``)."""

    index: int
    image: bytes
    prompt_index: int
    width: int
    height: int
    asked_at: float


@dataclass
class Recording:
    """Frames kept while recording, and which prompt each stretch followed:
    ``timeline`` holds ``{"prompt", "from_frame"}`` in the recording's own
    frame numbers."""

    limit: int
    frames: list[np.ndarray] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.time)  # seconds since the epoch
    _last_prompt: int | None = None

    @property
    def full(self) -> bool:
        return len(self.frames) >= self.limit

    def add(self, frame: np.ndarray, prompt_index: int, prompt: str) -> None:
        if prompt_index != self._last_prompt:
            self.timeline.append({"prompt": prompt, "from_frame": len(self.frames)})
            self._last_prompt = prompt_index
        self.frames.append(frame)

    def video(self) -> np.ndarray:
        """The frames as uint8 (T, H, W, 3)."""
        return np.stack(self.frames)


@dataclass(frozen=True)
class LiveEvent:
    """Something the watcher must hear besides frames.

    ``kind``: "record_full" (``recording`` holds the frames kept up to the
    limit), "failed" (``message`` says why) or "ended" (the thread is done).
    """

    kind: str
    message: str = ""
    recording: Recording | None = None


class LiveSession:
    """One live stream on a thread of its own.

    ``on_output`` is called (from the session's thread) whenever frames or
    events are waiting: take them with :meth:`take_frames` and
    :meth:`take_events`. ``device_wanted``, when given, answers whether a
    clip is waiting for (or using) the device, so the stream takes turns
    with it. :meth:`open` blocks while the model loads: call it off an event
    loop.
    """

    def __init__(
        self,
        settings: LiveSettings,
        *,
        device: str = "cpu",
        on_output: Callable[[], None] = lambda: None,
        device_wanted: Callable[[], bool] | None = None,
    ) -> None:
        self.settings = settings
        self.device = resolve_device(device)
        self.id = secrets.token_hex(8)
        self._on_output = on_output
        self._device_wanted = device_wanted
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._frames: deque[LiveFrame] = deque(maxlen=FRAME_QUEUE)
        self._events: list[LiveEvent] = []
        self._recording: Recording | None = None
        self._thread: threading.Thread | None = None
        self._stream: Any = None
        self._holds_slot = False
        self._clip_waiting_since: float | None = None
        self._look = _look_of(settings)
        self.made = 0  # frames made so far
        self.dropped = 0  # frames the watcher never took

    # -- lifecycle -----------------------------------------------------------

    def open(self) -> None:
        """Take the process's live slot, load the stream and start the thread.

        Raises :class:`LiveBusy` when another session holds the slot, and
        whatever loading the model raises (the slot is free again then).
        """
        if not _slot.acquire(blocking=False):
            raise LiveBusy()
        self._holds_slot = True
        try:
            from generation.builtin.streaming import LiveStream

            pipe = stream_pipeline(self.device)
            s = self.settings
            self._stream = LiveStream(pipe, s.prompt, s.seed, s.width, s.height)
            self._thread = threading.Thread(
                target=self._run, name=f"live-{self.id}", daemon=True
            )
            self._thread.start()
        except BaseException:
            self._release_slot()
            raise

    def stop(self) -> None:
        """Ask the thread to end after the frame in hand."""
        self._stopping.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; whether it has."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- steering and recording ----------------------------------------------

    def set_prompt(self, prompt: str) -> None:
        """Steer the stream: frames from the next model call follow ``prompt``."""
        if not prompt.strip():
            raise LiveSettingsError("Type a prompt to steer the stream.")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise LiveSettingsError(
                f"The prompt must be at most {MAX_PROMPT_CHARS} characters."
            )
        self._stream.set_prompt(prompt)

    def set_look(self, look: tuple[str, Mapping[str, Any]] | None) -> None:
        """Grade the frames from the next one on with ``look`` (a name and its
        resolved parameters), or not at all (None)."""
        name, params = check_live_look(look)
        settings = dataclasses.replace(self.settings, look=name, look_params=params)
        graded = _look_of(settings)
        with self._lock:
            self.settings, self._look = settings, graded

    @property
    def recording(self) -> bool:
        with self._lock:
            return self._recording is not None

    def record(self, on: bool) -> Recording | None:
        """Start keeping frames (``on``), or stop and hand back what was kept
        (None when nothing was being recorded)."""
        with self._lock:
            if on:
                if self._recording is None:
                    self._recording = Recording(limit=self.settings.record_limit)
                return None
            recording, self._recording = self._recording, None
            return recording

    # -- what the watcher takes ------------------------------------------------

    def take_frames(self) -> list[LiveFrame]:
        with self._lock:
            frames = list(self._frames)
            self._frames.clear()
        return frames

    def take_events(self) -> list[LiveEvent]:
        with self._lock:
            events, self._events = self._events, []
        return events

    # -- the thread ------------------------------------------------------------

    def _run(self) -> None:
        interval = 1.0 / self.settings.fps
        due = time.monotonic()
        try:
            while not self._stopping.is_set():
                asked = time.monotonic()
                if not self._take_device():
                    break
                try:
                    index, frame, prompt_index = self._stream.next_frame()
                    prompt = self._stream.prompt
                finally:
                    _PIPELINE_LOCK.release()
                self._make_way_for_a_clip()
                self._deliver(index, frame, prompt_index, prompt, asked)
                due += interval
                now = time.monotonic()
                if due < now - interval:
                    due = now  # behind: go on at the pace, no burst to catch up
                self._stopping.wait(max(0.0, due - now))
        except Exception as error:
            logger.exception("live session %s failed", self.id)
            self._post(LiveEvent("failed", message=failure_reason(error)))
        finally:
            self._release_slot()
            self._post(LiveEvent("ended"))

    def _take_device(self) -> bool:
        if _PIPELINE_LOCK.acquire(blocking=False):
            return True
        while not self._stopping.is_set():
            if _PIPELINE_LOCK.acquire(timeout=WAIT_STEP):
                self._clip_waiting_since = None  # the clip had its turn
                return True
        return False

    def _make_way_for_a_clip(self) -> None:
        """Once a clip has waited :data:`HANDOFF_EVERY` seconds, let it take
        the device before the next frame."""
        if self._device_wanted is None or not self._device_wanted():
            self._clip_waiting_since = None
            return
        now = time.monotonic()
        if self._clip_waiting_since is None:
            self._clip_waiting_since = now
            return
        if now - self._clip_waiting_since < HANDOFF_EVERY:
            return
        deadline = now + HANDOFF_WAIT
        while (
            not _PIPELINE_LOCK.locked()
            and self._device_wanted()
            and time.monotonic() < deadline
            and not self._stopping.is_set()
        ):
            time.sleep(0.002)
        self._clip_waiting_since = None

    def _deliver(
        self,
        index: int,
        frame: np.ndarray,
        prompt_index: int,
        prompt: str,
        asked: float,
    ) -> None:
        look = self._look
        if look is not None:
            # Grain moves from frame to frame, as in a graded clip.
            frame = look.apply(frame[None], seed=self.settings.seed + index)[0]
        image = encode_strip(frame[None], format=FRAME_FORMAT, quality=FRAME_QUALITY)
        height, width = frame.shape[:2]
        live = LiveFrame(index, image, prompt_index, width, height, asked)
        with self._lock:
            recording = self._recording
            if recording is not None:
                recording.add(frame, prompt_index, prompt)
                if recording.full:
                    self._recording = None
                    self._events.append(LiveEvent("record_full", recording=recording))
            if len(self._frames) == self._frames.maxlen:
                self.dropped += 1
            self._frames.append(live)
            self.made += 1
        self._on_output()

    def _post(self, event: LiveEvent) -> None:
        with self._lock:
            self._events.append(event)
        self._on_output()

    def _release_slot(self) -> None:
        if self._holds_slot:
            self._holds_slot = False
            _slot.release()


# -- a recording becomes a clip ----------------------------------------------


def _look_of(settings: LiveSettings) -> Any:
    """The graded look of a session's settings, or None."""
    from generation import looks

    return looks.from_settings(settings.look, settings.look_params)


def recording_spec(settings: LiveSettings, recording: Recording) -> GenerationSpec:
    """The clip a recording makes, in a clip's terms: the first prompt it
    followed, its frames at the session's pace and size; steps and guidance
    are the stream's (one model call a noise level)."""
    from generation.builtin.streaming import StreamSettings

    stream = StreamSettings()
    first = recording.timeline[0]["prompt"] if recording.timeline else settings.prompt
    return GenerationSpec(
        prompt=first,
        model=settings.model,
        num_frames=len(recording.frames),
        fps=settings.fps,
        width=settings.width,
        height=settings.height,
        num_inference_steps=stream.window,
        guidance_scale=stream.guidance_scale,
        seed=settings.seed,
        look=settings.look,
        look_params=dict(settings.look_params),
    )


def write_recording(
    spec: GenerationSpec,
    recording: Recording,
    folder: Path,
    *,
    signer: Callable[[Path, GenerationSpec], None] | None = None,
    basename: str | None = None,
) -> tuple[Path, Path]:
    """Encode a recording as an MP4 and poster in ``folder``, as the service
    writes a clip (tags saying it was recorded live, with its prompt
    timeline); ``signer`` signs the MP4. Returns (video, poster); nothing is
    left behind when a step fails."""
    if not recording.frames:
        raise ValueError("a recording needs at least one frame")
    name = basename or secrets.token_urlsafe(16)
    folder.mkdir(parents=True, exist_ok=True)
    frames = recording.video()
    metadata = encode.clip_metadata(
        spec, live="true", prompts=json.dumps(recording.timeline, ensure_ascii=False)
    )
    video = folder / f"{name}.mp4"
    poster = folder / f"{name}.jpg"
    try:
        encode.write_video(frames, video, fps=spec.fps, metadata=metadata)
        if signer is not None:
            signer(video, spec)
        encode.write_poster(frames, poster)
    except BaseException:
        video.unlink(missing_ok=True)
        poster.unlink(missing_ok=True)
        raise
    return video, poster
