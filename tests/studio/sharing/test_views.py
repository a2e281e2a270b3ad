from __future__ import annotations

import datetime
import io
import json
import re
import zipfile

import av
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from generation.credentials import verify_video
from generation.encode import probe_video
from studio.galleries.services import gallery_create, gallery_item_add
from studio.sharing.models import ShareLink
from studio.sharing.panels import share_qr_svg
from studio.sharing.services import share_link_create, share_link_revoke
from tests.studio.sharing.conftest import get_prepared

pytestmark = pytest.mark.django_db

UNKNOWN = "A" * 32
MALFORMED = ["short", "A" * 33, "has%20space" + "a" * 21, "....", "%00" * 11]


@pytest.fixture
def shared(alice, gallery):
    link, token = share_link_create(owner=alice, gallery=gallery, label="Mia")
    return link, token


@pytest.fixture
def expired_token(alice, gallery):
    link, token = share_link_create(owner=alice, gallery=gallery)
    ShareLink.objects.filter(pk=link.pk).update(
        expires=timezone.now() - datetime.timedelta(minutes=1)
    )
    return token


@pytest.fixture
def revoked_token(alice, gallery):
    link, token = share_link_create(owner=alice, gallery=gallery)
    share_link_revoke(link=link)
    return token


def public_urls(token: str, clip) -> list[str]:
    return [
        f"/s/{token}/",
        f"/s/{token}/clips/{clip.pk}/video",
        f"/s/{token}/clips/{clip.pk}/poster",
        f"/s/{token}/clips/{clip.pk}/download/gif",
    ]


@pytest.mark.parametrize("visitor", ["anonymous_client", "alice_client", "bob_client"])
def test_anyone_with_a_valid_link_sees_the_page_its_media_and_downloads(
    request, visitor, shared, clip
):
    client = request.getfixturevalue(visitor)
    _, token = shared
    for url in public_urls(token, clip):
        response = get_prepared(client, url)
        assert response.status_code == 200, url


def test_the_page_shows_the_videos_with_posters_the_label_and_credentials(
    anonymous_client, shared, clip, other_clip
):
    _, token = shared
    body = anonymous_client.get(f"/s/{token}/").content.decode()
    assert "Client picks" in body and "Two takes for Mia" in body
    assert body.count("<video") == 2
    assert f"/s/{token}/clips/{clip.pk}/poster" in body
    assert 'data-testid="ai-label"' in body
    assert body.count("Content Credentials: intact, signed by this studio") == 2
    assert 'name="viewport"' in body


def test_the_page_has_link_preview_tags(anonymous_client, shared, clip):
    _, token = shared
    body = anonymous_client.get(f"/s/{token}/").content.decode()
    assert '<meta property="og:title" content="Client picks">' in body
    assert f'content="http://testserver/s/{token}/clips/{clip.pk}/poster"' in body
    assert '<meta name="twitter:card" content="summary_large_image">' in body


def test_the_page_shows_nothing_else_of_the_owner(alice, anonymous_client, shared):
    alice.email = "alice@example.com"
    alice.save()
    gallery_create(owner=alice, title="Secret board")
    _, token = shared
    body = anonymous_client.get(f"/s/{token}/").content.decode()
    for private in ("alice", "Secret board", "red ball", "/media/", "Log out"):
        assert private not in body


def test_prompts_appear_only_when_the_owner_opts_in(anonymous_client, shared, gallery):
    _, token = shared
    assert b"red ball" not in anonymous_client.get(f"/s/{token}/").content
    gallery.show_prompts = True
    gallery.save()
    assert b"red ball" in anonymous_client.get(f"/s/{token}/").content


def test_the_page_depends_on_no_cookie_and_sets_none(alice_client, shared):
    _, token = shared
    logged_in = alice_client.get(f"/s/{token}/")
    logged_out = Client().get(f"/s/{token}/")
    strip = re.compile(rb"og:url[^>]*>")
    assert strip.sub(b"", logged_in.content) == strip.sub(b"", logged_out.content)
    assert not logged_out.cookies
    assert logged_out["Referrer-Policy"] == "no-referrer"
    assert logged_out["Cache-Control"] == "no-store"


def test_every_view_counts(anonymous_client, shared):
    link, token = shared
    for _ in range(3):
        anonymous_client.get(f"/s/{token}/")
    anonymous_client.get(
        f"/s/{token}/clips/{link.gallery.items.first().generation_id}/video"
    )
    link.refresh_from_db()
    assert link.views == 3 and link.last_viewed is not None


