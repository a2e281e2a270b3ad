"""The OpenAPI schema and the views agree on what is valid.

Each case here is one where they once disagreed: the schema allowed what the
view refused, or the view took what the schema ruled out. The bounds in the
schema are the views' own constants, so the checks read them from there.
"""

from __future__ import annotations

import json

import pytest

from generation import specs
from studio.storyboards.forms import MAX_SHOT_SECONDS
from studio.storyboards.models import MAX_SHOTS, Shot

pytestmark = pytest.mark.django_db


def post(client, path: str, body) -> object:
    return client.post(path, json.dumps(body), content_type="application/json")


def served_body(client, path: str, method: str) -> dict:
    """The JSON body ``/api/schema`` documents for an operation."""
    document = client.get("/api/schema").json()
    operation = document["paths"][path][method]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in body:
        body = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    return body


SHOTS = "/api/storyboards/{storyboard_id}/shots"


@pytest.fixture
def board(alice_client) -> str:
    return post(alice_client, "/api/storyboards", {"title": "Board"}).json()["id"]


def test_a_shot_of_no_length_is_invalid_in_the_schema_and_the_view(alice_client, board):
    duration = served_body(alice_client, SHOTS, "post")["properties"]["duration"]
    assert duration["exclusiveMinimum"] == 0
    assert duration["maximum"] == MAX_SHOT_SECONDS
    for seconds in (0, -1, MAX_SHOT_SECONDS + 1):
        body = {"type": "wide", "prompt": "a hawk", "duration": seconds}
        response = post(alice_client, f"/api/storyboards/{board}/shots", body)
        assert response.status_code == 400
        assert "duration" in response.json()["errors"]


@pytest.mark.parametrize("prompt", [["a", "hawk"], {"a": 1}, 7, True])
def test_a_shot_prompt_that_is_not_text_is_refused_not_stored_as_its_repr(
    alice_client, board, prompt
):
    body = {"type": "wide", "prompt": prompt, "duration": 2}
    response = post(alice_client, f"/api/storyboards/{board}/shots", body)
    assert response.status_code == 400
    assert response.json()["errors"]["prompt"] == ["Prompt must be text."]
    assert not Shot.objects.exists()


def test_a_shot_position_past_what_a_storyboard_holds_is_refused(alice_client, board):
    order = served_body(alice_client, SHOTS, "post")["properties"]["order"]
    assert order["maximum"] == MAX_SHOTS
    body = {"type": "wide", "prompt": "a hawk", "duration": 2, "order": 10**30}
    response = post(alice_client, f"/api/storyboards/{board}/shots", body)
    assert response.status_code == 400
    assert "order" in response.json()["errors"]


def test_storyboard_settings_of_the_wrong_json_type_are_refused(alice_client, board):
    for field, value in (("fps", "8"), ("fps", 8.5), ("burn_captions", 1)):
        response = alice_client.patch(
            f"/api/storyboards/{board}",
            json.dumps({field: value}),
            content_type="application/json",
        )
        assert response.status_code == 400, (field, value)
        assert field in response.json()["errors"]


def test_a_storyboard_with_a_null_project_is_documented_and_lands_in_the_latest(
    alice_client,
):
    project = served_body(alice_client, "/api/storyboards", "post")["properties"][
        "project"
    ]
    assert {"type": "null"} in project["anyOf"]
    response = post(alice_client, "/api/storyboards", {"title": "B", "project": None})
    assert response.status_code == 201


def test_blank_prompt_text_is_invalid_in_the_schema_and_the_view(alice_client):
    text = served_body(alice_client, "/api/prompts", "post")["properties"]["text"]
    assert text["minLength"] == 1 and text["pattern"] == r"\S"
    for blank in ("", "   "):
        response = post(alice_client, "/api/prompts", {"text": blank})
        assert response.status_code == 400
        assert "text" in response.json()["errors"]


def test_a_null_prompt_field_is_refused_rather_than_read_as_empty(alice_client):
    response = post(alice_client, "/api/prompts", {"text": "a fox", "rating": None})
    assert response.status_code == 400
    assert "rating" in response.json()["errors"]


def test_coach_frame_counts_outside_the_engine_are_invalid_in_both(alice_client):
    body = served_body(alice_client, "/api/prompts/coach", "post")["properties"]
    frames = body["num_frames"]["anyOf"][0]
    assert frames["minimum"] == specs.MIN_FRAMES
    assert frames["maximum"] == specs.MAX_FRAMES
    for frames in (0, specs.MAX_FRAMES + 1, 1e999):
        raw = json.dumps({"text": "a fox", "num_frames": frames})
        response = alice_client.post(
            "/api/prompts/coach", raw, content_type="application/json"
        )
        assert response.status_code == 400
    response = post(alice_client, "/api/prompts/coach", {"text": "a fox"})
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["status", "project", "starred"])
def test_an_empty_clip_filter_is_refused_as_the_schema_says(alice_client, name):
    response = alice_client.get("/api/generations", {name: ""})
    assert response.status_code == 400
    assert name in response.json()["errors"]


def test_an_empty_sort_is_refused_as_the_schema_says(alice_client):
    response = alice_client.get("/api/prompts", {"sort": ""})
    assert response.status_code == 400


def test_an_import_whose_lists_are_not_a_list_is_refused(alice_client):
    body = {"format": "studio.prompt-library", "version": 1, "lists": False}
    response = post(alice_client, "/api/prompts/import", body)
    assert response.status_code == 400


def test_an_imported_version_number_past_a_database_integer_is_refused(
    alice_client,
):
    body = {
        "format": "studio.prompt-library",
        "version": 1,
        "prompts": [
            {"text": "a fox", "versions": [{"text": "a fox", "number": 2**40}]}
        ],
    }
    response = post(alice_client, "/api/prompts/import", body)
    assert response.status_code == 400
