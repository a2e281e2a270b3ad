from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from generation.specs import StepEvent
from studio.asgi import application
from studio.generations import runtime
from studio.generations.events import LiveEvents, group_name, unpack_preview
from studio.generations.models import Generation
from studio.generations.store import worker_name

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until_finished(generation: Generation, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation.refresh_from_db()
        if generation.is_finished:
            return
        time.sleep(0.05)


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
        assert loaded.wait(30)
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


def test_the_service_does_not_start_by_itself(alice_client):
    alice_client.get("/")
    assert runtime.current() is None


async def test_events_from_a_worker_thread_all_arrive_in_order_and_promptly(
    alice, alice_cookie, generation
):
    ws = WebsocketCommunicator(
        application,
        f"/ws/generations/{generation.pk}",
        headers=[
            (b"host", b"localhost"),
            (b"origin", b"http://localhost"),
            alice_cookie,
        ],
    )
    await ws.connect()
    await ws.receive_json_from()
    job, steps = str(generation.pk), 200
    sent_at: dict[int, float] = {}

    def worker() -> None:
        for step in range(1, steps + 1):
            time.sleep(0.01)  # faster than any real model's steps
            sent_at[step] = time.perf_counter()
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
    received, delays = [], []
    for _ in range(steps):
        header, _ = unpack_preview(await ws.receive_from(timeout=10))
        delays.append(time.perf_counter() - sent_at[header["step"]])
        received.append(header["step"])
    thread.join()
    await ws.disconnect()
    assert received == list(range(1, steps + 1))
    assert sorted(delays)[int(0.99 * steps)] < 0.1


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
    for _ in range(50):
        if len(watching.messages) == 2:
            break
        await asyncio.sleep(0.01)
    texts = [m["text"] for m in watching.messages]
    assert texts == ['{"type":"progress","step":1}', '{"type":"progress","step":2}']
    assert events.watching(group) == 1  # the failing viewer was dropped
