"""The built-in denoiser: a small (2+1)D U-shaped network for pixel-space video.

Frames are packed 4×4 into channels (32×32×3 → 8×8×48). A light convolutional
level works at 8×8; the main level is a stack of transformer blocks at 4×4
tokens per frame with spatial attention, temporal attention across frames,
cross-attention to the prompt's MiniLM token states and adaptive layer norm
driven by the timestep and the pooled prompt vector.

A prompt reader turns the MiniLM states into structured attributes of the
world (colour, object, motion, scene, camera, a second object): per-attribute
attention pooling over the tokens and a small classifier, trained beside the
denoiser on the world's own labels. Its probabilities condition the denoiser
twice — added to the adaptive-norm vector and appended as one context token
per attribute — so a word the reader understands reaches every block as a
clean signal, and free phrasing still works because the reader reads MiniLM.

Both levels carry learned absolute spatial position embeddings: "moving left"
from pure noise means "start on the right", which a translation-equivariant
stack cannot express. Frame position enters as clip time in [0, 1], so one
model serves any frame count.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn


def sinusoid(x: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal features of a 1-D tensor: (N,) → (N, dim)."""
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(half, device=x.device) / half
    )
    args = x.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ResBlock(nn.Module):
    """Per-frame 3×3 convolutions plus a temporal convolution, FiLM-conditioned."""

    def __init__(self, channels: int, cond_dim: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, channels)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.film = nn.Linear(cond_dim, 2 * channels)
        self.norm2 = nn.GroupNorm(8, channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.temporal = nn.Conv1d(channels, channels, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        nn.init.zeros_(self.temporal.weight)
        nn.init.zeros_(self.temporal.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, frames: int) -> torch.Tensor:
        # x: (B*T, C, H, W); cond: (B*T, cond_dim)
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(cond)[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(F.silu(h))
        x = x + h
        bt, c, hh, ww = x.shape
        b = bt // frames
        t = (
            x.view(b, frames, c, hh * ww)
            .permute(0, 3, 2, 1)
            .reshape(b * hh * ww, c, frames)
        )
        t = self.temporal(F.silu(t))
        t = t.view(b, hh * ww, c, frames).permute(0, 3, 2, 1).reshape(bt, c, hh, ww)
        return x + t


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, context_dim: int | None = None):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(context_dim or dim, 2 * dim)
        self.out = nn.Linear(dim, dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(
        self,
        x: torch.Tensor,
        context: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        repeat: int = 1,
    ) -> torch.Tensor:
        """``repeat``: each row of ``context`` (and ``mask``) serves that many
        consecutive rows of ``x`` — the frames of one clip — so its keys and
        values are projected once, not once per frame."""
        n, length, dim = x.shape
        ctx = x if context is None else context
        q = self.q(x).view(n, length, self.heads, -1).transpose(1, 2)
        k, v = (
            self.kv(ctx)
            .view(ctx.shape[0], ctx.shape[1], 2, self.heads, -1)
            .permute(2, 0, 3, 1, 4)
        )
        if repeat > 1:
            k = k.repeat_interleave(repeat, dim=0)
            v = v.repeat_interleave(repeat, dim=0)
            if mask is not None:
                mask = mask.repeat_interleave(repeat, dim=0)
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out(o.transpose(1, 2).reshape(n, length, dim))


class PromptReader(nn.Module):
    """Reads the world's attributes from MiniLM token states: logits per group.

    Index 0 of every group means "not stated" (the empty prompt, or no second
    object).
    """

    def __init__(self, text_dim: int, groups: tuple[int, ...], hidden: int = 128):
        super().__init__()
        self.norm = nn.LayerNorm(text_dim)
        self.query = nn.Parameter(torch.randn(len(groups), text_dim) * 0.02)
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.Linear(2 * text_dim, hidden), nn.GELU(), nn.Linear(hidden, n)
            )
            for n in groups
        )

    def forward(
        self,
        states: torch.Tensor,
        pooled: torch.Tensor,
        mask: torch.Tensor | None = None,
    ) -> list[torch.Tensor]:
        s = self.norm(states)
        scores = torch.einsum("bld,gd->bgl", s, self.query) / math.sqrt(s.shape[-1])
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None, :].bool(), float("-inf"))
        att = torch.einsum("bgl,bld->bgd", scores.softmax(-1), s)
        pooled = pooled.to(att.dtype)
        return [
            head(torch.cat([att[:, i], pooled], dim=-1))
            for i, head in enumerate(self.heads)
        ]


