"""A script with an API token against a live studio, through the production
server: with nothing but that token (no cookie, no CSRF token) it queues
clips, follows one on the websocket, cancels, stars, lists and deletes, and
downloads what the API points it to (the MP4, its poster, a rendered
storyboard's captions), checking that each is what it claims to be."""

from __future__ import annotations

import asyncio
import io
import json
import struct
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import av
import pytest
import websockets
from PIL import Image

from tests.browser.conftest import PASSWORD, RENDERING, live_manage

# Run again on PostgreSQL + Redis: its clips' live events cross the Redis layer.
pytestmark = [pytest.mark.browser, pytest.mark.backends]

FINISHED = ("succeeded", "failed", "cancelled")
PREVIEW = 1
# The clip followed from start to end: small, so that it renders in moments.
CLIP = {"prompt": "a red ball bouncing to the right", "num_frames": 8,
        "width": 64, "height": 64, "steps": 3, "seed": 7}  # fmt: skip
# A clip long enough to still be rendering while the script looks at the one
# queued behind it; the script cancels it.
LONG = {"prompt": "a blue box spinning", "num_frames": 48, "width": 256,
        "height": 256, "steps": 100}  # fmt: skip


def call(
    url: str,
    token: str | None,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, headers=sent, method=method)
    try:
        with urllib.request.urlopen(req, timeout=RENDERING / 1000) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read()


