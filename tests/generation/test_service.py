from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generation.adapters import get_adapter, register, register_folder, unregister
from generation.encode import probe_video
from generation.previews import decode_strip
from generation.service import ClaimedJob, GenerationService
from generation.specs import GenerationCancelled, StepEvent
from generation.tiny_models import save_tiny

# Waits end when what they wait for happens; this ceiling (in seconds) only
# keeps a broken run from hanging, far above what a busy machine needs.
PATIENCE = 300


class RecordingStore:
    """A job queue in memory that records every outcome the service reports."""

    def __init__(self):
        self.queue: list[ClaimedJob] = []
        self.outcomes: dict[str, tuple] = {}
        self.cancel_requests: set[str] = set()
        self.claim_error: Exception | None = None
        self.heartbeats: list[str] = []
        self.taken_back: set[str] = set()
        self.sweeps = 0
        self.claims = 0
        self.alive_calls: list = []
        self.lock = threading.Lock()
        self.done = threading.Condition(self.lock)

    def add(self, job_id, spec, output_dir):
        with self.lock:
            self.queue.append(
                ClaimedJob(id=job_id, spec=spec, output_dir=Path(output_dir))
            )

    def claim_next(self):
        with self.lock:
            self.claims += 1
            if self.claim_error is not None:
                error, self.claim_error = self.claim_error, None
                raise error
            return self.queue.pop(0) if self.queue else None

    def cancel_requested(self, job_id):
        return job_id in self.cancel_requests

    def _record(self, job_id, *outcome):
        with self.lock:
            self.outcomes[job_id] = outcome
            self.done.notify_all()

    def mark_succeeded(self, job_id, result):
        self._record(job_id, "succeeded", result)

    def mark_failed(self, job_id, reason):
        self._record(job_id, "failed", reason)

    def mark_cancelled(self, job_id):
        self._record(job_id, "cancelled")

    def release(self, job_id):
        self._record(job_id, "released")

    def heartbeat(self, job_id):
        with self.lock:
            self.heartbeats.append(job_id)
            return job_id not in self.taken_back

    def recover_stale(self):
        with self.lock:
            self.sweeps += 1
        return 0

    def alive(self, device, job_id):
        with self.lock:
            self.alive_calls.append((device, job_id))

    def goodbye(self):
        with self.lock:
            self.alive_calls.append("goodbye")

    def wait_for(self, *job_ids, timeout=PATIENCE):
        with self.lock:
            self.done.wait_for(
                lambda: all(j in self.outcomes for j in job_ids), timeout
            )
            return [self.outcomes.get(j) for j in job_ids]


class RecordingSink:
    """Records events and previews, with an optional hook run on each preview."""

    FINAL = {"succeeded", "failed", "cancelled"}

    def __init__(self):
        self.events: list[tuple[str, dict, float]] = []
        self.previews: list[tuple[str, StepEvent]] = []
        self.on_preview = None
        self.settled = threading.Condition()

    def emit(self, job_id, event):
        with self.settled:
            self.events.append((job_id, event, time.perf_counter()))
            self.settled.notify_all()

    def wait_for(self, *job_ids, timeout=PATIENCE):
        def final(job_id):
            return any(
                j == job_id and e["type"] in self.FINAL for j, e, _ in self.events
            )

        with self.settled:
            self.settled.wait_for(lambda: all(final(j) for j in job_ids), timeout)

    def emit_preview(self, job_id, event):
        self.previews.append((job_id, event))
        if self.on_preview is not None:
            self.on_preview(job_id, event)

    def types(self, job_id):
        return [event["type"] for j, event, _ in self.events if j == job_id]


def finish(store, sink, *job_ids, timeout=PATIENCE):
    """Wait until each job's outcome is recorded and its final event sent."""
    outcomes = store.wait_for(*job_ids, timeout=timeout)
    sink.wait_for(*job_ids, timeout=timeout)
    return outcomes


@pytest.fixture
def store():
    return RecordingStore()


@pytest.fixture
def sink():
    return RecordingSink()


@pytest.fixture
def make_service(store, sink, tiny_adapter):
    """A service on the tiny model, with these options; stopped afterwards."""
    made = []

    def make(**options):
        options = {"poll_interval": 0.05, **options}
        made.append(
            GenerationService(
                store=store,
                sink=sink,
                device="cpu",
                adapter_loader=lambda name, device: tiny_adapter,
                **options,
            )
        )
        return made[-1]

    yield make
    for service in made:
        service.stop()


