"""The live socket, against the real ASGI app and the built-in model's real
weights, streaming small frames."""

from __future__ import annotations

import io
import json
from pathlib import Path

import av
import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from PIL import Image

from generation.credentials import verify_video
from generation.live import live_busy
from studio.accounts.services import api_token_create
from studio.asgi import application
from studio.generations.models import Generation
from studio.lib.credentials import studio_credentials
from studio.live.consumers import unpack_frame
from studio.projects.models import Project
from tests.studio.sockets import PatientCommunicator

pytestmark = pytest.mark.django_db(transaction=True)

HOST = (b"host", b"localhost")
ORIGIN = (b"origin", b"http://localhost")
PROMPT = "a red ball staying still on a sunny day"
BLUE = "a blue ball staying still on a sunny day"
# Small frames, as fast as they come: the tests wait on messages, not time.
SMALL = {"width": 32, "height": 32, "fps": 30}


def communicator(*headers: tuple[bytes, bytes], path: str = "/ws/live"):
    return PatientCommunicator(application, path, headers=[HOST, *headers])


async def connected(cookie) -> PatientCommunicator:
    ws = communicator(ORIGIN, cookie)
    ok, _ = await ws.connect()
    assert ok
    return ws


async def start(ws, prompt: str = PROMPT, **fields) -> dict:
    await ws.send_json_to({"type": "start", "prompt": prompt, **SMALL, **fields})
    return await next_json(ws, "started")


async def next_json(ws, kind: str) -> dict:
    """The next text message of ``kind``, passing frames and other messages."""
    while True:
        message = await ws.receive_from()
        if isinstance(message, str) and json.loads(message)["type"] == kind:
            return json.loads(message)


async def next_frame(ws) -> tuple[dict, bytes]:
    while True:
        message = await ws.receive_from()
        if isinstance(message, bytes):
            return unpack_frame(message)


async def close_code(ws) -> int:
    """The code the server closes with, passing what came before."""
    while True:
        output = await ws.receive_output()
        if output["type"] == "websocket.close":
            return output["code"]


@database_sync_to_async
def project_of(user, name: str = "Harbour") -> Project:
    return Project.objects.create(owner=user, name=name)


@database_sync_to_async
def generation_row(pk: str) -> Generation:
    return Generation.objects.select_related("owner", "project").get(pk=pk)


async def test_alice_starts_a_stream_and_gets_jpeg_frames(alice_cookie):
    ws = await connected(alice_cookie)
    started = await start(ws, seed=3)
    assert started["fps"] == 30
    assert (started["width"], started["height"]) == (32, 32)
    assert started["seed"] == 3
    indices = []
    for _ in range(3):
        header, jpeg = await next_frame(ws)
        assert header["session"] == started["session"]
        assert (header["width"], header["height"], header["format"]) == (32, 32, "jpeg")
        assert header["prompt_index"] == 0
        image = Image.open(io.BytesIO(jpeg))
        assert image.format == "JPEG" and image.size == (32, 32)
        indices.append(header["index"])
    assert indices == sorted(indices) and len(set(indices)) == 3
    await ws.disconnect()
    assert not live_busy()


async def test_the_stream_keeps_its_defaults_when_the_start_names_none(alice_cookie):
    from generation.builtin.streaming import LIVE_FPS, LIVE_HEIGHT, LIVE_WIDTH

    ws = await connected(alice_cookie)
    await ws.send_json_to({"type": "start", "prompt": PROMPT})
    started = await next_json(ws, "started")
    assert (started["fps"], started["width"], started["height"]) == (
        LIVE_FPS,
        LIVE_WIDTH,
        LIVE_HEIGHT,
    )
    header, jpeg = await next_frame(ws)
    assert Image.open(io.BytesIO(jpeg)).size == (LIVE_WIDTH, LIVE_HEIGHT)
    await ws.disconnect()


async def test_a_new_prompt_steers_the_frames_that_follow(alice_cookie):
    ws = await connected(alice_cookie)
    await start(ws)
    header, _ = await next_frame(ws)
    assert header["prompt_index"] == 0
    await ws.send_json_to({"type": "prompt", "prompt": BLUE})
    while header["prompt_index"] == 0:
        header, _ = await next_frame(ws)
    assert header["prompt_index"] == 1
    for _ in range(2):
        later, _ = await next_frame(ws)
        assert later["prompt_index"] == 1 and later["index"] > header["index"]
    await ws.disconnect()


async def test_stats_say_the_frames_a_second_and_the_latency(alice_cookie):
    ws = await connected(alice_cookie)
    await start(ws)
    await next_frame(ws)
    stats = await next_json(ws, "stats")
    while not stats["fps"]:  # the first second may pass while the ramp runs
        stats = await next_json(ws, "stats")
    assert stats["fps"] > 0 and stats["latency_ms"] > 0
    assert stats["recording"] is False and stats["dropped"] >= 0
    await ws.disconnect()


async def test_a_ping_gets_a_pong(alice_cookie):
    ws = await connected(alice_cookie)
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from() == {"type": "pong"}
    await ws.disconnect()


