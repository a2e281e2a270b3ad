"""A visitor's request only serves files made beforehand: prompt-free copies
when a link is made or a clip joins a shared gallery, slow downloads by the
background preparer, one job per file at a time, in a bounded queue."""

from __future__ import annotations

import io
import threading
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from generation import exports
from studio.galleries.services import (
    export_target,
    gallery_delete,
    gallery_item_add,
    gallery_media_dir,
    gallery_update,
    private_copy_path,
)
from studio.sharing.preparer import preparer
from studio.sharing.services import share_link_create
from tests.studio.galleries.conftest import make_clip
from tests.studio.sharing.conftest import PREPARED_WITHIN, get_prepared

pytestmark = pytest.mark.django_db

VISITORS = ["anonymous_client", "bob_client"]


def media_files() -> dict[str, tuple[int, int]]:
    """Every file under the media root with its mtime and size."""
    root = Path(settings.MEDIA_ROOT)
    return {
        path.relative_to(root).as_posix(): (
            path.stat().st_mtime_ns,
            path.stat().st_size,
        )
        for path in root.rglob("*")
        if path.is_file()
    }


@pytest.fixture
def shared(alice, gallery):
    """A link to a gallery that keeps its prompts (the default)."""
    _, token = share_link_create(owner=alice, gallery=gallery)
    return token


@pytest.fixture
def held_preparer():
    """The preparer busy with a job that ends when the test says so, so that
    what a request queues stays queued while the test looks."""
    gate, started = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        gate.wait(PREPARED_WITHIN)

    assert preparer.submit("test:hold", hold)
    assert started.wait(PREPARED_WITHIN)
    yield gate
    gate.set()


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


# -- prompt-free copies are made before any visitor asks ---------------------------


