"""POST /api/models/<name>/reading for every persona."""

from __future__ import annotations

import pytest

from generation.specs import MAX_PROMPT_CHARS
from studio.accounts.services import api_token_create

pytestmark = pytest.mark.django_db
URL = "/api/models/builtin/reading"


def post(client, body, url=URL, **headers):
    return client.post(url, body, content_type="application/json", headers=headers)


def test_alice_reads_a_prompt_with_her_session(alice_client):
    response = post(alice_client, {"text": "a red ball bouncing, slow push-in"})
    assert response.status_code == 200
    data = response.json()
    assert data["terms"]["colour"] == {"value": "red", "confidence": 1.0}
    assert data["unknown"] == []
    assert data["summary"].startswith("Will draw: red · ball")


def test_alice_reads_a_prompt_with_her_token(alice, anonymous_client):
    _, token = api_token_create(user=alice, name="cli")
    response = post(
        anonymous_client,
        {"text": "a fluffy orange cat walking across a wooden floor"},
        Authorization=f"Bearer {token}",
    )
    assert response.status_code == 200
    assert "cat" in response.json()["unknown"]


def test_an_anonymous_visitor_gets_401(anonymous_client):
    response = post(anonymous_client, {"text": "a red ball"})
    assert response.status_code == 401
    assert "error" in response.json()


def test_a_bad_token_gets_401(anonymous_client):
    response = post(anonymous_client, {"text": "a red ball"}, Authorization="Bearer x")
    assert response.status_code == 401


@pytest.mark.parametrize("name", ["no-such-model", "wan-2.1"])
def test_a_model_without_a_reader_is_a_json_404(alice_client, name):
    response = post(alice_client, {"text": "a red ball"}, f"/api/models/{name}/reading")
    assert response.status_code == 404
    assert "error" in response.json()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": 3},
        {"text": None},
        {"text": ["a"]},
        {"text": "x" * (MAX_PROMPT_CHARS + 1)},
    ],
)
def test_bad_text_is_a_400_naming_the_field(alice_client, body):
    response = post(alice_client, body)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["text"]


def test_a_body_that_is_not_a_json_object_is_a_400(alice_client):
    assert post(alice_client, "[1, 2]").status_code == 400
    assert post(alice_client, "{not json").status_code == 400


def test_only_post_is_allowed(alice_client):
    response = alice_client.get(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_the_api_names_the_words_the_studio_uses_another_way(alice_client):
    response = post(alice_client, {"text": "film noir, a red ball bouncing"})
    assert response.status_code == 200
    data = response.json()
    assert data["unknown"] == []
    assert [item["word"] for item in data["elsewhere"]] == ["film", "noir"]
    assert all("look" in item["use"] for item in data["elsewhere"])
