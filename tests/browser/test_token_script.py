"""A script with an API token against a live studio: it queues a clip, watches
it on the websocket and downloads what the API points it to, with nothing but
that token."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest
import websockets

from tests.browser.conftest import RENDERING, live_manage

pytestmark = [pytest.mark.browser]


def request(url: str, token: str, body: dict | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=RENDERING / 1000) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


async def watch_until_done(ws_url: str) -> dict:
    async with websockets.connect(ws_url, open_timeout=RENDERING / 1000) as socket:
        async for message in socket:
            if isinstance(message, bytes):
                continue
            event = json.loads(message)
            status = event.get("status") if event["type"] == "state" else None
            if event["type"] in ("succeeded", "failed", "cancelled") or status in (
                "succeeded",
                "failed",
                "cancelled",
            ):
                return event
    raise AssertionError("the socket closed before the clip ended")


def test_a_token_script_queues_watches_and_downloads_its_clip(
    live_studio, live_studio_env
):
    env = live_studio_env
    live_manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User;"
        "User.objects.create_user('scripter', password='a-long-enough-passphrase')",
    )
    token = live_manage(env, "apitoken", "scripter").strip().splitlines()[-1]
    status, body = request(
        f"{live_studio}/api/generations",
        token,
        {
            "prompt": "a red ball bouncing to the right",
            "steps": 2,
            "width": 64,
            "height": 64,
            "num_frames": 8,
        },
    )
    assert status == 201, body
    clip = json.loads(body)
    ws_url = live_studio.replace("http://", "ws://") + clip["ws_url"]
    end = asyncio.run(watch_until_done(f"{ws_url}?token={token}"))
    assert "succeeded" in (end["type"], end.get("status")), end

    status, body = request(f"{live_studio}/api/generations/{clip['id']}", token)
    done = json.loads(body)
    assert done["status"] == "succeeded"
    status, video = request(live_studio + done["video_url"], token)
    assert status == 200
    assert video[4:8] == b"ftyp"
    status, poster = request(live_studio + done["poster_url"], token)
    assert status == 200
    assert poster[:2] == b"\xff\xd8"
    # Without the token, or with another user's, the same URLs are not there.
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(live_studio + done["video_url"], timeout=60)
    assert missing.value.code == 404