def test_an_expired_link_says_it_expired(anonymous_client, expired_token, clip):
    response = anonymous_client.get(f"/s/{expired_token}/")
    assert response.status_code == 410
    assert b"expired" in response.content
    assert b"Client picks" not in response.content
    for url in public_urls(expired_token, clip)[1:]:
        assert anonymous_client.get(url).status_code == 410


@pytest.mark.parametrize("kind", ["revoked", "unknown", "malformed"])
def test_revoked_unknown_and_malformed_tokens_are_404s(
    anonymous_client, revoked_token, clip, kind
):
    tokens = {
        "revoked": [revoked_token],
        "unknown": [UNKNOWN],
        "malformed": MALFORMED,
    }[kind]
    for token in tokens:
        for url in public_urls(token, clip):
            response = anonymous_client.get(url)
            assert response.status_code == 404, url
            assert b"Client picks" not in response.content
            assert b"Traceback" not in response.content


def test_a_link_opens_only_the_clips_it_shares(
    anonymous_client, alice, shared, bobs_clip
):
    _, token = shared
    not_in_gallery = gallery_create(owner=alice, title="Other")
    from tests.studio.galleries.conftest import make_clip

    loose = make_clip(alice, prompt="not shared")
    gallery_item_add(gallery=not_in_gallery, generation=loose)
    for clip in (loose, bobs_clip):
        for url in public_urls(token, clip)[1:]:
            assert anonymous_client.get(url).status_code == 404, url
    url = f"/s/{token}/clips/{loose.pk}/thumbnail"
    assert anonymous_client.get(url).status_code == 404


def test_a_single_clip_link_shares_just_that_clip(
    anonymous_client, alice, clip, other_clip
):
    _, token = share_link_create(owner=alice, generation=clip)
    body = anonymous_client.get(f"/s/{token}/").content.decode()
    assert (
        body.count("<video") == 1
        and "Content Credentials: intact, signed by this studio" in body
    )
    assert anonymous_client.get(f"/s/{token}/clips/{clip.pk}/video").status_code == 200
    url = f"/s/{token}/clips/{other_clip.pk}/video"
    assert anonymous_client.get(url).status_code == 404


def test_video_requests_honour_ranges(anonymous_client, shared, clip):
    _, token = shared
    response = anonymous_client.get(
        f"/s/{token}/clips/{clip.pk}/video", HTTP_RANGE="bytes=0-99"
    )
    assert response.status_code == 206 and len(response.content) == 100


def test_a_removed_clip_stops_being_shared(
    anonymous_client, alice_client, shared, clip
):
    link, token = shared
    item = link.gallery.items.get(generation=clip)
    alice_client.post(f"/galleries/{link.gallery.pk}/items/{item.pk}/remove/")
    assert anonymous_client.get(f"/s/{token}/clips/{clip.pk}/video").status_code == 404