async def test_recording_makes_a_signed_clip_in_the_project_with_its_prompts(
    alice, alice_cookie
):
    project = await project_of(alice)
    ws = await connected(alice_cookie)
    await start(ws, project=str(project.pk))
    await next_frame(ws)
    await ws.send_json_to({"type": "record", "on": True})
    # Past the frames that were already waiting when recording began.
    for _ in range(6):
        await next_frame(ws)
    await ws.send_json_to({"type": "prompt", "prompt": BLUE})
    header, _ = await next_frame(ws)
    while header["prompt_index"] == 0:
        header, _ = await next_frame(ws)
    await ws.send_json_to({"type": "record", "on": False})
    recorded = await next_json(ws, "recorded")
    await ws.disconnect()

    generation = await generation_row(recorded["generation"])
    assert recorded["url"] == generation.get_absolute_url()
    assert generation.owner == alice and generation.project == project
    assert generation.status == "succeeded"
    assert generation.prompt == PROMPT
    assert generation.settings["live"] is True
    timeline = generation.settings["prompts"]
    assert [t["prompt"] for t in timeline] == [PROMPT, BLUE]
    assert timeline[0]["from_frame"] == 0 and timeline[1]["from_frame"] > 0
    assert generation.settings["num_frames"] == recorded["frames"]
    assert generation.settings["fps"] == 30

    video = Path(settings.MEDIA_ROOT) / generation.video
    with av.open(str(video)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == recorded["frames"] > timeline[1]["from_frame"]
    assert (frames[0].width, frames[0].height) == (32, 32)
    assert (Path(settings.MEDIA_ROOT) / generation.poster).is_file()
    verdict = verify_video(video, trust_anchor=studio_credentials().trust_anchor)
    assert verdict.valid and verdict.trusted and verdict.ai_generated


async def test_stopping_while_recording_keeps_the_clip_then_says_stopped(
    alice, alice_cookie
):
    ws = await connected(alice_cookie)
    await start(ws)
    await ws.send_json_to({"type": "record", "on": True})
    for _ in range(6):
        await next_frame(ws)
    await ws.send_json_to({"type": "stop"})
    recorded = await next_json(ws, "recorded")
    stopped = await next_json(ws, "stopped")
    assert stopped["reason"]
    assert not live_busy()
    generation = await generation_row(recorded["generation"])
    assert generation.project is None and generation.owner == alice
    # The socket stays open: the stream can start again.
    await start(ws)
    await next_frame(ws)
    await ws.disconnect()


async def test_closing_the_tab_while_recording_frees_the_device_and_keeps_the_clip(
    alice, alice_cookie
):
    ws = await connected(alice_cookie)
    await start(ws)
    await ws.send_json_to({"type": "record", "on": True})
    for _ in range(6):
        await next_frame(ws)
    await ws.disconnect()
    assert not live_busy()
    clips = await database_sync_to_async(list)(
        Generation.objects.filter(owner=alice, settings__live=True)
    )
    assert len(clips) == 1 and clips[0].status == "succeeded"


async def test_a_second_session_is_refused_while_one_runs_then_starts(
    alice_cookie, bob_cookie
):
    alice_ws = await connected(alice_cookie)
    await start(alice_ws)
    await next_frame(alice_ws)

    bob_ws = await connected(bob_cookie)
    await bob_ws.send_json_to({"type": "start", "prompt": BLUE, **SMALL})
    error = await next_json(bob_ws, "error")
    assert "in use" in error["error"] and "try again" in error["error"]
    assert await close_code(bob_ws) == 4409

    await alice_ws.disconnect()
    bob_ws = await connected(bob_cookie)
    await start(bob_ws, BLUE)
    await next_frame(bob_ws)
    await bob_ws.disconnect()


async def test_another_model_is_refused_with_a_sentence(alice_cookie):
    ws = await connected(alice_cookie)
    await ws.send_json_to({"type": "start", "prompt": PROMPT, "model": "wan"})
    error = await next_json(ws, "error")
    assert "built-in model only" in error["error"]
    assert not live_busy()
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from() == {"type": "pong"}
    await ws.disconnect()


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"fps": 1000}, "Frames a second"),
        ({"width": 30}, "Width must be a multiple of 8"),
        ({"height": 4096}, "Height must be a multiple of 8"),
        ({"seed": -1}, "seed"),
        ({"prompt": "   "}, "Type a prompt"),
    ],
)
async def test_settings_out_of_range_get_a_sentence(alice_cookie, fields, words):
    ws = await connected(alice_cookie)
    await ws.send_json_to({"type": "start", "prompt": PROMPT, **fields})
    error = await next_json(ws, "error")
    assert words in error["error"]
    assert not live_busy()
    await ws.disconnect()


async def test_bobs_project_is_not_alices_to_record_into(alice_cookie, bob):
    project = await project_of(bob)
    ws = await connected(alice_cookie)
    await ws.send_json_to(
        {"type": "start", "prompt": PROMPT, "project": str(project.pk)}
    )
    error = await next_json(ws, "error")
    assert error["error"] == "That project is not one of yours."
    assert not live_busy()
    await ws.disconnect()


