"""The built-in model streaming live: speed, steadiness, steering and drift.

    python bench/live.py [--seconds 60] [--threads 2] [--changes 3] [--quality 64]
        [--transformer runs/forcing/export/transformer] [--settings '{"window": 8}']

Runs a :class:`~generation.builtin.streaming.LiveStream` at the live default
size (128 × 128 through the detail decoder) as fast as it goes for
``--seconds`` on one still prompt, then steers it through ``--changes``
colour changes ("a red ball …" → "a blue ball …" → …), a few seconds each.
Every frame is read afterwards by the world's colour detector (the one the
held-out evaluation uses) at 32 px, so reading costs the stream nothing.

Prints and writes bench/results/live.json:

- sustained frames a second over the still run, the frame interval's mean and
  95th percentile (and their ratio);
- start → first frame for a new session on a warm model (prompt encoding
  included), and for the first session of the process (cold);
- each prompt change: seconds (and frames) from ``set_prompt`` until the
  frames show the new colour — the first of three frames in a row read as it;
- drift: the object present (its colour found) and read as the asked colour,
  the object's mean colour and the picture's contrast (luminance standard
  deviation) over the first 10 s and the last 10 s of the still run.

With ``--quality N`` it also streams the first N frozen held-out prompts of
the clip evaluation (``generation.builtin.evaluate``) at 32 px and scores 16
frames of each stream, from the first frame made wholly in the steady state,
as the evaluation scores a clip: colour, motion, camera, presence, steady
size — the same table for the stream as for clips.

Goals: ≥ 8 fps, p95 ≤ 1.5 × mean, first frame ≤ 0.5 s, a prompt change shown
within 1 s, the object present in ≥ 95 % of frames.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import write_results  # noqa: E402

SCENE = "staying still on a sunny day"
COLOURS = ("red", "blue", "green", "yellow", "purple")
GOALS = {
    "fps": 8.0,
    "interval_p95_over_mean": 1.5,
    "first_frame_s": 0.5,
    "prompt_change_s": 1.0,
    "present": 0.95,
}


def prompt_for(colour: str) -> str:
    return f"a {colour} ball {SCENE}"


def run_stream(stream, seconds: float, changes: list[str], change_every: float):
    """Frames (32 px), their emission times and prompt indices; the times the
    prompt changes were asked for."""
    from generation.builtin.evaluate import to_native

    frames, times, prompts = [], [], []
    asked: list[float] = []
    start = time.perf_counter()
    pending = list(changes)
    for _, frame, prompt_index in stream.frames():
        now = time.perf_counter()
        frames.append(to_native(frame[None])[0])
        times.append(now)
        prompts.append(prompt_index)
        elapsed = now - start
        due = seconds + len(asked) * change_every
        if elapsed >= due:
            if not pending:
                break
            stream.set_prompt(prompt_for(pending.pop(0)))
            asked.append(time.perf_counter())
    return np.stack(frames), np.array(times), np.array(prompts), asked


def read_frames(frames: np.ndarray) -> list:
    from generation.builtin.detector import read_clip

    return [read_clip(f[None]) for f in frames]


def object_colour(frame: np.ndarray, colour: str) -> list[float] | None:
    """Mean RGB of the pixels the detector counts as ``colour``."""
    from generation.builtin.detector import _colour_masks
    from generation.builtin.world import COLOURS as PALETTE

    mask = _colour_masks(frame[None])[0, :, :, list(PALETTE).index(colour)] > 0.5
    if not mask.any():
        return None
    return frame[mask].mean(axis=0).tolist()


def span_summary(frames: np.ndarray, readings: list, colour: str) -> dict:
    luma = frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    rgb = [c for c in (object_colour(f, colour) for f in frames) if c is not None]
    return {
        "frames": len(frames),
        "present": float(np.mean([r.presence > 0 for r in readings])),
        "asked_colour": float(np.mean([r.colour == colour for r in readings])),
        "object_rgb": np.mean(rgb, axis=0).round(1).tolist() if rgb else None,
        "picture_rgb": frames.reshape(-1, 3).mean(0).round(1).tolist(),
        "contrast": round(float(luma.reshape(len(frames), -1).std(1).mean()), 2),
    }


def change_latency(
    readings: list, times: np.ndarray, asked_at: float, colour: str, run: int = 3
) -> dict:
    """Seconds and frames from asking for ``colour`` to the first of ``run``
    frames in a row read as it."""
    after = np.flatnonzero(times > asked_at)
    hits = [readings[i].colour == colour for i in after]
    for k in range(len(hits) - run + 1):
        if all(hits[k : k + run]):
            i = after[k]
            return {
                "to": colour,
                "seconds": round(float(times[i] - asked_at), 3),
                "frames": int(k + 1),
            }
    return {"to": colour, "seconds": None, "frames": None}


def stream_quality(pipe, settings, count: int, seed: int) -> dict:
    """The held-out evaluation's table for 16-frame stretches of streams."""
    from generation.builtin.detector import read_clip
    from generation.builtin.evaluate import heldout_cases, score
    from generation.builtin.streaming import LiveStream

    cases = heldout_cases(count)
    first = settings.context + settings.window  # the first steady-state frame
    readings = []
    for i, (_, prompt) in enumerate(cases):
        stream = LiveStream(pipe, prompt, seed + i, 32, 32, settings=settings)
        frames = [f for _, f, _ in stream.frames(first + 16)][first:]
        readings.append(read_clip(np.stack(frames)))
    return {k: round(v, 4) for k, v in score(readings, cases).items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--changes", type=int, default=3)
    ap.add_argument("--change-every", type=float, default=4.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--quality",
        type=int,
        default=0,
        help="also score streams of this many held-out prompts (0: skip)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--transformer",
        default="",
        help="a saved denoiser folder to stream with (default: the stream's weights)",
    )
    ap.add_argument("--settings", default="", help="JSON overrides of StreamSettings")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "live.json"))
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from generation.builtin.model import BuiltinVideoDenoiser
    from generation.builtin.streaming import (
        LIVE_HEIGHT,
        LIVE_WIDTH,
        STREAM_WEIGHTS_DIR,
        LiveStream,
        StreamSettings,
        load_stream_pipeline,
    )

    pipe = load_stream_pipeline()
    weights = "stream" if (STREAM_WEIGHTS_DIR / "transformer").is_dir() else "clip"
    if args.transformer:
        pipe.transformer = BuiltinVideoDenoiser.from_pretrained(args.transformer)
        weights = args.transformer
    settings = StreamSettings(**json.loads(args.settings or "{}"))

    def session(colour: str) -> tuple[LiveStream, float]:
        t0 = time.perf_counter()
        stream = LiveStream(
            pipe,
            prompt_for(colour),
            args.seed,
            LIVE_WIDTH,
            LIVE_HEIGHT,
            settings=settings,
        )
        stream.next_frame()
        return stream, time.perf_counter() - t0

    _, cold = session("orange")
    warm = [session(c)[1] for c in ("pink", "white", "yellow")]
    first = COLOURS[0]
    stream = LiveStream(
        pipe, prompt_for(first), args.seed, LIVE_WIDTH, LIVE_HEIGHT, settings=settings
    )
    changes = [COLOURS[(i + 1) % len(COLOURS)] for i in range(args.changes)]
    frames, times, prompts, asked = run_stream(
        stream, args.seconds, changes, args.change_every
    )
    readings = read_frames(frames)

    still = prompts == 0
    still_times = times[still]
    intervals = np.diff(still_times[1 + settings.context :])  # past the ramp's burst
    fps = (still.sum() - 1) / (still_times[-1] - still_times[0])
    rel = still_times - still_times[0]
    span = min(10.0, args.seconds / 2)
    head = np.flatnonzero(rel < span)
    tail = np.flatnonzero(rel >= rel[-1] - span)
    still_readings = [r for r, s in zip(readings, still, strict=True) if s]
    latencies = [
        change_latency(readings, times, at, colour)
        for at, colour in zip(asked, changes, strict=True)
    ]
    known = [x["seconds"] for x in latencies if x["seconds"] is not None]
    result = {
        "settings": {
            **vars(args),
            "threads": torch.get_num_threads(),
            "size": [LIVE_WIDTH, LIVE_HEIGHT],
            "weights": weights,
            "stream": settings.__dict__,
            "prompt": prompt_for(first),
        },
        "frames": int(still.sum()),
        "fps": round(float(fps), 2),
        "interval_mean_ms": round(float(intervals.mean() * 1000), 1),
        "interval_p95_ms": round(float(np.percentile(intervals, 95) * 1000), 1),
        "interval_p95_over_mean": round(
            float(np.percentile(intervals, 95) / intervals.mean()), 2
        ),
        "first_frame_s": round(float(np.median(warm)), 3),
        "first_frame_cold_s": round(cold, 3),
        "prompt_changes": latencies,
        "prompt_change_s": max(known) if len(known) == len(latencies) else None,
        "present": round(float(np.mean([r.presence > 0 for r in still_readings])), 4),
        "drift": {
            "span_s": span,
            "first": span_summary(
                frames[still][head], [still_readings[i] for i in head], first
            ),
            "last": span_summary(
                frames[still][tail], [still_readings[i] for i in tail], first
            ),
        },
        "goals": GOALS,
    }
    if args.quality:
        result["quality"] = stream_quality(pipe, settings, args.quality, args.seed)
    d = result["drift"]
    print(
        f"{result['frames']} frames in {args.seconds:g} s at {LIVE_WIDTH}×{LIVE_HEIGHT}, "
        f"{result['settings']['threads']} threads, {weights} weights"
    )
    print(
        f"sustained {result['fps']:.2f} fps (goal ≥ 8); interval mean "
        f"{result['interval_mean_ms']:.0f} ms, p95 {result['interval_p95_ms']:.0f} ms "
        f"= {result['interval_p95_over_mean']:.2f}× mean (goal ≤ 1.5)"
    )
    print(
        f"start → first frame {result['first_frame_s'] * 1000:.0f} ms warm, "
        f"{result['first_frame_cold_s'] * 1000:.0f} ms cold (goal ≤ 500)"
    )
    for x in latencies:
        shown = "never" if x["seconds"] is None else f"{x['seconds']:.2f} s"
        print(
            f"prompt → {x['to']}: shown after {shown} ({x['frames']} frames; goal ≤ 1 s)"
        )
    print(f"object present {result['present']:.1%} of frames (goal ≥ 95 %)")
    for name in ("first", "last"):
        s = d[name]
        print(
            f"{name} {span:g} s: present {s['present']:.1%}, read as {first} "
            f"{s['asked_colour']:.1%}, object RGB {s['object_rgb']}, picture RGB "
            f"{s['picture_rgb']}, contrast {s['contrast']}"
        )
    if args.quality:
        print(
            f"held-out prompts streamed ({args.quality}): "
            + ", ".join(f"{k} {v:.1%}" for k, v in result["quality"].items())
        )
    write_results(result, args.out)


if __name__ == "__main__":
    main()
