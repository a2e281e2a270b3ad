"""What sound costs a clip, measured side by side.

    python bench/clip_sound.py [--rounds 8] [--frames 16] [--steps 20] [--size 256]

Renders the same built-in clip through the generation service's own path
(``GenerationService.run_spec``: denoise, encode, mux) three ways, rounds
alternating so drift on a busy machine hits all of them: (a) silent, (b) with
music and effects (``sound: {}``), (c) with music only. Prints each one's
median time, the ratios b/a and c/a, and the seconds sound adds; a silent clip
runs no sound code at all, so (a) is what every clip without sound costs.
Writes bench/results/clip_sound.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import write_results  # noqa: E402

PROMPT = "a red ball bouncing to the right, slow push-in"


def main() -> None:
    from generation.service import GenerationService
    from generation.specs import GenerationSpec

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / "clip_sound.json")
    )
    args = ap.parse_args()

    service = GenerationService(store=None, sink=None, device="cpu")
    base = GenerationSpec(
        prompt=PROMPT,
        num_frames=args.frames,
        fps=8,
        width=args.size,
        height=args.size,
        num_inference_steps=args.steps,
        seed=7,
    )
    kinds = {
        "silent": base,
        "music_and_effects": replace(base, sound={"music": True, "effects": True}),
        "music_only": replace(base, sound={"music": True, "effects": False}),
    }
    times: dict[str, list[float]] = {name: [] for name in kinds}
    with tempfile.TemporaryDirectory() as folder:
        service.run_spec(base, folder)  # load the model and warm up
        for _ in range(args.rounds):
            for name, spec in kinds.items():
                started = time.perf_counter()
                service.run_spec(spec, folder)
                times[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(found) for name, found in times.items()}
    silent = medians["silent"]
    result = {
        "frames": args.frames,
        "steps": args.steps,
        "size": args.size,
        "rounds": args.rounds,
        "median_seconds": medians,
        "ratio_music_and_effects": medians["music_and_effects"] / silent,
        "ratio_music_only": medians["music_only"] / silent,
        "added_seconds_music_and_effects": medians["music_and_effects"] - silent,
        "added_seconds_music_only": medians["music_only"] - silent,
    }
    clip = args.frames / 8
    print(
        f"{args.frames} frames ({clip:g} s of video), {args.steps} steps, {args.size} px"
    )
    for name, value in medians.items():
        print(f"  {name:18s} {value * 1000:8.1f} ms  ({value / silent:.3f}× silent)")
    write_results(result, args.out)


if __name__ == "__main__":
    main()