class Client:
    """What a third-party script keeps: the studio's address and a token."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        raw = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if raw is not None else {}
        status, _, answer = call(self.base + path, self.token, method, raw, headers)
        return status, json.loads(answer) if answer else None

    def upload(
        self, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]]
    ) -> tuple[int, Any]:
        boundary = "studio-script-boundary"
        parts = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                f"\r\n\r\n{value}\r\n".encode()
            )
        for name, (filename, data) in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: application/octet-stream'
                "\r\n\r\n".encode()
                + data
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        status, _, answer = call(self.base + path, self.token, "POST", body, headers)
        return status, json.loads(answer)

    def download(self, url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        return call(self.base + url, self.token, headers=headers)

    def follow(
        self, ws_url: str, once_connected: Callable[[], None] | None = None
    ) -> tuple[list[dict], list[tuple[dict, bytes]]]:
        """Every JSON event and every preview of a job, from the ``state``
        sent on connecting to the event that ends it; ``once_connected`` runs
        when that first ``state`` has come."""
        url = self.base.replace("http://", "ws://") + f"{ws_url}?token={self.token}"
        following = _follow(url, once_connected)
        return asyncio.run(asyncio.wait_for(following, timeout=RENDERING / 1000))


async def _follow(
    url: str, once_connected: Callable[[], None] | None = None
) -> tuple[list[dict], list[tuple[dict, bytes]]]:
    events: list[dict] = []
    previews: list[tuple[dict, bytes]] = []
    async with websockets.connect(url, open_timeout=RENDERING / 1000) as socket:
        async for message in socket:
            if isinstance(message, bytes):
                kind, length = struct.unpack(">II", message[:8])
                assert kind == PREVIEW
                header = json.loads(message[8 : 8 + length])
                previews.append((header, message[8 + length :]))
                continue
            event = json.loads(message)
            events.append(event)
            if event["type"] in FINISHED or (
                event["type"] == "state" and event["status"] in FINISHED
            ):
                return events, previews
            if once_connected is not None and len(events) == 1:
                # Messages keep arriving in the socket's buffer meanwhile.
                await asyncio.to_thread(once_connected)
    raise AssertionError("the socket closed before the job ended")


def new_token(env: dict[str, str], username: str) -> str:
    live_manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User;"
        f"User.objects.create_user('{username}', password='{PASSWORD}')",
    )
    return live_manage(env, "apitoken", username).strip().splitlines()[-1]


@pytest.fixture(scope="module")
def script(live_studio, live_studio_env) -> Client:
    return Client(live_studio, new_token(live_studio_env, "scripter"))


@pytest.fixture(scope="module")
def stranger(live_studio, live_studio_env) -> Client:
    return Client(live_studio, new_token(live_studio_env, "stranger"))


def test_a_token_script_queues_watches_and_downloads_its_clip(script, stranger):
    status, long = script.api("POST", "/api/generations", LONG)
    assert status == 201, long
    status, clip = script.api("POST", "/api/generations", CLIP)
    assert status == 201, clip
    assert clip["status"] == "queued" and clip["settings"]["num_frames"] == 8
    assert [item["id"] for item in clip["batch"]] == [clip["id"]]
    status, listed = script.api("GET", "/api/generations?status=active")
    assert [g["id"] for g in listed["results"]] == [long["id"], clip["id"]]

    # The clip waits behind the long one; once the script is watching, it
    # cancels the long one and its own clip renders.
    def cancel_the_long_one() -> None:
        status, cancelled = script.api("POST", f"/api/generations/{long['id']}/cancel")
        assert status == 200 and cancelled["status"] in ("running", "cancelled")

    events, previews = script.follow(clip["ws_url"], cancel_the_long_one)
    assert events[0]["status"] == "queued"
    kinds = [event["type"] for event in events]
    assert kinds[0] == "state" and kinds[-1] == "succeeded", kinds
    assert "started" in kinds
    steps = [event["step"] for event in events if event["type"] == "progress"]
    assert steps == sorted(set(steps)) and steps[-1] == CLIP["steps"]
    assert previews, "no preview reached the script"
    for header, image in previews:
        assert header["generation"] == clip["id"]
        assert header["frames"] == CLIP["num_frames"] and header["layout"] == "strip"
        strip = Image.open(io.BytesIO(image))
        assert strip.size == (header["frames"] * header["width"], header["height"])
    end, _ = script.follow(long["ws_url"])
    assert end[-1].get("status", end[-1]["type"]) == "cancelled"

    status, done = script.api("GET", f"/api/generations/{clip['id']}")
    assert status == 200 and done["status"] == "succeeded"
    assert done["video_url"] == events[-1]["video_url"]

    status, headers, video = script.download(done["video_url"])
    assert status == 200 and headers["Content-Type"] == "video/mp4"
    with av.open(io.BytesIO(video)) as container:
        frames = [
            frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)
        ]
    assert len(frames) == CLIP["num_frames"]
    assert frames[0].shape == (CLIP["height"], CLIP["width"], 3)
    status, headers, part = script.download(done["video_url"], Range="bytes=0-99")
    assert status == 206 and part == video[:100]

    status, _, poster = script.download(done["poster_url"])
    assert status == 200
    with Image.open(io.BytesIO(poster)) as image:
        image.load()
        assert image.size == (CLIP["width"], CLIP["height"])

    # Without the token, or with another creator's, the same URLs are not there.
    assert call(script.base + done["video_url"], None)[0] == 404
    assert stranger.download(done["poster_url"])[0] == 404
    assert stranger.api("GET", f"/api/generations/{clip['id']}")[0] == 404


def test_a_token_script_stars_lists_and_deletes(script):
    status, clip = script.api("POST", "/api/generations", CLIP)
    assert status == 201
    status, starred = script.api(
        "PATCH", f"/api/generations/{clip['id']}", {"starred": True}
    )
    assert status == 200 and starred["starred"] is True
    _, listed = script.api("GET", "/api/generations?starred=true")
    assert [g["id"] for g in listed["results"]] == [clip["id"]]
    status, refused = script.api(
        "PATCH", f"/api/generations/{clip['id']}", {"prompt": "rewritten"}
    )
    assert status == 400 and refused["errors"]["prompt"] == ["Unknown field."]

    events, _ = script.follow(clip["ws_url"])
    assert events[-1].get("status", events[-1]["type"]) == "succeeded"
    _, done = script.api("GET", f"/api/generations/{clip['id']}")
    status, _ = script.api("DELETE", f"/api/generations/{clip['id']}")
    assert status == 204
    assert script.api("GET", f"/api/generations/{clip['id']}")[0] == 404
    assert script.download(done["video_url"])[0] == 404


def test_a_token_script_uploads_through_the_production_server(script):
    buffer = io.BytesIO()
    Image.new("RGB", (80, 64), (200, 30, 30)).save(buffer, format="PNG")
    settings = json.dumps({"prompt": "the ball rolls away", "steps": 2})
    status, answer = script.upload(
        "/api/generations",
        {"settings": settings},
        {"image": ("start.png", buffer.getvalue())},
    )
    # The built-in model makes video from text only: the engine says so, and
    # the upload is read, checked and refused without a server error.
    assert status == 400, answer
    assert "does not take an image" in answer["errors"]["image"][0]
    status, answer = script.upload(
        "/api/generations", {"settings": settings, "strength": "7"}, {}
    )
    assert status == 400 and "at most 1" in answer["errors"]["strength"][0]


def test_a_token_script_downloads_a_rendered_storyboards_captions(script, stranger):
    status, board = script.api("POST", "/api/storyboards", {"title": "Dawn"})
    assert status == 201, board
    url = f"/api/storyboards/{board['id']}"
    looks = {"fps": 8, "width": 64, "height": 64, "steps": 2}
    assert script.api("PATCH", url, looks)[0] == 200
    shot = {"type": "establishing", "prompt": "a red ball bouncing to the right",
            "duration": 1, "caption": "Dawn over the field."}  # fmt: skip
    status, added = script.api("POST", f"{url}/shots", shot)
    assert status == 201, added

    status, queued = script.api("POST", f"{url}/generate")
    assert status == 202, queued
    for take in queued["takes"]:
        events, _ = script.follow(take["ws_url"])
        assert events[-1].get("status", events[-1]["type"]) == "succeeded"
    status, job = script.api("POST", f"{url}/render")
    assert status == 202, job
    events, _ = script.follow(job["ws_url"])
    assert events[-1].get("status", events[-1]["type"]) == "succeeded"

    _, cut = script.api("GET", f"/api/generations/{job['id']}")
    status, headers, captions = script.download(cut["captions_url"])
    assert status == 200
    text = captions.decode()
    assert text.startswith("WEBVTT") and "Dawn over the field." in text
    status, _, video = script.download(cut["video_url"])
    with av.open(io.BytesIO(video)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 8
    assert call(script.base + cut["captions_url"], None)[0] == 404
    assert stranger.download(cut["captions_url"])[0] == 404
