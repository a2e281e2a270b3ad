"""A cancel, or a project delete that cancels, takes effect only when its
transaction commits: one that rolls back leaves every clip as it was."""

from __future__ import annotations

from dataclasses import replace

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from studio.generations import runtime
from studio.generations.models import Generation
from studio.generations.services import generation_cancel, generation_submit
from studio.projects.models import Project
from studio.projects.services import project_create, project_delete
from tests.studio.generations.test_consumers import (
    ORIGIN,
    communicator,
    receive_until_finished,
)

pytestmark = pytest.mark.django_db(transaction=True)


class RolledBack(Exception):
    pass


def inside_a_failing_transaction(work) -> None:
    with pytest.raises(RolledBack):
        with transaction.atomic():
            work()
            raise RolledBack


async def first_preview(ws) -> None:
    while True:
        message = await ws.receive_output(timeout=60)
        assert message["type"] != "websocket.close", message
        if message.get("bytes"):
            return


async def test_a_rolled_back_cancel_leaves_a_queued_clip_waiting_and_tells_no_one(
    alice_cookie, generation
):
    ws = communicator(f"/ws/generations/{generation.pk}", ORIGIN, alice_cookie)
    assert (await ws.connect())[0]
    assert (await ws.receive_json_from())["type"] == "state"

    await database_sync_to_async(inside_a_failing_transaction)(
        lambda: generation_cancel(generation=generation)
    )
    # One clip's events reach its viewer in order: a "cancelled" sent before
    # the rollback would arrive ahead of this one.
    runtime.events.publish_event(str(generation.pk), {"type": "after"})
    assert (await ws.receive_json_from(timeout=60))["type"] == "after"
    await ws.disconnect()

    generation = await database_sync_to_async(Generation.objects.get)(pk=generation.pk)
    assert generation.status == "queued"
    assert not generation.cancel_requested


async def test_a_committed_cancel_tells_the_viewer(alice_cookie, generation):
    ws = communicator(f"/ws/generations/{generation.pk}", ORIGIN, alice_cookie)
    assert (await ws.connect())[0]
    assert (await ws.receive_json_from())["type"] == "state"

    def cancel() -> None:
        with transaction.atomic():
            generation_cancel(generation=generation)

    await database_sync_to_async(cancel)()
    assert (await ws.receive_json_from(timeout=60))["type"] == "cancelled"
    await ws.disconnect()


async def test_a_rolled_back_project_delete_leaves_its_running_clip_rendering(
    alice, alice_cookie, tiny_spec, live_service
):
    project = await database_sync_to_async(project_create)(owner=alice, name="Kept")
    generation = await database_sync_to_async(generation_submit)(
        user=alice, spec=replace(tiny_spec, num_inference_steps=30), project=project
    )
    ws = communicator(f"/ws/generations/{generation.pk}", ORIGIN, alice_cookie)
    assert (await ws.connect())[0]
    await first_preview(ws)

    kept = project.pk  # a deleted instance forgets its pk, even if rolled back
    await database_sync_to_async(inside_a_failing_transaction)(
        lambda: project_delete(project=project)
    )
    messages = await receive_until_finished(ws)
    await ws.disconnect()

    assert messages[-1]["type"] == "succeeded"
    generation = await database_sync_to_async(Generation.objects.get)(pk=generation.pk)
    assert generation.status == "succeeded"
    assert await database_sync_to_async(Project.objects.filter(pk=kept).exists)()


async def test_a_committed_project_delete_stops_its_running_clip(
    alice, alice_cookie, tiny_spec, live_service
):
    project = await database_sync_to_async(project_create)(owner=alice, name="Gone")
    generation = await database_sync_to_async(generation_submit)(
        user=alice, spec=replace(tiny_spec, num_inference_steps=100), project=project
    )
    ws = communicator(f"/ws/generations/{generation.pk}", ORIGIN, alice_cookie)
    assert (await ws.connect())[0]
    await first_preview(ws)

    await database_sync_to_async(project_delete)(project=project)
    messages = await receive_until_finished(ws)
    await ws.disconnect()

    assert messages[-1]["type"] == "cancelled"
    assert not await database_sync_to_async(
        Generation.objects.filter(pk=generation.pk).exists
    )()
