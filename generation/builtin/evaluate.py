"""Evaluate the built-in model on held-out prompts with the analytic detector.

    python -m generation.builtin.evaluate --count 64 --out runs/eval

Renders held-out combinations in held-out phrasings with the pipeline, reads
each clip with :mod:`generation.builtin.detector`, and compares with the same
parameters rendered by the world itself (the detector's own ceiling). Prints
a table, writes JSON and a PNG grid of samples beside their prompts. The
brief's own prompt is made with ``--lead-seeds`` seeds first: the table says
how many come out as asked, and the grid opens with the first that does.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import textwrap
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from . import world
from .decoder import BuiltinDetailDecoder
from .detector import read_clip
from .pipeline import GUIDANCE_STOP, NATIVE_SIZE, WEIGHTS_DIR, BuiltinVideoPipeline

METRICS = ("colour", "motion", "camera", "presence", "steady", "subject", "scene")
# The brief's own prompt: the grid of samples opens with it.
LEAD_PROMPT = (
    "sunrise over mountains, camera slowly pans right to reveal a misty valley "
    "below, a hawk enters frame and glides across the scene"
)
# What the brief asks of it: a valley, a bird gliding across, a pan right.
LEAD_ASKED = {"subject": "bird", "scene": "valley", "camera": "pan-right"}
LEAD_SEEDS = 24


def lead_as_asked(reading) -> bool:
    """Whether the detector reads a clip of the lead prompt as the brief asks."""
    return all(getattr(reading, k) == v for k, v in LEAD_ASKED.items()) and (
        reading.motion in ("left", "right")
    )


def pick_lead(readings: list) -> tuple[int, int]:
    """(index of the first clip read as asked, or 0 when none is; how many are)."""
    asked = [lead_as_asked(r) for r in readings]
    return (asked.index(True) if any(asked) else 0), sum(asked)


# The terms the world gained after the frozen prompts were drawn; ``--terms
# new`` scores held-out prompts that use them.
NEW_SUBJECTS = ("bird", "car")
NEW_SCENES = ("valley", "skyline")


# The evaluation's prompts, frozen: drawing them anew would change them with
# every word added to the captions (the draws share one random stream), and
# tables of different weights would stop being comparable.
FROZEN_CASES = Path(__file__).with_name("heldout_prompts.json")
FROZEN_SEED = 2024


def heldout_cases(
    count: int, seed: int = FROZEN_SEED
) -> list[tuple[world.ClipParams, str]]:
    """Single-object held-out combinations, each with a held-out phrasing.

    The first cases for the default seed come from ``heldout_prompts.json``;
    beyond those, or for another seed, they are drawn from today's world.
    """
    frozen = load_cases(FROZEN_CASES) if seed == FROZEN_SEED else []
    if count <= len(frozen):
        return frozen[:count]
    return draw_heldout_cases(count, seed)


def draw_heldout_cases(
    count: int, seed: int = FROZEN_SEED
) -> list[tuple[world.ClipParams, str]]:
    """Draw ``count`` held-out cases from the world as it is now."""
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        p = world.sample_params(rng, held_out=True, camera_prob=0.5)
        if len(p.objects) > 1:
            continue
        cases.append((p, world.caption(p, rng, held_out=True)))
    return cases


def new_terms_cases(
    count: int, seed: int = FROZEN_SEED
) -> list[tuple[world.ClipParams, str]]:
    """Held-out single-object cases whose subject or scene is one of the
    world's newer terms, their colour always stated."""
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        p = world.sample_params(rng, held_out=True, camera_prob=0.5)
        main = p.objects[0]
        if len(p.objects) > 1:
            continue
        if main.shape not in NEW_SUBJECTS and p.scene not in NEW_SCENES:
            continue
        p = dataclasses.replace(p, colour_stated=True)
        cases.append((p, world.caption(p, rng, held_out=True)))
    return cases


def save_cases(cases: list[tuple[world.ClipParams, str]], path: Path) -> None:
    rows = [{"caption": c, "params": dataclasses.asdict(p)} for p, c in cases]
    path.write_text(json.dumps(rows, indent=1) + "\n")


def load_cases(path: Path) -> list[tuple[world.ClipParams, str]]:
    if not path.is_file():
        return []
    cases = []
    for row in json.loads(path.read_text()):
        params = dict(row["params"])
        objects = tuple(world.ObjectParams(**o) for o in params.pop("objects"))
        cases.append((world.ClipParams(objects=objects, **params), row["caption"]))
    return cases