def grow_attribute_groups(
    state: dict[str, torch.Tensor],
    old: tuple[int, ...] | list[int],
    new: tuple[int, ...] | list[int],
) -> dict[str, torch.Tensor]:
    """A denoiser's weights for a world with more terms per attribute.

    Terms are only ever appended to a group, so every old term keeps its
    index: its reader logit, its share of the attribute conditioning and its
    token embedding are copied, and the new terms start as the untrained
    model would (logits a little below the old ones, no conditioning yet,
    embeddings like the normed MiniLM states).
    """
    old, new = tuple(old), tuple(new)
    if len(old) != len(new) or any(n < o for o, n in zip(old, new, strict=True)):
        raise ValueError(f"attribute groups can only grow: {old} → {new}")
    state = dict(state)
    for i, (o, n) in enumerate(zip(old, new, strict=True)):
        if o == n:
            continue
        w = state[f"reader.heads.{i}.2.weight"]
        b = state[f"reader.heads.{i}.2.bias"]
        state[f"reader.heads.{i}.2.weight"] = torch.cat(
            [w, torch.randn(n - o, w.shape[1], dtype=w.dtype) * w.std()]
        )
        state[f"reader.heads.{i}.2.bias"] = torch.cat(
            [b, torch.full((n - o,), float(b[1:].min()) - 1.0, dtype=b.dtype)]
        )
        e = state[f"attr_tokens.{i}.weight"]
        state[f"attr_tokens.{i}.weight"] = torch.cat(
            [e, torch.randn(e.shape[0], n - o, dtype=e.dtype)], dim=1
        )
    cond = state["attr_cond.weight"]
    parts = torch.split(cond, list(old), dim=1)
    state["attr_cond.weight"] = torch.cat(
        [
            torch.cat([p, p.new_zeros(p.shape[0], n - o)], dim=1)
            for p, o, n in zip(parts, old, new, strict=True)
        ],
        dim=1,
    )
    return state


class Block(nn.Module):
    """Spatial attention, temporal attention, cross-attention and an MLP."""

    def __init__(
        self, dim: int, heads: int, cond_dim: int, context_dim: int, mlp_ratio: int = 3
    ):
        super().__init__()
        self.norms = nn.ModuleList(
            nn.LayerNorm(dim, elementwise_affine=False) for _ in range(4)
        )
        self.mod = nn.Linear(cond_dim, 8 * dim)
        nn.init.zeros_(self.mod.weight)
        nn.init.zeros_(self.mod.bias)
        self.spatial = Attention(dim, heads)
        self.temporal = Attention(dim, heads)
        self.cross = Attention(dim, heads, context_dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, dim * mlp_ratio),
            nn.GELU(approximate="tanh"),
            nn.Linear(dim * mlp_ratio, dim),
        )
        nn.init.zeros_(self.mlp[2].weight)
        nn.init.zeros_(self.mlp[2].bias)

    def forward(
        self,
        x: torch.Tensor,
        cond: torch.Tensor,
        context: torch.Tensor,
        mask: torch.Tensor | None,
        frames: int,
    ) -> torch.Tensor:
        # x: (B, T, S, D); cond: (B, cond_dim) or per frame (B, T, cond_dim);
        # context: (B, L, Dc)
        b, t, s, d = x.shape
        m = self.mod(cond)
        m = (m[:, None, None, :] if m.dim() == 2 else m[:, :, None, :]).chunk(8, -1)
        h = self.norms[0](x) * (1 + m[0]) + m[1]
        x = x + self.spatial(h.reshape(b * t, s, d)).view(b, t, s, d)
        h = self.norms[1](x) * (1 + m[2]) + m[3]
        h = h.permute(0, 2, 1, 3).reshape(b * s, t, d)
        x = x + self.temporal(h).view(b, s, t, d).permute(0, 2, 1, 3)
        h = self.norms[2](x) * (1 + m[4]) + m[5]
        x = x + self.cross(h.reshape(b * t, s, d), context, mask, repeat=t).view(
            b, t, s, d
        )
        h = self.norms[3](x) * (1 + m[6]) + m[7]
        return x + self.mlp(h)


