"""The generation service's JobStore, on the Django ORM.

Runs in the worker thread. Every write is a single conditional UPDATE, so a
claim cannot race another worker and a finished job is never overwritten.

Several workers (processes, machines) may share one database. Each running
job names its worker and carries that worker's heartbeat; a job whose worker
stopped beating is re-queued by whichever worker notices first, and the
silent worker, should it come back, finds the job is no longer its own.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Greatest
from django.utils import timezone

from generation.service import HEARTBEAT_INTERVAL, ClaimedJob
from generation.specs import GenerationSpec, Result, SequenceTask, ShotPlan
from studio.generations.events import LiveEvents, media_relative
from studio.generations.models import MAX_ATTEMPTS, Generation, Worker
from studio.lib.folders import CLIPS, owner_folder

logger = logging.getLogger(__name__)

Status = Generation.Status
# How many queued jobs hear their new place in line after each claim.
POSITION_UPDATES = 200
# A running job whose worker has not beaten for this long is taken back.
# Workers beat every few seconds (GenerationService.heartbeat_interval).
STALE_AFTER = timedelta(seconds=6 * HEARTBEAT_INTERVAL)
# ...or sooner when its worker's process on this machine has ended: two beats.
ENDED_AFTER = timedelta(seconds=2 * HEARTBEAT_INTERVAL)
# A worker not heard from for this long leaves the Models page's list.
FORGET_WORKER_AFTER = timedelta(days=1)
TWICE_INTERRUPTED = (
    "The studio stopped twice while rendering this clip, so it was not "
    "tried again. Try fewer frames, a smaller size or fewer steps."
)
# One name per worker process, even where processes share a host name and
# pids repeat (containers): "host:pid:tag".
_WORKER_TAG = secrets.token_hex(3)


def worker_name() -> str:
    """This process's worker, as jobs record it: "host:pid:tag"."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{_WORKER_TAG}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _worker_ended(name: str, *, me: str) -> bool:
    """Whether another worker of this machine has ended: its process is gone,
    or it had this process's pid in an earlier life (a restarted container).

    A process in another pid namespace can look ended too, so jobs are only
    taken back on this ground once their heartbeat is ``ENDED_AFTER`` old,
    which a live worker's never is.
    """
    if name == me:
        return False
    host, pid, _ = (name.split(":") + ["", ""])[:3]
    if host != me.split(":")[0] or not pid.isdigit():
        return False
    return int(pid) == os.getpid() or not _process_alive(int(pid))


def output_dir(generation: Generation) -> Path:
    return owner_folder(CLIPS, generation.owner_id) / generation.pk.hex


def queue_positions(limit: int = POSITION_UPDATES) -> dict[str, int]:
    """Each queued job's place in line, 1 being next (ignoring fairness)."""
    ids = Generation.objects.filter(status=Status.QUEUED).order_by("created")
    return {
        str(pk): n for n, pk in enumerate(ids.values_list("pk", flat=True)[:limit], 1)
    }


def fair_queue() -> QuerySet[Generation]:
    """Queued jobs in the order the worker takes them.

    Round-robin over owners: whoever's last job started longest ago (or who
    never had one) goes first, then their oldest queued job. Each owner's last
    start is one step down the (owner, started) index, however long their
    history.
    """
    last_started = (
        Generation.objects.filter(owner=OuterRef("owner"), started__isnull=False)
        .order_by("-started")
        .values("started")[:1]
    )
    return (
        Generation.objects.filter(status=Status.QUEUED)
        .annotate(owner_last_started=Subquery(last_started))
        .order_by(F("owner_last_started").asc(nulls_first=True), "created")
    )


