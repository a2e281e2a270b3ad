"""What a look costs per frame, beside what the clip it grades costs to render.

    python bench/looks.py [--frames 16] [--reps 5] [--steps 20] [--threads N]

Times every shipped look, and a 33-point .cube table, on ``--frames`` random
frames at 128×128 (the built-in model's output before scaling) and 512×512,
and reports milliseconds per frame. In the same run it renders one default
clip of the built-in model (256×256, ``--frames`` frames, ``--steps`` steps,
CPU) through the service, once with no look and once in film noir, so the
share of the look in a clip's time is measured side by side. Writes
bench/results/looks.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import write_results  # noqa: E402


def median_ms(function, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


class Nowhere:
    def emit(self, job_id, event): ...

    def emit_preview(self, job_id, event): ...


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "looks.json"))
    args = parser.parse_args()

    import numpy as np
    import torch

    from generation import looks
    from generation.service import GenerationService
    from generation.specs import GenerationSpec

    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    folder = Path(tempfile.mkdtemp(prefix="looks-bench-"))
    cube = folder / "warm.cube"
    table = looks.identity_lut(33)
    table[..., 2] *= 0.85
    cube.write_text(looks.write_cube(table))
    cases = {name: looks.from_settings(name, None) for name in looks.SHIPPED}
    cases[".cube (33 points)"] = looks.from_settings("Warm", {"lut": str(cube)})

    rows = []
    for side in (128, 512):
        frames = rng.integers(0, 256, (args.frames, side, side, 3), dtype=np.uint8)
        for name, look in cases.items():
            look.apply(frames[:1])  # builds and caches the table
            ms = median_ms(partial(look.apply, frames, seed=1), args.reps)
            rows.append({"look": name, "side": side, "ms_per_frame": ms / args.frames})

    service = GenerationService(store=None, sink=Nowhere())
    spec = GenerationSpec(
        prompt="a red ball bouncing to the right over a grass field, slow push-in",
        num_frames=args.frames,
        width=256,
        height=256,
        num_inference_steps=args.steps,
        seed=3,
    )
    service.run_spec(spec, folder, basename="warm-up")
    clip = {}
    for label, look in (("no look", ""), ("film noir", "Film noir")):
        started = time.perf_counter()
        service.run_spec(
            GenerationSpec(**{**spec.to_dict(), "look": look}),
            folder,
            basename=label.replace(" ", "-"),
        )
        clip[label] = (time.perf_counter() - started) * 1000

    print(f"torch threads: {torch.get_num_threads()}, {args.frames} frames a clip")
    print(f"{'look':<22} {'128 px ms/frame':>16} {'512 px ms/frame':>16}")
    for name in cases:
        small, large = (
            next(
                r["ms_per_frame"] for r in rows if r["look"] == name and r["side"] == s
            )
            for s in (128, 512)
        )
        print(f"{name:<22} {small:>16.2f} {large:>16.2f}")
    noir_128 = next(
        r["ms_per_frame"] for r in rows if r["look"] == "Film noir" and r["side"] == 128
    )
    look_ms = noir_128 * args.frames
    print(
        f"render one clip (256×256, {args.frames} frames, {args.steps} steps): "
        f"{clip['no look']:.0f} ms without a look, {clip['film noir']:.0f} ms in film "
        f"noir; the look on its {args.frames} frames at 128 px: {look_ms:.1f} ms = "
        f"{100 * look_ms / clip['no look']:.2f} % of the clip"
    )
    write_results(
        {
            "frames": args.frames,
            "steps": args.steps,
            "torch_threads": torch.get_num_threads(),
            "looks": rows,
            "clip_ms": clip,
            "noir_share_of_clip": look_ms / clip["no look"],
        },
        args.out,
    )


if __name__ == "__main__":
    main()
