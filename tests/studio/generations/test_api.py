from __future__ import annotations

import json

import pytest
from django.test import Client

from studio.accounts.services import api_token_create
from studio.generations.models import Generation
from studio.generations.store import output_dir
from studio.projects.models import Project

pytestmark = pytest.mark.django_db

PROMPT = "a red ball bouncing to the right, slow push-in"


def post(client: Client, url: str, data=None, **headers):
    body = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(url, body, content_type="application/json", headers=headers)


@pytest.fixture
def token(alice) -> str:
    return api_token_create(user=alice, name="test")[1]


@pytest.fixture
def generation(alice) -> Generation:
    return Generation.objects.create(
        owner=alice, prompt=PROMPT, seed=1, settings={"prompt": PROMPT, "seed": 1}
    )


def test_alice_queues_a_clip_with_a_bearer_token(alice, token, anonymous_client):
    response = post(
        anonymous_client,
        "/api/generations",
        {"prompt": PROMPT, "num_frames": 8, "steps": 2, "width": 64, "height": 64},
        Authorization=f"Bearer {token}",
    )
    assert response.status_code == 201
    body = response.json()
    generation = Generation.objects.get(pk=body["id"])
    assert generation.owner == alice
    assert body["status"] == "queued"
    assert body["ws_url"] == f"/ws/generations/{generation.pk}"
    assert body["settings"]["num_inference_steps"] == 2
    assert isinstance(body["seed"], int)


def test_a_session_can_use_the_api(alice_client):
    response = post(alice_client, "/api/generations", {"prompt": PROMPT, "seed": 5})
    assert response.status_code == 201
    assert response.json()["settings"]["seed"] == 5


def test_session_posts_still_need_a_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = post(client, "/api/generations", {"prompt": PROMPT})
    assert response.status_code == 403


def test_anonymous_requests_get_a_401(anonymous_client, generation):
    assert (
        post(anonymous_client, "/api/generations", {"prompt": PROMPT}).status_code
        == 401
    )
    assert anonymous_client.get(f"/api/generations/{generation.pk}").status_code == 401


def test_a_wrong_token_gets_a_401(anonymous_client):
    response = post(
        anonymous_client,
        "/api/generations",
        {"prompt": PROMPT},
        Authorization="Bearer st_not-a-real-token",
    )
    assert response.status_code == 401


def test_alice_reads_her_generation(alice_client, generation):
    body = alice_client.get(f"/api/generations/{generation.pk}").json()
    assert body["id"] == str(generation.pk)
    assert body["status"] == "queued"
    assert set(body["progress"]) >= {"step", "steps"}
    assert body["started"] is None and body["finished"] is None
    assert "created" in body and "settings" in body


def test_bob_gets_a_404_for_alices_generation(bob_client, generation):
    assert bob_client.get(f"/api/generations/{generation.pk}").status_code == 404
    response = post(bob_client, f"/api/generations/{generation.pk}/cancel")
    assert response.status_code == 404
    generation.refresh_from_db()
    assert generation.status == Generation.Status.QUEUED


