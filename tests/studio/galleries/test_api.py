from __future__ import annotations

import json

import pytest
from django.test import Client

from studio.accounts.services import api_token_create
from studio.galleries.models import Gallery
from studio.sharing.models import ShareLink
from studio.sharing.services import MAX_EXPIRY_HOURS
from tests.studio.galleries.conftest import make_clip

pytestmark = pytest.mark.django_db


def call(client: Client, method: str, url: str, body=None, **headers):
    kwargs = {"content_type": "application/json", **headers}
    if body is not None and method != "get":
        kwargs["data"] = json.dumps(body)
    return getattr(client, method)(url, **kwargs)


def test_a_creator_makes_fills_shares_and_revokes_a_gallery_by_token(
    alice, clip, other_clip
):
    _, token = api_token_create(user=alice, name="script")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client(enforce_csrf_checks=True)

    response = call(client, "post", "/api/galleries", {"title": "Picks"}, **auth)
    assert response.status_code == 201
    gallery_id = response.json()["id"]

    for generation in (clip, other_clip):
        response = call(
            client,
            "post",
            f"/api/galleries/{gallery_id}/items",
            {"generation": str(generation.pk)},
            **auth,
        )
        assert response.status_code == 201
    item_id = response.json()["id"]

    response = call(client, "get", f"/api/galleries/{gallery_id}", **auth)
    body = response.json()
    assert [i["generation"] for i in body["items"]] == [
        str(clip.pk),
        str(other_clip.pk),
    ]
    assert body["cover"] == str(clip.pk)

    response = call(
        client,
        "patch",
        f"/api/galleries/{gallery_id}",
        {"title": "Final picks", "cover": str(other_clip.pk), "show_prompts": True},
        **auth,
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Final picks"
    assert response.json()["cover"] == str(other_clip.pk)

    response = call(
        client,
        "post",
        f"/api/galleries/{gallery_id}/shares",
        {"expires_in_hours": 24},
        **auth,
    )
    assert response.status_code == 201
    share = response.json()
    assert share["url"].startswith("http://testserver/s/")
    assert Client().get(share["url"]).status_code == 200

    response = call(client, "delete", f"/api/shares/{share['id']}", **auth)
    assert response.status_code == 204
    assert Client().get(share["url"]).status_code == 404

    response = call(
        client, "delete", f"/api/galleries/{gallery_id}/items/{item_id}", **auth
    )
    assert response.status_code == 204
    response = call(client, "delete", f"/api/galleries/{gallery_id}", **auth)
    assert response.status_code == 204
    assert not Gallery.objects.filter(pk=gallery_id).exists()


def test_the_gallery_list_is_the_users_own(alice_client, bob_client, gallery):
    assert len(alice_client.get("/api/galleries").json()["galleries"]) == 1
    assert bob_client.get("/api/galleries").json() == {"galleries": []}


def api_urls(gallery, item, link) -> list[tuple[str, str, dict | None]]:
    g = gallery.pk
    return [
        ("get", f"/api/galleries/{g}", None),
        ("patch", f"/api/galleries/{g}", {"title": "Mine now"}),
        ("delete", f"/api/galleries/{g}", None),
        ("post", f"/api/galleries/{g}/items", {"generation": "x"}),
        ("delete", f"/api/galleries/{g}/items/{item.pk}", None),
        ("post", f"/api/galleries/{g}/shares", {}),
        ("delete", f"/api/shares/{link.pk}", None),
    ]


@pytest.fixture
def link(alice, gallery):
    from studio.sharing.services import share_link_create

    return share_link_create(owner=alice, gallery=gallery)[0]


def test_another_users_gallery_items_and_shares_answer_404(bob_client, gallery, link):
    for method, url, body in api_urls(gallery, gallery.items.first(), link):
        response = call(bob_client, method, url, body)
        assert response.status_code == 404, (method, url)
        assert "Client picks" not in response.content.decode()
    gallery.refresh_from_db()
    assert gallery.title == "Client picks" and gallery.items.count() == 2
    link.refresh_from_db()
    assert link.revoked is None


def test_an_anonymous_caller_gets_401_everywhere(anonymous_client, gallery, link):
    for method, url, body in api_urls(gallery, gallery.items.first(), link):
        assert call(anonymous_client, method, url, body).status_code == 401, url
    assert anonymous_client.get("/api/galleries").status_code == 401


@pytest.mark.parametrize(
    "url",
    [
        "/api/galleries/not-a-uuid",
        "/api/galleries/not-a-uuid/items",
        "/api/galleries/00000000-0000-0000-0000-000000000000/items/abc",
        "/api/shares/abc",
        "/api/shares/99999",
    ],
)
def test_malformed_ids_answer_a_json_404(alice_client, url):
    method = "delete" if "items/" in url or "shares" in url else "get"
    if url.endswith("/items"):
        method = "post"
    response = call(alice_client, method, url, {})
    assert response.status_code == 404
    assert "error" in response.json()


def test_a_clip_of_another_user_cannot_be_added(alice_client, gallery, bobs_clip):
    response = call(
        alice_client,
        "post",
        f"/api/galleries/{gallery.pk}/items",
        {"generation": str(bobs_clip.pk)},
    )
    assert response.status_code == 400
    assert response.json() == {"errors": {"generation": ["No such clip."]}}


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"title": "x" * 121},
        {"title": "ok", "show_prompts": "yes"},
        {"title": "ok", "owner": 1},
        [],
    ],
)
def test_invalid_gallery_fields_answer_400(alice_client, body):
    response = call(alice_client, "post", "/api/galleries", body)
    assert response.status_code == 400
    assert "errors" in response.json()


