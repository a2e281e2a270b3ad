from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from generation.builtin.pipeline import (
    WEIGHTS_DIR,
    BuiltinVideoPipeline,
    fast_bf16,
    tiny_random_pipeline,
)


def run(pipe, **kwargs):
    gen = torch.Generator().manual_seed(0)
    args = dict(num_frames=8, num_inference_steps=2, generator=gen)
    return pipe("a red ball moving left", **{**args, **kwargs})


def test_it_returns_every_frame_in_diffusers_layouts():
    pipe = tiny_random_pipeline()
    frames = run(pipe).frames
    assert frames.shape == (1, 8, 32, 32, 3)
    assert 0.0 <= frames.min() and frames.max() <= 1.0
    pt = run(pipe, output_type="pt").frames
    assert pt.shape == (1, 8, 3, 32, 32)


def test_it_calls_back_at_every_step_with_the_clean_prediction():
    pipe = tiny_random_pipeline()
    seen = []

    def on_step(p, i, t, kwargs):
        seen.append((i, tuple(kwargs["pred_x0"].shape)))
        return kwargs

    run(
        pipe,
        num_inference_steps=3,
        callback_on_step_end=on_step,
        callback_on_step_end_tensor_inputs=["latents", "pred_x0"],
    )
    assert seen == [(i, (1, 3, 8, 32, 32)) for i in range(3)]


def test_it_honours_interruption_from_the_callback():
    pipe = tiny_random_pipeline()
    steps = []

    def stop_after_first(p, i, t, kwargs):
        steps.append(i)
        p._interrupt = True
        return kwargs

    run(pipe, num_inference_steps=4, callback_on_step_end=stop_after_first)
    assert steps == [0]


def test_it_rejects_bad_settings_with_a_clear_error():
    pipe = tiny_random_pipeline()
    with pytest.raises(ValueError, match="num_frames"):
        run(pipe, num_frames=0)
    with pytest.raises(ValueError, match="height"):
        run(pipe, height=30)
    with pytest.raises(ValueError, match="callback tensor input"):
        run(
            pipe,
            callback_on_step_end=lambda *a: a[-1],
            callback_on_step_end_tensor_inputs=["nope"],
        )


def test_guidance_stops_below_its_noise_level_and_the_last_steps_run_unguided():
    pipe = tiny_random_pipeline()
    batches = []
    pipe.transformer.register_forward_hook(
        lambda module, args, out: batches.append(out.shape[0])
    )
    pipe.scheduler.set_timesteps(4)
    sigmas = [float(s) for s in pipe.scheduler.sigmas[:4]]
    run(pipe, num_inference_steps=4, guidance_stop=0.5)
    # The prompt and the negative prompt in one batch while guided.
    assert batches == [2 if s > 0.5 else 1 for s in sigmas]
    assert 2 in batches and 1 in batches
    batches.clear()
    run(pipe, num_inference_steps=4, guidance_stop=0.0)
    assert batches == [2, 2, 2, 2]


def test_a_guidance_stop_of_one_is_the_same_clip_as_no_guidance():
    pipe = tiny_random_pipeline(seed=5)
    unguided = run(pipe, num_inference_steps=3, guidance_stop=1.0).frames
    assert np.allclose(
        unguided, run(pipe, num_inference_steps=3, guidance_scale=1.0).frames
    )
    guided = run(pipe, num_inference_steps=3, guidance_stop=0.0).frames
    assert not np.allclose(unguided, guided, atol=1e-4)
    with pytest.raises(ValueError, match="guidance_stop"):
        run(pipe, guidance_stop=1.5)


def test_a_saved_pipeline_loads_back_and_renders_the_same_clip(tmp_path):
    pipe = tiny_random_pipeline(seed=3)
    pipe.save_pretrained(tmp_path)
    assert (tmp_path / "transformer" / "diffusion_pytorch_model.safetensors").is_file()
    loaded = BuiltinVideoPipeline.from_pretrained(tmp_path)
    assert np.allclose(run(pipe).frames, run(loaded).frames, atol=1e-5)


def test_loading_a_folder_with_missing_files_names_what_is_missing(tmp_path):
    pipe = tiny_random_pipeline()
    pipe.save_pretrained(tmp_path)
    (tmp_path / "transformer" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="diffusion_pytorch_model.safetensors"):
        BuiltinVideoPipeline.from_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        BuiltinVideoPipeline.from_pretrained(tmp_path / "nowhere")


def test_the_shipped_weights_are_small_and_load():
    size = sum(f.stat().st_size for f in WEIGHTS_DIR.rglob("*") if f.is_file())
    assert size <= 30 * 1024 * 1024
    info = json.loads((WEIGHTS_DIR / "training.json").read_text())
    assert info["step"] > 0
    pipe = BuiltinVideoPipeline.from_pretrained(WEIGHTS_DIR)
    params = sum(p.numel() for p in pipe.transformer.parameters())
    assert 1_000_000 < params < 10_000_000
    assert run(pipe, num_frames=8).frames.shape == (1, 8, 32, 32, 3)


