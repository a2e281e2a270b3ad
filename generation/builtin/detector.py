"""An analytic reader of clips from the procedural world.

It finds the object by its colour, follows it frame by frame, estimates the
camera move from the background (a joint search over horizontal shift and
zoom between the first and last frames) and, with the camera compensated,
classifies the object's motion. The subject is told by its outline (how much
of its box it fills, how wide it is, where its weight sits) and the scene by
the colours of the background, band by band, each by a vote of the nearest
clips the world itself draws (:func:`fitted`). Used to score the built-in
model.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from . import world
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
    subject: str | None = None  # the object's shape or kind: ball … bird, car
    scene: str | None = None

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


SCENE_BANDS = 4


def _outline(m: np.ndarray, present: np.ndarray) -> np.ndarray | None:
    """Outline features of the object's mask (T, H, W) over the frames it is
    in: the share of its bounding box it fills, the box's log aspect, how
    far down the box its weight sits, and how wide its top third is against
    its bottom third (medians over the frames)."""
    rows, cut = [], []
    h, w = m.shape[1:]
    for frame in m[present]:
        solid = frame > 0.5
        ys, xs = np.nonzero(solid)
        if len(ys) < 3:
            continue
        top, bottom = ys.min(), ys.max() + 1
        left, right = xs.min(), xs.max() + 1
        # An outline the frame's edge cuts off says little of its shape.
        cut.append(top == 0 or left == 0 or bottom == h or right == w)
        area = float(frame[top:bottom, left:right].sum())
        box = float((bottom - top) * (right - left))
        profile = frame[top:bottom, left:right].sum(1)  # width row by row
        weight = float((profile * (np.arange(bottom - top) + 0.5)).sum())
        third = max(1, (bottom - top) // 3)
        upper, lower = profile[:third].mean(), profile[-third:].mean()
        rows.append(
            (
                area / box,
                math.log((right - left) / (bottom - top)),
                weight / max(area, 1e-6) / (bottom - top),
                upper / max(upper + lower, 1e-6),
            )
        )
    if not rows:
        return None
    rows = np.array(rows, np.float32)
    whole = ~np.array(cut)
    return np.median(rows[whole] if whole.any() else rows, axis=0)


def _background_layout(clip: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Mean colour of the background in horizontal bands, top to bottom."""
    t, h, w, _ = clip.shape
    x = clip.astype(np.float32)
    out = []
    for k in range(SCENE_BANDS):
        band = slice(k * h // SCENE_BANDS, (k + 1) * h // SCENE_BANDS)
        weight = background[:, band, :, None].astype(np.float32)
        total = weight.sum()
        if total < 1:
            out.append(x[:, band].mean((0, 1, 2)))
        else:
            out.append((x[:, band] * weight).sum((0, 1, 2)) / total)
    return np.concatenate(out) / 255.0


@dataclass(frozen=True)
class _Neighbours:
    """Terms by their nearest examples (features scaled by their spread)."""

    names: tuple[str, ...]
    examples: np.ndarray  # (examples, features)
    labels: np.ndarray  # (examples,) index into names
    scale: np.ndarray  # (features,)
    k: int = 5

    def nearest(self, features: np.ndarray) -> str:
        d = (((self.examples - features) / self.scale) ** 2).sum(axis=1)
        votes = np.bincount(
            self.labels[np.argsort(d)[: self.k]], minlength=len(self.names)
        )
        return self.names[int(np.argmax(votes))]


@functools.lru_cache(maxsize=1)
def fitted() -> tuple[_Neighbours, _Neighbours]:
    """The subject and scene classifiers: features of clips the world renders,
    every subject in every scene, for a vote of the nearest five. Drawn the
    same way on every call, cached per process."""
    rng = random.Random(31)
    subjects: dict[str, list[np.ndarray]] = {s: [] for s in world.OBJECTS}
    scenes: dict[str, list[np.ndarray]] = {s: [] for s in world.SCENES}
    for _ in range(16):
        for shape in world.OBJECTS:
            for scene in world.SCENES:
                p = world.sample_params(rng, camera_prob=0.5)
                main = p.objects[0]
                motion = main.motion
                if motion not in world.SUBJECT_MOTIONS.get(shape, world.MOTIONS):
                    motion = "still"
                obj = world.ObjectParams(
                    shape,
                    main.colour,
                    main.x,
                    world.SUBJECT_HEIGHT.get(shape, 0.5) + main.y - 0.5,
                    main.size,
                    motion,
                    main.distance,
                )
                clip = world.render(
                    world.ClipParams(scene, (obj,), p.camera, p.seed), 8, 32
                )
                outline, layout = _features(clip)
                if outline is not None:
                    subjects[shape].append(outline)
                scenes[scene].append(layout)
    return _neighbours(subjects), _neighbours(scenes)


def _neighbours(samples: dict[str, list[np.ndarray]]) -> _Neighbours:
    names = tuple(samples)
    examples = np.concatenate([np.array(samples[n]) for n in names])
    labels = np.concatenate([np.full(len(samples[n]), i) for i, n in enumerate(names)])
    return _Neighbours(names, examples, labels, examples.std(axis=0) + 1e-3)


def _main_object(clip: np.ndarray):
    """The colour masks, the main object's colour index, its mask (T, H, W),
    its area and presence per frame, and whether it is there at all."""
    t, h, w, _ = clip.shape
    masks = _colour_masks(clip)
    totals = masks.sum(axis=(0, 1, 2))
    best = int(np.argmax(totals))
    min_area = max(2.0, h * w * 0.006)
    m = masks[..., best]
    areas = m.sum(axis=(1, 2))
    present = areas >= max(min_area, 0.15 * float(np.median(areas)))
    return masks, best, m, areas, present, totals[best] / t >= min_area


def _features(clip: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """The outline features of the main object and the background layout."""
    masks, _, m, _, present, found = _main_object(clip)
    outline = _outline(m, present) if found and present.any() else None
    return outline, _background_layout(clip, _background(masks))


def _background(masks: np.ndarray) -> np.ndarray:
    """Pixels at least one pixel away from anything of an object's colour."""
    any_object = masks.max(axis=-1) > 0.05
    grown = any_object.copy()
    grown[:, 1:] |= any_object[:, :-1]
    grown[:, :-1] |= any_object[:, 1:]
    grown[:, :, 1:] |= any_object[:, :, :-1]
    grown[:, :, :-1] |= any_object[:, :, 1:]
    return ~grown


def read_clip(clip: np.ndarray) -> Reading:
    """Read colour, motion, camera and stability from a uint8 (T, H, W, 3) clip."""
    t, h, w, _ = clip.shape
    masks, best, m, areas, present, found = _main_object(clip)
    if not found:
        scene = fitted()[1].nearest(_background_layout(clip, _background(masks)))
        return Reading(
            None, None, "static", 0.0, 1.0, 0.0, (0.0, 0.0), 1.0, 0.0, 1.0, None, scene
        )
    colour = _NAMES[best]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    cx = (m * xs).sum((1, 2)) / np.maximum(areas, 1e-6)
    cy = (m * ys).sum((1, 2)) / np.maximum(areas, 1e-6)

    background = _background(masks)
    subject_of, scene_of = fitted()
    outline = _outline(m, present) if present.any() else None
    subject = subject_of.nearest(outline) if outline is not None else None
    scene = scene_of.nearest(_background_layout(clip, background))
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
            subject,
            scene,
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
        subject,
        scene,
    )
