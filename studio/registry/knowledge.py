"""What the built-in model knows, shown term by term with a looping example.

Each term of the world (a colour, a subject, a motion, a scene, a camera
move) gets an example prompt in the world's own words. Its example clip is
made by the model itself (at 128 px through its detail decoder when the
weights carry one, else at its 32 px), and kept as a small animated WebP
under ``MEDIA_ROOT/knowledge/<weights' hash>-<sampler's hash>/``, so new
weights, or a change to how the pipeline samples and decodes, get new
examples. One example (12 frames, 16 steps with guidance) took 1–4 s on a
quiet 2-core CPU and about 35 s on a busy one, so all 34 take minutes: far
too long for a page request or for the web process beside the generation
worker. ``manage.py knowledge_examples`` makes them once (it resumes where
it stopped); until it has, the page shows the world's own renders of the
same terms (milliseconds each), labelled as such.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image

from generation.builtin import pipeline as builtin_pipeline
from generation.builtin import world
from generation.builtin.pipeline import WEIGHTS_DIR
from generation.builtin.reading import SUGGESTION, term_label, unknown_words

FOLDER = "knowledge"
EXAMPLE_FRAMES = 12
EXAMPLE_SIDE = 32  # the denoiser's own size
DECODED_SIDE = 128  # through the detail decoder, when there is one
SHOWN_SIDE = 96  # the WebP is stored at this size, scaled smoothly
WORLD = f"world-{SHOWN_SIDE}"  # the subfolder of the world's renders, by size
EXAMPLE_FPS = 8
SLUG = re.compile(r"^[a-z]+-[a-z0-9-]+$")

# The default subject every example shares, but for the term it shows.
BASE = {"colour": "red", "object": "ball", "motion": "right", "scene": "field"}
KINDS = (
    ("Colours", "colour", tuple(world.COLOURS)),
    ("Subjects", "object", world.OBJECTS),
    ("Motions", "motion", world.MOTIONS),
    ("Scenes", "scene", world.SCENES),
    ("Camera moves", "camera", world.CAMERAS),
)
PROMPTS_TO_TRY = (
    SUGGESTION,
    "sunrise over mountains, camera slowly pans right to reveal a misty valley "
    "below, a hawk enters frame and glides across the scene",
    "an orange car driving to the right over the city skyline at dusk",
    "a yellow star moving up at sunset, the camera pans left",
    "a blue box growing over the sea, static camera",
    "a pink triangle falling diagonally to the right in a dark starry sky",
    "a white ball moving to the left against a clear blue sky, slow pull-out",
)


@dataclass(frozen=True)
class Term:
    """One thing the world knows, with the example that shows it."""

    attribute: str
    value: str
    label: str
    words: tuple[str, ...]
    prompt: str

    @property
    def slug(self) -> str:
        return f"{self.attribute}-{self.value}"

    def params(self) -> world.ClipParams:
        chosen = {**BASE, self.attribute: self.value}
        obj = world.ObjectParams(
            chosen["object"],
            chosen["colour"],
            y=world.SUBJECT_HEIGHT.get(chosen["object"], 0.5),
            motion=chosen["motion"],
        )
        camera = self.value if self.attribute == "camera" else "static"
        return world.ClipParams(scene=chosen["scene"], objects=(obj,), camera=camera)


def _words(attribute: str, value: str) -> tuple[str, ...]:
    table = {
        "colour": world.COLOUR_WORDS,
        "object": world.OBJECT_WORDS,
        "motion": world.MOTION_WORDS,
        "scene": world.SCENE_WORDS,
        "camera": world.CAMERA_SUFFIX,
    }[attribute]
    return tuple(table[value][:4])


def example_prompt(attribute: str, value: str) -> str:
    """A prompt in the world's words that shows ``value`` of ``attribute``."""
    chosen = {**BASE, attribute: value}
    colour = world.COLOUR_WORDS[chosen["colour"]][0]
    text = (
        f"{'an' if colour[0] in 'aeiou' else 'a'} {colour} "
        f"{world.OBJECT_WORDS[chosen['object']][0]} "
        f"{world.MOTION_WORDS[chosen['motion']][0]} "
        f"{world.SCENE_WORDS[chosen['scene']][0]}"
    )
    if attribute == "camera":
        text += f", {world.CAMERA_SUFFIX[value][0]}"
    return text


