from __future__ import annotations

import json

import pytest

from studio.accounts.services import api_token_create
from studio.storyboards.models import Storyboard

pytestmark = pytest.mark.django_db


def send(client, method, url, data=None, **headers):
    body = json.dumps(data) if data is not None else ""
    call = getattr(client, method.lower())
    return call(url, body, content_type="application/json", **headers)


def test_alice_creates_lists_and_reads_storyboards(alice_client, project):
    response = send(alice_client, "POST", "/api/storyboards", {"title": "Opening"})
    assert response.status_code == 201
    created = response.json()
    assert created["title"] == "Opening" and created["shots"] == []
    listed = alice_client.get("/api/storyboards").json()["storyboards"]
    assert [s["id"] for s in listed] == [created["id"]]
    assert alice_client.get(f"/api/storyboards/{created['id']}").status_code == 200


def test_a_bearer_token_works_without_a_session(alice, anonymous_client, project):
    _, token = api_token_create(user=alice, name="script")
    response = send(
        anonymous_client, "POST", "/api/storyboards", {"title": "T"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert response.status_code == 201


def test_the_api_refuses_bad_input_with_messages(alice_client, storyboard):
    assert send(alice_client, "POST", "/api/storyboards", {}).status_code == 400
    response = alice_client.post(
        "/api/storyboards", "{nope", content_type="application/json"
    )
    assert response.status_code == 400
    url = f"/api/storyboards/{storyboard.pk}/shots"
    bad = send(
        alice_client, "POST", url, {"type": "dolly", "prompt": "", "duration": 1.1}
    )
    errors = bad.json()["errors"]
    assert set(errors) == {"type", "prompt", "duration"}
    assert (
        send(
            alice_client, "POST", url, {"prompt": "x", "duration": 1, "colour": 1}
        ).status_code
        == 400
    )
    assert (
        send(
            alice_client, "PATCH", f"/api/storyboards/{storyboard.pk}", {"fps": 1000}
        ).status_code
        == 400
    )


def test_shots_are_added_at_an_order_patched_and_deleted(
    alice_client, storyboard, shots
):
    url = f"/api/storyboards/{storyboard.pk}/shots"
    response = send(
        alice_client, "POST", url,
        {"type": "insert", "prompt": "a key", "duration": 1, "caption": "Hm.", "order": 1},
    )  # fmt: skip
    assert response.status_code == 201
    new = response.json()
    assert new["order"] == 1 and new["type"] == "insert"
    listed = alice_client.get(url).json()["shots"]
    assert [s["type"] for s in listed] == [
        "insert",
        "establishing",
        "close-up",
        "reaction",
    ]
    moved = send(
        alice_client, "PATCH", f"{url}/{new['id']}", {"order": 4, "duration": 2}
    )
    assert moved.status_code == 200
    assert moved.json()["order"] == 4 and moved.json()["duration"] == 2
    assert alice_client.delete(f"{url}/{new['id']}").status_code == 204
    assert [s["order"] for s in alice_client.get(url).json()["shots"]] == [1, 2, 3]


def test_storyboard_settings_are_patched(alice_client, storyboard):
    url = f"/api/storyboards/{storyboard.pk}"
    response = send(
        alice_client, "PATCH", url, {"title": "New", "transition": "crossfade"}
    )
    assert response.status_code == 200
    assert response.json()["transition"] == "crossfade"
    assert Storyboard.objects.get(pk=storyboard.pk).title == "New"


def test_rendering_answers_202_with_a_generation_job(
    alice_client, storyboard, shots, make_take
):
    url = f"/api/storyboards/{storyboard.pk}/render"
    assert alice_client.post(url).status_code == 409
    for shot in shots:
        make_take(shot)
    response = alice_client.post(url)
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "queued" and job["ws_url"] == f"/ws/generations/{job['id']}"
    assert alice_client.get(f"/api/generations/{job['id']}").json()["id"] == job["id"]


@pytest.mark.parametrize(
    "method,suffix",
    [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("GET", "/shots"),
        ("POST", "/shots"),
        ("POST", "/render"),
    ],  # fmt: skip
)
def test_other_users_get_404_and_anonymous_visitors_401(
    bob_client, anonymous_client, storyboard, shots, method, suffix
):
    url = f"/api/storyboards/{storyboard.pk}{suffix}"
    data = {"title": "x"} if method != "GET" else None
    assert send(bob_client, method, url, data).status_code == 404
    assert send(anonymous_client, method, url, data).status_code == 401
    shot_url = f"/api/storyboards/{storyboard.pk}/shots/{shots[0].pk}"
    assert send(bob_client, "PATCH", shot_url, {"prompt": "x"}).status_code == 404
    assert send(bob_client, "DELETE", shot_url).status_code == 404
    assert Storyboard.objects.filter(pk=storyboard.pk).exists()


def test_malformed_ids_answer_404_in_json(alice_client):
    assert alice_client.get("/api/storyboards/not-a-uuid").status_code == 404
    assert alice_client.get("/api/storyboards/not-a-uuid/shots/x").json()["error"]


def test_the_schema_lists_the_storyboard_paths(alice_client):
    paths = alice_client.get("/api/schema").json()["paths"]
    assert "/api/storyboards/{storyboard_id}/render" in paths
