"""POST /api/generations through the one submit service: the request class is
the documented body, the engine's rules do the rest, multipart settings and
uploads share the JSON body's class, and nothing uploaded outlives a refusal."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from generation import adapters, encode, specs
from generation.adapters import animatediff, builtin, wan
from studio.api import MAX_BODY_BYTES
from studio.generations.api import MAX_LIST_PAGE_SIZE, MAX_MODEL_CHARS
from studio.generations.models import Generation
from studio.generations.services import generation_state
from studio.generations.uploads import input_dir
from studio.projects.models import Project

pytestmark = pytest.mark.django_db

PROMPT = "a red ball bouncing to the right, slow push-in"
SMALL = {"num_frames": 9, "width": 64, "height": 64, "steps": 2}


def _unusable(device: str):
    raise AssertionError("nothing here renders a clip")


@pytest.fixture
def takers():
    """A model that starts from an image and one that restyles a video, with
    Wan's and AnimateDiff's rules; nothing here loads them."""
    names = {
        "wan-i2v": wan.capabilities("i2v"),
        "ad-v2v": animatediff.capabilities("v2v"),
    }
    for name, caps in names.items():
        adapters.register(name, _unusable, family=caps.family, capabilities=caps)
    yield names
    for name in names:
        adapters.unregister(name)


def post(client, body, **headers):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        "/api/generations", raw, content_type="application/json", headers=headers
    )


def multipart(client, settings=None, **fields):
    data = dict(fields)
    if settings is not None:
        data["settings"] = json.dumps(settings)
    return client.post("/api/generations", data)


def start_image() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 64), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile("start.png", buffer.getvalue(), content_type="image/png")


def source_video(tmp_path, frames=12) -> SimpleUploadedFile:
    clip = np.zeros((frames, 64, 64, 3), np.uint8)
    clip[..., 2] = np.linspace(0, 255, frames, dtype=np.uint8)[:, None, None]
    data = encode.write_video(clip, tmp_path / "in.mp4", fps=8).read_bytes()
    return SimpleUploadedFile("in.mp4", data, content_type="video/mp4")


def kept_inputs(user) -> list:
    folder = input_dir(user.pk)
    return sorted(folder.glob("*")) if folder.exists() else []


def document(client) -> dict:
    return client.get("/api/schema").json()


# -- the documented request ------------------------------------------------------


def test_the_documented_body_carries_the_engines_shared_bounds(anonymous_client):
    operation = document(anonymous_client)["paths"]["/api/generations"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    fields = body["properties"]
    assert body["required"] == ["prompt"] and body["additionalProperties"] is False
    assert fields["prompt"]["maxLength"] == specs.MAX_PROMPT_CHARS
    assert fields["model"]["maxLength"] == MAX_MODEL_CHARS
    bounds = {
        "num_frames": (specs.MIN_FRAMES, specs.MAX_FRAMES),
        "fps": (specs.MIN_FPS, specs.MAX_FPS),
        "width": (specs.MIN_SIZE, specs.MAX_SIZE),
        "height": (specs.MIN_SIZE, specs.MAX_SIZE),
        "steps": (specs.MIN_STEPS, specs.MAX_STEPS),
        "guidance": (specs.MIN_GUIDANCE, specs.MAX_GUIDANCE),
        "seed": (0, specs.MAX_SEED),
        "strength": (specs.MIN_STRENGTH, specs.MAX_STRENGTH),
    }
    for name, (low, high) in bounds.items():
        number = fields[name]["anyOf"][0]
        assert (number["minimum"], number["maximum"]) == (low, high), name
    # A left-out setting is the model's default; the built-in model's is named.
    caps = builtin.capabilities()
    assert f"is {caps.frames.default}." in fields["num_frames"]["description"]
    assert f"is {caps.steps.default}." in fields["steps"]["description"]


def test_the_multipart_form_is_documented_with_the_same_strength(anonymous_client):
    operation = document(anonymous_client)["paths"]["/api/generations"]["post"]
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["settings"]
    assert {"settings", "image", "video", "strength"} <= set(form["properties"])
    strength = form["properties"]["strength"]["anyOf"][0]
    assert (strength["minimum"], strength["maximum"]) == (
        specs.MIN_STRENGTH,
        specs.MAX_STRENGTH,
    )
    listing = document(anonymous_client)["paths"]["/api/generations"]["get"]
    [size] = [p for p in listing["parameters"] if p["name"] == "page_size"]
    assert size["schema"]["maximum"] == MAX_LIST_PAGE_SIZE


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"prompt": PROMPT, "num_frames": specs.MAX_FRAMES + 1}, "num_frames", "48"),
        ({"prompt": PROMPT, "steps": specs.MIN_STEPS - 1}, "steps", "at least 1"),
        ({"prompt": PROMPT, "model": "m" * (MAX_MODEL_CHARS + 1)}, "model", "60"),
        ({"prompt": PROMPT, "seed": 8.0}, "seed", "whole number"),
        ({"prompt": PROMPT, "guidance": True}, "guidance", "number"),
        ({"prompt": PROMPT, "duration": 2}, "duration", "Unknown field"),
    ],
)
def test_the_request_class_refuses_what_it_documents_in_a_sentence(
    alice_client, body, field, words
):
    response = post(alice_client, body)
    assert response.status_code == 400
    [message] = response.json()["errors"][field]
    assert words in message and message.endswith(".")
    assert not Generation.objects.exists()


def test_the_engine_explains_a_models_own_rule(alice, alice_client, takers):
    body = {"prompt": PROMPT, "model": "wan-i2v", **SMALL, "num_frames": 12}
    response = multipart(alice_client, body, image=start_image())
    assert response.status_code == 400
    assert "4k+1" in response.json()["errors"]["num_frames"][0]
    assert kept_inputs(alice) == []


def test_a_json_body_keeps_the_apis_body_limit_though_uploads_may_be_larger(
    alice_client,
):
    raw = json.dumps({"prompt": PROMPT, "negative_prompt": "x" * MAX_BODY_BYTES})
    response = post(alice_client, raw.encode())
    assert response.status_code == 413
    assert response.json()["errors"]["__all__"] == ["The request body is too large."]


# -- what a created generation says ----------------------------------------------


def test_a_created_clip_answers_as_its_state_with_its_batch(alice, alice_client):
    response = post(alice_client, {"prompt": PROMPT, **SMALL, "seed": 3})
    assert response.status_code == 201
    body = response.json()
    generation = Generation.objects.get(owner=alice)
    # The same fields the websocket's state message carries, and no others
    # than the batch: nothing absent shows up as null.
    state = json.loads(json.dumps(generation_state(generation)))
    assert {k: v for k, v in body.items() if k != "batch"} == state
    assert "video_url" not in body and "error" not in body
    assert body["batch"] == [
        {"id": str(generation.pk), "prompt": PROMPT, "ws_url": generation.ws_url}
    ]


def test_a_prompt_with_choices_queues_one_clip_per_choice(alice, alice_client):
    response = post(alice_client, {"prompt": "a {red|blue} ball", **SMALL})
    assert response.status_code == 201
    batch = response.json()["batch"]
    assert sorted(item["prompt"] for item in batch) == ["a blue ball", "a red ball"]
    assert response.json()["id"] == batch[0]["id"]
    assert Generation.objects.filter(owner=alice).count() == 2


def test_a_prompt_naming_no_character_of_hers_is_a_400(alice_client):
    response = post(alice_client, {"prompt": "@nobody walks a dog"})
    assert response.status_code == 400
    assert "@nobody" in response.json()["errors"]["prompt"][0]
    assert not Generation.objects.exists()


def test_a_bearer_token_files_a_clip_under_its_owners_project(alice, anonymous_client):
    from studio.accounts.services import api_token_create

    token = api_token_create(user=alice, name="script")[1]
    project = Project.objects.create(owner=alice, name="Reel")
    response = post(
        anonymous_client,
        {"prompt": PROMPT, "project": str(project.pk)},
        Authorization=f"Bearer {token}",
    )
    assert response.status_code == 201
    assert response.json()["project"] == str(project.pk)


# -- multipart: settings, uploads and the strength ---------------------------------


def test_the_strength_beside_the_settings_reaches_a_video_model(
    alice_client, takers, tmp_path
):
    body = {"prompt": PROMPT, "model": "ad-v2v", **SMALL, "num_frames": 8}
    response = multipart(
        alice_client, body, video=source_video(tmp_path), strength="0.35"
    )
    assert response.status_code == 201, response.content
    settings = response.json()["settings"]
    assert settings["strength"] == 0.35
    assert settings["video_path"].endswith(".mp4")


def test_a_left_out_strength_is_the_models_default(alice_client, takers, tmp_path):
    body = {"prompt": PROMPT, "model": "ad-v2v", **SMALL, "num_frames": 8}
    response = multipart(alice_client, body, video=source_video(tmp_path))
    assert response.status_code == 201, response.content
    assert response.json()["settings"]["strength"] == takers["ad-v2v"].strength.default


@pytest.mark.parametrize(
    ("strength", "words"),
    [("2", "at most 1"), ("0", "at least 0.05"), ("nan", "number"), ("a", "number")],
)
def test_a_strength_out_of_bounds_is_refused_and_the_video_not_kept(
    alice, alice_client, takers, tmp_path, strength, words
):
    body = {"prompt": PROMPT, "model": "ad-v2v", **SMALL, "num_frames": 8}
    response = multipart(
        alice_client, body, video=source_video(tmp_path), strength=strength
    )
    assert response.status_code == 400
    assert words in response.json()["errors"]["strength"][0]
    assert kept_inputs(alice) == []


def test_the_strength_is_given_once(alice, alice_client, takers, tmp_path):
    body = {"prompt": PROMPT, "model": "ad-v2v", **SMALL, "strength": 0.5}
    response = multipart(
        alice_client, body, video=source_video(tmp_path), strength="0.4"
    )
    assert response.status_code == 400
    assert "once" in response.json()["errors"]["strength"][0]
    assert kept_inputs(alice) == []


def test_multipart_settings_are_checked_by_the_json_bodys_class(alice, alice_client):
    response = multipart(alice_client, {"prompt": PROMPT, "steps": "2"})
    assert response.status_code == 400
    assert response.json()["errors"]["steps"] == [
        "The number of steps must be a whole number."
    ]
    response = multipart(alice_client, image=start_image())
    assert response.status_code == 400
    assert response.json()["errors"]["prompt"] == ["This field is required."]
    assert kept_inputs(alice) == []


def test_an_unknown_upload_is_named_and_nothing_is_kept(alice, alice_client, takers):
    body = {"prompt": PROMPT, "model": "wan-i2v", **SMALL}
    response = multipart(alice_client, body, image=start_image(), poster=start_image())
    assert response.status_code == 400
    assert response.json()["errors"]["poster"] == ["Unknown upload."]
    assert kept_inputs(alice) == []


def test_a_full_queue_answers_429_and_keeps_no_upload(
    alice, alice_client, takers, settings
):
    settings.STUDIO_MAX_QUEUED_PER_USER = 1
    assert post(alice_client, {"prompt": PROMPT}).status_code == 201
    body = {"prompt": PROMPT, "model": "wan-i2v", **SMALL}
    response = multipart(alice_client, body, image=start_image())
    assert response.status_code == 429
    assert "1 clips waiting" in response.json()["error"]
    assert kept_inputs(alice) == []
    assert Generation.objects.filter(owner=alice).count() == 1


def test_a_start_image_is_kept_for_the_clip_that_uses_it(alice, alice_client, takers):
    body = {"prompt": PROMPT, "model": "wan-i2v", **SMALL}
    response = multipart(alice_client, body, image=start_image())
    assert response.status_code == 201, response.content
    generation = Generation.objects.get(pk=response.json()["id"])
    assert [str(p) for p in kept_inputs(alice)] == [generation.settings["image_path"]]
