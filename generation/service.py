"""The generation service: one worker thread per device owns the pipeline.

The worker claims queued jobs from a :class:`JobStore`, runs them through the
model's adapter, turns every denoising step into a preview event for an
:class:`EventSink`, and writes the finished clip (MP4 + poster) to disk. The
store and the sink belong to the caller (the studio keeps jobs in its
database and forwards events to websockets); nothing here knows about them
beyond these two protocols.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import torch

from generation import adapters, clip_audio, encode, looks, previews
from generation.adapters import (
    Adapter,
    InvalidSpecError,
    ModelUnavailableError,
    UnknownModelError,
    get_adapter,
)
from generation.specs import (
    MIN_FRAMES,
    MIN_SIZE,
    GenerationCancelled,
    GenerationSpec,
    OnStep,
    Result,
    SequenceTask,
    ShouldStop,
    StepEvent,
)

logger = logging.getLogger(__name__)

# How often the store is asked whether a running job was cancelled (seconds).
STORE_CANCEL_POLL = 0.25
# How often the worker tells the store it is still on its job, and how often
# it asks the store to take back jobs of workers that went quiet (seconds).
HEARTBEAT_INTERVAL = 10.0
SWEEP_INTERVAL = 30.0
# Set to a whole number to pin torch's intra-op thread count for the worker.
THREADS_ENV = "GENERATION_TORCH_THREADS"
# generation.adapters keeps one loaded model per process, and a pipeline
# keeps the state of the call it runs (its scheduler's timesteps, sigmas and
# step index): a second call on it mid-run, say the warm-up of a service
# started while another still finishes a clip, would step that clip past the
# end of its schedule. Every service of the process takes turns on it.
_PIPELINE_LOCK = threading.Lock()


@dataclass(frozen=True)
class ClaimedJob:
    """A queued job the worker now owns: render ``spec`` into ``output_dir``."""

    id: str
    spec: GenerationSpec
    output_dir: Path
    # A job that calls no model (joining a storyboard's shots): see run_task.
    task: SequenceTask | None = None


class JobStore(Protocol):
    """Where jobs wait and where their outcome is recorded."""

    def claim_next(self) -> ClaimedJob | None:
        """Atomically mark the next fair queued job running and return it."""
        ...

    def cancel_requested(self, job_id: str) -> bool:
        """Whether anyone asked to cancel this job."""
        ...

    def mark_succeeded(self, job_id: str, result: Result) -> bool | None:
        """Record the finished clip. False: the job is no longer this
        worker's (see :meth:`heartbeat`), so its files are not wanted."""
        ...

    def mark_failed(self, job_id: str, reason: str) -> None:
        """Record a failure; ``reason`` is one sentence meant for the creator."""
        ...

    def mark_cancelled(self, job_id: str) -> None:
        """Record that the job stopped because it was cancelled."""
        ...

    def release(self, job_id: str) -> None:
        """Put a job back in the queue as if never tried: this worker is
        stopping (a restart, a deploy) before it finished."""
        ...

    def heartbeat(self, job_id: str) -> bool:
        """Record that this worker is still on the job, every
        ``heartbeat_interval`` while it runs. False when the job is no longer
        this worker's: another worker took it back after a silence."""
        ...

    def recover_stale(self) -> int:
        """Take back running jobs whose worker went quiet (for a store that
        several workers share); returns how many. Called every
        ``sweep_interval``, before a claim."""
        ...

    def alive(self, device: str, job_id: str | None) -> None:
        """Record that this worker is up: when it starts, then every
        ``heartbeat_interval``, with the job it is on (None: idle)."""
        ...

    def goodbye(self) -> None:
        """Record that this worker stopped."""
        ...


class EventSink(Protocol):
    """Where progress goes: JSON-able events and binary previews."""

    def emit(self, job_id: str, event: dict[str, Any]) -> None:
        """Publish a JSON-able event: started, progress, succeeded, failed, ..."""
        ...

    def emit_preview(self, job_id: str, event: StepEvent) -> None:
        """Publish one step's preview strip."""
        ...


