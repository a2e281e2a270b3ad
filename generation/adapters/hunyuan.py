"""Adapter for HunyuanVideo (``HunyuanVideoPipeline``, text→video).

HunyuanVideo's VAE compresses 8× in space and 4× in time and its transformer
patches 2×2, so clips hold 4k+1 frames and sides are multiples of 16. The
model is guidance-distilled: ``guidance_scale`` is fed to the transformer as
an embedding rather than run as classifier-free guidance, so it takes no
negative prompt. Its image→video variant needs a LLaVA text encoder and is
not offered here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from generation.adapters.diffusers_video import DiffusersVideoAdapter
from generation.capabilities import (
    Capabilities,
    family_capabilities,
    stepped_frames,
)
from generation.specs import GenerationSpec

FAMILY = "hunyuan"
TASKS = ("t2v",)
TEMPORAL, SPATIAL, PATCH = 4, 8, 2
SIZE_MULTIPLE = SPATIAL * PATCH
LABEL = "HunyuanVideo"
NATIVE_SIZE = (848, 480)
FRAMES, FPS, STEPS, GUIDANCE = 33, 24, 30, 6.0


def capabilities(task: str = "t2v") -> Capabilities:
    """What a HunyuanVideo model makes: 4k+1 frames, sides in multiples
    of 16, 848×480 at 24 fps by default, and no negative prompt (it is
    guidance-distilled)."""
    return family_capabilities(
        family=FAMILY,
        label=LABEL,
        tasks=TASKS,
        task=task,
        frames=stepped_frames(TEMPORAL, FRAMES),
        fps=FPS,
        size_multiple=SIZE_MULTIPLE,
        native_size=NATIVE_SIZE,
        steps=STEPS,
        guidance=GUIDANCE,
        takes_negative_prompt=False,
    )


DEFAULTS = capabilities().defaults()


def validate(spec: GenerationSpec, task: str = "t2v") -> dict[str, list[str]]:
    """Check ``spec`` against :func:`capabilities` for ``task``."""
    return capabilities(task).check(spec)


class HunyuanAdapter(DiffusersVideoAdapter):
    """Runs a loaded HunyuanVideo pipeline for the service."""

    family = FAMILY
    label = LABEL
    tasks = TASKS
    native_size = NATIVE_SIZE
    compression = (TEMPORAL, SPATIAL)
    rules = staticmethod(validate)

    @classmethod
    def pipeline_class(cls, task: str) -> type:
        from diffusers import HunyuanVideoPipeline

        return HunyuanVideoPipeline

    def preview_frames(self, latents: torch.Tensor, spec: GenerationSpec) -> np.ndarray:
        """Small uint8 frames (t, h, w, 3) from the callback's (B, C, t, h, w)."""
        return self.projection.frames(latents[0].float() / self._scale)

    def call_arguments(self, spec: GenerationSpec) -> dict[str, Any]:
        call = super().call_arguments(spec)
        del call["negative_prompt"]  # guidance-distilled: see capabilities()
        return call
