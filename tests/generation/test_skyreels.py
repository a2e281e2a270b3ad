"""SkyReels-V2 diffusion forcing on a tiny random-weight pipeline, loaded from
its folder as a real one is: text→video in one window and in several,
image→video, and extending a clip, through the service's own code path."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from generation import adapters, encode
from generation.adapters import check_folder, register_folder, validate_spec
from generation.adapters.skyreels import SkyReelsAdapter, overlap_for, windows
from generation.service import GenerationService
from generation.specs import EXTEND, GenerationSpec
from generation.tiny_models import save_tiny

SPEC = GenerationSpec(
    prompt="a red ball drifting left over a night sky",
    model="sky",
    num_frames=9,
    fps=8,
    width=64,
    height=64,
    num_inference_steps=2,
    guidance_scale=3.0,
    seed=5,
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return save_tiny("skyreels", tmp_path_factory.mktemp("skyreels") / "t2v")


@pytest.fixture
def adapter(folder):
    return SkyReelsAdapter.load(folder, name="sky", task="t2v")


def service_for(adapter) -> GenerationService:
    return GenerationService(
        store=None, sink=None, adapter_loader=lambda name, device: adapter
    )


def test_a_saved_folder_registers_as_a_skyreels_model(folder):
    assert check_folder("skyreels", folder) == ""
    assert "not a skyreels one" in check_folder(
        "skyreels", save_tiny("wan", folder.parent / "wan")
    )
    register_folder("sky-registered", family="skyreels", path=folder)
    try:
        rules = adapters.capabilities("sky-registered")
        assert rules.extend is not None and rules.extend.step == 4
        ten = dataclasses.replace(SPEC, model="sky-registered", num_frames=10)
        assert "4k+1" in validate_spec(ten)["num_frames"][0]
    finally:
        adapters.unregister("sky-registered")


def test_text_to_video_renders_with_previews_at_every_step(adapter, tmp_path):
    events = []
    result = service_for(adapter).run_spec(
        SPEC, tmp_path / "out", on_step=events.append
    )
    assert [e.step for e in events] == [1, 2]
    assert encode.probe_video(result.video_path)["frames"] == 9


def test_a_clip_longer_than_a_window_runs_window_after_window(adapter, tmp_path):
    adapter.base_num_frames, adapter.overlap_history = 9, 5
    spec = dataclasses.replace(SPEC, num_frames=17)
    assert windows(17, 9, 5) == 3
    steps = []
    frames = adapter.generate(
        spec, on_preview=lambda step, total, small: steps.append((step, total))
    )
    assert frames.shape == (17, 64, 64, 3)
    assert steps == [(n, 6) for n in range(1, 7)]


def test_an_extension_holds_the_new_frames_only(adapter, tmp_path):
    source = np.zeros((13, 64, 64, 3), np.uint8)
    source[..., 1] = np.linspace(30, 220, 13, dtype=np.uint8)[:, None, None]
    clip = encode.write_video(source, tmp_path / "clip.mp4", fps=8)
    spec = dataclasses.replace(SPEC, task=EXTEND, video_path=str(clip), num_frames=8)
    events = []
    result = service_for(adapter).run_spec(
        spec, tmp_path / "out", on_step=events.append
    )
    assert result.num_frames == 8
    assert encode.probe_video(result.video_path)["frames"] == 8
    assert [e.step for e in events] == [1, 2]
    assert overlap_for(13) == 13 and overlap_for(40) == 17 and overlap_for(8) == 5


def test_an_extension_keeps_to_whole_latent_frames(adapter):
    spec = dataclasses.replace(SPEC, task=EXTEND, video_path="/x.mp4", num_frames=9)
    message = adapter.validate(spec)["num_frames"][0]
    assert "continues a clip by 4k frames" in message and "8" in message


def test_image_to_video_starts_from_the_image(tmp_path):
    adapter = SkyReelsAdapter.load(
        save_tiny("skyreels", tmp_path / "i2v", "i2v"), name="sky", task="i2v"
    )
    image = tmp_path / "start.png"
    Image.new("RGB", (64, 64), (220, 40, 40)).save(image)
    frames = adapter.generate(dataclasses.replace(SPEC, image_path=str(image)))
    assert frames.shape == (9, 64, 64, 3)