class BuiltinVideoDenoiser(ModelMixin, ConfigMixin):
    """Predicts the rectified-flow velocity (noise − clean) for a pixel-space clip.

    Input ``sample`` is (B, 3, T, H, W) with H and W multiples of 8; ``timestep``
    is the flow time × 1000, one per sample (B,) or one per frame (B, T) for
    frames at different noise levels (diffusion forcing, streaming); a (B, T)
    timestep whose frames all share one value takes the per-sample path, so it
    gives exactly the per-sample output. ``encoder_hidden_states`` are the prompt's
    token states (B, L, 384) with ``encoder_attention_mask`` (B, L) and
    ``pooled_projections`` the pooled sentence vectors (B, 384). The mask
    selects the tokens the prompt reader pools; cross-attention sees every
    position, as in training. ``attribute_probs``, when given, replaces the
    reader's probabilities (see :meth:`read_attributes`).
    """

    @register_to_config
    def __init__(
        self,
        in_channels: int = 3,
        patch: int = 4,
        conv_channels: int = 64,
        dim: int = 192,
        depth: int = 4,
        heads: int = 4,
        text_dim: int = 384,
        cond_dim: int = 256,
        base_size: int = 32,
        attribute_groups: tuple[int, ...] | list[int] = (),
    ):
        super().__init__()
        self.reader = None
        if attribute_groups:
            groups = tuple(attribute_groups)
            self.reader = PromptReader(text_dim, groups)
            self.attr_cond = nn.Linear(sum(groups), cond_dim)
            nn.init.zeros_(self.attr_cond.weight)
            nn.init.zeros_(self.attr_cond.bias)
            self.attr_tokens = nn.ModuleList(
                nn.Linear(n, text_dim, bias=False) for n in groups
            )
            for emb in self.attr_tokens:
                nn.init.normal_(emb.weight, std=1.0)  # like the normed MiniLM states
        packed = in_channels * patch * patch
        grid = base_size // patch
        self.conv_in = nn.Conv2d(packed, conv_channels, 3, padding=1)
        self.pos1 = nn.Parameter(torch.zeros(1, conv_channels, grid, grid))
        self.res_in = ResBlock(conv_channels, cond_dim)
        self.down = nn.Conv2d(conv_channels, dim, 3, stride=2, padding=1)
        self.pos2 = nn.Parameter(torch.zeros(1, dim, grid // 2, grid // 2))
        self.frame_proj = nn.Linear(64, dim)
        self.frame_proj1 = nn.Linear(64, conv_channels)
        self.time_mlp = nn.Sequential(
            nn.Linear(128, cond_dim), nn.SiLU(), nn.Linear(cond_dim, cond_dim)
        )
        self.text_pool = nn.Sequential(
            nn.Linear(text_dim, cond_dim), nn.SiLU(), nn.Linear(cond_dim, cond_dim)
        )
        self.context_norm = nn.LayerNorm(text_dim)
        self.blocks = nn.ModuleList(
            Block(dim, heads, cond_dim, text_dim) for _ in range(depth)
        )
        self.norm_mid = nn.LayerNorm(dim)
        self.up = nn.Conv2d(dim, conv_channels * 4, 1)
        self.merge = nn.Conv2d(2 * conv_channels, conv_channels, 1)
        self.res_out = ResBlock(conv_channels, cond_dim)
        self.norm_out = nn.GroupNorm(8, conv_channels)
        self.conv_out = nn.Conv2d(conv_channels, packed, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    @staticmethod
    def _frame_timesteps(
        timestep: torch.Tensor, batch: int, frames: int
    ) -> torch.Tensor:
        """The timestep as (B,) when the frames of each sample share one,
        else as (B, T)."""
        if timestep.dim() == 2 and timestep.shape[1] > 1:
            if timestep.shape != (batch, frames):
                raise ValueError(
                    f"a per-frame timestep must be (batch, frames) = "
                    f"({batch}, {frames}), got {tuple(timestep.shape)}"
                )
            if not bool((timestep == timestep[:, :1]).all()):
                return timestep
            return timestep[:, 0]
        timestep = timestep.reshape(-1)
        if timestep.numel() == 1:
            timestep = timestep.expand(batch)
        return timestep

    def read_attributes(
        self,
        encoder_hidden_states: torch.Tensor,
        pooled_projections: torch.Tensor,
        encoder_attention_mask: torch.Tensor | None = None,
    ) -> list[torch.Tensor]:
        """The prompt reader's probabilities, one (B, terms) tensor per
        attribute: what ``forward`` conditions on unless it is given
        ``attribute_probs`` (a sampler may read a prompt once, or change
        what one branch of guidance is told)."""
        return [
            logits.float().softmax(-1).detach()
            for logits in self.reader(
                encoder_hidden_states, pooled_projections, encoder_attention_mask
            )
        ]

    @staticmethod
    def _pos(param: torch.Tensor, h: int, w: int) -> torch.Tensor:
        if param.shape[-2:] == (h, w):
            return param
        return F.interpolate(param, size=(h, w), mode="bilinear", align_corners=False)

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        pooled_projections: torch.Tensor,
        encoder_attention_mask: torch.Tensor | None = None,
        attribute_probs: list[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        b, c, t, h, w = sample.shape
        p = self.config.patch
        if h % (2 * p) or w % (2 * p):
            raise ValueError(
                f"height and width must be multiples of {2 * p}, got {h}×{w}"
            )
        x = sample.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        x = F.pixel_unshuffle(x, p)
        gh, gw = h // p, w // p

        timestep = self._frame_timesteps(timestep.to(sample.device), b, t)
        if timestep.dim() == 2:
            # One noise level per frame: the adaptive norms take a vector per
            # frame, the prompt's part of it shared by the sample's frames.
            time_cond = self.time_mlp(sinusoid(timestep.reshape(-1), 128))
            cond = (
                time_cond.view(b, t, -1) + self.text_pool(pooled_projections)[:, None]
            )
        else:
            cond = self.time_mlp(sinusoid(timestep, 128)) + self.text_pool(
                pooled_projections
            )
        attr = None
        if self.reader is not None:
            probs = attribute_probs or self.read_attributes(
                encoder_hidden_states, pooled_projections, encoder_attention_mask
            )
            wdtype = self.attr_cond.weight.dtype
            attr_cond = self.attr_cond(torch.cat(probs, dim=-1).to(wdtype))
            cond = cond + (attr_cond if cond.dim() == 2 else attr_cond[:, None])
            attr = torch.stack(
                [
                    emb(p.to(wdtype))
                    for emb, p in zip(self.attr_tokens, probs, strict=True)
                ],
                dim=1,
            )
        tau = torch.linspace(0, 1, t, device=sample.device) * 100.0
        fpe = sinusoid(tau, 64)  # (T, 64)
        if cond.dim() == 2:
            cond_bt = cond.repeat_interleave(t, dim=0)
        else:
            cond_bt = cond.reshape(b * t, -1)

        x = self.conv_in(x) + self._pos(self.pos1, gh, gw)
        x = x + self.frame_proj1(fpe).repeat(b, 1)[:, :, None, None]
        skip = self.res_in(x, cond_bt, t)
        y = self.down(F.silu(skip)) + self._pos(self.pos2, gh // 2, gw // 2)
        y = y + self.frame_proj(fpe).repeat(b, 1)[:, :, None, None]
        d = y.shape[1]
        tokens = y.view(b, t, d, -1).transpose(2, 3)  # (B, T, S, D)

        context = self.context_norm(encoder_hidden_states)
        if attr is not None:
            context = torch.cat([context, attr.to(context.dtype)], dim=1)
        for block in self.blocks:
            tokens = block(tokens, cond, context, None, t)
        tokens = self.norm_mid(tokens)
        y = tokens.transpose(2, 3).reshape(b * t, d, gh // 2, gw // 2)
        y = F.pixel_shuffle(self.up(y), 2)
        x = self.merge(torch.cat([y, skip], dim=1))
        x = self.res_out(x, cond_bt, t)
        x = self.conv_out(F.silu(self.norm_out(x)))
        x = F.pixel_shuffle(x, p)
        return x.view(b, t, c, h, w).permute(0, 2, 1, 3, 4)