def test_alice_cancels_a_queued_generation(alice_client, generation):
    response = post(alice_client, f"/api/generations/{generation.pk}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_cancelling_a_running_generation_asks_it_to_stop(alice_client, generation):
    Generation.objects.filter(pk=generation.pk).update(status="running")
    response = post(alice_client, f"/api/generations/{generation.pk}/cancel")
    assert response.json()["status"] == "running"
    generation.refresh_from_db()
    assert generation.cancel_requested


def test_a_full_queue_answers_429(alice_client, settings):
    settings.STUDIO_MAX_QUEUED_PER_USER = 2
    for _ in range(2):
        assert (
            post(alice_client, "/api/generations", {"prompt": PROMPT}).status_code
            == 201
        )
    response = post(alice_client, "/api/generations", {"prompt": PROMPT})
    assert response.status_code == 429
    assert Generation.objects.count() == 2


def test_alice_can_file_a_clip_under_her_project(alice, alice_client):
    project = Project.objects.create(owner=alice, name="Reel")
    response = post(
        alice_client, "/api/generations", {"prompt": PROMPT, "project": str(project.pk)}
    )
    assert response.status_code == 201
    assert Generation.objects.get().project == project


def test_bob_cannot_file_a_clip_under_alices_project(alice, bob_client):
    project = Project.objects.create(owner=alice, name="Reel")
    response = post(
        bob_client, "/api/generations", {"prompt": PROMPT, "project": str(project.pk)}
    )
    assert response.status_code == 400
    assert response.json()["errors"]["project"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "x" * 100_000}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({}, "prompt"),
        ({"prompt": 42}, "prompt"),
        ({"prompt": PROMPT, "negative_prompt": ["a"]}, "negative_prompt"),
        ({"prompt": PROMPT, "model": "no-such-model"}, "model"),
        ({"prompt": PROMPT, "model": {"$ne": 1}}, "model"),
        ({"prompt": PROMPT, "num_frames": 4}, "num_frames"),
        ({"prompt": PROMPT, "num_frames": "16"}, "num_frames"),
        ({"prompt": PROMPT, "num_frames": 16.5}, "num_frames"),
        ({"prompt": PROMPT, "num_frames": True}, "num_frames"),
        ({"prompt": PROMPT, "fps": 1000}, "fps"),
        ({"prompt": PROMPT, "width": 101}, "width"),
        ({"prompt": PROMPT, "height": 10**12}, "height"),
        ({"prompt": PROMPT, "steps": 0}, "steps"),
        ({"prompt": PROMPT, "guidance": "high"}, "guidance"),
        ({"prompt": PROMPT, "guidance": 1e308}, "guidance"),
        ({"prompt": PROMPT, "seed": -1}, "seed"),
        ({"prompt": PROMPT, "seed": 2**64}, "seed"),
        ({"prompt": PROMPT, "project": "not-a-uuid"}, "project"),
        ({"prompt": PROMPT, "colour": "red"}, "colour"),
    ],
)
def test_bad_input_answers_400_with_errors_by_field(alice_client, body, field):
    response = post(alice_client, "/api/generations", body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors and all(isinstance(m, str) for m in errors[field])
    assert not Generation.objects.exists()


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", "null", '"text"', "\xff"])
def test_bodies_that_are_not_a_json_object_answer_400(alice_client, raw):
    response = post(alice_client, "/api/generations", raw.encode("latin-1"))
    assert response.status_code == 400
    assert "errors" in response.json()


def test_the_wrong_method_answers_405(alice_client, generation):
    assert alice_client.put("/api/generations").status_code == 405
    assert alice_client.put(f"/api/generations/{generation.pk}").status_code == 405
    assert (
        alice_client.delete(f"/api/generations/{generation.pk}/cancel").status_code
        == 405
    )


def test_alice_deletes_a_clip_with_her_token_and_its_files_go(
    token, anonymous_client, generation, django_capture_on_commit_callbacks
):
    folder = output_dir(generation)
    folder.mkdir(parents=True)
    (folder / "clip.mp4").write_bytes(b"a clip")
    url = f"/api/generations/{generation.pk}"

    with django_capture_on_commit_callbacks(execute=True):
        response = anonymous_client.delete(
            url, headers={"Authorization": f"Bearer {token}"}
        )

    assert response.status_code == 204
    assert not Generation.objects.filter(pk=generation.pk).exists()
    assert not folder.exists()
    again = anonymous_client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 404


def test_bob_and_strangers_cannot_delete_alices_generation(
    bob_client, anonymous_client, generation
):
    url = f"/api/generations/{generation.pk}"
    assert bob_client.delete(url).status_code == 404
    assert anonymous_client.delete(url).status_code == 401
    assert Generation.objects.filter(pk=generation.pk).exists()


def _api_routes(patterns, prefix=""):
    from django.urls import URLPattern, URLResolver

    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _api_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and route.startswith("api/"):
            yield route


def test_the_openapi_schema_describes_every_endpoint(anonymous_client):
    import re

    from studio.urls import urlpatterns

    schema = anonymous_client.get("/api/schema").json()
    assert schema["openapi"].startswith("3.")

    def shape(path: str) -> str:
        return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path.strip("/"))

    documented = {shape(p) for p in schema["paths"]}
    documents = {"api/schema", "api/openapi.json", "api/docs"}
    routes = {shape(r) for r in _api_routes(urlpatterns)} - documents
    assert {
        "api/generations",
        "api/generations/{}",
        "api/generations/{}/cancel",
    } <= documented
    assert routes - documented == set()


def test_a_malformed_id_is_a_json_404(alice_client):
    response = alice_client.get("/api/generations/8")
    assert response.status_code == 404
    assert response.json()["error"]
