"""Adapter for AnimateDiff (``AnimateDiffPipeline`` and video→video).

AnimateDiff animates a Stable Diffusion 1.5 UNet with a motion adapter. Its
VAE is an image VAE (8× in space, none in time), so every frame has its own
latent frame; sides are multiples of 8 and the motion module sees at most
``motion_max_seq_length`` frames (32 for the published adapters). Latents
arrive at the step callback as (B, C, T, h, w), scaled by the VAE's factor.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from generation import specs
from generation.adapters.diffusers_video import DiffusersVideoAdapter
from generation.capabilities import (
    Capabilities,
    FrameRule,
    family_capabilities,
)
from generation.specs import GenerationSpec

FAMILY = "animatediff"
TASKS = ("t2v", "v2v")
SPATIAL = 8
SIZE_MULTIPLE = SPATIAL
MAX_FRAMES = 32
LABEL = "AnimateDiff"
NATIVE_SIZE = (512, 512)
FRAMES, FPS, STEPS, GUIDANCE = 16, 8, 25, 7.5


def capabilities(task: str = "t2v") -> Capabilities:
    """What an AnimateDiff model doing ``task`` makes: any frame count up
    to what its motion module sees at once (32), sides in multiples of 8,
    512×512 at 8 fps by default."""
    return family_capabilities(
        family=FAMILY,
        label=LABEL,
        tasks=TASKS,
        task=task,
        frames=FrameRule(specs.MIN_FRAMES, MAX_FRAMES, default=FRAMES),
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


class AnimateDiffAdapter(DiffusersVideoAdapter):
    """Runs a loaded AnimateDiff pipeline for the service.

    Its folder holds the whole pipeline, motion adapter included.
    """

    family = FAMILY
    label = LABEL
    tasks = TASKS
    native_size = NATIVE_SIZE
    rules = staticmethod(validate)

    @classmethod
    def pipeline_class(cls, task: str) -> type:
        from diffusers import AnimateDiffPipeline, AnimateDiffVideoToVideoPipeline

        return AnimateDiffVideoToVideoPipeline if task == "v2v" else AnimateDiffPipeline

    def prepare_previews(self, model_path: str | os.PathLike[str] | None) -> None:
        vae = self.pipeline.vae
        self._scale = float(vae.config.scaling_factor)

        def encode(pixels: torch.Tensor) -> torch.Tensor:
            # An image VAE: frames go through it as a batch of images.
            b, c, t, h, w = pixels.shape
            images = pixels.transpose(1, 2).reshape(b * t, c, h, w)
            latents = vae.encode(images).latent_dist.mode()
            return latents.reshape(b, t, *latents.shape[1:]).transpose(1, 2)

        self.projection = self.fit_projection(
            model_path,
            encode,
            channels=vae.config.latent_channels,
            temporal=1,
            spatial=SPATIAL,
        )

    def preview_frames(self, latents: torch.Tensor, spec: GenerationSpec) -> np.ndarray:
        """Small uint8 frames (T, h, w, 3) from the callback's (B, C, T, h, w)."""
        return self.projection.frames(latents[0].float() / self._scale)
