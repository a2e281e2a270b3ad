from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer

from generation.specs import StepEvent
from studio.accounts.services import api_token_create
from studio.asgi import application
from studio.generations import runtime
from studio.generations.events import LiveEvents, group_name, unpack_preview
from studio.generations.models import Generation
from studio.generations.services import generation_submit
from tests.studio.sockets import PatientCommunicator

pytestmark = pytest.mark.django_db(transaction=True)

# A browser sends the Host it opened the socket with beside its Origin.
HOST = (b"host", b"localhost")
ORIGIN = (b"origin", b"http://localhost")
PROMPT = "a red ball bouncing to the right, slow push-in"


def communicator(path: str, *headers: tuple[bytes, bytes]) -> PatientCommunicator:
    return PatientCommunicator(application, path, headers=[HOST, *headers])


def assert_no_listeners(generation_id) -> None:
    layer = get_channel_layer()
    assert runtime.events.watching(group_name(generation_id)) == 0
    if isinstance(layer, InMemoryChannelLayer):
        assert not layer.groups.get(group_name(generation_id))


async def test_alice_gets_the_state_first(alice, alice_cookie, generation):
    ws = communicator(f"/ws/generations/{generation.pk}", ORIGIN, alice_cookie)
    connected, _ = await ws.connect()
    assert connected
    state = await ws.receive_json_from()
    assert state["type"] == "state"
    assert state["status"] == "queued"
    assert state["progress"] == {"step": 0, "steps": 2}
    await ws.disconnect()
    assert_no_listeners(generation.pk)


async def test_other_users_cannot_subscribe_to_a_generation(bob_cookie, generation):
    ws = communicator(f"/ws/generations/{generation.pk}", ORIGIN, bob_cookie)
    await ws.connect()
    assert await ws.receive_output() == {"type": "websocket.close", "code": 4404}
    assert_no_listeners(generation.pk)


async def test_anonymous_visitors_cannot_subscribe(generation):
    ws = communicator(f"/ws/generations/{generation.pk}", ORIGIN)
    await ws.connect()
    assert await ws.receive_output() == {"type": "websocket.close", "code": 4401}
    assert_no_listeners(generation.pk)


async def test_an_unknown_generation_closes_with_4404(alice_cookie):
    ws = communicator("/ws/generations/not-a-uuid", ORIGIN, alice_cookie)
    await ws.connect()
    assert await ws.receive_output() == {"type": "websocket.close", "code": 4404}


async def test_a_foreign_origin_is_refused(alice, alice_cookie, generation):
    ws = communicator(
        f"/ws/generations/{generation.pk}",
        (b"origin", b"http://evil.example"),
        alice_cookie,
    )
    connected, _ = await ws.connect()
    assert not connected


async def test_a_script_connects_with_a_token_and_no_origin(alice, generation):
    _, token = await database_sync_to_async(api_token_create)(user=alice, name="t")
    ws = communicator(f"/ws/generations/{generation.pk}?token={token}")
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from())["type"] == "state"
    await ws.disconnect()


async def test_a_bad_token_is_nobody(generation):
    ws = communicator(f"/ws/generations/{generation.pk}?token=st_wrong")
    await ws.connect()
    assert await ws.receive_output() == {"type": "websocket.close", "code": 4401}


@pytest.mark.parametrize(
    "message", ["not json", '{"type": "dance"}', "[1]", "x" * 5000, b"\x00\x01"]
)
async def test_malformed_messages_close_the_socket_with_4400(
    alice, alice_cookie, generation, message
):
    ws = communicator(f"/ws/generations/{generation.pk}", ORIGIN, alice_cookie)
    await ws.connect()
    await ws.receive_json_from()
    if isinstance(message, bytes):
        await ws.send_to(bytes_data=message)
    else:
        await ws.send_to(text_data=message)
    assert await ws.receive_output() == {"type": "websocket.close", "code": 4400}
    await ws.disconnect()
    assert_no_listeners(generation.pk)


async def test_a_ping_gets_a_pong(alice, alice_cookie, generation):
    ws = communicator(f"/ws/generations/{generation.pk}", ORIGIN, alice_cookie)
    await ws.connect()
    await ws.receive_json_from()
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from() == {"type": "pong"}
    await ws.disconnect()


