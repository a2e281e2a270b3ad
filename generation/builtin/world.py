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
OBJECTS = ("ball", "box", "triangle", "star")
OBJECT_WORDS: dict[str, list[str]] = {
    "ball": ["ball", "sphere", "circle", "orb", "disc", "round ball", "globe"],
    "box": ["box", "cube", "square", "block", "crate", "square block", "cuboid"],
    "triangle": ["triangle", "pyramid", "wedge", "triangular shape"],
    "star": ["star", "five-pointed star", "star shape"],
}
SCENES = ("night", "day", "sunset", "field", "sea")
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
        "at dusk",
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
    ],
    "pan-right": [
        "camera pans right:",
        "slow pan right:",
        "pan right across",
        "panning right:",
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
    ],
    "pan-right": [
        "the camera pans right",
        "camera panning to the right",
        "slow pan to the right",
        "pan right",
        "the camera sweeps right",
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
}
HELD_OUT_TEMPLATES = {5, 9}


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
    else:
        raise ValueError(f"unknown scene {scene!r}")
    return out


def _star_sdf(px: np.ndarray, py: np.ndarray, r: float) -> np.ndarray:
    ang = np.arctan2(py, px)
    rad = np.hypot(px, py)
    k = 0.5 + 0.5 * np.cos(5 * (ang + np.pi / 2))
    edge = r * (0.5 + 0.5 * k**2)
    return rad - edge


def _shape_sdf(shape: str, px: np.ndarray, py: np.ndarray, r: float) -> np.ndarray:
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
            d = _shape_sdf(obj.shape, wx - ox, wy - oy, r)
            fill = np.clip(0.5 - d / px_world, 0, 1)[..., None]
            rim = np.clip(0.5 - np.abs(d + px_world * 0.6) / px_world, 0, 1)[..., None]
            colour = np.array(COLOURS[obj.colour], np.float32)
            img = img * (1 - fill) + fill * colour
            img = img * (1 - 0.35 * rim)
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
        "colour": main.colour,
        "object": main.shape,
        "motion": main.motion,
        "scene": params.scene,
        "camera": params.camera,
    }
    if len(params.objects) > 1:
        other = params.objects[1]
        values["colour2"] = other.colour
        values["object2"] = other.shape
        values["side2"] = "left" if other.x < 0.5 else "right"
    return [
        ATTRIBUTES[k].index(values[k]) + 1 if k in values else 0 for k in ATTRIBUTES
    ]


# ---------------------------------------------------------------- sampling


def sample_params(
    rng: random.Random, *, held_out: bool = False, camera_prob: float = 0.5
) -> ClipParams:
    """Random clip parameters; ``held_out`` picks only held-out combinations."""
    for _ in range(1000):
        colour = rng.choice(list(COLOURS))
        shape = rng.choice(OBJECTS)
        motion = rng.choice(MOTIONS)
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
        0.5 + rng.uniform(-0.06, 0.06),
        size,
        motion,
        distance,
    )
    objects = [main]
    if rng.random() < 0.2 and motion not in ("grow", "shrink"):
        other_colour = rng.choice([c for c in COLOURS if c != colour])
        other_shape = rng.choice([s for s in OBJECTS if s != shape])
        ox = 0.22 if rng.random() < 0.5 else 0.78
        oy = rng.choice([0.25, 0.75])
        objects = [
            replace(main, size=size * 0.85),
            ObjectParams(other_shape, other_colour, ox, oy, size * 0.8, "still"),
        ]
    return ClipParams(
        scene=scene,
        objects=tuple(objects),
        camera=camera,
        seed=rng.randrange(1 << 16),
        speed=speed,
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
    obj = chooser["obj"](OBJECT_WORDS[main.shape])
    motion_words = MOTION_WORDS[main.motion]
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
