"""The built-in text-to-video pipeline, packaged the diffusers way.

``BuiltinVideoPipeline.from_pretrained(path)`` loads the denoiser and the
scheduler saved with ``save_pretrained``, and the detail decoder when the
folder's ``model_index.json`` lists one; the MiniLM text encoder comes from
its own package, so the saved folder stays small.

The denoiser works at 32 px. With a detail decoder, an output of 128 px or
more on both sides is denoised at a quarter of its size and decoded up
(a cascade); a scale-8 decoder also takes outputs of 256 px or more from an
eighth of their size. Previews and the callback always see the denoiser's
clip.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from diffusers import DiffusionPipeline, FlowMatchEulerDiscreteScheduler
from diffusers.utils import BaseOutput

from .decoder import BuiltinDetailDecoder
from .model import BuiltinVideoDenoiser
from .text import MiniLMTextEncoder
from .world import ATTRIBUTE_GROUPS, ATTRIBUTES, names_subject

WEIGHTS_DIR = Path(__file__).parent / "weights"
DECODER_DIR = WEIGHTS_DIR / "decoder"
NATIVE_SIZE = 32
MIN_FRAMES, MAX_FRAMES = 1, 64
MIN_SIDE, MAX_SIDE = 16, 256
# Classifier-free guidance only while the noise level is above this; the
# last steps (fine detail) follow the prompted prediction alone. Guidance at
# low noise made outlines shift from frame to frame (speckle the decoder
# enlarges): stopping it at 0.3 narrows the clips' edges at 256 px by about
# 0.1 px with prompt-following kept (docs/builtin-model.md, "Sampling").
GUIDANCE_STOP = 0.3
# Subjects the denoiser draws alike: asked for one, it drew the other in
# about half the clips of the brief's prompt. When a prompt names one of
# them and its negative prompt states no subject, the unguided branch of
# classifier-free guidance is told the other one, so guidance leans away
# from it (the brief's prompt: a bird in 48 of 48 seeds, against 23;
# docs/builtin-model.md, "Sampling").
CONTRAST_SUBJECTS = {"bird": "car", "car": "bird"}

_encoders: dict[str, MiniLMTextEncoder] = {}


def fast_bf16(device: torch.device) -> bool:
    """Whether this CPU does bfloat16 matrix maths natively (AMX, AVX-512 BF16)."""
    if device.type != "cpu":
        return False
    # oneDNN reports bfloat16 "supported" on any AVX-512 CPU, where it is
    # emulated and ~2.5 times slower than float32; ask for the instructions.
    try:
        return bool(
            torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
        )
    except (AttributeError, RuntimeError):
        return False


def text_encoder_for(device: torch.device) -> MiniLMTextEncoder:
    """One MiniLM encoder per device, shared by every pipeline instance."""
    key = str(device)
    if key not in _encoders:
        _encoders[key] = MiniLMTextEncoder(device)
    return _encoders[key]


@dataclass
class BuiltinVideoPipelineOutput(BaseOutput):
    """``frames``: numpy (B, T, H, W, 3) in [0, 1], or a tensor (B, T, 3, H, W) in [-1, 1]."""

    frames: np.ndarray | torch.Tensor


class BuiltinVideoPipeline(DiffusionPipeline):
    """Text-to-video with the built-in pixel-space denoiser and rectified flow."""

    model_cpu_offload_seq = "transformer->decoder"
    _optional_components = ["decoder"]
    _callback_tensor_inputs = ["latents", "pred_x0"]
    # The denoiser's matrix maths in bfloat16 (as it was trained) while the
    # latents stay float32: None decides by the CPU (see fast_bf16).
    bf16_autocast: bool | None = None

    def __init__(
        self,
        transformer: BuiltinVideoDenoiser,
        scheduler: FlowMatchEulerDiscreteScheduler,
        decoder: BuiltinDetailDecoder | None = None,
    ):
        super().__init__()
        self.register_modules(
            transformer=transformer, scheduler=scheduler, decoder=decoder
        )
        self._interrupt = False

    @property
    def interrupt(self) -> bool:
        return self._interrupt

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path=WEIGHTS_DIR, **kwargs):
        name = pretrained_model_name_or_path
        if not isinstance(name, str) or name.startswith(("/", ".", "~")):
            check_weights(Path(name).expanduser())
        return super().from_pretrained(pretrained_model_name_or_path, **kwargs)

    def decode_scale(self, height: int, width: int) -> int:
        """How much the detail decoder enlarges an output of ``height`` ×
        ``width``: the largest of its scales that leaves the denoiser at
        least its native 32 px, or 1 where no decoder takes over."""
        if self.decoder is None:
            return 1
        side = min(height, width)
        usable = [s for s in self.decoder.scales if side >= NATIVE_SIZE * s]
        return max(usable, default=1)

    def denoise_size(self, height: int, width: int) -> tuple[int, int]:
        """The size the denoiser works at for an output of ``height`` × ``width``:
        that divided by :meth:`decode_scale`."""
        scale = self.decode_scale(height, width)
        return height // scale, width // scale

    def encode_prompt(self, prompts: list[str]) -> tuple[torch.Tensor, ...]:
        encoder = text_encoder_for(self.transformer.device)
        return encoder.encode(prompts)

    def check_inputs(
        self,
        prompt,
        num_frames: int,
        height: int,
        width: int,
        num_inference_steps: int,
        guidance_scale: float,
    ) -> None:
        if not isinstance(prompt, str | list) or not prompt:
            raise ValueError("prompt must be a non-empty string or list of strings")
        if not MIN_FRAMES <= num_frames <= MAX_FRAMES:
            raise ValueError(
                f"num_frames must be {MIN_FRAMES}–{MAX_FRAMES}, got {num_frames}"
            )
        for name, side in (("height", height), ("width", width)):
            if side % 8 or not MIN_SIDE <= side <= MAX_SIDE:
                raise ValueError(
                    f"{name} must be a multiple of 8 in {MIN_SIDE}–{MAX_SIDE}, got {side}"
                )
        if num_inference_steps < 1:
            raise ValueError("num_inference_steps must be at least 1")
        if guidance_scale < 0:
            raise ValueError("guidance_scale must not be negative")

    @torch.no_grad()
    def __call__(
        self,
        prompt: str | list[str],
        negative_prompt: str | list[str] | None = None,
        num_frames: int = 16,
        height: int = NATIVE_SIZE,
        width: int = NATIVE_SIZE,
        num_inference_steps: int = 20,
        guidance_scale: float = 5.0,
        guidance_stop: float = GUIDANCE_STOP,
        subject_contrast: bool = True,
        generator: torch.Generator | None = None,
        latents: torch.Tensor | None = None,
        output_type: str = "np",
        return_dict: bool = True,
        callback_on_step_end=None,
        callback_on_step_end_tensor_inputs: list[str] | None = None,
    ):
        self.check_inputs(
            prompt, num_frames, height, width, num_inference_steps, guidance_scale
        )
        if not 0 <= guidance_stop <= 1:
            raise ValueError("guidance_stop must be between 0 and 1")
        tensor_inputs = callback_on_step_end_tensor_inputs or ["latents"]
        for name in tensor_inputs:
            if name not in self._callback_tensor_inputs:
                raise ValueError(f"unknown callback tensor input {name!r}")
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        batch = len(prompts)
        if negative_prompt is None:
            negatives = [""] * batch
        elif isinstance(negative_prompt, str):
            negatives = [negative_prompt] * batch
        else:
            negatives = list(negative_prompt)
        device = self.transformer.device
        dtype = self.transformer.dtype
        do_cfg = guidance_scale > 1.0
        texts = negatives + prompts if do_cfg else prompts
        states, mask, pooled = self.encode_prompt(texts)
        states, pooled = states.to(device, dtype), pooled.to(device, dtype)
        mask = mask.to(device)

        low_h, low_w = self.denoise_size(height, width)
        shape = (batch, 3, num_frames, low_h, low_w)
        if latents is None:
            latents = torch.randn(
                shape,
                generator=generator,
                dtype=torch.float32,
                device="cpu" if generator is None else generator.device,
            )
        latents = latents.to(device, dtype)
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        self._interrupt = False
        pred_x0 = latents
        bf16 = self.bf16_autocast
        if bf16 is None:
            bf16 = dtype == torch.float32 and fast_bf16(device)
        # One autocast around the whole loop: the weights are cast once a call.
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bool(bf16)):
            probs = self.read_attributes(
                states, pooled, mask, prompts if do_cfg and subject_contrast else ()
            )
            for i, t in enumerate(self.scheduler.timesteps):
                if self.interrupt:
                    continue
                guided = do_cfg and float(self.scheduler.sigmas[i]) > guidance_stop
                if do_cfg and not guided:
                    # The prompted half only: the negatives come first.
                    states, pooled, mask = (x[batch:] for x in (states, pooled, mask))
                    probs = self.read_attributes(states, pooled, mask)
                    do_cfg = False
                latents, pred_x0 = self._step(
                    i, t, latents, (states, pooled, mask, probs), guidance_scale, guided
                )
                if callback_on_step_end is not None:
                    local = {"latents": latents, "pred_x0": pred_x0}
                    kwargs = {k: local[k] for k in tensor_inputs}
                    out = callback_on_step_end(self, i, t, kwargs)
                    latents = out.pop("latents", latents)

        video = latents.clamp(-1, 1)
        scale = self.decode_scale(height, width)
        if scale > 1:
            decoder_dtype = self.decoder.dtype
            video = self.decoder(video.to(decoder_dtype), scale).clamp(-1, 1)
        video = video.permute(0, 2, 1, 3, 4)  # (B, T, 3, H, W)
        if output_type == "np":
            video = ((video.float() + 1) / 2).permute(0, 1, 3, 4, 2).cpu().numpy()
        elif output_type != "pt":
            raise ValueError(f"output_type must be 'np' or 'pt', got {output_type!r}")
        self.maybe_free_model_hooks()
        if not return_dict:
            return (video,)
        return BuiltinVideoPipelineOutput(frames=video)

    def read_attributes(
        self,
        states: torch.Tensor,
        pooled: torch.Tensor,
        mask: torch.Tensor,
        prompts: list[str] | tuple[str, ...] = (),
    ) -> list[torch.Tensor] | None:
        """The prompt reader's probabilities for the encoded texts, read once
        a call (None for a denoiser without a reader). Given the ``prompts``,
        the encoded texts are their negatives and then the prompts; a
        negative that states no subject, of a prompt read as a subject of
        ``CONTRAST_SUBJECTS`` that also names it (a "crate" read as a car
        does not), is told that subject's look-alike."""
        model = self.transformer
        if model.reader is None:
            return None
        probs = model.read_attributes(states, pooled, mask)
        # Weights for another world (other terms per attribute) are read as
        # they are.
        if not prompts or tuple(model.config.attribute_groups) != ATTRIBUTE_GROUPS:
            return probs
        negatives = len(prompts)
        g = list(ATTRIBUTES).index("object")
        subjects = ("", *ATTRIBUTES["object"])
        objects = probs[g].clone()
        for row in range(negatives):
            asked = subjects[int(objects[negatives + row].argmax())]
            if (
                asked in CONTRAST_SUBJECTS
                and names_subject(prompts[row], asked)
                and int(objects[row].argmax()) == 0
            ):
                objects[row] = 0.0
                objects[row, subjects.index(CONTRAST_SUBJECTS[asked])] = 1.0
        probs[g] = objects
        return probs

    def _step(self, i, t, latents, prompt, guidance_scale, do_cfg):
        """One Euler step: the new latents and the clean clip they point at.
        ``prompt``: the encoded texts (states, pooled, mask, reader's probs)."""
        states, pooled, mask, probs = prompt
        model_in = torch.cat([latents, latents]) if do_cfg else latents
        # Cross-attention sees padding positions too, as in training (faster
        # attention); the mask tells the prompt reader which tokens are words.
        velocity = self.transformer(
            model_in,
            t.expand(model_in.shape[0]),
            states,
            pooled,
            mask,
            attribute_probs=probs,
        ).to(latents.dtype)
        if do_cfg:
            v_uncond, v_cond = velocity.chunk(2)
            velocity = v_uncond + guidance_scale * (v_cond - v_uncond)
        sigma = self.scheduler.sigmas[i]
        pred_x0 = latents - sigma * velocity
        latents = self.scheduler.step(velocity, t, latents, return_dict=False)[0]
        return latents, pred_x0