async def test_a_late_viewer_gets_the_state_and_the_latest_preview(
    alice, alice_cookie, generation
):
    await database_sync_to_async(Generation.objects.filter(pk=generation.pk).update)(
        status="running"
    )
    job = str(generation.pk)
    runtime.events.emit(job, {"type": "started", "steps": 2})
    runtime.events.emit_preview(
        job,
        StepEvent(
            step=1,
            steps=2,
            elapsed=0.1,
            eta=0.1,
            preview=b"JPEG",
            frames=8,
            width=32,
            height=32,
        ),  # fmt: skip
    )
    runtime.events.emit(
        job, {"type": "progress", "step": 1, "steps": 2, "elapsed": 0.1, "eta": 0.1}
    )
    ws = communicator(f"/ws/generations/{job}", ORIGIN, alice_cookie)
    await ws.connect()
    state = await ws.receive_json_from()
    assert state["status"] == "running"
    assert state["progress"]["step"] == 1
    header, image = unpack_preview(await ws.receive_from())
    assert abs(header.pop("sent") - time.time()) < 60  # publish time, for latency
    assert header == {
        "generation": job,
        "step": 1,
        "steps": 2,
        "frames": 8,
        "width": 32,
        "height": 32,
        "format": "jpeg",
        "layout": "strip",
    }
    assert image == b"JPEG"
    await ws.disconnect()


@contextlib.asynccontextmanager
async def during_the_state_query(publish):
    """Calls ``publish()`` once, on the consumer's database thread, while its
    ``connect`` waits for the generation's state; yields the calls made."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    published = []

    def hook(execute, sql, params, many, context):
        if "generations_generation" in sql and not published:
            published.append(sql)
            publish()
        return execute(sql, params, many, context)

    def wrap(sender=None, connection=connection, **kwargs):
        connection.execute_wrappers.append(hook)

    def unwrap():
        if hook in connection.execute_wrappers:
            connection.execute_wrappers.remove(hook)

    # The consumer reads on the shared database thread, or on a thread of its
    # own whose connection opens later: hook both.
    await database_sync_to_async(wrap)()
    connection_created.connect(wrap)
    try:
        yield published
    finally:
        connection_created.disconnect(wrap)
        await database_sync_to_async(unwrap)()


async def test_events_published_while_a_viewer_connects_follow_its_state(
    alice, alice_cookie, generation
):
    job = str(generation.pk)
    started = {"type": "started", "steps": 2}
    async with during_the_state_query(
        lambda: runtime.events.emit(job, started)
    ) as calls:
        ws = communicator(f"/ws/generations/{job}", ORIGIN, alice_cookie)
        connected, _ = await ws.connect()
        assert connected
        first = await ws.receive_json_from()
        second = await ws.receive_json_from()
    assert calls
    assert first["type"] == "state"
    assert second == {"type": "started"}
    await ws.disconnect()
    assert_no_listeners(generation.pk)


async def test_a_preview_published_while_a_viewer_connects_arrives_once(
    alice, alice_cookie, generation
):
    await database_sync_to_async(Generation.objects.filter(pk=generation.pk).update)(
        status="running"
    )
    job = str(generation.pk)
    step = StepEvent(
        step=1, steps=2, elapsed=0.1, eta=0.1, preview=b"JPEG", frames=8, width=32,
        height=32,
    )  # fmt: skip
    async with during_the_state_query(
        lambda: runtime.events.emit_preview(job, step)
    ) as calls:
        ws = communicator(f"/ws/generations/{job}", ORIGIN, alice_cookie)
        await ws.connect()
        state = await ws.receive_json_from()
        header, image = unpack_preview(await ws.receive_from())
    assert calls
    assert state["type"] == "state"
    assert (header["step"], image) == (1, b"JPEG")
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()
    runtime.events.forget(job)


async def receive_until_finished(ws: PatientCommunicator) -> list:
    messages = []
    while True:
        output = await ws.receive_output(timeout=60)
        if output["type"] == "websocket.close":
            raise AssertionError(f"closed early: {output}")
        message = output.get("text") or output.get("bytes")
        if isinstance(message, str):
            message = json.loads(message)
            messages.append(message)
            if message["type"] in ("succeeded", "failed", "cancelled"):
                return messages
        else:
            messages.append(unpack_preview(message)[0])


async def test_every_step_arrives_in_order_until_the_video_is_ready(
    alice, alice_cookie, alice_client, bob_client, tiny_spec, start_live_service
):
    from dataclasses import replace

    spec = replace(tiny_spec, num_inference_steps=6)
    generation = await database_sync_to_async(generation_submit)(user=alice, spec=spec)
    ws = communicator(f"/ws/generations/{generation.pk}", ORIGIN, alice_cookie)
    connected, _ = await ws.connect()
    assert connected
    await database_sync_to_async(start_live_service)()
    messages = await receive_until_finished(ws)
    await ws.disconnect()
    assert_no_listeners(generation.pk)

    assert messages[0]["type"] == "state"
    previews = [m["step"] for m in messages if "frames" in m]
    progress = [m["step"] for m in messages if m.get("type") == "progress"]
    assert previews == [1, 2, 3, 4, 5, 6]
    assert progress[-6:] == [1, 2, 3, 4, 5, 6]
    assert all(m["frames"] == 8 for m in messages if "frames" in m)
    done = messages[-1]
    assert done["type"] == "succeeded"

    generation = await database_sync_to_async(Generation.objects.get)(pk=generation.pk)
    assert generation.status == "succeeded"
    assert done["video_url"] == generation.video_url
    assert done["poster_url"] == generation.poster_url
    get = database_sync_to_async(lambda client, url: client.get(url))
    video = await get(alice_client, done["video_url"])
    assert video.status_code == 200
    assert video["Content-Type"] == "video/mp4"
    assert (await get(bob_client, done["video_url"])).status_code == 404
    api = (await get(alice_client, f"/api/generations/{generation.pk}")).json()
    assert api["video_url"] == done["video_url"]
    assert api["progress"] == {"step": 6, "steps": 6}


async def test_cancelling_a_running_clip_reaches_the_viewer(
    alice, alice_cookie, alice_client, tiny_spec, live_service
):
    from dataclasses import replace

    spec = replace(tiny_spec, num_inference_steps=100)
    generation = await database_sync_to_async(generation_submit)(user=alice, spec=spec)
    ws = communicator(f"/ws/generations/{generation.pk}", ORIGIN, alice_cookie)
    await ws.connect()
    while True:
        message = await ws.receive_output(timeout=60)
        if "bytes" in message and message["bytes"]:
            break
    post = database_sync_to_async(lambda url: alice_client.post(url))
    await post(f"/api/generations/{generation.pk}/cancel")
    messages = await receive_until_finished(ws)
    assert messages[-1]["type"] == "cancelled"
    await ws.disconnect()
    generation = await database_sync_to_async(Generation.objects.get)(pk=generation.pk)
    assert generation.status == "cancelled"
    assert not generation.video
    await asyncio.sleep(0)


@pytest.fixture
def shared_layer(settings):
    """Channels and the cache on this machine's Redis, as with several processes."""
    url = "redis://127.0.0.1:6379/8"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [url]},
        }
    }
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
        }
    }
    assert not runtime.events.delivers_locally()


