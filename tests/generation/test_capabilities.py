"""Each model's capabilities are the rules the engine checks: for every family,
a value at each reported bound is accepted and one past it is refused in that
family's words. Models are registered the way the studio registers them, from
tiny folders saved like real checkpoints."""

from __future__ import annotations

from dataclasses import replace

import pytest

from generation import adapters, encode, specs
from generation.adapters import (
    UnknownModelError,
    available_models,
    family_module,
    register,
    register_folder,
    unregister,
    validate_spec,
)
from generation.adapters import builtin as builtin_adapter
from generation.capabilities import Capabilities, FrameRule, Range, SizeRule
from generation.service import GenerationService
from generation.specs import GenerationSpec
from generation.tiny_models import TASKS, save_tiny

MODELS = {"builtin": ("builtin", "t2v")} | {
    f"caps-{family}-{task}": (family, task)
    for family, tasks in TASKS.items()
    for task in tasks
}
# How a refusal names each field.
WORDS = {
    "num_frames": "frames",
    "fps": "fps",
    "width": "width",
    "height": "height",
    "num_inference_steps": "steps",
    "guidance_scale": "guidance",
    "strength": "strength",
    "image_path": "image",
    "video_path": "video",
    "negative_prompt": "negative prompt",
}
# Where a refusal is reported, in diffusers' names.
ERROR_FIELD = {"image_path": "image", "video_path": "video"}


def declared(name: str) -> Capabilities:
    family, task = MODELS[name]
    if family == "builtin":
        return builtin_adapter.capabilities(task)
    return family_module(family).capabilities(task)