def job_task(generation: Generation) -> SequenceTask | None:
    """A sequence's task, its media paths made absolute; None for a clip."""
    if generation.kind != Generation.Kind.SEQUENCE:
        return None
    plan = generation.settings["sequence"]
    root = settings.MEDIA_ROOT
    shots = tuple(
        ShotPlan(
            str(root / s["path"]),
            float(s["duration"]),
            s.get("caption", ""),
            prompt=s.get("prompt", ""),
            voice=s.get("voice", ""),
            character=s.get("character", ""),
            voice_start=float(s.get("voice_start", 0.0)),
        )
        for s in plan["shots"]
    )
    soundtrack = plan.get("soundtrack") or ""
    return SequenceTask(
        spec=GenerationSpec.from_dict(generation.settings),
        shots=shots,
        transition=plan.get("transition", "cut"),
        burn_captions=bool(plan.get("burn_captions")),
        soundtrack=str(root / soundtrack) if soundtrack else "",
        sound=dict(plan.get("sound") or {}),
    )


def orphaned_jobs(*, me: str) -> QuerySet[Generation]:
    """Running jobs whose worker is gone: silent for ``STALE_AFTER``, never
    beating at all, or a process of this machine that has ended."""
    now = timezone.now()
    silent = Q(heartbeat__isnull=True) | Q(heartbeat__lt=now - STALE_AFTER)
    running = Generation.objects.filter(status=Status.RUNNING)
    names = running.exclude(silent).values_list("worker", flat=True).distinct()
    ended = [name for name in names if _worker_ended(name, me=me)]
    return running.filter(silent | Q(worker__in=ended, heartbeat__lt=now - ENDED_AFTER))


def recover_jobs(*, me: str | None = None) -> dict[str, list[str]]:
    """Re-queue running jobs whose worker is gone; fail those interrupted
    twice; close those someone asked to cancel meanwhile.

    ``me``: the worker looking (this process's by default); its own jobs are
    left alone unless they went silent. Returns the ids by outcome.
    """
    me = me or worker_name()
    now = timezone.now()
    orphans = orphaned_jobs(me=me)
    rows = orphans.values_list(
        "pk", "attempts", "cancel_requested", "worker", "heartbeat"
    )
    changes = {
        "failed": {
            "status": Status.FAILED,
            "finished": now,
            "error": TWICE_INTERRUPTED,
        },
        "cancelled": {"status": Status.CANCELLED, "finished": now},
        "requeued": {
            "status": Status.QUEUED,
            "started": None,
            "worker": "",
            "heartbeat": None,
        },
    }
    outcome: dict[str, list[str]] = {key: [] for key in changes}
    for pk, attempts, cancel, worker, heartbeat in rows:
        if attempts >= MAX_ATTEMPTS:
            key = "failed"
        elif cancel:
            key = "cancelled"
        else:
            key = "requeued"
        # Conditional on nothing having changed since: a worker that beat
        # or finished the job a moment ago keeps it.
        unchanged = Generation.objects.filter(
            pk=pk, status=Status.RUNNING, worker=worker, heartbeat=heartbeat
        )
        if unchanged.update(**changes[key]):
            outcome[key].append(str(pk))
    if any(outcome.values()):
        logger.warning(
            "Took back jobs whose worker stopped: %d re-queued, %d failed, "
            "%d cancelled",
            len(outcome["requeued"]),
            len(outcome["failed"]),
            len(outcome["cancelled"]),
        )
    return outcome


def recover_interrupted() -> tuple[int, int]:
    """Recover jobs a crash left running, as a starting worker does.

    Returns (requeued, failed).
    """
    outcome = recover_jobs()
    return len(outcome["requeued"]), len(outcome["failed"])


def _fresh_connection() -> None:
    # The worker thread lives as long as the server: drop broken or expired
    # connections the way a request would. Never inside a test's transaction.
    if not connection.in_atomic_block:
        close_old_connections()