AdapterLoader = Callable[[str, str], Adapter]
# Called with each MP4 written and its spec, e.g. to embed Content Credentials.
VideoSigner = Callable[[Path, GenerationSpec], None]


def resolve_device(device: str) -> str:
    """Map "auto" to "cuda" when a GPU is available, else "cpu"."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def failure_reason(error: BaseException) -> str:
    """A short, creator-readable sentence for why a run failed."""
    if isinstance(error, InvalidSpecError | UnknownModelError | ModelUnavailableError):
        return str(error.args[0]) if error.args else "The settings are not valid."
    if isinstance(error, torch.OutOfMemoryError):
        return (
            "The device ran out of memory. Try fewer frames, a smaller size "
            "or fewer steps."
        )
    if isinstance(error, FileNotFoundError):
        return "The model's files could not be found. Check the model's folder."
    return (
        f"Something went wrong while generating ({type(error).__name__}). "
        "The details are in the server log."
    )


class _Timer:
    """Elapsed time and an ETA from the mean duration of the steps so far."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def event(self, step: int, steps: int, **preview: Any) -> StepEvent:
        elapsed = time.perf_counter() - self.started
        eta = elapsed / step * (steps - step) if step > 0 else 0.0
        return StepEvent(step=step, steps=steps, elapsed=elapsed, eta=eta, **preview)