def bounds(caps: Capabilities) -> list[tuple[str, str, object, object, str]]:
    """(case, field, a value at the bound, a value past it, words the refusal
    uses) for every bound the capabilities report."""
    frames, size = caps.frames, caps.size
    fps, steps, guidance = caps.fps, caps.steps, caps.guidance
    cases: list[tuple[str, str, object, object, str]] = [
        ("fewest frames", "num_frames", frames.min, frames.min - 1, "too few"),
        ("most frames", "num_frames", frames.max, frames.max + 1, "too many"),
        ("slowest", "fps", fps.min, fps.min - 1, "too slow"),
        ("fastest", "fps", fps.max, fps.max + 1, "too fast"),
        ("fewest steps", "num_inference_steps", steps.min, steps.min - 1, "too few"),
        ("most steps", "num_inference_steps", steps.max, steps.max + 1, "too many"),
        ("least guidance", "guidance_scale", guidance.min, guidance.min - 0.5,
         "too low"),
        ("most guidance", "guidance_scale", guidance.max, guidance.max + 0.5,
         "too high"),
    ]  # fmt: skip
    if frames.step > 1:
        on_rule = frames.min + frames.step
        cases.append(("frame rule", "num_frames", on_rule, on_rule - 1,
                      f"{frames.pattern()} frames"))  # fmt: skip
    for side in ("width", "height"):
        cases += [
            (f"narrowest {side}", side, size.min, size.min - size.multiple,
             "too small"),
            (f"widest {side}", side, size.max, size.max + size.multiple,
             "too large"),
            (f"{side} multiple", side, size.min + size.multiple,
             size.min + size.multiple // 2, "would do"),
        ]  # fmt: skip
    if caps.strength is not None:
        low, high = caps.strength.min, caps.strength.max
        cases += [
            ("least strength", "strength", low, round(low - 0.01, 2), "too low"),
            ("most strength", "strength", high, high + 0.01, "too high"),
        ]
    if not caps.image:
        cases.append(("no image", "image_path", "", "start.png", "does not take"))
    if not caps.video:
        cases.append(("no video", "video_path", "", "source.mp4", "does not take"))
    if not caps.takes_negative_prompt:
        cases.append(
            ("no negative prompt", "negative_prompt", "", "blurry", "takes no")
        )
    return cases


CASES = [
    pytest.param(name, *case[1:], id=f"{name}-{case[0]}")
    for name in MODELS
    for case in bounds(declared(name))
]


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """Every family and task registered under its own name."""
    for name, (family, task) in MODELS.items():
        if family == "builtin":
            continue
        folder = save_tiny(family, tmp_path_factory.mktemp(name), task)
        register_folder(name, family=family, path=folder, task=task)
    yield MODELS
    for name in MODELS:
        if name != "builtin":
            unregister(name)


def valid_spec(name: str) -> GenerationSpec:
    """The model's own defaults, with the inputs its task needs."""
    caps = adapters.capabilities(name)
    spec = GenerationSpec(prompt="a red ball drifting left", model=name)
    spec = replace(spec, **caps.defaults())
    if caps.image:
        spec = replace(spec, image_path="start.png")
    if caps.video:
        spec = replace(spec, video_path="source.mp4")
    return spec


def test_every_registered_model_starts_from_settings_it_accepts(registered):
    for name in registered:
        assert validate_spec(valid_spec(name)) == {}, name


@pytest.mark.parametrize(("name", "field", "at", "past", "words"), CASES)
def test_a_value_at_each_bound_is_accepted_and_one_past_it_is_refused(
    registered, name, field, at, past, words
):
    caps = adapters.capabilities(name)
    spec = valid_spec(name)
    assert validate_spec(replace(spec, **{field: at})) == {}
    errors = validate_spec(replace(spec, **{field: past}))
    key = ERROR_FIELD.get(field, field)
    assert list(errors) == [key]
    [message] = errors[key]
    assert caps.label.lower() in message.lower()
    assert WORDS[field] in message
    assert words in message
    assert message.endswith(".")
    if not isinstance(at, str):
        # The sentence names the bound (or the nearest value that would do).
        assert f"{at:g}" in message


def test_a_model_reports_the_rules_its_family_declares(registered):
    reported = {m["name"]: m for m in available_models()}
    for name in registered:
        caps = adapters.capabilities(name)
        assert caps == declared(name)
        assert reported[name]["capabilities"] == caps.to_dict()
        assert reported[name]["defaults"] == caps.defaults()


def test_the_reported_rules_have_the_documented_shape(registered):
    shape = adapters.capabilities("caps-wan-v2v").to_dict()
    assert shape == {
        "family": "wan",
        "label": "Wan",
        "tasks": ["v2v"],
        "frames": {"min": 9, "max": 45, "step": 4, "offset": 1, "default": 33},
        "fps": {"min": specs.MIN_FPS, "max": specs.MAX_FPS, "default": 16},
        "size": {"multiple": 16, "min": specs.MIN_SIZE, "max": specs.MAX_SIZE,
                 "default_width": 832, "default_height": 480, "detail": None},
        "steps": {"min": specs.MIN_STEPS, "max": specs.MAX_STEPS, "default": 30},
        "guidance": {"min": specs.MIN_GUIDANCE, "max": specs.MAX_GUIDANCE,
                     "default": 5.0},
        "negative_prompt": "",
        "inputs": {
            "image": False,
            "video": True,
            "strength": {"min": specs.MIN_STRENGTH, "max": specs.MAX_STRENGTH,
                         "default": 0.7},
            "audio": False,
        },
        "extend": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "frames", "multiple", "size", "fps"),
    [
        ("builtin", (8, 48, 1), 2, (256, 256), 8),
        ("caps-wan-t2v", (9, 45, 4), 16, (832, 480), 16),
        ("caps-ltx-t2v", (9, 41, 8), 32, (704, 480), 24),
        ("caps-cogvideox-t2v", (9, 45, 4), 16, (720, 480), 8),
        ("caps-hunyuan-t2v", (9, 45, 4), 16, (848, 480), 24),
        ("caps-animatediff-t2v", (8, 32, 1), 8, (512, 512), 8),
    ],
)
def test_each_family_narrows_the_shared_bounds_by_its_own_rules(
    registered, name, frames, multiple, size, fps
):
    caps = adapters.capabilities(name)
    assert (caps.frames.min, caps.frames.max, caps.frames.step) == frames
    assert caps.size.multiple == multiple
    assert (caps.size.default_width, caps.size.default_height) == size
    assert caps.fps.default == fps
    counts = caps.frame_counts()
    assert counts[0] >= specs.MIN_FRAMES and counts[-1] <= specs.MAX_FRAMES
    assert all(validate_spec(replace(valid_spec(name), num_frames=n)) == {}
               for n in counts)  # fmt: skip


@pytest.mark.parametrize(
    ("task", "image", "video", "strength"),
    [("t2v", False, False, False), ("i2v", True, False, False),
     ("v2v", False, True, True)],
)  # fmt: skip
def test_the_inputs_follow_the_task_of_the_registered_folder(
    registered, task, image, video, strength
):
    inputs = adapters.capabilities(f"caps-wan-{task}").to_dict()["inputs"]
    assert inputs["image"] is image
    assert inputs["video"] is video
    assert (inputs["strength"] is not None) is strength
    assert inputs["audio"] is False