REQUIRED_FILES = (
    "model_index.json",
    "transformer/config.json",
    "transformer/diffusion_pytorch_model.safetensors",
    "scheduler/scheduler_config.json",
)


def check_weights(path: Path) -> None:
    """Raise a clear error naming what is missing from a saved pipeline folder."""
    if not path.is_dir():
        raise FileNotFoundError(
            f"built-in model folder {path} does not exist; "
            "train it with `python -m generation.builtin.train`"
        )
    missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"built-in model folder {path} is incomplete: missing " + ", ".join(missing)
        )
    try:
        json.loads((path / "model_index.json").read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path / 'model_index.json'} is not valid JSON: {exc}"
        ) from exc


def make_scheduler() -> FlowMatchEulerDiscreteScheduler:
    return FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=1.0)


def tiny_random_pipeline(
    seed: int = 0, *, decoder: bool = False, decoder_scale: int = 4
) -> BuiltinVideoPipeline:
    """A tiny random-weight instance with the real classes, for tests;
    ``decoder`` adds a tiny random detail decoder of ``decoder_scale``."""
    torch.manual_seed(seed)
    from .decoder import tiny_random_decoder

    denoiser = BuiltinVideoDenoiser(
        conv_channels=16,
        dim=32,
        depth=1,
        heads=2,
        cond_dim=32,
        attribute_groups=ATTRIBUTE_GROUPS,
    )
    # Random, non-zero outputs so previews and videos actually change.
    with torch.no_grad():
        for p in denoiser.parameters():
            if p.dim() > 1 and p.abs().sum() == 0:
                p.normal_(0, 0.02)
    return BuiltinVideoPipeline(
        transformer=denoiser,
        scheduler=make_scheduler(),
        decoder=tiny_random_decoder(seed, decoder_scale) if decoder else None,
    )
