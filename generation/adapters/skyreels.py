"""Adapter for SkyReels-V2 diffusion forcing (``SkyReelsV2DiffusionForcingPipeline``
and its image and video variants).

SkyReels-V2 is built on Wan's VAE and transformer layout: 8× in space, 4× in
time, 2×2 patches, so clips hold 4k+1 frames and sides are multiples of 16,
and latents reach the step callback normalised per channel. Diffusion forcing
gives every latent frame its own noise level, which is what lets the model
make clips longer than one window and continue a finished clip:

- text→video (and image→video) past ``base_num_frames`` frames runs window
  after window, each starting from the last ``overlap_history`` frames of the
  one before, with ``addnoise_condition`` noise on those frames so errors do
  not pile up;
- *extend* (the spec's task "extend", from either task's folder) runs
  ``SkyReelsV2DiffusionForcingVideoToVideoPipeline`` on the same loaded
  components: the clip's last ``overlap_history`` frames are encoded and
  held, and the new frames are made after them. The overlap frames come back
  re-decoded and are dropped, so an extension holds 4k new frames.

``ar_step`` (0: every frame of a window denoised together; 5 with
``causal_block_size`` 5: asynchronous, block after block) and
``causal_block_size`` are passed as the pipeline takes them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import av
import numpy as np
import torch

from generation import inputs
from generation.adapters import InvalidSpecError, OnPreview
from generation.adapters.wan import WanAdapter, _text_embeds
from generation.capabilities import (
    Capabilities,
    FrameRule,
    family_capabilities,
    stepped_frames,
)
from generation.specs import (
    EXTEND,
    MAX_FRAMES,
    MIN_FRAMES,
    GenerationCancelled,
    GenerationSpec,
    ShouldStop,
)

FAMILY = "skyreels"
TASKS = ("t2v", "i2v")
TEMPORAL, SPATIAL, PATCH = 4, 8, 2
SIZE_MULTIPLE = SPATIAL * PATCH
LABEL = "SkyReels-V2"
NATIVE_SIZE = (960, 544)
FRAMES, FPS, STEPS, GUIDANCE = 33, 24, 30, 6.0
# The pipeline's own recommendations for 540p diffusion forcing.
BASE_NUM_FRAMES = 97
OVERLAP_HISTORY = 17
ADDNOISE_CONDITION = 20.0
AR_STEP = 0
CAUSAL_BLOCK_SIZE: int | None = None
# Continuations are whole latent frames after the overlap: 4k new frames.
EXTEND_FRAMES = FrameRule(MIN_FRAMES, MAX_FRAMES, step=TEMPORAL, offset=0, default=16)


def capabilities(task: str = "t2v") -> Capabilities:
    """What a SkyReels-V2 diffusion-forcing model doing ``task`` makes:
    4k+1 frames, sides in multiples of 16, 960×544 at 24 fps by default;
    and continuations of a clip by 4k frames."""
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
        extend=EXTEND_FRAMES,
    )


DEFAULTS = capabilities().defaults()


def validate(spec: GenerationSpec, task: str = "t2v") -> dict[str, list[str]]:
    """Check ``spec`` against :func:`capabilities` for ``task``."""
    return capabilities(task).check(spec)


def windows(num_frames: int, base_num_frames: int, overlap_history: int) -> int:
    """How many windows the pipeline runs for ``num_frames`` frames, by its
    own count (in latent frames)."""
    latent = (num_frames - 1) // TEMPORAL + 1
    base = (base_num_frames - 1) // TEMPORAL + 1
    if latent <= base:
        return 1
    overlap = (overlap_history - 1) // TEMPORAL + 1
    return 1 + (latent - base - 1) // (base - overlap) + 1


def overlap_for(clip_frames: int, most: int = OVERLAP_HISTORY) -> int:
    """The overlap an extension holds: 4k+1 frames, at most ``most`` and at
    most the clip's length."""
    frames = min(clip_frames, most)
    return frames - (frames - 1) % TEMPORAL


