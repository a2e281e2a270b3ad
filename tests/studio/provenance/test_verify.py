"""The public verify page and POST /api/verify, on real clips the studio
wrote, copies of them, and hostile uploads."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from generation import attacks, encode
from generation.builtin import world
from generation.credentials import sign_video
from generation.specs import GenerationSpec
from studio.generations.store import output_dir
from studio.lib.credentials import studio_credentials
from studio.provenance import verify as verify_module
from studio.sharing.preparer import preparer
from studio.sharing.services import share_link_create

pytestmark = pytest.mark.django_db

SPEC = GenerationSpec(
    prompt="a yellow star drifting left over a night sky", num_frames=24
)


def built_in_frames(seed: int = 5, frames: int = 24) -> np.ndarray:
    return world.render(world.sample_params(random.Random(seed)), frames, 256)


@pytest.fixture
def clip(generation) -> Path:
    """A clip as the studio writes it: in its folder, marked and signed."""
    folder = output_dir(generation)
    folder.mkdir(parents=True)
    path = encode.write_video(built_in_frames(), folder / "clip.mp4", fps=8)
    sign_video(path, spec=SPEC, credentials=studio_credentials())
    return path


def upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def check(client, file) -> tuple[int, dict]:
    response = client.post("/api/verify", {"file": file})
    return response.status_code, response.json()


def test_a_marked_clip_is_made_with_this_studio_with_valid_credentials(
    anonymous_client, clip
):
    status, body = check(anonymous_client, upload(clip))
    assert status == 200, body
    assert body["credentials"]["status"] == "valid"
    assert body["credentials"]["ai_generated"] is True
    assert body["credentials"]["signer"]
    assert body["watermark"]["found"] is True
    assert body["watermark"]["this_studio"] is True
    assert body["watermark"]["confidence"] > 0.9
    # Not shared: which clip stays private.
    assert body["watermark"]["clip"] is None
    assert body["summary"].startswith("Made with this studio, AI-generated.")


def test_a_shared_clip_is_named(anonymous_client, clip, generation, alice, settings):
    poster = encode.write_poster(built_in_frames(), clip.with_suffix(".jpg"))
    generation.status = generation.Status.SUCCEEDED
    generation.video = str(clip.relative_to(settings.MEDIA_ROOT))
    generation.poster = str(poster.relative_to(settings.MEDIA_ROOT))
    generation.save()
    _, token = share_link_create(owner=alice, generation=generation)
    status, body = check(anonymous_client, upload(clip))
    assert status == 200
    assert body["watermark"]["clip"]["id"] == str(generation.pk)
    assert body["watermark"]["clip"]["shared"] is True
    # The share page names both layers.
    page = anonymous_client.get(f"/s/{token}/")
    assert b'data-testid="watermark-line"' in page.content
    assert page.status_code == 200
    assert preparer.wait_idle(120)


def test_a_reencoded_clip_loses_its_credentials_but_keeps_the_watermark(
    anonymous_client, clip, tmp_path
):
    copy = attacks.reencode(clip, tmp_path / "copy.mp4")
    status, body = check(anonymous_client, upload(copy))
    assert status == 200
    assert body["credentials"]["status"] == "absent"
    assert body["watermark"]["found"] is True
    assert body["watermark"]["this_studio"] is True
    assert "stripped" in body["summary"]


def test_a_tampered_clip_has_invalid_credentials(anonymous_client, clip, tmp_path):
    data = bytearray(clip.read_bytes())
    mdat = data.find(b"mdat")
    assert mdat > 0
    spot = mdat + 4000  # inside the coded frames
    data[spot] ^= 0x01
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    status, body = check(anonymous_client, upload(tampered))
    assert status == 200
    assert body["credentials"]["status"] == "tampered"
    assert "changed" in body["summary"]


def test_an_unmarked_clip_says_so(anonymous_client, tmp_path):
    path = encode.write_video(
        built_in_frames(seed=9), tmp_path / "plain.mp4", fps=8, watermark=None
    )
    status, body = check(anonymous_client, upload(path))
    assert status == 200
    assert body["watermark"]["found"] is False
    assert body["credentials"]["status"] == "absent"
    assert body["summary"].startswith("No sign of this studio")


def test_an_exported_gif_keeps_the_watermark(anonymous_client, clip, tmp_path):
    from generation import exports

    gif = exports.export_clip(clip, "gif", tmp_path / "clip.gif")
    status, body = check(anonymous_client, upload(gif))
    assert status == 200
    assert body["file"]["kind"] == "image"
    assert body["watermark"]["found"] is True


def test_the_page_reads_in_plain_words_logged_out(anonymous_client, clip, tmp_path):
    page = anonymous_client.get("/verify/")
    assert page.status_code == 200
    assert b'type="file"' in page.content
    copy = attacks.reencode(clip, tmp_path / "copy.mp4")
    response = anonymous_client.post("/verify/", {"file": upload(copy)})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Made with this studio, AI-generated." in text
    assert "Absent: the file carries none." in text
    assert response["Cache-Control"] == "no-store"


def _png_header(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (8, 8)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    # The IHDR's width and height, claimed huge (the CRC no longer matches).
    data[16:24] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    return bytes(data)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("empty.mp4", b"", "empty"),
        ("noise.mp4", bytes(range(256)) * 64, "could not be read"),
        ("bomb.png", _png_header(60000, 60000), ""),
        ("page.html", b"<html><script>alert(1)</script></html>", ""),
        ("truncated.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100, ""),
    ],
)
def test_hostile_uploads_are_refused_in_words(anonymous_client, name, content, words):
    status, body = check(anonymous_client, SimpleUploadedFile(name, content))
    assert status == 400, body
    assert words in body["errors"]["file"][0]
    page = anonymous_client.post(
        "/verify/", {"file": SimpleUploadedFile(name, content)}
    )
    assert page.status_code == 400
    assert b'data-testid="verify-error"' in page.content


def test_a_video_too_large_in_pixels_is_refused_before_decoding(
    anonymous_client, tmp_path
):
    frames = np.zeros((1, 2160, 3840, 3), np.uint8)
    path = encode.write_video(frames, tmp_path / "big.mp4", fps=8, watermark=None)
    status, body = check(anonymous_client, upload(path))
    assert status == 400
    assert "megapixels" in body["errors"]["file"][0]


def test_uploads_over_the_limit_are_refused(anonymous_client, monkeypatch):
    monkeypatch.setattr(verify_module, "MAX_BYTES", 1000)
    status, body = check(anonymous_client, SimpleUploadedFile("a.mp4", b"x" * 2000))
    assert status == 400
    assert "larger than" in body["errors"]["file"][0]


def test_no_file_is_a_sentence(anonymous_client):
    response = anonymous_client.post("/verify/", {})
    assert response.status_code == 400
    assert b"Choose a video or an image" in response.content
    api = anonymous_client.post("/api/verify", {})
    assert api.status_code == 400
    assert "error" in api.json() or "errors" in api.json()


def test_nothing_uploaded_is_kept(anonymous_client, clip, settings, tmp_path):
    before = sorted(Path(settings.MEDIA_ROOT).rglob("*"))
    check(anonymous_client, upload(clip))
    anonymous_client.post("/verify/", {"file": upload(clip)})
    assert sorted(Path(settings.MEDIA_ROOT).rglob("*")) == before


def test_checks_are_rate_limited_per_address(anonymous_client, settings):
    settings.STUDIO_VERIFY_RATE_LIMIT = 2
    for _ in range(2):
        assert anonymous_client.get("/verify/").status_code == 200
    assert anonymous_client.get("/verify/").status_code == 429
    api = anonymous_client.post("/api/verify", {"file": SimpleUploadedFile("a", b"")})
    assert api.status_code == 429
    assert json.loads(api.content)["error"].startswith("Too many checks")


def test_the_studio_id_is_configurable_and_checked(settings, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    from studio.provenance.identity import payload_for, studio_id

    settings.STUDIO_WATERMARK_ID = "5eed1234"
    clip = tmp_path / ("ab" * 16) / "clip.mp4"
    assert payload_for(clip).studio == 0x5EED1234
    assert payload_for(clip).clip == 0xABABABAB
    assert payload_for(tmp_path / "exports" / "x.mp4").clip == 0
    settings.STUDIO_WATERMARK_ID = "not hex"
    with pytest.raises(ImproperlyConfigured):
        studio_id()


def test_a_body_declared_over_the_limit_is_refused_before_it_is_read(anonymous_client):
    """A 200 MB upload to the API is answered from its Content-Length: nothing
    is parsed. (The page's forms are parsed, to disk, by the studio's
    middleware; the server refuses bodies over 71 MB before that.)"""
    declared = str(200 * 1024 * 1024)
    body = b"--x\r\nContent-Disposition: form-data; name=file; filename=a.mp4\r\n\r\n"
    for path in ("/api/verify",):
        response = anonymous_client.generic(
            "POST",
            path,
            body,
            content_type="multipart/form-data; boundary=x",
            CONTENT_LENGTH=declared,
        )
        assert response.status_code == 413, (path, response.content[:200])