@pytest.fixture
def service(make_service):
    return make_service()


def test_it_runs_a_queued_job_end_to_end(service, store, sink, spec, tmp_path):
    store.add("job-1", spec, tmp_path / "out")
    service.start()
    service.wake()
    [(outcome, result)] = finish(store, sink, "job-1")

    assert outcome == "succeeded"
    assert result.video_path.parent == tmp_path / "out"
    assert result.poster_path.is_file()
    assert len(result.video_path.stem) >= 20  # unguessable
    info = probe_video(result.video_path)
    assert (info["frames"], info["fps"]) == (8, 8)
    assert (info["width"], info["height"]) == (64, 64)
    assert info["metadata"]["prompt"] == spec.prompt
    assert info["metadata"]["seed"] == "7"
    assert (result.num_frames, result.width, result.height) == (8, 64, 64)

    assert sink.types("job-1") == ["started", "progress", "progress", "succeeded"]
    progress = [e for _, e, _ in sink.events if e["type"] == "progress"]
    assert [(e["step"], e["steps"]) for e in progress] == [(1, 2), (2, 2)]
    assert progress[-1]["eta"] == 0
    succeeded = sink.events[-1][1]
    assert succeeded["video_path"] == str(result.video_path)
    assert succeeded["poster_path"] == str(result.poster_path)


def test_it_writes_a_wide_clip_at_the_asked_size_from_native_frames(
    service, store, sink, spec, tmp_path
):
    store.add("job-1", replace(spec, width=128, height=64), tmp_path)
    service.start()
    service.wake()
    [(outcome, result)] = finish(store, sink, "job-1")

    assert outcome == "succeeded"
    info = probe_video(result.video_path)
    assert (info["width"], info["height"]) == (128, 64)
    assert (result.width, result.height) == (128, 64)
    assert Image.open(result.poster_path).size == (128, 64)


def test_it_sends_a_preview_of_every_frame_at_every_step(
    service, store, sink, spec, tmp_path
):
    store.add("job-1", replace(spec, num_inference_steps=3), tmp_path)
    service.start()
    service.wake()
    finish(store, sink, "job-1")

    assert [(j, e.step, e.steps) for j, e in sink.previews] == [
        ("job-1", 1, 3),
        ("job-1", 2, 3),
        ("job-1", 3, 3),
    ]
    for _, event in sink.previews:
        assert (event.frames, event.width, event.height) == (8, 32, 32)
        assert event.preview_format == "jpeg"
        assert event.layout == "strip"
        frames = decode_strip(event.preview, frames=event.frames)
        assert frames.shape == (8, 32, 32, 3)
        assert event.elapsed > 0


def test_it_stops_a_cancelled_job_at_the_next_step_without_a_video(
    service, store, sink, spec, tmp_path
):
    sink.on_preview = lambda job_id, event: service.cancel(job_id)
    store.add("job-1", replace(spec, num_inference_steps=4), tmp_path / "out")
    service.start()
    service.wake()

    assert finish(store, sink, "job-1") == [("cancelled",)]
    assert [e.step for _, e in sink.previews] == [1]
    assert sink.types("job-1") == ["started", "progress", "cancelled"]
    # The encoder opened while the clip denoised; its file and folder are gone.
    assert not (tmp_path / "out").exists()


def test_it_notices_a_cancel_recorded_in_the_store(
    service, store, sink, spec, tmp_path, monkeypatch
):
    # Steps of the tiny model are far shorter than the usual polling interval.
    monkeypatch.setattr("generation.service.STORE_CANCEL_POLL", 0.0)
    sink.on_preview = lambda job_id, event: store.cancel_requests.add(job_id)
    store.add("job-1", replace(spec, num_inference_steps=4), tmp_path)
    service.start()
    service.wake()

    assert finish(store, sink, "job-1") == [("cancelled",)]
    assert [e.step for _, e in sink.previews] == [1]


