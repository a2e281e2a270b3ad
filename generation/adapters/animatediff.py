"""Adapter for AnimateDiff (``AnimateDiffPipeline`` and video→video).

AnimateDiff animates a Stable Diffusion 1.5 UNet with a motion adapter. Its
VAE is an image VAE (8× in space, none in time), so every frame has its own
latent frame; sides are multiples of 8 and the motion module sees at most
``motion_max_seq_length`` frames (32 for the published adapters). Latents
arrive at the step callback as (B, C, T, h, w), scaled by the VAE's factor.
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

FAMILY = "animatediff"
TASKS = ("t2v", "v2v")
SPATIAL = 8
SIZE_MULTIPLE = SPATIAL
MAX_FRAMES = 32
NATIVE_SIZE = (512, 512)
DEFAULTS = {"num_frames": 16, "fps": 8, "width": 512, "height": 512,
            "num_inference_steps": 25, "guidance_scale": 7.5}  # fmt: skip


def validate(spec: GenerationSpec, task: str = "t2v") -> dict[str, list[str]]:
    """The shared bounds plus AnimateDiff's frame, size and input rules."""
    errors = check_spec(spec)

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if "num_frames" not in errors and spec.num_frames > MAX_FRAMES:
        add("num_frames", f"AnimateDiff's motion module sees at most {MAX_FRAMES} "
            f"frames; {spec.num_frames} is too many.")  # fmt: skip
    for field in ("width", "height"):
        value = getattr(spec, field)
        if field not in errors and value % SIZE_MULTIPLE:
            add(field, f"AnimateDiff needs the {field} to be a multiple of "
                f"{SIZE_MULTIPLE} pixels; {value} is not.")  # fmt: skip
    errors.update(inputs.check_task_inputs(spec, task, "AnimateDiff"))
    return errors


class AnimateDiffAdapter:
    """Runs a loaded AnimateDiff pipeline for the service."""

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
            raise ValueError(f"AnimateDiff offers the tasks {TASKS}, not {task!r}")
        self.name = name
        self.task = task
        self.device = device
        self.pipeline = apply_options(pipeline, options or ModelOptions(), device)
        vae = self.pipeline.vae
        self._scale = float(vae.config.scaling_factor)

        def encode(pixels: torch.Tensor) -> torch.Tensor:
            # An image VAE: frames go through it as a batch of images.
            b, c, t, h, w = pixels.shape
            images = pixels.transpose(1, 2).reshape(b * t, c, h, w)
            latents = vae.encode(images).latent_dist.mode()
            return latents.reshape(b, t, *latents.shape[1:]).transpose(1, 2)

        self.projection = latent_preview.load_or_fit(
            model_path,
            encode,
            channels=vae.config.latent_channels,
            temporal=1,
            spatial=SPATIAL,
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
    ) -> AnimateDiffAdapter:
        """Load an AnimateDiff folder saved with ``save_pretrained``.

        The folder holds the whole pipeline, motion adapter included.
        """
        from diffusers import AnimateDiffPipeline, AnimateDiffVideoToVideoPipeline

        options = options or ModelOptions()
        pipeline_class = (
            AnimateDiffVideoToVideoPipeline if task == "v2v" else AnimateDiffPipeline
        )
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

    def preview_frames(self, latents: torch.Tensor) -> np.ndarray:
        """Small uint8 frames (T, h, w, 3) from the callback's (B, C, T, h, w)."""
        return self.projection.frames(latents[0].float() / self._scale)

    @torch.inference_mode()
    def generate(
        self,
        spec: GenerationSpec,
        *,
        on_preview: OnPreview | None = None,
        should_stop: ShouldStop | None = None,
    ) -> np.ndarray:
        """Render ``spec`` into uint8 frames (T, height, width, 3).

        Every step sends a preview of every frame; when ``should_stop()``
        answers True the run stops at that step and raises
        :class:`GenerationCancelled` before the VAE decodes anything.
        """
        errors = self.validate(spec)
        if errors:
            raise InvalidSpecError(errors)
        if should_stop is not None and should_stop():
            raise GenerationCancelled

        def on_step_end(
            pipe: Any, step_index: int, timestep: Any, kwargs: dict[str, Any]
        ) -> dict[str, Any]:
            if should_stop is not None and should_stop():
                pipe._interrupt = True
                raise GenerationCancelled
            if on_preview is not None:
                steps = pipe._num_timesteps or spec.num_inference_steps
                on_preview(
                    step_index + 1, steps, self.preview_frames(kwargs["latents"])
                )
            return kwargs

        call: dict[str, Any] = {
            "prompt": spec.prompt,
            "negative_prompt": spec.negative_prompt or None,
            "height": spec.height,
            "width": spec.width,
            "num_inference_steps": spec.num_inference_steps,
            "guidance_scale": spec.guidance_scale,
        }
        if self.task == "v2v":
            call["video"] = inputs.load_video(
                spec.video_path, spec.num_frames, spec.width, spec.height
            )
            call["strength"] = spec.strength
        else:
            call["num_frames"] = spec.num_frames
        output = self.pipeline(
            **call,
            # A CPU generator gives the same clip for a seed on every device.
            generator=torch.Generator("cpu").manual_seed(spec.seed),
            output_type="np",
            callback_on_step_end=on_step_end,
            callback_on_step_end_tensor_inputs=["latents"],
        )
        return inputs.to_uint8(output.frames[0])