@cache
def terms() -> tuple[tuple[str, tuple[Term, ...]], ...]:
    """Every term of the world, kind by kind."""
    return tuple(
        (
            title,
            tuple(
                Term(
                    attribute=attribute,
                    value=value,
                    label=term_label(attribute, value),
                    words=_words(attribute, value),
                    prompt=example_prompt(attribute, value),
                )
                for value in values
            ),
        )
        for title, attribute, values in KINDS
    )


def all_terms() -> list[Term]:
    return [term for _, group in terms() for term in group]


_hash_cache: dict[tuple, str] = {}


def weights_hash(weights_dir: Path = WEIGHTS_DIR) -> str:
    """A short hash of the shipped weights' files, read again only when a
    file's size or time changes."""
    files = sorted(p for p in weights_dir.rglob("*") if p.is_file())
    key = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    if key not in _hash_cache:
        digest = hashlib.blake2b(digest_size=8)
        for path in files:
            digest.update(path.relative_to(weights_dir).as_posix().encode())
            with path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
        _hash_cache.clear()
        _hash_cache[key] = digest.hexdigest()
    return _hash_cache[key]


# The code that turns weights into the example clips: the sampler, the
# denoiser's forward pass and the detail decoder.
SAMPLER_FILES = tuple(
    Path(builtin_pipeline.__file__).with_name(name)
    for name in ("pipeline.py", "model.py", "decoder.py")
)


def sampler_hash(files: tuple[Path, ...] = SAMPLER_FILES) -> str:
    """A short hash of the sampling code's source."""
    digest = hashlib.blake2b(digest_size=4)
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


@cache
def running_sampler_hash() -> str:
    """The sampling code's hash, read once: the running process keeps the
    code it imported."""
    return sampler_hash()


def examples_key() -> str:
    """Which examples are the model's own today: the weights' hash and the
    sampler's (the examples of the same weights sampled another way, such
    as before the guidance stop, are not)."""
    return f"{weights_hash()}-{running_sampler_hash()}"


def folder(kind: str) -> Path:
    """Where examples live: the model's (by ``examples_key``) or the world's."""
    return Path(settings.MEDIA_ROOT) / FOLDER / kind


def model_folder() -> Path:
    return folder(examples_key())


def webp(frames: np.ndarray, *, fps: int = EXAMPLE_FPS) -> bytes:
    """uint8 frames (T, H, W, 3) as a small looping animated WebP."""
    images = [
        Image.fromarray(frame).resize(
            (SHOWN_SIDE, SHOWN_SIDE), Image.Resampling.BICUBIC
        )
        for frame in frames
    ]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="WEBP",
        save_all=True,
        append_images=images[1:],
        duration=round(1000 / fps),
        loop=0,
        quality=80,
        method=0,
    )
    return buffer.getvalue()


def world_example(term: Term) -> Path:
    """The world's own render of ``term``, made on first use (milliseconds)."""
    path = folder(WORLD) / f"{term.slug}.webp"
    if not path.is_file():
        frames = world.render(term.params(), EXAMPLE_FRAMES, SHOWN_SIDE)
        _write(path, webp(frames))
    return path


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(path)


def examples() -> list[dict[str, object]]:
    """The page's groups: each term with its example's file name and whether
    the model made it (False: the world's render stands in)."""
    made = model_folder()
    groups = []
    for title, group in terms():
        items = []
        for term in group:
            by_model = (made / f"{term.slug}.webp").is_file()
            if not by_model:
                world_example(term)
            items.append({"term": term, "by_model": by_model})
        groups.append({"title": title, "items": items})
    return groups