class OrmJobStore:
    """Jobs in the Generation table, claimed and recorded in ``worker``'s
    name (this process's, unless a test names another)."""

    def __init__(self, events: LiveEvents | None = None, worker: str = "") -> None:
        self.events = events
        self.worker = worker or worker_name()

    def claim_next(self) -> ClaimedJob | None:
        _fresh_connection()
        for _ in range(10):
            candidate = self._next_candidate()
            if candidate is None:
                return None
            now = timezone.now()
            claimed = Generation.objects.filter(
                pk=candidate.pk, status=Status.QUEUED
            ).update(
                status=Status.RUNNING,
                started=now,
                attempts=F("attempts") + 1,
                worker=self.worker,
                heartbeat=now,
            )
            if claimed:
                self._announce_positions()
                return ClaimedJob(
                    id=str(candidate.pk),
                    spec=GenerationSpec.from_dict(candidate.settings),
                    output_dir=output_dir(candidate),
                    task=job_task(candidate),
                )
        return None

    def _next_candidate(self) -> Generation | None:
        return fair_queue().only("pk", "owner_id", "kind", "settings").first()

    def _announce_positions(self) -> None:
        if self.events is None:
            return
        for job_id, position in queue_positions().items():
            self.events.publish_event(job_id, {"type": "queued", "position": position})

    def _mine(self, job_id: str) -> QuerySet[Generation]:
        return Generation.objects.filter(
            pk=job_id, status=Status.RUNNING, worker=self.worker
        )

    def cancel_requested(self, job_id: str) -> bool:
        _fresh_connection()
        row = Generation.objects.filter(pk=job_id).values("cancel_requested").first()
        # A deleted job counts as cancelled: nobody wants its result.
        return row is None or row["cancel_requested"]

    def release(self, job_id: str) -> None:
        """Queue a job this worker stopped before finishing, as if untried:
        its viewers hear their place in line, and it starts afresh."""
        _fresh_connection()
        released = self._mine(job_id).update(
            status=Status.QUEUED,
            started=None,
            worker="",
            heartbeat=None,
            attempts=Greatest(F("attempts") - 1, 0),
        )
        if released and self.events is not None:
            self.events.forget(job_id)
            self._announce_positions()

    def heartbeat(self, job_id: str) -> bool:
        """Say this worker is still on the job; False once it is not its own
        (taken back after a silence, finished elsewhere, deleted)."""
        _fresh_connection()
        return bool(self._mine(job_id).update(heartbeat=timezone.now()))

    def alive(self, device: str, job_id: str | None) -> None:
        """Say this worker is up, on ``device``, rendering ``job_id`` (or idle)."""
        _fresh_connection()
        # Single statements, no transaction: a beat never holds a lock for long.
        seen = {"device": device, "last_seen": timezone.now(), "job_id": job_id}
        if not Worker.objects.filter(name=self.worker).update(**seen):
            try:
                Worker.objects.create(name=self.worker, **seen)
            except IntegrityError:  # the other thread of this worker was first
                Worker.objects.filter(name=self.worker).update(**seen)

    def goodbye(self) -> None:
        """This worker stops: it leaves the list of workers."""
        _fresh_connection()
        Worker.objects.filter(name=self.worker).delete()

    def recover_stale(self) -> int:
        """Take back the jobs of workers that went quiet; tell their viewers.

        Returns how many jobs changed hands or ended.
        """
        _fresh_connection()
        Worker.objects.filter(
            last_seen__lt=timezone.now() - FORGET_WORKER_AFTER
        ).delete()
        outcome = recover_jobs(me=self.worker)
        if self.events is not None:
            for job_id in outcome["failed"]:
                self.events.publish_event(
                    job_id, {"type": "failed", "error": TWICE_INTERRUPTED}
                )
            for job_id in outcome["cancelled"]:
                self.events.publish_event(job_id, {"type": "cancelled"})
            if outcome["requeued"]:
                self._announce_positions()
        return sum(len(ids) for ids in outcome.values())

    def mark_succeeded(self, job_id: str, result: Result) -> bool:
        _fresh_connection()
        return bool(
            self._mine(job_id).update(
                status=Status.SUCCEEDED,
                finished=timezone.now(),
                video=media_relative(result.video_path),
                poster=media_relative(result.poster_path),
                seconds=result.seconds,
                error="",
            )
        )

    def mark_failed(self, job_id: str, reason: str) -> None:
        _fresh_connection()
        self._mine(job_id).update(
            status=Status.FAILED, finished=timezone.now(), error=reason[:2000]
        )

    def mark_cancelled(self, job_id: str) -> None:
        _fresh_connection()
        Generation.objects.filter(
            Q(status=Status.QUEUED) | Q(status=Status.RUNNING, worker=self.worker),
            pk=job_id,
        ).update(status=Status.CANCELLED, finished=timezone.now())
