"""Effects that follow the picture, timed from the frames themselves.

:func:`watch` reads a clip: the object of one of the built-in world's
colours, followed frame by frame (its centre), the camera move (one pan and
zoom fitted to the background's change between frames) and the motion energy
between frames. From
that reading :func:`hits_for` places a thump on each frame where the object
touches the bottom of a bounce (its vertical velocity turns from down to up),
a rising swell over a push-in (falling over a pull-out), a soft whoosh over a
pan, swells where an unknown clip's motion surges, and under all of it the
scene's ambience, named by the prompt's words.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from .settings import SAMPLE_RATE

ANALYSIS_HEIGHT = 32
_COLOUR_TOLERANCE = 62.0
AMBIENCES: dict[str, tuple[str, ...]] = {
    "night": ("night", "starry", "stars", "moon", "moonlit", "midnight", "dark sky"),
    "sea": ("sea", "ocean", "waves", "beach", "shore", "coast", "surf", "harbour"),
    "field": (
        "field",
        "meadow",
        "grass",
        "grassland",
        "prairie",
        "farm",
        "hills",
        "valley",
        "mountains",
        "peaks",
    ),
    "city": (
        "city",
        "street",
        "traffic",
        "urban",
        "downtown",
        "town",
        "cars",
        "skyline",
        "skyscrapers",
        "rooftops",
    ),
    "rain": ("rain", "raining", "rainy", "storm", "drizzle", "downpour"),
    "sunset": ("sunset", "dusk", "evening", "golden hour", "twilight"),
    "day": ("daytime", "blue sky", "sunny", "clouds", "cloud", "bright sky", "sky"),
}


@dataclass(frozen=True)
class Reading:
    """What happens in a clip, measured from its frames."""

    contacts: list[float]  # frame positions (fractional) of bounce contacts
    x: float  # the object's mean horizontal position, −1 (left) .. 1 (right)
    camera: str  # static | pan-left | pan-right | push-in | pull-out
    motion: np.ndarray  # (T-1,) mean absolute change between frames, 0..255


def scene_of(prompt: str) -> str | None:
    """The ambience a prompt names (night, sea, field, city, rain, sunset, day)."""
    text = " " + " ".join(re.findall(r"[a-z]+", prompt.lower())) + " "
    best, at = None, len(text)
    for name, words in AMBIENCES.items():
        for word in words:
            i = text.find(f" {word} ")
            if 0 <= i < at:
                best, at = name, i
    return best


# The built-in scenes whose ambience goes by another name: wind in the
# mountain valley, the city's hum under its skyline.
WORLD_AMBIENCE = {"valley": "field", "skyline": "city"}
SCENE_MATCH = 50.0  # furthest a clip's colours may be from a scene's


def _colour_layout(clip: np.ndarray) -> np.ndarray:
    """Mean colour of the upper and of the lower half of a clip (6 numbers)."""
    c = clip.astype(np.float32)
    h = c.shape[1]
    return np.concatenate(
        [c[:, : h // 2].mean((0, 1, 2)), c[:, h // 2 :].mean((0, 1, 2))]
    )


@functools.lru_cache(maxsize=1)
def _scene_layouts() -> dict[str, np.ndarray]:
    """Each built-in scene's colour layout, drawn by the world itself."""
    from generation.builtin import world

    layouts = {}
    for scene in world.SCENES:
        clips = [
            world.render(world.ClipParams(scene, (), camera=camera, seed=seed), 4, 32)
            for seed in range(4)
            for camera in ("static", "push-in", "pan-left")
        ]
        layouts[scene] = np.mean([_colour_layout(c) for c in clips], axis=0)
    return layouts


def scene_in(frames: np.ndarray) -> str | None:
    """The built-in scene a clip shows, by its colours; None when it is not
    close to any of them (most footage from other models)."""
    layout = _colour_layout(_small(frames))
    distances = {
        k: float(np.linalg.norm(layout - v)) for k, v in _scene_layouts().items()
    }
    best = min(distances, key=distances.get)
    if distances[best] > SCENE_MATCH:
        return None
    return WORLD_AMBIENCE.get(best, best)


