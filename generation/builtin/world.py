"""A procedural world of simple objects, scenes, motions and camera moves.

Every clip is drawn analytically from a :class:`ClipParams`: each pixel is
mapped through the camera into world coordinates, where the textured scene and
the anti-aliased objects are evaluated. The same parameters also produce a
caption in one of many phrasings, so the world is both the training set of the
built-in model and the ground truth its evaluation compares against.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field, replace

import numpy as np

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (225, 35, 35),
    "orange": (250, 135, 20),
    "yellow": (250, 225, 30),
    "green": (60, 215, 60),
    "blue": (40, 80, 235),
    "purple": (145, 50, 210),
    "pink": (250, 120, 195),
    "white": (250, 250, 250),
}
COLOUR_WORDS: dict[str, list[str]] = {
    "red": [
        "red",
        "crimson",
        "scarlet",
        "cherry-red",
        "ruby",
        "vermilion",
        "blood-red",
        "brick red",
        "garnet",
        "carmine",
        "cardinal red",
        "tomato-red",
        "fire-engine red",
        "candy-apple red",
        "poppy red",
    ],
    "orange": [
        "orange",
        "tangerine",
        "amber",
        "bright orange",
        "burnt orange",
        "apricot",
        "pumpkin-orange",
        "marigold",
        "persimmon",
        "copper",
        "ginger",
        "carrot-orange",
        "mandarin",
        "flame orange",
    ],
    "yellow": [
        "yellow",
        "golden",
        "lemon-yellow",
        "gold",
        "sunny yellow",
        "canary yellow",
        "mustard",
        "saffron",
        "butter yellow",
        "buttercup",
        "daffodil",
        "banana yellow",
        "honey",
        "lemon",
        "sunflower yellow",
        "citrine",
    ],
    "green": [
        "green",
        "emerald",
        "lime-green",
        "bright green",
        "jade",
        "forest green",
        "mint green",
        "kelly green",
        "shamrock",
        "grass-green",
        "leaf green",
        "neon green",
        "pea green",
        "moss green",
        "peridot",
        "malachite",
    ],
    "blue": [
        "blue",
        "cobalt",
        "royal blue",
        "azure",
        "sapphire",
        "navy",
        "cerulean",
        "ultramarine",
        "cornflower blue",
        "sky-blue",
        "baby blue",
        "electric blue",
        "denim",
        "lapis",
        "midnight blue",
        "steel blue",
    ],
    "purple": [
        "purple",
        "violet",
        "lavender",
        "plum",
        "deep purple",
        "lilac",
        "amethyst",
        "mauve",
        "grape",
        "aubergine",
        "eggplant",
        "royal purple",
        "heather",
        "wisteria",
        "iris purple",
    ],
    "pink": [
        "pink",
        "hot pink",
        "rose",
        "magenta",
        "fuchsia",
        "salmon pink",
        "bubblegum pink",
        "blush pink",
        "cerise",
        "flamingo pink",
        "raspberry pink",
        "carnation pink",
        "peony pink",
        "candy pink",
        "shocking pink",
    ],
    "white": [
        "white",
        "snow-white",
        "ivory",
        "pale white",
        "milky white",
        "cream",
        "pearl white",
        "chalk-white",
        "alabaster",
        "porcelain",
        "bone-white",
        "eggshell",
        "off-white",
        "linen white",
        "frost white",
        "marble white",
    ],
}
OBJECTS = ("ball", "box", "triangle", "star", "bird", "car")
# Subjects that are things rather than shapes: they face the way they move,
# and each has its own ways of moving (a bird glides, a car drives).
CREATURES = ("bird", "car")
OBJECT_WORDS: dict[str, list[str]] = {
    "ball": ["ball", "sphere", "circle", "orb", "disc", "round ball", "globe"],
    "box": ["box", "cube", "square", "block", "crate", "square block", "cuboid"],
    "triangle": ["triangle", "pyramid", "wedge", "triangular shape"],
    "star": ["star", "five-pointed star", "star shape"],
    "bird": [
        "bird",
        "hawk",
        "eagle",
        "gull",
        "seagull",
        "falcon",
        "swallow",
        "dove",
        "crow",
        "songbird",
        "bird of prey",
    ],
    "car": [
        "car",
        "sports car",
        "sedan",
        "taxi",
        "hatchback",
        "automobile",
        "convertible",
        "coupe",
        "little car",
        "vintage car",
    ],
}
SCENES = ("night", "day", "sunset", "field", "sea", "valley", "skyline")
SCENE_WORDS: dict[str, list[str]] = {
    "night": [
        "over a night sky",
        "against a starry night sky",
        "at night",
        "under the stars",
        "in a dark starry sky",
        "across the night sky",
    ],
    "day": [
        "in a blue daytime sky",
        "against a clear blue sky",
        "in the daytime sky",
        "among light clouds",
        "in a bright sky",
        "under a sunny blue sky",
    ],
    "sunset": [
        "at sunset",
        "against a sunset sky",
        "in the evening glow",
        "in a purple and orange sunset",
        "during golden hour",
    ],
    "field": [
        "over a grass field",
        "above a green meadow",
        "on a grassy field",
        "over the lawn",
        "in a field of grass",
        "above the grassland",
    ],
    "sea": [
        "over the sea",
        "above the ocean",
        "over the waves",
        "on the open sea",
        "above the water",
        "over a blue ocean",
    ],
    "valley": [
        "over a misty valley at sunrise",
        "sunrise over the mountains",
        "above a mountain valley",
        "over the peaks at dawn",
        "across a misty valley",
        "among the mountains at sunrise",
        "over the mountain range in the morning mist",
        "above the valley below the peaks",
        "in a misty valley",
    ],
    "skyline": [
        "over the city skyline at dusk",
        "above the city at dusk",
        "over the skyscrapers",
        "above the city lights",
        "across the downtown skyline",
        "over the rooftops at dusk",
        "in front of a city skyline",
        "above the tower blocks at twilight",
        "through the city at dusk",
    ],
}
# (dx, dy) in screen directions: +x right, +y down.
DIRECTIONS: dict[str, tuple[float, float]] = {
    "left": (-1.0, 0.0),
    "right": (1.0, 0.0),
    "up": (0.0, -1.0),
    "down": (0.0, 1.0),
    "up-left": (-0.7071, -0.7071),
    "up-right": (0.7071, -0.7071),
    "down-left": (-0.7071, 0.7071),
    "down-right": (0.7071, 0.7071),
}
MOTIONS = (
    "still",
    "left",
    "right",
    "up",
    "down",
    "grow",
    "shrink",
    "up-left",
    "up-right",
    "down-left",
    "down-right",
    "bounce",
)
MOTION_WORDS: dict[str, list[str]] = {
    "still": [
        "staying still",
        "motionless",
        "resting in place",
        "hovering in place",
        "not moving",
        "sitting still",
        "holding still",
        "stationary",
        "frozen in place",
        "perfectly still",
        "at rest",
        "unmoving",
    ],
    "left": [
        "moving left",
        "drifting to the left",
        "sliding leftward",
        "travelling from right to left",
        "heading left",
        "gliding left",
        "moving to the left",
        "floating left",
        "slowly moving left",
        "cruising left",
        "sailing to the left",
        "making its way left",
        "flying left",
        "driving to the left",
        "crossing from right to left",
    ],
    "right": [
        "moving right",
        "drifting to the right",
        "sliding rightward",
        "travelling from left to right",
        "heading right",
        "gliding right",
        "moving to the right",
        "floating right",
        "slowly moving right",
        "cruising right",
        "sailing to the right",
        "making its way right",
        "flying right",
        "driving to the right",
        "gliding across",
        "enters frame and glides across",
        "crossing the frame",
    ],
    "up": [
        "moving up",
        "rising",
        "floating upward",
        "drifting up",
        "climbing upward",
        "ascending",
        "going up",
        "lifting up",
        "soaring upward",
        "flying upward",
        "lifting off",
        "climbing",
    ],
    "down": [
        "moving down",
        "falling",
        "sinking",
        "drifting down",
        "dropping downward",
        "descending",
        "going down",
        "falling slowly",
        "plunging",
        "plummeting",
        "dropping",
        "coming down",
        "tumbling down",
    ],
    "grow": [
        "growing",
        "getting bigger",
        "expanding",
        "swelling in size",
        "growing larger",
        "inflating",
        "enlarging",
        "getting larger",
        "increasing in size",
        "ballooning",
        "blowing up in size",
        "scaling up",
    ],
    "shrink": [
        "shrinking",
        "getting smaller",
        "contracting",
        "shrinking away",
        "growing smaller",
        "deflating",
        "dwindling",
        "getting tinier",
        "decreasing in size",
        "reducing in size",
        "shrinking down",
        "scaling down",
    ],
    "up-left": [
        "moving up and to the left",
        "drifting diagonally up-left",
        "rising toward the upper left",
    ],
    "up-right": [
        "moving up and to the right",
        "drifting diagonally up-right",
        "rising toward the upper right",
    ],
    "down-left": [
        "moving down and to the left",
        "falling diagonally to the left",
        "sinking toward the lower left",
    ],
    "down-right": [
        "moving down and to the right",
        "falling diagonally to the right",
        "sinking toward the lower right",
    ],
    "bounce": [
        "bouncing",
        "bouncing up and down",
        "hopping in place",
        "bouncing in place",
        "jumping up and down",
    ],
}
CAMERAS = ("static", "pan-left", "pan-right", "push-in", "pull-out")
CAMERA_PREFIX: dict[str, list[str]] = {
    "static": [
        "static wide shot:",
        "locked-off shot:",
        "wide shot,",
        "static camera:",
        "tripod shot:",
    ],
    "pan-left": [
        "camera pans left:",
        "slow pan left:",
        "pan left across",
        "panning left:",
        "camera slowly pans left to reveal",
    ],
    "pan-right": [
        "camera pans right:",
        "slow pan right:",
        "pan right across",
        "panning right:",
        "camera slowly pans right to reveal",
    ],
    "push-in": [
        "slow push-in on",
        "push in on",
        "dolly in on",
        "zoom in on",
        "the camera pushes in on",
    ],
    "pull-out": [
        "slow pull-out from",
        "pull back from",
        "zoom out from",
        "dolly out from",
        "the camera pulls out from",
    ],
}
CAMERA_SUFFIX: dict[str, list[str]] = {
    "static": [
        "locked-off camera",
        "static camera",
        "the camera does not move",
        "fixed camera",
        "still camera",
        "no camera movement",
        "steady camera",
    ],
    "pan-left": [
        "the camera pans left",
        "camera panning to the left",
        "slow pan to the left",
        "pan left",
        "the camera sweeps left",
        "camera slowly pans left",
    ],
    "pan-right": [
        "the camera pans right",
        "camera panning to the right",
        "slow pan to the right",
        "pan right",
        "the camera sweeps right",
        "camera slowly pans right",
    ],
    "push-in": [
        "slow push-in",
        "the camera zooms in",
        "camera pushes in",
        "zoom in",
        "dolly in",
        "the camera moves closer",
        "slow zoom in",
    ],
    "pull-out": [
        "slow pull-out",
        "the camera zooms out",
        "camera pulls back",
        "zoom out",
        "dolly out",
        "the camera moves back",
        "slow zoom out",
    ],
}

# Phrasings and combinations kept out of training, used by evaluation.
HELD_OUT_WORDS = {
    "ruby",
    "sapphire",
    "plum",
    "fuchsia",
    "ivory",
    "orb",
    "crate",
    "wedge",
    "gliding left",
    "gliding right",
    "ascending",
    "descending",
    "scaling up",
    "scaling down",
    "tripod shot:",
    "dolly out from",
    "above the grassland",
    "during golden hour",
    "falcon",
    "sedan",
    "over the peaks at dawn",
    "above the tower blocks at twilight",
}
HELD_OUT_TEMPLATES = {5, 9}


def names_subject(text: str, subject: str) -> bool:
    """Whether ``text`` names ``subject`` in one of the world's words for it
    ("a hawk glides" names the bird; "a crate" names no car)."""
    words = "|".join(re.escape(w) for w in OBJECT_WORDS[subject])
    return re.search(rf"\b(?:{words})(?:e?s)?\b", text, re.IGNORECASE) is not None


def combo_is_held_out(colour: str, obj: str, motion: str, scene: str) -> bool:
    """One in ten colour/object/motion/scene combinations never appears in training."""
    key = f"{colour}|{obj}|{motion}|{scene}".encode()
    return hashlib.blake2s(key, digest_size=2).digest()[0] % 10 == 0


@dataclass(frozen=True)
class ObjectParams:
    shape: str
    colour: str
    x: float = 0.5  # centre at the middle of the clip, world units
    y: float = 0.5
    size: float = 0.16  # radius
    motion: str = "still"
    distance: float = 0.45


@dataclass(frozen=True)
class ClipParams:
    scene: str
    objects: tuple[ObjectParams, ...]
    camera: str = "static"
    seed: int = 0
    speed: str = "normal"
    extras: dict = field(default_factory=dict, compare=False)
    colour_stated: bool = True  # False: the caption leaves the colour out


# ---------------------------------------------------------------- rendering


def _hash2(ix: np.ndarray, iy: np.ndarray, seed: int) -> np.ndarray:
    h = (ix * 374761393 + iy * 668265263 + seed * 2147483647) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * 1274126177) & 0xFFFFFFFF
    return (h & 0xFFFF) / 65535.0


def _scene(scene: str, x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """Scene colour at world coordinates (H, W) → (H, W, 3) float in 0..255."""
    out = np.empty(x.shape + (3,), np.float32)
    if scene == "night":
        g = np.clip(y, 0, 1)[..., None]
        out[:] = (1 - g) * np.array([8, 10, 35]) + g * np.array([25, 30, 70])
        haze = 0.5 + 0.5 * np.sin(x * 7.0 + seed) * np.sin(
            y * 5.0 + 0.7 * np.sin(x * 3.0)
        )
        out += haze[..., None] * np.array([25, 20, 45])
        cell = 0.08
        ix, iy = (
            np.floor(x / cell).astype(np.int64),
            np.floor(y / cell).astype(np.int64),
        )
        r = _hash2(ix, iy, seed)
        sx = (ix + 0.25 + 0.5 * _hash2(ix, iy, seed + 1)) * cell
        sy = (iy + 0.25 + 0.5 * _hash2(ix, iy, seed + 2)) * cell
        d = np.hypot(x - sx, y - sy)
        star = (r > 0.35) * np.clip(1.0 - d / 0.03, 0, 1)
        out += star[..., None] * np.array([150, 150, 130])
    elif scene == "day":
        g = np.clip(y, 0, 1)[..., None]
        out[:] = (1 - g) * np.array([90, 150, 215]) + g * np.array([150, 195, 235])
        c = np.sin(x * 9.0 + seed) * np.sin(
            y * 7.0 + 0.5 * np.sin(x * 4.0 + seed)
        ) + 0.5 * np.sin(x * 17.0 + y * 5.0 + seed * 0.3)
        cloud = np.clip((c - 0.45) * 1.6, 0, 1)[..., None]
        out = out * (1 - cloud * 0.55) + cloud * 0.55 * np.array([215, 225, 240])
    elif scene == "sunset":
        g = np.clip(y, 0, 1)[..., None]
        out[:] = (1 - g) * np.array([55, 25, 85]) + g * np.array([185, 75, 60])
        band = 0.5 + 0.5 * np.sin(y * 26.0 + np.sin(x * 8.0 + seed) * 2.0)
        out *= (0.8 + 0.2 * band)[..., None]
        sun_x = 0.3 + 0.4 * ((seed % 7) / 6.0)
        d = np.hypot(x - sun_x, y - 0.72)
        sun = np.clip((0.13 - d) / 0.02, 0, 1)[..., None]
        out = out * (1 - sun) + sun * np.array([240, 200, 150])
    elif scene == "field":
        horizon = 0.3
        sky = np.array([140, 180, 215])
        blades = 0.5 + 0.5 * np.sin(x * 31.0 + np.sin(y * 9.0 + seed) * 2.0)
        rows = 0.5 + 0.5 * np.sin(y * 21.0 + np.sin(x * 5.0 + seed) * 2.0)
        grass = (
            np.array([30, 85, 30])
            + blades[..., None] * np.array([20, 35, 12])
            + rows[..., None] * np.array([10, 20, 5])
        )
        m = np.clip((y - horizon) / 0.02, 0, 1)[..., None]
        out[:] = (1 - m) * sky + m * grass
    elif scene == "sea":
        horizon = 0.25
        sky = np.array([150, 185, 210])
        wave = 0.5 + 0.5 * np.sin(y * 30.0 + np.sin(x * 9.0 + seed) * 2.5 + x * 4.0)
        water = np.array([15, 50, 95]) + wave[..., None] * np.array([25, 40, 50])
        m = np.clip((y - horizon) / 0.02, 0, 1)[..., None]
        out[:] = (1 - m) * sky + m * water
    elif scene == "valley":
        _valley(out, x, y, seed)
    elif scene == "skyline":
        _skyline(out, x, y, seed)
    else:
        raise ValueError(f"unknown scene {scene!r}")
    return out


def _valley(out: np.ndarray, x: np.ndarray, y: np.ndarray, seed: int) -> None:
    """A mountain valley at sunrise: a warm sky, a low sun, two ridges of
    peaks, a band of mist and the green valley floor below."""
    g = np.clip(y / 0.5, 0, 1)[..., None]
    out[:] = (1 - g) * np.array([95, 115, 175]) + g * np.array([240, 175, 130])
    sun_x = 0.3 + 0.4 * ((seed % 5) / 4.0)
    d = np.hypot(x - sun_x, y - 0.4)
    sun = np.clip((0.09 - d) / 0.015, 0, 1)[..., None]
    out[:] = out * (1 - sun) + sun * np.array([250, 220, 165])
    phase = seed * 0.37
    far = 0.42 + 0.06 * np.sin(x * 9.0 + phase) + 0.035 * np.sin(x * 23.0 + 2 * phase)
    m = np.clip((y - far) / 0.008, 0, 1)[..., None]
    out[:] = out * (1 - m) + m * np.array([120, 110, 160])
    near = (
        0.52
        + 0.09 * np.abs(np.sin(x * 4.5 + phase * 1.7))
        - 0.05 * np.abs(np.sin(x * 11.0 + phase))
    )
    shade = 0.85 + 0.15 * np.sin(x * 40.0 + y * 25.0)
    m = np.clip((y - near) / 0.008, 0, 1)[..., None]
    rock = np.array([62, 72, 98]) * shade[..., None]
    out[:] = out * (1 - m) + m * rock
    floor = np.clip((y - 0.78) / 0.01, 0, 1)[..., None]
    ripple = 0.5 + 0.5 * np.sin(x * 27.0 + np.sin(y * 13.0 + phase) * 2.0)
    grass = np.array([45, 92, 58]) + ripple[..., None] * np.array([15, 20, 10])
    out[:] = out * (1 - floor) + floor * grass
    swirl = 0.5 + 0.5 * np.sin(x * 6.0 + phase + 3.0 * np.sin(y * 9.0))
    mist = np.clip(1.0 - np.abs(y - 0.74) / 0.09, 0, 1) * (0.3 + 0.35 * swirl)
    out[:] = out * (1 - mist[..., None]) + mist[..., None] * np.array([205, 198, 215])


def _skyline(out: np.ndarray, x: np.ndarray, y: np.ndarray, seed: int) -> None:
    """A city skyline at dusk: a deep blue sky paling to the horizon, dark
    towers of many heights, their windows lit here and there."""
    g = np.clip(y / 0.75, 0, 1)[..., None]
    out[:] = (1 - g) * np.array([18, 32, 72]) + g * np.array([85, 110, 160])
    width = 0.07
    ix = np.floor(x / width).astype(np.int64)
    top = 0.42 + 0.3 * _hash2(ix, np.zeros_like(ix), seed)
    inset = np.abs((x / width - ix) - 0.5)  # gaps between the towers
    tower = (y > top) & (inset < 0.46)
    wx = np.floor(x / 0.0175).astype(np.int64)
    wy = np.floor(y / 0.03).astype(np.int64)
    lit = (_hash2(wx, wy, seed + 5) > 0.55) & (y > top + 0.03)
    cell_x = x / 0.0175 - wx
    cell_y = y / 0.03 - wy
    pane = lit & (np.abs(cell_x - 0.5) < 0.3) & (np.abs(cell_y - 0.5) < 0.3)
    body = np.array([28, 30, 45]) + (0.5 + 0.5 * np.sin(ix * 1.7))[..., None] * 10
    out[:] = np.where(tower[..., None], body, out)
    out[:] = np.where(pane[..., None], np.array([215, 170, 95]), out)
    ground = np.clip((y - 0.93) / 0.01, 0, 1)[..., None]
    out[:] = out * (1 - ground) + ground * np.array([35, 35, 48])


def _star_sdf(px: np.ndarray, py: np.ndarray, r: float) -> np.ndarray:
    ang = np.arctan2(py, px)
    rad = np.hypot(px, py)
    k = 0.5 + 0.5 * np.cos(5 * (ang + np.pi / 2))
    edge = r * (0.5 + 0.5 * k**2)
    return rad - edge


def _capsule(
    px: np.ndarray, py: np.ndarray, a: tuple[float, float], b: tuple[float, float]
) -> np.ndarray:
    """Distance from each point to the segment a–b."""
    bx, by = b[0] - a[0], b[1] - a[1]
    qx, qy = px - a[0], py - a[1]
    h = np.clip((qx * bx + qy * by) / (bx * bx + by * by), 0, 1)
    return np.hypot(qx - h * bx, qy - h * by)


def wing_beat(tau: float) -> float:
    """A gliding bird's wing position at clip time tau in [-1, 1]: held
    still most of the time, with a few quick beats now and then."""
    window = (tau * 2.0) % 1.0
    if 0.55 <= window < 0.85:
        return float(np.sin((window - 0.55) / 0.3 * 3 * np.pi))
    return 0.0


def _bird_sdf(px: np.ndarray, py: np.ndarray, r: float, tau: float) -> np.ndarray:
    """A bird seen from the side, facing +x, wings spread in a shallow V."""
    beat = wing_beat(tau)
    py, r = py + 0.1 * r, r * 1.35
    body = _capsule(px, py, (-0.6 * r, 0.05 * r), (0.45 * r, -0.02 * r)) - 0.2 * r
    head = np.hypot(px - 0.58 * r, py + 0.1 * r) - 0.17 * r
    tail = _capsule(px, py, (-0.6 * r, 0.05 * r), (-0.95 * r, 0.0)) - 0.1 * r
    tip_y = -0.45 * r - 0.55 * r * beat
    near_wing = _capsule(px, py, (0.0, -0.05 * r), (-0.3 * r, tip_y)) - 0.17 * r
    far_wing = _capsule(px, py, (0.1 * r, -0.05 * r), (0.5 * r, tip_y * 0.8)) - 0.14 * r
    beak = _capsule(px, py, (0.7 * r, -0.08 * r), (0.88 * r, -0.04 * r)) - 0.04 * r
    return np.minimum.reduce([body, head, tail, near_wing, far_wing, beak])


def _box_sdf(
    px: np.ndarray, py: np.ndarray, cx: float, cy: float, hx: float, hy: float, rr
) -> np.ndarray:
    qx = np.abs(px - cx) - (hx - rr)
    qy = np.abs(py - cy) - (hy - rr)
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    return outside + np.minimum(np.maximum(qx, qy), 0) - rr


CAR_WHEELS = ((-0.68, 0.38), (0.68, 0.38))  # wheel centres in units of r
CAR_WHEEL_RADIUS = 0.27
CAR_SCALE = 1.2  # a car is longer than the shapes' radius suggests


def _car_sdf(px: np.ndarray, py: np.ndarray, r: float) -> np.ndarray:
    """A car seen from the side, facing +x: a low body and a cabin (the
    wheels are drawn over it, dark)."""
    r = r * CAR_SCALE
    body = _box_sdf(px, py, 0.0, 0.12 * r, 1.2 * r, 0.28 * r, 0.12 * r)
    cabin = _box_sdf(px, py, -0.12 * r, -0.27 * r, 0.62 * r, 0.24 * r, 0.14 * r)
    return np.minimum(body, cabin)


def _shape_sdf(
    shape: str,
    px: np.ndarray,
    py: np.ndarray,
    r: float,
    tau: float = 0.0,
    facing: float = 1.0,
) -> np.ndarray:
    if shape == "bird":
        return _bird_sdf(px * facing, py, r, tau)
    if shape == "car":
        return _car_sdf(px * facing, py, r)
    if shape == "ball":
        return np.hypot(px, py) - r
    if shape == "box":
        s = r * 0.88
        return np.maximum(np.abs(px), np.abs(py)) - s
    if shape == "triangle":
        # Upward triangle with its centroid at the origin.
        k = np.sqrt(3.0)
        qx, qy = np.abs(px), -(py - r * 0.25)
        a = r * 1.15
        d1 = (k * qx + qy - a) / 2.0
        d2 = -qy - a * 0.5
        return np.maximum(d1, d2)
    if shape == "star":
        return _star_sdf(px, py, r * 1.25)
    raise ValueError(f"unknown object {shape!r}")


def object_track(obj: ObjectParams, tau: float) -> tuple[float, float, float]:
    """Centre x, y and radius of an object at clip time tau in [0, 1]."""
    x, y, size = obj.x, obj.y, obj.size
    if obj.motion in DIRECTIONS:
        dx, dy = DIRECTIONS[obj.motion]
        s = (tau - 0.5) * obj.distance
        x, y = x + dx * s, y + dy * s
    elif obj.motion == "grow":
        size = size * (0.55 + 0.9 * tau)
    elif obj.motion == "shrink":
        size = size * (1.45 - 0.9 * tau)
    elif obj.motion == "bounce":
        y = y + 0.12 - 0.3 * abs(np.sin(np.pi * 2 * tau))
    return x, y, size


def facing_of(obj: ObjectParams) -> float:
    """+1 when a subject faces right, -1 when it faces left (its motion's way)."""
    return -1.0 if DIRECTIONS.get(obj.motion, (0.0, 0.0))[0] < 0 else 1.0


def _wheels(img, px, py, r, facing, px_world, tau, obj) -> np.ndarray:
    """A car's two dark wheels with a light hub that turns as it drives."""
    r = r * CAR_SCALE
    turn = tau * obj.distance / max(CAR_WHEEL_RADIUS * r, 1e-6) * facing
    for wx, wy in CAR_WHEELS:
        qx, qy = px * facing - wx * r, py - wy * r
        d = np.hypot(qx, qy) - CAR_WHEEL_RADIUS * r
        tyre = np.clip(0.5 - d / px_world, 0, 1)[..., None]
        img = img * (1 - tyre) + tyre * np.array([30, 30, 34], np.float32)
        hub_x = 0.12 * r * np.cos(turn)
        hub_y = 0.12 * r * np.sin(turn)
        spoke = _capsule(qx, qy, (hub_x, hub_y), (-hub_x, -hub_y)) - 0.04 * r
        hub = np.minimum(np.hypot(qx, qy) - 0.09 * r, spoke)
        cap = np.clip(0.5 - hub / px_world, 0, 1)[..., None]
        img = img * (1 - cap) + cap * np.array([165, 165, 172], np.float32)
    return img


def camera_track(
    camera: str, tau: float, distance: float = 0.3
) -> tuple[float, float, float]:
    """Camera centre x, y and zoom at clip time tau."""
    if camera == "pan-left":
        return 0.5 - (tau - 0.5) * distance, 0.5, 1.0
    if camera == "pan-right":
        return 0.5 + (tau - 0.5) * distance, 0.5, 1.0
    if camera == "push-in":
        return 0.5, 0.5, 1.0 * (1.6**tau)
    if camera == "pull-out":
        return 0.5, 0.5, 1.6 ** (1 - tau)
    return 0.5, 0.5, 1.0


def render(
    params: ClipParams, num_frames: int = 16, size: int = 32, width: int | None = None
) -> np.ndarray:
    """Render a clip as uint8 (T, H, W, 3)."""
    height, width = size, width or size
    aspect = width / height
    v, u = np.meshgrid(
        (np.arange(height) + 0.5) / height,
        (np.arange(width) + 0.5) / width,
        indexing="ij",
    )
    u = 0.5 + (u - 0.5) * aspect
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    for i in range(num_frames):
        tau = i / max(num_frames - 1, 1)
        cx, cy, zoom = camera_track(params.camera, tau)
        wx = cx + (u - 0.5) / zoom
        wy = cy + (v - 0.5) / zoom
        img = _scene(params.scene, wx, wy, params.seed)
        px_world = 1.0 / (height * zoom)
        for obj in params.objects:
            ox, oy, r = object_track(obj, tau)
            facing = facing_of(obj)
            d = _shape_sdf(obj.shape, wx - ox, wy - oy, r, tau, facing)
            fill = np.clip(0.5 - d / px_world, 0, 1)[..., None]
            rim = np.clip(0.5 - np.abs(d + px_world * 0.6) / px_world, 0, 1)[..., None]
            colour = np.array(COLOURS[obj.colour], np.float32)
            img = img * (1 - fill) + fill * colour
            img = img * (1 - 0.35 * rim)
            if obj.shape == "car":
                img = _wheels(img, wx - ox, wy - oy, r, facing, px_world, tau, obj)
        frames[i] = np.clip(img, 0, 255).astype(np.uint8)
    return frames


# ------------------------------------------------------------ attributes

# What a caption states, group by group; label 0 in every group is "not stated".
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "colour": tuple(COLOURS),
    "object": OBJECTS,
    "motion": MOTIONS,
    "scene": SCENES,
    "camera": CAMERAS,
    "colour2": tuple(COLOURS),
    "object2": OBJECTS,
    "side2": ("left", "right"),
}
ATTRIBUTE_GROUPS = tuple(len(v) + 1 for v in ATTRIBUTES.values())


