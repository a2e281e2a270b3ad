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

from generation import inputs, latent_preview
from generation.adapters import InvalidSpecError, OnPreview, check_spec
from generation.adapters.options import ModelOptions, apply_options
from generation.specs import GenerationCancelled, GenerationSpec, ShouldStop

FAMILY = "wan"
TASKS = ("t2v", "i2v", "v2v")
TEMPORAL, SPATIAL, PATCH = 4, 8, 2
SIZE_MULTIPLE = SPATIAL * PATCH
NATIVE_SIZE = (832, 480)
DEFAULTS = {"num_frames": 33, "fps": 16, "width": 832, "height": 480,
            "num_inference_steps": 30, "guidance_scale": 5.0}  # fmt: skip
MAX_SEQUENCE_LENGTH = 512


def validate(spec: GenerationSpec, task: str = "t2v") -> dict[str, list[str]]:
    """The shared bounds plus Wan's frame, size and input rules."""
    errors = check_spec(spec)

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if "num_frames" not in errors and spec.num_frames % TEMPORAL != 1:
        below = spec.num_frames // TEMPORAL * TEMPORAL + 1
        add("num_frames", f"Wan makes 4k+1 frames (…, {below}, {below + TEMPORAL}, "
            f"…); {spec.num_frames} is not one of them.")  # fmt: skip
    for field in ("width", "height"):
        value = getattr(spec, field)
        if field not in errors and value % SIZE_MULTIPLE:
            add(field, f"Wan needs the {field} to be a multiple of {SIZE_MULTIPLE} "
                f"pixels; {value} is not.")  # fmt: skip
    errors.update(inputs.check_task_inputs(spec, task, FAMILY))
    return errors


def _text_embeds(pipe: Any, prompt: str, device: torch.device) -> torch.Tensor:
    # WanPipeline's own encoder treats ftfy as optional; the image and video
    # pipelines' copies require it, so every task encodes through this one.
    from diffusers.pipelines.wan.pipeline_wan import WanPipeline

    return WanPipeline._get_t5_prompt_embeds(
        pipe, prompt=prompt, max_sequence_length=MAX_SEQUENCE_LENGTH, device=device
    )


class WanAdapter:
    """Runs a loaded Wan pipeline for the service."""

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
            raise ValueError(f"Wan offers the tasks {TASKS}, not {task!r}")
        self.name = name
        self.task = task
        self.device = device
        self.pipeline = apply_options(pipeline, options or ModelOptions(), device)
        vae = self.pipeline.vae
        channels = vae.config.z_dim
        self._mean = torch.tensor(vae.config.latents_mean).view(channels, 1, 1, 1)
        self._std = torch.tensor(vae.config.latents_std).view(channels, 1, 1, 1)
        self.projection = latent_preview.load_or_fit(
            model_path,
            lambda pixels: vae.encode(pixels).latent_dist.mode(),
            channels=channels,
            temporal=TEMPORAL,
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
    ) -> WanAdapter:
        """Load a Wan folder saved with ``save_pretrained`` (or a hub id)."""
        from diffusers import (
            WanImageToVideoPipeline,
            WanPipeline,
            WanVideoToVideoPipeline,
        )

        options = options or ModelOptions()
        pipeline_class = {"i2v": WanImageToVideoPipeline,
                          "v2v": WanVideoToVideoPipeline}.get(task, WanPipeline)  # fmt: skip
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
        """Small uint8 frames (t, h, w, 3) from the callback's latents."""
        raw = latents[0].float() * self._std.to(latents.device)
        raw += self._mean.to(latents.device)
        return self.projection.frames(raw)

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
                on_preview(
                    step_index + 1, steps, self.preview_frames(kwargs["latents"])
                )
            return kwargs

        device = pipe._execution_device
        call: dict[str, Any] = {
            "prompt_embeds": _text_embeds(pipe, spec.prompt, device),
            "height": spec.height,
            "width": spec.width,
            "num_inference_steps": spec.num_inference_steps,
            "guidance_scale": spec.guidance_scale,
        }
        if spec.guidance_scale > 1.0:
            call["negative_prompt_embeds"] = _text_embeds(
                pipe, spec.negative_prompt, device
            )
        if self.task == "i2v":
            call["image"] = inputs.load_image(spec.image_path, spec.width, spec.height)
        if self.task == "v2v":
            call["video"] = inputs.load_video(
                spec.video_path, spec.num_frames, spec.width, spec.height
            )
            call["strength"] = spec.strength
        else:
            call["num_frames"] = spec.num_frames
        output = pipe(
            **call,
            # A CPU generator gives the same clip for a seed on every device.
            generator=torch.Generator("cpu").manual_seed(spec.seed),
            output_type="np",
            callback_on_step_end=on_step_end,
            callback_on_step_end_tensor_inputs=["latents"],
        )
        return inputs.to_uint8(output.frames[0])
