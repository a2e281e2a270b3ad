"""Stable Audio by path: a tiny random-weight StableAudioPipeline saved to a
folder, registered with ``manage.py models add``, making sound on the CPU."""

from __future__ import annotations

import json

import numpy as np
import pytest

from generation import adapters
from generation.adapters import InvalidSpecError, ModelUnavailableError
from generation.adapters import stable_audio as sa
from generation.specs import GenerationCancelled
from generation.tiny_audio import MAX_SECONDS, SAMPLE_RATE
from generation.tiny_models import save_tiny
from tests.conftest import models_command

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("forget_registered_models"),
]
run = models_command
PROMPT = "warm synth pads over a slow drum loop"


@pytest.fixture
def registered(audio_folder) -> sa.StableAudioAdapter:
    """The tiny model added by path alone, as a creator would, then loaded."""
    output = run("add", "tiny-audio", "--path", str(audio_folder))
    assert "Registered tiny-audio (stableaudio, t2a)." in output
    assert "makes audio" in output
    return sa.audio_adapter("tiny-audio", device="cpu")


def test_the_folder_is_detected_and_its_limits_read_from_its_configs(audio_folder):
    assert sa.is_stable_audio_folder(audio_folder)
    assert sa.check_folder(audio_folder) == ""
    limits = sa.folder_limits(audio_folder)
    assert (limits.sample_rate, limits.max_seconds) == (SAMPLE_RATE, MAX_SECONDS)


def test_it_makes_stereo_sound_exactly_as_long_as_asked(registered):
    samples, rate = registered.generate_audio(PROMPT, 1.2345, 3, steps=2)
    assert rate == SAMPLE_RATE == registered.sample_rate
    assert samples.dtype == np.float32
    assert samples.shape == (2, round(1.2345 * SAMPLE_RATE))
    assert np.isfinite(samples).all()
    assert np.abs(samples).max() > 0


def test_the_longest_sound_the_model_holds_is_allowed(registered):
    samples, rate = registered.generate_audio(PROMPT, MAX_SECONDS, 1, steps=1)
    assert samples.shape == (2, round(MAX_SECONDS * rate))


def test_the_same_seed_gives_the_same_samples_and_another_seed_does_not(registered):
    first, _ = registered.generate_audio(PROMPT, 0.5, 11, steps=2)
    again, _ = registered.generate_audio(PROMPT, 0.5, 11, steps=2)
    other, _ = registered.generate_audio(PROMPT, 0.5, 12, steps=2)
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)


def test_a_negative_prompt_changes_the_sound(registered):
    plain, _ = registered.generate_audio(PROMPT, 0.5, 5, steps=2)
    steered, _ = registered.generate_audio(
        PROMPT, 0.5, 5, negative_prompt="noise hiss", steps=2
    )
    assert steered.shape == plain.shape
    assert not np.allclose(plain, steered)


def test_every_step_is_reported_and_a_stop_ends_the_run(registered):
    heard: list[tuple[int, int]] = []
    registered.generate_audio(
        PROMPT, 0.5, 2, steps=3, on_progress=lambda *s: heard.append(s)
    )
    assert heard == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(GenerationCancelled):
        registered.generate_audio(
            PROMPT, 0.5, 2, steps=3, should_stop=lambda: len(heard) >= 4,
            on_progress=lambda *s: heard.append(s),
        )  # fmt: skip
    assert len(heard) == 4


def test_a_sound_longer_than_the_model_holds_is_refused_with_a_sentence(registered):
    with pytest.raises(ValueError) as caught:
        registered.generate_audio(PROMPT, MAX_SECONDS + 0.5, 1, steps=1)
    assert isinstance(caught.value, InvalidSpecError)
    message = caught.value.errors["seconds"][0]
    assert message == (
        f"This model makes sounds from 0.1 to {MAX_SECONDS:g} seconds long; "
        f"{MAX_SECONDS + 0.5:g} seconds is too long."
    )


@pytest.mark.parametrize(
    ("prompt", "seconds", "seed", "steps", "field", "words"),
    [
        ("", 1.0, 1, 2, "prompt", "prompt is empty"),
        ("x" * 2001, 1.0, 1, 2, "prompt", "under 2000 characters"),
        (PROMPT, 0.01, 1, 2, "seconds", "too short"),
        (PROMPT, float("nan"), 1, 2, "seconds", "number of seconds"),
        (PROMPT, "2", 1, 2, "seconds", "number of seconds"),
        (PROMPT, True, 1, 2, "seconds", "number of seconds"),
        (PROMPT, 1.0, -1, 2, "seed", "between 0 and"),
        (PROMPT, 1.0, 1.5, 2, "seed", "whole number"),
        (PROMPT, 1.0, 1, 0, "steps", "between 1 and 100"),
        (PROMPT, 1.0, 1, 101, "steps", "between 1 and 100"),
    ],
)
def test_bad_settings_are_refused_per_field(
    registered, prompt, seconds, seed, steps, field, words
):
    with pytest.raises(InvalidSpecError) as caught:
        registered.generate_audio(prompt, seconds, seed, steps=steps)
    assert list(caught.value.errors) == [field]
    assert words in caught.value.errors[field][0]
    assert caught.value.errors[field][0].endswith(".")


def test_a_mono_model_is_made_stereo_by_duplicating_its_channel():
    mono = np.linspace(-1, 1, 7, dtype=np.float64)[None]
    stereo = sa.to_stereo(mono, 9)
    assert stereo.dtype == np.float32 and stereo.shape == (2, 9)
    assert np.array_equal(stereo[0], stereo[1])
    assert np.array_equal(stereo[0, 7:], [0, 0])
    assert sa.to_stereo(np.ones((2, 12)), 10).shape == (2, 10)


def test_an_audio_model_is_not_a_video_model(registered):
    assert "tiny-audio" not in [m["name"] for m in adapters.available_models()]
    assert not adapters.is_registered("tiny-audio")
    assert sa.registered_names() == ["tiny-audio"]


def test_an_unknown_audio_model_is_unavailable_with_a_sentence():
    with pytest.raises(ModelUnavailableError, match="no audio model called 'nope'"):
        sa.audio_adapter("nope")


def test_a_removed_model_can_no_longer_make_sound(registered):
    run("remove", "tiny-audio")
    assert sa.registered_names() == []
    with pytest.raises(ModelUnavailableError):
        sa.audio_adapter("tiny-audio")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda root: root / "missing", "does not exist"),
        (lambda root: root, "has no model_index.json"),
        (lambda root: save_tiny("hunyuan", root / "video"), "HunyuanVideoPipeline"),
    ],
)
def test_a_folder_that_is_not_stable_audio_is_refused_clearly(tmp_path, make, reason):
    folder = make(tmp_path)
    assert not sa.is_stable_audio_folder(folder)
    assert reason in sa.check_folder(folder)
    with pytest.raises(ValueError, match=reason):
        sa.StableAudioAdapter.load(folder, name="x")


def test_a_stable_audio_folder_missing_a_component_is_refused(audio_folder, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model_index.json").write_text(
        (audio_folder / "model_index.json").read_text()
    )
    assert sa.is_stable_audio_folder(broken)
    assert sa.check_folder(broken) == "The folder lacks its vae component."


def test_a_folder_whose_configs_give_no_length_is_refused(audio_folder, tmp_path):
    import shutil

    copy = shutil.copytree(audio_folder, tmp_path / "copy")
    config = json.loads((copy / "vae" / "config.json").read_text())
    config["sampling_rate"] = 0
    (copy / "vae" / "config.json").write_text(json.dumps(config))
    assert "do not say how long a sound it makes" in sa.check_folder(copy)
