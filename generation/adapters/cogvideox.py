"""Adapter for CogVideoX (``CogVideoXPipeline``, image→video, video→video).

CogVideoX's VAE compresses 8× in space and 4× in time and its transformer
patches 2×2, so clips hold 4k+1 frames and sides are multiples of 16. Its
latents arrive at the step callback frame-major, (B, T, C, h, w), scaled by
the VAE's scaling factor.
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

FAMILY = "cogvideox"
TASKS = ("t2v", "i2v", "v2v")
TEMPORAL, SPATIAL, PATCH = 4, 8, 2
SIZE_MULTIPLE = SPATIAL * PATCH
LABEL = "CogVideoX"
NATIVE_SIZE = (720, 480)
FRAMES, FPS, STEPS, GUIDANCE = 41, 8, 50, 6.0


def capabilities(task: str = "t2v") -> Capabilities:
    """What a CogVideoX model doing ``task`` makes: 4k+1 frames, sides
    in multiples of 16, 720×480 at 8 fps by default."""
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
    )


DEFAULTS = capabilities().defaults()


def validate(spec: GenerationSpec, task: str = "t2v") -> dict[str, list[str]]:
    """Check ``spec`` against :func:`capabilities` for ``task``."""
    return capabilities(task).check(spec)


class CogVideoXAdapter(DiffusersVideoAdapter):
    """Runs a loaded CogVideoX pipeline for the service."""

    family = FAMILY
    label = LABEL
    tasks = TASKS
    native_size = NATIVE_SIZE
    compression = (TEMPORAL, SPATIAL)
    rules = staticmethod(validate)

    @classmethod
    def pipeline_class(cls, task: str) -> type:
        from diffusers import (
            CogVideoXImageToVideoPipeline,
            CogVideoXPipeline,
            CogVideoXVideoToVideoPipeline,
        )

        return {"i2v": CogVideoXImageToVideoPipeline,
                "v2v": CogVideoXVideoToVideoPipeline}.get(task, CogVideoXPipeline)  # fmt: skip

    def preview_frames(self, latents: torch.Tensor, spec: GenerationSpec) -> np.ndarray:
        """Small uint8 frames (t, h, w, 3) from the callback's (B, T, C, h, w)."""
        raw = latents[0].transpose(0, 1).float() / self._scale
        return self.projection.frames(raw)

    def call_arguments(self, spec: GenerationSpec) -> dict[str, Any]:
        call = super().call_arguments(spec)
        # The transformer's text positions are fixed at this length.
        call["max_sequence_length"] = (
            self.pipeline.transformer.config.max_text_seq_length
        )
        return call
