"""A script with an API token makes a storyboard against a live studio: three
shots, a take of each, the cut, and its captions, with nothing but that token
(no cookie, no CSRF token)."""

from __future__ import annotations

import asyncio
import io
import json
import re
import urllib.error
import urllib.request
from typing import Any

import av
import pytest
import websockets

from tests.browser.conftest import PASSWORD, RENDERING, live_manage

pytestmark = [pytest.mark.browser]

FPS = 8
SHOTS = [
    ("establishing", "a red ball bouncing to the right", 1.0, "Dawn."),
    ("close-up", "a yellow star drifting left", 1.5, "The star."),
    ("reaction", "a blue box spinning", 1.0, "Look!"),
]
FINISHED = ("succeeded", "failed", "cancelled")
MISSING = "Shots 1, 2, 3 need a finished take first: generate the missing shots."


def call(
    url: str, token: str, method: str = "GET", body: dict | None = None
) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=RENDERING / 1000) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def api(
    base: str, token: str, method: str, path: str, body: dict | None = None
) -> tuple[int, Any]:
    status, raw = call(base + path, token, method, body)
    return status, json.loads(raw) if raw else None


async def until_finished(ws_url: str) -> dict:
    """The job's last word on the websocket: its first ``state`` when it had
    already ended, else the event that ended it."""
    async with websockets.connect(ws_url, open_timeout=RENDERING / 1000) as socket:
        async for message in socket:
            if isinstance(message, bytes):
                continue  # a preview
            event = json.loads(message)
            if event["type"] in FINISHED:
                return {**event, "status": event["type"]}
            if event["type"] == "state" and event["status"] in FINISHED:
                return event
    raise AssertionError("the socket closed before the job ended")


def wait_for(base: str, token: str, ws_url: str) -> dict:
    socket = base.replace("http://", "ws://") + f"{ws_url}?token={token}"
    return asyncio.run(
        asyncio.wait_for(until_finished(socket), timeout=RENDERING / 1000)
    )


@pytest.fixture(scope="module")
def token(live_studio, live_studio_env) -> str:
    live_manage(
        live_studio_env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User;"
        f"User.objects.create_user('boarder', password='{PASSWORD}')",
    )
    return live_manage(live_studio_env, "apitoken", "boarder").strip().splitlines()[-1]


def a_storyboard_with_three_shots(base: str, token: str, title: str) -> dict:
    status, board = api(base, token, "POST", "/api/storyboards", {"title": title})
    assert status == 201, board
    url = f"/api/storyboards/{board['id']}"
    settings = {"fps": FPS, "width": 64, "height": 64, "steps": 2}
    status, board = api(base, token, "PATCH", url, settings)
    assert status == 200, board
    for kind, prompt, seconds, caption in SHOTS:
        shot = {"type": kind, "prompt": prompt, "duration": seconds, "caption": caption}
        status, added = api(base, token, "POST", f"{url}/shots", shot)
        assert status == 201, added
    return board


def test_the_cut_is_refused_while_shots_have_no_take(live_studio, token):
    board = a_storyboard_with_three_shots(live_studio, token, "Not yet")
    path = f"/api/storyboards/{board['id']}/render"
    status, answer = api(live_studio, token, "POST", path)
    assert status == 409
    assert answer == {"error": MISSING}


def test_a_token_script_makes_a_storyboard_and_downloads_its_cut(live_studio, token):
    base = live_studio
    board = a_storyboard_with_three_shots(base, token, "The ball")
    url = f"/api/storyboards/{board['id']}"

    status, queued = api(base, token, "POST", f"{url}/generate")
    assert status == 202, queued
    _, shots = api(base, token, "GET", f"{url}/shots")
    assert [t["shot"] for t in queued["takes"]] == [s["id"] for s in shots["shots"]]
    for take in queued["takes"]:
        assert wait_for(base, token, take["ws_url"])["status"] == "succeeded"
    # Every shot has a take now: nothing is missing, and the cut uses them.
    status, again = api(base, token, "POST", f"{url}/generate")
    assert (status, again) == (200, {"generations": [], "takes": []})
    _, board = api(base, token, "GET", url)
    assert [s["take"] for s in board["shots"]] == queued["generations"]

    status, job = api(base, token, "POST", f"{url}/render")
    assert status == 202, job
    assert job["storyboard"] == board["id"]
    assert wait_for(base, token, job["ws_url"])["status"] == "succeeded"
    _, cut = api(base, token, "GET", f"/api/generations/{job['id']}")
    assert cut["status"] == "succeeded"

    status, video = call(base + cut["video_url"], token)
    assert status == 200
    with av.open(io.BytesIO(video)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        seconds = float(stream.duration * stream.time_base)
    total = sum(length for _, _, length, _ in SHOTS)
    assert frames == round(total * FPS)
    assert abs(seconds - total) <= 1 / FPS

    status, captions = call(base + cut["captions_url"], token)
    assert status == 200
    cues = re.findall(r"(\S+) --> (\S+)\n(.+)", captions.decode())
    assert cues == [
        ("00:00:00.000", "00:00:01.000", "Dawn."),
        ("00:00:01.000", "00:00:02.500", "The star."),
        ("00:00:02.500", "00:00:03.500", "Look!"),
    ]
    # Without the token the cut is not there.
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(base + cut["captions_url"], timeout=60)
    assert missing.value.code == 404
