"""Cheap previews for latent video models: a linear map from latents to RGB.

Decoding every step through the VAE would cost more than the step itself, so
each model gets a projection ``rgb = latent @ weight + bias`` *fitted* for its
own VAE: a few procedural clips from the built-in world are encoded, the
pixels are averaged down to the latent grid, and a least-squares fit maps the
latent channels onto them. Any VAE gets a preview this way, without
hand-typed factors. The fit takes a second or two and is cached as a small
JSON file beside the model.

Latents here are always *raw* VAE latents shaped (C, T, h, w): what the VAE's
``encode`` returns and its ``decode`` takes. Each adapter undoes its
pipeline's own packing, scaling and normalisation before calling
:meth:`LatentProjection.frames`.
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

logger = logging.getLogger(__name__)

CACHE_NAME = "studio_latent_preview.json"
FORMAT_VERSION = 1
# Pixels per latent cell the fitting clips use along each side.
FIT_CELLS = 8
FIT_CLIPS = 4

# Takes pixels (1, 3, T, H, W) in [-1, 1]; returns raw latents (1, C, t, h, w).
Encoder = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class LatentProjection:
    """A fitted latent → RGB map: ``weight`` is (C, 3), ``bias`` is (3,)."""

    weight: torch.Tensor
    bias: torch.Tensor
    residual: float = 0.0

    @property
    def channels(self) -> int:
        return int(self.weight.shape[0])

    def frames(self, latents: torch.Tensor) -> np.ndarray:
        """Project raw latents (C, T, h, w) into uint8 frames (T, h, w, 3)."""
        if latents.ndim != 4 or latents.shape[0] != self.channels:
            raise ValueError(
                f"expected ({self.channels}, T, h, w) latents, got "
                f"{tuple(latents.shape)}"
            )
        if latents.device.type == "cpu":
            # numpy keeps a product this small on one thread; torch's thread
            # pool can stall for tens of milliseconds when the cores are busy.
            array = latents.detach().float().numpy()
            pixels = np.tensordot(array, self.weight.numpy(), axes=([0], [0]))
            pixels += self.bias.numpy()
            # An untrained or diverging model can yield NaNs: show them as grey.
            np.nan_to_num(pixels, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
            np.clip(pixels, -1.0, 1.0, out=pixels)
            pixels += 1.0
            pixels *= 127.5
            pixels += 0.5
            return pixels.astype(np.uint8)
        weight = self.weight.to(latents.device)
        bias = self.bias.to(latents.device)
        result = torch.einsum("cthw,ck->thwk", latents.detach().float(), weight)
        result.add_(bias).nan_to_num_(0.0, 1.0, -1.0).clamp_(-1.0, 1.0).add_(1.0).mul_(
            127.5
        ).add_(0.5)
        return result.to(torch.uint8).cpu().numpy()

    def to_dict(self) -> dict[str, object]:
        return {
            "version": FORMAT_VERSION,
            "weight": self.weight.tolist(),
            "bias": self.bias.tolist(),
            "residual": self.residual,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> LatentProjection:
        if data.get("version") != FORMAT_VERSION:
            raise ValueError("unknown latent preview format")
        weight = torch.tensor(data["weight"], dtype=torch.float32)
        bias = torch.tensor(data["bias"], dtype=torch.float32)
        if weight.ndim != 2 or weight.shape[1] != 3 or bias.shape != (3,):
            raise ValueError("malformed latent preview matrix")
        return cls(weight, bias, float(data.get("residual", 0.0)))


def fitting_clips(
    *, num_frames: int, size: int, count: int = FIT_CLIPS, seed: int = 0
) -> torch.Tensor:
    """Procedural clips (count, 3, T, size, size) in [-1, 1] to fit against.

    They come from the built-in world: skies, fields and sea with coloured
    shapes moving across them, which covers the colours creators prompt for.
    """
    from generation.builtin import world

    rng = random.Random(seed)
    clips = [
        world.render(world.sample_params(rng), num_frames=num_frames, size=size)
        for _ in range(count)
    ]
    pixels = torch.from_numpy(np.stack(clips)).float().div_(127.5).sub_(1.0)
    return pixels.permute(0, 4, 1, 2, 3).contiguous()


def pool_to_latent_grid(
    pixels: torch.Tensor, *, temporal: int, spatial: int, causal: bool = True
) -> torch.Tensor:
    """Average pixels (3, T, H, W) onto the latent grid: (3, t, H/s, W/s).

    A causal video VAE keeps frame 0 as its own latent frame and folds each
    following group of ``temporal`` frames into one.
    """
    frames = F.avg_pool2d(pixels.transpose(0, 1), spatial).transpose(0, 1)
    if temporal == 1:
        return frames
    if causal:
        first, rest = frames[:, :1], frames[:, 1:]
    else:
        first, rest = frames[:, :0], frames
    c, t, h, w = rest.shape
    groups = rest.reshape(c, t // temporal, temporal, h, w).mean(dim=2)
    return torch.cat([first, groups], dim=1)


def fit(
    encode: Encoder,
    *,
    temporal: int,
    spatial: int,
    causal: bool = True,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    ridge: float = 1e-3,
) -> LatentProjection:
    """Fit a latent → RGB projection for the VAE behind ``encode``.

    ``temporal`` and ``spatial`` are the VAE's compression factors; clips of
    ``temporal * 2 + 1`` frames (or 8 when there is no temporal compression)
    at ``spatial * FIT_CELLS`` pixels are encoded on ``device`` in ``dtype``.
    """
    num_frames = temporal * 2 + 1 if temporal > 1 else 8
    clips = fitting_clips(num_frames=num_frames, size=spatial * FIT_CELLS)
    inputs, targets = [], []
    with torch.inference_mode():
        for clip in clips:
            latents = encode(clip[None].to(device=device, dtype=dtype))[0].float().cpu()
            target = pool_to_latent_grid(
                clip, temporal=temporal, spatial=spatial, causal=causal
            )
            if latents.shape[1:] != target.shape[1:]:
                raise ValueError(
                    f"the VAE made latents {tuple(latents.shape)} from "
                    f"{tuple(clip.shape)}; expected a grid of {tuple(target.shape)}"
                )
            inputs.append(latents.flatten(1).T)
            targets.append(target.flatten(1).T)
    x = torch.cat(inputs).double()
    y = torch.cat(targets).double()
    x = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], dim=1)
    # A little ridge keeps channels the clips barely use from blowing up.
    gram = x.T @ x + ridge * torch.eye(x.shape[1], dtype=x.dtype)
    solution = torch.linalg.solve(gram, x.T @ y)
    residual = float(torch.sqrt(((x @ solution - y) ** 2).mean()))
    return LatentProjection(
        weight=solution[:-1].float().contiguous(),
        bias=solution[-1].float().contiguous(),
        residual=residual,
    )


def cache_path(model_path: str | os.PathLike[str]) -> Path | None:
    """Where a model's projection is cached: beside it, if it is a folder."""
    folder = Path(model_path)
    return folder / CACHE_NAME if folder.is_dir() else None


def load_or_fit(
    model_path: str | os.PathLike[str] | None,
    encode: Encoder,
    *,
    channels: int,
    **fit_options: object,
) -> LatentProjection:
    """The cached projection for a model, fitting and caching it when missing.

    A cache with the wrong channel count (the folder now holds another model)
    is refitted. A folder that cannot be written to keeps the fit in memory.
    """
    path = cache_path(model_path) if model_path is not None else None
    if path is not None and path.is_file():
        try:
            projection = LatentProjection.from_dict(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError) as error:
            logger.warning("ignoring the latent preview cache %s: %s", path, error)
        else:
            if projection.channels == channels:
                return projection
    projection = fit(encode, **fit_options)  # type: ignore[arg-type]
    if path is not None:
        try:
            temporary = path.with_name(f".{path.name}.part")
            temporary.write_text(json.dumps(projection.to_dict()))
            os.replace(temporary, path)
        except OSError as error:
            logger.info("could not cache the latent preview at %s: %s", path, error)
    return projection
