from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
import torch

from generation.builtin import train_forcing
from generation.builtin.detector import read_clip
from generation.builtin.evaluate import to_native
from generation.builtin.model import BuiltinVideoDenoiser
from generation.builtin.pipeline import (
    WEIGHTS_DIR,
    text_encoder_for,
    tiny_random_pipeline,
)
from generation.builtin.streaming import (
    LiveStream,
    StreamSettings,
    bf16_matmul_copy,
    load_stream_pipeline,
    window_levels,
)
from generation.builtin.train_forcing import frame_levels


@pytest.fixture(scope="module")
def shipped():
    """The shipped denoiser, a noisy clip and two prompts."""
    model = BuiltinVideoDenoiser.from_pretrained(WEIGHTS_DIR / "transformer").eval()
    states, mask, pooled = text_encoder_for(torch.device("cpu")).encode(
        ["a red ball staying still on a sunny day", "a blue box moving left at night"]
    )
    sample = torch.randn(2, 3, 8, 32, 32, generator=torch.Generator().manual_seed(0))
    return model, sample, (states, pooled, mask)


def test_a_timestep_shared_by_every_frame_gives_exactly_the_per_sample_output(
    shipped,
):
    model, sample, text = shipped
    t = torch.tensor([700.0, 250.0])
    with torch.no_grad():
        per_sample = model(sample, t, *text)
        per_frame = model(sample, t[:, None].expand(2, 8), *text)
    assert torch.equal(per_frame, per_sample)


def test_the_per_frame_path_matches_the_per_sample_one_on_a_shared_timestep(shipped):
    # Sample 1 has one frame at another level, so the whole batch takes the
    # per-frame path; sample 0's frames still share one level.
    model, sample, text = shipped
    t = torch.tensor([700.0, 250.0])
    per_frame = t[:, None].repeat(1, 8)
    per_frame[1, 3] = 100.0
    with torch.no_grad():
        shared = model(sample, t, *text)
        mixed = model(sample, per_frame, *text)
    torch.testing.assert_close(mixed[0], shared[0], rtol=1e-6, atol=1e-5)
    assert (mixed[1] - shared[1]).abs().max() > 1e-2


def test_a_per_frame_timestep_must_name_every_frame(shipped):
    model, sample, text = shipped
    with pytest.raises(ValueError, match=r"\(batch, frames\) = \(2, 8\)"):
        model(sample, torch.full((2, 5), 500.0), *text)


# ---------------------------------------------------------------- the sampler


def tiny_stream(prompt="a red ball staying still", seed=0, size=128, **settings):
    pipe = tiny_random_pipeline(decoder=True)
    return LiveStream(
        pipe, prompt, seed, size, size, settings=StreamSettings(**settings)
    )


def test_the_stream_emits_numbered_frames_at_the_requested_size():
    stream = tiny_stream()
    got = list(stream.frames(8))
    assert [i for i, _, _ in got] == list(range(8))
    assert {p for _, _, p in got} == {0}
    for _, frame, _ in got:
        assert frame.shape == (128, 128, 3) and frame.dtype == np.uint8
    small = tiny_stream(size=32)
    _, frame, _ = small.next_frame()
    assert frame.shape == (32, 32, 3)


def test_the_window_keeps_its_size_and_each_frame_costs_one_model_call():
    stream = tiny_stream(window=6, context=2, ramp=3)
    shapes = set()
    for i, _, _ in stream.frames(12):
        shapes.add(stream.window_shape)
        # The ramp makes the anchor and context frames (3) in 3 calls;
        # every later frame is one call.
        assert stream.calls == 3 + max(0, i + 1 - 3)
    assert shapes == {(1, 3, 6, 32, 32)}
    assert torch.equal(stream.levels, window_levels(6)[1:])


def test_the_window_levels_run_from_clean_to_pure_noise():
    levels = window_levels(8, shift=2.0)
    assert levels[0] == 0.0 and levels[-1] == 1.0
    assert bool((levels.diff() > 0).all())
    # A shift above 1 spends more levels at high noise.
    assert levels[4] > window_levels(8)[4]


def test_the_same_seed_gives_the_same_frames_and_another_seed_others():
    a = [f for _, f, _ in tiny_stream(seed=3).frames(7)]
    b = [f for _, f, _ in tiny_stream(seed=3).frames(7)]
    c = [f for _, f, _ in tiny_stream(seed=4).frames(7)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[-1], c[-1])


def test_a_prompt_change_steers_later_frames_and_leaves_emitted_ones_alone():
    plain = list(tiny_stream().frames(12))
    steered_stream = tiny_stream()
    steered = []
    for item in steered_stream.frames(12):
        steered.append(item)
        if item[0] == 5:
            steered_stream.set_prompt("a blue box moving left at night")
    for (i, a, pa), (j, b, pb) in zip(plain, steered, strict=True):
        assert i == j
        if i <= 5:
            assert np.array_equal(a, b) and pa == pb == 0
        else:
            assert not np.array_equal(a, b)
            assert pb == 1
    assert steered_stream.prompt == "a blue box moving left at night"