def _small(frames: np.ndarray) -> np.ndarray:
    """Frames averaged down to about ANALYSIS_HEIGHT px tall (area filter)."""
    t, h, w, _ = frames.shape
    f = max(1, h // ANALYSIS_HEIGHT)
    if f == 1:
        return frames
    hh, ww = h // f, w // f
    small = np.empty((t, hh, ww, 3), np.uint8)
    for i in range(t):  # a frame at a time: a long, large clip stays small
        crop = frames[i, : hh * f, : ww * f].astype(np.float32)
        small[i] = crop.reshape(hh, f, ww, f, 3).mean((1, 3)).round()
    return small


def _track(clip: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """Centre x, centre y, presence per frame of the clip's main object, and
    where any object colour shows (T, H, W)."""
    from generation.builtin.world import COLOURS

    palette = np.array(list(COLOURS.values()), np.float32)
    t, h, w, _ = clip.shape
    d = np.linalg.norm(clip.astype(np.float32)[..., None, :] - palette, axis=-1)
    masks = np.clip((_COLOUR_TOLERANCE - d) / (_COLOUR_TOLERANCE * 0.35), 0, 1)
    totals = masks.sum(axis=(0, 1, 2))
    best = int(np.argmax(totals))
    min_area = max(2.0, h * w * 0.006)
    if totals[best] / t < min_area:
        return None
    m = masks[..., best]
    areas = m.sum(axis=(1, 2))
    present = areas >= max(min_area, 0.15 * float(np.median(areas)))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    cx = (m * xs).sum((1, 2)) / np.maximum(areas, 1e-6)
    cy = (m * ys).sum((1, 2)) / np.maximum(areas, 1e-6)
    return cx / w, cy / h, present, masks.max(axis=-1)


def bounce_contacts(cy: np.ndarray, present: np.ndarray) -> list[float]:
    """Frame positions where a falling object turns upward at the bottom.

    ``cy`` grows downward (image rows, 0..1). A contact is a local maximum of
    ``cy`` — a plateau counts once, at its middle — that stands out from the
    frames around it; the clip's first and last frames cannot be one, since
    the turn is not seen there.
    """
    idx = np.flatnonzero(present)
    if len(idx) < 5:
        return []
    y = cy[idx]
    if float(y.max() - y.min()) < 0.08:
        return []
    contacts = []
    i = 1
    while i < len(y) - 1:
        j = i
        while j + 1 < len(y) - 1 and abs(y[j + 1] - y[i]) < 1e-4:
            j += 1
        if y[i] > y[i - 1] and y[j] > y[j + 1]:
            # Prominence: how far it stands above the lowest point on each
            # side before the track climbs higher than it again.
            higher = np.flatnonzero(y[:i] > y[i])
            lo = higher[-1] + 1 if higher.size else 0
            higher = np.flatnonzero(y[j + 1 :] > y[i])
            hi = max(j + 2, j + 1 + (higher[0] if higher.size else len(y) - j - 1))
            prominence = y[i] - max(y[lo:i].min(), y[j + 1 : hi].min())
            if prominence >= 0.06:
                # A cusp: when the neighbours differ, the touch is nearer the
                # lower one's side (the faster approach).
                if i == j:
                    a, c = y[i - 1], y[i + 1]
                    offset = 0.5 * (c - a) / max(y[i] - min(a, c), 1e-6)
                    at = float(idx[i]) + float(np.clip(offset, -0.5, 0.5))
                else:
                    at = (float(idx[i]) + float(idx[j])) / 2
                contacts.append(at)
        i = j + 1
    return contacts


def _blur(x: np.ndarray) -> np.ndarray:
    """A 3×3 box blur over the last two axes (edges repeated)."""
    p = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(1, 1), (1, 1)], mode="edge")
    rows = p[..., :-2, :] + p[..., 1:-1, :] + p[..., 2:, :]
    return (rows[..., :-2] + rows[..., 1:-1] + rows[..., 2:]) / 9.0