def test_share_pages_are_rate_limited_per_address(settings, shared):
    settings.STUDIO_SHARE_RATE_LIMIT = 3
    _, token = shared
    client = Client(REMOTE_ADDR="203.0.113.9")
    codes = [client.get(f"/s/{token}/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert Client(REMOTE_ADDR="203.0.113.10").get(f"/s/{token}/").status_code == 200


def test_guessing_tokens_is_rate_limited_too(settings):
    settings.STUDIO_SHARE_RATE_LIMIT = 2
    client = Client(REMOTE_ADDR="198.51.100.7")
    codes = [client.get(f"/s/{c * 32}/").status_code for c in "ABC"]
    assert codes == [404, 404, 429]


# -- the owner's side ---------------------------------------------------------


def test_the_owner_creates_a_link_and_sees_it_once(alice_client, gallery):
    response = alice_client.post(
        "/shares/new/",
        {"gallery": gallery.pk, "label": "Mia", "expires_in_hours": "24"},
        HTTP_HX_REQUEST="true",
    )
    url = re.search(rb'data-testid="share-url">([^<]+)<', response.content).group(1)
    assert Client().get(url.decode()).status_code == 200
    link = ShareLink.objects.get()
    assert link.label == "Mia" and link.expires is not None
    page = alice_client.get(gallery.get_absolute_url()).content
    assert url not in page and b"Mia" in page


def test_the_owner_shares_a_single_clip_from_the_player(alice_client, clip):
    response = alice_client.post(
        "/shares/new/", {"generation": clip.pk}, HTTP_HX_REQUEST="true"
    )
    assert b'data-testid="share-url"' in response.content
    assert ShareLink.objects.get().generation == clip


def test_the_owner_revokes_a_link(alice_client, shared):
    link, token = shared
    response = alice_client.post(f"/shares/{link.pk}/revoke/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert Client().get(f"/s/{token}/").status_code == 404


def test_another_user_cannot_share_or_revoke(bob_client, shared, clip, gallery):
    link, token = shared
    assert bob_client.post(f"/shares/{link.pk}/revoke/").status_code == 404
    assert bob_client.post("/shares/new/", {"gallery": gallery.pk}).status_code == 404
    assert bob_client.post("/shares/new/", {"generation": clip.pk}).status_code == 404
    assert bob_client.post("/shares/new/", {"gallery": "junk"}).status_code == 404
    assert Client().get(f"/s/{token}/").status_code == 200
    assert ShareLink.objects.count() == 1


def test_an_anonymous_visitor_cannot_share_or_revoke(anonymous_client, shared, gallery):
    link, _ = shared
    for url, data in [
        (f"/shares/{link.pk}/revoke/", {}),
        ("/shares/new/", {"gallery": gallery.pk}),
    ]:
        response = anonymous_client.post(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    link.refresh_from_db()
    assert link.revoked is None


# -- prompts the owner keeps: out of the files a share serves ---------------------


def served_file(response, tmp_path, name: str):
    path = tmp_path / name
    path.write_bytes(b"".join(response.streaming_content))
    return path


def frame_digest(path) -> list[bytes]:
    """The video's coded frames, packet by packet."""
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def every_tag(path) -> str:
    return " ".join(f"{k}={v}" for k, v in probe_video(path)["metadata"].items())


def test_a_gallery_that_hides_prompts_serves_clips_without_them(
    anonymous_client, shared, clip, tmp_path
):
    _, token = shared  # the gallery keeps its prompts (the default)
    streamed = anonymous_client.get(f"/s/{token}/clips/{clip.pk}/video")
    download = anonymous_client.get(f"/s/{token}/clips/{clip.pk}/download/mp4")
    assert "red" not in download["Content-Disposition"]
    assert f"clip-{clip.pk.hex[:8]}.mp4" in download["Content-Disposition"]
    for response, name in ((streamed, "streamed.mp4"), (download, "download.mp4")):
        path = served_file(response, tmp_path, name)
        tags = probe_video(path)["metadata"]
        assert "red ball" not in every_tag(path)
        assert "prompt" not in tags and "title" not in tags
        # How it was made still travels with it, and its credentials hold.
        assert tags["model"] == "builtin" and tags["ai_generated"] == "true"
        assert json.loads(tags["comment"])["seed"] == clip.seed
        assert verify_video(path).status == "valid"
        # The same frames as the original, not re-encoded.
        assert frame_digest(path) == frame_digest(settings.MEDIA_ROOT / clip.video)
    gif = get_prepared(anonymous_client, f"/s/{token}/clips/{clip.pk}/download/gif")
    assert b"red ball" not in b"".join(gif.streaming_content)
    # The owner's own files keep everything.
    assert "red ball" in every_tag(settings.MEDIA_ROOT / clip.video)


def test_a_gallery_that_shows_prompts_serves_the_original(
    anonymous_client, shared, gallery, clip, tmp_path
):
    gallery.show_prompts = True
    gallery.save()
    _, token = shared
    download = anonymous_client.get(f"/s/{token}/clips/{clip.pk}/download/mp4")
    assert "a-red-ball-bouncing" in download["Content-Disposition"]
    path = served_file(download, tmp_path, "download.mp4")
    assert path.read_bytes() == (settings.MEDIA_ROOT / clip.video).read_bytes()


def test_a_single_clip_link_never_gives_its_prompt_away(
    anonymous_client, alice, clip, tmp_path
):
    _, token = share_link_create(owner=alice, generation=clip)
    streamed = anonymous_client.get(f"/s/{token}/clips/{clip.pk}/video")
    assert "red ball" not in every_tag(served_file(streamed, tmp_path, "clip.mp4"))


# -- a share viewer downloads every clip at once ----------------------------------


def archive_of(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_a_viewer_downloads_a_shared_gallery_in_board_order_without_hidden_prompts(
    anonymous_client, shared, clip, other_clip, tmp_path
):
    _, token = shared
    page = anonymous_client.get(f"/s/{token}/").content.decode()
    assert f'href="/s/{token}/download/"' in page and "Download all 2 clips" in page

    response = get_prepared(anonymous_client, f"/s/{token}/download/")
    assert response.status_code == 200
    assert 'filename="client-picks.zip"' in response["Content-Disposition"]
    archive = archive_of(response)
    assert archive.namelist() == [
        f"001-clip-{clip.pk.hex[:8]}.mp4",
        f"002-clip-{other_clip.pk.hex[:8]}.mp4",
        "clips.json",
    ]
    records = json.loads(archive.read("clips.json"))
    assert [r["seed"] for r in records] == [clip.seed, other_clip.seed]
    assert all("prompt" not in r["settings"] for r in records)
    for name in archive.namelist():
        data = archive.read(name)
        assert b"red ball" not in data and b"blue box" not in data
        if name.endswith(".mp4"):
            path = tmp_path / name
            path.write_bytes(data)
            assert verify_video(path).status == "valid"


def test_a_gallery_that_shows_prompts_downloads_with_them(
    anonymous_client, shared, gallery, clip
):
    gallery.show_prompts = True
    gallery.save()
    _, token = shared
    archive = archive_of(get_prepared(anonymous_client, f"/s/{token}/download/"))
    assert (
        archive.namelist()[0] == f"001-a-red-ball-bouncing-to-the-right-{clip.seed}.mp4"
    )
    [first, _] = json.loads(archive.read("clips.json"))
    assert first["settings"]["prompt"] == "a red ball bouncing to the right"
    assert (
        archive.read(archive.namelist()[0])
        == (settings.MEDIA_ROOT / clip.video).read_bytes()
    )


def test_downloading_everything_needs_a_live_gallery_link(
    anonymous_client, alice, clip, expired_token, revoked_token
):
    _, single = share_link_create(owner=alice, generation=clip)
    assert anonymous_client.get(f"/s/{single}/download/").status_code == 404
    assert anonymous_client.get(f"/s/{revoked_token}/download/").status_code == 404
    assert anonymous_client.get(f"/s/{UNKNOWN}/download/").status_code == 404
    assert anonymous_client.get(f"/s/{expired_token}/download/").status_code == 410


def test_an_empty_shared_gallery_has_nothing_to_download(anonymous_client, alice):
    empty = gallery_create(owner=alice, title="Soon")
    _, token = share_link_create(owner=alice, gallery=empty)
    assert "Download all" not in anonymous_client.get(f"/s/{token}/").content.decode()
    response = anonymous_client.get(f"/s/{token}/download/")
    assert response.status_code == 404
    assert b"no clips yet" in response.content


# -- the panel: copy, QR code, the target's links -------------------------------


def test_a_new_link_comes_with_a_copy_button_and_its_qr_code(alice_client, gallery):
    response = alice_client.post(
        "/shares/new/", {"gallery": gallery.pk}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    url = re.search(r'data-testid="share-url">([^<]+)<', html).group(1)
    assert f'data-copy="{url}"' in html
    assert 'role="status"' in html and "not shown again" in html
    svg = re.search(r"<svg\b.*?</svg>", html, re.S).group(0)
    assert svg == str(share_qr_svg(url))
    assert svg != str(share_qr_svg(url + "x"))
    assert 'class="share-qr"' in svg and "style=" not in svg


def test_the_panel_lists_only_the_owners_links_for_that_target(
    alice, bob, alice_client, gallery, clip
):
    share_link_create(owner=alice, gallery=gallery, label="Mia", expires_in_hours=24)
    share_link_create(owner=alice, gallery=gallery, label="Jo")
    share_link_create(owner=alice, generation=clip, label="Clip friend")
    other = gallery_create(owner=alice, title="Elsewhere")
    share_link_create(owner=alice, gallery=other, label="Elsewhere friend")
    bobs = gallery_create(owner=bob, title="Bob's")
    share_link_create(owner=bob, gallery=bobs, label="Bob's friend")
    mia = ShareLink.objects.get(label="Mia")
    mia.views = 3
    mia.save()

    page = alice_client.get(gallery.get_absolute_url()).content.decode()
    panel = page[page.index('class="share-panel"') :]
    panel = panel[: panel.index("</ul>")]
    labels = re.findall(r'data-testid="share-link-label">([^<]+)<', panel)
    assert labels == ["Jo", "Mia"]
    metas = [
        " ".join(m.split())
        for m in re.findall(r'data-testid="share-link-meta">(.*?)</span>', panel, re.S)
    ]
    created = timezone.localtime(mia.created).strftime("%b %-d, %H:%M")
    expires = timezone.localtime(mia.expires).strftime("%b %-d, %H:%M")
    assert metas[1] == f"· made {created} · 3 views · expires {expires}"
    assert metas[0].endswith("· 0 views · no expiry")
    assert panel.count('data-testid="revoke-share"') == 2


def test_revoking_from_the_list_marks_the_link_revoked(alice_client, shared):
    link, token = shared
    page = alice_client.get(link.gallery.get_absolute_url()).content.decode()
    action = re.search(r'<form method="post" action="(/shares/\d+/revoke/)"', page)
    response = alice_client.post(action.group(1), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "revoked" in html and 'data-testid="revoke-share"' not in html
    assert Client().get(f"/s/{token}/").status_code == 404
    link.refresh_from_db()
    assert link.revoked is not None
