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

from generation.adapters.diffusers_video import DiffusersVideoAdapter, check_video_spec
from generation.specs import GenerationSpec

FAMILY = "hunyuan"
TASKS = ("t2v",)
TEMPORAL, SPATIAL, PATCH = 4, 8, 2
SIZE_MULTIPLE = SPATIAL * PATCH
NATIVE_SIZE = (848, 480)
DEFAULTS = {"num_frames": 33, "fps": 24, "width": 848, "height": 480,
            "num_inference_steps": 30, "guidance_scale": 6.0}  # fmt: skip


def validate(spec: GenerationSpec, task: str = "t2v") -> dict[str, list[str]]:
    """The shared bounds plus HunyuanVideo's frame, size and input rules."""
    errors = check_video_spec(
        spec,
        task,
        label="HunyuanVideo",
        size_multiple=SIZE_MULTIPLE,
        frame_step=TEMPORAL,
    )
    if isinstance(spec.negative_prompt, str) and spec.negative_prompt.strip():
        errors.setdefault("negative_prompt", []).append(
            "HunyuanVideo is guidance-distilled and takes no negative prompt; "
            "leave it empty."
        )
    return errors


class HunyuanAdapter(DiffusersVideoAdapter):
    """Runs a loaded HunyuanVideo pipeline for the service."""

    family = FAMILY
    label = "HunyuanVideo"
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
        del call["negative_prompt"]  # guidance-distilled: see validate()
        return call
