"""Adapter for Wan 2.1 / 2.2 (``WanPipeline`` and its image and video variants).

Wan's VAE compresses 8× in space and 4× in time and its transformer patches
2×2, so clips hold 4k+1 frames and sides are multiples of 16. Latents reach
the step callback normalised per channel, shaped (B, 16, t, h, w).
"""

from __future__ import annotations

import os
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

FAMILY = "wan"
TASKS = ("t2v", "i2v", "v2v")
TEMPORAL, SPATIAL, PATCH = 4, 8, 2
SIZE_MULTIPLE = SPATIAL * PATCH
LABEL = "Wan"
NATIVE_SIZE = (832, 480)
FRAMES, FPS, STEPS, GUIDANCE = 33, 16, 30, 5.0
MAX_SEQUENCE_LENGTH = 512


def capabilities(task: str = "t2v") -> Capabilities:
    """What a Wan model doing ``task`` makes: 4k+1 frames, sides in
    multiples of 16, 832×480 at 16 fps by default."""
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


def _text_embeds(pipe: Any, prompt: str, device: torch.device) -> torch.Tensor:
    # WanPipeline's own encoder treats ftfy as optional; the image and video
    # pipelines' copies require it, so every task encodes through this one.
    from diffusers.pipelines.wan.pipeline_wan import WanPipeline

    return WanPipeline._get_t5_prompt_embeds(
        pipe, prompt=prompt, max_sequence_length=MAX_SEQUENCE_LENGTH, device=device
    )


class WanAdapter(DiffusersVideoAdapter):
    """Runs a loaded Wan pipeline for the service."""

    family = FAMILY
    label = LABEL
    tasks = TASKS
    native_size = NATIVE_SIZE
    rules = staticmethod(validate)

    @classmethod
    def pipeline_class(cls, task: str) -> type:
        from diffusers import (
            WanImageToVideoPipeline,
            WanPipeline,
            WanVideoToVideoPipeline,
        )

        return {"i2v": WanImageToVideoPipeline,
                "v2v": WanVideoToVideoPipeline}.get(task, WanPipeline)  # fmt: skip

    def prepare_previews(self, model_path: str | os.PathLike[str] | None) -> None:
        vae = self.pipeline.vae
        channels = vae.config.z_dim
        self._mean = torch.tensor(vae.config.latents_mean).view(channels, 1, 1, 1)
        self._std = torch.tensor(vae.config.latents_std).view(channels, 1, 1, 1)
        self.projection = self.fit_projection(
            model_path,
            lambda pixels: vae.encode(pixels).latent_dist.mode(),
            channels=channels,
            temporal=TEMPORAL,
            spatial=SPATIAL,
        )

    def preview_frames(self, latents: torch.Tensor, spec: GenerationSpec) -> np.ndarray:
        """Small uint8 frames (t, h, w, 3) from the callback's normalised latents."""
        raw = latents[0].float() * self._std.to(latents.device)
        raw += self._mean.to(latents.device)
        return self.projection.frames(raw)

    def call_arguments(self, spec: GenerationSpec) -> dict[str, Any]:
        call = super().call_arguments(spec)
        del call["prompt"], call["negative_prompt"]
        pipe = self.pipeline
        device = pipe._execution_device
        call["prompt_embeds"] = _text_embeds(pipe, spec.prompt, device)
        if spec.guidance_scale > 1.0:
            call["negative_prompt_embeds"] = _text_embeds(
                pipe, spec.negative_prompt, device
            )
        return call