def example_file(slug: str) -> Path | None:
    """The example to serve for ``slug``: the model's, else the world's."""
    if not SLUG.match(slug) or slug not in {t.slug for t in all_terms()}:
        return None
    made = model_folder() / f"{slug}.webp"
    if made.is_file():
        return made
    term = next(t for t in all_terms() if t.slug == slug)
    return world_example(term)


def make_model_examples(
    *, force: bool = False, only: set[str] | None = None, progress=None
) -> tuple[int, Path]:
    """Render every missing example (or those of the ``only`` slugs) with
    the built-in pipeline, at 128 px through its detail decoder when it has
    one, else at 32 px. Returns how many were made and where."""
    import torch

    from generation.builtin.pipeline import BuiltinVideoPipeline

    target = model_folder()
    todo = [
        t
        for t in all_terms()
        if (only is None or t.slug in only)
        and (force or not (target / f"{t.slug}.webp").is_file())
    ]
    if not todo:
        return 0, target
    pipe = BuiltinVideoPipeline.from_pretrained(WEIGHTS_DIR)
    side = EXAMPLE_SIDE if pipe.decoder is None else DECODED_SIDE
    for term in todo:
        output = pipe(
            term.prompt,
            num_frames=EXAMPLE_FRAMES,
            height=side,
            width=side,
            num_inference_steps=16,
            guidance_scale=5.0,
            generator=torch.Generator().manual_seed(1),
        )
        frames = (np.clip(output.frames[0], 0, 1) * 255 + 0.5).astype(np.uint8)
        _write(target / f"{term.slug}.webp", webp(frames))
        if progress is not None:
            progress(term)
    return len(todo), target


# -- an in-world suggestion for a prompt that is mostly outside the world ----

_KNOWN_COLOURS = {
    word: colour
    for colour, words in world.COLOUR_WORDS.items()
    for word in words
    if " " not in word
}
_MOTION_HINTS = {
    "walk": "right",
    "walking": "right",
    "run": "right",
    "running": "right",
    "fly": "up",
    "flying": "up",
    "jump": "bounce",
    "jumping": "bounce",
    "fall": "down",
    "falling": "down",
    "sit": "still",
    "sitting": "still",
    "sleep": "still",
    "sleeping": "still",
}


def in_world_suggestion(text: str) -> str:
    """A prompt in the world's words that keeps what it can of ``text``:
    its colour and the kind of motion, a ball for a subject the world lacks."""
    words = re.findall(r"[a-z]+", text.lower())
    colour = next((_KNOWN_COLOURS[w] for w in words if w in _KNOWN_COLOURS), "red")
    obj = next(
        (o for w in words for o, names in world.OBJECT_WORDS.items() if w in names),
        "ball",
    )
    motion = next((_MOTION_HINTS[w] for w in words if w in _MOTION_HINTS), "right")
    for word in words:
        if word in world.MOTIONS and word not in ("still",):
            motion = word
    scene = "field"
    if {"sea", "ocean", "water", "beach"} & set(words):
        scene = "sea"
    elif {"city", "town", "street", "skyline", "skyscrapers", "dusk"} & set(words):
        scene = "skyline"
    elif {"night", "stars", "dark"} & set(words):
        scene = "night"
    elif {"mountain", "mountains", "valley", "peaks", "sunrise", "dawn"} & set(words):
        scene = "valley"
    elif {"sunset", "evening"} & set(words):
        scene = "sunset"
    elif {"sky", "cloud", "clouds"} & set(words):
        scene = "day"
    article = "an" if colour[0] in "aeiou" else "a"
    suggestion = (
        f"{article} {colour} {obj} {world.MOTION_WORDS[motion][0]} "
        f"{world.SCENE_WORDS[scene][0]}, slow push-in"
    )
    # Only words of the world: a bad table entry must not leak out.
    return suggestion if not unknown_words(suggestion)[0] else SUGGESTION
