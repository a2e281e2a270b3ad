"""Train the built-in text-to-video model on clips the world renders on the fly.

    python -m generation.builtin.train --steps 20000 --out runs/builtin

Rectified flow (velocity = noise − clean), logit-normal flow times, prompt
dropout for classifier-free guidance, an EMA of the weights. Checkpoints
(resumable) and a JSONL log go to ``--out``; ``--export`` writes the EMA
weights with ``save_pretrained`` to the shipped weights folder. Held-out
metrics: the loss on held-out combinations and phrasings, and how much the
loss rises when the colour, direction or camera in the caption is swapped —
a model that ignores a word shows no rise.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import random
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from . import world
from .model import BuiltinVideoDenoiser, grow_attribute_groups
from .pipeline import WEIGHTS_DIR, BuiltinVideoPipeline, fast_bf16, make_scheduler
from .text import MiniLMTextEncoder

DEFAULT_MODEL = dict(
    conv_channels=64,
    dim=192,
    depth=4,
    heads=4,
    cond_dim=256,
    attribute_groups=list(world.ATTRIBUTE_GROUPS),
)
SWAPS = {
    "colour": None,
    "direction": {
        "left": "right",
        "right": "left",
        "up": "down",
        "down": "up",
        "grow": "shrink",
        "shrink": "grow",
        "still": "left",
        "up-left": "down-right",
        "down-right": "up-left",
        "up-right": "down-left",
        "down-left": "up-right",
        "bounce": "left",
    },
    "camera": {
        "static": "pan-left",
        "pan-left": "pan-right",
        "pan-right": "pan-left",
        "push-in": "pull-out",
        "pull-out": "push-in",
    },
}


def to_tensor(clips: np.ndarray) -> torch.Tensor:
    """uint8 (B, T, H, W, 3) → float (B, 3, T, H, W) in [-1, 1]."""
    x = torch.from_numpy(clips).float().div_(127.5).sub_(1.0)
    return x.permute(0, 4, 1, 2, 3).contiguous()


def swapped(params: world.ClipParams, kind: str) -> world.ClipParams:
    main = params.objects[0]
    if kind == "colour":
        colours = list(world.COLOURS)
        new = replace(
            main, colour=colours[(colours.index(main.colour) + 3) % len(colours)]
        )
        return replace(params, objects=(new, *params.objects[1:]))
    if kind == "direction":
        new = replace(main, motion=SWAPS["direction"][main.motion])
        return replace(params, objects=(new, *params.objects[1:]))
    return replace(params, camera=SWAPS["camera"][params.camera])


class Trainer:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(args.seed)
        self.rng = random.Random(args.seed)
        self.model_config = {**DEFAULT_MODEL, **json.loads(args.model or "{}")}
        self.model = BuiltinVideoDenoiser(**self.model_config)
        self.ema = copy.deepcopy(self.model).requires_grad_(False)
        self.opt = torch.optim.AdamW(
            self.model.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.99)
        )
        self.text = MiniLMTextEncoder("cpu", cache_size=200_000)
        self.empty = self.text.encode([""])
        self.step = 0
        self.warm_start = 0  # warm-up restarts whenever the optimiser starts fresh
        self.started = time.time()
        self.wall_before = 0.0
        ckpt = self.out / "checkpoint.pt"
        if args.resume and ckpt.exists():
            state = torch.load(ckpt, weights_only=False)
            self.model.load_state_dict(state["model"])
            self.ema.load_state_dict(state["ema"])
            self.opt.load_state_dict(state["opt"])
            self.step = state["step"]
            self.warm_start = state.get("warm_start", 0)
            self.rng.setstate(state["rng"])
            torch.set_rng_state(state["torch_rng"])
            self.wall_before = state.get("wall", 0.0)
            print(f"resumed from step {self.step}")
        elif args.init_from:
            # Continue from shipped weights (the EMA) when no checkpoint is at hand.
            weights = BuiltinVideoDenoiser.from_pretrained(
                Path(args.init_from) / "transformer"
            )
            state = weights.state_dict()
            old_groups = tuple(weights.config.attribute_groups)
            new_groups = tuple(self.model_config["attribute_groups"])
            if old_groups and old_groups != new_groups:
                # The world has grown: old terms keep what they learned.
                state = grow_attribute_groups(state, old_groups, new_groups)
                print(f"attribute groups grown: {old_groups} → {new_groups}")
            missing, _ = self.model.load_state_dict(state, strict=False)
            self.ema.load_state_dict(state, strict=False)
            if missing:
                print(f"new parameters, trained from scratch: {len(missing)} tensors")
            info = Path(args.init_from) / "training.json"
            if info.is_file():
                self.step = json.loads(info.read_text())["step"]
            self.warm_start = self.step
            print(f"initialised from {args.init_from} at step {self.step}")
        self.heldout = self._heldout_batch()
        self.reader_heldout = self._caption_bank(
            16 * args.heldout_size, held_out=True, seed=54321
        )
        resumed = args.resume and ckpt.exists()
        if (
            args.reader_steps
            and self.model.reader is not None
            and not resumed
            and not args.reader_only
        ):
            self.pretrain_reader(args.reader_steps)

    def _heldout_batch(self):
        rng = random.Random(12345)
        items = []
        for _ in range(self.args.heldout_size):
            p = world.sample_params(rng, held_out=True, camera_prob=0.5)
            items.append((p, rng.randrange(1 << 30)))
        clips = np.stack([world.render(p, 8, 32) for p, _ in items])
        gen = torch.Generator().manual_seed(7)
        x0 = to_tensor(clips)
        noise = torch.randn(x0.shape, generator=gen)
        t = torch.sigmoid(torch.randn(len(items), generator=gen))
        return items, x0, noise, t

    def encode(self, captions: list[str]):
        return self.text.encode(captions)

    def _caption_bank(self, size: int, *, held_out: bool, seed: int):
        """Captions (10 % empty) with their attribute labels, encoded once."""
        rng = random.Random(seed)
        captions, labels = [], []
        for _ in range(size):
            if rng.random() < 0.1:
                captions.append("")
                labels.append(world.attribute_labels(None))
                continue
            p = world.sample_params(rng, held_out=held_out, camera_prob=0.5)
            captions.append(world.caption(p, rng, held_out=held_out))
            labels.append(world.attribute_labels(p))
        states, mask, pooled = self.encode(captions)
        return states, mask, pooled, torch.tensor(labels)

    def reader_loss(self, model, states, mask, pooled, labels) -> torch.Tensor:
        logits = model.reader(states, pooled, mask)
        return sum(
            torch.nn.functional.cross_entropy(lg.float(), labels[:, i])
            for i, lg in enumerate(logits)
        ) / len(logits)

    @torch.no_grad()
    def reader_accuracy(self, model) -> dict[str, float]:
        states, mask, pooled, labels = self.reader_heldout
        logits = model.reader(states, pooled, mask)
        return {
            f"reader_{name}": (lg.argmax(-1) == labels[:, i]).float().mean().item()
            for i, (name, lg) in enumerate(zip(world.ATTRIBUTES, logits, strict=True))
        }

    def pretrain_reader(self, steps: int) -> None:
        """Fit the prompt reader alone on a bank of captions before the denoiser."""
        bank = self._caption_bank(
            self.args.reader_bank, held_out=False, seed=self.args.seed + 99
        )
        params = list(self.model.reader.parameters())
        opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
        gen = torch.Generator().manual_seed(self.args.seed)
        n = len(bank[3])
        for _ in tqdm(range(steps), desc="reader", dynamic_ncols=True):
            idx = torch.randint(0, n, (256,), generator=gen)
            loss = self.reader_loss(self.model, *(x[idx] for x in bank))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        self.ema.reader.load_state_dict(self.model.reader.state_dict())
        acc = self.reader_accuracy(self.model)
        print(
            "reader on held-out phrasings: "
            + ", ".join(f"{k[7:]} {v:.1%}" for k, v in acc.items())
        )

    def flow_loss(self, model, x0, noise, t, captions, reduce=True, labels=None):
        states, mask, pooled = self.encode(captions)
        tt = t.view(-1, 1, 1, 1, 1)
        xt = (1 - tt) * x0 + tt * noise
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.args.bf16):
            pred = model(xt, t * 1000, states, pooled, mask)
        if labels is not None and model.reader is not None:
            # The reader learns from the world's labels beside the flow loss.
            self._reader_loss = self.reader_loss(model, states, mask, pooled, labels)
        err = (pred.float() - (noise - x0)).pow(2).mean(dim=(1, 2, 3, 4))
        return err.mean() if reduce else err

    def learning_rate(self) -> float:
        """Linear warm-up, then constant, then (with --decay-from) a cosine down
        to --lr-final-ratio of --lr by --steps."""
        a = self.args
        lr = a.lr * min(1.0, (self.step - self.warm_start + 1) / a.warmup)
        if a.decay_from and self.step > a.decay_from:
            span = max(1, a.steps - a.decay_from)
            frac = min(1.0, (self.step - a.decay_from) / span)
            floor = a.lr_final_ratio
            lr *= floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * frac))
        return lr

    def favoured_batch(self, frames: int, camera_prob: float):
        """A batch in which --favour-share of the clips show one of the
        --favour terms (a subject or a scene), the rest drawn as usual: new
        terms get learned sooner while the old ones keep being seen."""
        favoured = set(self.args.favour)
        clips, captions, params = [], [], []
        while len(params) < self.args.batch:
            want = self.rng.random() < self.args.favour_share
            for _ in range(200):
                p = world.sample_params(self.rng, camera_prob=camera_prob)
                if not want or {p.objects[0].shape, p.scene} & favoured:
                    break
            clips.append(world.render(p, frames, 32))
            captions.append(world.caption(p, self.rng))
            params.append(p)
        return np.stack(clips), captions, params

    def train_step(self) -> float:
        a = self.args
        frames = self.rng.choice(a.frames)
        progress = min(1.0, self.step / max(a.camera_ramp, 1))
        camera_prob = 0.15 + (0.5 - 0.15) * progress
        if a.favour_share:
            clips, captions, params = self.favoured_batch(frames, camera_prob)
        else:
            clips, captions, params = world.batch(
                self.rng, a.batch, frames, 32, camera_prob=camera_prob
            )
        drop = [self.rng.random() < a.cfg_dropout for _ in captions]
        captions = ["" if d else c for d, c in zip(drop, captions, strict=True)]
        labels = torch.tensor(
            [
                world.attribute_labels(None if d else p)
                for d, p in zip(drop, params, strict=True)
            ]
        )
        x0 = to_tensor(clips)
        noise = torch.randn_like(x0)
        t = torch.sigmoid(torch.randn(a.batch) + a.t_mean)
        lr = self.learning_rate()
        for g in self.opt.param_groups:
            g["lr"] = lr
        self._reader_loss = None
        loss = self.flow_loss(self.model, x0, noise, t, captions, labels=labels)
        total = loss if self._reader_loss is None else loss + self._reader_loss
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        decay = min(a.ema, (1 + self.step) / (10 + self.step))
        with torch.no_grad():
            for pe, pm in zip(
                self.ema.parameters(), self.model.parameters(), strict=True
            ):
                pe.lerp_(pm, 1 - decay)
        self.step += 1
        return loss.item()

    @torch.no_grad()
    def heldout_metrics(self) -> dict[str, float]:
        items, x0, noise, t = self.heldout

        def caps(kind=None):
            out = []
            for p, seed in items:
                q = p if kind is None else swapped(p, kind)
                out.append(world.caption(q, random.Random(seed), held_out=True))
            return out

        self.ema.eval()
        base = self.flow_loss(self.ema, x0, noise, t, caps(), reduce=False)
        metrics = {"heldout_loss": base.mean().item()}
        for kind in SWAPS:
            sw = self.flow_loss(self.ema, x0, noise, t, caps(kind), reduce=False)
            metrics[f"gap_{kind}"] = ((sw - base) / base).mean().item()
        if self.ema.reader is not None:
            metrics.update(self.reader_accuracy(self.ema))
        return metrics

    def save(self) -> None:
        state = {
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict(),
            "opt": self.opt.state_dict(),
            "step": self.step,
            "warm_start": self.warm_start,
            "rng": self.rng.getstate(),
            "torch_rng": torch.get_rng_state(),
            "wall": self.wall(),
            "config": self.model_config,
            "args": vars(self.args),
        }
        tmp = self.out / "checkpoint.pt.tmp"
        torch.save(state, tmp)
        tmp.replace(self.out / "checkpoint.pt")

    def export(self, path: Path, info: dict | None = None) -> None:
        """save_pretrained the EMA weights with ``training.json`` (``info``, or
        this run's step and recipe)."""
        pipe = BuiltinVideoPipeline(transformer=self.ema, scheduler=make_scheduler())
        pipe.save_pretrained(path)
        if info is None:
            info = {
                "step": self.step,
                "wall_seconds": round(self.wall()),
                "model": self.model_config,
                "args": {k: _portable(v) for k, v in vars(self.args).items()},
            }
        (path / "training.json").write_text(json.dumps(info, indent=2))

    def refit_reader(self, path: Path) -> None:
        """Fit only the prompt reader again, on captions in today's vocabulary,
        and export: the denoiser is untouched.

        The denoiser conditions on the reader's probabilities (detached), so a
        reader that reads more words right is a drop-in improvement. The
        starting weights' recipe is kept in ``training.json`` with the refit
        added under ``reader_refit``.
        """
        if self.model.reader is None:
            raise SystemExit("these weights have no prompt reader to refit")
        before = self.reader_accuracy(self.ema)
        started = time.time()
        self.pretrain_reader(self.args.reader_steps or 1000)
        after = self.reader_accuracy(self.ema)
        base = Path(self.args.init_from) / "training.json"
        info = json.loads(base.read_text()) if base.is_file() else {}
        info["reader_refit"] = {
            "steps": self.args.reader_steps or 1000,
            "bank": self.args.reader_bank,
            "seed": self.args.seed,
            "seconds": round(time.time() - started),
            "heldout_before": {k[7:]: round(v, 4) for k, v in before.items()},
            "heldout_after": {k[7:]: round(v, 4) for k, v in after.items()},
        }
        self.export(path, info)

    def wall(self) -> float:
        return self.wall_before + time.time() - self.started

    def plot(self) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = [
            json.loads(line)
            for line in (self.out / "log.jsonl").read_text().splitlines()
        ]
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
        tr = [r for r in rows if "loss" in r]
        ho = [r for r in rows if "heldout_loss" in r]
        ax1.plot(
            [r["step"] for r in tr], [r["loss"] for r in tr], lw=0.6, label="train"
        )
        ax1.plot(
            [r["step"] for r in ho],
            [r["heldout_loss"] for r in ho],
            "o-",
            label="held-out",
        )
        ax1.set_yscale("log")
        ax1.set_xlabel("step")
        ax1.legend()
        ax1.set_title("flow loss")
        for k in SWAPS:
            ax2.plot(
                [r["step"] for r in ho], [r[f"gap_{k}"] for r in ho], "o-", label=k
            )
        for k in ("colour", "motion", "camera"):
            ev = [r for r in rows if f"eval_{k}" in r]
            if ev:
                ax2.plot(
                    [r["step"] for r in ev],
                    [r[f"eval_{k}"] for r in ev],
                    "s--",
                    label=f"detector {k}",
                )
        ax2.set_xlabel("step")
        ax2.legend()
        ax2.set_title("held-out: swap gap / accuracy")
        fig.tight_layout()
        fig.savefig(self.out / "training.png", dpi=90)
        plt.close(fig)

    def log(self, row: dict) -> None:
        with open(self.out / "log.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")

    def run(self) -> None:
        a = self.args
        bar = tqdm(total=a.steps, initial=self.step, desc="train", dynamic_ncols=True)
        losses = []
        while self.step < a.steps:
            self.model.train()
            losses.append(self.train_step())
            bar.update(1)
            if self.step % a.log_every == 0:
                loss = float(np.mean(losses))
                losses = []
                bar.set_postfix(loss=f"{loss:.4f}")
                self.log({"step": self.step, "loss": loss, "wall": round(self.wall())})
            if self.step % a.eval_every == 0:
                m = self.heldout_metrics()
                self.log({"step": self.step, **m})
                bar.write(
                    f"step {self.step}: "
                    + ", ".join(f"{k} {v:.3f}" for k, v in m.items())
                )
                self.plot()
            if self.step % a.save_every == 0 or self.step == a.steps:
                self.save()
                if a.export:
                    self.export(Path(a.export))
        bar.close()


def _portable(value: object) -> object:
    """A path inside the project as written from its root; anything else as is."""
    if isinstance(value, str) and Path(value).is_absolute():
        try:
            return Path(value).relative_to(WEIGHTS_DIR.parents[2]).as_posix()
        except ValueError:
            pass
    return value


def main(argv: list[str] | None = None) -> Trainer:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch", type=int, default=24)
    p.add_argument("--frames", type=int, nargs="+", default=[8, 8, 12])
    p.add_argument("--lr", type=float, default=4e-4)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument(
        "--decay-from",
        type=int,
        default=0,
        help="step after which the learning rate follows a cosine to the end (0: never)",
    )
    p.add_argument("--lr-final-ratio", type=float, default=0.1)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--cfg-dropout", type=float, default=0.1)
    p.add_argument(
        "--camera-ramp",
        type=int,
        default=3000,
        help="steps over which camera moves grow from 15%% to 50%% of clips",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/builtin")
    p.add_argument("--resume", action="store_true")
    p.add_argument(
        "--export",
        default=str(WEIGHTS_DIR),
        help="folder to save_pretrained the EMA weights into ('' to skip)",
    )
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--save-every", type=int, default=250)
    p.add_argument("--heldout-size", type=int, default=32)
    p.add_argument(
        "--bf16",
        action="store_true",
        help="bfloat16 autocast on CPU (ignored where the CPU has no native "
        "bfloat16: emulated, a step takes ~12 times as long)",
    )
    p.add_argument(
        "--t-mean",
        type=float,
        default=0.0,
        help="mean of the logit-normal flow times; > 0 favours high noise, "
        "where layout and motion are decided",
    )
    p.add_argument(
        "--reader-steps",
        type=int,
        default=0,
        help="fit the prompt reader alone for this many steps first "
        "(when starting from weights without one)",
    )
    p.add_argument("--reader-bank", type=int, default=20000)
    p.add_argument(
        "--reader-only",
        action="store_true",
        help="with --init-from: refit only the prompt reader (--reader-steps, "
        "default 1000) on today's caption vocabulary and export; no denoiser steps",
    )
    p.add_argument("--threads", type=int, default=0)
    p.add_argument(
        "--favour",
        nargs="+",
        default=["bird", "car", "valley", "skyline"],
        help="subjects and scenes that --favour-share of each batch shows",
    )
    p.add_argument(
        "--favour-share",
        type=float,
        default=0.0,
        help="share of each batch drawn to show a --favour term (0: none favoured)",
    )
    p.add_argument("--model", default="", help="JSON overrides of the denoiser config")
    p.add_argument(
        "--init-from",
        default="",
        help="a saved pipeline folder to start from when there is no checkpoint",
    )
    args = p.parse_args(argv)
    if args.bf16 and not fast_bf16(torch.device("cpu")):
        print("this CPU has no native bfloat16: training in float32 instead")
        args.bf16 = False
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.reader_only and not args.init_from:
        p.error("--reader-only needs --init-from (the weights whose reader to refit)")
    trainer = Trainer(args)
    if args.reader_only:
        trainer.refit_reader(Path(args.export or args.out))
    else:
        trainer.run()
    return trainer


if __name__ == "__main__":
    main()