@pytest.mark.parametrize("kind", ["prompt", "record"])
async def test_steering_or_recording_before_the_start_gets_a_sentence(
    alice_cookie, kind
):
    ws = await connected(alice_cookie)
    messages = {"prompt": {"prompt": BLUE}, "record": {"on": True}}
    await ws.send_json_to({"type": kind, **messages[kind]})
    error = await next_json(ws, "error")
    assert "Start the stream" in error["error"]
    await ws.disconnect()


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        "[1]",
        '{"type": "dance"}',
        '{"type": "start"}',
        '{"type": "start", "prompt": 5}',
        '{"type": "start", "prompt": "a ball", "fps": "8"}',
        '{"type": "start", "prompt": "a ball", "width": 64.5}',
        '{"type": "start", "prompt": "a ball", "seed": true}',
        '{"type": "start", "prompt": "a ball", "colour": "red"}',
        '{"type": "prompt", "prompt": ["a", "ball"]}',
        '{"type": "record", "on": 1}',
        '{"type": "ping", "extra": 1}',
        json.dumps({"type": "prompt", "prompt": "x" * 2001}),
        "x" * 20_000,
        b"\x00\x01",
    ],
)
async def test_malformed_messages_close_the_socket_with_4400(alice_cookie, message):
    ws = await connected(alice_cookie)
    if isinstance(message, bytes):
        await ws.send_to(bytes_data=message)
    else:
        await ws.send_to(text_data=message)
    assert await close_code(ws) == 4400


async def test_a_malformed_message_mid_stream_closes_and_frees_the_device(
    alice_cookie,
):
    ws = await connected(alice_cookie)
    await start(ws)
    await next_frame(ws)
    await ws.send_to(text_data='{"type": "record", "on": "yes"}')
    assert await close_code(ws) == 4400
    await ws.disconnect()
    assert not live_busy()


async def test_anonymous_visitors_are_closed_with_4401():
    ws = communicator(ORIGIN)
    await ws.connect()
    assert await ws.receive_output() == {"type": "websocket.close", "code": 4401}


async def test_a_bad_token_is_nobody():
    ws = communicator(path="/ws/live?token=st_wrong")
    await ws.connect()
    assert await ws.receive_output() == {"type": "websocket.close", "code": 4401}


async def test_a_script_streams_with_a_token_and_no_origin(alice):
    _, token = await database_sync_to_async(api_token_create)(user=alice, name="t")
    ws = communicator(path=f"/ws/live?token={token}")
    ok, _ = await ws.connect()
    assert ok
    await start(ws)
    header, _ = await next_frame(ws)
    assert header["index"] == 0
    await ws.disconnect()


async def test_a_foreign_origin_is_refused(alice_cookie):
    ws = communicator((b"origin", b"http://evil.example"), alice_cookie)
    ok, _ = await ws.connect()
    assert not ok


async def test_a_clip_queued_during_a_stream_renders_and_the_stream_goes_on(
    alice, alice_cookie, tiny_spec, live_service
):
    from studio.generations import runtime
    from studio.generations.services import generation_submit

    ws = await connected(alice_cookie)
    await start(ws)
    await next_frame(ws)
    generation = await database_sync_to_async(generation_submit)(
        user=alice, spec=tiny_spec
    )
    clip_ws = communicator(ORIGIN, alice_cookie, path=generation.ws_url)
    assert (await clip_ws.connect())[0]
    runtime.wake()
    assert (await next_json(clip_ws, "succeeded"))["video_url"]
    await clip_ws.disconnect()
    # Past what was sent while the clip rendered: frames made after it, the
    # stream having the device back.
    last = -1
    while not ws.output_queue.empty():
        output = ws.output_queue.get_nowait()
        if output.get("bytes") is not None:
            last = unpack_frame(output["bytes"])[0]["index"]
    for _ in range(2):
        later, _ = await next_frame(ws)
        assert later["index"] > last
        last = later["index"]
    await ws.disconnect()
    assert not live_busy()


async def test_a_recording_stops_at_its_limit_and_is_saved(
    alice, alice_cookie, monkeypatch
):
    monkeypatch.setattr("generation.live.MAX_RECORD_SECONDS", 1)
    ws = await connected(alice_cookie)
    started = await start(ws, fps=4)
    assert started["record_limit_seconds"] == 1
    await ws.send_json_to({"type": "record", "on": True})
    error = await next_json(ws, "error")
    assert "limit of 1 seconds" in error["error"]
    recorded = await next_json(ws, "recorded")
    assert recorded["frames"] == 4 and recorded["limit_reached"] is True
    stats = await next_json(ws, "stats")
    assert stats["recording"] is False
    await ws.send_json_to({"type": "record", "on": False})
    assert (await next_json(ws, "error"))["error"] == "Nothing is being recorded."
    await ws.disconnect()
    generation = await generation_row(recorded["generation"])
    assert generation.settings["num_frames"] == 4
