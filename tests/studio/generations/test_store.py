from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from generation.specs import Result
from studio.generations.models import Generation, Worker
from studio.generations.store import (
    OrmJobStore,
    fair_queue,
    output_dir,
    recover_interrupted,
    worker_name,
)

pytestmark = pytest.mark.django_db


def queue(owner, spec, minutes_ago: int = 0, **fields) -> Generation:
    return Generation.objects.create(
        owner=owner,
        prompt=spec.prompt,
        seed=spec.seed,
        settings=spec.to_dict(),
        created=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


def test_it_claims_the_oldest_queued_job_and_marks_it_running(alice, tiny_spec):
    newer = queue(alice, tiny_spec, minutes_ago=1)
    older = queue(alice, tiny_spec, minutes_ago=2)
    job = OrmJobStore().claim_next()
    assert job.id == str(older.pk)
    assert job.spec == tiny_spec
    assert job.output_dir == output_dir(older)
    older.refresh_from_db()
    assert (older.status, older.attempts) == ("running", 1)
    assert older.started is not None
    assert Generation.objects.get(pk=newer.pk).status == "queued"


def test_it_takes_turns_between_users(alice, bob, tiny_spec):
    for minutes in (10, 9, 8):
        queue(alice, tiny_spec, minutes_ago=minutes)
    bobs = queue(bob, tiny_spec, minutes_ago=1)
    store = OrmJobStore()
    owners = []
    for _ in range(4):
        job = store.claim_next()
        owners.append(Generation.objects.get(pk=job.id).owner.username)
        store.mark_failed(job.id, "done")
    assert owners[:2] in (["alice", "bob"], ["bob", "alice"])
    assert owners.count("bob") == 1
    assert owners.index("bob") < 2
    assert Generation.objects.get(pk=bobs.pk).status == "failed"


def test_the_fair_order_finds_each_owners_last_start_through_an_index(alice, tiny_spec):
    # Without it, every claim walks every past clip of every waiting owner:
    # 15 ms a claim at 50 000 clips and 30 queued (bench/claim.py), on the
    # path from "Generate" to the first step.
    queue(alice, tiny_spec, status="succeeded", started=timezone.now())
    queue(alice, tiny_spec)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A small table would be scanned whatever its indexes.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        plan = fair_queue().explain()
    assert "generation_owner_started" in plan


def test_it_returns_none_when_nothing_is_queued(alice, tiny_spec):
    queue(alice, tiny_spec, status="succeeded")
    assert OrmJobStore().claim_next() is None


def test_outcomes_are_recorded_with_media_paths(alice, tiny_spec, settings):
    generation = queue(alice, tiny_spec)
    store = OrmJobStore()
    job = store.claim_next()
    folder = job.output_dir
    store.mark_succeeded(
        job.id,
        Result(
            video_path=folder / "clip.mp4",
            poster_path=folder / "clip.jpg",
            num_frames=8,
            fps=8,
            width=64,
            height=64,
            seed=7,
            seconds=1.5,
        ),
    )
    generation.refresh_from_db()
    assert generation.status == "succeeded"
    assert generation.video.startswith("clips/")
    assert generation.video.endswith(f"{generation.pk.hex}/clip.mp4")
    assert len(generation.video.split("/")[1]) == 24  # an HMAC, not the user id
    assert generation.seconds == 1.5
    assert generation.finished is not None


def test_a_cancelled_or_deleted_job_reports_cancel_requested(alice, tiny_spec):
    generation = queue(alice, tiny_spec)
    store, job_id = OrmJobStore(), str(generation.pk)
    assert not store.cancel_requested(job_id)
    generation.request_cancel()
    assert store.cancel_requested(job_id)
    generation.delete()
    assert store.cancel_requested(job_id)


def crash(store: OrmJobStore) -> None:
    """The store's worker process ends, mid-run, half a minute ago."""
    Generation.objects.filter(worker=store.worker).update(
        heartbeat=timezone.now() - timedelta(seconds=30)
    )


def test_a_job_left_running_by_a_crash_is_queued_again_once(alice, tiny_spec):
    generation = queue(alice, tiny_spec)
    ended = f"{socket.gethostname()}:{a_finished_process_id()}:ab12cd"
    store = OrmJobStore(worker=ended)
    store.claim_next()
    crash(store)

    # The server starts again: a new process, which takes the job back.
    assert recover_interrupted() == (1, 0)
    generation.refresh_from_db()
    assert generation.status == "queued"
    assert generation.started is None

    store.claim_next()
    crash(store)  # ...and it dies again.
    assert recover_interrupted() == (0, 1)
    generation.refresh_from_db()
    assert generation.status == "failed"
    assert "stopped twice" in generation.error


def test_a_crashed_job_someone_cancelled_stays_cancelled(alice, tiny_spec):
    generation = queue(alice, tiny_spec)
    store = OrmJobStore(worker="gpu-9:1:ab12cd")
    store.claim_next()
    Generation.objects.filter(pk=generation.pk).update(heartbeat=None)
    generation.request_cancel()
    recover_interrupted()
    generation.refresh_from_db()
    assert generation.status == "cancelled"


def running_elsewhere(owner, spec, worker: str, seconds_ago: float) -> Generation:
    """A job another worker claimed, which last beat ``seconds_ago``."""
    now = timezone.now()
    return queue(
        owner,
        spec,
        status="running",
        attempts=1,
        started=now - timedelta(seconds=seconds_ago + 1),
        worker=worker,
        heartbeat=now - timedelta(seconds=seconds_ago),
    )


def a_finished_process_id() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


class RecordingEvents:
    def __init__(self):
        self.published: list[tuple[str, dict]] = []

    def publish_event(self, job_id, event):
        self.published.append((job_id, event))

    def forget(self, job_id):
        self.published.append((job_id, "forgotten"))


def test_a_claim_records_the_worker_and_its_first_heartbeat(alice, tiny_spec):
    generation = queue(alice, tiny_spec)
    OrmJobStore(worker="gpu-1:42").claim_next()
    generation.refresh_from_db()
    assert generation.worker == "gpu-1:42"
    assert generation.heartbeat == generation.started
    assert OrmJobStore().worker.startswith(f"{socket.gethostname()}:{os.getpid()}:")
    assert OrmJobStore().worker == worker_name()


def test_a_heartbeat_holds_only_for_the_worker_that_has_the_job(alice, tiny_spec):
    generation = queue(alice, tiny_spec)
    mine, theirs = OrmJobStore(worker="gpu-1:42"), OrmJobStore(worker="gpu-2:7")
    job = mine.claim_next()
    Generation.objects.filter(pk=generation.pk).update(
        heartbeat=timezone.now() - timedelta(seconds=30)
    )

    assert mine.heartbeat(job.id)
    generation.refresh_from_db()
    assert timezone.now() - generation.heartbeat < timedelta(seconds=5)
    assert not theirs.heartbeat(job.id)
    generation.delete()
    assert not mine.heartbeat(job.id)


def test_a_busy_worker_elsewhere_keeps_its_job(alice, tiny_spec):
    busy = running_elsewhere(alice, tiny_spec, "gpu-2:7", seconds_ago=20)
    assert OrmJobStore().recover_stale() == 0
    assert recover_interrupted() == (0, 0)  # nor does a worker starting here
    busy.refresh_from_db()
    assert (busy.status, busy.worker) == ("running", "gpu-2:7")


def test_a_job_whose_worker_went_quiet_is_queued_again_and_the_quiet_worker_loses_it(
    alice, tiny_spec, settings
):
    quiet = running_elsewhere(alice, tiny_spec, "gpu-2:7", seconds_ago=90)
    events = RecordingEvents()

    assert OrmJobStore(events).recover_stale() == 1
    quiet.refresh_from_db()
    assert (quiet.status, quiet.worker, quiet.started) == ("queued", "", None)
    assert (str(quiet.pk), {"type": "queued", "position": 1}) in events.published

    # The quiet worker comes back: the job is not its own any more.
    back = OrmJobStore(worker="gpu-2:7")
    assert not back.heartbeat(str(quiet.pk))
    result = Result(
        video_path=settings.MEDIA_ROOT / "clip.mp4",
        poster_path=settings.MEDIA_ROOT / "clip.jpg",
        num_frames=8,
        fps=8,
        width=64,
        height=64,
        seed=7,
        seconds=1.0,
        metadata={},
    )
    assert back.mark_succeeded(str(quiet.pk), result) is False
    back.mark_failed(str(quiet.pk), "late")
    quiet.refresh_from_db()
    assert (quiet.status, quiet.video, quiet.error) == ("queued", "", "")

    # ...and the next claim, by whichever worker, runs it a second time.
    job = OrmJobStore(worker="gpu-3:1").claim_next()
    assert job.id == str(quiet.pk)
    quiet.refresh_from_db()
    assert (quiet.worker, quiet.attempts) == ("gpu-3:1", 2)


def test_a_quiet_worker_s_job_on_its_second_run_fails_and_its_viewers_hear_why(
    alice, tiny_spec
):
    twice = running_elsewhere(alice, tiny_spec, "gpu-2:7", seconds_ago=300)
    Generation.objects.filter(pk=twice.pk).update(attempts=2)
    cancelled = running_elsewhere(alice, tiny_spec, "gpu-2:7", seconds_ago=300)
    Generation.objects.filter(pk=cancelled.pk).update(cancel_requested=True)
    events = RecordingEvents()

    assert OrmJobStore(events).recover_stale() == 2
    twice.refresh_from_db()
    cancelled.refresh_from_db()
    assert (twice.status, cancelled.status) == ("failed", "cancelled")
    assert "stopped twice" in twice.error
    assert (str(twice.pk), {"type": "failed", "error": twice.error}) in events.published
    assert (str(cancelled.pk), {"type": "cancelled"}) in events.published


def test_a_job_of_a_process_on_this_machine_that_ended_is_taken_back_after_two_beats(
    alice, tiny_spec
):
    host = socket.gethostname()
    ended = f"{host}:{a_finished_process_id()}:ab12cd"
    long_ago = running_elsewhere(alice, tiny_spec, ended, seconds_ago=25)
    # A live worker beats every 10 s, so a fresh heartbeat is never taken
    # back on this ground: the process may live in another pid namespace.
    just_now = running_elsewhere(alice, tiny_spec, ended, seconds_ago=5)
    alive = running_elsewhere(alice, tiny_spec, f"{host}:{os.getppid()}:ab12cd", 25)

    assert OrmJobStore().recover_stale() == 1
    for job in (long_ago, just_now, alive):
        job.refresh_from_db()
    assert (long_ago.status, just_now.status, alive.status) == (
        "queued",
        "running",
        "running",
    )


def test_a_worker_s_own_jobs_stay_its_own_and_an_earlier_life_s_are_taken_back(
    alice, tiny_spec
):
    mine = queue(alice, tiny_spec)
    store = OrmJobStore()
    store.claim_next()
    # A restarted container comes back with the same pid and another tag.
    earlier = f"{socket.gethostname()}:{os.getpid()}:000000"
    before_restart = running_elsewhere(alice, tiny_spec, earlier, seconds_ago=25)

    assert store.recover_stale() == 1
    assert recover_interrupted() == (0, 0)
    mine.refresh_from_db()
    before_restart.refresh_from_db()
    assert (mine.status, before_restart.status) == ("running", "queued")


def test_a_job_released_by_a_stopping_worker_is_queued_again_as_if_untried(
    alice, tiny_spec
):
    generation = queue(alice, tiny_spec)
    events = RecordingEvents()
    store = OrmJobStore(events, worker="gpu-1:42")
    job = store.claim_next()

    OrmJobStore(worker="gpu-2:7").release(job.id)  # not its job: nothing happens
    assert Generation.objects.get(pk=generation.pk).status == "running"

    store.release(job.id)
    generation.refresh_from_db()
    assert (generation.status, generation.attempts) == ("queued", 0)
    assert (generation.worker, generation.started, generation.heartbeat) == (
        "",
        None,
        None,
    )
    assert (job.id, "forgotten") in events.published  # its old progress
    assert (job.id, {"type": "queued", "position": 1}) in events.published


def test_a_worker_says_it_is_alive_with_its_job_and_leaves_the_list_when_it_stops(
    alice, tiny_spec
):
    generation = queue(alice, tiny_spec)
    store = OrmJobStore(worker="gpu-1:42:ab12cd")
    store.alive("cuda:0", None)
    worker = Worker.objects.get(name="gpu-1:42:ab12cd")
    assert (worker.device, worker.job) == ("cuda:0", None)

    store.alive("cuda:0", str(generation.pk))
    worker.refresh_from_db()
    assert worker.job == generation
    assert Worker.objects.count() == 1

    store.goodbye()
    assert not Worker.objects.exists()


def test_a_worker_not_heard_from_for_a_day_is_forgotten(alice, tiny_spec):
    Worker.objects.create(
        name="gpu-2:7:ab12cd",
        device="cuda",
        last_seen=timezone.now() - timedelta(days=1, minutes=1),
    )
    Worker.objects.create(
        name="gpu-3:9:ab12cd",
        device="cuda",
        last_seen=timezone.now() - timedelta(hours=23),
    )
    OrmJobStore().recover_stale()
    assert list(Worker.objects.values_list("name", flat=True)) == ["gpu-3:9:ab12cd"]
