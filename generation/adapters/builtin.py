"""Adapter for the built-in model (``generation.builtin.pipeline``).

The model denoises 32×32 clips; weights with a detail decoder turn them into
128×128 clips, or 256×256 ones through a scale-8 decoder. The adapter returns
frames at that native size (previews stay at 32 px) and the service scales
them smoothly to the requested width and height while encoding, covering the
frame and cropping the overflow so shapes keep their proportions.

Its capabilities follow from that: the output size is free within the shared
bounds as long as it is even (the encoder's 4:2:0 colour planes halve it),
the model places frames by clip time so any frame count within the shared
bounds works, and the frame rate only tells the encoder how fast to play.
The module imports no torch, so the registry reads these rules without
loading the model's machinery.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generation import specs
from generation.adapters import InvalidSpecError, ModelUnavailableError, OnPreview
from generation.capabilities import Capabilities, FrameRule, Range, SizeRule
from generation.specs import GenerationCancelled, GenerationSpec, ShouldStop

if TYPE_CHECKING:
    import numpy as np

NATIVE_SIZE = (32, 32)  # width, height
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "builtin" / "weights"
LABEL = "Built-in"
# The settings a fresh spec carries, which the studio's form starts from.
_SPEC = GenerationSpec(prompt="")


def detail_side(weights: Path = WEIGHTS_DIR) -> int:
    """The side the shipped weights draw detail at: 32 px, times the scale of
    their detail decoder when they list one."""
    import json

    try:
        index = json.loads((weights / "model_index.json").read_text())
        if "decoder" not in index:
            return NATIVE_SIZE[0]
        config = json.loads((weights / "decoder" / "config.json").read_text())
        return NATIVE_SIZE[0] * int(config.get("scale", 4))
    except (OSError, ValueError, TypeError):
        return NATIVE_SIZE[0]


def capabilities(task: str = "t2v") -> Capabilities:
    """What the built-in model makes: text to video, any frame count and any
    even size within the shared bounds, 256×256 at 8 fps by default, its own
    detail up to the side of :func:`detail_side`; and continuations of its
    clips by any frame count (the streaming sampler, one frame at a time)."""
    if task != "t2v":
        raise ValueError(f"The built-in model does t2v; not {task!r}.")
    return Capabilities(
        family="builtin",
        label=LABEL,
        tasks=("t2v",),
        frames=FrameRule(specs.MIN_FRAMES, specs.MAX_FRAMES, default=_SPEC.num_frames),
        fps=Range(specs.MIN_FPS, specs.MAX_FPS, _SPEC.fps),
        size=SizeRule(
            2,
            specs.MIN_SIZE,
            specs.MAX_SIZE,
            _SPEC.width,
            _SPEC.height,
            detail=detail_side(),
        ),
        steps=Range(specs.MIN_STEPS, specs.MAX_STEPS, _SPEC.num_inference_steps),
        guidance=Range(specs.MIN_GUIDANCE, specs.MAX_GUIDANCE, _SPEC.guidance_scale),
        sentence_name="The built-in model",
        extend=FrameRule(specs.MIN_FRAMES, specs.MAX_FRAMES, default=_SPEC.num_frames),
    )


def clip_prompt(path: str | os.PathLike[str]) -> str:
    """The prompt a clip's MP4 says it was made with ("" when it does not)."""
    import av

    try:
        with av.open(str(path)) as container:
            return str(container.metadata.get("prompt", ""))
    except (OSError, av.error.FFmpegError):
        return ""


def read_clip(path: str | os.PathLike[str]) -> np.ndarray:
    """The frames of the clip to continue; :class:`InvalidSpecError` in the
    creator's words when it is gone or unreadable."""
    import av

    from generation.sequence import read_frames

    try:
        return read_frames(path)
    except (OSError, ValueError, av.error.FFmpegError) as error:
        raise InvalidSpecError(
            {"video": ["The clip to continue can no longer be read; was it deleted?"]}
        ) from error


def weights_memory() -> dict[str, int]:
    """Memory for the built-in model's weights, as ``estimate_memory`` gives it
    for a registered model: the denoiser, the detail decoder when there is one
    and the MiniLM text encoder, float32 on the CPU."""
    import torch

    from generation.adapters.options import component_parameters, safetensors_parameters
    from generation.builtin.text import minilm_path

    count = sum(component_parameters(WEIGHTS_DIR).values())
    count += safetensors_parameters(minilm_path() / "model.safetensors")[0]
    size = count * torch.empty((), dtype=torch.float32).element_size()
    return {"weights": size, "peak": size}


def validate(spec: GenerationSpec) -> dict[str, list[str]]:
    """Check a spec against the built-in model's :func:`capabilities`."""
    return capabilities().check(spec)


