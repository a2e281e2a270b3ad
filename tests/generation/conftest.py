"""Fixtures for the generation runtime: the real built-in pipeline, tiny and random."""

from __future__ import annotations

import pytest

from generation.specs import GenerationSpec


@pytest.fixture(scope="session")
def tiny_pipeline():
    from generation.builtin.pipeline import tiny_random_pipeline

    return tiny_random_pipeline(seed=0)


@pytest.fixture
def tiny_adapter(tiny_pipeline):
    from generation.adapters.builtin import BuiltinAdapter

    return BuiltinAdapter(tiny_pipeline, device="cpu")


@pytest.fixture
def spec() -> GenerationSpec:
    """A clip small enough to render in a blink on a CPU."""
    return GenerationSpec(
        prompt="a red ball bouncing to the right, slow push-in",
        num_frames=8,
        fps=8,
        width=64,
        height=64,
        num_inference_steps=2,
        guidance_scale=3.0,
        seed=7,
    )
