"""Live video from the built-in model: a rolling window at staggered noise levels.

The denoiser sees a fixed row of frames every call::

    [anchor | context × C | window × W]

The window holds W frames at noise levels σ_1 < σ_2 < … < σ_W = 1 — the head
nearly clean, the tail pure noise. Each model call takes every window frame
one level down (an Euler step of the rectified flow with a timestep per
frame), so the head becomes clean and is emitted, and fresh noise is admitted
at the tail: one call, one frame, whatever the stream's length.

In front of the window, the last C emitted frames (lightly noised again on
every call, so small errors are not copied forever) carry motion and
appearance forward, and an anchor — a clean frame made under the current
prompt — keeps colour and contrast from drifting over minutes. The anchor's
slot holds pure noise (no information) while there is none.

A prompt change (:meth:`LiveStream.set_prompt`) takes effect at the next call
for the whole window: the nearly clean head cannot change much any more, the
noisy frames behind it follow the new text, so the change enters at the tail
and the picture turns over within about half a window. The anchor is dropped
at the change and taken again from the first frame made entirely under the
new prompt.

The stream starts with a short ramp: a few calls bring the whole row from
noise to its staggered levels — anchor and context clean, so the first frames
come out after those few calls instead of after W.

Frames come out at the pipeline's size rules: denoised at 32 px and decoded to
128 px (or 256 px, by a scale-8 decoder) when the pipeline has a detail
decoder, as clips are; the
decoder may see the previous emitted frames as temporal context
(``decode_context``), which costs a decoder pass per frame and, measured,
changes the frame-to-frame difference by under 2 %, so it is off by default.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from generation.previews import tensor_to_frames

from .pipeline import WEIGHTS_DIR, BuiltinVideoPipeline, fast_bf16

# The live default: the detail decoder's output size, played at 8 frames a second.
LIVE_WIDTH, LIVE_HEIGHT = 128, 128
LIVE_FPS = 8
# Weights fine-tuned for streaming (diffusion forcing), when they have been
# exported; otherwise the stream runs on the clip weights.
STREAM_WEIGHTS_DIR = WEIGHTS_DIR.parent / "stream_weights"


@dataclass(frozen=True)
class StreamSettings:
    """How a :class:`LiveStream` denoises.

    ``window``: frames in flight, one noise level each (and model calls per
    frame); ``context``: emitted frames fed back in front of the window;
    ``context_noise`` / ``anchor_noise``: the flow time they are noised to
    again on each call; ``ramp``: calls that bring the first row from noise to
    its levels, ``ramp_shift`` > 1 spending more of them at high noise, where
    the layout is decided (at 3, five calls drew the asked colour in all the
    first frames of six prompts, where four plain calls missed a few);
    ``shift``: > 1 spends more of the window's levels at high noise; ``decode_context``: emitted frames the detail decoder sees before
    the new one.
    """

    window: int = 8
    context: int = 3
    anchor: bool = True
    context_noise: float = 0.1
    anchor_noise: float = 0.1
    guidance_scale: float = 5.0
    ramp: int = 5
    ramp_shift: float = 3.0
    shift: float = 1.0
    decode_context: int = 0

    def __post_init__(self) -> None:
        if self.window < 2:
            raise ValueError(f"window must be at least 2 frames, got {self.window}")
        if self.context < 1:
            raise ValueError(f"context must be at least 1 frame, got {self.context}")
        if self.ramp < 1:
            raise ValueError(f"ramp must be at least 1 call, got {self.ramp}")
        for name in ("context_noise", "anchor_noise"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value}")
        if self.guidance_scale < 0:
            raise ValueError("guidance_scale must not be negative")
        for name in ("shift", "ramp_shift"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.decode_context <= self.context:
            raise ValueError(
                f"decode_context must be 0–{self.context}, got {self.decode_context}"
            )

    @property
    def slots(self) -> int:
        """Frames in every model call: anchor, context and window."""
        return 1 + self.context + self.window


def window_levels(window: int, shift: float = 1.0) -> torch.Tensor:
    """The window's noise levels σ_0 = 0 < σ_1 < … < σ_W = 1 (W + 1 values).

    A frame at σ_k goes to σ_{k-1} in one call; ``shift`` > 1 moves the
    levels towards high noise, as the flow scheduler's shift does.
    """
    s = torch.linspace(0.0, 1.0, window + 1, dtype=torch.float64)
    s = shift * s / (1 + (shift - 1) * s)
    return s.float()


_bf16_copies: weakref.WeakKeyDictionary[nn.Module, nn.Module] = (
    weakref.WeakKeyDictionary()
)


def bf16_matmul_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose linear and convolution weights are stored in
    bfloat16, for use under bfloat16 autocast (one per model, kept while the
    model lives).

    Autocast casts exactly those weights to bfloat16 on every call (its cache
    lasts one autocast block, and a stream makes a call per frame); stored
    cast, the outputs are the same to the bit and a call is about a quarter
    faster. Norms and embeddings stay float32, as autocast computes them.
    """
    fast = _bf16_copies.get(model)
    if fast is None:
        fast = copy.deepcopy(model).eval().requires_grad_(False)
        for module in fast.modules():
            if isinstance(module, nn.Linear | nn.Conv1d | nn.Conv2d):
                module.to(torch.bfloat16)
        _bf16_copies[model] = fast
    return fast