class BuiltinAdapter:
    """Runs a ``BuiltinVideoPipeline`` for the service.

    Build it around a pipeline object (tests pass a tiny random one) or load
    the saved weights with :meth:`load`.
    """

    name = "builtin"
    family = "builtin"
    native_size = NATIVE_SIZE

    def __init__(self, pipeline: Any, *, device: str = "cpu") -> None:
        self.device = device
        self.pipeline = pipeline.to(device)
        decoder = getattr(pipeline, "decoder", None)
        if decoder is not None:
            side = NATIVE_SIZE[0] * max(decoder.scales)
            self.native_size = (side, side)
        self.pipeline.set_progress_bar_config(disable=True)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str] | None = None, *, device: str = "cpu"
    ) -> BuiltinAdapter:
        """Load the saved pipeline (``generation/builtin/weights`` by default)."""
        path = Path(path) if path is not None else WEIGHTS_DIR
        if not (path / "model_index.json").is_file():
            raise ModelUnavailableError(
                "The built-in model has no trained weights yet. Train it first "
                "(see the README), then try again."
            )
        from generation.builtin.pipeline import BuiltinVideoPipeline

        return cls(BuiltinVideoPipeline.from_pretrained(path), device=device)

    def validate(self, spec: GenerationSpec) -> dict[str, list[str]]:
        """Creator-readable problems with ``spec`` per field; empty when fine."""
        return validate(spec)

    def generate(
        self,
        spec: GenerationSpec,
        *,
        on_preview: OnPreview | None = None,
        should_stop: ShouldStop | None = None,
    ) -> np.ndarray:
        """Render ``spec`` into uint8 frames (T, H, W, 3) at the native size:
        32 px, or 128 px (256 px) through a detail decoder of scale 4 (8).

        ``on_preview(step, steps, frames)`` gets the current clean estimate
        of every frame at the denoiser's 32 px after each step. When ``should_stop()``
        answers True the pipeline is interrupted at that step and
        :class:`GenerationCancelled` is raised before any decoding.
        """
        import torch

        errors = self.validate(spec)
        if errors:
            raise InvalidSpecError(errors)
        if should_stop is not None and should_stop():
            raise GenerationCancelled
        with torch.inference_mode():
            if spec.task == specs.EXTEND:
                return self._extend(spec, on_preview, should_stop)
            return self._render(spec, on_preview, should_stop)

    def _extend(
        self,
        spec: GenerationSpec,
        on_preview: OnPreview | None,
        should_stop: ShouldStop | None,
    ) -> np.ndarray:
        """The clip in ``spec.video_path`` continued by ``spec.num_frames``
        frames, by the streaming sampler (generation/builtin/streaming.py);
        a preview after every frame made."""
        from generation.builtin.streaming import ClipContinuation, continue_clip

        clip = read_clip(spec.video_path)
        total = spec.num_frames

        def on_frame(made: int, stream: ClipContinuation) -> None:
            if on_preview is not None:
                on_preview(made, total, stream.preview(total))

        width, height = self.native_size
        return continue_clip(
            self.pipeline,
            clip,
            prompt=spec.prompt,
            num_frames=total,
            seed=spec.seed,
            width=width,
            height=height,
            same_prompt=clip_prompt(spec.video_path) in ("", spec.prompt),
            negative_prompt=spec.negative_prompt,
            guidance_scale=spec.guidance_scale,
            on_frame=on_frame,
            should_stop=should_stop,
        )

    def _render(
        self,
        spec: GenerationSpec,
        on_preview: OnPreview | None,
        should_stop: ShouldStop | None,
    ) -> np.ndarray:
        import torch

        from generation import previews

        pipe = self.pipeline
        steps = spec.num_inference_steps
        inputs = ["latents"]
        if on_preview is not None and "pred_x0" in pipe._callback_tensor_inputs:
            inputs.append("pred_x0")

        def on_step_end(
            pipe: Any, step_index: int, timestep: Any, kwargs: dict[str, Any]
        ) -> dict[str, Any]:
            if should_stop is not None and should_stop():
                pipe._interrupt = True
                raise GenerationCancelled
            if on_preview is not None:
                sample = kwargs.get("pred_x0")
                if sample is None:
                    sample = kwargs["latents"]
                on_preview(step_index + 1, steps, previews.tensor_to_frames(sample[0]))
            return kwargs

        width, height = self.native_size
        pipe._interrupt = False
        output = pipe(
            prompt=spec.prompt,
            negative_prompt=spec.negative_prompt or None,
            num_frames=spec.num_frames,
            height=height,
            width=width,
            num_inference_steps=steps,
            guidance_scale=spec.guidance_scale,
            # A CPU generator gives the same clip for a seed on every device.
            generator=torch.Generator("cpu").manual_seed(spec.seed),
            output_type="pt",
            callback_on_step_end=on_step_end,
            callback_on_step_end_tensor_inputs=inputs,
        )
        # "pt" frames are (B, T, 3, H, W) in [-1, 1].
        # Native-size frames: the service scales them to the requested size
        # while encoding, in one pass with the colour conversion.
        return previews.tensor_to_frames(output.frames[0].transpose(0, 1))
