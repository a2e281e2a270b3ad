from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator
from django.utils import timezone

from generation.specs import StepEvent
from studio.asgi import application
from studio.generations import runtime
from studio.generations.events import LiveEvents, group_name, unpack_preview
from studio.generations.models import Generation
from studio.generations.store import worker_name
from tests.studio.generations.processes import PATIENCE, HeldAtTheFirstStep
from tests.studio.sockets import PatientCommunicator

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until_finished(generation: Generation) -> None:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        generation.refresh_from_db()
        if generation.is_finished:
            return
        time.sleep(0.05)
    raise AssertionError(f"{generation.pk} is still {generation.status}")


def test_on_start_up_the_default_model_is_loaded_before_any_clip_asks(
    settings, tiny_adapter
):
    settings.STUDIO_DEFAULT_MODEL = "house-model"
    loaded = threading.Event()
    asked = []

    def loader(name, device):
        asked.append(name)
        loaded.set()
        return tiny_adapter

    runtime.ensure_started(adapter_loader=loader, poll_interval=0.05)
    try:
        assert loaded.wait(PATIENCE)
    finally:
        runtime.stop()
    assert asked[0] == "house-model"
    assert not Generation.objects.exists()


def test_on_start_up_a_job_left_running_is_run_again(alice, tiny_spec, tiny_adapter):
    generation = Generation.objects.create(
        owner=alice,
        prompt=tiny_spec.prompt,
        seed=tiny_spec.seed,
        settings=tiny_spec.to_dict(),
        status="running",
        attempts=1,
    )
    runtime.ensure_started(
        adapter_loader=lambda name, device: tiny_adapter, poll_interval=0.05
    )
    try:
        wait_until_finished(generation)
    finally:
        runtime.stop()
    assert generation.status == "succeeded"
    assert generation.attempts == 2


def test_a_running_service_takes_over_the_job_of_a_worker_that_went_quiet(
    alice, tiny_spec, tiny_adapter
):
    runtime.ensure_started(
        adapter_loader=lambda name, device: tiny_adapter,
        poll_interval=0.05,
        sweep_interval=0.1,
    )
    now = timezone.now()

    def running_on(worker, seconds_ago):
        return Generation.objects.create(
            owner=alice,
            prompt=tiny_spec.prompt,
            seed=tiny_spec.seed,
            settings=tiny_spec.to_dict(),
            status="running",
            attempts=1,
            started=now - timedelta(seconds=seconds_ago),
            worker=worker,
            heartbeat=now - timedelta(seconds=seconds_ago),
        )

    # Another machine's worker crashed mid-clip; a second one is busy.
    quiet, busy = running_on("gpu-2:7", 120), running_on("gpu-3:9", 1)
    try:
        wait_until_finished(quiet)
    finally:
        runtime.stop()
    assert quiet.status == "succeeded"
    assert (quiet.attempts, quiet.worker) == (2, worker_name())
    busy.refresh_from_db()
    assert (busy.status, busy.worker) == ("running", "gpu-3:9")


async def test_a_request_while_the_service_stops_starts_no_second_one(
    settings, alice, tiny_spec, tiny_adapter
):
    settings.STUDIO_SERVICE_AUTOSTART = True
    model = HeldAtTheFirstStep(tiny_adapter)
    await sync_to_async(runtime.ensure_started)(
        adapter_loader=lambda name, device: model,
        poll_interval=0.05,
        warm_model=None,
    )
    clip = await Generation.objects.acreate(
        owner=alice,
        prompt=tiny_spec.prompt,
        seed=tiny_spec.seed,
        settings=tiny_spec.to_dict(),
    )
    stopping = None
    try:
        runtime.wake()
        assert await asyncio.to_thread(model.rendering.wait, PATIENCE)
        stopping = asyncio.create_task(asyncio.to_thread(runtime.stop))
        assert await asyncio.to_thread(model.stopping.wait, PATIENCE)

        # The old worker still holds the clip: a fresh service would take it
        # back from it and start it a second time.
        page = HttpCommunicator(
            application, "GET", "/accounts/login/", headers=[(b"host", b"testserver")]
        )
        response = await page.get_response(timeout=PATIENCE)
        assert response["status"] == 200
        assert runtime.current() is None
        held = await Generation.objects.aget(pk=clip.pk)
        assert (held.status, held.attempts) == ("running", 1)
    finally:
        model.let_go.set()
        if stopping is not None:
            await stopping
        await sync_to_async(runtime.stop)()
    clip = await Generation.objects.aget(pk=clip.pk)
    assert (clip.status, clip.attempts, clip.worker) == ("queued", 0, "")


def test_the_service_does_not_start_by_itself(alice_client):
    alice_client.get("/")
    assert runtime.current() is None


async def test_events_from_a_worker_thread_all_arrive_in_order_and_promptly(
    alice, alice_cookie, generation
):
    ws = PatientCommunicator(
        application,
        f"/ws/generations/{generation.pk}",
        headers=[
            (b"host", b"localhost"),
            (b"origin", b"http://localhost"),
            alice_cookie,
        ],
    )
    await ws.connect(timeout=PATIENCE)
    await ws.receive_json_from(timeout=PATIENCE)
    job, steps = str(generation.pk), 200
    sent: list[int] = []

    def worker() -> None:
        for step in range(1, steps + 1):
            time.sleep(0.01)  # faster than any real model's steps
            sent.append(step)
            runtime.events.emit_preview(
                job,
                StepEvent(
                    step=step,
                    steps=steps,
                    elapsed=0,
                    eta=0,
                    preview=b"x" * 2000,
                    frames=8,
                    width=32,
                    height=32,
                ),  # fmt: skip
            )

    thread = threading.Thread(target=worker)
    thread.start()
    received, behind = [], []
    for _ in range(steps):
        header, _ = unpack_preview(await ws.receive_from(timeout=PATIENCE))
        received.append(header["step"])
        # Counted in steps, not seconds, so a busy machine that slows the
        # worker and the loop alike does not count as late delivery.
        behind.append(len(sent) - header["step"])
    thread.join()
    await ws.disconnect()
    assert received == list(range(1, steps + 1))
    # A crossing that waits on anything (async_to_sync did, for up to half a
    # second) lets the worker run tens of steps ahead of its viewers.
    assert sorted(behind)[int(0.99 * steps)] <= 10


class Viewer:
    def __init__(self, fail: bool = False):
        self.fail = fail
        self.messages: list[dict] = []

    async def deliver(self, message: dict) -> None:
        if self.fail:
            raise ConnectionError("gone")
        self.messages.append(message)


async def test_a_viewer_that_went_away_does_not_stop_the_others(settings):
    # One process, the embedded layer: events go straight to the viewers.
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    }
    events = LiveEvents()
    events.bind(asyncio.get_running_loop())
    assert events.delivers_locally()
    gone, watching = Viewer(fail=True), Viewer()
    group = group_name("job-1")
    events.watch(group, gone)
    events.watch(group, watching)
    for step in (1, 2):
        events.publish_event("job-1", {"type": "progress", "step": step})
    async with asyncio.timeout(PATIENCE):
        while len(watching.messages) < 2:
            await asyncio.sleep(0.01)
    texts = [m["text"] for m in watching.messages]
    assert texts == ['{"type":"progress","step":1}', '{"type":"progress","step":2}']
    assert events.watching(group) == 1  # the failing viewer was dropped
