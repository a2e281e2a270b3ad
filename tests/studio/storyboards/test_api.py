from __future__ import annotations

import json

import pytest

from studio.accounts.services import api_token_create
from studio.generations.models import Generation
from studio.storyboards import services
from studio.storyboards.models import Storyboard, Take

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
    missing = alice_client.post(url)
    assert missing.status_code == 409
    assert missing.json() == {
        "error": "Shots 1, 2, 3 need a finished take first: generate the missing shots."
    }
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
        ("POST", "/generate"),
        ("POST", "/shots/{shot}/takes"),
    ],  # fmt: skip
)
def test_other_users_get_404_and_anonymous_visitors_401(
    bob_client, anonymous_client, storyboard, shots, method, suffix
):
    url = f"/api/storyboards/{storyboard.pk}{suffix.format(shot=shots[0].pk)}"
    data = {"title": "x"} if method != "GET" else None
    assert send(bob_client, method, url, data).status_code == 404
    assert send(anonymous_client, method, url, data).status_code == 401
    shot_url = f"/api/storyboards/{storyboard.pk}/shots/{shots[0].pk}"
    assert send(bob_client, "PATCH", shot_url, {"prompt": "x"}).status_code == 404
    assert send(bob_client, "DELETE", shot_url).status_code == 404
    assert Storyboard.objects.filter(pk=storyboard.pk).exists()
    assert not Generation.objects.exists()


def test_malformed_ids_answer_404_in_json(alice_client):
    assert alice_client.get("/api/storyboards/not-a-uuid").status_code == 404
    assert alice_client.get("/api/storyboards/not-a-uuid/shots/x").json()["error"]


def test_the_schema_lists_the_storyboard_paths(alice_client):
    paths = alice_client.get("/api/schema").json()["paths"]
    assert "/api/storyboards/{storyboard_id}/render" in paths


def test_a_shot_posted_without_a_type_is_a_medium_shot(alice_client, storyboard):
    url = f"/api/storyboards/{storyboard.pk}/shots"
    response = send(alice_client, "POST", url, {"prompt": "a key", "duration": 1})
    assert response.status_code == 201
    assert response.json()["type"] == "medium"


def test_a_storyboard_is_found_before_its_body_is_read(bob_client, storyboard):
    url = f"/api/storyboards/{storyboard.pk}/shots"
    response = send(bob_client, "POST", url, {"type": "dolly", "duration": "1"})
    assert response.status_code == 404
    assert response.json() == {"error": "No such storyboard."}


# -- takes ----------------------------------------------------------------------------


def test_a_take_of_one_shot_is_queued_with_the_shot_and_the_storyboards_settings(
    alice_client, storyboard, shots
):
    services.storyboard_update(storyboard=storyboard, style="film grain")
    url = f"/api/storyboards/{storyboard.pk}/shots/{shots[1].pk}/takes"
    response = alice_client.post(url)
    assert response.status_code == 202
    queued = response.json()
    take = Take.objects.select_related("generation").get(shot=shots[1])
    assert queued == {
        "shot": shots[1].pk,
        "number": 1,
        "generation": str(take.generation_id),
        "status": "queued",
        "ws_url": f"/ws/generations/{take.generation_id}",
    }
    spec = take.generation.spec
    assert spec.prompt == "close-up, a yellow star drifting left, film grain"
    assert (spec.num_frames, spec.fps, spec.width, spec.height) == (12, 8, 64, 64)
    assert spec.num_inference_steps == 2
    assert take.generation.project == storyboard.project
    again = alice_client.post(url).json()
    assert again["number"] == 2 and again["generation"] != queued["generation"]
    shot = alice_client.get(f"/api/storyboards/{storyboard.pk}/shots/{shots[1].pk}")
    assert [t["generation"] for t in shot.json()["takes"]] == [
        queued["generation"],
        again["generation"],
    ]


def test_generating_the_missing_takes_queues_one_per_shot_in_order_then_nothing(
    alice_client, storyboard, shots, make_take
):
    make_take(shots[1])
    url = f"/api/storyboards/{storyboard.pk}/generate"
    response = alice_client.post(url)
    assert response.status_code == 202
    answer = response.json()
    assert [t["shot"] for t in answer["takes"]] == [shots[0].pk, shots[2].pk]
    assert answer["generations"] == [t["generation"] for t in answer["takes"]]
    queued = Generation.objects.filter(status="queued").order_by("created")
    assert [str(g.pk) for g in queued] == answer["generations"]
    # Queued takes are on their way: no shot lacks one now.
    nothing = alice_client.post(url)
    assert nothing.status_code == 200
    assert nothing.json() == {"generations": [], "takes": []}
    assert Generation.objects.count() == 3


