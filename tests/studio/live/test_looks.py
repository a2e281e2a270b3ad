"""A style's look grades the live stream: chosen at the start or mid-stream,
kept in a recording's clip, refused with a sentence when it can't be used."""

from __future__ import annotations

import io

import numpy as np
import pytest
from channels.db import database_sync_to_async
from PIL import Image

from studio.prompts.models import StylePreset
from tests.studio.live.test_consumers import (
    BLUE,
    close_code,
    connected,
    generation_row,
    next_frame,
    next_json,
    start,
)

pytestmark = pytest.mark.django_db(transaction=True)
# Colourful frames: a blue ball on a sunny day.
COLOURFUL = BLUE


@database_sync_to_async
def style_id(name: str) -> int:
    """A shared style with the shipped look of the same name (a test that
    empties the tables takes the migrations' copy with it)."""
    style, _ = StylePreset.objects.get_or_create(
        name=name, owner=None, defaults={"look": name}
    )
    return style.pk


@database_sync_to_async
def own_style(owner, name: str, look: str = "") -> int:
    return StylePreset.objects.create(owner=owner, name=name, look=look).pk


def saturation(jpeg: bytes) -> float:
    """Mean HSV saturation of a frame, 0–1."""
    hsv = np.asarray(Image.open(io.BytesIO(jpeg)).convert("HSV"), np.float32)
    return float(hsv[..., 1].mean() / 255)


async def frames_after(ws, count: int = 3) -> list[bytes]:
    return [(await next_frame(ws))[1] for _ in range(count)]


async def test_a_film_noir_start_streams_black_and_white(alice_cookie):
    noir = await style_id("Film noir")
    ws = await connected(alice_cookie)
    await start(ws, COLOURFUL, style=noir)
    assert max(saturation(f) for f in await frames_after(ws)) < 0.1
    await ws.disconnect()


async def test_a_style_chosen_mid_stream_grades_the_frames_that_follow(
    alice_cookie,
):
    ws = await connected(alice_cookie)
    await start(ws, COLOURFUL, seed=4)
    assert min(saturation(f) for f in await frames_after(ws)) > 0.2
    await ws.send_json_to({"type": "style", "style": await style_id("Film noir")})
    # Frames made before the change may still be on their way; then grey.
    frames = await frames_after(ws, 8)
    assert saturation(frames[-1]) < 0.1
    await ws.send_json_to({"type": "style", "style": None})
    frames = await frames_after(ws, 8)
    assert saturation(frames[-1]) > 0.2
    await ws.disconnect()


async def test_a_recording_keeps_the_look_in_its_clip(alice, alice_cookie):
    ws = await connected(alice_cookie)
    await start(ws, COLOURFUL, style=await style_id("Film noir"))
    await next_frame(ws)
    await ws.send_json_to({"type": "record", "on": True})
    await frames_after(ws, 4)
    await ws.send_json_to({"type": "record", "on": False})
    recorded = await next_json(ws, "recorded")
    await ws.disconnect()
    generation = await generation_row(recorded["generation"])
    assert generation.settings["look"] == "Film noir"
    assert generation.settings["look_params"]["saturation"] == 0.0


@pytest.mark.parametrize("which", ["bobs", "gone", "huge", "no look"])
async def test_a_style_that_cannot_grade_gets_a_sentence(
    alice, bob, alice_cookie, which
):
    ids = {
        "bobs": lambda: own_style(bob, "Bob's noir", look="Film noir"),
        "gone": None,
        "huge": None,
        "no look": lambda: own_style(alice, "Plain words"),
    }
    chosen = {"gone": 987_654, "huge": 2**40}.get(which)
    if chosen is None:
        chosen = await ids[which]()
    ws = await connected(alice_cookie)
    await ws.send_json_to(
        {
            "type": "start",
            "prompt": COLOURFUL,
            "width": 32,
            "height": 32,
            "style": chosen,
        }
    )
    error = await next_json(ws, "error")
    assert ("no longer exists" in error["error"]) or ("has no look" in error["error"])
    # Nothing started; the socket stays open for a better choice.
    started = await start(ws, COLOURFUL)
    assert started["session"]
    await ws.disconnect()


async def test_choosing_a_style_before_the_start_gets_a_sentence(alice_cookie):
    ws = await connected(alice_cookie)
    await ws.send_json_to({"type": "style", "style": 1})
    assert "Start the stream first" in (await next_json(ws, "error"))["error"]
    await ws.disconnect()


@pytest.mark.parametrize("style", ["noir", 1.5, True, [1]])
async def test_a_style_of_the_wrong_kind_closes_with_4400(alice_cookie, style):
    ws = await connected(alice_cookie)
    await ws.send_json_to({"type": "style", "style": style})
    assert await close_code(ws) == 4400