def test_cross_attention_shares_one_projection_of_the_prompt_across_frames():
    from generation.builtin.model import Attention

    torch.manual_seed(0)
    attention = Attention(dim=32, heads=4, context_dim=24)
    torch.nn.init.normal_(attention.out.weight)  # zero at init; make it count
    frames, clips = 5, 2
    x = torch.randn(clips * frames, 7, 32)
    context = torch.randn(clips, 3, 24)
    mask = torch.tensor([[True, True, False], [True, True, True]])[:, None, None]

    shared = attention(x, context, mask, repeat=frames)
    per_frame = attention(
        x,
        context.repeat_interleave(frames, dim=0),
        mask.repeat_interleave(frames, dim=0),
    )
    assert torch.allclose(shared, per_frame, atol=1e-6)
    # Each clip's frames read their own prompt, not the other clip's.
    swapped = attention(x, context.flip(0), mask.flip(0), repeat=frames)
    assert not torch.allclose(shared, swapped, atol=1e-3)


def test_bf16_autocast_keeps_the_latents_in_float32_and_the_clip_close():
    pipe = tiny_random_pipeline()
    seen = []

    def on_step(p, i, t, kwargs):
        seen.append((kwargs["latents"].dtype, kwargs["pred_x0"].dtype))
        return kwargs

    pipe.bf16_autocast = False
    exact = run(pipe, output_type="pt").frames
    pipe.bf16_autocast = True
    fast = run(
        pipe,
        output_type="pt",
        callback_on_step_end=on_step,
        callback_on_step_end_tensor_inputs=["latents", "pred_x0"],
    ).frames
    assert seen == [(torch.float32, torch.float32)] * 2
    assert fast.dtype == torch.float32
    # bfloat16 matrix maths moves pixels by a small fraction of their range.
    assert 0 < (fast - exact).abs().mean() < 0.02


def test_bf16_counts_as_fast_only_where_the_cpu_has_bf16_instructions():
    # oneDNN calls bfloat16 "supported" on every AVX-512 CPU, where it is
    # emulated and a clip takes ~2.5 times as long as in float32.
    flags = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    native = bool(flags & {"avx512_bf16", "amx_bf16"})
    assert fast_bf16(torch.device("cpu")) is native
    assert fast_bf16(torch.device("cuda")) is False


def test_the_denoiser_given_its_own_reading_draws_the_same_as_reading_itself():
    pipe = tiny_random_pipeline(seed=2)
    model = pipe.transformer
    states, mask, pooled = pipe.encode_prompt(["a hawk glides over the valley"])
    sample = torch.randn(1, 3, 4, 32, 32, generator=torch.Generator().manual_seed(0))
    t = torch.tensor([500.0])
    probs = model.read_attributes(states, pooled, mask)
    assert [p.shape[-1] for p in probs] == list(model.config.attribute_groups)
    own = model(sample, t, states, pooled, mask)
    assert torch.equal(
        model(sample, t, states, pooled, mask, attribute_probs=probs), own
    )
    # What it is told is what it draws: another reading changes the output.
    other = [torch.roll(p, 1, dims=-1) for p in probs]
    assert not torch.allclose(
        model(sample, t, states, pooled, mask, attribute_probs=other), own, atol=1e-4
    )


def contrasted_subjects(pipe, prompts, negatives):
    """The subject each negative is conditioned on, by name ("" for none)."""
    from generation.builtin.world import ATTRIBUTES

    states, mask, pooled = pipe.encode_prompt(negatives + prompts)
    probs = pipe.read_attributes(states, pooled, mask, prompts if negatives else ())
    objects = probs[list(ATTRIBUTES).index("object")]
    assert torch.allclose(objects.sum(-1), torch.ones(len(objects)))
    names = ("", *ATTRIBUTES["object"])
    return [names[int(row.argmax())] for row in objects]


def test_a_bird_prompts_guidance_leans_away_from_a_car_and_the_other_way_round():
    pipe = BuiltinVideoPipeline.from_pretrained(WEIGHTS_DIR)
    prompts = [
        "a hawk enters frame and glides across a misty valley",
        "a red car drives to the right along the road",
        "a yellow ball bouncing on the beach",
        "an eagle soars over the peaks",
        "a carmine crate expanding against a sunset sky",
    ]
    negatives = ["", "", "", "a blue box", ""]
    assert contrasted_subjects(pipe, prompts, negatives) == [
        "car",  # the bird's negative is told the car,
        "bird",  # the car's the bird;
        "",  # subjects drawn apart already are left alone,
        "box",  # and so is a negative prompt that names its own subject,
        "",  # and a subject read from a word that is not one of its own.
        "bird",
        "car",
        "ball",
        "bird",
        "car",  # ("crate" is a box's word; the reader takes it for a car)
    ]
    # Without guidance there is no negative to tell.
    assert contrasted_subjects(pipe, prompts[:1], []) == ["bird"]


def test_subject_contrast_changes_the_clip_of_a_bird_and_only_where_guided():
    pipe = BuiltinVideoPipeline.from_pretrained(WEIGHTS_DIR)

    def clip(prompt, **kwargs):
        gen = torch.Generator().manual_seed(0)
        args = dict(num_frames=4, num_inference_steps=3, generator=gen)
        return pipe(prompt, **{**args, **kwargs}).frames

    hawk = "a hawk glides across the valley"
    assert not np.allclose(clip(hawk), clip(hawk, subject_contrast=False), atol=1e-3)
    ball = "a red ball moving left"
    assert np.array_equal(clip(ball), clip(ball, subject_contrast=False))
    assert np.array_equal(
        clip(hawk, guidance_scale=1.0),
        clip(hawk, guidance_scale=1.0, subject_contrast=False),
    )
