"""Step previews: a denoising sample → small RGB frames → one strip image.

A preview is sent after every denoising step, so everything here is written
to cost well under a millisecond for a 16-frame clip at 32–64 px: one tensor
conversion, one reshape into a strip, one Pillow encode.
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

PREVIEW_FORMATS = ("jpeg", "webp")
DEFAULT_QUALITY = 70


def tensor_to_frames(sample: torch.Tensor) -> np.ndarray:
    """Turn one clip of shape (3, T, H, W) in [-1, 1] into uint8 (T, H, W, 3).

    Values outside [-1, 1] (common mid-denoising) are clipped.
    """
    if sample.ndim != 4 or sample.shape[0] != 3:
        raise ValueError(f"expected a (3, T, H, W) tensor, got {tuple(sample.shape)}")
    # Permute first: the copy it makes is then updated in place.
    pixels = sample.detach().permute(1, 2, 3, 0).float().contiguous()
    if pixels.data_ptr() == sample.data_ptr():
        pixels = pixels.clone()
    pixels.clamp_(-1.0, 1.0).add_(1.0).mul_(127.5).add_(0.5)
    return pixels.to(torch.uint8).cpu().numpy()


def frames_to_strip(frames: np.ndarray) -> np.ndarray:
    """Lay out frames (T, H, W, 3) side by side as one (H, T*W, 3) image.

    Frame i occupies the columns [i*W, (i+1)*W).
    """
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected (T, H, W, 3) frames, got {frames.shape}")
    t, h, w, c = frames.shape
    return np.ascontiguousarray(frames.transpose(1, 0, 2, 3)).reshape(h, t * w, c)


def encode_strip(
    frames: np.ndarray, *, format: str = "jpeg", quality: int = DEFAULT_QUALITY
) -> bytes:
    """Encode every frame of a clip as one horizontal strip image.

    ``frames`` is uint8 (T, H, W, 3); ``format`` is "jpeg" or "webp".
    Returns the encoded image bytes.
    """
    if format not in PREVIEW_FORMATS:
        raise ValueError(f"preview format must be one of {PREVIEW_FORMATS}")
    if frames.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames, got {frames.dtype}")
    image = Image.fromarray(frames_to_strip(frames))
    buffer = io.BytesIO()
    if format == "jpeg":
        # Chroma subsampling off: strips are tiny and colour is what previews show.
        image.save(buffer, format="JPEG", quality=quality, subsampling=0)
    else:
        image.save(buffer, format="WEBP", quality=quality, method=0)
    return buffer.getvalue()


def decode_strip(data: bytes, frames: int) -> np.ndarray:
    """Split an encoded strip back into uint8 frames (T, H, W, 3).

    The inverse of :func:`encode_strip` (lossy formats aside); used by tests
    and tools that inspect previews.
    """
    strip = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    h, total_w, c = strip.shape
    if frames <= 0 or total_w % frames:
        raise ValueError(f"a strip {total_w} px wide cannot hold {frames} frames")
    w = total_w // frames
    return np.ascontiguousarray(strip.reshape(h, frames, w, c).transpose(1, 0, 2, 3))
