"""A registered audio model (a tiny random Stable Audio) makes a clip's music
in place of the built-in composer: offered in the Sound panel, named in the
API's sound settings, and heard in the clip's audio at the clip's length."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from generation.clip_audio import clip_audio
from generation.sound import SAMPLE_RATE
from generation.specs import GenerationSpec
from studio.projects.models import Project
from studio.registry.models import RegisteredModel
from tests.conftest import models_command

pytestmark = pytest.mark.django_db
PROMPT = "a red ball bouncing to the right, slow push-in"


@pytest.fixture
def music(audio_folder, forget_registered_models):
    models_command("add", "music", "--path", str(audio_folder))
    return RegisteredModel.objects.get(name="music")


def test_the_sound_panel_offers_the_audio_model_beside_the_composer(
    alice, alice_client, music
):
    project = Project.objects.create(owner=alice, name="Music")
    page = alice_client.get(project.get_absolute_url()).content.decode()
    assert 'for="id_sound_music_model"' in page
    assert "Built-in composer" in page and '<option value="music">' in page


def test_without_audio_models_the_panel_shows_the_composer_only(alice, alice_client):
    project = Project.objects.create(owner=alice, name="Plain")
    page = alice_client.get(project.get_absolute_url()).content.decode()
    assert "id_sound_music_model" not in page


def test_the_api_names_the_audio_model_for_the_music(alice_client, music):
    body = {"prompt": PROMPT, "num_frames": 9, "width": 64, "height": 64,
            "steps": 2, "sound": {"music_model": "music"}}  # fmt: skip
    answer = alice_client.post(
        "/api/generations", json.dumps(body), content_type="application/json"
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["settings"]["sound"]["music_model"] == "music"
    body["sound"] = {"music_model": "orchestra"}
    refused = alice_client.post(
        "/api/generations", json.dumps(body), content_type="application/json"
    )
    assert refused.status_code == 400
    assert "no audio model called “orchestra”" in refused.json()["errors"]["sound"][0]


def test_the_audio_model_makes_the_clips_music_at_its_length(music):
    frames = np.zeros((8, 64, 64, 3), np.uint8)
    spec = GenerationSpec(prompt=PROMPT, num_frames=8, fps=8, seed=5)
    music_only = {"music": True, "effects": False, "voice": False}
    by_model = replace(spec, sound={**music_only, "music_model": "music"})
    composed = replace(spec, sound=music_only)
    made, rate = clip_audio(by_model, frames)
    again, _ = clip_audio(by_model, frames)
    written, _ = clip_audio(composed, frames)
    assert rate == SAMPLE_RATE
    assert made.shape == written.shape == (2, SAMPLE_RATE)  # 8 frames at 8 fps
    assert np.abs(made).max() > 0.01
    np.testing.assert_array_equal(made, again)  # the same seed, the same sound
    assert not np.allclose(made, written, atol=1e-3)
