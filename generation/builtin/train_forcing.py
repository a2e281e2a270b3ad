"""Fine-tune the built-in denoiser for streaming: diffusion forcing.

    python -m generation.builtin.train_forcing --init-from generation/builtin/weights \\
        --steps 36000 --out runs/forcing

Every frame of a training clip gets its own noise level, so a row of frames at
mixed levels — the live stream's window — is in the model's distribution.
Each clip in a batch is one of three kinds:

- ``stream`` — laid out as :mod:`.streaming` lays out a model call: an anchor
  (sometimes from further back in the clip, sometimes absent as pure noise),
  context frames lightly noised, then the window at staggered levels from
  nearly clean to pure noise (with a random offset between the sampler's
  levels). Only the window frames count in the loss: the rest are conditions.
- ``independent`` — a logit-normal level per frame, drawn independently.
- ``shared`` — one level for the whole clip, as the clip model was trained,
  so clips keep their quality.

Starts from the shipped weights (``--init-from``), checkpoints every few
minutes (``--save-minutes``; ``--resume`` continues), logs JSONL with the
held-out losses — the clip model's own metrics plus a stream-shaped held-out
loss — and exports the EMA weights to ``--export`` (``runs/forcing/export``
by default, never the shipped folder) at every checkpoint.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from . import world
from .pipeline import fast_bf16
from .streaming import StreamSettings
from .train import Trainer, to_tensor

KINDS = ("stream", "independent", "shared")


def frame_levels(
    kind: str,
    frames: int,
    rng: random.Random,
    *,
    context: int,
    t_mean: float = 0.0,
    absent_anchor: float = 0.3,
    max_context_noise: float = 0.2,
) -> tuple[list[float], list[float]]:
    """Noise levels (flow times in [0, 1]) for one clip's frames, and the
    loss weight of each frame."""
    if kind == "shared":
        t = _logit_normal(rng, t_mean)
        return [t] * frames, [1.0] * frames
    if kind == "independent":
        return [_logit_normal(rng, t_mean) for _ in range(frames)], [1.0] * frames
    if kind != "stream":
        raise ValueError(f"unknown kind {kind!r}")
    window = frames - 1 - context
    if window < 2:
        raise ValueError(f"a stream row of {frames} frames leaves no window")
    anchor = 1.0 if rng.random() < absent_anchor else rng.uniform(0, max_context_noise)
    ctx = rng.uniform(0, max_context_noise)
    offset = rng.random()
    levels = [min(1.0, (k + 1 - offset) / window) for k in range(window)]
    levels[-1] = 1.0 if rng.random() < 0.5 else levels[-1]  # the tail is fresh noise
    weights = [0.0] * (1 + context) + [1.0] * window
    return [anchor] + [ctx] * context + levels, weights


def _logit_normal(rng: random.Random, mean: float) -> float:
    return 1.0 / (1.0 + float(np.exp(-(rng.gauss(0.0, 1.0) + mean))))


class ForcingTrainer(Trainer):
    """The clip trainer with a noise level per frame."""

    def __init__(self, args: argparse.Namespace):
        super().__init__(args)
        self.context = StreamSettings().context
        self.last_save = time.time()
        self.stream_heldout = self._stream_heldout_batch()

    def kinds(self, rng: random.Random, count: int) -> list[str]:
        a = self.args
        weights = (a.stream_share, a.independent_share, a.shared_share)
        return rng.choices(KINDS, weights=weights, k=count)

    def make_batch(self, rng: random.Random, size: int, frames: int, *, held_out=False):
        """Clips, captions, parameters, per-frame levels (B, T) and loss weights."""
        a = self.args
        clips, captions, params, levels, weights = [], [], [], [], []
        progress = min(1.0, self.step / max(a.camera_ramp, 1))
        camera_prob = 0.15 + (0.5 - 0.15) * progress
        for kind in self.kinds(rng, size):
            p = world.sample_params(rng, held_out=held_out, camera_prob=camera_prob)
            gap = 0
            if kind == "stream" and rng.random() < a.anchor_gap_share:
                gap = rng.randint(1, a.max_anchor_gap)
            clip = world.render(p, frames + gap, 32)
            if gap:
                # The anchor is an earlier moment of the same scene.
                clip = np.concatenate([clip[:1], clip[1 + gap :]])
            lv, wt = frame_levels(
                kind, frames, rng, context=self.context, t_mean=a.t_mean
            )
            clips.append(clip)
            captions.append(world.caption(p, rng, held_out=held_out))
            params.append(p)
            levels.append(lv)
            weights.append(wt)
        return (
            np.stack(clips),
            captions,
            params,
            torch.tensor(levels, dtype=torch.float32),
            torch.tensor(weights, dtype=torch.float32),
        )

    def _stream_heldout_batch(self):
        rng = random.Random(4321)
        saved = self.args.stream_share, self.args.independent_share
        self.args.stream_share, self.args.independent_share = 1.0, 0.0
        try:
            clips, captions, _, levels, weights = self.make_batch(
                rng, self.args.heldout_size, 12, held_out=True
            )
        finally:
            self.args.stream_share, self.args.independent_share = saved
        x0 = to_tensor(clips)
        noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(8))
        return x0, noise, levels, weights, captions

    def flow_loss(
        self, model, x0, noise, t, captions, reduce=True, labels=None, weights=None
    ):
        """The flow loss with ``t`` per sample (B,) or per frame (B, T);
        ``weights`` (B, T) scale each frame's share."""
        states, mask, pooled = self.encode(captions)
        tt = t.view(-1, 1, 1, 1, 1) if t.dim() == 1 else t[:, None, :, None, None]
        xt = (1 - tt) * x0 + tt * noise
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.args.bf16):
            pred = model(xt, t * 1000, states, pooled, mask)
        if labels is not None and model.reader is not None:
            self._reader_loss = self.reader_loss(model, states, mask, pooled, labels)
        err = (pred.float() - (noise - x0)).pow(2).mean(dim=(1, 3, 4))  # (B, T)
        if weights is None:
            err = err.mean(dim=1)
        else:
            err = (err * weights).sum(1) / weights.sum(1).clamp(min=1e-6)
        return err.mean() if reduce else err

    def train_step(self) -> float:
        a = self.args
        frames = self.rng.choice(a.frames)
        clips, captions, params, levels, weights = self.make_batch(
            self.rng, a.batch, frames
        )
        self.last_levels = levels
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
        lr = self.learning_rate()
        for g in self.opt.param_groups:
            g["lr"] = lr
        self._reader_loss = None
        loss = self.flow_loss(
            self.model, x0, noise, levels, captions, labels=labels, weights=weights
        )
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
        metrics = super().heldout_metrics()
        x0, noise, levels, weights, captions = self.stream_heldout
        metrics["heldout_stream_loss"] = self.flow_loss(
            self.ema, x0, noise, levels, captions, weights=weights
        ).item()
        return metrics

    def run(self) -> None:
        a = self.args
        bar = tqdm(total=a.steps, initial=self.step, desc="forcing", dynamic_ncols=True)
        losses = []
        if not (self.out / "log.jsonl").exists():
            self.log({"step": self.step, **self.heldout_metrics()})
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
                    + ", ".join(f"{k} {v:.4f}" for k, v in m.items())
                )
            due = time.time() - self.last_save >= a.save_minutes * 60
            if due or self.step == a.steps:
                self.checkpoint()
        bar.close()

    def checkpoint(self) -> None:
        """Save the resumable state, and export the EMA weights beside it."""
        self.save()
        if self.args.export:
            self.export(Path(self.args.export))
        self.last_save = time.time()