def test_a_model_that_needs_an_input_asks_for_it(registered):
    needs_image = replace(valid_spec("caps-ltx-i2v"), image_path="")
    assert "add one" in validate_spec(needs_image)["image"][0]
    needs_video = replace(valid_spec("caps-animatediff-v2v"), video_path="")
    [message] = validate_spec(needs_video)["video"]
    assert "AnimateDiff" in message and "add one" in message


def test_an_off_rule_frame_count_is_explained_with_the_nearest_one(registered):
    caps = adapters.capabilities("caps-wan-t2v")
    assert caps.nearest_frames(16) == 17
    assert caps.nearest_frames(100) == 45
    errors = validate_spec(replace(valid_spec("caps-wan-t2v"), num_frames=16))
    assert errors["num_frames"] == [
        "Wan makes clips of 4k+1 frames (9, 13, 17 … 45): 16 frames is not one "
        "of them; 17 is the nearest."
    ]
    ltx = adapters.capabilities("caps-ltx-t2v")
    assert ltx.frame_counts() == [9, 17, 25, 33, 41]
    assert ltx.nearest_frames(20) == 17


def test_an_unknown_model_has_no_capabilities():
    with pytest.raises(UnknownModelError, match="'nope'"):
        adapters.capabilities("nope")


def test_a_model_registered_without_rules_gets_the_shared_bounds():
    register("plain", lambda device: None, family="stub")
    try:
        caps = adapters.capabilities("plain")
        spec = GenerationSpec(prompt="a ball", model="plain")
        assert (caps.frames.min, caps.frames.max) == (
            specs.MIN_FRAMES,
            specs.MAX_FRAMES,
        )
        assert validate_spec(spec) == {}
        assert "num_frames" in validate_spec(replace(spec, num_frames=49))
    finally:
        unregister("plain")


def test_a_family_cannot_widen_the_shared_bounds():
    with pytest.raises(ValueError, match="frames"):
        Capabilities(
            family="wide",
            label="Wide",
            tasks=("t2v",),
            frames=FrameRule(specs.MIN_FRAMES, specs.MAX_FRAMES + 1),
            fps=Range(specs.MIN_FPS, specs.MAX_FPS, 8),
            size=SizeRule(2, specs.MIN_SIZE, specs.MAX_SIZE, 256, 256),
            steps=Range(specs.MIN_STEPS, specs.MAX_STEPS, 20),
            guidance=Range(specs.MIN_GUIDANCE, specs.MAX_GUIDANCE, 5.0),
        )
    with pytest.raises(ValueError, match="10 frames"):
        FrameRule(9, 45, step=4, offset=1, default=10)


def test_a_family_refuses_a_task_it_does_not_do():
    with pytest.raises(ValueError, match="i2v"):
        family_module("hunyuan").capabilities("i2v")


def test_the_builtin_model_renders_any_even_size_it_accepts(tiny_adapter, tmp_path):
    spec = GenerationSpec(
        prompt="a red ball bouncing",
        num_frames=8,
        width=66,
        height=98,
        num_inference_steps=2,
    )
    assert validate_spec(spec) == {}
    service = GenerationService(
        store=None, sink=None, adapter_loader=lambda name, device: tiny_adapter
    )
    result = service.run_spec(spec, tmp_path)
    probe = encode.probe_video(result.video_path)
    assert (probe["width"], probe["height"], probe["frames"]) == (66, 98, 8)


def test_the_built_in_model_reports_the_side_its_weights_draw_detail_at(tmp_path):
    from generation.adapters import builtin

    # The shipped weights: 32 px times their detail decoder's scale.
    shipped = builtin.capabilities().size.detail
    assert shipped in (128, 256)
    assert builtin.capabilities().to_dict()["size"]["detail"] == shipped
    # Weights without a decoder draw at the denoiser's 32 px.
    (tmp_path / "model_index.json").write_text('{"transformer": ["x", "y"]}')
    assert builtin.detail_side(tmp_path) == 32
    (tmp_path / "model_index.json").write_text('{"decoder": ["x", "y"]}')
    (tmp_path / "decoder").mkdir()
    (tmp_path / "decoder" / "config.json").write_text('{"scale": 8}')
    assert builtin.detail_side(tmp_path) == 256
    # Unreadable weights fall back to the denoiser's own size.
    (tmp_path / "decoder" / "config.json").write_text("{not json")
    assert builtin.detail_side(tmp_path) == 32
