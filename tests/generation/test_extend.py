"""Extending a clip: the built-in model continues a finished clip from its
last frames with the streaming sampler, and the rules say which models can."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from generation import encode
from generation.adapters import InvalidSpecError, family_module
from generation.adapters.builtin import BuiltinAdapter, capabilities
from generation.builtin.detector import read_clip
from generation.builtin.evaluate import to_native
from generation.builtin.streaming import uncover
from generation.service import GenerationService
from generation.specs import EXTEND, GenerationCancelled, GenerationSpec


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


@pytest.fixture(scope="module")
def builtin():
    """The built-in model's real weights: continuity means something only
    for a model that draws the asked object."""
    return BuiltinAdapter.load()


def clip_file(folder, name: str, frames: np.ndarray, prompt: str) -> str:
    spec = GenerationSpec(prompt=prompt)
    path = folder / f"{name}.mp4"
    encode.write_video(
        frames, path, fps=8, size=(256, 256), metadata=encode.clip_metadata(spec)
    )
    return str(path)


def test_an_extension_continues_the_clip_where_it_ends(builtin, tmp_path):
    prompt = "a red ball drifting right over a green field"
    original_spec = GenerationSpec(prompt=prompt, num_frames=12, seed=3)
    original = builtin.generate(original_spec)
    unrelated = builtin.generate(
        dataclasses.replace(
            original_spec, prompt="a blue box moving up over a night sky", seed=9
        )
    )
    source = clip_file(tmp_path, "original", original, prompt)
    extension = builtin.generate(
        dataclasses.replace(
            original_spec, task=EXTEND, video_path=source, num_frames=8, seed=4
        )
    )
    assert extension.shape == (8, *original.shape[1:])
    # What the studio plays: the clip as encoded, then the extension.
    written = encode.fit_frames(original, 256, 256)
    seam = mean_difference(written[-1], encode.fit_frames(extension, 256, 256)[0])
    apart = mean_difference(written[-1], encode.fit_frames(unrelated, 256, 256)[0])
    step = np.mean(
        [mean_difference(written[i], written[i + 1]) for i in range(len(written) - 1)]
    )
    assert seam < apart / 4
    assert seam < 2 * step  # no larger a jump than the clip's own motion makes
    assert read_clip(to_native(extension)).colour == "red"


def test_a_new_prompt_steers_the_extension(builtin, tmp_path):
    prompt = "a yellow star staying still over a sunset"
    original = builtin.generate(GenerationSpec(prompt=prompt, num_frames=8, seed=2))
    source = clip_file(tmp_path, "star", original, prompt)
    spec = GenerationSpec(
        prompt="a yellow star moving left over a sunset",
        task=EXTEND,
        video_path=source,
        num_frames=12,
        seed=2,
    )
    extension = builtin.generate(spec)
    assert extension.shape[0] == 12
    assert read_clip(to_native(extension)).colour == "yellow"


@pytest.fixture
def source_clip(tmp_path):
    frames = np.zeros((10, 64, 96, 3), np.uint8)
    frames[..., 0] = np.linspace(30, 220, 10, dtype=np.uint8)[:, None, None]
    return clip_file(tmp_path, "source", frames, "a red ball")


def test_the_service_writes_an_extension_of_the_asked_length_with_previews(
    tiny_adapter, source_clip, tmp_path, spec
):
    seconds, fps = 1.5, 8
    frames = capabilities().extend.nearest(round(seconds * fps))
    extend = dataclasses.replace(
        spec, task=EXTEND, video_path=source_clip, num_frames=frames, fps=fps
    )
    service = GenerationService(
        store=None, sink=None, adapter_loader=lambda name, device: tiny_adapter
    )
    events = []
    result = service.run_spec(extend, tmp_path / "out", on_step=events.append)
    assert result.num_frames == frames == 12
    assert encode.probe_video(result.video_path)["frames"] == 12
    assert [e.step for e in events] == list(range(1, 13))
    assert {e.steps for e in events} == {12}
    assert {e.frames for e in events} == {12}


def test_an_extension_stops_when_asked(tiny_adapter, source_clip, spec):
    extend = dataclasses.replace(
        spec, task=EXTEND, video_path=source_clip, num_frames=8
    )
    previews = []
    with pytest.raises(GenerationCancelled):
        tiny_adapter.generate(
            extend,
            on_preview=lambda step, steps, frames: previews.append(step),
            should_stop=lambda: len(previews) >= 3,
        )
    assert previews == [1, 2, 3]


def test_only_models_that_continue_clips_take_an_extension(spec):
    extend = dataclasses.replace(
        spec, task=EXTEND, video_path="/media/clip.mp4", num_frames=9
    )
    assert capabilities().check(extend) == {}
    errors = family_module("wan").validate(extend)
    assert errors["model"] == [
        "Extend needs the built-in model or a SkyReels-V2 model; Wan can't "
        "continue a clip."
    ]


def test_an_extension_names_its_clip_and_keeps_to_the_frame_rule(spec):
    rules = capabilities()
    extend = dataclasses.replace(spec, task=EXTEND, num_frames=60)
    errors = rules.check(extend)
    assert "continues a clip by 8 to 48 frames" in errors["num_frames"][0]
    assert errors["video"] == ["Extend continues a clip: name the clip to continue."]
    odd = dataclasses.replace(spec, task="loop")
    assert "Unknown task" in rules.check(odd)["task"][0]


def test_a_wide_clip_goes_back_where_it_was_cropped_from():
    frames = np.zeros((2, 36, 64, 3), np.uint8)
    frames[:, :, :32] = 200  # the left half bright
    square = uncover(frames, 32, 32)
    assert square.shape == (2, 32, 32, 3)
    # The clip showed the middle 18 rows of the square, all of its width.
    assert square[0, 16, 4, 0] == 200 and square[0, 16, 28, 0] == 0
    # Rows cropped off repeat the nearest edge.
    assert (square[0, 0] == square[0, 7]).all()


def test_a_clip_that_is_gone_fails_in_a_sentence(tiny_adapter, spec, tmp_path):
    extend = dataclasses.replace(
        spec, task=EXTEND, video_path=str(tmp_path / "deleted.mp4"), num_frames=8
    )
    with pytest.raises(InvalidSpecError) as raised:
        tiny_adapter.generate(extend)
    assert raised.value.errors["video"] == [
        "The clip to continue can no longer be read; was it deleted?"
    ]
