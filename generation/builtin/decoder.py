"""The built-in detail decoder: 32 px clips from the denoiser → sharp 128 or 256 px clips.

A cascade's second stage, as in Imagen Video and Show-1, kept small enough for
a CPU: residual blocks at the low resolution (per-frame 3×3 convolutions plus a
temporal convolution across frames, so detail does not flicker), then two
pixel-shuffle steps up to the output size. The network adds its detail to a
bicubic enlargement of the input, so an untrained decoder already returns a
smooth clip and training only has to learn what bicubic misses: where an
anti-aliased edge really lies, the shape of a star's points, the scene's
texture.

A decoder of scale 8 has a third step up, to 256 px, and keeps a 128 px
output beside it (``forward(..., scale=4)``) read from the same features, so
a stream that wants 128 px frames does not pay for the last step.

It learns from the world's own renders of the same clip at both sizes; the
low-resolution input is blurred and noised at random during training
("noise conditioning augmentation") so it also takes the denoiser's imperfect
32 px frames.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn


class TemporalResBlock(nn.Module):
    """Two per-frame 3×3 convolutions, then a temporal convolution across frames."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.temporal = nn.Conv1d(channels, channels, 3, padding=1)
        # Zero-initialised outputs: every block starts as the identity, so the
        # untrained decoder is plain bicubic.
        for layer in (self.conv2, self.temporal):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        # x: (B*T, C, H, W)
        x = x + self.conv2(F.relu(self.conv1(x)))
        bt, c, h, w = x.shape
        b = bt // frames
        t = (
            x.view(b, frames, c, h * w)
            .permute(0, 3, 2, 1)
            .reshape(b * h * w, c, frames)
        )
        t = self.temporal(F.relu(t))
        t = t.view(b, h * w, c, frames).permute(0, 3, 2, 1).reshape(bt, c, h, w)
        return x + t


class BuiltinDetailDecoder(ModelMixin, ConfigMixin):
    """Upscales a clip by ``scale`` (4 or 8): (B, 3, T, H, W) → (B, 3, T, sH, sW),
    [-1, 1]. A scale-8 decoder also answers ``scale=4``.

    Any frame count and any height and width work; clip ends are padded with
    zeros in time, as in training.
    """

    @register_to_config
    def __init__(
        self,
        in_channels: int = 3,
        channels: int = 48,
        blocks: int = 4,
        up_channels: int = 24,
        scale: int = 4,
        fine_channels: int = 16,
    ):
        super().__init__()
        if scale not in (4, 8):
            raise ValueError(f"scale must be 4 or 8, got {scale}")
        self.conv_in = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.res = nn.ModuleList(TemporalResBlock(channels) for _ in range(blocks))
        self.up1 = nn.Conv2d(channels, 4 * up_channels, 3, padding=1)
        self.mid = nn.Conv2d(up_channels, up_channels, 3, padding=1)
        if scale == 4:
            self.up2 = nn.Conv2d(up_channels, 4 * in_channels, 3, padding=1)
            last = [self.up2]
        else:
            self.up2 = nn.Conv2d(up_channels, 4 * fine_channels, 3, padding=1)
            self.head4 = nn.Conv2d(fine_channels, in_channels, 3, padding=1)
            self.fine = nn.Conv2d(fine_channels, fine_channels, 3, padding=1)
            self.up3 = nn.Conv2d(fine_channels, 4 * in_channels, 3, padding=1)
            last = [self.head4, self.up3]
        # Zero-initialised outputs: an untrained decoder is plain bicubic.
        for layer in last:
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    @property
    def scales(self) -> tuple[int, ...]:
        """The enlargements this decoder makes."""
        return (4,) if self.config.scale == 4 else (4, 8)

    def forward(self, sample: torch.Tensor, scale: int | None = None) -> torch.Tensor:
        scale = scale or self.config.scale
        if scale not in self.scales:
            raise ValueError(f"this decoder enlarges by {self.scales}, not {scale}")
        b, c, t, h, w = sample.shape
        x = sample.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        base = F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)
        y = self.conv_in(x)
        for block in self.res:
            y = block(y, t)
        y = F.relu(F.pixel_shuffle(self.up1(y), 2))
        y = F.relu(self.mid(y))
        if self.config.scale == 4:
            y = F.pixel_shuffle(self.up2(y), 2)
        else:
            y = F.relu(F.pixel_shuffle(self.up2(y), 2))
            if scale == 4:
                y = self.head4(y)
            else:
                y = F.pixel_shuffle(self.up3(F.relu(self.fine(y))), 2)
        out = base + y
        return out.view(b, t, c, h * scale, w * scale).permute(0, 2, 1, 3, 4)


def tiny_random_decoder(seed: int = 0, scale: int = 4) -> BuiltinDetailDecoder:
    """A tiny decoder with random (non-zero) weights, for tests."""
    torch.manual_seed(seed)
    decoder = BuiltinDetailDecoder(
        channels=8, blocks=1, up_channels=8, scale=scale, fine_channels=4
    )
    with torch.no_grad():
        for p in decoder.parameters():
            if p.dim() > 1 and p.abs().sum() == 0:
                p.normal_(0, 0.05)
    return decoder