def camera_move(clip: np.ndarray, background: np.ndarray | None = None) -> str:
    """The camera's move in a small uint8 clip, from the background's flow.

    Between each pair of frames one horizontal shift and one zoom about the
    centre are fitted to the brightness change by least squares (a global
    Lucas–Kanade step); the pairs' moves add up over the clip. A move counts
    when it is at least a third of the built-in world's nominal pan (0.3 of
    the width) or zoom (1.6×).
    """
    t, h, w, _ = clip.shape
    if t < 2:
        return "static"
    grey = _blur(clip.astype(np.float32).mean(-1))
    gy, gx = np.gradient(grey, axis=(1, 2))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    xs, ys = xs - (w - 1) / 2, ys - (h - 1) / 2
    keep = np.ones((t - 1, h, w), bool)
    keep[:, :2], keep[:, -2:], keep[:, :, :2], keep[:, :, -2:] = (False,) * 4
    if background is not None:
        keep &= background[1:] & background[:-1]
    shift, log_scale = 0.0, 0.0
    for i in range(t - 1):
        m = keep[i]
        if m.sum() < 16:
            continue
        ix = (gx[i] + gx[i + 1])[m] / 2
        iy = (gy[i] + gy[i + 1])[m] / 2
        dt = (grey[i + 1] - grey[i])[m]
        a = np.stack([ix, ix * xs[m] + iy * ys[m]], axis=1)
        (tx, s), *_ = np.linalg.lstsq(a, -dt, rcond=None)
        shift += float(tx)
        log_scale += float(np.log1p(np.clip(s, -0.5, 0.5)))
    pan = abs(shift) / (0.3 * w)
    zoom = abs(log_scale) / np.log(1.6)
    if max(pan, zoom) < 0.35:
        return "static"
    if zoom > pan:
        return "push-in" if log_scale > 0 else "pull-out"
    return "pan-left" if shift > 0 else "pan-right"


def watch(frames: np.ndarray) -> Reading:
    """Read a uint8 (T, H, W, 3) clip for the effects."""
    clip = _small(frames)
    t = clip.shape[0]
    if t >= 2:
        diffs = np.abs(np.diff(clip.astype(np.float32), axis=0)).mean(axis=(1, 2, 3))
    else:
        diffs = np.zeros(0, np.float32)
    tracked = _track(clip)
    if tracked is None:
        return Reading([], 0.0, camera_move(clip), diffs)
    cx, cy, present, mask = tracked
    grown = mask > 0.05
    grown[:, 1:] |= grown[:, :-1].copy()
    grown[:, :-1] |= grown[:, 1:].copy()
    grown[:, :, 1:] |= grown[:, :, :-1].copy()
    grown[:, :, :-1] |= grown[:, :, 1:].copy()
    camera = camera_move(clip, ~grown)
    if camera in ("push-in", "pull-out"):
        # Undo the zoom about the centre, at the world's nominal speed.
        scale = 1.6 if camera == "push-in" else 1 / 1.6
        s = scale ** np.linspace(0, 1, t)
        cy = 0.5 + (cy - 0.5) / s
    contacts = bounce_contacts(cy, present)
    x = float(np.clip((cx[present].mean() - 0.5) * 2, -1, 1)) if present.any() else 0.0
    return Reading(contacts, x, camera, diffs)


# ------------------------------------------------------------- synthesis


@functools.lru_cache(maxsize=64)
def _band(lo: float, hi: float) -> np.ndarray:
    from scipy.signal import butter

    return butter(2, (lo, hi), btype="bandpass", fs=SAMPLE_RATE, output="sos")


