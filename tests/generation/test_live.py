"""Live sessions on the built-in model's real weights, at small frames:
settings, the one slot, the bounded queue, recordings and taking turns with
clips on the pipeline lock."""

from __future__ import annotations

import threading

import av
import numpy as np
import pytest

from generation.live import (
    FRAME_QUEUE,
    MAX_RECORD_SECONDS,
    LiveBusy,
    LiveSession,
    LiveSettingsError,
    Recording,
    live_busy,
    live_settings,
    recording_spec,
    write_recording,
)
from generation.service import _PIPELINE_LOCK

PROMPT = "a red ball staying still on a sunny day"


def small(**fields):
    return live_settings(prompt=PROMPT, width=32, height=32, fps=30, seed=5, **fields)


class Watcher:
    """Counts wake-ups from the session's thread and lets a test wait for
    the next one."""

    def __init__(self) -> None:
        self.woken = threading.Condition()
        self.count = 0

    def __call__(self) -> None:
        with self.woken:
            self.count += 1
            self.woken.notify_all()

    def wait_for(self, count: int) -> None:
        with self.woken:
            assert self.woken.wait_for(lambda: self.count >= count, timeout=300)


@pytest.fixture
def session_of():
    sessions: list[LiveSession] = []

    def make(settings=None, **options) -> LiveSession:
        session = LiveSession(settings or small(), **options)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.stop()
        assert session.join(30)
    assert not live_busy()


def test_settings_take_the_streams_defaults():
    from generation.builtin.streaming import LIVE_FPS, LIVE_HEIGHT, LIVE_WIDTH

    settings = live_settings(prompt=PROMPT)
    assert (settings.fps, settings.width, settings.height) == (
        LIVE_FPS,
        LIVE_WIDTH,
        LIVE_HEIGHT,
    )
    assert settings.model == "builtin"
    assert settings.record_limit == MAX_RECORD_SECONDS * LIVE_FPS


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"model": "wan"}, "built-in model only"),
        ({"prompt": " "}, "Type a prompt"),
        ({"prompt": "x" * 2001}, "at most 2000 characters"),
        ({"fps": 0}, "Frames a second must be from"),
        ({"width": 36}, "Width must be a multiple of 8"),
        ({"height": 8}, "Height must be a multiple of 8"),
        ({"seed": 2**40}, "The seed must be"),
    ],
)
def test_settings_out_of_bounds_say_why(fields, words):
    with pytest.raises(LiveSettingsError, match=words):
        live_settings(**{"prompt": PROMPT, **fields})


def test_a_second_session_finds_the_slot_taken_until_the_first_ends(session_of):
    first = session_of()
    first.open()
    assert live_busy()
    with pytest.raises(LiveBusy, match="in use"):
        session_of().open()
    first.stop()
    assert first.join(30)
    assert not live_busy()
    second = session_of()
    second.open()
    assert second.running


def test_a_watcher_that_takes_nothing_gets_only_the_newest_frames(session_of):
    watcher = Watcher()
    session = session_of(on_output=watcher)
    session.open()
    watcher.wait_for(FRAME_QUEUE + 3)
    frames = session.take_frames()
    assert len(frames) == FRAME_QUEUE
    assert session.dropped >= 3
    indices = [f.index for f in frames]
    assert indices == sorted(indices) and indices[-1] >= FRAME_QUEUE + 2


def test_a_recording_keeps_its_prompt_timeline_and_stops_at_its_limit():
    recording = Recording(limit=3)
    frame = np.zeros((8, 8, 3), np.uint8)
    recording.add(frame, 0, "a red ball")
    recording.add(frame, 1, "a blue ball")
    assert not recording.full
    recording.add(frame, 1, "a blue ball")
    assert recording.full
    assert recording.timeline == [
        {"prompt": "a red ball", "from_frame": 0},
        {"prompt": "a blue ball", "from_frame": 1},
    ]


def test_a_recording_is_written_as_a_clip_with_live_tags(tmp_path):
    settings = small()
    recording = Recording(limit=10)
    for i in range(5):
        recording.add(
            np.full((32, 32, 3), 40 * i, np.uint8), i // 3, f"prompt {i // 3}"
        )
    spec = recording_spec(settings, recording)
    assert (spec.num_frames, spec.fps, spec.width, spec.seed) == (5, 30, 32, 5)
    assert spec.prompt == "prompt 0"
    signed = []
    video, poster = write_recording(
        spec, recording, tmp_path, signer=lambda path, s: signed.append(path)
    )
    assert signed == [video] and poster.is_file()
    with av.open(str(video)) as container:
        tags = dict(container.metadata)
        assert len(list(container.decode(video=0))) == 5
    assert tags["live"] == "true"
    assert '"from_frame": 3' in tags["prompts"]


def test_a_waiting_clip_gets_the_device_and_the_stream_goes_on(session_of):
    """A clip that asks for the pipeline lock while the stream runs gets it
    (within about a second of stream), the stream makes nothing while the
    clip renders, and frames come again after it."""
    from generation.builtin.streaming import LiveStream
    from generation.live import stream_pipeline

    watcher = Watcher()
    clip_wants = threading.Event()
    session = session_of(on_output=watcher, device_wanted=clip_wants.is_set)
    session.open()
    watcher.wait_for(2)
    seen: dict[str, int] = {}

    def clip() -> None:
        clip_wants.set()
        with _PIPELINE_LOCK:
            seen["before"] = session.made
            # Real model work, as a clip's steps are.
            other = LiveStream(stream_pipeline(session.device), "a blue box", 1, 32, 32)
            for _ in other.frames(3):
                pass
            seen["after"] = session.made
        clip_wants.clear()

    worker = threading.Thread(target=clip)
    worker.start()
    worker.join(300)
    assert seen["after"] == seen["before"]
    count = watcher.count
    watcher.wait_for(count + 2)
    assert session.made > seen["after"]


def test_stopping_ends_the_thread_and_frees_the_lock(session_of):
    watcher = Watcher()
    session = session_of(on_output=watcher)
    session.open()
    watcher.wait_for(1)
    session.stop()
    assert session.join(30)
    assert not _PIPELINE_LOCK.locked()
    assert [e.kind for e in session.take_events()][-1] == "ended"
