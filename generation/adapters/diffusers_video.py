"""What the adapters of diffusers' video families share.

Each family file (``wan.py``, ``ltx.py``, ...) keeps what is its own: its
capabilities (frame and size rules, ranges, defaults, inputs; see
:mod:`generation.capabilities`), which pipeline class serves which task, how its
latents turn into preview frames and which arguments its pipeline takes.
:class:`DiffusersVideoAdapter` runs the rest the same way for all of them:
loading with the model's options, a step callback that stops at the next step
when asked (before the VAE decodes anything) and sends a preview of every
latent frame, and a CPU generator so a seed gives the same clip everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch

from generation import inputs, latent_preview
from generation.adapters import InvalidSpecError, OnPreview
from generation.adapters.options import ModelOptions, apply_options
from generation.specs import GenerationCancelled, GenerationSpec, ShouldStop


class DiffusersVideoAdapter:
    """Runs a loaded diffusers video pipeline for the service.

    A family sets ``family``, ``label``, ``tasks``, ``native_size``,
    ``compression`` and ``rules`` (its ``validate(spec, task)``, which checks
    the spec against the family's capabilities), defines
    :meth:`pipeline_class` and :meth:`preview_frames`, and, where its VAE or
    pipeline differs, :meth:`prepare_previews` and :meth:`call_arguments`.
    """

    family: ClassVar[str] = ""
    label: ClassVar[str] = ""
    tasks: ClassVar[tuple[str, ...]] = ("t2v",)
    native_size: ClassVar[tuple[int, int]] = (512, 512)
    compression: ClassVar[tuple[int, int]] = (1, 8)  # the VAE's, in time and space
    rules: ClassVar[Callable[[GenerationSpec, str], dict[str, list[str]]]]

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
        if task not in self.tasks:
            raise ValueError(
                f"{self.label} offers the tasks {self.tasks}, not {task!r}"
            )
        self.name = name
        self.task = task
        self.device = device
        self.pipeline = apply_options(pipeline, options or ModelOptions(), device)
        self.prepare_previews(model_path)

    @classmethod
    def pipeline_class(cls, task: str) -> type:
        """The diffusers pipeline class that does ``task``."""
        raise NotImplementedError

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        name: str,
        task: str = "t2v",
        device: str = "cpu",
        options: ModelOptions | None = None,
    ) -> DiffusersVideoAdapter:
        """Load a folder saved with ``save_pretrained`` (or a hub id)."""
        options = options or ModelOptions()
        pipeline = cls.pipeline_class(task).from_pretrained(
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

    def prepare_previews(self, model_path: str | os.PathLike[str] | None) -> None:
        """Set up what :meth:`preview_frames` needs: by default the projection
        of a video VAE that compresses ``compression`` (time, space) and whose
        latents are scaled by its scaling factor."""
        vae = self.pipeline.vae
        temporal, spatial = self.compression
        self._scale = float(vae.config.scaling_factor)
        self.projection = self.fit_projection(
            model_path,
            lambda pixels: vae.encode(pixels).latent_dist.mode(),
            channels=vae.config.latent_channels,
            temporal=temporal,
            spatial=spatial,
        )

    def fit_projection(
        self,
        model_path: str | os.PathLike[str] | None,
        encode: Callable[[torch.Tensor], torch.Tensor],
        *,
        channels: int,
        temporal: int,
        spatial: int,
    ) -> latent_preview.LatentProjection:
        """The latent → RGB projection kept beside the model, fitted once
        through ``encode`` (pixels (B, 3, T, H, W) → latents) when missing."""
        vae = self.pipeline.vae
        return latent_preview.load_or_fit(
            model_path,
            encode,
            channels=channels,
            temporal=temporal,
            spatial=spatial,
            device=vae.device,
            dtype=vae.dtype,
        )

    def validate(self, spec: GenerationSpec) -> dict[str, list[str]]:
        """Creator-readable problems with ``spec`` per field; empty when fine."""
        return type(self).rules(spec, self.task)

    def preview_frames(self, latents: torch.Tensor, spec: GenerationSpec) -> np.ndarray:
        """Small uint8 frames (t, h, w, 3) from the step callback's latents."""
        raise NotImplementedError

    def call_arguments(self, spec: GenerationSpec) -> dict[str, Any]:
        """The pipeline's arguments for ``spec`` (generator and callback aside)."""
        call: dict[str, Any] = {
            "prompt": spec.prompt,
            "negative_prompt": spec.negative_prompt or None,
            "height": spec.height,
            "width": spec.width,
            "num_inference_steps": spec.num_inference_steps,
            "guidance_scale": spec.guidance_scale,
        }
        if self.task == "i2v":
            call["image"] = inputs.load_image(spec.image_path, spec.width, spec.height)
        if self.task == "v2v":
            call["video"] = inputs.load_video(
                spec.video_path, spec.num_frames, spec.width, spec.height
            )
            call["strength"] = spec.strength
        else:
            call["num_frames"] = spec.num_frames
        return call

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
                frames = self.preview_frames(kwargs["latents"], spec)
                on_preview(step_index + 1, steps, frames)
            return kwargs

        output = self.pipeline(
            **self.call_arguments(spec),
            # A CPU generator gives the same clip for a seed on every device.
            generator=torch.Generator("cpu").manual_seed(spec.seed),
            output_type="np",
            callback_on_step_end=on_step_end,
            callback_on_step_end_tensor_inputs=["latents"],
        )
        return inputs.to_uint8(output.frames[0])
