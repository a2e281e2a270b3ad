"""Ids and numbers in API paths and query strings that int() would refuse."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from studio.accounts.services import api_token_create
from studio.projects.models import Project

pytestmark = pytest.mark.django_db

SUPERSCRIPT_TWO = "%C2%B2"


@pytest.fixture
def ids(alice_client) -> dict[str, str]:
    def post(path: str, body: dict) -> dict:
        response = alice_client.post(path, body, content_type="application/json")
        assert response.status_code == 201, response.content
        return response.json()

    made = {"gallery": post("/api/galleries", {"title": "Reel"})["id"]}
    made["storyboard"] = post("/api/storyboards", {"title": "Board"})["id"]
    made["prompt"] = post("/api/prompts", {"text": "a red ball"})["id"]
    return made


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/prompts/{n}"),
        ("patch", "/api/prompts/{n}"),
        ("delete", "/api/prompts/{n}"),
        ("get", "/api/prompts/{n}/versions"),
        ("delete", "/api/shares/{n}"),
        ("delete", "/api/galleries/{gallery}/items/{n}"),
        ("get", "/api/storyboards/{storyboard}/shots/{n}"),
        ("patch", "/api/storyboards/{storyboard}/shots/{n}"),
    ],
)
@pytest.mark.parametrize("number", [SUPERSCRIPT_TWO, "99999999999999999999", "0"])
def test_an_id_int_cannot_read_is_a_json_404_like_any_unknown_id(
    alice_client, ids, method, path, number
):
    url = path.format(n=number, **ids)
    response = alice_client.generic(
        method.upper(), url, "{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert "error" in response.json()


@pytest.mark.parametrize(
    "query",
    [
        "page_size=" + SUPERSCRIPT_TWO,
        "page=" + SUPERSCRIPT_TWO,
        "page_size=1e999999",
        "page=99999999999999999999999",
        "page_size=",
    ],
)
@pytest.mark.parametrize("path", ["/api/generations", "/api/prompts"])
def test_a_page_number_int_cannot_read_is_a_400_with_a_sentence(
    alice_client, path, query
):
    response = alice_client.get(f"{path}?{query}")
    assert response.status_code == 400
    name = query.partition("=")[0]
    assert response.json()["errors"][name][0].endswith(".")


def test_a_gallery_page_int_cannot_read_is_a_400(alice_client, ids):
    response = alice_client.get(f"/api/galleries/{ids['gallery']}?page=²")
    assert response.status_code == 400
    assert "Page" in response.json()["errors"]["page"][0]


@pytest.mark.parametrize("rating", ["²", "3", 10**30, 2.5])
def test_a_rating_that_is_not_a_whole_number_is_a_400(alice, rating):
    token = api_token_create(user=alice, name="test")[1]
    client = Client(headers={"Authorization": f"Bearer {token}"})
    body = json.dumps({"text": "a fox running, pan left", "rating": rating})
    created = client.post("/api/prompts", body, content_type="application/json")
    assert created.status_code == 400
    assert "rating" in created.json()["errors"]
    saved = client.post(
        "/api/prompts", {"text": "a fox"}, content_type="application/json"
    ).json()
    patched = client.patch(
        f"/api/prompts/{saved['id']}", body, content_type="application/json"
    )
    assert patched.status_code == 400
    assert "rating" in patched.json()["errors"]


def test_the_prompt_box_ignores_a_library_id_int_cannot_read(alice, alice_client):
    project = Project.objects.create(owner=alice, name="Harbour")
    for value in ("²", "99999999999999999999", "-1"):
        response = alice_client.get(f"/projects/{project.pk}/", {"prompt": value})
        assert response.status_code == 200
        response = alice_client.post(
            f"/projects/{project.pk}/generate/",
            {"prompt": "", "library_prompt": value},
        )
        assert response.status_code < 500