def test_it_asks_the_store_about_cancels_at_most_every_quarter_second(
    service, store, sink, spec, tmp_path, monkeypatch
):
    asked = []
    monkeypatch.setattr(store, "cancel_requested", lambda job_id: asked.append(1))
    store.add("job-1", replace(spec, num_inference_steps=6), tmp_path)
    service.start()
    service.wake()
    [(outcome, result)] = finish(store, sink, "job-1")
    assert outcome == "succeeded"
    assert 1 <= len(asked) <= 1 + result.seconds / 0.25


def test_a_failing_job_is_marked_failed_and_the_next_one_still_runs(
    store, sink, spec, tiny_adapter, tmp_path
):
    register("tiny-test", lambda device: tiny_adapter)
    service = GenerationService(
        store=store, sink=sink, poll_interval=0.05, adapter_loader=get_adapter
    )
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the output folder should be")
    store.add("unknown", replace(spec, model="nope"), tmp_path)
    store.add("broken", replace(spec, model="tiny-test"), blocked)
    store.add("fine", replace(spec, model="tiny-test"), tmp_path / "out")
    try:
        service.start()
        service.wake()
        unknown, broken, fine = finish(store, sink, "unknown", "broken", "fine")
    finally:
        service.stop()
        unregister("tiny-test")

    assert unknown == ("failed", "There is no model called 'nope'.")
    assert broken[0] == "failed"
    assert "FileExistsError" in broken[1]
    assert "Traceback" not in broken[1] and "\n" not in broken[1]
    assert sink.types("broken")[-1] == "failed"
    assert sink.events[-1][1]["type"] == "succeeded"
    assert fine[0] == "succeeded"


def test_it_rejects_invalid_settings_with_the_reasons(
    service, store, sink, spec, tmp_path
):
    store.add("job-1", replace(spec, num_frames=500), tmp_path)
    service.start()
    service.wake()
    [(outcome, reason)] = finish(store, sink, "job-1")
    assert outcome == "failed"
    assert reason == (
        "The built-in model makes clips of at most 48 frames: 500 frames is too many."
    )
    assert sink.types("job-1") == ["started", "failed"]


def test_it_keeps_serving_when_claiming_fails_once(
    service, store, sink, spec, tmp_path
):
    store.claim_error = RuntimeError("database is locked")
    store.add("job-1", spec, tmp_path)
    service.start()
    service.wake()
    assert finish(store, sink, "job-1")[0][0] == "succeeded"


def test_wake_makes_a_queued_job_start_promptly(
    store, sink, spec, tiny_adapter, tmp_path
):
    # The next poll would come long after every wait of this test gives up.
    service = GenerationService(
        store=store,
        sink=sink,
        poll_interval=10 * PATIENCE,
        adapter_loader=lambda name, device: tiny_adapter,
    )
    service.start()
    try:
        wait_until(lambda: store.claims)  # found nothing: asleep until woken
        store.add("job-1", spec, tmp_path)
        service.wake()
        [outcome] = finish(store, sink, "job-1")
    finally:
        service.stop()
    assert outcome[0] == "succeeded"


def test_stopping_puts_the_running_job_back_in_the_queue(
    service, store, sink, spec, tmp_path
):
    stopper = threading.Thread(target=service.stop)
    sink.on_preview = lambda job_id, event: stopper.start() if event.step == 1 else None
    store.add("job-1", replace(spec, num_inference_steps=4), tmp_path / "out")
    service.start()
    service.wake()
    assert store.wait_for("job-1") == [("released",)]
    stopper.join(PATIENCE)
    assert not service.running
    assert not {"succeeded", "failed", "cancelled"} & set(sink.types("job-1"))
    assert not (tmp_path / "out").exists()  # the next run starts afresh


def test_run_spec_renders_synchronously_with_the_same_events(service, spec, tmp_path):
    events = []
    result = service.run_spec(spec, tmp_path, on_step=events.append, basename="clip")
    assert result.video_path == tmp_path / "clip.mp4"
    assert result.poster_path == tmp_path / "clip.jpg"
    assert probe_video(result.video_path)["frames"] == 8
    assert [e.step for e in events] == [1, 2]
    assert all(isinstance(e.preview, bytes) for e in events)


def test_run_spec_raises_when_told_to_stop(service, spec, tmp_path):
    with pytest.raises(GenerationCancelled):
        service.run_spec(spec, tmp_path, should_stop=lambda: True)
    assert list(tmp_path.iterdir()) == []


