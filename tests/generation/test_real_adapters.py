"""The real-model adapters on tiny random-weight pipelines: family rules,
image→video and video→video through the service's own code path, and the
fitted latent previews."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from PIL import Image

from generation import encode, latent_preview
from generation.adapters import check_folder, family_module
from generation.adapters.options import estimate_memory, parse_options
from generation.service import GenerationService
from generation.specs import GenerationSpec
from generation.tiny_models import save_tiny

SPEC = GenerationSpec(
    prompt="a red ball drifting left over a night sky",
    num_frames=9,
    fps=8,
    width=64,
    height=64,
    num_inference_steps=2,
    guidance_scale=3.0,
    seed=5,
)


def adapter_for(family: str, task: str, folder):
    module = family_module(family)
    adapter_class = next(
        value
        for key, value in vars(module).items()
        if key.endswith("Adapter") and getattr(value, "family", None) == family
    )
    return adapter_class.load(save_tiny(family, folder, task), name="m", task=task)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    image = folder / "start.png"
    Image.new("RGB", (96, 64), (220, 40, 40)).save(image)
    frames = np.zeros((9, 64, 64, 3), np.uint8)
    frames[..., 2] = np.linspace(40, 220, 9, dtype=np.uint8)[:, None, None]
    video = encode.write_video(frames, folder / "source.mp4", fps=8)
    return {"image_path": str(image), "video_path": str(video)}


@pytest.mark.parametrize(
    ("family", "task"),
    [
        ("wan", "i2v"),
        ("ltx", "i2v"),
        ("cogvideox", "i2v"),
        ("wan", "v2v"),
        ("ltx", "v2v"),
        ("cogvideox", "v2v"),
        ("animatediff", "v2v"),
    ],
)
def test_conditioned_models_render_a_clip_with_previews_at_every_step(
    family, task, inputs, tmp_path
):
    adapter = adapter_for(family, task, tmp_path / "model")
    field = "image_path" if task == "i2v" else "video_path"
    spec = dataclasses.replace(SPEC, model="m", strength=1.0, **{field: inputs[field]})
    service = GenerationService(
        store=None, sink=None, adapter_loader=lambda name, device: adapter
    )
    events = []
    result = service.run_spec(spec, tmp_path / "out", on_step=events.append)
    assert [e.step for e in events] == [1, 2]
    assert result.num_frames == 9
    assert encode.probe_video(result.video_path)["frames"] == 9


def test_a_video_to_video_strength_runs_that_share_of_the_steps(inputs, tmp_path):
    adapter = adapter_for("wan", "v2v", tmp_path / "model")
    spec = dataclasses.replace(
        SPEC, num_inference_steps=4, strength=0.5, video_path=inputs["video_path"]
    )
    steps = []
    adapter.generate(spec, on_preview=lambda step, total, frames: steps.append(total))
    assert steps == [2, 2]


@pytest.mark.parametrize(
    ("family", "change", "field", "words"),
    [
        ("wan", {"num_frames": 10}, "num_frames", "4k+1"),
        ("wan", {"width": 72}, "width", "multiple of 16"),
        ("ltx", {"num_frames": 13}, "num_frames", "8k+1"),
        ("ltx", {"height": 80}, "height", "multiple of 32"),
        ("cogvideox", {"num_frames": 12}, "num_frames", "4k+1"),
        ("hunyuan", {"negative_prompt": "blurry"}, "negative_prompt", "no negative"),
        ("animatediff", {"num_frames": 40}, "num_frames", "at most 32"),
    ],
)
def test_each_family_explains_settings_it_cannot_render(family, change, field, words):
    errors = family_module(family).validate(dataclasses.replace(SPEC, **change))
    assert words in " ".join(errors[field])


def test_an_image_to_video_model_asks_for_an_image_and_others_refuse_one():
    wan = family_module("wan")
    assert "add one" in wan.validate(SPEC, "i2v")["image"][0]
    with_image = dataclasses.replace(SPEC, image_path="/tmp/x.png")
    assert "does not take an image" in wan.validate(with_image, "t2v")["image"][0]
    assert wan.validate(with_image, "i2v") == {}


def test_a_folder_check_names_what_is_wrong(tmp_path):
    assert "does not exist" in check_folder("wan", tmp_path / "nothing")
    assert "model_index.json" in check_folder("wan", tmp_path)
    (tmp_path / "model_index.json").write_text(
        json.dumps({"_class_name": "LTXPipeline"})
    )
    assert "not a wan one" in check_folder("wan", tmp_path)
    (tmp_path / "model_index.json").write_text(
        json.dumps({"_class_name": "WanPipeline", "vae": ["diffusers", "X"]})
    )
    assert "vae" in check_folder("wan", tmp_path)


def test_options_are_checked_and_memory_is_estimated_from_headers(tmp_path):
    options, errors = parse_options({"dtype": "fp8", "offload": "sometimes", "x": 1})
    assert set(errors) == {"dtype", "offload", "x"}
    folder = save_tiny("cogvideox", tmp_path / "cog")
    fp32, _ = parse_options({"dtype": "fp32"})
    bf16, _ = parse_options({"dtype": "bf16", "offload": "model"})
    full = estimate_memory(folder, fp32)
    offloaded = estimate_memory(folder, bf16)
    assert full["weights"] == full["peak"] == 2 * offloaded["weights"]
    assert offloaded["peak"] < offloaded["weights"]


def test_a_fitted_projection_recovers_a_linear_vae(tmp_path):
    mixing = torch.randn(3, 6)

    def encode_linear(pixels):
        pooled = torch.nn.functional.avg_pool3d(pixels, (1, 8, 8))
        first, rest = pooled[:, :, :1], pooled[:, :, 1:]
        b, c, t, h, w = rest.shape
        rest = rest.reshape(b, c, t // 4, 4, h, w).mean(3)
        rgb = torch.cat([first, rest], dim=2)
        return torch.einsum("bcthw,cd->bdthw", rgb, mixing)

    projection = latent_preview.load_or_fit(
        tmp_path, encode_linear, channels=6, temporal=4, spatial=8
    )
    assert projection.residual < 1e-3
    assert (tmp_path / latent_preview.CACHE_NAME).is_file()
    clip = latent_preview.fitting_clips(num_frames=9, size=64, count=1, seed=9)
    frames = projection.frames(encode_linear(clip)[0])
    target = latent_preview.pool_to_latent_grid(clip[0], temporal=4, spatial=8)
    expected = (target.permute(1, 2, 3, 0).clamp(-1, 1) + 1) * 127.5
    assert np.abs(frames.astype(float) - expected.numpy()).max() <= 2
    cached = latent_preview.load_or_fit(
        tmp_path, lambda p: pytest.fail("refitted"), channels=6, temporal=4, spatial=8
    )
    assert torch.equal(cached.weight, projection.weight)
