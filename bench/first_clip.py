"""The first clip after the studio starts: how soon its first preview arrives.

    python bench/first_clip.py [--rounds 3] [--idle 8]

Each round starts two fresh studios (Daphne, in-process service, built-in
model) and sends the first clip to each, side by side: one right after the
server answers its first request, while the model is still loading (what
every first clip waited for when the model loaded on demand), and one after
``--idle`` seconds, the time a creator takes to sign up and name a project,
during which the worker loads and warms the model. Prints the submit → first
preview latency and the whole clip for both; writes
bench/results/first_clip.json.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from overhead import PROMPT, ROOT, fresh_studio, studio_run
from report import write_results


def first_clip(idle: float, body: dict) -> dict[str, float]:
    server, port, token, _ = fresh_studio("studio-first-clip-")
    try:
        time.sleep(idle)
        return asyncio.run(studio_run(port, token, body))
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--idle", type=float, default=8.0)
    ap.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / "first_clip.json")
    )
    args = ap.parse_args()
    body = {"prompt": PROMPT, "num_frames": 16, "fps": 8, "steps": 20, "seed": 1}
    cold, warm = [], []
    for r in range(args.rounds):
        cold.append(first_clip(0.0, body))
        warm.append(first_clip(args.idle, body))
        print(
            f"round {r + 1}: at once {cold[-1]['first_preview'] * 1000:.0f} ms, "
            f"after {args.idle:g} s {warm[-1]['first_preview'] * 1000:.0f} ms"
        )

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    result = {
        "rounds": args.rounds,
        "idle_s": args.idle,
        "at_once": cold,
        "after_idle": warm,
        "first_preview_at_once_ms": 1000 * median(cold, "first_preview"),
        "first_preview_after_idle_ms": 1000 * median(warm, "first_preview"),
        "clip_at_once_s": median(cold, "total"),
        "clip_after_idle_s": median(warm, "total"),
    }
    print(
        f"\nfirst preview  {result['first_preview_at_once_ms']:.0f} ms submitted at "
        f"once, {result['first_preview_after_idle_ms']:.0f} ms after "
        f"{args.idle:g} s idle (medians of {args.rounds})"
    )
    print(
        f"whole clip     {result['clip_at_once_s']:.2f} s and "
        f"{result['clip_after_idle_s']:.2f} s"
    )
    write_results(result, args.out)


if __name__ == "__main__":
    main()
