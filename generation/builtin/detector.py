"""An analytic reader of clips from the procedural world.

It finds the object by its colour, follows it frame by frame, estimates the
camera move from the background (a joint search over horizontal shift and
zoom between the first and last frames) and, with the camera compensated,
classifies the object's motion. Used to score the built-in model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .world import COLOURS

_PALETTE = np.array(list(COLOURS.values()), np.float32)
_NAMES = list(COLOURS)
COLOUR_TOLERANCE = 62.0


@dataclass
class Reading:
    colour: str | None
    motion: str | None
    camera: str
    presence: float  # share of frames where the object is found
    size_variation: float  # std / mean of the object's area (camera compensated)
    flicker: float  # mean absolute change of the background between frames, 0..255
    displacement: tuple[float, float]
    area_ratio: float
    camera_shift: float
    camera_scale: float

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _colour_masks(clip: np.ndarray) -> np.ndarray:
    """Soft membership (T, H, W, 8) of each pixel to each object colour."""
    x = clip.astype(np.float32)[..., None, :]
    d = np.linalg.norm(x - _PALETTE, axis=-1)
    return np.clip((COLOUR_TOLERANCE - d) / (COLOUR_TOLERANCE * 0.35), 0, 1)


def _camera(clip: np.ndarray, background: np.ndarray) -> tuple[float, float]:
    """Total horizontal content shift (px) and zoom factor over the clip.

    Each pair of consecutive frames is matched by a small search over shifts
    and over zooms (cameras pan or zoom, never both); the per-pair estimates
    add up. Small steps keep periodic textures from aliasing.
    """
    t, h, w, _ = clip.shape
    if t < 2:
        return 0.0, 1.0
    shifts = np.linspace(-3, 3, 25) / (w / 2)
    scales = np.exp(np.linspace(-0.12, 0.12, 25))
    ss = np.concatenate([np.ones_like(shifts), scales])
    dd = np.concatenate([shifts, np.zeros_like(scales)])
    n = len(ss)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = torch.from_numpy(1 / ss)
    theta[:, 1, 1] = torch.from_numpy(1 / ss)
    theta[:, 0, 2] = torch.from_numpy(-dd / ss)
    grid = F.affine_grid(theta, (n, 3, h, w), align_corners=False)
    inside = (grid.abs() <= 1).all(dim=-1)  # (N, H, W)
    frames = torch.from_numpy(clip).float().permute(0, 3, 1, 2)  # (T, 3, H, W)
    frames = F.avg_pool2d(F.pad(frames, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    prev = frames[:-1].repeat_interleave(n, dim=0)
    warped = F.grid_sample(
        prev,
        grid.repeat(t - 1, 1, 1, 1),
        mode="bilinear",
        padding_mode="zeros",
        align_corners=False,
    )
    warped = warped.view(t - 1, n, 3, h, w)
    bg = torch.from_numpy(background[1:] & background[:-1])  # (T-1, H, W)
    valid = inside[None] & bg[:, None]
    err = ((warped - frames[1:, None]).abs().mean(2) * valid).sum((2, 3))
    err = err / valid.sum((2, 3)).clamp(min=1)
    best = err.argmin(dim=1).numpy()
    shift = float(dd[best].sum() * w / 2)
    scale = float(np.exp(np.log(ss[best]).sum()))
    return shift, scale


def read_clip(clip: np.ndarray) -> Reading:
    """Read colour, motion, camera and stability from a uint8 (T, H, W, 3) clip."""
    t, h, w, _ = clip.shape
    masks = _colour_masks(clip)
    totals = masks.sum(axis=(0, 1, 2))
    best = int(np.argmax(totals))
    min_area = max(2.0, h * w * 0.006)
    if totals[best] / t < min_area:
        return Reading(None, None, "static", 0.0, 1.0, 0.0, (0.0, 0.0), 1.0, 0.0, 1.0)
    colour = _NAMES[best]
    m = masks[..., best]  # (T, H, W)
    areas = m.sum(axis=(1, 2))
    present = areas >= max(min_area, 0.15 * float(np.median(areas)))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    cx = (m * xs).sum((1, 2)) / np.maximum(areas, 1e-6)
    cy = (m * ys).sum((1, 2)) / np.maximum(areas, 1e-6)

    any_object = masks.max(axis=-1) > 0.05
    grown = any_object.copy()
    grown[:, 1:] |= any_object[:, :-1]
    grown[:, :-1] |= any_object[:, 1:]
    grown[:, :, 1:] |= any_object[:, :, :-1]
    grown[:, :, :-1] |= any_object[:, :, 1:]
    background = ~grown
    shift, scale = _camera(clip, background)
    pan_strength = abs(shift) / (0.3 * w)
    zoom_strength = abs(math.log(scale)) / math.log(1.6)
    camera = "static"
    if max(pan_strength, zoom_strength) >= 0.35:
        if zoom_strength > pan_strength:
            camera = "push-in" if scale > 1 else "pull-out"
        else:
            camera = "pan-left" if shift > 0 else "pan-right"

    # Compensate with the world's nominal camera speeds: the estimate above is
    # reliable in kind and direction, less so in magnitude.
    shift, scale = {
        "pan-left": (0.3 * w, 1.0),
        "pan-right": (-0.3 * w, 1.0),
        "push-in": (0.0, 1.6),
        "pull-out": (0.0, 1 / 1.6),
    }.get(camera, (0.0, 1.0))
    tau = np.linspace(0, 1, t)
    s_i = scale**tau
    centre_x, centre_y = w / 2, h / 2
    wx = centre_x + (cx - centre_x) / s_i - shift * tau / s_i
    wy = centre_y + (cy - centre_y) / s_i
    wa = areas / s_i**2
    idx = np.flatnonzero(present)
    if len(idx) < 2:
        return Reading(
            colour,
            None,
            camera,
            float(present.mean()),
            1.0,
            0.0,
            (0.0, 0.0),
            1.0,
            shift,
            scale,
        )
    i0, i1 = idx[0], idx[-1]
    k = max(1, len(idx) // 4)
    head, tail = idx[:k], idx[-k:]
    dx = float(wx[tail].mean() - wx[head].mean()) * (len(idx) / max(len(idx) - k, 1))
    dy = float(wy[tail].mean() - wy[head].mean()) * (len(idx) / max(len(idx) - k, 1))
    ratio = float(wa[tail].mean() / max(wa[head].mean(), 1e-6))
    line = wy[i0] + (wy[i1] - wy[i0]) * (tau[idx] - tau[i0]) / max(
        tau[i1] - tau[i0], 1e-6
    )
    bounce = float(np.max(np.abs(wy[idx] - line)))
    dist = math.hypot(dx, dy)
    unit = h / 32.0
    if ratio > 1.8:
        motion = "grow"
    elif ratio < 1 / 1.8:
        motion = "shrink"
    elif dist >= 4.0 * unit:
        angle = math.degrees(math.atan2(-dy, dx)) % 360
        sectors = [
            "right",
            "up-right",
            "up",
            "up-left",
            "left",
            "down-left",
            "down",
            "down-right",
        ]
        motion = sectors[int(((angle + 22.5) % 360) // 45)]
    elif bounce >= 3.5 * unit:
        motion = "bounce"
    else:
        motion = "still"
    variation = float(wa[idx].std() / max(wa[idx].mean(), 1e-6))
    diffs = np.abs(np.diff(clip.astype(np.float32), axis=0)).mean(-1)
    bgpair = background[1:] & background[:-1]
    flicker = float((diffs * bgpair).sum() / max(bgpair.sum(), 1))
    return Reading(
        colour,
        motion,
        camera,
        float(present.mean()),
        variation,
        flicker,
        (dx, dy),
        ratio,
        shift,
        scale,
    )