async def test_a_late_viewer_on_a_process_without_the_worker_still_catches_up(
    alice, alice_client, alice_cookie, generation, shared_layer
):
    # The worker runs in another process: its LiveEvents is not this one's.
    elsewhere = LiveEvents()
    await database_sync_to_async(Generation.objects.filter(pk=generation.pk).update)(
        status="running"
    )
    job = str(generation.pk)
    elsewhere.emit(job, {"type": "started", "steps": 2})
    preview = StepEvent(step=1, steps=2, elapsed=0.4, eta=0.4, preview=b"jpeg",
                        frames=8, width=32, height=32)  # fmt: skip
    await asyncio.to_thread(elsewhere.emit_preview, job, preview)
    elsewhere.emit(job, {"type": "progress", "step": 1, "steps": 2,
                         "elapsed": 0.4, "eta": 0.4})  # fmt: skip
    assert runtime.events.progress.get(job) is None  # nothing of it here

    ws = communicator(f"/ws/generations/{generation.pk}", ORIGIN, alice_cookie)
    await ws.connect()
    state = await ws.receive_json_from()
    assert state["progress"] == {"step": 1, "steps": 2, "elapsed": 0.4, "eta": 0.4}
    header, image = unpack_preview(await ws.receive_from())
    assert (header["step"], image) == (1, b"jpeg")
    await ws.disconnect()
    api = await database_sync_to_async(alice_client.get)(f"/api/generations/{job}")
    assert api.json()["progress"]["step"] == 1

    # Once the clip ends, nothing of its live state lingers.
    elsewhere.emit(job, {"type": "cancelled"})
    assert runtime.events.live_progress(job) is None
    assert runtime.events.live_preview(job) is None


async def test_a_stalled_channel_layer_closes_the_socket_so_the_page_reconnects(
    alice, alice_cookie, generation, shared_layer, monkeypatch
):
    from redis.asyncio import Redis

    from studio.generations import consumers

    monkeypatch.setattr(consumers, "CONNECT_SECONDS", 0.5)
    redis = Redis.from_url("redis://127.0.0.1:6379/8")
    # Redis holds every write (joining a group is one) until unpaused.
    await redis.client_pause(600_000, all=False)
    try:
        ws = communicator(f"/ws/generations/{generation.pk}", ORIGIN, alice_cookie)
        connected, _ = await ws.connect()
        assert connected
        # No state could be read in time: a close the page answers by
        # connecting again (below 4000), not a socket that stays silent.
        assert await ws.receive_output() == {"type": "websocket.close", "code": 1013}
    finally:
        await redis.client_unpause()
        await redis.aclose()
    await ws.wait()

    ws = communicator(f"/ws/generations/{generation.pk}", ORIGIN, alice_cookie)
    assert (await ws.connect())[0]
    state = await ws.receive_json_from()
    assert (state["type"], state["status"]) == ("state", "queued")
    await ws.disconnect()
