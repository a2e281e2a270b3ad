"""Adapter for HunyuanVideo (``HunyuanVideoPipeline``, text→video).

HunyuanVideo's VAE compresses 8× in space and 4× in time and its transformer
patches 2×2, so clips hold 4k+1 frames and sides are multiples of 16. The
model is guidance-distilled: ``guidance_scale`` is fed to the transformer as
an embedding rather than run as classifier-free guidance, so it takes no
negative prompt. Its image→video variant needs a LLaVA text encoder and is
not offered here.
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

FAMILY = "hunyuan"
TASKS = ("t2v",)
TEMPORAL, SPATIAL, PATCH = 4, 8, 2
SIZE_MULTIPLE = SPATIAL * PATCH
NATIVE_SIZE = (848, 480)
DEFAULTS = {"num_frames": 33, "fps": 24, "width": 848, "height": 480,
            "num_inference_steps": 30, "guidance_scale": 6.0}  # fmt: skip


def validate(spec: GenerationSpec, task: str = "t2v") -> dict[str, list[str]]:
    """The shared bounds plus HunyuanVideo's frame, size and input rules."""
    errors = check_spec(spec)

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if "num_frames" not in errors and spec.num_frames % TEMPORAL != 1:
        below = spec.num_frames // TEMPORAL * TEMPORAL + 1
        add("num_frames", f"HunyuanVideo makes 4k+1 frames (…, {below}, "
            f"{below + TEMPORAL}, …); {spec.num_frames} is not one of them.")  # fmt: skip
    for field in ("width", "height"):
        value = getattr(spec, field)
        if field not in errors and value % SIZE_MULTIPLE:
            add(field, f"HunyuanVideo needs the {field} to be a multiple of "
                f"{SIZE_MULTIPLE} pixels; {value} is not.")  # fmt: skip
    if isinstance(spec.negative_prompt, str) and spec.negative_prompt.strip():
        add("negative_prompt", "HunyuanVideo is guidance-distilled and takes no "
            "negative prompt; leave it empty.")  # fmt: skip
    errors.update(inputs.check_task_inputs(spec, task, "HunyuanVideo"))
    return errors


class HunyuanAdapter:
    """Runs a loaded HunyuanVideo pipeline for the service."""

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
            raise ValueError(f"HunyuanVideo offers the tasks {TASKS}, not {task!r}")
        self.name = name
        self.task = task
        self.device = device
        self.pipeline = apply_options(pipeline, options or ModelOptions(), device)
        vae = self.pipeline.vae
        self._scale = float(vae.config.scaling_factor)
        self.projection = latent_preview.load_or_fit(
            model_path,
            lambda pixels: vae.encode(pixels).latent_dist.mode(),
            channels=vae.config.latent_channels,
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
    ) -> HunyuanAdapter:
        """Load a HunyuanVideo folder saved with ``save_pretrained`` (or a hub id)."""
        from diffusers import HunyuanVideoPipeline

        options = options or ModelOptions()
        pipeline = HunyuanVideoPipeline.from_pretrained(
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
        """Small uint8 frames (t, h, w, 3) from the callback's (B, C, t, h, w)."""
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

        Every step sends a preview of every latent frame; when
        ``should_stop()`` answers True the run stops at that step and raises
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

        output = self.pipeline(
            prompt=spec.prompt,
            height=spec.height,
            width=spec.width,
            num_frames=spec.num_frames,
            num_inference_steps=spec.num_inference_steps,
            guidance_scale=spec.guidance_scale,
            # A CPU generator gives the same clip for a seed on every device.
            generator=torch.Generator("cpu").manual_seed(spec.seed),
            output_type="np",
            callback_on_step_end=on_step_end,
            callback_on_step_end_tensor_inputs=["latents"],
        )
        return inputs.to_uint8(output.frames[0])
