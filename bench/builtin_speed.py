"""How fast the built-in model renders a clip on this machine's CPU.

    python bench/builtin_speed.py [--runs 5] [--frames 16] [--steps 20]
        [--decoder runs/decoder/export | none]

Times the pipeline call alone and the studio's path (the adapter with previews
at every step, then the MP4 scaled to the output size), alternating, and compares both with
the clip's own duration at its fps (a real-time factor above 1 is faster than
real time). The clip is made at the model's native size: 128 px through the
detail decoder when the weights carry one (or ``--decoder`` names a saved
one), else 32 px. Beside them, alternating, the clip as the model made it
before its detail decoder (32 px, guided at every step), with the ratio of
each pair: how much the decoder and the sampler's guidance stop cost or save
on this CPU, whatever its speed. Writes bench/results/builtin_speed.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import write_results  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, default=5.0)
    ap.add_argument("--fps", type=int, default=8)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument(
        "--decoder",
        default="",
        help="a saved detail decoder folder to time with ('none': the 32 px clip)",
    )
    ap.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / "builtin_speed.json")
    )
    args = ap.parse_args()

    import torch

    from generation.adapters.builtin import BuiltinAdapter
    from generation.builtin.pipeline import fast_bf16
    from generation.encode import write_video
    from generation.previews import encode_strip
    from generation.specs import GenerationSpec

    adapter = BuiltinAdapter.load(device="cpu")
    if args.decoder == "none":
        adapter.pipeline.decoder = None
        adapter = BuiltinAdapter(adapter.pipeline, device="cpu")
    elif args.decoder:
        from generation.builtin.decoder import BuiltinDetailDecoder

        adapter.pipeline.decoder = BuiltinDetailDecoder.from_pretrained(args.decoder)
        adapter = BuiltinAdapter(adapter.pipeline, device="cpu")
    pipe = adapter.pipeline
    native_w, native_h = adapter.native_size
    prompt = "slow push-in on a yellow star drifting left over a night sky"
    spec = GenerationSpec(
        prompt=prompt,
        num_frames=args.frames,
        fps=args.fps,
        width=args.size,
        height=args.size,
        num_inference_steps=args.steps,
        guidance_scale=args.guidance,
        seed=3,
    )

    def pipeline_only(bf16: bool | None = None, **overrides) -> float:
        pipe.bf16_autocast = bf16
        t0 = time.perf_counter()
        settings = dict(
            num_frames=args.frames,
            height=native_h,
            width=native_w,
            num_inference_steps=args.steps,
            guidance_scale=args.guidance,
            generator=torch.Generator().manual_seed(3),
        )
        pipe(prompt, **(settings | overrides))
        pipe.bf16_autocast = None
        return time.perf_counter() - t0

    def before() -> float:
        """The clip as the model made it before its detail decoder: 32 px,
        guided at every step (the encoder enlarged it); float32, as the pair's
        other half."""
        return pipeline_only(False, height=32, width=32, guidance_stop=0.0)

    video = Path(tempfile.mkdtemp(prefix="builtin-speed-")) / "clip.mp4"

    def with_previews() -> float:
        t0 = time.perf_counter()
        frames = adapter.generate(
            spec, on_preview=lambda step, steps, frames: encode_strip(frames)
        )
        write_video(frames, video, fps=args.fps, size=(args.size, args.size))
        return time.perf_counter() - t0

    bf16_here = fast_bf16(torch.device("cpu"))
    pipeline_only(False), with_previews()  # warm-up
    plain, plain_bf16, full, old = [], [], [], []
    for _ in range(args.runs):
        old.append(before())
        plain.append(pipeline_only(False))
        if bf16_here:
            plain_bf16.append(pipeline_only(True))
        full.append(with_previews())
    clip_seconds = args.frames / args.fps
    result = {
        "settings": vars(args)
        | {
            "threads": torch.get_num_threads(),
            "params": sum(p.numel() for p in pipe.transformer.parameters()),
            "native_size": [native_w, native_h],
            "decoder_params": sum(p.numel() for p in pipe.decoder.parameters())
            if pipe.decoder is not None
            else 0,
        },
        "bf16_autocast_default": bf16_here,
        "pipeline_float32_s": plain,
        "pipeline_bf16_s": plain_bf16,
        "studio_path_s": full,
        "pipeline_float32_median_s": statistics.median(plain),
        "pipeline_median_s": statistics.median(plain_bf16 or plain),
        "studio_path_median_s": statistics.median(full),
        "realtime_factor": clip_seconds / statistics.median(full),
        "before_decoder_s": old,
        "before_decoder_median_s": statistics.median(old),
        "ratio_to_before": statistics.median(
            [a / b for a, b in zip(plain, old, strict=True)]
        ),
    }
    print(
        f"{args.frames} frames at {native_w}×{native_h}, {args.steps} steps, "
        f"guidance {args.guidance}, {torch.get_num_threads()} threads"
    )
    print(
        f"pipeline call, float32 {result['pipeline_float32_median_s']:.3f} s "
        f"(median of {args.runs})"
    )
    print(
        f"before the decoder     {result['before_decoder_median_s']:.3f} s "
        f"(32 px, guided at every step, float32): now / before "
        f"{result['ratio_to_before']:.2f}× (median of the pairs)"
    )
    if plain_bf16:
        speedup = result["pipeline_float32_median_s"] / result["pipeline_median_s"]
        print(
            f"pipeline call, bf16    {result['pipeline_median_s']:.3f} s "
            f"({speedup:.2f}× float32; the default on this CPU)"
        )
    print(
        f"with previews + MP4    {result['studio_path_median_s']:.3f} s (target ≤ 1 s)"
    )
    print(f"real-time factor       {result['realtime_factor']:.2f}× at {args.fps} fps")
    write_results(result, args.out)


if __name__ == "__main__":
    main()