def test_a_shot_of_another_storyboard_is_not_found_under_this_one(
    alice_client, bob, bob_client, storyboard, shots
):
    bobs = services.storyboard_create(
        owner=bob, project=bob.projects.create(name="Bob's"), title="Bob's"
    )
    bobs_shot = services.shot_add(storyboard=bobs, prompt="a blue box", duration=1)
    for client, board, shot in [
        (bob_client, bobs, shots[0]),
        (alice_client, storyboard, bobs_shot),
    ]:
        url = f"/api/storyboards/{board.pk}/shots/{shot.pk}/takes"
        response = client.post(url)
        assert response.status_code == 404
        assert response.json() == {"error": "No such shot."}
    assert not Take.objects.exists()


def test_a_full_queue_answers_429_and_queues_nothing(
    alice_client, storyboard, shots, settings
):
    settings.STUDIO_MAX_QUEUED_PER_USER = 2
    response = alice_client.post(f"/api/storyboards/{storyboard.pk}/generate")
    assert response.status_code == 429
    assert response.json()["error"] == (
        "You already have 2 clips waiting; wait for some to finish or cancel one."
    )
    assert not Take.objects.exists() and not Generation.objects.exists()
    url = f"/api/storyboards/{storyboard.pk}/shots/{shots[0].pk}/takes"
    assert [alice_client.post(url).status_code for _ in range(3)] == [202, 202, 429]


def test_settings_the_model_cannot_take_answer_400_with_the_engines_reason(
    alice_client, storyboard, shots
):
    services.shot_update(shot=shots[1], continue_from_previous=True)
    _, reason = services.continue_support(storyboard.model)
    url = f"/api/storyboards/{storyboard.pk}/shots/{shots[1].pk}/takes"
    response = alice_client.post(url)
    assert response.status_code == 400
    assert response.json() == {"error": reason}
    generate = alice_client.post(f"/api/storyboards/{storyboard.pk}/generate")
    assert generate.status_code == 400
    assert generate.json() == {"error": reason}
    assert not Take.objects.exists() and not Generation.objects.exists()


def test_the_take_routes_are_documented_by_their_answers(anonymous_client):
    document = anonymous_client.get("/api/schema").json()
    paths = document["paths"]
    take = paths["/api/storyboards/{storyboard_id}/shots/{shot_id}/takes"]["post"]
    assert {"202", "400", "404", "429"} <= set(take["responses"])
    ref = take["responses"]["202"]["content"]["application/json"]["schema"]["$ref"]
    queued = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert queued["properties"]["generation"]["format"] == "uuid"
    generate = paths["/api/storyboards/{storyboard_id}/generate"]["post"]
    assert {"200", "202", "400", "404", "429"} <= set(generate["responses"])


@pytest.fixture
def tiny_wan(tmp_path):
    from generation.tiny_models import save_tiny
    from studio.registry.models import RegisteredModel
    from studio.registry.services import model_add, registry_sync

    model_add(name="tiny-wan", family="wan", path=str(save_tiny("wan", tmp_path / "w")))
    yield "tiny-wan"
    RegisteredModel.objects.all().delete()
    registry_sync()


def test_a_storyboard_takes_the_sizes_and_rates_its_model_can_make(
    alice_client, storyboard, tiny_wan
):
    url = f"/api/storyboards/{storyboard.pk}"
    # The built-in model renders any even size: 66 is not a multiple of 8.
    response = send(alice_client, "PATCH", url, {"width": 66, "height": 98})
    assert response.status_code == 200, response.json()
    assert (response.json()["width"], response.json()["height"]) == (66, 98)
    # Wan's sides are multiples of 16, said in Wan's words.
    response = send(
        alice_client, "PATCH", url,
        {"model": tiny_wan, "width": 840, "height": 480, "fps": 16},
    )  # fmt: skip
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["width"]
    assert "Wan" in errors["width"][0] and "16" in errors["width"][0]
    response = send(
        alice_client, "PATCH", url,
        {"model": tiny_wan, "width": 832, "height": 480, "fps": 16},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["model"] == tiny_wan