class _Deferred:
    """Work for a helper thread, started when asked or when its result is needed."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._call = partial(fn, *args, **kwargs)
        self.future: Future | None = None
        self._lock = threading.Lock()

    def start(self) -> Future:
        with self._lock:
            if self.future is None:
                self.future = encode.helper_pool().submit(self._call)
            return self.future

    def result(self) -> Any:
        return self.start().result()


class _PreviewRelay:
    """Encodes step previews and hands them on, in a thread beside the worker.

    The worker only queues each step's small frames, so encoding the strip
    and publishing it (which may wait for the server loop's GIL) never delays
    the next denoising step. Events leave in step order; :meth:`close` waits
    until every queued preview has been delivered.
    """

    def __init__(
        self,
        on_step: OnStep,
        preview_format: str,
        after_first: Callable[[], Any] | None = None,
        look: Callable[[Any], Any] | None = None,
    ) -> None:
        self.on_step = on_step
        self.look = look
        self.preview_format = preview_format
        self.after_first = after_first
        self.timer = _Timer()
        self._queue: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._relay, name="generation-previews", daemon=True
        )
        self._thread.start()

    def __call__(self, step: int, steps: int, frames: Any) -> None:
        event = self.timer.event(step, steps)
        self._queue.put((event, frames))

    def _relay(self) -> None:
        while (item := self._queue.get()) is not None:
            event, frames = item
            try:
                if self.look is not None:
                    frames = self.look(frames)
                data = previews.encode_strip(frames, format=self.preview_format)
                t, h, w, _ = frames.shape
                self.on_step(
                    replace(
                        event,
                        preview=data,
                        preview_format=self.preview_format,
                        frames=t,
                        width=w,
                        height=h,
                    )
                )
            except Exception:
                logger.exception("sending the preview of step %s failed", event.step)
            if self.after_first is not None:
                after, self.after_first = self.after_first, None
                after()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()


class GenerationService:
    """One worker thread per device, the only user of the loaded pipeline.

    ``store`` and ``sink`` are the caller's (see :class:`JobStore` and
    :class:`EventSink`). ``device`` is "cpu", "cuda", "cuda:1", ... or "auto".
    The worker checks for queued jobs every ``poll_interval`` seconds, or at
    once after :meth:`wake`. ``signer``, when given, runs on every MP4 right
    after it is encoded (before the poster is written and the job succeeds).

    While a job runs, a second thread tells the store every
    ``heartbeat_interval`` seconds that the worker is still on it; between
    jobs the worker asks the store every ``sweep_interval`` seconds to take
    back jobs of workers that went quiet. A job taken back from this worker
    stops at its next step, and nothing of it is recorded here.

    ``warm_model``, when given, is loaded as soon as the worker starts and
    run for one step at its smallest size, so the first clip does not wait
    seconds for the model (a job queued meanwhile starts right after).
    """

    def __init__(
        self,
        *,
        store: JobStore,
        sink: EventSink,
        device: str = "cpu",
        poll_interval: float = 1.0,
        adapter_loader: AdapterLoader = get_adapter,
        preview_format: str = "jpeg",
        signer: VideoSigner | None = None,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        sweep_interval: float = SWEEP_INTERVAL,
        warm_model: str | None = None,
    ) -> None:
        if preview_format not in previews.PREVIEW_FORMATS:
            raise ValueError(
                f"preview_format must be one of {previews.PREVIEW_FORMATS}"
            )
        self.store = store
        self.sink = sink
        self.device = resolve_device(device)
        self.poll_interval = poll_interval
        self.heartbeat_interval = heartbeat_interval
        self.sweep_interval = sweep_interval
        self.preview_format = preview_format
        self.signer = signer
        self.warm_model = warm_model
        self._load_adapter = adapter_loader
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._flags_lock = threading.Lock()
        self._cancelled: set[str] = set()
        # Jobs the store handed to another worker while this one had them.
        self._lost: set[str] = set()
        self._thread: threading.Thread | None = None
        self._beat_thread: threading.Thread | None = None
        self.current_job: str | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread (once; later calls do nothing)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._apply_thread_setting()
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._work, name=f"generation-{self.device}", daemon=True
        )
        self._beat_thread = threading.Thread(
            target=self._beat, name=f"generation-{self.device}-heartbeat", daemon=True
        )
        self._thread.start()
        self._beat_thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Stop the worker; a running job stops at its next step.

        That job goes back in the queue (not cancelled: nobody asked), for
        this worker when it starts again or for another one.
        """
        self._stopping.set()
        self._wake.set()
        if self._beat_thread is not None:
            self._beat_thread.join(timeout)
            self._beat_thread = None
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("generation worker did not stop within %ss", timeout)
            else:
                self._thread = None

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """Tell the worker a job was queued, so it claims it now."""
        self._wake.set()

    def cancel(self, job_id: str) -> None:
        """Flag a job as cancelled; if it is running it stops at its next step.

        This is the fast path within one process; the store's
        ``cancel_requested`` is also polled for requests from elsewhere.
        """
        with self._flags_lock:
            if len(self._cancelled) > 10_000:
                # Flags for jobs that never ran here; a running one is re-added.
                self._cancelled.clear()
            self._cancelled.add(job_id)

    @contextmanager
    def _pipeline_turn(self) -> Iterator[None]:
        """Hold the process's loaded pipeline, waiting while another service
        of this process uses it."""
        if not _PIPELINE_LOCK.acquire(blocking=False):
            logger.info(
                "generation worker on %s waits: another worker of this process "
                "is using the model",
                self.device,
            )
            _PIPELINE_LOCK.acquire()
        try:
            yield
        finally:
            _PIPELINE_LOCK.release()

    def _apply_thread_setting(self) -> None:
        threads = os.environ.get(THREADS_ENV, "").strip()
        if threads:
            try:
                torch.set_num_threads(max(1, int(threads)))
            except ValueError:
                logger.warning(
                    "%s must be a whole number, got %r", THREADS_ENV, threads
                )

    # -- the synchronous path ------------------------------------------------

    def run_spec(
        self,
        spec: GenerationSpec,
        output_dir: str | os.PathLike[str],
        *,
        on_step: OnStep | None = None,
        should_stop: ShouldStop | None = None,
        basename: str | None = None,
    ) -> Result:
        """Render one clip now, in the calling thread; the worker's code path.

        Writes ``<basename>.mp4`` and ``<basename>.jpg`` into ``output_dir``
        (``basename`` defaults to an unguessable token). ``on_step`` receives
        a :class:`StepEvent` with a preview strip after every step;
        ``should_stop`` is asked at every step. Raises
        :class:`GenerationCancelled` when stopped, :class:`InvalidSpecError`
        for settings the model rejects.
        """
        with self._pipeline_turn():
            return self._render(spec, Path(output_dir), on_step, should_stop, basename)

    def run_task(
        self,
        task: SequenceTask,
        output_dir: str | os.PathLike[str],
        *,
        on_step: OnStep | None = None,
        should_stop: ShouldStop | None = None,
    ) -> Result:
        """Run a job that needs no model, in the calling thread.

        A :class:`SequenceTask` renders shots into one video (see
        :func:`generation.sequence.run_sequence_task`); the signer signs it.
        """
        if not isinstance(task, SequenceTask):
            raise InvalidSpecError({"job": [f"Unknown job {type(task).__name__}."]})
        from generation.sequence import run_sequence_task

        result = run_sequence_task(
            task,
            Path(output_dir),
            on_step=on_step,
            should_stop=should_stop,
            preview_format=self.preview_format,
        )
        if self.signer is not None:
            self.signer(result.video_path, task.spec)
        return result

    def _render(
        self,
        spec: GenerationSpec,
        output_dir: Path,
        on_step: OnStep | None,
        should_stop: ShouldStop | None,
        basename: str | None,
    ) -> Result:
        adapter = self._load_adapter(spec.model, self.device)
        errors = adapter.validate(spec)
        if errors:
            raise InvalidSpecError(errors)
        grade = _look_hook(spec)
        timer = _Timer()
        name = basename or secrets.token_urlsafe(16)
        size = (spec.width, spec.height)
        metadata = encode.clip_metadata(spec)
        created = not output_dir.exists()
        output_dir.mkdir(parents=True, exist_ok=True)
        # The encoder opens on a helper thread while the clip denoises, once
        # the first preview is out (so it does not slow the first step).
        opening = _Deferred(
            encode.VideoWriter,
            output_dir / f"{name}.mp4",
            size=size,
            fps=spec.fps,
            metadata=metadata,
        )
        relay = None
        if on_step is None:
            opening.start()
        else:
            relay = _PreviewRelay(
                on_step, self.preview_format, opening.start, look=grade
            )
        poster_job: Future | None = None
        written: list[Path] = []
        try:
            frames = adapter.generate(spec, on_preview=relay, should_stop=should_stop)
            if frames.shape[0] != spec.num_frames:
                raise RuntimeError(
                    f"the model returned {frames.shape[0]} frames, not {spec.num_frames}"
                )
            if grade is not None:
                frames = grade(frames, output_size=size)
            # The poster is written beside the video, the last preview is sent
            # while both are encoded; all is done before the job succeeds.
            poster_job = encode.helper_pool().submit(
                encode.write_poster, frames, output_dir / f"{name}.jpg", size=size
            )
            audio, rate = (
                clip_audio.clip_audio(spec, frames, device=self.device)
                if clip_audio.wants_sound(spec)
                else (None, clip_audio.AUDIO_RATE)
            )
            # The sound is muxed in the same write, so the signer covers it.
            video = opening.result().write(frames, audio=audio, audio_rate=rate)
            written.append(video)
            if self.signer is not None:
                self.signer(video, spec)
            poster = poster_job.result()
        except BaseException:
            if relay is not None:
                relay.close()  # first: it may be opening the writer
                relay = None
            _discard_output(
                opening.future, poster_job, written, output_dir if created else None
            )
            raise
        finally:
            if relay is not None:
                relay.close()
        width, height = size
        return Result(
            video_path=video,
            poster_path=poster,
            num_frames=int(frames.shape[0]),
            fps=spec.fps,
            width=int(width),
            height=int(height),
            seed=spec.seed,
            seconds=time.perf_counter() - timer.started,
            metadata=metadata,
        )

    # -- the worker ----------------------------------------------------------

    def _work(self) -> None:
        logger.info("generation worker started on %s", self.device)
        self._say_alive()
        if self.warm_model:
            self._warm_up(self.warm_model)
        next_sweep = time.monotonic()
        # Why the worker looks at the queue: told a clip was queued, or its poll.
        reason = "at start"
        while not self._stopping.is_set():
            # Cleared before claiming, so a wake() during the claim is not lost.
            self._wake.clear()
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + self.sweep_interval
                try:
                    self.store.recover_stale()
                except Exception:
                    logger.exception("taking back jobs of quiet workers failed")
            try:
                job = self.store.claim_next()
            except Exception:
                logger.exception("claiming the next generation failed")
                job = None
            if job is None:
                woken = self._wake.wait(self.poll_interval)
                reason = "woken" if woken else "on its poll"
                continue
            logger.info("generation %s claimed (%s)", job.id, reason)
            reason = "after the last clip"
            try:
                self._run_job(job)
            except Exception:
                # Recording the outcome itself failed; keep serving.
                logger.exception("generation %s: recording the outcome failed", job.id)
        try:
            self.store.goodbye()
        except Exception:
            logger.exception("recording that the worker stopped failed")
        logger.info("generation worker on %s stopped", self.device)

    def _warm_up(self, model: str) -> None:
        """Load ``model`` and, where its rules allow the smallest clip, run
        one step of it: the first real clip then finds the weights loaded
        and the text encoder and kernels ready."""
        try:
            rules = adapters.capabilities(model)
            frames, side = rules.frames.min, max(rules.size.min, MIN_SIZE)
            side += -side % rules.size.multiple
        except UnknownModelError:
            frames, side = MIN_FRAMES, MIN_SIZE
        spec = GenerationSpec(
            prompt="warm-up",
            model=model,
            num_frames=frames,
            width=side,
            height=side,
            num_inference_steps=1,
        )
        started = time.perf_counter()
        try:
            with self._pipeline_turn():
                adapter = self._load_adapter(model, self.device)
                if not self._stopping.is_set() and not adapter.validate(spec):
                    adapter.generate(spec, should_stop=self._stopping.is_set)
        except GenerationCancelled:
            return
        except Exception as error:
            # A clip asking for this model will say why it cannot run.
            logger.warning("warming up %s failed: %s", model, failure_reason(error))
            return
        logger.info(
            "%s is loaded and warm (%.1f s)", model, time.perf_counter() - started
        )

    def _say_alive(self) -> None:
        try:
            self.store.alive(self.device, self.current_job)
        except Exception:
            logger.exception("recording that the worker is alive failed")

    def _beat(self) -> None:
        """Tell the store every interval that this worker is up and, while a
        job runs, that it is still on that job."""
        while not self._stopping.wait(self.heartbeat_interval):
            self._say_alive()
            job_id = self.current_job
            if job_id is None:
                continue
            try:
                ours = self.store.heartbeat(job_id)
            except Exception:
                logger.exception("generation %s: heartbeat failed", job_id)
                continue
            if ours is False and job_id == self.current_job:
                logger.warning(
                    "generation %s was taken back by the queue; stopping it here",
                    job_id,
                )
                with self._flags_lock:
                    self._lost.add(job_id)

    def _run_job(self, job: ClaimedJob) -> None:
        self.current_job = job.id
        self._emit(job.id, {"type": "started", "steps": job.spec.num_inference_steps})
        run = self.run_task if job.task is not None else self.run_spec
        try:
            result = run(
                job.task if job.task is not None else job.spec,
                job.output_dir,
                on_step=lambda event: self._publish_step(job.id, event),
                should_stop=self._stop_check(job.id),
            )
        except GenerationCancelled:
            if self._was_lost(job.id):
                return  # another worker has it now; it reports the outcome
            if self._stopping.is_set() and not self._was_cancelled(job.id):
                self.store.release(job.id)  # the next worker starts it afresh
                logger.info("generation %s goes back in the queue", job.id)
            else:
                self.store.mark_cancelled(job.id)
                self._emit(job.id, {"type": "cancelled"})
        except Exception as error:
            if self._was_lost(job.id):
                return
            reason = failure_reason(error)
            logger.exception("generation %s failed: %s", job.id, reason)
            self.store.mark_failed(job.id, reason)
            self._emit(job.id, {"type": "failed", "error": reason})
        else:
            if self.store.mark_succeeded(job.id, result) is False:
                # Taken back after a silence: the clip is another worker's now.
                logger.warning("generation %s was taken back; its files go", job.id)
                for path in (result.video_path, result.poster_path):
                    Path(path).unlink(missing_ok=True)
                return
            self._emit(job.id, succeeded_event(result))
        finally:
            self.current_job = None
            with self._flags_lock:
                self._cancelled.discard(job.id)
                self._lost.discard(job.id)

    def _was_lost(self, job_id: str) -> bool:
        with self._flags_lock:
            return job_id in self._lost

    def _was_cancelled(self, job_id: str) -> bool:
        with self._flags_lock:
            if job_id in self._cancelled:
                return True
        try:
            return bool(self.store.cancel_requested(job_id))
        except Exception:
            logger.exception("generation %s: checking for cancellation failed", job_id)
            return False

    def _stop_check(self, job_id: str) -> ShouldStop:
        last_poll = float("-inf")

        def should_stop() -> bool:
            nonlocal last_poll
            if self._stopping.is_set():
                return True
            with self._flags_lock:
                if job_id in self._cancelled or job_id in self._lost:
                    return True
            now = time.monotonic()
            if now - last_poll < STORE_CANCEL_POLL:
                return False
            last_poll = now
            try:
                return bool(self.store.cancel_requested(job_id))
            except Exception:
                logger.exception(
                    "generation %s: checking for cancellation failed", job_id
                )
                return False

        return should_stop

    def _publish_step(self, job_id: str, event: StepEvent) -> None:
        try:
            self.sink.emit_preview(job_id, event)
        except Exception:
            logger.exception("generation %s: sending a preview failed", job_id)
        self._emit(job_id, progress_event(event))

    def _emit(self, job_id: str, event: dict[str, Any]) -> None:
        # A broken listener must not break the run.
        try:
            self.sink.emit(job_id, event)
        except Exception:
            logger.exception("generation %s: sending %s failed", job_id, event["type"])


