"""Image and video inputs: checked, decoded, re-encoded and kept private."""

from __future__ import annotations

import io
import json
import struct
import zlib

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from generation import adapters, encode
from generation.tiny_models import save_tiny
from studio.generations import uploads
from studio.generations.models import Generation
from studio.lib.folders import owner_media_dir
from studio.registry.models import RegisteredModel
from studio.registry.services import registry_sync

pytestmark = pytest.mark.django_db


def png(width=80, height=64, colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def bomb_png(width=50_000, height=50_000) -> bytes:
    """A PNG whose header claims a huge image; decoding it would exhaust memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def mp4(tmp_path, frames=12, size=64, fps=8) -> bytes:
    clip = np.zeros((frames, size, size, 3), np.uint8)
    clip[..., 1] = np.linspace(0, 255, frames, dtype=np.uint8)[:, None, None]
    return encode.write_video(clip, tmp_path / "in.mp4", fps=fps).read_bytes()


def test_an_image_is_re_encoded_as_png_in_the_owners_folder(alice, settings):
    from PIL.PngImagePlugin import PngInfo

    extra = PngInfo()
    extra.add_text("Comment", "<script>alert(1)</script>")
    buffer = io.BytesIO()
    Image.new("RGB", (80, 64), (200, 30, 30)).save(buffer, "PNG", pnginfo=extra)
    data = buffer.getvalue()
    stored = uploads.store_image(io.BytesIO(data), owner_id=alice.pk)
    assert stored.path.suffix == ".png"
    assert stored.path.parent == settings.MEDIA_ROOT / "inputs" / owner_media_dir(
        alice.pk
    )
    assert b"<script>" not in stored.path.read_bytes()
    assert Image.open(stored.path).size == (80, 64)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a not really", "could not be read"),
        (bomb_png(), "megapixels"),
        (b"%PDF-1.4", "could not be read"),
    ],
)
def test_unsafe_or_unreadable_images_are_refused(alice, data, message):
    with pytest.raises(uploads.UploadError, match=message):
        uploads.store_image(io.BytesIO(data), owner_id=alice.pk)


def test_an_oversized_file_is_refused_before_decoding(alice, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_IMAGE_BYTES", 100)
    with pytest.raises(uploads.UploadError, match="larger than"):
        uploads.store_image(io.BytesIO(png()), owner_id=alice.pk)


def test_a_video_is_re_encoded_and_its_frames_counted(alice, tmp_path):
    stored = uploads.store_video(
        io.BytesIO(mp4(tmp_path, frames=12)), owner_id=alice.pk
    )
    assert stored.path.suffix == ".mp4"
    assert stored.frames == 12
    assert encode.probe_video(stored.path)["frames"] == 12


def test_a_long_video_is_refused(alice, tmp_path, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_VIDEO_SECONDS", 1)
    with pytest.raises(uploads.UploadError, match="lasts"):
        uploads.store_video(io.BytesIO(mp4(tmp_path, frames=24)), owner_id=alice.pk)


def test_a_file_that_is_not_a_video_is_refused(alice):
    with pytest.raises(uploads.UploadError, match="MP4"):
        uploads.store_video(io.BytesIO(png()), owner_id=alice.pk)
    with pytest.raises(uploads.UploadError, match="could not be read"):
        uploads.store_video(io.BytesIO(b"\x00" * 100), owner_id=alice.pk)


@pytest.fixture(scope="module")
def model_folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {
        "i2v": save_tiny("wan", root / "wan-i2v", "i2v"),
        "v2v": save_tiny("animatediff", root / "ad-v2v", "v2v"),
    }


@pytest.fixture
def models(model_folders):
    call_command("models", "add", "wan-i2v", "--family", "wan", "--task", "i2v",
                 "--path", str(model_folders["i2v"]))  # fmt: skip
    call_command("models", "add", "ad-v2v", "--family", "animatediff", "--task",
                 "v2v", "--path", str(model_folders["v2v"]))  # fmt: skip
    yield
    RegisteredModel.objects.all().delete()
    registry_sync()
    adapters.unload()


SETTINGS = {"prompt": "the ball rolls away", "num_frames": 9, "width": 64,
            "height": 64, "steps": 2}  # fmt: skip


def multipart(client, settings_data, **files):
    return client.post(
        "/api/generations",
        {"settings": json.dumps(settings_data), **files},
    )


def test_the_api_takes_a_start_image_for_an_image_to_video_model(alice_client, models):
    image = SimpleUploadedFile("start.png", png(), content_type="image/png")
    response = multipart(alice_client, {**SETTINGS, "model": "wan-i2v"}, image=image)
    assert response.status_code == 201, response.content
    generation = Generation.objects.get(pk=response.json()["id"])
    path = generation.settings["image_path"]
    assert path.endswith(".png") and "/inputs/" in path
    assert Image.open(path).format == "PNG"


def test_the_api_takes_a_source_video_and_a_strength(alice_client, models, tmp_path):
    video = SimpleUploadedFile("in.mp4", mp4(tmp_path), content_type="video/mp4")
    body = {**SETTINGS, "model": "ad-v2v", "strength": 0.4}
    response = multipart(alice_client, body, video=video)
    assert response.status_code == 201, response.content
    settings = response.json()["settings"]
    assert settings["strength"] == 0.4
    assert settings["video_path"].endswith(".mp4")
    assert "/" not in settings["video_path"]  # no server path leaks to the client


def test_an_image_to_video_model_without_an_image_is_a_400(alice_client, models):
    response = alice_client.post(
        "/api/generations",
        json.dumps({**SETTINGS, "model": "wan-i2v"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "image" in response.json()["errors"]


def test_an_image_for_a_text_model_is_refused_and_not_kept(
    alice, alice_client, settings
):
    image = SimpleUploadedFile("start.png", png(), content_type="image/png")
    response = multipart(alice_client, {**SETTINGS, "model": "builtin"}, image=image)
    assert response.status_code == 400
    assert "does not take an image" in response.json()["errors"]["image"][0]
    folder = settings.MEDIA_ROOT / "inputs" / owner_media_dir(alice.pk)
    assert not any(folder.glob("*")) if folder.exists() else True


def test_a_video_shorter_than_the_clip_is_refused(alice_client, models, tmp_path):
    video = SimpleUploadedFile(
        "in.mp4", mp4(tmp_path, frames=4), content_type="video/mp4"
    )
    response = multipart(alice_client, {**SETTINGS, "model": "ad-v2v"}, video=video)
    assert response.status_code == 400
    assert "holds 4 frames" in response.json()["errors"]["video"][0]


def test_a_path_cannot_be_smuggled_in_as_a_setting(alice_client, models):
    body = {**SETTINGS, "model": "wan-i2v", "image_path": "/etc/passwd"}
    response = alice_client.post(
        "/api/generations", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["image_path"] == ["Unknown field."]


def test_the_project_form_takes_a_start_image(alice, alice_client, models):
    from studio.projects.models import Project

    project = Project.objects.create(owner=alice, name="Shots")
    response = alice_client.post(
        f"/projects/{project.pk}/generate/",
        {"prompt": "the ball rolls away", "model": "wan-i2v", "duration": "1.125",
         "fps": 8, "aspect": "1:1", "size": "64", "steps": 2, "guidance": 3,
         "variations": 1, "strength": 0.7,
         "image": SimpleUploadedFile("s.png", png(), content_type="image/png")},
    )  # fmt: skip
    assert response.status_code in (200, 302), response.content.decode()[:1500]
    generation = Generation.objects.get(project=project)
    assert generation.settings["image_path"].endswith(".png")
    page = alice_client.get(generation.get_absolute_url()).content.decode()
    assert "Start image" in page