def test_it_resolves_auto_to_an_available_device(store, sink):
    service = GenerationService(store=store, sink=sink, device="auto")
    assert service.device in {"cpu", "cuda"}


def test_the_same_spec_gives_the_same_video_frames(service, spec, tmp_path):
    a = service.run_spec(spec, tmp_path / "a")
    b = service.run_spec(spec, tmp_path / "b")
    import av

    def first_frame(path):
        with av.open(str(path)) as c:
            return next(c.decode(video=0)).to_ndarray(format="rgb24")

    np.testing.assert_array_equal(first_frame(a.video_path), first_frame(b.video_path))


def wait_until(condition, timeout=PATIENCE):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def slow_steps(store, monkeypatch):
    """Each step of the tiny model takes at least 50 ms: the worker asks the
    store about cancels at every step, and the store takes its time."""
    monkeypatch.setattr("generation.service.STORE_CANCEL_POLL", 0.0)

    def cancel_requested(job_id):
        time.sleep(0.05)
        return False

    monkeypatch.setattr(store, "cancel_requested", cancel_requested)


def test_a_running_job_tells_the_store_it_is_alive_every_interval(
    make_service, store, sink, spec, tmp_path, slow_steps
):
    service = make_service(poll_interval=0.02, heartbeat_interval=0.05)
    store.add("job-1", replace(spec, num_inference_steps=8), tmp_path)
    service.start()
    try:
        service.wake()
        [(outcome, _)] = finish(store, sink, "job-1")
        beats = len(store.heartbeats)
        time.sleep(0.3)  # idle: nothing to beat for
        assert len(store.heartbeats) == beats
    finally:
        service.stop()
    assert outcome == "succeeded"
    assert beats >= 3  # 8 steps of ≥ 50 ms, a beat every 50 ms
    assert set(store.heartbeats) == {"job-1"}
    # The worker says it is up from the start, with its job while it has one.
    assert store.alive_calls[0] == ("cpu", None)
    assert ("cpu", "job-1") in store.alive_calls
    assert store.alive_calls[-1] == "goodbye"


def test_a_job_taken_back_by_the_queue_stops_here_and_records_nothing(
    make_service, store, sink, spec, tmp_path, slow_steps
):
    store.taken_back.add("job-1")
    service = make_service(poll_interval=0.02, heartbeat_interval=0.02)
    store.add("job-1", replace(spec, num_inference_steps=60), tmp_path / "out")
    service.start()
    try:
        service.wake()
        wait_until(lambda: store.heartbeats)
        wait_until(lambda: service.current_job is None)
    finally:
        service.stop()
    assert "job-1" not in store.outcomes  # the worker that has it now reports
    assert not {"succeeded", "failed", "cancelled"} & set(sink.types("job-1"))
    assert len(sink.previews) < 60
    assert not (tmp_path / "out").exists()


def test_a_clip_finished_after_its_job_was_taken_back_is_not_kept(
    service, store, sink, spec, tmp_path, monkeypatch
):
    finished = []

    def mark_succeeded(job_id, result):
        finished.append(result)
        return False  # another worker has the job by now

    monkeypatch.setattr(store, "mark_succeeded", mark_succeeded)
    store.add("job-1", spec, tmp_path)
    service.start()
    service.wake()
    wait_until(lambda: finished and service.current_job is None)

    [result] = finished
    assert not result.video_path.exists()
    assert not result.poster_path.exists()
    assert "succeeded" not in sink.types("job-1")


def test_between_jobs_the_worker_asks_the_store_to_take_back_quiet_workers_jobs(
    make_service, store
):
    # Not at every poll: one sweep on starting, none in the next many polls.
    service = make_service(poll_interval=0.01, sweep_interval=10 * PATIENCE)
    service.start()
    wait_until(lambda: store.claims >= 20)
    service.stop()
    assert store.sweeps == 1
    # Again every sweep_interval.
    store.sweeps = 0
    service = make_service(poll_interval=0.01, sweep_interval=0.05)
    service.start()
    wait_until(lambda: store.sweeps >= 3)
    service.stop()


