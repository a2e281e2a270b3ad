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

from generation import inputs, latent_preview
from generation.adapters import InvalidSpecError, OnPreview, check_spec
from generation.adapters.options import ModelOptions, apply_options
from generation.specs import GenerationCancelled, GenerationSpec, ShouldStop

FAMILY = "ltx"
TASKS = ("t2v", "i2v", "v2v")
TEMPORAL, SPATIAL = 8, 32
SIZE_MULTIPLE = SPATIAL
NATIVE_SIZE = (704, 480)
DEFAULTS = {"num_frames": 41, "fps": 24, "width": 704, "height": 480,
            "num_inference_steps": 30, "guidance_scale": 3.0}  # fmt: skip
MAX_SEQUENCE_LENGTH = 128


def validate(spec: GenerationSpec, task: str = "t2v") -> dict[str, list[str]]:
    """The shared bounds plus LTX-Video's frame, size and input rules."""
    errors = check_spec(spec)

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if "num_frames" not in errors and spec.num_frames % TEMPORAL != 1:
        below = spec.num_frames // TEMPORAL * TEMPORAL + 1
        add("num_frames", f"LTX-Video makes 8k+1 frames (…, {below}, "
            f"{below + TEMPORAL}, …); {spec.num_frames} is not one of them.")  # fmt: skip
    for field in ("width", "height"):
        value = getattr(spec, field)
        if field not in errors and value % SIZE_MULTIPLE:
            add(field, f"LTX-Video needs the {field} to be a multiple of "
                f"{SIZE_MULTIPLE} pixels; {value} is not.")  # fmt: skip
    errors.update(inputs.check_task_inputs(spec, task, "LTX-Video"))
    return errors


class LtxAdapter:
    """Runs a loaded LTX-Video pipeline for the service."""

    family = FAMILY
    native_size = NATIVE_SIZE

    def __init__(
        self,
        pipeline: Any,
        *,
        name: str,
        task: str = "t2v",
        device: str = "cpu",
        options: ModelOptions | None = None,
        model_path: str | os.PathLike[str] | None = None,
    ) -> None:
        if task not in TASKS:
            raise ValueError(f"LTX-Video offers the tasks {TASKS}, not {task!r}")
        self.name = name
        self.task = task
        self.device = device
        self.pipeline = apply_options(pipeline, options or ModelOptions(), device)
        vae = self.pipeline.vae
        self.projection = latent_preview.load_or_fit(
            model_path,
            lambda pixels: vae.encode(pixels).latent_dist.mode(),
            channels=vae.config.latent_channels,
            temporal=self.pipeline.vae_temporal_compression_ratio,
            spatial=self.pipeline.vae_spatial_compression_ratio,
            device=vae.device,
            dtype=vae.dtype,
        )

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        name: str,
        task: str = "t2v",
        device: str = "cpu",
        options: ModelOptions | None = None,
    ) -> LtxAdapter:
        """Load an LTX-Video folder saved with ``save_pretrained`` (or a hub id)."""
        from diffusers import (
            LTXConditionPipeline,
            LTXImageToVideoPipeline,
            LTXPipeline,
        )

        options = options or ModelOptions()
        pipeline_class = {"i2v": LTXImageToVideoPipeline,
                          "v2v": LTXConditionPipeline}.get(task, LTXPipeline)  # fmt: skip
        pipeline = pipeline_class.from_pretrained(
            path, dtype=options.torch_dtype(device)
        )
        return cls(
            pipeline,
            name=name,
            task=task,
            device=device,
            options=options,
            model_path=path,
        )

    def validate(self, spec: GenerationSpec) -> dict[str, list[str]]:
        """Creator-readable problems with ``spec`` per field; empty when fine."""
        return validate(spec, self.task)

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

    @torch.inference_mode()
    def generate(
        self,
        spec: GenerationSpec,
        *,
        on_preview: OnPreview | None = None,
        should_stop: ShouldStop | None = None,
    ) -> np.ndarray:
        """Render ``spec`` into uint8 frames (T, height, width, 3).

        Every step sends a preview of every latent frame; when
        ``should_stop()`` answers True the run stops at that step and raises
        :class:`GenerationCancelled` before the VAE decodes anything.
        """
        errors = self.validate(spec)
        if errors:
            raise InvalidSpecError(errors)
        if should_stop is not None and should_stop():
            raise GenerationCancelled
        pipe = self.pipeline

        def on_step_end(
            pipe: Any, step_index: int, timestep: Any, kwargs: dict[str, Any]
        ) -> dict[str, Any]:
            if should_stop is not None and should_stop():
                pipe._interrupt = True
                raise GenerationCancelled
            if on_preview is not None:
                steps = pipe._num_timesteps or spec.num_inference_steps
                frames = self.preview_frames(kwargs["latents"], spec)
                on_preview(step_index + 1, steps, frames)
            return kwargs

        call: dict[str, Any] = {
            "prompt": spec.prompt,
            "negative_prompt": spec.negative_prompt or None,
            "height": spec.height,
            "width": spec.width,
            "num_frames": spec.num_frames,
            "frame_rate": spec.fps,
            "num_inference_steps": spec.num_inference_steps,
            "guidance_scale": spec.guidance_scale,
            "max_sequence_length": MAX_SEQUENCE_LENGTH,
        }
        if self.task == "i2v":
            call["image"] = inputs.load_image(spec.image_path, spec.width, spec.height)
        if self.task == "v2v":
            call["video"] = inputs.load_video(
                spec.video_path, spec.num_frames, spec.width, spec.height
            )
            call["strength"] = 1.0 - spec.strength
        output = pipe(
            **call,
            # A CPU generator gives the same clip for a seed on every device.
            generator=torch.Generator("cpu").manual_seed(spec.seed),
            output_type="np",
            callback_on_step_end=on_step_end,
            callback_on_step_end_tensor_inputs=["latents"],
        )
        return inputs.to_uint8(output.frames[0])
