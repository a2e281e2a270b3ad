from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.db import connection
from PIL import Image

from generation import encode
from generation.credentials import verify_video
from studio.galleries.models import Gallery, GalleryItem
from studio.galleries.services import (
    gallery_create,
    gallery_item_add,
    gallery_item_move,
)
from tests.studio.galleries.conftest import make_clip

pytestmark = pytest.mark.django_db


def owner_urls(gallery: Gallery, item: GalleryItem, clip) -> list[tuple[str, str]]:
    g, i = gallery.pk, item.pk
    return [
        ("get", f"/galleries/{g}/"),
        ("get", f"/galleries/{g}/download/"),
        ("post", f"/galleries/{g}/edit/"),
        ("post", f"/galleries/{g}/delete/"),
        ("post", f"/galleries/{g}/items/{i}/remove/"),
        ("post", f"/galleries/{g}/items/{i}/move/"),
        ("post", f"/galleries/{g}/items/{i}/cover/"),
        ("get", f"/galleries/clips/{clip.pk}/"),
        ("post", f"/galleries/clips/{clip.pk}/add/"),
        ("get", f"/galleries/clips/{clip.pk}/download/?format=webm"),
        ("get", f"/galleries/compare/?clip={clip.pk}&clip={clip.pk}"),
    ]


def test_every_gallery_view_is_a_404_for_another_user(bob_client, gallery, clip):
    item = gallery.items.first()
    for method, url in owner_urls(gallery, item, clip):
        data = {"direction": "up"} if method == "post" else None
        response = getattr(bob_client, method)(url, data)
        assert response.status_code == 404, url
        assert b"Client picks" not in response.content
    assert Gallery.objects.filter(pk=gallery.pk).exists()
    assert gallery.items.count() == 2


def test_every_gallery_view_sends_an_anonymous_visitor_to_log_in(
    anonymous_client, gallery, clip
):
    item = gallery.items.first()
    for method, url in owner_urls(gallery, item, clip):
        response = getattr(anonymous_client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")


def test_malformed_gallery_and_item_ids_are_404s(alice_client, gallery):
    assert alice_client.get("/galleries/not-a-uuid/").status_code == 404
    url = f"/galleries/{gallery.pk}/items/999999/remove/"
    assert alice_client.post(url).status_code == 404


def test_the_owner_lists_and_creates_galleries(alice_client, gallery):
    response = alice_client.get("/galleries/")
    assert b"Client picks" in response.content
    response = alice_client.post("/galleries/", {"title": "Moodboard"})
    created = Gallery.objects.get(title="Moodboard")
    assert response["Location"] == created.get_absolute_url()


def test_the_gallery_page_shows_posters_and_hover_videos(alice_client, gallery, clip):
    response = alice_client.get(gallery.get_absolute_url())
    body = response.content.decode()
    assert clip.poster_url in body and clip.video_url in body
    assert "Move earlier" in body and 'draggable="true"' in body


def test_the_board_page_runs_a_constant_number_of_queries(alice, alice_client):
    gallery = gallery_create(owner=alice, title="Big")
    counts = []
    for size in (3, 60):
        while gallery.items.count() < size:
            gallery_item_add(gallery=gallery, generation=make_clip(alice))
        queries = []

        def count(execute, sql, *args, queries=queries):
            queries.append(sql)
            return execute(sql, *args)

        with connection.execute_wrapper(count):
            response = alice_client.get(gallery.get_absolute_url() + "?page=2")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] > 0


