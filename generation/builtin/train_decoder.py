"""Train the built-in detail decoder on clips the world renders at two sizes.

    python -m generation.builtin.train_decoder --steps 8000 --out runs/decoder --resume

The world renders random clips at 32 px and at 128 px into a pool that
takes one fresh clip a step (rendering costs more than a step of this small
network); every step draws clips from the pool, a random run of frames and a
random crop of each. The 32 px clip, blurred and noised at random (so the decoder also
takes the denoiser's imperfect frames), is the input and the 128 px render
of the same parameters the target. Loss: L1 on pixels plus L1 on the spatial
gradients, which pays for edges in the right place rather than a safe blur.
An EMA of the weights is what gets exported.

A resumable checkpoint and a JSONL log go to ``--out`` every few minutes, with
a ``save_pretrained`` export of the EMA weights to ``--export``. Once an export
measures well (``bench/sharpness.py --decoder``, ``evaluate --size 128
--decoder``), ``--install EXPORT`` puts it beside the shipped denoiser, where
``BuiltinVideoPipeline.from_pretrained`` picks it up. Held-out
figures: the L1 error of the decoder and of plain bicubic enlargement on
held-out clips at full size.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import random
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import world
from .decoder import BuiltinDetailDecoder
from .pipeline import WEIGHTS_DIR

DEFAULT_MODEL = dict(channels=32, blocks=4, up_channels=24)
POOL_FRAMES = 16  # the default clip length, so motion per frame is as generated


def to_tensor(clips: np.ndarray) -> torch.Tensor:
    """uint8 (B, T, H, W, 3) → float (B, 3, T, H, W) in [-1, 1]."""
    x = torch.from_numpy(clips).float().div_(127.5).sub_(1.0)
    return x.permute(0, 4, 1, 2, 3).contiguous()


def render_at(
    params: world.ClipParams, frames: int, sizes: tuple[int, ...]
) -> tuple[torch.Tensor, ...]:
    """One clip's parameters rendered at each of ``sizes``, (1, 3, T, H, W)."""
    return tuple(to_tensor(world.render(params, frames, s)[None]) for s in sizes)


def render_sizes(
    rng: random.Random,
    clips: int,
    frames: int,
    sizes: tuple[int, ...],
    *,
    held_out: bool = False,
) -> tuple[torch.Tensor, ...]:
    """The same random clips at each of ``sizes``, (B, 3, T, H, W) in [-1, 1]."""
    rendered = [
        render_at(world.sample_params(rng, held_out=held_out), frames, sizes)
        for _ in range(clips)
    ]
    return tuple(torch.cat(parts) for parts in zip(*rendered, strict=True))


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Blur each clip of (B, 3, T, H, W) with its own sigma (B,), in pixels."""
    b, c, t, h, w = x.shape
    taps = torch.arange(-2, 3, dtype=x.dtype)
    k = torch.exp(-(taps[None] ** 2) / (2 * sigma[:, None].clamp_min(1e-3) ** 2))
    k = k / k.sum(dim=1, keepdim=True)  # (B, 5)
    frames = x.permute(0, 2, 1, 3, 4).reshape(1, b * t * c, h, w)
    per_plane = k.repeat_interleave(t * c, dim=0)
    frames = F.pad(frames, (2, 2, 2, 2), mode="replicate")
    frames = F.conv2d(frames, per_plane[:, None, None, :], groups=b * t * c)
    frames = F.conv2d(frames, per_plane[:, None, :, None], groups=b * t * c)
    return frames.view(b, t, c, h, w).permute(0, 2, 1, 3, 4)


def augment(
    low: torch.Tensor,
    gen: torch.Generator,
    *,
    blur_share: float = 0.5,
    blur_max: float = 0.9,
    noise_max: float = 0.06,
) -> torch.Tensor:
    """Noise conditioning augmentation: random blur (σ 0.25 px to ``blur_max``
    on ``blur_share`` of the clips) and noise (σ up to ``noise_max`` on 60 %)."""
    b = low.shape[0]
    blur = torch.rand(b, generator=gen) < blur_share
    sigma = 0.25 + (blur_max - 0.25) * torch.rand(b, generator=gen)
    out = torch.where(blur[:, None, None, None, None], gaussian_blur(low, sigma), low)
    std = (
        noise_max * torch.rand(b, generator=gen) * (torch.rand(b, generator=gen) < 0.6)
    )
    noise = torch.randn(low.shape, generator=gen) * std[:, None, None, None, None]
    return (out + noise).clamp(-1, 1)


def detail_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 on pixels plus L1 on horizontal and vertical differences."""
    loss = (pred - target).abs().mean()
    for dim in (-1, -2):
        loss = loss + 0.5 * (pred.diff(dim=dim) - target.diff(dim=dim)).abs().mean()
    return loss


