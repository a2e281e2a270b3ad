"""The generation service's JobStore, on the Django ORM.

Runs in the worker thread. Every write is a single conditional UPDATE, so a
claim cannot race another worker and a finished job is never overwritten.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.crypto import salted_hmac

from generation.service import ClaimedJob
from generation.specs import GenerationSpec, Result
from studio.generations.events import LiveEvents, media_relative
from studio.generations.models import MAX_ATTEMPTS, Generation

logger = logging.getLogger(__name__)

Status = Generation.Status
# How many queued jobs hear their new place in line after each claim.
POSITION_UPDATES = 200


def owner_media_dir(owner_id: int) -> str:
    """A per-owner folder name nobody can guess from the owner's id."""
    return salted_hmac("studio.media.owner", str(owner_id)).hexdigest()[:24]


def output_dir(generation: Generation) -> Path:
    return (
        settings.MEDIA_ROOT
        / "clips"
        / owner_media_dir(generation.owner_id)
        / generation.pk.hex
    )


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


def job_task(settings_: dict) -> dict | None:
    """A non-model job's task, its media paths made absolute; None for a clip."""
    if settings_.get("job") != "sequence":
        return None
    task = dict(settings_["sequence"])
    root = settings.MEDIA_ROOT
    task["shots"] = [{**s, "path": str(root / s["path"])} for s in task["shots"]]
    if task.get("soundtrack"):
        task["soundtrack"] = str(root / task["soundtrack"])
    spec = {k: v for k, v in settings_.items() if k not in ("job", "sequence")}
    return {"job": "sequence", "spec": spec, **task}


def recover_interrupted() -> tuple[int, int]:
    """Re-queue jobs a crash left running; fail those that crashed twice.

    Returns (requeued, failed).
    """
    now = timezone.now()
    running = Generation.objects.filter(status=Status.RUNNING)
    failed = running.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=Status.FAILED,
        finished=now,
        error=(
            "The studio stopped twice while rendering this clip, so it was not "
            "tried again. Try fewer frames, a smaller size or fewer steps."
        ),
    )
    requeued = running.filter(cancel_requested=False).update(
        status=Status.QUEUED, started=None
    )
    running.update(status=Status.CANCELLED, finished=now)
    if requeued or failed:
        logger.warning("Recovered jobs: %d re-queued, %d failed", requeued, failed)
    return requeued, failed


def _fresh_connection() -> None:
    # The worker thread lives as long as the server: drop broken or expired
    # connections the way a request would. Never inside a test's transaction.
    if not connection.in_atomic_block:
        close_old_connections()


class OrmJobStore:
    def __init__(self, events: LiveEvents | None = None) -> None:
        self.events = events

    def claim_next(self) -> ClaimedJob | None:
        _fresh_connection()
        for _ in range(10):
            candidate = self._next_candidate()
            if candidate is None:
                return None
            claimed = Generation.objects.filter(
                pk=candidate.pk, status=Status.QUEUED
            ).update(
                status=Status.RUNNING,
                started=timezone.now(),
                attempts=F("attempts") + 1,
            )
            if claimed:
                self._announce_positions()
                return ClaimedJob(
                    id=str(candidate.pk),
                    spec=GenerationSpec.from_dict(candidate.settings),
                    output_dir=output_dir(candidate),
                    task=job_task(candidate.settings),
                )
        return None

    def _next_candidate(self) -> Generation | None:
        return fair_queue().only("pk", "owner_id", "settings").first()

    def _announce_positions(self) -> None:
        if self.events is None:
            return
        for job_id, position in queue_positions().items():
            self.events.publish_event(job_id, {"type": "queued", "position": position})

    def cancel_requested(self, job_id: str) -> bool:
        _fresh_connection()
        row = Generation.objects.filter(pk=job_id).values("cancel_requested").first()
        # A deleted job counts as cancelled: nobody wants its result.
        return row is None or row["cancel_requested"]

    def mark_succeeded(self, job_id: str, result: Result) -> None:
        _fresh_connection()
        Generation.objects.filter(pk=job_id, status=Status.RUNNING).update(
            status=Status.SUCCEEDED,
            finished=timezone.now(),
            video=media_relative(result.video_path),
            poster=media_relative(result.poster_path),
            seconds=result.seconds,
            error="",
        )

    def mark_failed(self, job_id: str, reason: str) -> None:
        _fresh_connection()
        Generation.objects.filter(pk=job_id, status=Status.RUNNING).update(
            status=Status.FAILED, finished=timezone.now(), error=reason[:2000]
        )

    def mark_cancelled(self, job_id: str) -> None:
        _fresh_connection()
        Generation.objects.filter(
            pk=job_id, status__in=[Status.QUEUED, Status.RUNNING]
        ).update(status=Status.CANCELLED, finished=timezone.now())