def test_the_anchor_is_dropped_at_a_prompt_change_and_taken_from_new_frames():
    stream = tiny_stream(window=4, context=2)
    list(stream.frames(3))
    assert stream.anchored
    stream.set_prompt("a green star at sunset")
    index, _, _ = stream.next_frame()
    assert not stream.anchored
    # The tail frame when the change came in is the first made wholly under
    # the new prompt; it becomes the anchor when it comes out.
    while index < 3 + 4 - 1:
        index, _, _ = stream.next_frame()
    assert stream.anchored


def test_setting_the_same_prompt_again_changes_nothing():
    plain = [f for _, f, _ in tiny_stream().frames(6)]
    stream = tiny_stream()
    again = []
    for _, frame, p in stream.frames(6):
        again.append(frame)
        stream.set_prompt("a red ball staying still")
        assert p == 0
    assert all(np.array_equal(x, y) for x, y in zip(plain, again, strict=True))


def test_bad_settings_are_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="multiple of 8"):
        tiny_stream(size=100)
    with pytest.raises(ValueError, match="window must be at least 2"):
        StreamSettings(window=1)
    with pytest.raises(ValueError, match="context_noise"):
        StreamSettings(context_noise=1.0)
    stream = tiny_stream()
    with pytest.raises(ValueError, match="non-empty"):
        stream.set_prompt("  ")


def test_the_shipped_weights_stream_the_prompt_and_follow_a_colour_change():
    pipe = load_stream_pipeline()
    stream = LiveStream(pipe, "a red ball staying still on a sunny day", seed=1)
    colours = []
    for i, frame, _ in stream.frames(40):
        colours.append(read_clip(to_native(frame[None])).colour)
        if i == 15:
            stream.set_prompt("a blue ball staying still on a sunny day")
    assert colours[:16].count("red") >= 15
    assert colours[-16:].count("blue") >= 15


# ------------------------------------------------------- diffusion forcing


def test_a_stream_row_has_quiet_conditions_and_a_staggered_window():
    rng = random.Random(0)
    for _ in range(50):
        levels, weights = frame_levels("stream", 12, rng, context=3)
        assert weights == [0.0] * 4 + [1.0] * 8
        assert levels[0] == 1.0 or levels[0] <= 0.2  # absent, or lightly noised
        assert all(x <= 0.2 for x in levels[1:4])
        window = levels[4:]
        assert all(a < b for a, b in zip(window, window[1:], strict=False))
        assert window[0] <= 1 / 8 and window[-1] > 7 / 8 - 1e-6
    independent, _ = frame_levels("independent", 12, rng, context=3)
    assert len(set(independent)) == 12
    shared, _ = frame_levels("shared", 12, rng, context=3)
    assert len(set(shared)) == 1


def test_a_forcing_step_trains_on_per_frame_levels_and_resumes(tmp_path):
    tiny = json.dumps(
        {"conv_channels": 16, "dim": 32, "depth": 1, "heads": 2, "cond_dim": 32}
    )
    args = [
        *("--steps", "3", "--batch", "4", "--frames", "8", "--warmup", "1"),
        *("--log-every", "1", "--eval-every", "3", "--heldout-size", "4"),
        *("--model", tiny, "--out", str(tmp_path / "run")),
        *("--export", str(tmp_path / "export"), "--threads", "0"),
    ]
    trainer = train_forcing.main(args)
    # Every clip of the batch had its own row of levels, and at least one row
    # mixed levels (a stream or independent clip).
    levels = trainer.last_levels
    assert levels.shape == (4, 8)
    assert any(len(set(row.tolist())) > 1 for row in levels)
    rows = [
        json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()
    ]
    losses = [r["loss"] for r in rows if "loss" in r]
    assert len(losses) == 3 and all(math.isfinite(x) and x > 0 for x in losses)
    assert math.isfinite(rows[-1]["heldout_stream_loss"])
    exported = BuiltinVideoDenoiser.from_pretrained(tmp_path / "export" / "transformer")
    assert exported.config.dim == 32
    resumed = train_forcing.main([*args, "--resume", "--steps", "4"])
    assert resumed.step == 4
    before = trainer.ema.state_dict()
    after = resumed.ema.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_the_streams_bf16_weights_give_autocasts_output_to_the_bit(shipped):
    model, sample, text = shipped
    t = torch.linspace(50.0, 1000.0, 8)[None].expand(2, -1)
    fast = bf16_matmul_copy(model)
    assert bf16_matmul_copy(model) is fast
    assert model.conv_in.weight.dtype == torch.float32  # the original is untouched
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(fast(sample, t, *text), model(sample, t, *text))