def test_reordering_by_keyboard_and_by_drop_answers_the_board(alice_client, gallery):
    first, second = gallery.items.order_by("position")
    url = f"/galleries/{gallery.pk}/items/{first.pk}/move/"
    response = alice_client.post(url, {"direction": "down"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b'id="board"' in response.content and b"<html" not in response.content
    first.refresh_from_db()
    assert first.position == 1
    response = alice_client.post(url, {"position": "0"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.position == 0
    assert alice_client.post(url, {"position": "x"}).status_code == 400


def test_the_owner_picks_a_cover_and_removes_an_item(alice_client, gallery, other_clip):
    item = gallery.items.get(generation=other_clip)
    alice_client.post(f"/galleries/{gallery.pk}/items/{item.pk}/cover/")
    gallery.refresh_from_db()
    assert gallery.cover == other_clip
    alice_client.post(f"/galleries/{gallery.pk}/items/{item.pk}/remove/")
    assert not gallery.items.filter(pk=item.pk).exists()


def test_clip_actions_show_the_credentials_check(alice_client, clip):
    response = alice_client.get(f"/galleries/clips/{clip.pk}/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "Content Credentials: intact, signed by this studio" in body
    assert "Content Credentials: valid" not in body
    assert "AI-generated" in body


def test_adding_a_clip_to_a_new_gallery_from_the_player(alice_client, alice, clip):
    response = alice_client.post(
        f"/galleries/clips/{clip.pk}/add/",
        {"title": "From the player"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    gallery = Gallery.objects.get(owner=alice, title="From the player")
    assert list(gallery.items.values_list("generation", flat=True)) == [clip.pk]
    assert b"Added to" in response.content


def test_a_clip_cannot_be_added_to_another_users_gallery(alice_client, bob, clip):
    bobs = gallery_create(owner=bob, title="Bob's")
    response = alice_client.post(
        f"/galleries/clips/{clip.pk}/add/", {"gallery": bobs.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert not bobs.items.exists()


@pytest.mark.parametrize(
    ("key", "content_type"),
    [
        ("mp4", "video/mp4"),
        ("webm", "video/webm"),
        ("webp", "image/webp"),
        ("gif", "image/gif"),
        ("frames", "application/zip"),
        ("sheet", "image/png"),
    ],
)
def test_the_owner_downloads_every_format(alice_client, clip, key, content_type):
    url = f"/galleries/clips/{clip.pk}/download/?format={key}"
    response = alice_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    if key == "frames":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            settings = json.loads(archive.read("settings.json"))
            assert settings["seed"] == str(clip.seed)
            assert len([n for n in archive.namelist() if n.endswith(".png")]) == 8
    elif key in ("webp", "gif", "sheet"):
        Image.open(io.BytesIO(body)).verify()


def test_a_watermarked_mp4_download_is_signed_again(alice_client, clip, tmp_path):
    url = f"/galleries/clips/{clip.pk}/download/?format=mp4&watermark=1"
    response = alice_client.get(url)
    path = tmp_path / "marked.mp4"
    path.write_bytes(b"".join(response.streaming_content))
    assert encode.probe_video(path)["frames"] == 8
    assert verify_video(path).valid


def test_an_unknown_download_format_is_a_404(alice_client, clip):
    url = f"/galleries/clips/{clip.pk}/download/?format=exe"
    assert alice_client.get(url).status_code == 404


@pytest.mark.parametrize("key", ["mp4", "gif"])
def test_a_download_of_a_clip_whose_file_is_gone_is_a_404(alice_client, clip, key):
    from django.conf import settings

    (settings.MEDIA_ROOT / clip.video).unlink()
    url = f"/galleries/clips/{clip.pk}/download/?format={key}"
    response = alice_client.get(url)
    assert response.status_code == 404


def test_compare_shows_two_clips_side_by_side(alice_client, clip, other_clip):
    url = f"/galleries/compare/?clip={clip.pk}&clip={other_clip.pk}"
    response = alice_client.get(url)
    assert response.status_code == 200
    assert response.content.count(b"<video") == 2


def test_compare_refuses_another_users_clip(alice_client, clip, bobs_clip):
    url = f"/galleries/compare/?clip={clip.pk}&clip={bobs_clip.pk}"
    assert alice_client.get(url).status_code == 404
    assert alice_client.get("/galleries/compare/?clip=nope&clip=x").status_code == 404


def test_compare_with_one_clip_sends_the_owner_back(alice_client, clip):
    response = alice_client.get(f"/galleries/compare/?clip={clip.pk}&next=/galleries/")
    assert response["Location"] == "/galleries/"


def test_compare_never_sends_the_owner_to_another_site(alice_client, clip):
    url = f"/galleries/compare/?clip={clip.pk}&next=https://evil.example/"
    assert alice_client.get(url)["Location"] == "/galleries/"


def test_the_player_offers_the_clip_actions(alice_client, clip):
    response = alice_client.get(clip.get_absolute_url())
    assert f"/galleries/clips/{clip.pk}/".encode() in response.content


def test_the_top_bar_links_to_galleries(alice_client):
    assert b'href="/galleries/"' in alice_client.get("/galleries/").content


def test_a_gallery_downloads_as_one_zip_in_board_order_still_signed(
    alice_client, gallery, clip, other_clip, tmp_path
):
    gallery_item_move(item=gallery.items.get(generation=other_clip), position=0)
    page = alice_client.get(gallery.get_absolute_url()).content.decode()
    assert f'href="/galleries/{gallery.pk}/download/"' in page

    response = alice_client.get(f"/galleries/{gallery.pk}/download/")

    assert response.status_code == 200
    assert 'filename="client-picks.zip"' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    manifest = json.loads(archive.read("clips.json"))
    assert [r["id"] for r in manifest] == [str(other_clip.pk), str(clip.pk)]
    first = manifest[0]["files"]["video"]
    assert first.startswith("001-a-blue-box-drifting-left")
    archive.extract(first, tmp_path)
    assert verify_video(tmp_path / first).valid


def test_an_empty_gallery_says_there_is_nothing_to_download(alice, alice_client):
    empty = gallery_create(owner=alice, title="Empty so far")
    page = alice_client.get(empty.get_absolute_url()).content.decode()
    assert 'data-testid="gallery-download"' not in page

    response = alice_client.get(f"/galleries/{empty.pk}/download/", follow=True)
    assert response.redirect_chain[-1][0] == empty.get_absolute_url()
    assert "This gallery has no clips to download yet." in response.content.decode()