def attribute_labels(params: ClipParams | None) -> list[int]:
    """The caption's attributes as class indices (``None``: the empty prompt)."""
    if params is None:
        return [0] * len(ATTRIBUTES)
    main = params.objects[0]
    values = {
        "object": main.shape,
        "motion": main.motion,
        "scene": params.scene,
        "camera": params.camera,
    }
    if params.colour_stated:
        values["colour"] = main.colour
    if len(params.objects) > 1:
        other = params.objects[1]
        values["colour2"] = other.colour
        values["object2"] = other.shape
        values["side2"] = "left" if other.x < 0.5 else "right"
    return [
        ATTRIBUTES[k].index(values[k]) + 1 if k in values else 0 for k in ATTRIBUTES
    ]


# ---------------------------------------------------------------- sampling


# How each subject may move: a car drives along the ground, a bird glides.
SUBJECT_MOTIONS: dict[str, tuple[str, ...]] = {
    "car": ("left", "right", "left", "right", "still", "grow", "shrink"),
    "bird": (
        "left",
        "right",
        "left",
        "right",
        "up-left",
        "up-right",
        "down-left",
        "down-right",
        "up",
        "down",
        "still",
    ),
}
# Where a subject starts, top to bottom: a car on the ground, a bird aloft.
SUBJECT_HEIGHT = {"car": 0.64, "bird": 0.42}
# How often a caption leaves the subject's colour out ("a hawk glides
# across"); the model then draws it in any of the world's colours.
UNSTATED_COLOUR = {"": 0.08, "bird": 0.35, "car": 0.25}


