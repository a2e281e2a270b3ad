"""One submit service for the page, the API, storyboards and the command: the
engine's rules and defaults, wildcards, uploads that never outlive a failure."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from PIL import Image

from generation import adapters
from generation.adapters import ltx, wan
from studio.generations.models import Generation
from studio.generations.services import QueueFull, SubmitError, submit
from studio.generations.uploads import input_dir
from studio.generations.validation import validate_api_settings
from studio.projects.models import Project
from studio.storyboards import services as storyboards
from studio.storyboards.services import StoryboardError

pytestmark = pytest.mark.django_db

PROMPT = "a red ball bouncing to the right, slow push-in"


def _unusable(device: str):
    raise AssertionError("nothing here renders a clip")


@pytest.fixture
def real_rules():
    """Models with Wan's and LTX-Video's rules (text→video, and Wan's
    image→video), without their weights: nothing here loads a model."""
    names = {
        "wan-t2v": wan.capabilities("t2v"),
        "wan-i2v": wan.capabilities("i2v"),
        "ltx-t2v": ltx.capabilities("t2v"),
    }
    for name, caps in names.items():
        adapters.register(name, _unusable, family=caps.family, capabilities=caps)
    yield names
    for name in names:
        adapters.unregister(name)


@pytest.fixture
def project(alice) -> Project:
    return Project.objects.create(owner=alice, name="Harbour teaser")


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 64), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def start_image() -> SimpleUploadedFile:
    return SimpleUploadedFile("start.png", png(), content_type="image/png")


def kept_inputs(user) -> list:
    folder = input_dir(user.pk)
    return sorted(folder.glob("*")) if folder.exists() else []


# -- the service -------------------------------------------------------------------


def test_an_api_style_wildcard_prompt_makes_one_clip_per_option(alice):
    clips = submit(alice, settings={"prompt": "a {red|blue} ball", "steps": 2})
    assert sorted(g.prompt for g in clips) == ["a blue ball", "a red ball"]
    assert len({g.batch for g in clips}) == 1 and clips[0].batch is not None
    assert Generation.objects.filter(owner=alice).count() == 2


def test_without_expansion_the_prompt_is_queued_as_written(alice):
    (clip,) = submit(alice, settings={"prompt": "a {red|blue} ball"}, expand=False)
    assert clip.prompt == "a {red|blue} ball"


def test_a_prompt_that_cannot_expand_is_a_400_by_field(alice):
    with pytest.raises(SubmitError) as refused:
        submit(alice, settings={"prompt": "@nobody walks"})
    assert refused.value.status == 400
    assert "No character named @nobody" in refused.value.errors["prompt"][0]
    assert not Generation.objects.exists()


def test_left_out_settings_take_the_chosen_models_defaults(alice, real_rules):
    (clip,) = submit(alice, settings={"prompt": PROMPT, "model": "wan-t2v"})
    caps = real_rules["wan-t2v"]
    settings = clip.settings
    assert settings["num_frames"] == caps.frames.default == 33
    assert settings["fps"] == caps.fps.default == 16
    assert (settings["width"], settings["height"]) == (832, 480)
    assert settings["num_inference_steps"] == caps.steps.default
    assert settings["guidance_scale"] == caps.guidance.default


def test_a_duration_becomes_the_models_nearest_frame_count(alice, real_rules):
    (clip,) = submit(
        alice, settings={"prompt": PROMPT, "model": "wan-t2v", "duration": 2, "fps": 16}
    )
    assert clip.settings["num_frames"] == 33  # 32 frames is no 4k+1; 33 is nearest
    (clip,) = submit(
        alice, settings={"prompt": PROMPT, "model": "ltx-t2v", "duration": 2, "fps": 24}
    )
    assert clip.settings["num_frames"] == 49 - 8  # LTX: 8k+1, at most 41


def test_the_engines_sentence_says_what_a_model_cannot_make(alice, real_rules):
    with pytest.raises(SubmitError) as refused:
        submit(
            alice,
            settings={"prompt": PROMPT, "model": "wan-t2v", "num_frames": 32},
        )
    message = refused.value.errors["num_frames"][0]
    assert (
        "Wan makes clips of 4k+1 frames" in message and "33 is the nearest" in message
    )
    with pytest.raises(SubmitError) as refused:
        submit(alice, settings={"prompt": PROMPT, "model": "wan-t2v", "width": 100})
    assert "multiple of 16" in refused.value.errors["width"][0]


def test_the_builtin_model_takes_any_even_size(alice):
    (clip,) = submit(alice, settings={"prompt": PROMPT, "width": 114, "height": 64})
    assert (clip.settings["width"], clip.settings["height"]) == (114, 64)


def test_an_upload_refused_by_the_model_is_not_kept(alice):
    with pytest.raises(SubmitError) as refused:
        submit(alice, settings={"prompt": PROMPT}, uploads={"image": start_image()})
    assert "does not take an image" in refused.value.errors["image"][0]
    assert kept_inputs(alice) == []


def test_an_upload_is_not_kept_when_the_queue_is_full(alice, real_rules, settings):
    settings.STUDIO_MAX_QUEUED_PER_USER = 1
    submit(alice, settings={"prompt": PROMPT, "steps": 2})
    with pytest.raises(QueueFull) as full:
        submit(
            alice,
            settings={"prompt": PROMPT, "model": "wan-i2v"},
            uploads={"image": start_image()},
        )
    assert full.value.status == 429
    assert kept_inputs(alice) == []
    assert Generation.objects.filter(owner=alice).count() == 1


def test_a_queued_upload_is_kept_and_named_by_the_clip(alice, real_rules):
    (clip,) = submit(
        alice,
        settings={"prompt": PROMPT, "model": "wan-i2v"},
        uploads={"image": start_image()},
    )
    assert [str(path) for path in kept_inputs(alice)] == [clip.settings["image_path"]]


def test_the_apis_own_check_still_answers_in_its_field_names(real_rules):
    spec, errors = validate_api_settings({"prompt": PROMPT, "model": "wan-t2v"})
    assert errors == {} and spec.num_frames == 33
    spec, errors = validate_api_settings({"prompt": PROMPT, "duration": 2})
    assert spec is None and errors == {"duration": ["Unknown field."]}
    spec, errors = validate_api_settings({"prompt": PROMPT, "steps": 0})
    assert "steps" in errors


# -- the page ---------------------------------------------------------------------


def page_form(**overrides) -> dict:
    data = {
        "prompt": PROMPT,
        "negative_prompt": "",
        "model": "builtin",
        "duration": "2",
        "fps": "16",
        "aspect": "native",
        "size": "64",
        "steps": "2",
        "guidance": "3",
        "seed": "",
        "variations": "1",
    }
    return {**data, **overrides}


def test_the_page_embeds_what_every_model_can_make(alice_client, project, real_rules):
    html = alice_client.get(project.get_absolute_url()).content.decode()
    block = re.search(
        r'<script id="model-capabilities" type="application/json">(.*?)</script>',
        html,
        re.S,
    )
    models = json.loads(block.group(1))
    wan_t2v = models["wan-t2v"]
    assert wan_t2v["frames"] == real_rules["wan-t2v"].to_dict()["frames"]
    assert wan_t2v["inputs"]["image"] is False
    assert models["wan-i2v"]["inputs"]["image"] is True
    # The native frame at Wan's own short side is its default frame exactly.
    assert [480, 832, 480] in wan_t2v["presets"]["sizes"]["native"]
    assert all(
        w % 32 == h % 32 == 0
        for _, w, h in models["ltx-t2v"]["presets"]["sizes"]["16:9"]
    )
    assert 16 in wan_t2v["presets"]["fps"]
    # CSP forbids inline scripts: the block is data, and no other script is inline.
    assert not re.search(r"<script(?![^>]*(src=|application/json))", html)


def test_the_page_makes_the_frames_the_box_shows(alice_client, project, real_rules):
    response = alice_client.post(
        reverse("projects:generate", args=[project.pk]),
        page_form(model="wan-t2v", duration="2", fps="16", size="480"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    clip = Generation.objects.get(project=project)
    assert clip.settings["num_frames"] == 33
    assert (clip.settings["width"], clip.settings["height"]) == (832, 480)


def test_a_duration_past_the_longest_clip_is_the_longest_clip(
    alice_client, project, real_rules
):
    alice_client.post(
        reverse("projects:generate", args=[project.pk]),
        page_form(model="wan-t2v", duration="12", fps="16"),
    )
    clip = Generation.objects.get(project=project)
    assert clip.settings["num_frames"] == real_rules["wan-t2v"].frames.max


def test_an_error_shows_beside_the_generate_button(alice_client, project):
    response = alice_client.post(
        reverse("projects:generate", args=[project.pk]),
        page_form(steps="500"),
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    start = html.index('class="composer-actions"')
    summary = html[start : html.index('data-testid="generate"', start)]
    assert 'role="alert"' in summary and 'aria-live="assertive"' in summary
    assert '<a href="#id_steps">Steps</a>: The built-in model runs' in summary
    assert not Generation.objects.exists()


def test_without_htmx_a_refused_clip_is_a_400(alice_client, project):
    response = alice_client.post(
        reverse("projects:generate", args=[project.pk]), page_form(prompt="")
    )
    assert response.status_code == 400
    assert "prompt is empty" in response.content.decode()


def test_a_full_queue_keeps_no_upload_from_the_page(
    alice, alice_client, project, real_rules, settings
):
    settings.STUDIO_MAX_QUEUED_PER_USER = 1
    submit(alice, settings={"prompt": PROMPT, "steps": 2})
    response = alice_client.post(
        reverse("projects:generate", args=[project.pk]),
        {**page_form(model="wan-i2v", size="64"), "image": start_image()},
    )
    assert response.status_code == 429
    assert "already have 1 clips waiting" in response.content.decode()
    assert kept_inputs(alice) == []


# -- storyboards and the command ---------------------------------------------------


def test_a_storyboard_shot_follows_its_models_frame_rule(alice, project, real_rules):
    board = storyboards.storyboard_create(
        owner=alice, project=project, title="Valley", model="wan-t2v", fps=16,
        width=112, height=64, steps=2,
    )  # fmt: skip
    shot = storyboards.shot_add(storyboard=board, prompt="a hawk", duration=2.0)
    (take,) = storyboards.takes_generate(shots=[shot])
    assert take.generation.settings["num_frames"] == 33


def test_the_engines_sentence_reaches_the_shot(alice, project, real_rules):
    board = storyboards.storyboard_create(
        owner=alice, project=project, title="Valley", model="wan-t2v", fps=16,
        width=100, height=64, steps=2,
    )  # fmt: skip
    shot = storyboards.shot_add(storyboard=board, prompt="a hawk", duration=2.0)
    with pytest.raises(StoryboardError, match="Shot 1: Wan needs the width"):
        storyboards.takes_generate(shots=[shot])
    assert not Generation.objects.exists()


def test_the_command_refuses_a_prompt_that_makes_several_clips(tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command(
            "generate", "a {red|blue} ball", "--out", str(tmp_path / "clip.mp4")
        )
    assert "makes 2 variations" in str(refused.value)
    assert "\n" not in str(refused.value)
