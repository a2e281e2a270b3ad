"""Audio models in the registry: a Stable Audio folder added by path is an
audio model, listed with its kind, offered for sound and never for clips."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import CommandError
from django.urls import reverse

from generation.adapters import stable_audio as sa
from generation.tiny_audio import MAX_SECONDS, SAMPLE_RATE
from generation.tiny_models import save_tiny
from studio.generations.validation import model_names
from studio.projects.services import project_create
from studio.registry.models import RegisteredModel
from studio.registry.services import (
    RegistryError,
    audio_models_for,
    model_add,
)
from tests.conftest import models_command

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("forget_registered_models"),
]
run = models_command


@pytest.fixture
def music(audio_folder) -> RegisteredModel:
    run("add", "music", "--path", str(audio_folder))
    return RegisteredModel.objects.get(name="music")


def test_models_add_records_a_stable_audio_folder_as_an_audio_model(music):
    assert (music.family, music.task, music.status) == (
        "stableaudio",
        "t2a",
        "available",
    )
    assert music.get_family_display() == "Stable Audio"
    assert sa.registered_names() == ["music"]


def test_the_family_may_also_be_named(audio_folder):
    output = run("add", "named", "--family", "stableaudio", "--path", str(audio_folder))
    assert "Registered named (stableaudio, t2a). It makes audio" in output


def test_the_api_lists_it_as_audio_with_its_rate_and_longest_sound(alice_client, music):
    listed = {m["name"]: m for m in alice_client.get("/api/models").json()["models"]}
    audio = listed["music"]
    assert (audio["kind"], audio["family"], audio["task"]) == (
        "audio",
        "stableaudio",
        "t2a",
    )
    assert audio["status"] == "available"
    assert audio["capabilities"] is None
    assert audio["audio"]["sample_rate"] == SAMPLE_RATE
    assert audio["audio"]["max_seconds"] == MAX_SECONDS
    assert audio["audio"]["channels"] == 2
    assert audio["description"] == "Stable Audio (text → audio)"
    assert "path" not in audio
    assert listed["builtin"]["kind"] == "video"
    assert listed["builtin"]["audio"] is None
    assert alice_client.get("/api/models/music").json() == audio


def test_it_is_not_offered_in_the_video_model_picker(alice, alice_client, music):
    assert "music" not in model_names()
    project = project_create(owner=alice, name="Promo")
    page = alice_client.get(reverse("projects:detail", args=[project.pk]))
    assert page.status_code == 200
    picker = re.search(
        r'<select name="model"[^>]*>(.*?)</select>', page.content.decode(), re.S
    )
    assert picker is not None
    offered = re.findall(r'<option value="([^"]+)"', picker.group(1))
    assert "builtin" in offered
    assert "music" not in offered


def test_a_clip_cannot_be_made_with_an_audio_model(alice_client, music):
    response = alice_client.post(
        "/api/generations",
        json.dumps({"prompt": "a red ball bouncing", "model": "music"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "model" in response.json()["errors"]


def test_audio_models_for_lists_what_a_signed_in_creator_may_use(
    alice, bob, music, tmp_path
):
    model_add(name="video", family="wan", path=str(save_tiny("wan", tmp_path / "w")))
    model_add(name="broken", path=str(tmp_path), family="stableaudio")
    for user in (alice, bob):
        found = audio_models_for(user)
        assert [m["name"] for m in found] == ["music"]
        assert found[0]["sample_rate"] == SAMPLE_RATE
        assert found[0]["max_seconds"] == MAX_SECONDS
        assert found[0]["label"] == "music (Stable Audio)"


def test_an_anonymous_visitor_gets_no_audio_models(music):
    from django.contrib.auth.models import AnonymousUser

    assert audio_models_for(AnonymousUser()) == []
    assert audio_models_for(None) == []


def test_a_listed_audio_model_makes_sound(alice, music):
    (found,) = audio_models_for(alice)
    adapter = sa.audio_adapter(found["name"], device="cpu")
    samples, rate = adapter.generate_audio("rain on a tin roof", 0.75, 4, steps=2)
    assert samples.shape == (2, round(0.75 * rate)) and rate == found["sample_rate"]


def test_a_folder_of_no_known_kind_is_refused_with_a_sentence(tmp_path):
    with pytest.raises(CommandError, match="not a model folder this studio knows"):
        run("add", "nothing", "--path", str(tmp_path))
    assert not RegisteredModel.objects.filter(name="nothing").exists()


def test_a_video_folder_named_as_stable_audio_is_unavailable_with_the_reason(
    tmp_path,
):
    folder = save_tiny("hunyuan", tmp_path / "video")
    output = run("add", "mixed", "--family", "stableaudio", "--path", str(folder))
    assert "unavailable" in output
    model = RegisteredModel.objects.get(name="mixed")
    assert model.status == "unavailable"
    assert model.reason == (
        "The folder holds a HunyuanVideoPipeline pipeline, not a StableAudioPipeline."
    )
    assert sa.registered_names() == []


def test_an_audio_folder_named_as_a_video_family_is_unavailable(audio_folder):
    model = model_add(name="wrong", family="wan", path=str(audio_folder))
    assert model.status == "unavailable"
    assert "StableAudioPipeline" in model.reason
    assert "wrong" not in model_names()


def test_an_audio_model_only_does_text_to_audio(audio_folder):
    with pytest.raises(RegistryError, match="stableaudio models do t2a; not 't2v'"):
        model_add(name="x", family="stableaudio", task="t2v", path=str(audio_folder))


def test_the_models_page_shows_the_audio_model(alice_client, music):
    page = alice_client.get(reverse("registry:list")).content.decode()
    row = re.search(r'<tr id="model-music".*?</tr>', page, re.S)
    assert row is not None
    assert "sound up to 2 s · 2048 Hz stereo" in row.group(0)