def _shaped_noise(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    """White noise band-passed between ``lo`` and ``hi`` Hz, about unit RMS."""
    from scipy.signal import sosfilt

    out = sosfilt(_band(float(lo), float(hi)), rng.standard_normal(n))
    return (out * np.sqrt(SAMPLE_RATE / 2 / (hi - lo))).astype(np.float32)


def _smooth_random(rng: np.random.Generator, n: int, per_second: float) -> np.ndarray:
    """A slowly wandering curve around 1 (0.4..1.6), ``per_second`` turns/s."""
    knots = max(2, int(n / SAMPLE_RATE * per_second) + 2)
    values = rng.uniform(0.4, 1.6, knots)
    return np.interp(np.linspace(0, knots - 1, n), np.arange(knots), values).astype(
        np.float32
    )


def _pan(mono: np.ndarray, pan: float | np.ndarray) -> np.ndarray:
    angle = (np.asarray(pan, np.float32) + 1) * np.pi / 4
    return np.stack([mono * np.cos(angle), mono * np.sin(angle)]) * np.sqrt(2)


def ambience(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """A scene's bed of sound, (2, n)."""
    t = np.arange(n, dtype=np.float32) / SAMPLE_RATE
    if name == "night":
        out = 0.15 * np.stack([_shaped_noise(rng, n, 80, 400) for _ in range(2)])
        for _ in range(3):  # crickets: trills of pulses at 4–5 kHz
            hz = rng.uniform(4200, 5200)
            rate = rng.uniform(25, 35)
            period = rng.uniform(0.5, 0.9)
            chirp = (t + rng.uniform(0, period)) % period < 0.18
            pulse = np.sin(np.pi * rate * t) ** 8
            tone = np.sin(2 * np.pi * hz * t) * pulse * chirp
            out += _pan(0.25 * tone.astype(np.float32), rng.uniform(-0.8, 0.8))
        return out
    if name == "sea":
        period = rng.uniform(5.0, 8.0)
        phase = rng.uniform(0, 1)
        swell = 0.25 + 0.75 * np.sin(np.pi * ((t / period + phase) % 1.0)) ** 4
        low = np.stack([_shaped_noise(rng, n, 60, 700) for _ in range(2)])
        hiss = np.stack([_shaped_noise(rng, n, 1500, 7000) for _ in range(2)])
        return (0.6 * low + 0.25 * hiss * swell) * swell
    if name == "field":
        gust = _smooth_random(rng, n, 0.6)
        wind = np.stack([_shaped_noise(rng, n, 250, 1400) for _ in range(2)])
        rustle = np.stack([_shaped_noise(rng, n, 2500, 9000) for _ in range(2)])
        return (0.5 * wind + 0.12 * rustle * gust) * gust
    if name == "city":
        hum = sum(
            np.sin(2 * np.pi * f * t) / k for k, f in enumerate((50, 100, 150), 1)
        )
        rumble = np.stack([_shaped_noise(rng, n, 40, 300) for _ in range(2)])
        traffic = _smooth_random(rng, n, 0.3)
        return 0.2 * hum.astype(np.float32) + 0.6 * rumble * traffic
    if name == "rain":
        rain = np.stack([_shaped_noise(rng, n, 1000, 10000) for _ in range(2)])
        drops = (rng.random((2, n)) < 40 / SAMPLE_RATE).astype(np.float32)
        kernel = np.exp(-np.arange(240) / 40.0).astype(np.float32)
        taps = np.stack([np.convolve(d, kernel)[:n] for d in drops])
        return 0.5 * rain + 0.8 * taps * rng.choice([-1, 1], (2, n))
    # day and sunset: a light breeze with a few birds (fewer at dusk)
    breeze = np.stack([_shaped_noise(rng, n, 200, 1200) for _ in range(2)])
    out = 0.35 * breeze * _smooth_random(rng, n, 0.4)
    birds = int(n / SAMPLE_RATE * (0.8 if name == "day" else 0.35)) + 1
    for _ in range(birds):
        start = rng.uniform(0, max(n / SAMPLE_RATE - 0.3, 0.01))
        out += _pan(_bird(rng, n, start), rng.uniform(-0.8, 0.8))
    return out


def _bird(rng: np.random.Generator, n: int, start: float) -> np.ndarray:
    out = np.zeros(n, np.float32)
    notes = int(rng.integers(2, 5))
    at = start
    for _ in range(notes):
        length = rng.uniform(0.05, 0.12)
        m = int(length * SAMPLE_RATE)
        i0 = int(at * SAMPLE_RATE)
        if i0 + m > n:
            break
        tt = np.arange(m) / SAMPLE_RATE
        f0 = rng.uniform(2500, 4500)
        hz = f0 + rng.uniform(-1500, 1500) * tt / length
        wave = np.sin(2 * np.pi * np.cumsum(hz) / SAMPLE_RATE)
        out[i0 : i0 + m] += 0.3 * wave * np.sin(np.pi * tt / length) ** 2
        at += length + rng.uniform(0.03, 0.1)
    return out


def thump(rng: np.random.Generator) -> np.ndarray:
    """A bounce's thump: a falling low tone with a soft click, peak at once."""
    n = int(0.3 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    hz = 55 + 110 * np.exp(-t / 0.03)
    body = np.sin(2 * np.pi * np.cumsum(hz) / SAMPLE_RATE) * np.exp(-t / 0.08)
    click = rng.standard_normal(n) * np.exp(-t / 0.004)
    return (body + 0.25 * click).astype(np.float32)


def swell(rng: np.random.Generator, n: int, rising: bool) -> np.ndarray:
    """A riser over ``n`` samples: air that climbs from dark to bright under a
    gliding tone, growing (or, falling, the reverse)."""
    t = np.linspace(0, 1, n, dtype=np.float32)
    ramp = t if rising else 1 - t
    bands = [
        _shaped_noise(rng, n, lo, hi)
        for lo, hi in ((150, 500), (500, 1500), (1500, 4000))
    ]
    weights = [np.clip(1 - abs(ramp * 2 - k), 0, 1) for k in range(3)]
    air = sum(w * x for w, x in zip(weights, bands, strict=True))
    hz = 180 * 2 ** (1.5 * ramp)  # a glide up an octave and a half
    glide = np.sin(2 * np.pi * np.cumsum(hz) / SAMPLE_RATE).astype(np.float32)
    env = ramp**1.6
    tail = min(n, int(0.08 * SAMPLE_RATE))
    env[n - tail :] *= np.linspace(1, 0, tail, dtype=np.float32)
    head = min(n, int(0.02 * SAMPLE_RATE))
    env[:head] *= np.linspace(0, 1, head, dtype=np.float32)
    return ((0.6 * air + 0.35 * glide) * env).astype(np.float32)


def whoosh(rng: np.random.Generator, n: int, peak: float) -> np.ndarray:
    """A soft air-rush over ``n`` samples, loudest at ``peak`` (0..1)."""
    t = np.linspace(0, 1, n, dtype=np.float32)
    rise = np.clip(t / max(peak, 1e-3), 0, 1)
    fall = np.clip((1 - t) / max(1 - peak, 1e-3), 0, 1)
    env = np.where(t < peak, rise, fall) ** 2
    return (_shaped_noise(rng, n, 300, 2500) * env).astype(np.float32)


def hits_for(
    frames: np.ndarray | None, fps: int, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """A shot's picture-timed effects (2, n) and the events placed (seconds
    from its start): thumps, swells and whooshes measured from ``frames``."""
    out = np.zeros((2, n), np.float32)
    events: list[tuple[float, str]] = []
    if frames is None or len(frames) < 2 or n == 0:
        return out, events
    reading = watch(frames)
    hit = thump(rng)
    for contact in reading.contacts:
        at = contact / fps
        i0 = int(round(at * SAMPLE_RATE))
        if i0 >= n:
            continue
        m = min(len(hit), n - i0)
        out[:, i0 : i0 + m] += _pan(hit[:m], 0.6 * reading.x)
        events.append((at, "bounce"))
    last = (len(frames) - 1) / fps
    moving = reading.motion
    if reading.camera in ("push-in", "pull-out"):
        m = min(n, int(round(last * SAMPLE_RATE)) + int(0.1 * SAMPLE_RATE))
        out[:, :m] += _pan(0.5 * swell(rng, m, reading.camera == "push-in"), 0.0)
        events.append((0.0, "swell"))
    elif reading.camera in ("pan-left", "pan-right"):
        weights = moving if moving.size and moving.sum() > 0 else np.ones(1)
        centre = float((np.arange(len(weights)) + 0.5) @ weights / weights.sum())
        m = min(n, int(round(last * SAMPLE_RATE)) + 1)
        peak = min(0.9, max(0.1, centre / max(len(frames) - 1, 1)))
        sweep = np.linspace(-0.7, 0.7, m, dtype=np.float32)
        if reading.camera == "pan-right":  # the world slides left past us
            sweep = -sweep
        out[:, :m] += _pan(0.5 * whoosh(rng, m, peak), sweep)
        events.append((peak * m / SAMPLE_RATE, "whoosh"))
    elif not reading.contacts and moving.size >= 3:
        for at in _surges(moving, fps):
            m = int(0.6 * SAMPLE_RATE)
            i0 = max(0, int(round(at * SAMPLE_RATE)) - m)
            part = swell(rng, m, True)[: n - i0]
            out[:, i0 : i0 + len(part)] += _pan(0.5 * part, 0.0)
            events.append((i0 / SAMPLE_RATE, "swell"))
    return out, events


def _surges(motion: np.ndarray, fps: int) -> list[float]:
    """Times (s) where the motion between frames peaks well above its usual."""
    base = float(np.median(motion))
    if motion.max() < 4.0 or motion.max() < 2.0 * max(base, 1e-6):
        return []
    peaks = []
    for i in range(len(motion)):
        left = motion[i - 1] if i > 0 else -1
        right = motion[i + 1] if i + 1 < len(motion) else -1
        if (
            motion[i] >= 2.0 * max(base, 1e-6)
            and motion[i] > left
            and motion[i] >= right
        ):
            peaks.append((i + 1) / fps)
    return peaks[:4]