def score(
    readings: list, cases: list[tuple[world.ClipParams, str]]
) -> dict[str, float]:
    """Accuracy of each property over the clips, in [0, 1]."""
    hits = {k: [] for k in METRICS}
    for r, (p, _) in zip(readings, cases, strict=True):
        o = p.objects[0]
        hits["colour"].append(r.colour == o.colour)
        hits["motion"].append(r.motion == o.motion)
        hits["camera"].append(r.camera == p.camera)
        hits["presence"].append(r.presence)
        if o.motion not in ("grow", "shrink"):
            hits["steady"].append(r.size_variation < 0.25)
        hits["subject"].append(r.subject == o.shape)
        hits["scene"].append(r.scene == p.scene)
    return {k: float(np.mean(v)) if v else 0.0 for k, v in hits.items()}


# What each metric is broken down by: the case's own value of it, and the
# scene and shape, which change how hard the object is to draw and to see.
BREAKDOWN = {
    "colour": ("colour", "shape", "scene"),
    "motion": ("motion", "camera", "shape"),
    "camera": ("camera", "scene", "motion"),
    "presence": ("scene", "shape", "colour"),
    "subject": ("shape", "scene", "colour"),
    "scene": ("scene", "shape", "camera"),
}
# The name of each metric's own value among what a case asked for.
ASKED_AS = {"subject": "shape"}


