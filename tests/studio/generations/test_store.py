from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from generation.specs import Result
from studio.generations.models import Generation
from studio.generations.store import (
    OrmJobStore,
    fair_queue,
    output_dir,
    recover_interrupted,
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


def test_a_job_left_running_by_a_crash_is_queued_again_once(alice, tiny_spec):
    generation = queue(alice, tiny_spec)
    store = OrmJobStore()
    store.claim_next()  # ...and the server dies mid-run.

    assert recover_interrupted() == (1, 0)
    generation.refresh_from_db()
    assert generation.status == "queued"
    assert generation.started is None

    store.claim_next()  # ...and it dies again.
    assert recover_interrupted() == (0, 1)
    generation.refresh_from_db()
    assert generation.status == "failed"
    assert "stopped twice" in generation.error


def test_a_crashed_job_someone_cancelled_stays_cancelled(alice, tiny_spec):
    generation = queue(alice, tiny_spec)
    OrmJobStore().claim_next()
    generation.request_cancel()
    recover_interrupted()
    generation.refresh_from_db()
    assert generation.status == "cancelled"