def sample_params(
    rng: random.Random, *, held_out: bool = False, camera_prob: float = 0.5
) -> ClipParams:
    """Random clip parameters; ``held_out`` picks only held-out combinations."""
    for _ in range(1000):
        colour = rng.choice(list(COLOURS))
        shape = rng.choice(OBJECTS)
        motion = rng.choice(SUBJECT_MOTIONS.get(shape, MOTIONS))
        scene = rng.choice(SCENES)
        if combo_is_held_out(colour, shape, motion, scene) == held_out:
            break
    camera = rng.choice(CAMERAS[1:]) if rng.random() < camera_prob else "static"
    speed = rng.choice(["normal", "normal", "slow", "fast"])
    distance = {"slow": 0.32, "normal": 0.45, "fast": 0.58}[speed]
    if motion in ("up-left", "up-right", "down-left", "down-right"):
        distance *= 0.85
    drift = DIRECTIONS.get(motion, (0.0, 0.0))[0]
    if camera in ("pan-left", "pan-right"):
        # A pan moves the scene the other way on screen; keep the object in frame.
        content = 1.0 if camera == "pan-left" else -1.0
        if drift * content > 0:
            distance = min(distance, 0.4)
    if camera == "push-in":
        distance = min(distance, 0.3)  # a push-in magnifies the motion on screen
    size = rng.uniform(0.13, 0.19)
    main = ObjectParams(
        shape,
        colour,
        0.5 + rng.uniform(-0.06, 0.06),
        SUBJECT_HEIGHT.get(shape, 0.5) + rng.uniform(-0.06, 0.06),
        size,
        motion,
        distance,
    )
    objects = [main]
    if (
        rng.random() < 0.2
        and motion not in ("grow", "shrink")
        and shape not in CREATURES
    ):
        other_colour = rng.choice([c for c in COLOURS if c != colour])
        shapes = [s for s in OBJECTS if s not in CREATURES and s != shape]
        other_shape = rng.choice(shapes)
        ox = 0.22 if rng.random() < 0.5 else 0.78
        oy = rng.choice([0.25, 0.75])
        objects = [
            replace(main, size=size * 0.85),
            ObjectParams(other_shape, other_colour, ox, oy, size * 0.8, "still"),
        ]
    unstated = UNSTATED_COLOUR.get(shape, UNSTATED_COLOUR[""])
    return ClipParams(
        scene=scene,
        objects=tuple(objects),
        camera=camera,
        seed=rng.randrange(1 << 16),
        speed=speed,
        colour_stated=len(objects) > 1 or rng.random() >= unstated,
    )


