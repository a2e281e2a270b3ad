from __future__ import annotations

import io
import json
import wave
import zipfile

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from studio.galleries.models import Gallery
from studio.generations.models import Generation
from studio.generations.uploads import input_dir
from studio.lib.folders import owner_media_dir
from studio.projects.models import Project
from studio.sharing.services import share_link_create
from studio.storyboards import services as storyboards
from studio.storyboards.models import Storyboard
from tests.studio.storyboards.conftest import finished_take

pytestmark = pytest.mark.django_db


def test_the_export_holds_clips_settings_galleries_and_links(
    alice, alice_client, gallery, clip
):
    share_link_create(owner=alice, gallery=gallery, label="Mia")
    clip.__class__.objects.filter(pk=clip.pk).update(starred=True)
    response = alice_client.get("/accounts/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zf:
        names = set(zf.namelist())
        generations = json.loads(zf.read("generations.json"))
        galleries = json.loads(zf.read("galleries.json"))
        links = json.loads(zf.read("share_links.json"))
        assert json.loads(zf.read("account.json"))["username"] == "alice"
    assert len(generations) == 2
    record = next(g for g in generations if g["id"] == str(clip.pk))
    assert record["settings"]["seed"] == clip.seed
    assert record["starred"] is True
    assert [g["starred"] for g in generations if g["id"] != str(clip.pk)] == [False]
    assert record["files"]["video"] in names and record["files"]["poster"] in names
    assert galleries[0]["title"] == "Client picks" and len(galleries[0]["items"]) == 2
    assert links[0]["label"] == "Mia" and "token" not in links[0]


def test_the_export_holds_nothing_of_other_users(alice_client, gallery, bobs_clip):
    response = alice_client.get("/accounts/export/")
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zf:
        assert str(bobs_clip.pk) not in zf.read("generations.json").decode()


def test_an_anonymous_visitor_cannot_export_or_delete(anonymous_client):
    for url in ("/accounts/export/", "/accounts/delete/"):
        response = anonymous_client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_deleting_the_account_removes_its_rows_and_files(
    alice, alice_client, gallery, clip, bobs_clip, django_capture_on_commit_callbacks
):
    from studio.generations.uploads import input_dir

    upload = input_dir(alice.pk) / "start.png"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"png")
    files = [
        settings.MEDIA_ROOT / clip.video,
        settings.MEDIA_ROOT / clip.poster,
        upload,
    ]
    assert all(path.is_file() for path in files)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            "/accounts/delete/", {"password": "a-long-enough-passphrase"}
        )
    assert response.status_code == 302
    assert not User.objects.filter(username="alice").exists()
    assert not Gallery.objects.exists()
    assert list(Generation.objects.all()) == [bobs_clip]
    assert not any(path.exists() for path in files)
    assert (settings.MEDIA_ROOT / bobs_clip.video).is_file()


def test_deleting_needs_the_password(alice_client, alice):
    response = alice_client.post("/accounts/delete/", {"password": "wrong"})
    assert response.status_code == 200
    assert b"not your password" in response.content
    assert User.objects.filter(pk=alice.pk).exists()


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x10\x00\xf0\xff" * int(seconds * rate / 2))
    return buffer.getvalue()


def storyboard_of(owner, title: str) -> Storyboard:
    """A storyboard with two shots, a chosen take, an interactive choice, a
    soundtrack and a continuing shot's first frame on disk."""
    project = Project.objects.create(owner=owner, name=f"{title} project")
    storyboard = storyboards.storyboard_create(
        owner=owner, project=project, title=title, fps=8, width=64, height=64, steps=2
    )
    opening = storyboards.shot_add(
        storyboard=storyboard,
        kind="establishing",
        prompt="a hawk over a green valley",
        duration=1.0,
        caption="Dawn.",
    )
    closing = storyboards.shot_add(
        storyboard=storyboard, prompt="a red ball bouncing", duration=1.0
    )
    storyboards.shot_update(shot=opening, notes="Hold on the ridge.")
    take = finished_take(opening)
    storyboards.take_choose(shot=opening, take=take)
    storyboards.choice_add(shot=opening, label="Follow the ball", target=closing)
    storyboards.soundtrack_set(
        storyboard=storyboard,
        upload=SimpleUploadedFile("theme.wav", wav_bytes(2.0), "audio/wav"),
    )
    frame = storyboards.storyboard_media_dir(storyboard) / f"last-{take.pk}.png"
    frame.write_bytes(b"png")
    storyboard.refresh_from_db()
    return storyboard


def test_the_export_holds_storyboards_with_shots_takes_and_soundtrack(
    alice, alice_client, bob
):
    storyboard = storyboard_of(alice, "The hawk")
    storyboard_of(bob, "Bob's board")
    share_link_create(owner=alice, storyboard=storyboard, label="Client")
    upload = input_dir(alice.pk) / "start.png"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"start frame")

    response = alice_client.get("/accounts/export/")
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zf:
        names = set(zf.namelist())
        [board] = json.loads(zf.read("storyboards.json"))
        links = json.loads(zf.read("share_links.json"))
        soundtrack = zf.read(board["soundtrack"]["file"])
        generations = {g["id"]: g for g in json.loads(zf.read("generations.json"))}
        assert zf.read("inputs/start.png") == b"start frame"

    assert board["id"] == str(storyboard.pk) and board["title"] == "The hawk"
    assert board["project"] == str(storyboard.project_id)
    opening, closing = board["shots"]
    assert opening["kind"] == "establishing"
    assert opening["prompt"] == "a hawk over a green valley"
    assert (opening["caption"], opening["notes"]) == ("Dawn.", "Hold on the ridge.")
    [take] = opening["takes"]
    assert opening["chosen_take"] == take["number"] == 1
    assert take["clip"] in generations
    assert opening["choices"] == [{"label": "Follow the ball", "target": closing["id"]}]
    assert closing["takes"] == [] and closing["chosen_take"] is None
    assert board["soundtrack"]["name"] == "theme.wav"
    assert soundtrack == (settings.MEDIA_ROOT / storyboard.soundtrack).read_bytes()
    assert "Bob's board" not in json.dumps(board)
    [link] = links
    assert link["storyboard"] == str(storyboard.pk) and link["label"] == "Client"
    assert not {"token", "digest"} & set(link)
    assert not any("Bob" in name for name in names)


def test_deleting_the_account_removes_every_file_under_each_of_its_folders(
    alice, alice_client, clip, bob, bobs_clip, django_capture_on_commit_callbacks
):
    storyboard = storyboard_of(alice, "The hawk")
    bobs_board = storyboard_of(bob, "Bob's board")
    upload = input_dir(alice.pk) / "start.png"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"png")
    alice_files = [
        settings.MEDIA_ROOT / clip.video,
        settings.MEDIA_ROOT / storyboard.soundtrack,
        *storyboards.storyboard_media_dir(storyboard).glob("last-*.png"),
        upload,
    ]
    assert all(path.is_file() for path in alice_files)
    alices = owner_media_dir(alice.pk)
    folders = [path for path in settings.MEDIA_ROOT.glob(f"*/{alices}")]
    assert {folder.parent.name for folder in folders} >= {
        "clips",
        "inputs",
        "storyboards",
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            "/accounts/delete/", {"password": "a-long-enough-passphrase"}
        )

    assert response.status_code == 302
    assert not any(path.exists() for path in alice_files)
    assert not list(settings.MEDIA_ROOT.glob(f"*/{alices}"))
    assert (settings.MEDIA_ROOT / bobs_clip.video).is_file()
    assert (settings.MEDIA_ROOT / bobs_board.soundtrack).is_file()