def _look_hook(spec: GenerationSpec) -> Callable[..., Any] | None:
    """The spec's look as frames in → frames out, or None for no look."""
    try:
        look = looks.for_spec(spec)
    except looks.LookError as error:
        raise InvalidSpecError({"look": [str(error)]}) from None
    if look is None:
        return None
    return partial(look.apply, seed=spec.seed)


def _discard_output(
    opening: Future | None,
    poster_job: Future | None,
    files: list[Path],
    created_dir: Path | None,
) -> None:
    """Remove what a clip that did not finish left: its open video file, what
    it wrote, and its folder when the clip created it and it is now empty."""
    for job in (opening, poster_job):
        if job is None:
            continue
        try:
            done = job.result()
        except Exception:  # it never opened or never wrote: nothing to remove
            continue
        if isinstance(done, encode.VideoWriter):
            done.discard()
        elif isinstance(done, Path):
            files.append(done)
    for path in files:
        path.unlink(missing_ok=True)
    if created_dir is not None:
        try:
            created_dir.rmdir()
        except OSError:  # not empty: something else lives there
            pass


def progress_event(event: StepEvent) -> dict[str, Any]:
    """The JSON progress event for one step."""
    return {
        "type": "progress",
        "step": event.step,
        "steps": event.steps,
        "elapsed": round(event.elapsed, 3),
        "eta": round(event.eta, 3),
    }


def succeeded_event(result: Result) -> dict[str, Any]:
    """The JSON event for a finished clip; paths are for the sink to map to URLs."""
    return {
        "type": "succeeded",
        "video_path": str(result.video_path),
        "poster_path": str(result.poster_path),
        "num_frames": result.num_frames,
        "fps": result.fps,
        "width": result.width,
        "height": result.height,
        "seed": result.seed,
        "seconds": round(result.seconds, 3),
        **(
            {"captions_path": str(result.captions_path)} if result.captions_path else {}
        ),
    }
