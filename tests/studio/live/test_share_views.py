"""Share links to a live stream over HTTP: made on the Live page and through
the API, revoked by their owner only, and the page a viewer opens."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from studio.accounts.services import api_token_create
from studio.sharing.models import ShareLink
from studio.sharing.services import share_link_create

pytestmark = pytest.mark.django_db


def token_of(url: str) -> str:
    return re.search(r"/s/([A-Za-z0-9_-]{32})/", url).group(1)


@pytest.fixture
def live_token(alice) -> str:
    return share_link_create(owner=alice, live=True, label="Class 4B")[1]


# -- the owner's side -------------------------------------------------------------


def test_the_live_page_offers_share_live_and_a_vote(alice_client):
    html = alice_client.get("/live/").content.decode()
    assert 'id="share-panel-live"' in html
    assert '<input type="hidden" name="live" value="1">' in html
    assert "Share live" in html
    assert 'data-role="vote-form"' in html and 'data-role="viewers"' in html
    assert html.count('aria-label="Prompt of choice') == 4


def test_alice_makes_a_live_link_shown_once_with_a_copy_button(alice, alice_client):
    response = alice_client.post(
        "/shares/new/", {"live": "1", "label": "Friends"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    url = re.search(r'data-testid="share-url">([^<]+)<', html).group(1)
    assert "not shown again" in html
    assert f'data-copy="{url}"' in html
    link = ShareLink.objects.get(owner=alice)
    assert link.live and link.label == "Friends"
    assert link.gallery is None and link.generation is None
    assert link.storyboard is None
    assert token_of(url) not in link.digest
    # The Live page lists it, without its token.
    page = alice_client.get("/live/").content.decode()
    assert "Friends" in page and token_of(url) not in page


def test_without_htmx_the_link_comes_as_a_message_on_the_live_page(alice_client):
    response = alice_client.post("/shares/new/", {"live": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == "/live/"
    assert "copy it now" in response.content.decode()


def test_the_live_panel_lists_only_live_links(alice, alice_client, live_token):
    from studio.galleries.models import Gallery

    gallery = Gallery.objects.create(owner=alice, title="Boards")
    share_link_create(owner=alice, gallery=gallery, label="Gallery link")
    html = alice_client.get("/live/").content.decode()
    assert "Class 4B" in html and "Gallery link" not in html


def test_alice_revokes_her_live_link(alice, alice_client, live_token):
    link = ShareLink.objects.get(owner=alice)
    response = alice_client.post(f"/shares/{link.pk}/revoke/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="share-panel-live"' in response.content.decode()
    link.refresh_from_db()
    assert link.revoked is not None
    assert Client().get(f"/s/{live_token}/").status_code == 404


def test_bob_cannot_revoke_alices_live_link(alice, bob_client, live_token):
    link = ShareLink.objects.get(owner=alice)
    assert bob_client.post(f"/shares/{link.pk}/revoke/").status_code == 404
    link.refresh_from_db()
    assert link.revoked is None
    assert bob_client.delete(f"/api/shares/{link.pk}").status_code == 404
    # Bob's Live page does not list it.
    assert "Class 4B" not in bob_client.get("/live/").content.decode()


def test_anonymous_visitors_cannot_make_live_links(anonymous_client):
    response = anonymous_client.post("/shares/new/", {"live": "1"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not ShareLink.objects.exists()


# -- the API -------------------------------------------------------------------------


def test_a_script_makes_a_live_link_with_a_token(alice):
    _, token = api_token_create(user=alice, name="script")
    response = Client().post(
        "/api/live/shares",
        json.dumps({"expires_in_hours": 2, "label": "Stream"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201
    body = response.json()
    link = ShareLink.objects.get(pk=body["id"])
    assert link.live and link.owner == alice and body["label"] == "Stream"
    assert body["url"].startswith("http://testserver/s/")
    assert link.expires > timezone.now() + datetime.timedelta(hours=1)
    page = Client().get(f"/s/{token_of(body['url'])}/")
    assert page.status_code == 200 and 'id="watch"' in page.content.decode()
    # Revoked through the API like any other link.
    deleted = Client().delete(
        f"/api/shares/{link.pk}", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert deleted.status_code == 204
    assert Client().get(f"/s/{token_of(body['url'])}/").status_code == 404


def test_the_api_makes_a_link_from_an_empty_body(alice_client):
    response = alice_client.post(
        "/api/live/shares", "", content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["expires"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expires_in_hours": 0}, "expires_in_hours"),
        ({"expires_in_hours": "2"}, "expires_in_hours"),
        ({"expires_in_hours": True}, "expires_in_hours"),
        ({"expires_in_hours": 24 * 366}, "expires_in_hours"),
        ({"label": "x" * 101}, "label"),
        ({"label": 5}, "label"),
    ],
)
def test_the_api_refuses_bad_fields_with_a_sentence(alice_client, body, field):
    response = alice_client.post(
        "/api/live/shares", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][field]
    assert not ShareLink.objects.exists()


def test_the_api_wants_a_login(anonymous_client):
    response = anonymous_client.post("/api/live/shares")
    assert response.status_code == 401


def test_the_api_documents_the_route(alice_client):
    schema = alice_client.get("/api/schema").json()
    assert "post" in schema["paths"]["/api/live/shares"]


# -- the viewer's page -----------------------------------------------------------------


def test_anyone_with_the_link_gets_the_viewer_page(alice, live_token):
    response = Client().get(f"/s/{live_token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-socket="/ws/live/watch?share={live_token}"' in html
    assert 'id="watch-canvas"' in html and "studio/live_watch.js" in html
    assert 'data-testid="ai-label">AI-generated<' in html
    assert "Waiting for the stream to start" in html
    # Nothing of alice's: not her name, not the link's label.
    assert "alice" not in html and "Class 4B" not in html
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert ShareLink.objects.get(owner=alice).views == 1


def test_the_viewer_page_shows_no_prompt_of_the_owners(alice, live_token):
    from studio.generations.models import Generation

    Generation.objects.create(
        owner=alice, prompt="a secret violet kite", seed=1, settings={}
    )
    html = Client().get(f"/s/{live_token}/").content.decode()
    assert "violet kite" not in html


def test_an_expired_live_link_answers_410(alice, live_token):
    ShareLink.objects.filter(owner=alice).update(
        expires=timezone.now() - datetime.timedelta(minutes=1)
    )
    response = Client().get(f"/s/{live_token}/")
    assert response.status_code == 410
    assert 'data-testid="share-expired"' in response.content.decode()


def test_the_viewer_page_is_rate_limited_per_address(live_token, settings):
    settings.STUDIO_SHARE_RATE_LIMIT = 2
    client = Client()
    assert client.get(f"/s/{live_token}/").status_code == 200
    assert client.get(f"/s/{live_token}/").status_code == 200
    assert client.get(f"/s/{live_token}/").status_code == 429


def test_a_live_link_cannot_point_at_a_gallery_too(alice):
    from django.db import IntegrityError, transaction

    from studio.galleries.models import Gallery

    gallery = Gallery.objects.create(owner=alice, title="Boards")
    with pytest.raises(IntegrityError), transaction.atomic():
        ShareLink.objects.create(owner=alice, gallery=gallery, live=True, digest="d")
    with pytest.raises(ValueError):
        share_link_create(owner=alice, gallery=gallery, live=True)