def load_stream_pipeline(device: str | torch.device = "cpu") -> BuiltinVideoPipeline:
    """The built-in pipeline with the stream's denoiser: the streaming
    fine-tune in ``stream_weights/`` when it is there, else the clip weights."""
    pipe = BuiltinVideoPipeline.from_pretrained(WEIGHTS_DIR)
    tuned = Path(STREAM_WEIGHTS_DIR) / "transformer"
    if (tuned / "config.json").is_file():
        pipe.transformer = type(pipe.transformer).from_pretrained(tuned)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


class LiveStream:
    """An endless, steerable stream of frames from the built-in pipeline.

    ``frames()`` yields ``(index, frame, prompt_index)``: the frame's number
    from 0, a uint8 (H, W, 3) array at ``height`` × ``width``, and how many
    prompt changes had been applied when it was made (0 for the first
    prompt). :meth:`set_prompt` may be called from another thread; it takes
    effect at the next model call. The same seed, prompt and changes at the
    same frame indices give the same frames.
    """

    def __init__(
        self,
        pipeline: BuiltinVideoPipeline,
        prompt: str,
        seed: int = 0,
        width: int = LIVE_WIDTH,
        height: int = LIVE_HEIGHT,
        *,
        negative_prompt: str = "",
        settings: StreamSettings | None = None,
    ) -> None:
        self.settings = settings or StreamSettings()
        pipeline.check_inputs(prompt, 1, height, width, 1, self.settings.guidance_scale)
        if not isinstance(prompt, str):
            raise ValueError("prompt must be a non-empty string")
        self.pipeline = pipeline
        self.width, self.height = width, height
        self.seed = seed
        self.negative_prompt = negative_prompt
        self.device = pipeline.transformer.device
        self.latent_size = pipeline.denoise_size(height, width)
        self.decode_scale = pipeline.decode_scale(height, width)
        self.decode = self.decode_scale > 1
        bf16 = pipeline.bf16_autocast
        if bf16 is None:
            bf16 = pipeline.transformer.dtype == torch.float32 and fast_bf16(
                self.device
            )
        self.bf16 = bool(bf16)
        transformer = pipeline.transformer
        if self.bf16 and transformer.dtype == torch.float32:
            transformer = bf16_matmul_copy(transformer)
        self.denoiser = transformer
        self._generator = torch.Generator("cpu").manual_seed(seed)
        self._levels = window_levels(self.settings.window, self.settings.shift)
        self._lock = threading.Lock()
        self._pending: str | None = None
        self._prompt = prompt
        self._prompt_index = 0
        self._text = self._encode(prompt)
        self._next_index = 0  # the index the next emitted frame gets
        self._window: torch.Tensor | None = None  # (1, 3, W, h, w)
        self._context: torch.Tensor | None = None  # (1, 3, C, h, w), clean
        self._anchor: torch.Tensor | None = None  # (1, 3, 1, h, w), clean
        self._anchor_due: int | None = None  # index of the frame to anchor to
        self._ready: deque[tuple[int, np.ndarray, int]] = deque()
        self.calls = 0  # model calls so far

    # ------------------------------------------------------------ public

    @property
    def prompt(self) -> str:
        """The prompt the stream follows now (a pending change not yet)."""
        return self._prompt

    @property
    def prompt_index(self) -> int:
        return self._prompt_index

    @property
    def window_shape(self) -> tuple[int, ...]:
        """Shape of the window in flight (1, 3, W, h, w); () before the first call."""
        return () if self._window is None else tuple(self._window.shape)

    @property
    def anchored(self) -> bool:
        """Whether a clean frame of the current prompt anchors the stream."""
        return self._anchor is not None

    @property
    def levels(self) -> torch.Tensor:
        """The window's noise levels σ_1 … σ_W, head first."""
        return self._levels[1:].clone()

    def set_prompt(self, prompt: str) -> None:
        """Steer the stream: the next model call follows ``prompt``."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("prompt must be a non-empty string")
        with self._lock:
            self._pending = prompt

    def frames(self, limit: int | None = None) -> Iterator[tuple[int, np.ndarray, int]]:
        """Yield ``(index, frame, prompt_index)`` for ever, or ``limit`` frames."""
        made = 0
        while limit is None or made < limit:
            yield self.next_frame()
            made += 1

    @torch.no_grad()
    def next_frame(self) -> tuple[int, np.ndarray, int]:
        """The next frame, making it (one model call, a few at the start)."""
        while not self._ready:
            self._apply_pending_prompt()
            if self._window is None:
                self._start()
            else:
                self._advance()
        return self._ready.popleft()

    # ------------------------------------------------------------ steps

    def _encode(self, prompt: str) -> tuple[torch.Tensor, ...]:
        texts = [self.negative_prompt, prompt] if self._cfg else [prompt]
        states, mask, pooled = self.pipeline.encode_prompt(texts)
        dtype = self.pipeline.transformer.dtype
        return (
            states.to(self.device, dtype),
            pooled.to(self.device, dtype),
            mask.to(self.device),
        )

    @property
    def _cfg(self) -> bool:
        return self.settings.guidance_scale > 1.0

    def _apply_pending_prompt(self) -> None:
        with self._lock:
            prompt, self._pending = self._pending, None
        if prompt is None or prompt == self._prompt:
            return
        self._text = self._encode(prompt)
        self._prompt = prompt
        self._prompt_index += 1
        if self._window is not None:
            # The anchor shows the old prompt: drop it until the tail frame,
            # the first made wholly under the new one, comes out.
            self._anchor = None
            self._anchor_due = self._next_index + self.settings.window - 1

    def _noise(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.randn(shape, generator=self._generator).to(self.device)

    def _velocity(self, row: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
        """The guided velocity for a row (1, 3, N, h, w) at per-frame ``sigmas`` (N,)."""
        states, pooled, mask = self._text
        batch = 2 if self._cfg else 1
        model_in = row.expand(batch, -1, -1, -1, -1)
        timestep = (sigmas * 1000.0).to(self.device)[None].expand(batch, -1)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            v = self.denoiser(
                model_in.to(self.pipeline.transformer.dtype),
                timestep,
                states,
                pooled,
                mask,
            ).float()
        self.calls += 1
        if not self._cfg:
            return v
        v_uncond, v_cond = v.chunk(2)
        return v_uncond + self.settings.guidance_scale * (v_cond - v_uncond)

    def _start(self) -> None:
        """The ramp: from pure noise to anchor and context clean, window staggered."""
        s = self.settings
        h, w = self.latent_size
        row = self._noise((1, 3, s.slots, h, w))
        target = torch.cat([torch.zeros(1 + s.context), self._levels[1:]])
        current = torch.ones(s.slots)
        remaining = window_levels(s.ramp, s.ramp_shift).flip(0)  # 1 → 0
        for j in range(1, s.ramp + 1):
            nxt = target + (1 - target) * remaining[j]
            v = self._velocity(row, current)
            row = row + (nxt - current).view(1, 1, -1, 1, 1).to(row) * v
            current = nxt
        clean = row[:, :, : 1 + s.context].clamp(-1, 1)
        self._anchor = clean[:, :, :1]
        self._context = clean[:, :, 1:]
        self._window = row[:, :, 1 + s.context :]
        # The ramp's frames had a few large steps: anchor again to the tail
        # frame, the first to get every level.
        self._anchor_due = s.context + s.window
        for i, frame in enumerate(self._to_frames(clean, 0)):
            self._ready.append((i, frame, self._prompt_index))
        self._next_index = 1 + s.context

    def _advance(self) -> None:
        """One call: every window frame one level down; emit the head, admit noise."""
        s = self.settings
        ctx = self._context
        ctx_in = (1 - s.context_noise) * ctx + s.context_noise * self._noise(ctx.shape)
        if self._anchor is None:
            anchor_in, anchor_sigma = self._noise(ctx[:, :, :1].shape), 1.0
        else:
            anchor_in = (1 - s.anchor_noise) * self._anchor + s.anchor_noise * (
                self._noise(self._anchor.shape)
            )
            anchor_sigma = s.anchor_noise
        row = torch.cat([anchor_in, ctx_in, self._window], dim=2)
        sigmas = torch.cat(
            [
                torch.tensor([anchor_sigma]),
                torch.full((s.context,), s.context_noise),
                self._levels[1:],
            ]
        )
        v = self._velocity(row, sigmas)[:, :, 1 + s.context :]
        step = (self._levels[:-1] - self._levels[1:]).view(1, 1, -1, 1, 1).to(v)
        window = self._window + step * v
        head = window[:, :, :1].clamp(-1, 1)
        fresh = self._noise(head.shape)
        self._window = torch.cat([window[:, :, 1:], fresh], dim=2)
        index = self._next_index
        [frame] = self._to_frames(head, s.decode_context)
        self._context = torch.cat([ctx[:, :, 1:], head], dim=2)
        if self._anchor_due == index:
            self._anchor, self._anchor_due = head, None
        self._ready.append((index, frame, self._prompt_index))
        self._next_index += 1

    def _to_frames(self, clean: torch.Tensor, past: int) -> list[np.ndarray]:
        """uint8 frames of ``clean`` (1, 3, T, h, w), decoded as the pipeline
        decodes, with ``past`` emitted frames before them as temporal context."""
        video = clean
        if self.decode:
            if past:
                video = torch.cat([self._context[:, :, -past:], clean], dim=2)
            decoder = self.pipeline.decoder
            video = decoder(video.to(decoder.dtype), self.decode_scale)
            video = video.clamp(-1, 1)[:, :, past:]
        return list(tensor_to_frames(video[0]))


# -- continuing a finished clip ----------------------------------------------


def uncover(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """Clip frames (T, H, W, 3) back on the model's ``width`` × ``height``
    frame, undoing the cover-and-crop the clip was encoded with: the part the
    clip shows is put where it came from and the cropped-off rest repeats the
    nearest edge (the denoiser fills it in, out of the clip's view)."""
    from PIL import Image

    t, clip_h, clip_w, _ = frames.shape
    scale = max(clip_w / width, clip_h / height)
    seen_w = min(width, max(1, round(clip_w / scale)))
    seen_h = min(height, max(1, round(clip_h / scale)))
    left, top = (width - seen_w) // 2, (height - seen_h) // 2
    out = []
    for frame in frames:
        small = Image.fromarray(np.ascontiguousarray(frame)).resize(
            (seen_w, seen_h), Image.Resampling.BOX
        )
        pad = ((top, height - seen_h - top), (left, width - seen_w - left), (0, 0))
        out.append(np.pad(np.asarray(small), pad, mode="edge"))
    return np.stack(out)


# Measured on three prompts of the built-in weights (16 frames on, 16 back):
# from 0 the seam is smallest but the motion stalls; from pure noise the
# motion goes on but the seam jumps by more than a frame's own change; from
# 0.5 the seam is within one frame's change and the colour holds.
START_NOISE = 0.5


def frames_to_row(frames: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 frames (T, h, w, 3) as a row (1, 3, T, h, w) in [-1, 1]."""
    row = torch.from_numpy(np.ascontiguousarray(frames)).float() / 127.5 - 1.0
    return row.permute(3, 0, 1, 2)[None].to(device)


class ClipContinuation(LiveStream):
    """A stream that starts where a finished clip ends.

    The clip's last frames, brought back to the denoiser's size, are the
    context the first window sees and its last frame the anchor (when the
    prompt stays the same; a new prompt anchors, as a steered stream does,
    to the first frame made wholly under it). The window starts warm from
    that last frame (see :meth:`_start`), so the head comes out one small
    step from where the clip stopped while the noisier frames behind it
    carry the motion on. Frames then come out as :class:`LiveStream` makes
    them, one model call each.

    ``clip`` is uint8 (T, H, W, 3) at any size and aspect (the clip as
    encoded); ``same_prompt`` says whether ``prompt`` is the one the clip
    was made with. ``start_noise``: the least noise a window frame starts
    from (0: every frame at its own level, no ramp; 1: the window from pure
    noise, as a new stream).
    """

    def __init__(
        self,
        pipeline: BuiltinVideoPipeline,
        prompt: str,
        clip: np.ndarray,
        seed: int = 0,
        width: int = LIVE_WIDTH,
        height: int = LIVE_HEIGHT,
        *,
        same_prompt: bool = True,
        negative_prompt: str = "",
        settings: StreamSettings | None = None,
        start_noise: float = START_NOISE,
    ) -> None:
        if not 0.0 <= start_noise <= 1.0:
            raise ValueError(f"start_noise must be in [0, 1], got {start_noise}")
        super().__init__(
            pipeline,
            prompt,
            seed,
            width,
            height,
            negative_prompt=negative_prompt,
            settings=settings,
        )
        if clip.ndim != 4 or clip.shape[-1] != 3 or not len(clip):
            raise ValueError(f"expected a (T, H, W, 3) clip, got {clip.shape}")
        h, w = self.latent_size
        last = clip[-self.settings.context :]
        self._source = frames_to_row(uncover(last, w, h), self.device)
        self.same_prompt = same_prompt
        self.start_noise = start_noise
        self.heads: list[torch.Tensor] = []  # emitted frames at the denoiser's size

    def _start(self) -> None:
        s = self.settings
        source = self._source
        if source.shape[2] < s.context:  # a clip shorter than the context
            first = source[:, :, :1].expand(-1, -1, s.context - source.shape[2], -1, -1)
            source = torch.cat([first, source], dim=2)
        self._context = source
        last = source[:, :, -1:]
        if self.same_prompt:
            self._anchor, self._anchor_due = last, None
        else:
            # The tail starts as pure noise: the first frame wholly new.
            self._anchor, self._anchor_due = None, s.window - 1
        self._next_index = 0
        # Every window frame starts as the last frame noised to its level, or
        # to ``start_noise`` where its level is lower; a short ramp then
        # brings those down to their levels with the clip's frames held as
        # context and anchor. The head so stays one small step from the
        # clip's end while the frames behind it have room to move on.
        target = self._levels[1:]
        current = torch.clamp(target, min=self.start_noise)
        noise = self._noise((1, 3, s.window, *self.latent_size))
        shape = (1, 1, -1, 1, 1)
        window = (1 - current.view(shape).to(last)) * last
        window = window + current.view(shape).to(last) * noise
        if self.start_noise > 0:
            remaining = window_levels(s.ramp, s.ramp_shift).flip(0)
            for j in range(1, s.ramp + 1):
                nxt = target + (current - target) * remaining[j] / remaining[j - 1]
                v = self._velocity(self._row(window, last), self._sigmas(current))
                v = v[:, :, 1 + s.context :]
                window = window + (nxt - current).view(shape).to(v) * v
                current = nxt
        self._window = window

    def _row(self, window: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        s = self.settings
        ctx = self._context
        ctx_in = (1 - s.context_noise) * ctx + s.context_noise * self._noise(ctx.shape)
        if self._anchor is None:
            anchor = self._noise(last.shape)
        else:
            anchor = (1 - s.anchor_noise) * last + s.anchor_noise * self._noise(
                last.shape
            )
        return torch.cat([anchor, ctx_in, window], dim=2)

    def _sigmas(self, window: torch.Tensor) -> torch.Tensor:
        s = self.settings
        anchor = s.anchor_noise if self._anchor is not None else 1.0
        return torch.cat(
            [torch.tensor([anchor]), torch.full((s.context,), s.context_noise), window]
        )

    def _advance(self) -> None:
        super()._advance()
        self.heads.append(self._context[:, :, -1:])

    def preview(self, total: int) -> np.ndarray:
        """Small uint8 frames (total, h, w, 3) of the continuation so far:
        the frames made, then the window as it is (noise turning into the
        next frames), then grey for frames not begun."""
        parts = [*self.heads]
        if self._window is not None:
            parts.append(self._window.clamp(-1, 1))
        row = torch.cat(parts, dim=2)[:, :, :total] if parts else None
        h, w = self.latent_size
        missing = total - (0 if row is None else row.shape[2])
        if missing > 0:
            grey = torch.zeros((1, 3, missing, h, w), device=self.device)
            row = grey if row is None else torch.cat([row, grey], dim=2)
        return tensor_to_frames(row[0].float())


def continue_clip(
    pipeline: BuiltinVideoPipeline,
    clip: np.ndarray,
    *,
    prompt: str,
    num_frames: int,
    seed: int = 0,
    width: int = LIVE_WIDTH,
    height: int = LIVE_HEIGHT,
    same_prompt: bool = True,
    negative_prompt: str = "",
    guidance_scale: float | None = None,
    on_frame: Callable[[int, ClipContinuation], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> np.ndarray:
    """``num_frames`` new uint8 frames (T, height, width, 3) that continue
    ``clip`` (see :class:`ClipContinuation`).

    ``on_frame(made, stream)`` hears after every frame; when
    ``should_stop()`` answers True the run stops there and raises
    :class:`~generation.specs.GenerationCancelled`.
    """
    from generation.specs import GenerationCancelled

    if num_frames < 1:
        raise ValueError(f"num_frames must be at least 1, got {num_frames}")
    settings = StreamSettings()
    if guidance_scale is not None:
        settings = replace(settings, guidance_scale=guidance_scale)
    stream = ClipContinuation(
        pipeline,
        prompt,
        clip,
        seed,
        width,
        height,
        same_prompt=same_prompt,
        negative_prompt=negative_prompt,
        settings=settings,
    )
    frames = []
    for made in range(1, num_frames + 1):
        if should_stop is not None and should_stop():
            raise GenerationCancelled
        _, frame, _ = stream.next_frame()
        frames.append(frame)
        if on_frame is not None:
            on_frame(made, stream)
    return np.stack(frames)