class CountingAdapter:
    """The tiny adapter, recording the steps of every clip it is asked for."""

    def __init__(self, adapter):
        self.adapter = adapter
        self.native_size = adapter.native_size
        self.runs: list[int] = []

    def validate(self, spec):
        return self.adapter.validate(spec)

    def generate(self, spec, **hooks):
        self.runs.append(spec.num_inference_steps)
        return self.adapter.generate(spec, **hooks)


def test_the_worker_loads_and_warms_its_model_before_any_clip_is_asked_for(
    store, sink, tiny_adapter
):
    counting = CountingAdapter(tiny_adapter)
    loads = []

    def loader(name, device):
        loads.append((name, device))
        return counting

    service = GenerationService(
        store=store, sink=sink, adapter_loader=loader, warm_model="builtin"
    )
    service.start()
    try:
        wait_until(lambda: counting.runs)
    finally:
        service.stop()
    assert loads[0] == ("builtin", "cpu")
    assert counting.runs == [1]
    # Nobody's clip: nothing recorded, nothing sent to viewers.
    assert store.outcomes == {}
    assert sink.events == [] and sink.previews == []


def test_a_model_that_cannot_warm_up_leaves_the_worker_serving_clips(
    store, sink, tiny_adapter, spec, tmp_path
):
    from generation.adapters import ModelUnavailableError

    def loader(name, device):
        if name == "missing":
            raise ModelUnavailableError("That model's folder is gone.")
        return tiny_adapter

    service = GenerationService(
        store=store,
        sink=sink,
        adapter_loader=loader,
        warm_model="missing",
        poll_interval=0.05,
    )
    store.add("job-1", spec, tmp_path / "out")
    service.start()
    try:
        (outcome,) = finish(store, sink, "job-1")
    finally:
        service.stop()
    assert outcome[0] == "succeeded"


class LogWatch(logging.Handler):
    """Sets ``seen`` when a record containing one of ``fragments`` is logged."""

    def __init__(self, *fragments):
        super().__init__(logging.INFO)
        self.fragments = fragments
        self.seen = threading.Event()

    def emit(self, record):
        if any(fragment in record.getMessage() for fragment in self.fragments):
            self.seen.set()


def test_a_service_warming_up_waits_for_a_clip_another_service_renders(
    make_service, tiny_adapter, spec, tmp_path, caplog
):
    """A server restarting in place starts a fresh service while the old one
    still finishes its clip on the process's one loaded pipeline: the fresh
    one's one-step warm-up must not reset the scheduler under that clip."""
    caplog.set_level(logging.INFO, logger="generation.service")
    service_log = logging.getLogger("generation.service")
    # Without turns, the warm-up runs through; with them, it says it waits.
    stepped_in = LogWatch("waits", "is loaded and warm", "warming up")
    warmed = LogWatch("is loaded and warm")
    for watch in (stepped_in, warmed):
        service_log.addHandler(watch)
    old = make_service()
    fresh = make_service(warm_model="builtin")
    checks = 0

    def should_stop():
        nonlocal checks
        checks += 1
        if checks == 2:  # the clip's first step is done, three to go
            fresh.start()
            assert stepped_in.seen.wait(PATIENCE)
        return False

    try:
        result = old.run_spec(
            replace(spec, num_inference_steps=4),
            tmp_path / "clip",
            should_stop=should_stop,
        )
        assert warmed.seen.wait(PATIENCE)
    finally:
        for watch in (stepped_in, warmed):
            service_log.removeHandler(watch)
    assert result.num_frames == spec.num_frames
    assert probe_video(result.video_path)["frames"] == spec.num_frames


def test_a_real_family_warms_up_with_the_smallest_clip_its_rules_allow(
    store, sink, tmp_path
):
    """Wan refuses 8 frames and 64 px sides; the warm-up asks for what it
    can make (9 frames, 64 px) instead of skipping the run."""
    name = "warm-wan"
    register_folder(name, family="wan", path=save_tiny("wan", tmp_path / "wan", "t2v"))
    runs = []

    def loader(model, device):
        adapter = get_adapter(model, device)
        counting = CountingAdapter(adapter)
        counting.runs = runs
        return counting

    service = GenerationService(
        store=store, sink=sink, adapter_loader=loader, warm_model=name
    )
    service.start()
    try:
        wait_until(lambda: runs)
    finally:
        service.stop()
        unregister(name)
    assert runs == [1]