def breakdown(
    readings: list, cases: list[tuple[world.ClipParams, str]]
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """Per metric, its accuracy for each value of what it is broken down by.

    ``{"motion": {"motion": {"left": {"accuracy": 0.8, "cases": 10}}}}``;
    where the model goes wrong, the reading it gave most often is kept as
    ``"confused_with"`` (colour, motion and camera).
    """
    asked_all = [_asked(p) for p, _ in cases]
    table: dict = {}
    for metric, keys in BREAKDOWN.items():
        table[metric] = {}
        for key in keys:
            groups: dict[str, list] = {}
            for r, asked in zip(readings, asked_all, strict=True):
                got = getattr(r, metric)
                if metric == "presence":
                    hit = float(got)
                else:
                    hit = float(got == asked[ASKED_AS.get(metric, metric)])
                groups.setdefault(asked[key], []).append((hit, None if hit else got))
            table[metric][key] = {
                value: _group_summary(rows) for value, rows in sorted(groups.items())
            }
    return table


def _group_summary(rows: list[tuple[float, object]]) -> dict:
    summary: dict = {
        "accuracy": round(float(np.mean([h for h, _ in rows])), 4),
        "cases": len(rows),
    }
    misses = [str(m) for _, m in rows if m is not None and not isinstance(m, float)]
    if misses:
        summary["confused_with"] = max(set(misses), key=misses.count)
    return summary


def generate_clips(
    pipe: BuiltinVideoPipeline,
    prompts: list[str],
    *,
    num_frames: int,
    steps: int,
    guidance: float,
    seed: int,
    batch: int = 8,
    size: int = 32,
    guidance_stop: float = GUIDANCE_STOP,
    subject_contrast: bool = True,
) -> np.ndarray:
    """uint8 clips (N, T, size, size, 3) of ``prompts``; ``size`` 128 (or 256)
    goes through the detail decoder when the pipeline has one."""
    clips = []
    for i in range(0, len(prompts), batch):
        chunk = prompts[i : i + batch]
        gen = torch.Generator().manual_seed(seed + i)
        out = pipe(
            chunk,
            num_frames=num_frames,
            num_inference_steps=steps,
            guidance_scale=guidance,
            guidance_stop=guidance_stop,
            subject_contrast=subject_contrast,
            generator=gen,
            height=size,
            width=size,
            output_type="np",
        ).frames
        clips.append((out * 255).round().astype(np.uint8))
    return np.concatenate(clips)


def sample_grid(
    clips: np.ndarray, prompts: list[str], path: Path, rows: int = 8
) -> None:
    """A PNG: per row, frames of a clip with its prompt underneath: five at
    160 px for clips of 128 px or more, else six enlarged to 96 px."""
    from PIL import Image, ImageDraw

    n = min(rows, len(clips))
    cell, cols = (160, 5) if clips.shape[2] >= 128 else (96, 6)
    chars = cell * cols // 6 - 2  # the default font is about 6 px a character
    row = cell + 28  # room for a label of two lines
    img = Image.new("RGB", (cell * cols, n * row), (20, 20, 24))
    draw = ImageDraw.Draw(img)
    for r in range(n):
        idx = np.linspace(0, clips.shape[1] - 1, cols).round().astype(int)
        for c, f in enumerate(idx):
            tile = Image.fromarray(clips[r, f]).resize((cell, cell), Image.LANCZOS)
            img.paste(tile, (c * cell, r * row))
        label = "\n".join(textwrap.wrap(prompts[r], chars)[:2])
        draw.multiline_text(
            (4, r * row + cell + 2), label, fill=(230, 230, 230), spacing=2
        )
    img.save(path)


def evaluate(
    weights: Path,
    *,
    count: int,
    num_frames: int,
    steps: int,
    guidance: float,
    seed: int = 0,
    bf16: bool | None = None,
    shift: float | None = None,
    size: int = 32,
    decoder: Path | None = None,
    terms: str = "all",
    guidance_stop: float = GUIDANCE_STOP,
    lead_seeds: int = LEAD_SEEDS,
    subject_contrast: bool = True,
) -> dict:
    cases = new_terms_cases(count) if terms == "new" else heldout_cases(count)
    prompts = [c for _, c in cases]
    world_readings = [read_clip(world.render(p, num_frames, 32)) for p, _ in cases]
    pipe = BuiltinVideoPipeline.from_pretrained(weights)
    if decoder is not None:
        pipe.decoder = BuiltinDetailDecoder.from_pretrained(decoder)
    pipe.set_progress_bar_config(disable=True)
    pipe.bf16_autocast = bf16
    if shift is not None:
        pipe.scheduler = type(pipe.scheduler).from_config(
            pipe.scheduler.config, shift=shift
        )
    # The brief's prompt with seeds seed … seed + lead_seeds - 1: how often it
    # comes out as asked; the grid opens with the first seed that does.
    lead_clips = [
        generate_clips(
            pipe,
            [LEAD_PROMPT],
            num_frames=num_frames,
            steps=steps,
            guidance=guidance,
            seed=seed + k,
            size=size,
            guidance_stop=guidance_stop,
            subject_contrast=subject_contrast,
        )
        for k in range(lead_seeds)
    ]
    lead_readings = [read_clip(to_native(c[0])) for c in lead_clips]
    shown, as_asked = pick_lead(lead_readings)
    lead = lead_clips[shown]
    started = time.perf_counter()
    clips = generate_clips(
        pipe,
        prompts,
        num_frames=num_frames,
        steps=steps,
        guidance=guidance,
        seed=seed,
        size=size,
        guidance_stop=guidance_stop,
        subject_contrast=subject_contrast,
    )
    seconds = time.perf_counter() - started
    # The detector's tolerances are set for 32 px clips; a larger clip is
    # averaged down to that size, so the table asks whether the decoder kept
    # what the denoiser drew.
    model_readings = [
        read_clip(to_native(c)) for c in tqdm(clips, desc="detect", leave=False)
    ]
    return {
        "cases": count,
        "terms": terms,
        "num_frames": num_frames,
        "steps": steps,
        "guidance": guidance,
        "guidance_stop": guidance_stop,
        "subject_contrast": subject_contrast,
        "precision": {None: "auto", False: "float32", True: "bf16"}[bf16],
        "shift": pipe.scheduler.config.shift,
        "size": size,
        "decoder": pipe.decode_scale(size, size) > 1,
        "world": score(world_readings, cases),
        "model": score(model_readings, cases),
        "breakdown": breakdown(model_readings, cases),
        "seconds_per_clip": seconds / count,
        "samples": [
            {"prompt": c, "reading": r.as_dict()}
            for (_, c), r in zip(cases[:16], model_readings[:16], strict=True)
        ],
        "readings": [
            {"prompt": c, "asked": _asked(p), "reading": r.as_dict()}
            for (p, c), r in zip(cases, model_readings, strict=True)
        ],
        "lead": {
            "prompt": LEAD_PROMPT,
            "asked": LEAD_ASKED | {"motion": "left or right"},
            "seeds": lead_seeds,
            "as_asked": as_asked,
            "shown_seed": seed + shown,
            "reading": lead_readings[shown].as_dict(),
            "readings": [r.as_dict() for r in lead_readings],
        },
        "_clips": np.concatenate([lead, clips]),
        "_prompts": [
            f"seed {seed + shown}, read as asked with {as_asked} of {lead_seeds} "
            f"seeds: {LEAD_PROMPT}",
            *prompts,
        ],
    }


def to_native(clip: np.ndarray, size: int = NATIVE_SIZE) -> np.ndarray:
    """A uint8 (T, H, W, 3) clip averaged down to ``size`` px (area filter)."""
    t, h, w, c = clip.shape
    if h == size:
        return clip
    f = h // size
    small = clip.reshape(t, size, f, w // f, f, c).astype(np.float32).mean((2, 4))
    return small.round().astype(np.uint8)


def _asked(p: world.ClipParams) -> dict[str, str]:
    o = p.objects[0]
    return {
        "colour": o.colour,
        "shape": o.shape,
        "motion": o.motion,
        "camera": p.camera,
        "scene": p.scene,
    }


def print_table(result: dict) -> None:
    lead = result.get("lead")
    if lead:
        r = lead["reading"]
        print(
            f"“{lead['prompt']}” → read as asked with {lead['as_asked']} of "
            f"{lead['seeds']} seeds; seed {lead['shown_seed']}: {r['colour']} "
            f"{r['subject']} {r['motion']} over the {r['scene']}, camera {r['camera']}"
        )
    print(f"{'metric':<10} {'world':>7} {'model':>7}")
    for k in METRICS:
        print(f"{k:<10} {result['world'][k]:>7.1%} {result['model'][k]:>7.1%}")
    for metric, table in result.get("breakdown", {}).items():
        # The metric by its own value (presence: by scene), weakest first.
        groups = next(iter(table.values()))
        weakest = sorted(groups.items(), key=lambda kv: kv[1]["accuracy"])[:4]
        print(
            f"  {metric} weakest: "
            + ", ".join(
                f"{v} {g['accuracy']:.0%}/{g['cases']}"
                + (f" (as {g['confused_with']})" if "confused_with" in g else "")
                for v, g in weakest
            )
        )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", default=str(WEIGHTS_DIR))
    p.add_argument("--count", type=int, default=64)
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--guidance", type=float, default=5.0)
    p.add_argument(
        "--guidance-stop",
        type=float,
        default=GUIDANCE_STOP,
        help="the noise level below which steps run without guidance "
        f"(default {GUIDANCE_STOP}; 0 guides every step)",
    )
    p.add_argument(
        "--subject-contrast",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="guidance leans away from the look-alike of a subject the prompt "
        "names (a bird's is the car, a car's the bird; default: on)",
    )
    p.add_argument(
        "--lead-seeds",
        type=int,
        default=LEAD_SEEDS,
        help="seeds the brief's prompt is made with, to count how often it "
        "comes out as asked (the grid shows the first that does)",
    )
    p.add_argument("--out", default="runs/eval")
    p.add_argument(
        "--precision",
        choices=["auto", "float32", "bf16"],
        default="auto",
        help="the denoiser's maths (auto: bf16 autocast where the CPU has it)",
    )
    p.add_argument(
        "--shift",
        type=float,
        default=None,
        help="the sampler's time shift (default: the weights' scheduler config); "
        "> 1 spends more steps at high noise",
    )
    p.add_argument(
        "--size",
        type=int,
        default=32,
        help="output size; 128 (and 256, with a scale-8 decoder) goes through "
        "the detail decoder when there is one",
    )
    p.add_argument(
        "--decoder",
        default="",
        help="a saved detail decoder folder to use (default: the weights' own)",
    )
    p.add_argument(
        "--terms",
        choices=["all", "new"],
        default="all",
        help="all: the frozen held-out prompts; new: held-out prompts with the "
        "world's newer subjects (bird, car) or scenes (valley, skyline)",
    )
    args = p.parse_args(argv)
    if args.lead_seeds < 1:
        p.error("--lead-seeds must be at least 1")
    if not 0 <= args.guidance_stop <= 1:
        p.error("--guidance-stop must be between 0 and 1")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = evaluate(
        Path(args.weights),
        count=args.count,
        num_frames=args.frames,
        steps=args.steps,
        guidance=args.guidance,
        bf16={"auto": None, "float32": False, "bf16": True}[args.precision],
        shift=args.shift,
        size=args.size,
        decoder=Path(args.decoder) if args.decoder else None,
        terms=args.terms,
        guidance_stop=args.guidance_stop,
        lead_seeds=args.lead_seeds,
        subject_contrast=args.subject_contrast,
    )
    sample_grid(result.pop("_clips"), result.pop("_prompts"), out / "samples.png")
    (out / "eval.json").write_text(json.dumps(result, indent=2))
    print_table(result)
    print(f"wrote {out / 'eval.json'} and {out / 'samples.png'}")


if __name__ == "__main__":
    main()