@pytest.mark.parametrize("visitor", VISITORS)
def test_a_visitor_of_a_prepared_share_writes_no_file_and_signs_nothing(
    request, visitor, shared, clip, other_clip
):
    client = request.getfixturevalue(visitor)
    before = media_files()
    urls = [f"/s/{shared}/", f"/s/{shared}/?page=2"]
    for generation in (clip, other_clip):
        base = f"/s/{shared}/clips/{generation.pk}"
        urls += [f"{base}/video", f"{base}/poster", f"{base}/download/mp4"]
    for url in urls:
        assert client.get(url).status_code == 200, url
    response = client.get(f"/s/{shared}/clips/{clip.pk}/video", HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206
    assert media_files() == before
    assert preparer.pending() == []


def test_making_a_gallery_link_prepares_the_copies_its_page_plays(alice, gallery):
    clips = [item.generation for item in gallery.items.all()]
    assert not any(private_copy_path(c).is_file() for c in clips)
    share_link_create(owner=alice, gallery=gallery)
    assert all(private_copy_path(c).is_file() for c in clips)


def test_making_a_clip_link_prepares_its_prompt_free_copy(alice, clip):
    share_link_create(owner=alice, generation=clip)
    assert private_copy_path(clip).is_file()


def test_a_gallery_that_shows_its_prompts_needs_no_copies(alice, gallery):
    gallery_update(gallery=gallery, show_prompts=True)
    share_link_create(owner=alice, gallery=gallery)
    assert not any(
        private_copy_path(i.generation).is_file() for i in gallery.items.all()
    )


def test_a_clip_added_to_a_shared_gallery_is_prepared_before_any_visitor(
    alice, shared, gallery, anonymous_client
):
    newcomer = make_clip(alice, prompt="a green kite rising")
    gallery_item_add(gallery=gallery, generation=newcomer)
    assert private_copy_path(newcomer).is_file()
    before = media_files()
    response = anonymous_client.get(f"/s/{shared}/clips/{newcomer.pk}/video")
    assert response.status_code == 200
    assert media_files() == before


def test_clips_added_from_the_clips_page_are_prepared_too(
    alice, alice_client, shared, gallery
):
    newcomers = [make_clip(alice, prompt=f"a kite number {n}") for n in range(2)]
    alice_client.post(
        "/clips/bulk/",
        {"action": "gallery", "gallery": gallery.pk, "clip": [c.pk for c in newcomers]},
    )
    assert gallery.items.count() == 4
    assert all(private_copy_path(c).is_file() for c in newcomers)


def test_hiding_the_prompts_of_a_shared_gallery_prepares_its_copies(
    alice, gallery, clip
):
    gallery_update(gallery=gallery, show_prompts=True)
    share_link_create(owner=alice, gallery=gallery)
    gallery_update(gallery=gallery, show_prompts=False)
    assert private_copy_path(clip).is_file()


def test_a_large_gallery_is_prepared_by_the_background_preparer(
    monkeypatch, alice, gallery
):
    monkeypatch.setattr("studio.galleries.services.PREPARE_AT_ONCE", 1)
    share_link_create(owner=alice, gallery=gallery)
    assert preparer.wait_idle(PREPARED_WITHIN)
    assert all(private_copy_path(i.generation).is_file() for i in gallery.items.all())


def test_a_share_without_its_copies_shows_posters_until_they_are_made(
    held_preparer, shared, clip, other_clip, anonymous_client
):
    # A link made before copies were prepared ahead finds none.
    for generation in (clip, other_clip):
        private_copy_path(generation).unlink()
    before = media_files()
    page = anonymous_client.get(f"/s/{shared}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert text.count('data-testid="clip-preparing"') == 2 and "<video" not in text
    assert '<meta http-equiv="refresh" content="5">' in text
    video = anonymous_client.get(f"/s/{shared}/clips/{clip.pk}/video")
    assert video.status_code == 202 and video["Retry-After"] == "5"
    assert media_files() == before

    held_preparer.set()
    assert preparer.wait_idle(PREPARED_WITHIN)
    text = anonymous_client.get(f"/s/{shared}/").content.decode()
    assert text.count("<video") == 2 and "refresh" not in text
    served = anonymous_client.get(f"/s/{shared}/clips/{clip.pk}/video")
    assert body(served) == private_copy_path(clip).read_bytes()


# -- slow downloads: asked for, made in the background, then served ----------------


def test_a_download_being_prepared_says_so_and_then_is_served(
    held_preparer, shared, clip, anonymous_client
):
    url = f"/s/{shared}/clips/{clip.pk}/download/gif"
    before = media_files()
    waiting = anonymous_client.get(url)
    assert waiting.status_code == 202
    assert waiting["Retry-After"] == "5" and waiting["Cache-Control"] == "no-store"
    assert waiting["Referrer-Policy"] == "no-referrer"
    text = waiting.content.decode()
    assert 'data-testid="share-preparing"' in text
    assert '<meta http-equiv="refresh" content="5">' in text
    assert f'href="/s/{shared}/"' in text and "<script" not in text
    as_json = anonymous_client.get(url, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 202
    assert as_json.json() == {"status": "preparing", "retry_after": 5}
    assert media_files() == before

    held_preparer.set()
    assert preparer.wait_idle(PREPARED_WITHIN)
    served = anonymous_client.get(url)
    assert served.status_code == 200
    assert served["Content-Disposition"].startswith("attachment")
    made = export_target(clip, "gif", watermark=False, private=True)
    assert body(served) == made.read_bytes()


@pytest.mark.parametrize("key", list(exports.FORMATS))
def test_every_prepared_download_is_served_byte_identical(
    key, shared, clip, anonymous_client
):
    url = f"/s/{shared}/clips/{clip.pk}/download/{key}"
    served = get_prepared(anonymous_client, url)
    assert served.status_code == 200
    made = export_target(clip, key, watermark=False, private=True)
    assert body(served) == made.read_bytes()
    assert b"red ball" not in made.read_bytes()
    before = media_files()
    assert body(anonymous_client.get(url)) == made.read_bytes()
    assert media_files() == before


def test_download_all_is_prepared_once_and_served_byte_identical(
    held_preparer, shared, gallery, clip, other_clip, anonymous_client
):
    url = f"/s/{shared}/download/"
    assert anonymous_client.get(url).status_code == 202
    assert not gallery_media_dir(gallery).exists()

    held_preparer.set()
    served = get_prepared(anonymous_client, url)
    assert served.status_code == 200
    [made] = gallery_media_dir(gallery).glob("download-*.zip")
    assert body(served) == made.read_bytes()
    names = zipfile.ZipFile(io.BytesIO(made.read_bytes())).namelist()
    assert names[0] == f"001-clip-{clip.pk.hex[:8]}.mp4"
    before = media_files()
    assert body(anonymous_client.get(url)) == made.read_bytes()
    assert media_files() == before


def test_a_changed_board_gets_a_new_archive_and_the_old_one_goes(
    alice, shared, gallery, anonymous_client
):
    get_prepared(anonymous_client, f"/s/{shared}/download/")
    [first] = gallery_media_dir(gallery).glob("download-*.zip")
    gallery_item_add(gallery=gallery, generation=make_clip(alice, prompt="a third"))
    served = get_prepared(anonymous_client, f"/s/{shared}/download/")
    [second] = gallery_media_dir(gallery).glob("download-*.zip")
    assert second != first
    assert len(zipfile.ZipFile(io.BytesIO(body(served))).namelist()) == 4


def test_deleting_a_gallery_deletes_its_prepared_archive(
    shared, gallery, anonymous_client, django_capture_on_commit_callbacks
):
    get_prepared(anonymous_client, f"/s/{shared}/download/")
    folder = gallery_media_dir(gallery)
    assert folder.is_dir()
    with django_capture_on_commit_callbacks(execute=True):
        gallery_delete(gallery=gallery)
    assert not folder.exists()


# -- what a visitor cannot make the server do --------------------------------------


def test_repeated_requests_queue_one_preparation_per_file(
    held_preparer, shared, clip, anonymous_client
):
    gif = f"/s/{shared}/clips/{clip.pk}/download/gif"
    zip_all = f"/s/{shared}/download/"
    clients = [Client(REMOTE_ADDR=f"198.51.100.{n}") for n in range(1, 6)]
    for _ in range(6):
        for client in clients:
            assert client.get(gif).status_code == 202
            assert client.get(zip_all).status_code == 202
    assert len(preparer.pending()) == 3  # the held job, the GIF and the ZIP

    held_preparer.set()
    assert preparer.wait_idle(PREPARED_WITHIN)
    assert anonymous_client.get(gif).status_code == 200
    assert anonymous_client.get(zip_all).status_code == 200


def test_a_full_preparer_turns_visitors_away_without_queueing(
    held_preparer, shared, clip, anonymous_client
):
    room = preparer.limit - (len(preparer.pending()) - 1)
    for n in range(room):
        assert preparer.submit(f"test:filler-{n}", lambda: None)
    url = f"/s/{shared}/clips/{clip.pk}/download/webm"
    before = list(preparer.pending())
    busy = anonymous_client.get(url)
    assert busy.status_code == 503 and busy["Retry-After"] == "30"
    assert busy["Cache-Control"] == "no-store"
    assert preparer.pending() == before


def test_a_file_that_cannot_be_made_is_reported_not_awaited(
    shared, clip, anonymous_client
):
    # The original no longer decodes: a WebM cannot be made from it.
    (settings.MEDIA_ROOT / clip.video).write_bytes(b"not a video")
    url = f"/s/{shared}/clips/{clip.pk}/download/webm"
    assert anonymous_client.get(url).status_code == 202
    assert preparer.wait_idle(PREPARED_WITHIN)
    failed = anonymous_client.get(url)
    assert failed.status_code == 404 and b"could not be prepared" in failed.content
    assert preparer.pending() == []


def test_another_user_or_an_anonymous_visitor_cannot_start_preparations(
    bob_client, anonymous_client, gallery
):
    for client in (bob_client, anonymous_client):
        client.post("/shares/new/", {"gallery": gallery.pk})
    assert not any(
        private_copy_path(i.generation).is_file() for i in gallery.items.all()
    )
    assert preparer.pending() == []


def test_a_single_clip_link_serves_its_prepared_copy_byte_identical(
    alice, clip, anonymous_client
):
    _, token = share_link_create(owner=alice, generation=clip)
    before = media_files()
    served = anonymous_client.get(f"/s/{token}/clips/{clip.pk}/video")
    assert body(served) == private_copy_path(clip).read_bytes()
    assert media_files() == before


def test_a_copy_that_cannot_be_made_is_not_waited_for_on_the_page(
    shared, clip, anonymous_client
):
    private_copy_path(clip).unlink()
    (settings.MEDIA_ROOT / clip.video).write_bytes(b"not a video")
    assert (
        b'data-testid="clip-preparing"' in anonymous_client.get(f"/s/{shared}/").content
    )
    assert preparer.wait_idle(PREPARED_WITHIN)
    text = anonymous_client.get(f"/s/{shared}/").content.decode()
    assert "clip-preparing" not in text and "refresh" not in text
    assert preparer.pending() == []
    video = anonymous_client.get(f"/s/{shared}/clips/{clip.pk}/video")
    assert video.status_code == 404
