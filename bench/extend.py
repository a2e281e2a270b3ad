"""How seamlessly the built-in model extends a clip.

    python bench/extend.py [--frames 16] [--extend 16] [--start-noise 0.5]

For each prompt the built-in model renders a clip, then continues it with the
streaming sampler (generation/builtin/streaming.py, ``continue_clip``). At
256 px, as the studio encodes them, it measures the mean absolute pixel
difference (0–255) between

- the clip's last frame and the extension's first (the seam),
- the clip's last frame and the first frame of an unrelated clip,
- consecutive frames of the clip itself (its own motion per frame),

and reads the object's colour and motion in both with the analytic detector.
A seamless extension has a seam near the clip's own step and far below the
unrelated pair. Writes bench/results/extend.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import write_results  # noqa: E402

CASES = [
    ("a red ball drifting right over a green field",
     "a blue box moving up over a night sky"),
    ("a yellow star moving left over a sunset",
     "a purple triangle growing over the sea"),
    ("a green box bouncing over a day sky",
     "a white ball moving down over a night sky"),
]  # fmt: skip


def difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def main() -> None:
    from generation.adapters.builtin import BuiltinAdapter
    from generation.builtin.detector import read_clip
    from generation.builtin.evaluate import to_native
    from generation.builtin.streaming import ClipContinuation, StreamSettings
    from generation.encode import fit_frames
    from generation.specs import GenerationSpec

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--extend", type=int, default=16)
    ap.add_argument("--start-noise", type=float, default=0.5)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "extend.json"))
    args = ap.parse_args()

    adapter = BuiltinAdapter.load()
    width, height = adapter.native_size
    rows = []
    for prompt, other in CASES:
        spec = GenerationSpec(prompt=prompt, num_frames=args.frames, seed=3)
        clip = adapter.generate(spec)
        unrelated = adapter.generate(GenerationSpec(prompt=other, seed=9))
        written = fit_frames(clip, 256, 256)
        started = time.perf_counter()
        stream = ClipContinuation(
            adapter.pipeline, prompt, written, 4, width, height,
            settings=StreamSettings(), start_noise=args.start_noise,
        )  # fmt: skip
        extension = np.stack([stream.next_frame()[1] for _ in range(args.extend)])
        seconds = time.perf_counter() - started
        after = fit_frames(extension, 256, 256)
        before, later = read_clip(to_native(clip)), read_clip(to_native(extension))
        row = {
            "prompt": prompt,
            "seam": difference(written[-1], after[0]),
            "unrelated": difference(written[-1], fit_frames(unrelated, 256, 256)[0]),
            "clip_step": statistics.mean(
                difference(written[i], written[i + 1]) for i in range(len(clip) - 1)
            ),
            "extension_step": statistics.mean(
                difference(after[i], after[i + 1]) for i in range(len(after) - 1)
            ),
            "colour": [before.colour, later.colour],
            "motion": [before.motion, later.motion],
            "frames_per_second": args.extend / seconds,
        }
        row["seam_over_unrelated"] = row["seam"] / row["unrelated"]
        row["seam_over_clip_step"] = row["seam"] / row["clip_step"]
        rows.append(row)
        print(
            f"{prompt[:44]:44}  seam {row['seam']:5.1f}  unrelated "
            f"{row['unrelated']:5.1f}  clip step {row['clip_step']:5.1f}  "
            f"seam/unrelated {row['seam_over_unrelated']:.3f}  "
            f"seam/step {row['seam_over_clip_step']:.2f}  colour "
            f"{before.colour}→{later.colour}  motion {before.motion}→{later.motion}"
        )
    summary = {
        key: statistics.mean(r[key] for r in rows)
        for key in ("seam_over_unrelated", "seam_over_clip_step")
    }
    summary["colour_kept"] = sum(r["colour"][0] == r["colour"][1] for r in rows)
    print(
        f"mean seam/unrelated {summary['seam_over_unrelated']:.3f}, mean seam/step "
        f"{summary['seam_over_clip_step']:.2f}, colour kept in "
        f"{summary['colour_kept']}/{len(rows)}"
    )
    write_results({"args": vars(args), "rows": rows, "summary": summary}, args.out)


if __name__ == "__main__":
    main()
