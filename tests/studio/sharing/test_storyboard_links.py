"""A storyboard's cut shared by link: the same share link as a gallery's or a
clip's, with its expiry, revocation, view counts, rate limits and headers;
visitors are served files made beforehand, never ones made for them."""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from generation.credentials import verify_video
from generation.encode import clip_metadata, probe_video, write_video
from generation.exports import read_frames
from studio.accounts.services import api_token_create
from studio.generations.models import Generation
from studio.sharing.models import ShareLink
from studio.sharing.services import share_link_create, share_link_revoke
from studio.storyboards import services
from studio.storyboards.models import Render
from tests.studio.storyboards.conftest import finished_take

pytestmark = pytest.mark.django_db


@pytest.fixture
def cut(alice, storyboard, shots):
    """Alice's storyboard with a finished take on its first two shots, and
    a choice after the first; the third shot has no take yet."""
    finished_take(shots[0])
    finished_take(shots[1], colour=(0, 0, 200))
    services.choice_add(shot=shots[0], label="follow the hawk", target=shots[2])
    return storyboard


@pytest.fixture
def shared_cut(alice, cut):
    return share_link_create(owner=alice, storyboard=cut, label="Mia")


def media_files() -> dict[str, int]:
    """Every file under MEDIA_ROOT with its modification time."""
    return {
        str(path): path.stat().st_mtime_ns
        for path in settings.MEDIA_ROOT.rglob("*")
        if path.is_file()
    }


