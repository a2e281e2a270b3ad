"""What a sequence's sound costs beside rendering its video with the built-in model.

    python bench/sound.py [--runs 3] [--steps 20] [--shots 4] [--seconds 10]

Renders a sequence of shots with the built-in model (the adapter's path, at
the model's native size, the studio's default steps) and then makes its
soundtrack — music, effects measured from those frames and a spoken line per
shot — alternating, and prints the sound's time as a share of the video's
(the goal is under 20 %). Writes bench/results/sound.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from report import write_results  # noqa: E402

PROMPTS = (
    "slow push-in on a yellow star over a night sky",
    "camera pans left: a blue box at sunset",
    "a red ball bouncing up and down in a field, static camera",
    "a green triangle moving right at sea, slow pull-out",
)
LINES = (
    ("", "It began on a quiet night."),
    ("Mia", "Look, the sky is turning orange."),
    ("Tom", "Then the ball came bouncing over the hill."),
    ("", "And the sea carried it away."),
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--shots", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--fps", type=int, default=8)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "sound.json"))
    args = ap.parse_args()

    import torch

    from generation.adapters.builtin import BuiltinAdapter
    from generation.sound import (
        ShotSound,
        SoundSettings,
        VoiceLine,
        sequence_sound,
        voice_available,
    )
    from generation.specs import GenerationSpec

    adapter = BuiltinAdapter.load(device="cpu")
    shot_seconds = args.seconds / args.shots
    frames_per_shot = round(shot_seconds * args.fps)
    specs = [
        GenerationSpec(
            prompt=PROMPTS[i % len(PROMPTS)],
            num_frames=frames_per_shot,
            fps=args.fps,
            num_inference_steps=args.steps,
            seed=i,
        )
        for i in range(args.shots)
    ]

    def render_video() -> tuple[float, list]:
        t0 = time.perf_counter()
        clips = [adapter.generate(spec) for spec in specs]
        return time.perf_counter() - t0, clips

    def make_sound(clips) -> tuple[float, object]:
        shots = [
            ShotSound(
                prompt=spec.prompt,
                start=i * shot_seconds,
                duration=shot_seconds,
                frames=clip,
                voice=VoiceLine(LINES[i % 4][1], LINES[i % 4][0], 0.2),
            )
            for i, (spec, clip) in enumerate(zip(specs, clips, strict=True))
        ]
        t0 = time.perf_counter()
        result = sequence_sound(shots, args.fps, SoundSettings(), 7, args.seconds)
        return time.perf_counter() - t0, result

    _, clips = render_video()  # warm-up
    make_sound(clips)
    video_s, sound_s = [], []
    for _ in range(args.runs):
        took, clips = render_video()
        video_s.append(took)
        took, result = make_sound(clips)
        sound_s.append(took)
    video = statistics.median(video_s)
    sound = statistics.median(sound_s)
    ratio = sound / video
    h, w = clips[0].shape[1:3]
    result_json = {
        "settings": vars(args)
        | {
            "threads": torch.get_num_threads(),
            "frames_per_shot": frames_per_shot,
            "frame_size": [w, h],
            "voice": voice_available(),
        },
        "video_s": video_s,
        "sound_s": sound_s,
        "video_median_s": video,
        "sound_median_s": sound,
        "sound_to_video": ratio,
        "plan": result.plan.describe() if result.plan else None,
        "events": [[round(t, 3), name] for t, name in result.events],
    }
    print(
        f"{args.shots} shots, {args.seconds:g} s at {args.fps} fps, {w}×{h}, "
        f"{args.steps} steps, {torch.get_num_threads()} threads"
    )
    print(f"video (built-in model)  {video:.3f} s (median of {args.runs})")
    print(f"sound (music+fx+voice)  {sound:.3f} s — {result.plan.describe()}")
    print(f"sound / video           {100 * ratio:.1f} % (goal < 20 %)")
    write_results(result_json, args.out)


if __name__ == "__main__":
    main()