@pytest.mark.parametrize("hours", [0, -1, "soon", True, 10**9])
def test_an_invalid_expiry_answers_400(alice_client, gallery, hours):
    response = call(
        alice_client,
        "post",
        f"/api/galleries/{gallery.pk}/shares",
        {"expires_in_hours": hours},
    )
    assert response.status_code == 400
    assert not ShareLink.objects.exists()


def test_a_session_write_without_csrf_is_refused(alice, gallery):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = call(client, "delete", f"/api/galleries/{gallery.pk}")
    assert response.status_code == 403


def test_the_schema_documents_the_gallery_api(anonymous_client):
    paths = anonymous_client.get("/api/schema").json()["paths"]
    for path in (
        "/api/galleries",
        "/api/galleries/{id}",
        "/api/galleries/{id}/items",
        "/api/galleries/{id}/items/{item}",
        "/api/galleries/{id}/shares",
        "/api/shares/{id}",
    ):
        assert path in paths


def test_gallery_fields_are_refused_in_the_galleries_words(alice_client, gallery):
    response = call(alice_client, "post", "/api/galleries", {"description": 5})
    assert response.json() == {
        "errors": {
            "title": ["Give a title of 1 to 120 characters."],
            "description": ["At most 2000 characters of text."],
        }
    }
    body = {"title": "Reel", "cover": str(gallery.cover_id)}
    response = call(alice_client, "post", "/api/galleries", body)
    assert response.json() == {
        "errors": {"cover": ["Add clips first, then pick a cover."]}
    }
    response = call(alice_client, "patch", f"/api/galleries/{gallery.pk}", [])
    assert response.json() == {"errors": {"__all__": ["Send a JSON object."]}}


def test_a_cover_must_be_a_clip_of_yours_in_the_gallery(
    alice_client, gallery, bobs_clip
):
    outside = make_clip(gallery.owner, prompt="a clip in no gallery")
    url = f"/api/galleries/{gallery.pk}"
    for cover, message in (
        ("not an id", "No such clip."),
        (str(bobs_clip.pk), "No such clip."),
        (str(outside.pk), "The cover must be a clip in this gallery."),
    ):
        response = call(alice_client, "patch", url, {"cover": cover})
        assert response.json() == {"errors": {"cover": [message]}}
    response = call(alice_client, "patch", url, {"cover": None})
    assert response.status_code == 200
    assert response.json()["cover"] is None


def test_someone_elses_gallery_is_a_404_whatever_the_body(bob_client, gallery):
    for method, suffix in (("patch", ""), ("post", "/items"), ("post", "/shares")):
        for body in ("{nope", "[]", json.dumps({"title": 5, "generation": 7})):
            response = bob_client.generic(
                method.upper(),
                f"/api/galleries/{gallery.pk}{suffix}",
                body,
                content_type="application/json",
            )
            assert response.status_code == 404, (method, suffix, body)
            assert response.json() == {"error": "No such gallery."}


def test_an_empty_body_reads_as_an_empty_object(alice_client, gallery):
    url = f"/api/galleries/{gallery.pk}"
    response = alice_client.generic("PATCH", url, "", content_type="application/json")
    assert response.status_code == 200
    assert response.json()["title"] == "Client picks"
    response = alice_client.generic(
        "POST", f"{url}/shares", "", content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["expires"] is None and response.json()["label"] == ""


def test_a_gallery_reads_back_as_it_always_has(alice_client, gallery):
    body = alice_client.get(f"/api/galleries/{gallery.pk}").json()
    assert list(body) == [
        "id", "title", "description", "show_prompts", "cover", "created",
        "updated", "items", "page", "pages", "count",
    ]  # fmt: skip
    assert body["created"] == gallery.created.isoformat()
    item = gallery.items.select_related("generation").first()
    assert body["items"][0] == {
        "id": item.pk,
        "position": item.position,
        "generation": str(item.generation_id),
        "prompt": item.generation.prompt,
        "video_url": item.generation.video_url,
        "poster_url": item.generation.poster_url,
    }
    link = call(
        alice_client, "post", f"/api/galleries/{gallery.pk}/shares", {"label": "Mia"}
    ).json()
    assert list(link) == ["id", "url", "label", "expires"]
    assert link["label"] == "Mia" and link["expires"] is None
    link = call(
        alice_client,
        "post",
        f"/api/galleries/{gallery.pk}/shares",
        {"expires_in_hours": 1.5},
    ).json()
    saved = ShareLink.objects.get(pk=link["id"])
    assert link["expires"] == saved.expires.isoformat()


def test_the_schema_takes_its_bounds_from_the_models(anonymous_client):
    document = anonymous_client.get("/api/schema").json()
    operation = document["paths"]["/api/galleries"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["title"]["maxLength"] == (
        Gallery._meta.get_field("title").max_length
    )
    assert "cover" not in body["properties"]
    operation = document["paths"]["/api/galleries/{id}/shares"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    hours = body["properties"]["expires_in_hours"]["anyOf"][0]
    assert hours["maximum"] == MAX_EXPIRY_HOURS
    assert body["properties"]["label"]["maxLength"] == (
        ShareLink._meta.get_field("label").max_length
    )


def test_a_field_with_no_name_is_a_400_not_a_crash(alice_client, gallery):
    for method, url in (
        ("post", "/api/galleries"),
        ("patch", f"/api/galleries/{gallery.pk}"),
    ):
        response = call(alice_client, method, url, {"title": "Reel", "": 1})
        assert response.status_code == 400
        assert response.json() == {"errors": {"__all__": ["Every field needs a name."]}}