class DecoderTrainer:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(args.seed)
        self.rng = random.Random(args.seed)
        self.gen = torch.Generator().manual_seed(args.seed)
        self.model_config = {**DEFAULT_MODEL, **json.loads(args.model or "{}")}
        self.model = BuiltinDetailDecoder(**self.model_config)
        self.scales = self.model.scales
        self.sizes = (32, *(32 * s for s in self.scales))
        self.ema = copy.deepcopy(self.model).requires_grad_(False)
        ckpt = self.out / "checkpoint.pt"
        if args.init_from and not (args.resume and ckpt.exists()):
            self.init_from(Path(args.init_from))
        self.opt = torch.optim.AdamW(
            self.model.parameters(), lr=args.lr, weight_decay=0.0, betas=(0.9, 0.99)
        )
        self.step = 0
        self.wall_before = 0.0
        self.started = time.time()
        if args.resume and ckpt.exists():
            state = torch.load(ckpt, weights_only=False)
            self.model.load_state_dict(state["model"])
            self.ema.load_state_dict(state["ema"])
            self.opt.load_state_dict(state["opt"])
            self.step = state["step"]
            self.rng.setstate(state["rng"])
            self.gen.set_state(state["gen"])
            torch.set_rng_state(state["torch_rng"])
            self.wall_before = state.get("wall", 0.0)
            print(f"resumed from step {self.step}")
        self.pool = [self.pool_entry() for _ in range(args.pool)]
        # A fixed held-out set, the same on every resume.
        self.heldout = self.render(
            random.Random(12345), args.heldout_clips, 16, held_out=True
        )

    def render(self, rng, clips, frames, held_out=False) -> tuple[torch.Tensor, ...]:
        return render_sizes(rng, clips, frames, self.sizes, held_out=held_out)

    def pool_entry(self) -> tuple[torch.Tensor, ...]:
        """A fresh clip at every size."""
        return render_at(world.sample_params(self.rng), POOL_FRAMES, self.sizes)

    def init_from(self, folder: Path) -> None:
        """Start from a saved decoder's weights wherever the shapes agree (a
        scale-4 decoder gives a scale-8 one its trunk)."""
        saved = BuiltinDetailDecoder.from_pretrained(folder).state_dict()
        own = self.model.state_dict()
        taken = {k: v for k, v in saved.items() if k in own and own[k].shape == v.shape}
        self.model.load_state_dict(taken, strict=False)
        self.ema.load_state_dict(self.model.state_dict())
        print(f"started {len(taken)} of {len(own)} tensors from {folder}")

    def learning_rate(self) -> float:
        a = self.args
        if self.step < a.warmup:
            return a.lr * (self.step + 1) / a.warmup
        progress = min(1.0, (self.step - a.warmup) / max(1, a.steps - a.warmup))
        final = a.lr * a.lr_final_ratio
        return final + (a.lr - final) * 0.5 * (1 + math.cos(math.pi * progress))

    def train_step(self) -> float:
        a = self.args
        self.pool[self.step % len(self.pool)] = self.pool_entry()
        frames = self.rng.choice(a.frames)
        crop = a.crop
        crops: list[list[torch.Tensor]] = [[] for _ in self.sizes]
        for _ in range(max(1, a.batch_frames // frames)):
            clip = self.rng.choice(self.pool)
            f0 = self.rng.randrange(0, POOL_FRAMES - frames + 1)
            y0 = self.rng.randrange(0, 32 - crop + 1)
            x0 = self.rng.randrange(0, 32 - crop + 1)
            for out, sized in zip(crops, clip, strict=True):
                k = sized.shape[-1] // 32
                out.append(
                    sized[
                        :,
                        :,
                        f0 : f0 + frames,
                        k * y0 : k * (y0 + crop),
                        k * x0 : k * (x0 + crop),
                    ]
                )
        low = augment(
            torch.cat(crops[0]),
            self.gen,
            blur_share=a.blur_share,
            blur_max=a.blur_max,
            noise_max=a.noise_max,
        )
        for group in self.opt.param_groups:
            group["lr"] = self.learning_rate()
        # The largest enlargement is the one clips use; a scale-8 decoder's
        # 128 px output learns beside it at a smaller weight.
        loss = 0.0
        for scale, high in zip(self.scales, crops[1:], strict=True):
            weight = 1.0 if scale == self.scales[-1] else a.small_weight
            loss = loss + weight * detail_loss(self.model(low, scale), torch.cat(high))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        with torch.no_grad():
            decay = min(a.ema, (1 + self.step) / (10 + self.step))
            for e, p in zip(
                self.ema.parameters(), self.model.parameters(), strict=True
            ):
                e.lerp_(p, 1 - decay)
        self.step += 1
        return float(loss.detach())

    @torch.no_grad()
    def heldout_metrics(self) -> dict[str, float]:
        """L1 of the decoder and of bicubic at the largest scale (and, for a
        scale-8 decoder, ``heldout_ratio_128`` at its 128 px output)."""
        low = self.heldout[0]
        out: dict[str, float] = {}
        for scale, high in zip(self.scales, self.heldout[1:], strict=True):
            pred = self.ema(low, scale).clamp(-1, 1)
            bicubic = F.interpolate(
                low.permute(0, 2, 1, 3, 4).flatten(0, 1),
                scale_factor=scale,
                mode="bicubic",
                align_corners=False,
            ).clamp(-1, 1)
            bicubic = bicubic.view(high.shape[0], high.shape[2], *bicubic.shape[1:])
            bicubic = bicubic.permute(0, 2, 1, 3, 4)
            l1 = float((pred - high).abs().mean())
            l1_bicubic = float((bicubic - high).abs().mean())
            suffix = "" if scale == self.scales[-1] else f"_{32 * scale}"
            out |= {
                f"heldout_l1{suffix}": l1,
                f"heldout_l1_bicubic{suffix}": l1_bicubic,
                f"heldout_ratio{suffix}": l1 / l1_bicubic,
            }
        return out

    def wall(self) -> float:
        return self.wall_before + time.time() - self.started

    def save(self) -> None:
        state = {
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict(),
            "opt": self.opt.state_dict(),
            "step": self.step,
            "rng": self.rng.getstate(),
            "gen": self.gen.get_state(),
            "torch_rng": torch.get_rng_state(),
            "wall": self.wall(),
            "config": self.model_config,
            "args": vars(self.args),
        }
        tmp = self.out / "checkpoint.pt.tmp"
        torch.save(state, tmp)
        tmp.replace(self.out / "checkpoint.pt")

    def export(self, path: Path) -> None:
        """save_pretrained the EMA weights with ``training.json`` (step and recipe)."""
        self.ema.save_pretrained(path)
        info = {
            "step": self.step,
            "wall_seconds": round(self.wall()),
            "model": self.model_config,
            "args": {k: v for k, v in vars(self.args).items() if k != "export"},
            **self.heldout_metrics(),
        }
        (path / "training.json").write_text(json.dumps(info, indent=2) + "\n")

    def log(self, row: dict) -> None:
        with open(self.out / "log.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")

    def run(self) -> None:
        a = self.args
        bar = tqdm(total=a.steps, initial=self.step, desc="decoder", dynamic_ncols=True)
        losses: list[float] = []
        last_save = time.time()
        while self.step < a.steps:
            self.model.train()
            losses.append(self.train_step())
            bar.update(1)
            if self.step % a.log_every == 0:
                loss = float(np.mean(losses))
                losses = []
                bar.set_postfix(loss=f"{loss:.4f}", lr=f"{self.learning_rate():.1e}")
                self.log({"step": self.step, "loss": loss, "wall": round(self.wall())})
            if self.step % a.eval_every == 0:
                m = self.heldout_metrics()
                self.log({"step": self.step, **m})
                bar.write(
                    f"step {self.step}: "
                    + ", ".join(f"{k} {v:.4f}" for k, v in m.items())
                )
            due = time.time() - last_save > a.save_minutes * 60
            if due or self.step == a.steps:
                self.save()
                if a.export:
                    self.export(Path(a.export))
                last_save = time.time()
        bar.close()


def install(export: Path, weights: Path = WEIGHTS_DIR) -> Path:
    """Copy an exported decoder into a saved pipeline folder as its
    ``decoder`` component and list it in ``model_index.json``.

    The denoiser's files are left alone (no second save of its weights).
    """
    BuiltinDetailDecoder.from_pretrained(export)  # refuse a broken export
    target = weights / "decoder"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "diffusion_pytorch_model.safetensors"):
        shutil.copyfile(export / name, target / name)
    if (export / "training.json").is_file():
        shutil.copyfile(export / "training.json", target / "training.json")
    index_path = weights / "model_index.json"
    index = json.loads(index_path.read_text())
    index["decoder"] = ["generation.builtin.decoder", "BuiltinDetailDecoder"]
    index_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return target


def main(argv: list[str] | None = None) -> DecoderTrainer | None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=8000)
    p.add_argument(
        "--batch-frames",
        type=int,
        default=24,
        help="frames a step (clips = this / the step's frame count)",
    )
    p.add_argument("--frames", type=int, nargs="+", default=[4, 8])
    p.add_argument("--pool", type=int, default=48, help="rendered clips kept")
    p.add_argument("--crop", type=int, default=20, help="input crop side, 32 px clip")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--lr-final-ratio", type=float, default=0.05)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/decoder")
    p.add_argument("--resume", action="store_true")
    p.add_argument(
        "--export",
        default="runs/decoder/export",
        help="folder to save_pretrained the EMA weights into ('' to skip)",
    )
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--save-minutes", type=float, default=5.0)
    p.add_argument("--heldout-clips", type=int, default=8)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--model", default="", help="JSON overrides of the decoder config")
    p.add_argument(
        "--init-from",
        default="",
        metavar="DECODER",
        help="start from a saved decoder's weights where the shapes agree",
    )
    p.add_argument("--blur-share", type=float, default=0.5)
    p.add_argument("--blur-max", type=float, default=0.9, help="px, at 32 px")
    p.add_argument("--noise-max", type=float, default=0.06)
    p.add_argument(
        "--small-weight",
        type=float,
        default=0.5,
        help="loss weight of a scale-8 decoder's 128 px output",
    )
    p.add_argument(
        "--install",
        default="",
        metavar="EXPORT",
        help="no training: copy this exported decoder into --weights and list it",
    )
    p.add_argument("--weights", default=str(WEIGHTS_DIR))
    args = p.parse_args(argv)
    if args.install:
        target = install(Path(args.install), Path(args.weights))
        print(f"installed {args.install} as {target}")
        return None
    if args.threads:
        torch.set_num_threads(args.threads)
    trainer = DecoderTrainer(args)
    trainer.run()
    return trainer


if __name__ == "__main__":
    main()