class SkyReelsAdapter(WanAdapter):
    """Runs a loaded SkyReels-V2 diffusion-forcing pipeline for the service.

    ``base_num_frames``, ``overlap_history``, ``addnoise_condition``,
    ``ar_step`` and ``causal_block_size`` are the pipeline's long-video and
    scheduling arguments; they start at the pipeline's recommendations.
    """

    family = FAMILY
    label = LABEL
    tasks = TASKS
    native_size = NATIVE_SIZE
    rules = staticmethod(validate)

    base_num_frames = BASE_NUM_FRAMES
    overlap_history = OVERLAP_HISTORY
    addnoise_condition = ADDNOISE_CONDITION
    ar_step = AR_STEP
    causal_block_size = CAUSAL_BLOCK_SIZE

    @classmethod
    def pipeline_class(cls, task: str) -> type:
        from diffusers import (
            SkyReelsV2DiffusionForcingImageToVideoPipeline,
            SkyReelsV2DiffusionForcingPipeline,
        )

        if task == "i2v":
            return SkyReelsV2DiffusionForcingImageToVideoPipeline
        return SkyReelsV2DiffusionForcingPipeline

    def extend_pipeline(self) -> Any:
        """The video→video pipeline on the loaded components (no second copy
        of the weights)."""
        from diffusers import SkyReelsV2DiffusionForcingVideoToVideoPipeline

        pipe = getattr(self, "_extender", None)
        if pipe is None:
            pipe = SkyReelsV2DiffusionForcingVideoToVideoPipeline(
                **self.pipeline.components
            )
            pipe.set_progress_bar_config(disable=True)
            self._extender = pipe
        return pipe

    def _schedule(self) -> dict[str, Any]:
        call: dict[str, Any] = {"ar_step": self.ar_step}
        if self.causal_block_size is not None:
            call["causal_block_size"] = self.causal_block_size
        return call

    def call_arguments(self, spec: GenerationSpec) -> dict[str, Any]:
        pipe = self.pipeline
        device = pipe._execution_device
        call: dict[str, Any] = {
            "prompt": None,
            "prompt_embeds": _text_embeds(pipe, spec.prompt, device),
            "height": spec.height,
            "width": spec.width,
            "num_frames": spec.num_frames,
            "num_inference_steps": spec.num_inference_steps,
            "guidance_scale": spec.guidance_scale,
            "fps": spec.fps,
            "base_num_frames": self.base_num_frames,
            **self._schedule(),
        }
        if spec.guidance_scale > 1.0:
            call["negative_prompt_embeds"] = _text_embeds(
                pipe, spec.negative_prompt, device
            )
        if spec.num_frames > self.base_num_frames:
            call["overlap_history"] = self.overlap_history
            call["addnoise_condition"] = self.addnoise_condition
        if self.task == "i2v":
            call["image"] = inputs.load_image(spec.image_path, spec.width, spec.height)
        return call

    def extend_arguments(self, spec: GenerationSpec) -> tuple[dict[str, Any], int]:
        """The video→video pipeline's arguments for an extension, and how
        many leading frames of its output to drop (the held clip, then the
        overlap re-decoded)."""
        try:
            clip = inputs.load_video(spec.video_path, 10_000, spec.width, spec.height)
        except (OSError, ValueError, av.error.FFmpegError) as error:
            raise InvalidSpecError(
                {
                    "video": [
                        "The clip to continue can no longer be read; was it deleted?"
                    ]
                }
            ) from error
        overlap = overlap_for(len(clip), self.overlap_history)
        if overlap < 1 + TEMPORAL:
            raise InvalidSpecError(
                {"video": [f"{LABEL} continues clips of at least 5 frames."]}
            )
        call = self.call_arguments(dataclasses.replace(spec, task=""))
        call.pop("image", None)
        total = overlap + spec.num_frames
        call.update(
            video=clip[-overlap:],
            num_frames=total,
            overlap_history=overlap,
            addnoise_condition=self.addnoise_condition,
            base_num_frames=max(self.base_num_frames, total),
        )
        return call, 2 * overlap

    @torch.inference_mode()
    def generate(
        self,
        spec: GenerationSpec,
        *,
        on_preview: OnPreview | None = None,
        should_stop: ShouldStop | None = None,
    ) -> np.ndarray:
        """Render ``spec`` into uint8 frames (T, height, width, 3): a clip, or
        for the task "extend" the frames that continue ``spec.video_path``.

        Previews show the window being denoised; the step count covers every
        window of a long clip.
        """
        errors = self.validate(spec)
        if errors:
            raise InvalidSpecError(errors)
        if should_stop is not None and should_stop():
            raise GenerationCancelled
        if spec.task == EXTEND:
            pipe = self.extend_pipeline()
            call, drop = self.extend_arguments(spec)
        else:
            pipe, drop = self.pipeline, 0
            call = self.call_arguments(spec)
        count = windows(
            call["num_frames"],
            call["base_num_frames"],
            call.get("overlap_history") or call["num_frames"],
        )
        done = 0

        def on_step_end(
            pipe: Any, step_index: int, timestep: Any, kwargs: dict[str, Any]
        ) -> dict[str, Any]:
            nonlocal done
            if should_stop is not None and should_stop():
                pipe._interrupt = True
                raise GenerationCancelled
            done += 1
            if on_preview is not None:
                steps = max(done, (pipe._num_timesteps or 1) * count)
                on_preview(done, steps, self.preview_frames(kwargs["latents"], spec))
            return kwargs

        output = pipe(
            **call,
            # A CPU generator gives the same clip for a seed on every device.
            generator=torch.Generator("cpu").manual_seed(spec.seed),
            output_type="np",
            callback_on_step_end=on_step_end,
            callback_on_step_end_tensor_inputs=["latents"],
        )
        return inputs.to_uint8(output.frames[0][drop:])
