"""Looks: a colour grade, grain, vignette and letterbox for finished frames.

A look changes the picture of every model the same way: it is applied to the
frames a model returns (and to every step's preview), not asked of the model.
Frames in, frames out: uint8 (T, H, W, 3) to uint8 (T, H, W, 3).

The colour grade is always a 3D lookup table, sampled by trilinear
interpolation. A shipped look builds its table from a few numbers
(saturation, contrast, warmth, ...); a custom look reads a standard ``.cube``
file, and those numbers then grade the file's table further.

A look travels in a spec as its name and its parameters (see
:func:`resolve` and :func:`check`); :func:`from_settings` turns them into a
:class:`Look` ready to apply.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

MIN_LUT_SIZE, MAX_LUT_SIZE = 2, 65
# A .cube file of the largest table is about 7 MB of text; anything larger
# is not a LUT. The studio's upload form sets its own, smaller bound.
MAX_CUBE_BYTES = 16 * 1024 * 1024
# Tables built from parameters: 33 points a side is the common .cube size.
BUILT_LUT_SIZE = 33
MAX_NAME_CHARS = 80

# Parameter → (lowest, highest, neutral, what it is, in a creator's words).
PARAMETERS: dict[str, tuple[float, float, float, str]] = {
    "saturation": (0.0, 2.0, 1.0, "saturation"),
    "contrast": (0.5, 2.0, 1.0, "contrast"),
    "brightness": (-0.5, 0.5, 0.0, "brightness"),
    "warmth": (-1.0, 1.0, 0.0, "warmth"),
    "fade": (0.0, 0.5, 0.0, "fade"),
    "softness": (0.0, 1.0, 0.0, "softness"),
    "grain": (0.0, 0.5, 0.0, "grain"),
    "vignette": (0.0, 1.0, 0.0, "vignette"),
    "letterbox": (0.0, 3.0, 0.0, "letterbox ratio"),
}
# A letterbox ratio, when set, is at least this wide (0 means none).
MIN_LETTERBOX = 1.2


class LookError(ValueError):
    """A look that cannot be used; the message is one sentence for the creator."""


@dataclass(frozen=True)
class Look:
    """A look ready to apply. ``lut`` is (N, N, N, 3) float32 in [0, 1],
    indexed [blue, green, red] as in a ``.cube`` file, or None for none."""

    name: str = ""
    saturation: float = 1.0
    contrast: float = 1.0
    brightness: float = 0.0
    warmth: float = 0.0
    fade: float = 0.0
    softness: float = 0.0
    grain: float = 0.0
    vignette: float = 0.0
    letterbox: float = 0.0
    lut_path: str = ""

    @property
    def grades_colour(self) -> bool:
        return bool(self.lut_path) or any(
            getattr(self, key) != PARAMETERS[key][2]
            for key in ("saturation", "contrast", "brightness", "warmth", "fade")
        )

    def apply(
        self,
        frames: np.ndarray,
        *,
        seed: int = 0,
        output_size: tuple[int, int] | None = None,
    ) -> np.ndarray:
        """Grade uint8 frames (T, H, W, 3); returns new frames of the same shape.

        ``seed`` makes the grain repeatable. ``output_size`` (width, height) is
        the size the frames will be scaled to cover, when it differs from
        theirs, so the letterbox and vignette fall where the viewer sees them.
        """
        return apply_look(self, frames, seed=seed, output_size=output_size)


# The shipped looks, one per default style preset, by name.
SHIPPED: dict[str, dict[str, float]] = {
    "Film noir": {
        "saturation": 0.0,
        "contrast": 1.45,
        "brightness": -0.04,
        "grain": 0.12,
        "vignette": 0.55,
    },
    "1970s film stock": {
        "saturation": 0.8,
        "contrast": 0.9,
        "warmth": 0.45,
        "fade": 0.12,
        "grain": 0.14,
        "vignette": 0.25,
    },
    "Dreamy pastel": {
        "saturation": 0.6,
        "contrast": 0.75,
        "brightness": 0.12,
        "fade": 0.18,
        "softness": 0.6,
        "warmth": 0.1,
    },
    "Documentary handheld": {
        "saturation": 0.88,
        "contrast": 1.1,
        "warmth": -0.08,
        "grain": 0.06,
    },
    "Anime": {"saturation": 1.4, "contrast": 1.15, "brightness": 0.03},
    "Claymation": {
        "saturation": 1.15,
        "contrast": 0.95,
        "warmth": 0.2,
        "vignette": 0.2,
    },
    "Drone travel": {
        "saturation": 1.2,
        "contrast": 1.05,
        "warmth": 0.3,
        "letterbox": 2.39,
    },
    "Product macro": {
        "saturation": 1.05,
        "contrast": 1.2,
        "brightness": 0.05,
        "vignette": 0.35,
    },
}


# -- settings: names and parameters as a spec carries them ------------------


def check(name: object, params: object) -> list[str]:
    """Creator-readable problems with a look's name and parameters; empty
    when they can be used. An empty name with no parameters is "no look"."""
    problems: list[str] = []
    if not isinstance(name, str):
        return ["The look's name must be text."]
    if len(name) > MAX_NAME_CHARS:
        problems.append(f"Keep the look's name under {MAX_NAME_CHARS} characters.")
    if not isinstance(params, Mapping):
        return [*problems, "The look's settings must be a set of named numbers."]
    if params and not name.strip():
        problems.append("A look with settings needs a name.")
    for key, value in params.items():
        if key == "lut":
            if not isinstance(value, str) or not value:
                problems.append("The look's colour table must be a file.")
            elif not Path(value).is_file():
                problems.append(
                    f"The colour table of the look “{name}” is missing; "
                    "import its .cube file again."
                )
            continue
        if key not in PARAMETERS:
            known = ", ".join(PARAMETERS)
            problems.append(f"A look has no setting “{key}”; it has {known}.")
            continue
        low, high, _, what = PARAMETERS[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"The look's {what} must be a number.")
        elif not math.isfinite(value) or not low <= value <= high:
            problems.append(f"The look's {what} must be between {low:g} and {high:g}.")
        elif key == "letterbox" and 0 < value < MIN_LETTERBOX:
            problems.append(
                f"A letterbox ratio must be 0 (none) or at least {MIN_LETTERBOX:g}."
            )
    return problems


def resolve(name: str) -> dict[str, float]:
    """The parameters of a shipped look, by name; raises :class:`LookError`."""
    try:
        return dict(SHIPPED[name])
    except KeyError:
        known = ", ".join(f"“{n}”" for n in SHIPPED)
        raise LookError(f"There is no look called “{name}”; try {known}.") from None


def from_settings(name: str, params: Mapping[str, Any] | None) -> Look | None:
    """The :class:`Look` a spec names, or None for none; a shipped name with
    no parameters takes the shipped ones. Raises :class:`LookError`."""
    params = dict(params or {})
    if not name and not params:
        return None
    if name and not params:
        params = resolve(name)
    problems = check(name, params)
    if problems:
        raise LookError(problems[0])
    values = {k: float(v) for k, v in params.items() if k in PARAMETERS}
    return Look(name=name, lut_path=str(params.get("lut", "")), **values)


def for_spec(spec: Any) -> Look | None:
    """The look of a :class:`~generation.specs.GenerationSpec`, or None."""
    return from_settings(
        getattr(spec, "look", "") or "", getattr(spec, "look_params", None) or {}
    )


# -- .cube files -------------------------------------------------------------


def parse_cube(text: str) -> np.ndarray:
    """Read a ``.cube`` 3D LUT (Adobe / Resolve format) into (N, N, N, 3)
    float32 indexed [blue, green, red]; raises :class:`LookError`.

    Red changes fastest in the file, as the format says. Values are scaled
    from DOMAIN_MIN..DOMAIN_MAX to 0..1 of the output only when the domain is
    not the usual 0..1 (the input domain is then taken as given).
    """
    size = 0
    domain_min = np.zeros(3, np.float32)
    domain_max = np.ones(3, np.float32)
    rows: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head = line.split(None, 1)[0].upper()
        if head == "TITLE":
            continue
        if head == "LUT_1D_SIZE":
            raise LookError(
                "This is a 1D LUT; import a 3D LUT (a .cube file with LUT_3D_SIZE)."
            )
        if head == "LUT_3D_SIZE":
            parts = line.split()
            if len(parts) != 2 or not parts[1].isdigit():
                raise LookError(f"Line {number}: LUT_3D_SIZE needs one whole number.")
            size = int(parts[1])
            if not MIN_LUT_SIZE <= size <= MAX_LUT_SIZE:
                raise LookError(
                    f"The LUT size must be between {MIN_LUT_SIZE} and "
                    f"{MAX_LUT_SIZE}; this file says {size}."
                )
            continue
        if head in ("DOMAIN_MIN", "DOMAIN_MAX"):
            values = _three_numbers(line.split()[1:], number)
            if head == "DOMAIN_MIN":
                domain_min = values
            else:
                domain_max = values
            continue
        if head[0].isalpha() and not _is_number(head):
            # Other keywords (LUT_IN_VIDEO_RANGE, ...) do not change the table.
            continue
        rows.append(line)
        if size and len(rows) > size**3:
            break
    if not size:
        raise LookError("This is not a .cube 3D LUT: it has no LUT_3D_SIZE line.")
    expected = size**3
    if len(rows) != expected:
        raise LookError(
            f"A {size}-point LUT needs {expected} rows of three numbers; "
            f"this file has {len(rows)}."
        )
    try:
        table = np.array(" ".join(rows).split(), dtype=np.float64)
    except ValueError:
        raise LookError("The LUT's rows must hold numbers only.") from None
    if table.size != expected * 3:
        raise LookError("Every row of the LUT must hold exactly three numbers.")
    if not np.isfinite(table).all():
        raise LookError("The LUT holds values that are not finite numbers.")
    if (domain_max <= domain_min).any():
        raise LookError("The LUT's DOMAIN_MAX must be above its DOMAIN_MIN.")
    lut = table.reshape(size, size, size, 3).astype(np.float32)
    if (domain_min != 0).any() or (domain_max != 1).any():
        lut = (lut - domain_min) / (domain_max - domain_min)
    return np.clip(lut, 0.0, 1.0)


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _three_numbers(parts: list[str], number: int) -> np.ndarray:
    try:
        values = np.array([float(p) for p in parts], np.float32)
    except ValueError:
        values = np.zeros(0, np.float32)
    if values.size != 3 or not np.isfinite(values).all():
        raise LookError(f"Line {number}: a domain needs three numbers.")
    return values


def read_cube(path: str | os.PathLike[str]) -> np.ndarray:
    """Parse a ``.cube`` file from disk (bounded, UTF-8 or Latin-1)."""
    path = Path(path)
    if path.stat().st_size > MAX_CUBE_BYTES:
        raise LookError("This .cube file is too large to be a colour table.")
    data = path.read_bytes()
    return parse_cube(decode_cube(data))


def decode_cube(data: bytes) -> str:
    """A .cube file's bytes as text (UTF-8, else Latin-1); refuses binary data."""
    if b"\x00" in data:
        raise LookError("This is not a .cube file: it holds binary data.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def write_cube(lut: np.ndarray, *, title: str = "") -> str:
    """A (N, N, N, 3) table as ``.cube`` text (red fastest)."""
    size = lut.shape[0]
    lines = [f'TITLE "{title}"'] if title else []
    lines.append(f"LUT_3D_SIZE {size}")
    for r, g, b in lut.reshape(-1, 3):
        lines.append(f"{r:.6f} {g:.6f} {b:.6f}")
    return "\n".join(lines) + "\n"


def identity_lut(size: int = BUILT_LUT_SIZE) -> np.ndarray:
    """The table that changes nothing: entry [b, g, r] is (r, g, b)."""
    axis = np.linspace(0.0, 1.0, size, dtype=np.float32)
    b, g, r = np.meshgrid(axis, axis, axis, indexing="ij")
    return np.stack([r, g, b], axis=-1)


# -- building and applying ---------------------------------------------------

_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


def grade_colours(rgb: np.ndarray, look: Look) -> np.ndarray:
    """The parametric grade on colours (..., 3) in [0, 1]."""
    out = rgb.astype(np.float32, copy=True)
    if look.warmth:
        shift = 0.12 * look.warmth
        out[..., 0] += shift
        out[..., 1] += shift * 0.3
        out[..., 2] -= shift
    out = np.clip(out, 0.0, 1.0)
    luma = out @ _LUMA
    out = luma[..., None] + (out - luma[..., None]) * look.saturation
    out = (out - 0.5) * look.contrast + 0.5 + look.brightness
    out = np.clip(out, 0.0, 1.0)
    if look.fade:
        out = look.fade * 0.6 + out * (1.0 - look.fade)
    return np.clip(out, 0.0, 1.0)


_lut_cache: dict[tuple[Any, ...], torch.Tensor] = {}
_lut_lock = threading.Lock()


def look_table(look: Look) -> torch.Tensor:
    """The look's whole colour grade as one (1, 3, N, N, N) table for
    :func:`torch.nn.functional.grid_sample`, cached per look."""
    key: tuple[Any, ...] = tuple(getattr(look, f.name) for f in fields(look))
    if look.lut_path:
        stat = Path(look.lut_path).stat()
        key += (stat.st_mtime_ns, stat.st_size)
    with _lut_lock:
        table = _lut_cache.get(key)
    if table is not None:
        return table
    base = read_cube(look.lut_path) if look.lut_path else identity_lut()
    graded = grade_colours(base, look)
    # (B, G, R, C) → (C, D=B, H=G, W=R): grid_sample's x, y, z are r, g, b.
    table = torch.from_numpy(np.ascontiguousarray(graded.transpose(3, 0, 1, 2)))[None]
    with _lut_lock:
        if len(_lut_cache) > 32:
            _lut_cache.clear()
        _lut_cache[key] = table
    return table


def apply_lut(frames: np.ndarray, table: torch.Tensor) -> np.ndarray:
    """Map uint8 frames (T, H, W, 3) through a (1, 3, N, N, N) table by
    trilinear interpolation; returns uint8 frames."""
    t, h, w, _ = frames.shape
    with torch.inference_mode():
        pixels = torch.from_numpy(np.ascontiguousarray(frames)).reshape(1, 1, 1, -1, 3)
        grid = pixels.float().mul_(2.0 / 255.0).sub_(1.0)
        out = torch.nn.functional.grid_sample(
            table, grid, mode="bilinear", padding_mode="border", align_corners=True
        )  # (1, 3, 1, 1, P)
        out = out.reshape(3, -1).t().mul_(255.0).add_(0.5).clamp_(0, 255)
        return out.to(torch.uint8).reshape(t, h, w, 3).numpy()


def _visible_box(
    w: int, h: int, output_size: tuple[int, int] | None
) -> tuple[float, float, float, float]:
    """The part of a w×h frame left after scaling to cover ``output_size``."""
    if output_size is None:
        return 0.0, 0.0, float(w), float(h)
    width, height = output_size
    if width * h > height * w:
        crop_w, crop_h = w, w * height / width
    else:
        crop_w, crop_h = h * width / height, h
    return (w - crop_w) / 2, (h - crop_h) / 2, (w + crop_w) / 2, (h + crop_h) / 2


def apply_look(
    look: Look,
    frames: np.ndarray,
    *,
    seed: int = 0,
    output_size: tuple[int, int] | None = None,
) -> np.ndarray:
    """See :meth:`Look.apply`."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"expected uint8 (T, H, W, 3) frames, got {frames.shape}")
    t, h, w, _ = frames.shape
    out = apply_lut(frames, look_table(look)) if look.grades_colour else frames.copy()
    if look.softness:
        out = _soften(out, look.softness)
    x0, y0, x1, y1 = _visible_box(w, h, output_size)
    if look.vignette or look.grain:
        work = out.astype(np.float32)
        if look.vignette:
            ys = (np.arange(h, dtype=np.float32) + 0.5 - (y0 + y1) / 2) / (
                (y1 - y0) / 2
            )
            xs = (np.arange(w, dtype=np.float32) + 0.5 - (x0 + x1) / 2) / (
                (x1 - x0) / 2
            )
            r2 = (ys[:, None] ** 2 + xs[None, :] ** 2) / 2.0
            mask = 1.0 - look.vignette * np.clip(r2, 0.0, 1.0) ** 1.5
            work *= mask[None, :, :, None]
        if look.grain:
            rng = np.random.default_rng(seed)
            noise = rng.standard_normal((t, h, w, 1), dtype=np.float32)
            work += noise * (look.grain * 60.0)
        out = np.clip(work + 0.5, 0, 255).astype(np.uint8)
    if look.letterbox:
        visible_h = y1 - y0
        content_h = (x1 - x0) / look.letterbox
        if content_h < visible_h:
            bar = (visible_h - content_h) / 2
            top = int(round(y0 + bar))
            bottom = int(round(y1 - bar))
            out[:, :top] = 0
            out[:, bottom:] = 0
    return out


def _soften(frames: np.ndarray, amount: float) -> np.ndarray:
    """A light bloom: blend each frame with a blurred copy of itself.

    The blur is taken on a copy at about 32 px and scaled back up smoothly,
    so it costs the same small share of a frame at any size.
    """
    f = torch.nn.functional
    with torch.inference_mode():
        x = torch.from_numpy(frames).permute(0, 3, 1, 2).float().contiguous()
        h, w = frames.shape[1:3]
        step = max(1, min(h, w) // 32)
        small = f.avg_pool2d(x, step, stride=step, ceil_mode=True)
        small = f.avg_pool2d(small, 3, stride=1, padding=1, count_include_pad=False)
        blurred = f.interpolate(small, size=(h, w), mode="bilinear")
        # Half a screen blend (brightens the highlights), half the blur itself:
        # x + a/2 * (b * (1 - x/255)) + a/2 * (b - x).
        half = 0.5 * amount
        glow = blurred * (1.0 - x / 255.0)
        out = x.add_(glow.add_(blurred).sub_(x).mul_(half))
        out = out.clamp_(0, 255).add_(0.5).to(torch.uint8)
        return out.permute(0, 2, 3, 1).contiguous().numpy()