def body_of(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


# -- what a visitor sees --------------------------------------------------------


@pytest.mark.parametrize("visitor", ["anonymous_client", "alice_client", "bob_client"])
def test_a_storyboard_link_plays_the_cut_for_anyone_who_has_it(
    request, visitor, shared_cut, shots
):
    client = request.getfixturevalue(visitor)
    _, token = shared_cut
    response = client.get(f"/s/{token}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "The hawk" in body and 'data-testid="ai-label"' in body
    assert "follow the hawk" in body and f"?shot={shots[2].pk}" in body
    assert f"/s/{token}/shots/{shots[0].pk}.mp4" in body
    video = client.get(f"/s/{token}/shots/{shots[0].pk}.mp4")
    assert video.status_code == 200 and video["Content-Type"] == "video/mp4"
    later = client.get(f"/s/{token}/?shot={shots[2].pk}")
    assert 'data-testid="shot-not-ready"' in later.content.decode()


def test_the_shared_cut_shows_nothing_else_of_the_owner(
    alice, anonymous_client, project, shared_cut, shots
):
    other = services.storyboard_create(owner=alice, project=project, title="Secret")
    secret = services.shot_add(storyboard=other, prompt="a secret prompt")
    finished_take(secret)
    _, token = shared_cut
    for url in (f"/s/{token}/", f"/s/{token}/?shot={shots[1].pk}"):
        body = anonymous_client.get(url).content.decode()
        for private in ("alice", "Secret", "Valley", "/media/", "Log out"):
            assert private not in body
        assert all(shot.prompt not in body for shot in shots)
    assert anonymous_client.get(f"/s/{token}/?shot={secret.pk}").status_code == 404
    for url in (
        f"/s/{token}/shots/{secret.pk}.mp4",
        f"/s/{token}/shots/99999999999999999999999.mp4",
        f"/s/{token}/clips/{secret.takes.get().generation_id}/video",
        f"/s/{token}/clips/{shots[0].takes.get().generation_id}/video",
        f"/s/{token}/download/",
    ):
        assert anonymous_client.get(url).status_code == 404, url


@pytest.mark.parametrize("shot", ["x", "²", "-1", "99999999999999999999999", ""])
def test_a_shot_the_cut_does_not_have_is_a_404(anonymous_client, shared_cut, shot):
    _, token = shared_cut
    response = anonymous_client.get(f"/s/{token}/", {"shot": shot})
    assert response.status_code == 404
    assert response["Cache-Control"] == "no-store"


def test_the_shared_cut_plays_its_takes_without_their_prompts(
    alice, anonymous_client, storyboard, shots, tmp_path
):
    take = finished_take(shots[0])
    original = settings.MEDIA_ROOT / take.generation.video
    frames, fps = read_frames(original)
    write_video(frames, original, fps=fps, metadata=clip_metadata(take.generation.spec))
    _, token = share_link_create(owner=alice, storyboard=storyboard)
    served = tmp_path / "take.mp4"
    served.write_bytes(
        body_of(anonymous_client.get(f"/s/{token}/shots/{shots[0].pk}.mp4"))
    )
    tags = probe_video(served)["metadata"]
    assert shots[0].prompt not in " ".join(tags.values())
    assert tags["ai_generated"] == "true"
    assert verify_video(served).status == "valid"
    assert shots[0].prompt in probe_video(original)["metadata"]["prompt"]


def test_a_rendered_cut_plays_as_one_video_with_captions(
    alice, anonymous_client, shared_cut, cut, shots
):
    cut.shots.get(pk=shots[0].pk).choices.all().delete()
    generation = Generation.objects.create(
        owner=alice,
        project=cut.project,
        prompt="Storyboard: The hawk",
        seed=0,
        settings={},
        status=Generation.Status.SUCCEEDED,
    )
    folder = settings.MEDIA_ROOT / "clips" / generation.pk.hex
    folder.mkdir(parents=True)
    source = settings.MEDIA_ROOT / shots[0].takes.get().generation.video
    (folder / "render.mp4").write_bytes(source.read_bytes())
    (folder / "render.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nDawn.\n")
    generation.video = f"clips/{generation.pk.hex}/render.mp4"
    generation.save()
    Render.objects.create(storyboard=cut, generation=generation)
    _, token = shared_cut

    body = anonymous_client.get(f"/s/{token}/").content.decode()
    assert f'src="/s/{token}/cut/render.mp4"' in body
    assert f'src="/s/{token}/cut/render.vtt"' in body
    video = anonymous_client.get(f"/s/{token}/cut/render.mp4")
    assert body_of(video) == source.read_bytes()
    captions = anonymous_client.get(f"/s/{token}/cut/render.vtt")
    assert b"Dawn." in body_of(captions)
    assert anonymous_client.get(f"/s/{token}/cut/render.gif").status_code == 404
    assert anonymous_client.get(f"/s/{token}/cut/..%2Fclip.mp4").status_code == 404


# -- nothing is made for a visitor ---------------------------------------------------


def test_visitors_get_the_copy_made_when_the_link_was_made_and_nothing_new(
    anonymous_client, shared_cut, shots
):
    _, token = shared_cut
    take = shots[0].takes.get()
    prepared = services.shared_take_path(take)
    assert prepared.is_file()
    before = media_files()
    served = anonymous_client.get(f"/s/{token}/shots/{shots[0].pk}.mp4")
    assert body_of(served) == prepared.read_bytes()
    anonymous_client.get(f"/s/{token}/")
    anonymous_client.get(f"/s/{token}/?shot={shots[2].pk}")
    assert media_files() == before


def test_a_take_without_its_copy_is_not_ready_and_is_not_made_for_a_visitor(
    alice_client, anonymous_client, shared_cut, cut, shots
):
    _, token = shared_cut
    newer = finished_take(shots[0], colour=(0, 200, 0))
    assert not services.shared_take_path(newer).exists()
    before = media_files()
    page = anonymous_client.get(f"/s/{token}/")
    assert 'data-testid="shot-not-ready"' in page.content.decode()
    shot = anonymous_client.get(f"/s/{token}/shots/{shots[0].pk}.mp4")
    assert shot.status_code == 404 and b"not ready" in shot.content
    assert media_files() == before

    # The owner's next look at the board makes it.
    alice_client.get(cut.get_absolute_url())
    prepared = services.shared_take_path(newer)
    served = anonymous_client.get(f"/s/{token}/shots/{shots[0].pk}.mp4")
    assert body_of(served) == prepared.read_bytes()


def test_choosing_a_take_makes_its_copy_only_while_a_link_is_live(alice, cut, shots):
    first = shots[0].takes.get()
    second = finished_take(shots[0], colour=(0, 200, 0))
    services.take_choose(shot=shots[0], take=first)
    assert not services.shared_take_path(first).exists()

    link, _ = share_link_create(owner=alice, storyboard=cut)
    assert services.shared_take_path(first).is_file()
    assert not services.shared_take_path(second).exists()
    services.take_choose(shot=shots[0], take=second)
    assert services.shared_take_path(second).is_file()

    share_link_revoke(link=link)
    third = finished_take(shots[0], colour=(9, 9, 9))
    services.take_choose(shot=shots[0], take=third)
    assert not services.shared_take_path(third).exists()


# -- the same rules as every share link ------------------------------------------


def test_the_shared_cut_is_not_stored_indexed_or_referred(anonymous_client, shared_cut):
    _, token = shared_cut
    response = anonymous_client.get(f"/s/{token}/")
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert not response.cookies


def test_a_storyboard_link_is_rate_limited_per_address(settings, shared_cut, shots):
    settings.STUDIO_SHARE_RATE_LIMIT = 3
    settings.STUDIO_SHARE_MEDIA_RATE_LIMIT = 2
    _, token = shared_cut
    client = Client(REMOTE_ADDR="203.0.113.9")
    pages = [client.get(f"/s/{token}/").status_code for _ in range(4)]
    assert pages == [200, 200, 200, 429]
    shot = f"/s/{token}/shots/{shots[0].pk}.mp4"
    assert [client.get(shot).status_code for _ in range(3)] == [200, 200, 429]
    # Addresses handed out before storyboards shared through /s/ count too.
    old = client.get(f"/storyboards/shared/{token}/", follow=True)
    assert old.status_code == 429
    assert Client(REMOTE_ADDR="203.0.113.10").get(f"/s/{token}/").status_code == 200


def test_a_storyboard_link_expires(alice, anonymous_client, cut, shots):
    link, token = share_link_create(owner=alice, storyboard=cut, expires_in_hours=1)
    assert anonymous_client.get(f"/s/{token}/").status_code == 200
    ShareLink.objects.filter(pk=link.pk).update(
        expires=timezone.now() - datetime.timedelta(minutes=1)
    )
    page = anonymous_client.get(f"/s/{token}/")
    assert page.status_code == 410 and b"expired" in page.content
    assert b"The hawk" not in page.content
    assert page["Cache-Control"] == "no-store"
    for url in (f"/s/{token}/shots/{shots[0].pk}.mp4", f"/s/{token}/cut/render.mp4"):
        assert anonymous_client.get(url).status_code == 410


def test_a_revoked_storyboard_link_stops_opening(anonymous_client, shared_cut, shots):
    link, token = shared_cut
    share_link_revoke(link=link)
    for url in (
        f"/s/{token}/",
        f"/s/{token}/shots/{shots[0].pk}.mp4",
        f"/storyboards/shared/{token}/",
    ):
        response = anonymous_client.get(url, follow=True)
        assert response.status_code == 404, url
        assert b"The hawk" not in response.content


def test_a_storyboard_link_counts_the_times_its_cut_is_opened(
    anonymous_client, shared_cut, shots
):
    link, token = shared_cut
    anonymous_client.get(f"/s/{token}/")
    anonymous_client.get(f"/s/{token}/?shot={shots[2].pk}")
    anonymous_client.get(f"/s/{token}/shots/{shots[0].pk}.mp4")
    anonymous_client.get(f"/storyboards/shared/{token}/", follow=True)
    link.refresh_from_db()
    assert link.views == 2 and link.last_viewed is not None


# -- links made before storyboards shared through /s/ ------------------------------


def test_the_old_addresses_of_a_storyboard_link_keep_answering(
    anonymous_client, shared_cut, shots
):
    _, token = shared_cut
    old = f"/storyboards/shared/{token}/"
    response = anonymous_client.get(f"{old}?shot={shots[1].pk}")
    assert response.status_code == 301
    assert response["Location"] == f"/s/{token}/?shot={shots[1].pk}"
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    page = anonymous_client.get(old, follow=True)
    assert page.status_code == 200 and b"follow the hawk" in page.content
    shot = anonymous_client.get(f"{old}shots/{shots[0].pk}.mp4", follow=True)
    prepared = services.shared_take_path(shots[0].takes.get())
    assert body_of(shot) == prepared.read_bytes()
    cut = anonymous_client.get(f"{old}render.mp4")
    assert cut["Location"] == f"/s/{token}/cut/render.mp4"
    assert (
        anonymous_client.get(
            f"/storyboards/shared/{'A' * 32}/", follow=True
        ).status_code
        == 404
    )


# -- the owner's side ---------------------------------------------------------------


def test_the_owner_shares_a_storyboard_with_an_expiry_and_revokes_it(alice_client, cut):
    response = alice_client.post(
        "/shares/new/",
        {"storyboard": cut.pk, "label": "Mia", "expires_in_hours": "24"},
        HTTP_HX_REQUEST="true",
    )
    url = re.search(rb'data-testid="share-url">([^<]+)<', response.content).group(1)
    assert Client().get(url.decode()).status_code == 200
    link = ShareLink.objects.get()
    assert link.storyboard == cut and link.label == "Mia"
    assert link.expires is not None and link.owner.username == "alice"

    page = alice_client.get(cut.get_absolute_url()).content.decode()
    assert url.decode() not in page
    assert "Mia" in page and "1 view" in page and "expires" in page
    assert f"/shares/{link.pk}/revoke/" in page

    response = alice_client.post(f"/shares/{link.pk}/revoke/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"revoked" in response.content
    assert Client().get(url.decode()).status_code == 404


def test_sharing_without_htmx_returns_to_the_storyboard(alice_client, cut):
    response = alice_client.post("/shares/new/", {"storyboard": cut.pk}, follow=True)
    assert response.redirect_chain[-1][0] == cut.get_absolute_url()
    assert "/s/" in response.content.decode()
    link = ShareLink.objects.get()
    response = alice_client.post(f"/shares/{link.pk}/revoke/")
    assert response["Location"] == cut.get_absolute_url()


def test_the_storyboard_page_lists_only_its_own_links(
    alice, alice_client, project, cut, clip
):
    other = services.storyboard_create(owner=alice, project=project, title="Other")
    share_link_create(owner=alice, storyboard=cut, label="For Mia")
    share_link_create(owner=alice, storyboard=other, label="For Noor")
    share_link_create(owner=alice, generation=clip, label="For Sam")
    page = alice_client.get(cut.get_absolute_url()).content.decode()
    assert "For Mia" in page
    assert "For Noor" not in page and "For Sam" not in page


def test_another_user_cannot_share_or_revoke_a_storyboard(
    bob_client, anonymous_client, shared_cut, cut
):
    link, token = shared_cut
    assert bob_client.post("/shares/new/", {"storyboard": cut.pk}).status_code == 404
    assert bob_client.post(f"/shares/{link.pk}/revoke/").status_code == 404
    assert bob_client.get(cut.get_absolute_url()).status_code == 404
    for url, data in [
        ("/shares/new/", {"storyboard": cut.pk}),
        (f"/shares/{link.pk}/revoke/", {}),
    ]:
        response = anonymous_client.post(url, data)
        assert response["Location"].startswith("/accounts/login/")
    link.refresh_from_db()
    assert link.revoked is None and ShareLink.objects.count() == 1
    assert Client().get(f"/s/{token}/").status_code == 200


def test_a_storyboard_link_is_revoked_through_the_api_like_any_other(
    alice, bob, shared_cut
):
    link, token = shared_cut
    _, bobs = api_token_create(user=bob, name="script")
    client = Client()
    response = client.delete(
        f"/api/shares/{link.pk}", HTTP_AUTHORIZATION=f"Bearer {bobs}"
    )
    assert response.status_code == 404
    _, alices = api_token_create(user=alice, name="script")
    response = client.delete(
        f"/api/shares/{link.pk}", HTTP_AUTHORIZATION=f"Bearer {alices}"
    )
    assert response.status_code == 204
    assert Client().get(f"/s/{token}/").status_code == 404


def test_an_account_export_lists_storyboard_links_without_tokens(
    alice_client, shared_cut
):
    _, token = shared_cut
    response = alice_client.get("/accounts/export/")
    archive = zipfile.ZipFile(io.BytesIO(body_of(response)))
    links = json.loads(archive.read("share_links.json"))
    assert [link["label"] for link in links] == ["Mia"]
    assert token not in json.dumps(links)
