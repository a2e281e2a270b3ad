from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from studio.galleries.models import Gallery
from studio.generations.models import Generation
from studio.sharing.services import share_link_create

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