_TEMPLATES = (
    "{cam_pre} a {colour} {obj} {motion} {scene}",
    "a {colour} {obj} {motion} {scene}, {cam_suf}",
    "{cam_pre} {colour} {obj} {motion} {scene}",
    "{colour} {obj}, {motion}, {scene}, {cam_suf}",
    "a {colour} {obj} {motion} {scene}",
    "{cam_suf}: a {colour} {obj} {scene}, {motion}",
    "{scene_cap}, a {colour} {obj} is {motion}, {cam_suf}",
    "{cam_pre} the {colour} {obj} {scene} as it keeps {motion}",
    "video of a {colour} {obj} {motion} {scene}, {cam_suf}",
    "cinematic shot of a {colour} {obj} {motion} {scene}; {cam_suf}",
    "{colour} {obj} {motion}",
    "{scene_cap}, {cam_suf}, a {colour} {obj} {motion}",
)


def caption(params: ClipParams, rng: random.Random, *, held_out: bool = False) -> str:
    """A caption for the clip in a randomly chosen phrasing.

    With ``held_out`` the phrasing uses at least one held-out word or template;
    otherwise held-out words and templates are never used.
    """

    def pick(options: list[str]) -> str:
        pool = [o for o in options if (o in HELD_OUT_WORDS) == held_out]
        if not pool:
            pool = (
                options if held_out else [o for o in options if o not in HELD_OUT_WORDS]
            )
        return rng.choice(pool or options)

    def pick_free(options: list[str]) -> str:
        if held_out:
            return rng.choice(options)
        return rng.choice([o for o in options if o not in HELD_OUT_WORDS] or options)

    main = params.objects[0]
    held_slot = rng.choice(["colour", "obj", "motion", "scene", "cam", "template"])
    chooser = {
        k: (pick if held_out and k == held_slot else pick_free)
        for k in ("colour", "obj", "motion", "scene", "cam")
    }
    if held_out and held_slot == "template":
        template = _TEMPLATES[rng.choice(sorted(HELD_OUT_TEMPLATES))]
    else:
        allowed = [i for i in range(len(_TEMPLATES)) if i not in HELD_OUT_TEMPLATES]
        template = _TEMPLATES[rng.choice(allowed)]
    if params.camera != "static" and "{cam_" not in template:
        template = template + ", {cam_suf}"
    if params.camera == "static" and rng.random() < 0.4 and "{cam_pre}" not in template:
        template = template.replace(", {cam_suf}", "").replace("; {cam_suf}", "")
    colour = chooser["colour"](COLOUR_WORDS[main.colour])
    if not params.colour_stated:
        colour = ""
    obj = chooser["obj"](OBJECT_WORDS[main.shape])
    motion_words = [
        w
        for w in MOTION_WORDS[main.motion]
        if "driving" not in w or main.shape == "car"
    ]
    motion = chooser["motion"](motion_words)
    if params.speed == "slow" and main.motion in DIRECTIONS and rng.random() < 0.5:
        motion = "slowly " + motion.replace("slowly ", "")
    elif params.speed == "fast" and main.motion in DIRECTIONS and rng.random() < 0.5:
        motion = "quickly " + motion.replace("slowly ", "")
    scene = chooser["scene"](SCENE_WORDS[params.scene])
    text = template.format(
        cam_pre=chooser["cam"](CAMERA_PREFIX[params.camera]),
        cam_suf=chooser["cam"](CAMERA_SUFFIX[params.camera]),
        colour=colour,
        obj=obj,
        motion=motion,
        scene=scene,
        scene_cap=scene[0].upper() + scene[1:],
    )
    if len(params.objects) > 1:
        other = params.objects[1]
        side = "on the left" if other.x < 0.5 else "on the right"
        extra = (
            f" and a {pick_free(COLOUR_WORDS[other.colour])} "
            f"{pick_free(OBJECT_WORDS[other.shape])} {side}"
        )
        text = text.replace(f"{colour} {obj}", f"{colour} {obj}{extra}", 1)
    text = " ".join(text.split()).replace(" ,", ",")
    text = re.sub(r"\b([Aa]) (?=[aeiou])", r"\1n ", text)
    return text[0].upper() + text[1:] if rng.random() < 0.5 else text


def batch(
    rng: random.Random,
    size: int,
    num_frames: int,
    res: int = 32,
    *,
    held_out: bool = False,
    camera_prob: float = 0.5,
) -> tuple[np.ndarray, list[str], list[ClipParams]]:
    """Render ``size`` clips (B, T, H, W, 3) uint8 with captions and parameters."""
    clips, caps, params = [], [], []
    for _ in range(size):
        p = sample_params(rng, held_out=held_out, camera_prob=camera_prob)
        clips.append(render(p, num_frames, res))
        caps.append(caption(p, rng, held_out=held_out))
        params.append(p)
    return np.stack(clips), caps, params
