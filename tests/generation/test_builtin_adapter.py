from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from generation.adapters import InvalidSpecError, ModelUnavailableError
from generation.adapters.builtin import BuiltinAdapter
from generation.specs import GenerationCancelled


def test_it_renders_uint8_frames_at_its_native_size(tiny_adapter, spec):
    # The spec asks for 64×64: the service scales the frames while encoding.
    frames = tiny_adapter.generate(spec)
    assert frames.dtype == np.uint8
    assert frames.shape == (8, 32, 32, 3)
    assert frames.std() > 0


def test_it_renders_the_same_clip_for_the_same_seed(tiny_adapter, spec):
    first = tiny_adapter.generate(spec)
    np.testing.assert_array_equal(first, tiny_adapter.generate(spec))
    assert not np.array_equal(first, tiny_adapter.generate(replace(spec, seed=8)))


def test_it_previews_every_frame_at_every_step(tiny_adapter, spec):
    previews = []
    tiny_adapter.generate(
        replace(spec, num_inference_steps=3),
        on_preview=lambda step, steps, frames: previews.append((step, steps, frames)),
    )
    assert [(step, steps) for step, steps, _ in previews] == [(1, 3), (2, 3), (3, 3)]
    for _, _, frames in previews:
        assert frames.dtype == np.uint8
        assert frames.shape == (8, 32, 32, 3)
    assert not np.array_equal(previews[0][2], previews[-1][2])


def test_it_stops_at_the_step_where_it_is_asked_to(tiny_adapter, spec):
    steps_seen = []
    with pytest.raises(GenerationCancelled):
        tiny_adapter.generate(
            replace(spec, num_inference_steps=5),
            on_preview=lambda step, steps, frames: steps_seen.append(step),
            should_stop=lambda: len(steps_seen) >= 2,
        )
    assert steps_seen == [1, 2]
    assert tiny_adapter.pipeline.interrupt is True


def test_it_does_not_start_when_already_stopped(tiny_adapter, spec):
    with pytest.raises(GenerationCancelled):
        tiny_adapter.generate(spec, should_stop=lambda: True)


def test_it_rejects_settings_out_of_bounds_before_running(tiny_adapter, spec):
    bad = replace(spec, num_frames=200, width=65)
    assert set(tiny_adapter.validate(bad)) == {"num_frames", "width"}
    with pytest.raises(InvalidSpecError) as caught:
        tiny_adapter.generate(bad)
    assert set(caught.value.errors) == {"num_frames", "width"}


def test_it_says_when_the_model_has_no_weights(tmp_path):
    with pytest.raises(ModelUnavailableError, match="no trained weights"):
        BuiltinAdapter.load(tmp_path, device="cpu")


# Runs only where a CUDA device exists: `pytest -m gpu` (deselected by default).
@pytest.mark.gpu
def test_it_renders_on_a_gpu_what_it_renders_on_a_cpu(spec):
    from generation.builtin.pipeline import tiny_random_pipeline

    on_cpu = BuiltinAdapter(tiny_random_pipeline(seed=0), device="cpu").generate(spec)
    previews = []
    on_gpu = BuiltinAdapter(tiny_random_pipeline(seed=0), device="cuda").generate(
        spec, on_preview=lambda step, steps, frames: previews.append(frames)
    )
    assert on_gpu.shape == on_cpu.shape
    assert np.abs(on_gpu.astype(int) - on_cpu.astype(int)).mean() < 2
    assert len(previews) == spec.num_inference_steps


def test_the_built_in_weights_memory_counts_every_component_and_the_text_encoder():
    from generation.adapters.builtin import WEIGHTS_DIR, weights_memory
    from generation.builtin.pipeline import BuiltinVideoPipeline, text_encoder_for

    pipe = BuiltinVideoPipeline.from_pretrained(WEIGHTS_DIR)
    encoder = text_encoder_for(torch.device("cpu"))
    loaded = sum(p.numel() for p in pipe.transformer.parameters())
    if pipe.decoder is not None:
        loaded += sum(p.numel() for p in pipe.decoder.parameters())
    loaded += sum(p.numel() for p in encoder.model.parameters())
    memory = weights_memory()
    # Read from the files' headers alone (which also count a few buffers).
    assert memory["weights"] == pytest.approx(4 * loaded, rel=1e-3)
    assert memory["peak"] == memory["weights"]
