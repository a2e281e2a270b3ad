"""The render job end to end: the studio's worker, the websocket, the files."""

from __future__ import annotations

import json

import av
import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from generation.encode import probe_video
from studio.asgi import application
from studio.generations.models import Generation
from studio.storyboards import services
from tests.studio.sockets import PatientCommunicator

pytestmark = pytest.mark.django_db(transaction=True)
HOST = (b"host", b"localhost")
ORIGIN = (b"origin", b"http://localhost")


async def until_finished(ws: PatientCommunicator) -> list[dict]:
    messages = []
    while True:
        output = await ws.receive_output(timeout=60)
        assert output["type"] != "websocket.close", output
        if output.get("text"):
            message = json.loads(output["text"])
            messages.append(message)
            if message["type"] in ("succeeded", "failed", "cancelled"):
                return messages


async def test_the_rendered_sequence_is_exact_and_ends_with_its_captions(
    storyboard,
    shots,
    make_take,
    alice_client,
    bob_client,
    alice_cookie,
    start_live_service,
):
    await database_sync_to_async(lambda: [make_take(s) for s in shots])()
    render = await database_sync_to_async(services.storyboard_render)(
        storyboard=storyboard
    )
    ws = PatientCommunicator(
        application,
        f"/ws/generations/{render.generation_id}",
        [HOST, ORIGIN, alice_cookie],
    )
    connected, _ = await ws.connect()
    assert connected
    await database_sync_to_async(start_live_service)()
    messages = await until_finished(ws)
    await ws.disconnect()
    done = messages[-1]
    assert done["type"] == "succeeded", messages
    assert [m["step"] for m in messages if m["type"] == "progress"][-3:] == [1, 2, 3]

    generation = await database_sync_to_async(Generation.objects.get)(
        pk=render.generation_id
    )
    assert done["captions_url"] == generation.video_url.removesuffix(".mp4") + ".vtt"
    get = database_sync_to_async(lambda client, url: client.get(url))
    state = (await get(alice_client, f"/api/generations/{generation.pk}")).json()
    assert state["video_url"] == done["video_url"]
    assert state["captions_url"] == done["captions_url"]

    video = settings.MEDIA_ROOT / generation.video
    assert probe_video(video)["frames"] == 8 + 12 + 8
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        seconds = float(stream.duration * stream.time_base)
    assert abs(seconds - 3.5) <= 1 / 8

    captions = await get(alice_client, done["captions_url"])
    assert captions.status_code == 200
    text = b"".join(captions.streaming_content).decode()
    assert "00:00:00.000 --> 00:00:01.000\nDawn." in text
    assert "00:00:02.500 --> 00:00:03.500\nLook!" in text
    assert (await get(bob_client, done["captions_url"])).status_code == 404