def main(argv: list[str] | None = None) -> ForcingTrainer:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--init-from",
        default="",
        help="a saved pipeline folder to start from when there is no checkpoint",
    )
    p.add_argument("--steps", type=int, default=36000, help="the step to stop at")
    p.add_argument("--batch", type=int, default=12)
    p.add_argument("--frames", type=int, nargs="+", default=[12])
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--ema", type=float, default=0.998)
    p.add_argument("--cfg-dropout", type=float, default=0.1)
    p.add_argument("--t-mean", type=float, default=0.5)
    p.add_argument("--stream-share", type=float, default=0.5)
    p.add_argument("--independent-share", type=float, default=0.25)
    p.add_argument("--shared-share", type=float, default=0.25)
    p.add_argument(
        "--anchor-gap-share",
        type=float,
        default=0.5,
        help="share of stream rows whose anchor is an earlier moment of the clip",
    )
    p.add_argument("--max-anchor-gap", type=int, default=12)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="runs/forcing")
    p.add_argument("--export", default="runs/forcing/export")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--save-minutes", type=float, default=5.0)
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--heldout-size", type=int, default=32)
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--model", default="", help="JSON overrides of the denoiser config")
    args = p.parse_args(argv)
    # What the clip trainer reads and this one leaves at its defaults.
    args.decay_from, args.lr_final_ratio = 0, 0.1
    args.camera_ramp, args.save_every = 0, 0
    args.reader_steps, args.reader_bank, args.reader_only = 0, 0, False
    if args.bf16 and not fast_bf16(torch.device("cpu")):
        print("this CPU has no native bfloat16: training in float32 instead")
        args.bf16 = False
    if args.threads:
        torch.set_num_threads(args.threads)
    if min(args.frames) < StreamSettings().context + 3:
        p.error(f"--frames must be at least {StreamSettings().context + 3}")
    trainer = ForcingTrainer(args)
    trainer.run()
    return trainer


if __name__ == "__main__":
    main()
