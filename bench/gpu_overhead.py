"""GPU only: studio overhead on a real-size model, per step, with random weights.

    python bench/gpu_overhead.py --family wan [--frames 33] [--width 832]
        [--height 480] [--steps 10] [--runs 2] [--dtype bf16]
    python bench/gpu_overhead.py --family wan --tiny --device cpu   # a dry run

Not part of any test suite or CI: it needs CUDA and tens of GB of GPU memory.
It builds the family at its published size (Wan 2.1 1.3B, LTX-Video 2B,
CogVideoX-2b, HunyuanVideo 13B, AnimateDiff on an SD 1.5 UNet) straight on
the GPU with random weights; no checkpoint is downloaded. The text encoders
keep their output width but one layer, since prompts are encoded once per
clip, not per step. Then, alternating runs of the same settings, it times

- raw: ``pipeline(...)`` alone, no callback;
- studio: the family's adapter ``generate`` with a preview strip encoded at
  every step, exactly as the service does;

and prints seconds per step for both, their ratio (target ≤ 1.03), and the
preview's own cost per step (target ≤ 3 % of a step). Writes
bench/results/gpu_overhead_<family>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import write_results  # noqa: E402

SIZES = {  # frames, width, height: each family's published resolution
    "wan": (33, 832, 480),
    "ltx": (41, 704, 480),
    "cogvideox": (41, 720, 480),
    "hunyuan": (33, 848, 480),
    "animatediff": (16, 512, 512),
}


def text_encoder(kind: str, width: int) -> Any:
    """A one-layer text encoder with the real output width."""
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        LlamaConfig,
        LlamaModel,
        T5Config,
        T5EncoderModel,
        UMT5Config,
        UMT5EncoderModel,
    )

    from generation.tiny_models import VOCAB_SIZE

    if kind in ("t5", "umt5"):
        config_class, model_class = (
            (UMT5Config, UMT5EncoderModel)
            if kind == "umt5"
            else (T5Config, T5EncoderModel)
        )
        return model_class(
            config_class(
                vocab_size=VOCAB_SIZE,
                d_model=width,
                d_kv=64,
                d_ff=width,
                num_layers=1,
                num_heads=width // 64,
                pad_token_id=0,
                eos_token_id=1,
            )  # fmt: skip
        )
    if kind == "llama":
        return LlamaModel(
            LlamaConfig(
                vocab_size=VOCAB_SIZE,
                hidden_size=width,
                intermediate_size=width,
                num_hidden_layers=2,
                num_attention_heads=width // 128,
                num_key_value_heads=width // 128,
                max_position_embeddings=512,
                pad_token_id=0,
                bos_token_id=3,
                eos_token_id=1,
            )  # fmt: skip
        )
    return CLIPTextModel(
        CLIPTextConfig(
            vocab_size=VOCAB_SIZE,
            hidden_size=width,
            intermediate_size=width * 4,
            num_hidden_layers=1,
            num_attention_heads=width // 64,
            projection_dim=width,
            pad_token_id=0,
            bos_token_id=3,
            eos_token_id=2,
        )  # fmt: skip
    )


def real_size_pipeline(family: str) -> Any:
    """The family's pipeline at its published size, random weights."""
    import diffusers as d

    from generation.tiny_models import word_tokenizer

    if family == "wan":
        return d.WanPipeline(
            transformer=d.WanTransformer3DModel(
                num_attention_heads=12,
                attention_head_dim=128,
                ffn_dim=8960,
                num_layers=30,
                text_dim=4096,
                freq_dim=256,
            ),  # fmt: skip
            vae=d.AutoencoderKLWan(),
            scheduler=d.FlowMatchEulerDiscreteScheduler(shift=5.0),
            text_encoder=text_encoder("umt5", 4096),
            tokenizer=word_tokenizer(),
        )
    if family == "ltx":
        return d.LTXPipeline(
            transformer=d.LTXVideoTransformer3DModel(),
            vae=d.AutoencoderKLLTXVideo(),
            scheduler=d.FlowMatchEulerDiscreteScheduler(),
            text_encoder=text_encoder("t5", 4096),
            tokenizer=word_tokenizer(),
        )
    if family == "cogvideox":
        return d.CogVideoXPipeline(
            transformer=d.CogVideoXTransformer3DModel(),
            vae=d.AutoencoderKLCogVideoX(),
            scheduler=d.CogVideoXDDIMScheduler(timestep_spacing="trailing"),
            text_encoder=text_encoder("t5", 4096),
            tokenizer=word_tokenizer(),
        )
    if family == "hunyuan":
        return d.HunyuanVideoPipeline(
            transformer=d.HunyuanVideoTransformer3DModel(),
            vae=d.AutoencoderKLHunyuanVideo(),
            scheduler=d.FlowMatchEulerDiscreteScheduler(shift=7.0),
            text_encoder=text_encoder("llama", 4096),
            tokenizer=word_tokenizer(),
            text_encoder_2=text_encoder("clip", 768),
            tokenizer_2=word_tokenizer(77),
        )
    sd_vae = d.AutoencoderKL(
        block_out_channels=[128, 256, 512, 512],
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        layers_per_block=2,
    )
    return d.AnimateDiffPipeline(
        unet=d.UNet2DConditionModel(cross_attention_dim=768),
        motion_adapter=d.MotionAdapter(),
        vae=sd_vae,
        scheduler=d.DDIMScheduler(beta_schedule="linear", clip_sample=False),
        text_encoder=text_encoder("clip", 768),
        tokenizer=word_tokenizer(77),
        feature_extractor=None,
        image_encoder=None,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", required=True, choices=list(SIZES))
    ap.add_argument("--frames", type=int)
    ap.add_argument("--width", type=int)
    ap.add_argument("--height", type=int)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16", "fp32"])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--tiny", action="store_true", help="tiny model: a dry run")
    args = ap.parse_args()

    import torch

    from generation.adapters import family_module
    from generation.adapters.options import DTYPES, ModelOptions
    from generation.previews import encode_strip
    from generation.specs import GenerationSpec
    from generation.tiny_models import tiny_pipeline

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("This benchmark needs a CUDA GPU (or --tiny --device cpu).")
    frames, width, height = (9, 64, 64) if args.tiny else SIZES[args.family]
    spec = GenerationSpec(
        prompt="a red ball bouncing to the right, slow push-in",
        model=args.family,
        num_frames=args.frames or frames,
        width=args.width or width,
        height=args.height or height,
        num_inference_steps=args.steps,
        guidance_scale=1.0 if args.family == "hunyuan" else 5.0,
    )
    dtype = DTYPES[args.dtype]
    start = time.perf_counter()
    if args.tiny:
        pipeline = tiny_pipeline(args.family)
    else:
        with torch.device(args.device):
            pipeline = real_size_pipeline(args.family)
    pipeline.to(args.device, dtype)
    module = family_module(args.family)
    adapter_class = next(
        v
        for k, v in vars(module).items()
        if k.endswith("Adapter") and getattr(v, "family", None) == args.family
    )
    options = ModelOptions(dtype=args.dtype)
    adapter = adapter_class(pipeline, name=args.family, device=args.device,
                            options=options)  # fmt: skip
    print(f"built and fitted in {time.perf_counter() - start:.1f} s", flush=True)

    def sync() -> None:
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()

    def raw() -> float:
        sync()
        start = time.perf_counter()
        pipeline(
            prompt=spec.prompt,
            num_frames=spec.num_frames,
            height=spec.height,
            width=spec.width,
            num_inference_steps=spec.num_inference_steps,
            guidance_scale=spec.guidance_scale,
            generator=torch.Generator("cpu").manual_seed(0),
            output_type="np",
        )
        sync()
        return time.perf_counter() - start

    preview_times: list[float] = []

    def on_preview(step: int, steps: int, frames: Any) -> None:
        began = time.perf_counter()
        encode_strip(frames)
        preview_times.append(time.perf_counter() - began)

    def studio() -> float:
        sync()
        start = time.perf_counter()
        adapter.generate(spec, on_preview=on_preview, should_stop=lambda: False)
        sync()
        return time.perf_counter() - start

    raw()  # warm-up: kernels, allocator
    raw_times, studio_times = [], []
    for _ in range(args.runs):
        raw_times.append(raw())
        studio_times.append(studio())
    # The projection runs inside the callback; time it alone on the last latents.
    latents: dict[str, Any] = {}

    def keep(pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict:
        latents["latents"] = kwargs["latents"]
        return kwargs

    pipeline(prompt=spec.prompt, num_frames=spec.num_frames, height=spec.height,
             width=spec.width, num_inference_steps=1, output_type="latent",
             callback_on_step_end=keep)  # fmt: skip
    projections = []
    for _ in range(10):
        sync()
        began = time.perf_counter()
        adapter.preview_frames(latents["latents"], spec)
        sync()
        projections.append(time.perf_counter() - began)

    steps = spec.num_inference_steps
    raw_step = statistics.median(raw_times) / steps
    studio_step = statistics.median(studio_times) / steps
    preview_ms = (
        statistics.median(projections) + statistics.median(preview_times)
    ) * 1e3
    report = {
        "family": args.family,
        "device": torch.cuda.get_device_name()
        if args.device.startswith("cuda")
        else "cpu",
        "dtype": args.dtype,
        "frames": spec.num_frames,
        "size": [spec.width, spec.height],
        "steps": steps,
        "raw_s_per_step": round(raw_step, 4),
        "studio_s_per_step": round(studio_step, 4),
        "ratio": round(studio_step / raw_step, 4),
        "preview_ms_per_step": round(preview_ms, 3),
        "preview_share_of_step": round(preview_ms / 1e3 / raw_step, 4),
    }
    print(json.dumps(report, indent=2))
    write_results(
        report, ROOT / "bench" / "results" / f"gpu_overhead_{args.family}.json"
    )


if __name__ == "__main__":
    main()
