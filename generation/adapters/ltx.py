"""Adapter for LTX-Video (``LTXPipeline``, image conditioning, video conditioning).

LTX's VAE compresses 32× in space and 8× in time, so clips hold 8k+1 frames
and sides are multiples of 32. The pipeline *packs* latents into a token
sequence (B, S, D) and normalises them; previews unpack and denormalise
first, exactly as the pipeline does before its decode.

Video→video runs through ``LTXConditionPipeline``: the video conditions the
clip from frame 0 with a strength of ``1 - spec.strength``, so ``strength``
means here what it means elsewhere (1.0: free to change everything).
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

FAMILY = "ltx"
TASKS = ("t2v", "i2v", "v2v")
TEMPORAL, SPATIAL = 8, 32
SIZE_MULTIPLE = SPATIAL
LABEL = "LTX-Video"
NATIVE_SIZE = (704, 480)
FRAMES, FPS, STEPS, GUIDANCE = 41, 24, 30, 3.0
MAX_SEQUENCE_LENGTH = 128


def capabilities(task: str = "t2v") -> Capabilities:
    """What an LTX-Video model doing ``task`` makes: 8k+1 frames, sides
    in multiples of 32, 704×480 at 24 fps by default."""
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


class LtxAdapter(DiffusersVideoAdapter):
    """Runs a loaded LTX-Video pipeline for the service."""

    family = FAMILY
    label = LABEL
    tasks = TASKS
    native_size = NATIVE_SIZE
    rules = staticmethod(validate)

    @classmethod
    def pipeline_class(cls, task: str) -> type:
        from diffusers import (
            LTXConditionPipeline,
            LTXImageToVideoPipeline,
            LTXPipeline,
        )

        return {"i2v": LTXImageToVideoPipeline,
                "v2v": LTXConditionPipeline}.get(task, LTXPipeline)  # fmt: skip

    def prepare_previews(self, model_path: str | os.PathLike[str] | None) -> None:
        vae = self.pipeline.vae
        self.projection = self.fit_projection(
            model_path,
            lambda pixels: vae.encode(pixels).latent_dist.mode(),
            channels=vae.config.latent_channels,
            temporal=self.pipeline.vae_temporal_compression_ratio,
            spatial=self.pipeline.vae_spatial_compression_ratio,
        )

    def preview_frames(self, latents: torch.Tensor, spec: GenerationSpec) -> np.ndarray:
        """Small uint8 frames (t, h, w, 3) from the callback's packed latents."""
        pipe = self.pipeline
        frames = (spec.num_frames - 1) // pipe.vae_temporal_compression_ratio + 1
        height = spec.height // pipe.vae_spatial_compression_ratio
        width = spec.width // pipe.vae_spatial_compression_ratio
        p, pt = (
            pipe.transformer_spatial_patch_size,
            pipe.transformer_temporal_patch_size,
        )
        tokens = (frames // pt) * (height // p) * (width // p)
        # Conditioning tokens, when any, come first; the clip's own are last.
        video = pipe._unpack_latents(latents[:, -tokens:], frames, height, width, p, pt)
        vae = pipe.vae
        raw = pipe._denormalize_latents(
            video.float(),
            vae.latents_mean.float(),
            vae.latents_std.float(),
            vae.config.scaling_factor,
        )
        return self.projection.frames(raw[0])

    def call_arguments(self, spec: GenerationSpec) -> dict[str, Any]:
        call = super().call_arguments(spec)
        # The condition pipeline takes the clip's length beside its video, and
        # how strongly the video holds: the opposite of the spec's strength.
        call["num_frames"] = spec.num_frames
        if self.task == "v2v":
            call["strength"] = 1.0 - spec.strength
        call["frame_rate"] = spec.fps
        call["max_sequence_length"] = MAX_SEQUENCE_LENGTH
        return call
