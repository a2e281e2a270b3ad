"""The invisible watermark: what it costs the picture, what survives, what it
costs the writer.

    python bench/watermark.py [--clips 8] [--frames 48] [--size 256] [--negatives 50]

Renders built-in clips (generation.builtin.world, random scenes, cameras and
motions), writes each marked with encode.write_video, and reports:

- PSNR of the marked frames against the unmarked frames (RGB, before the
  encoder), and of the writer's marked MP4 against the same frames written
  unmarked, both losslessly (crf 0);
- per attack (generation/attacks.py: low-bitrate H.264, half size, 10 % crop
  of every edge, the studio's GIF/WebM/WebP exports): how often the mark is
  found, the mean and worst bit accuracy over the clips, the mean score;
- the highest score on ``--negatives`` unmarked clips against the threshold;
- the cost of marking: ms per frame, and write_video with the mark against
  write_video without it, side by side (median of 5);
- how long one detection takes.

Writes bench/results/watermark.json.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import write_results  # noqa: E402

from generation import attacks, encode, exports, watermark  # noqa: E402
from generation.builtin import world  # noqa: E402

PAYLOAD = watermark.Payload(studio=0x5EED1234, clip=0x0BADC0DE)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255**2 / max(mse, 1e-12))


def median_ms(function, reps: int = 5) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--negatives", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "watermark.json"))
    args = ap.parse_args()

    rng = random.Random(args.seed)
    clips = [
        world.render(world.sample_params(rng), args.frames, args.size)
        for _ in range(args.clips)
    ]
    folder = Path(tempfile.mkdtemp(prefix="watermark-bench-"))
    frame_psnr, video_psnr, paths = [], [], []
    for index, frames in enumerate(clips):
        frame_psnr.append(psnr(watermark.mark_rgb(frames, PAYLOAD), frames))
        # The writer's marking, through lossless encodes of both.
        lossless = [
            encode.write_video(
                frames, folder / f"{name}{index}.mp4", fps=8, crf=0, watermark=mark
            )
            for name, mark in (("l", PAYLOAD), ("u", None))
        ]
        video_psnr.append(psnr(*(exports.read_frames(path)[0] for path in lossless)))
        paths.append(
            encode.write_video(
                frames, folder / f"m{index}.mp4", fps=8, watermark=PAYLOAD
            )
        )
    print(
        f"PSNR marked vs unmarked: frames {min(frame_psnr):.1f} dB (worst), "
        f"MP4s {min(video_psnr):.1f} dB (worst)"
    )

    robustness = {}
    for name, attack in attacks.ATTACKS.items():
        accuracies, scores, found = [], [], 0
        for path in paths:
            detection = watermark.detect_rgb(attack(path))
            accuracies.append(watermark.bit_accuracy(detection, PAYLOAD))
            scores.append(detection.z)
            found += detection.found
        robustness[name] = {
            "found": f"{found}/{len(paths)}",
            "bit_accuracy_mean": round(float(np.mean(accuracies)), 4),
            "bit_accuracy_worst": round(float(np.min(accuracies)), 4),
            "score_mean": round(float(np.mean(scores)), 1),
            "score_worst": round(float(np.min(scores)), 1),
        }
        print(
            f"{name:18s} found {found}/{len(paths)}  bit accuracy mean "
            f"{np.mean(accuracies):.3f} worst {np.min(accuracies):.3f}  "
            f"score mean {np.mean(scores):.1f} worst {np.min(scores):.1f}"
        )

    negatives = []
    for _ in range(args.negatives):
        frames = world.render(world.sample_params(rng), 16, args.size)
        negatives.append(watermark.detect_rgb(frames).z)
    false_alarms = sum(z >= watermark.DETECTION_Z for z in negatives)
    print(
        f"unmarked clips: {false_alarms}/{len(negatives)} false alarms, highest "
        f"score {max(negatives):.1f} (threshold {watermark.DETECTION_Z})"
    )

    frames = clips[0]
    planes = np.ascontiguousarray(watermark.rgb_luma(frames).astype(np.uint8))
    watermark.mark_luma(planes.copy(), PAYLOAD)  # the pattern is made once per size
    mark_ms = median_ms(lambda: watermark.mark_luma(planes.copy(), PAYLOAD)) / len(
        frames
    )
    # Alternated, so that both see the same machine.
    with_times, without_times = [], []
    for _ in range(11):
        for mark, times in ((PAYLOAD, with_times), (None, without_times)):
            start = time.perf_counter()
            encode.write_video(frames, folder / "t.mp4", fps=8, watermark=mark)
            times.append((time.perf_counter() - start) * 1000)
    with_mark, without = statistics.median(with_times), statistics.median(without_times)
    detect_ms = median_ms(lambda: watermark.detect_rgb(frames), reps=3)
    print(
        f"marking: {mark_ms:.3f} ms a frame; write_video {with_mark:.1f} ms with the "
        f"mark vs {without:.1f} ms without ({with_mark / without:.2f}x) for "
        f"{len(frames)} frames at {args.size} px; detection {detect_ms:.0f} ms"
    )
    write_results(
        {
            "clips": args.clips,
            "frames": args.frames,
            "size": args.size,
            "psnr_frames_db_worst": round(min(frame_psnr), 2),
            "psnr_frames_db_mean": round(float(np.mean(frame_psnr)), 2),
            "psnr_mp4_db_worst": round(min(video_psnr), 2),
            "robustness": robustness,
            "negatives": len(negatives),
            "false_alarms": false_alarms,
            "negative_score_max": round(max(negatives), 2),
            "threshold": watermark.DETECTION_Z,
            "mark_ms_per_frame": round(mark_ms, 4),
            "write_video_ms_with_mark": round(with_mark, 2),
            "write_video_ms_without": round(without, 2),
            "write_video_ratio": round(with_mark / without, 3),
            "detect_ms": round(detect_ms, 1),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
