"""What a step preview costs next to a full VAE decode, for every real family.

    python bench/preview_cost.py [--frames 17] [--size 64] [--reps 20] [--threads N]

Builds each family's tiny random-weight pipeline (generation.tiny_models),
runs two steps to catch the latents the step callback sees, then times
(a) the adapter's preview: unpack/denormalise, the fitted linear projection
and the JPEG strip the websocket carries, and (b) the decode the pipeline
would do instead: its own denormalisation and ``vae.decode``. CPU only;
writes bench/results/preview_cost.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import write_results  # noqa: E402


def timed(function, reps: int) -> float:
    """Median milliseconds of ``reps`` calls."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def decoder(family: str, adapter, spec):
    """The pipeline's own latents → pixels path, from callback latents."""
    import torch

    pipe = adapter.pipeline
    vae = pipe.vae
    if family == "wan":
        mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1)
        std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1)
        return lambda latents: vae.decode(latents * std + mean).sample
    if family == "ltx":

        def ltx(latents):
            frames = (spec.num_frames - 1) // pipe.vae_temporal_compression_ratio + 1
            side = spec.height // pipe.vae_spatial_compression_ratio
            video = pipe._unpack_latents(latents, frames, side, side, 1, 1)
            video = pipe._denormalize_latents(
                video, vae.latents_mean, vae.latents_std, vae.config.scaling_factor
            )
            return vae.decode(video, None).sample

        return ltx
    if family == "cogvideox":
        scale = vae.config.scaling_factor
        return lambda latents: vae.decode(latents.permute(0, 2, 1, 3, 4) / scale).sample
    if family == "animatediff":
        return lambda latents: pipe.decode_latents(latents)
    scale = vae.config.scaling_factor
    return lambda latents: vae.decode(latents / scale).sample


def measure(family: str, root: Path, spec, reps: int) -> dict:
    """Time one family's preview and decode on the latents of a 2-step run."""
    from generation.adapters import family_module
    from generation.previews import encode_strip
    from generation.tiny_models import save_tiny

    module = family_module(family)
    adapter_class = next(
        v
        for k, v in vars(module).items()
        if k.endswith("Adapter") and getattr(v, "family", None) == family
    )
    folder = save_tiny(family, root / family)
    start = time.perf_counter()
    adapter = adapter_class.load(folder, name=family)
    load_s = time.perf_counter() - start
    if family == "animatediff":
        spec = dataclasses.replace(spec, num_frames=min(spec.num_frames, 32))
    caught = {}

    def keep(pipe, step, timestep, kwargs):
        caught["latents"] = kwargs["latents"].clone()
        return kwargs

    adapter.pipeline(
        prompt=spec.prompt,
        num_frames=spec.num_frames,
        height=spec.height,
        width=spec.width,
        num_inference_steps=2,
        output_type="latent",
        callback_on_step_end=keep,
    )
    latents = caught["latents"]

    def preview():
        return adapter.preview_frames(latents, spec)

    frames = preview()
    preview()  # warm up
    project_ms = timed(preview, reps)
    strip_ms = timed(lambda: encode_strip(frames), reps)
    decode = decoder(family, adapter, spec)
    decode(latents)  # warm up
    decode_ms = timed(lambda: decode(latents), max(3, reps // 4))
    return {
        "family": family,
        "latents": list(latents.shape),
        "preview_frames": list(frames.shape),
        "projection_ms": round(project_ms, 3),
        "strip_ms": round(strip_ms, 3),
        "preview_ms": round(project_ms + strip_ms, 3),
        "vae_decode_ms": round(decode_ms, 2),
        "decode_over_preview": round(decode_ms / (project_ms + strip_ms), 1),
        "fit_residual": round(adapter.projection.residual, 4),
        "load_and_fit_s": round(load_s, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=17)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument(
        "--threads", type=int, default=0, help="torch threads (0: torch's default)"
    )
    ap.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / "preview_cost.json")
    )
    args = ap.parse_args()

    import torch

    from generation.specs import GenerationSpec
    from generation.tiny_models import FAMILIES

    torch.set_grad_enabled(False)
    if args.threads:
        torch.set_num_threads(args.threads)
    spec = GenerationSpec(
        prompt="a red ball bouncing to the right",
        num_frames=args.frames,
        width=args.size,
        height=args.size,
        num_inference_steps=2,
        guidance_scale=1.0,
    )
    results = []
    with tempfile.TemporaryDirectory() as root:
        for family in FAMILIES:
            row = measure(family, Path(root), spec, args.reps)
            results.append(row)
            print(
                f"{family:12s} latents {tuple(row['latents'])!s:24s} "
                f"preview {row['preview_ms']:7.2f} ms "
                f"(projection {row['projection_ms']:.2f} + strip {row['strip_ms']:.2f})"
                f"  VAE decode {row['vae_decode_ms']:8.1f} ms  "
                f"×{row['decode_over_preview']}"
            )
    report = {
        "frames": args.frames,
        "size": args.size,
        "torch_threads": torch.get_num_threads(),
        "results": results,
    }
    write_results(report, args.out)


if __name__ == "__main__":
    main()
