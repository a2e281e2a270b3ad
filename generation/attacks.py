"""What happens to a clip once it leaves the studio, reproduced on files.

The watermark (``generation/watermark.py``) is measured and tested against
each of these: a low-bitrate H.264 re-encode, resizing to half size,
cropping 10 % off every edge, and the studio's own GIF, WebM and WebP
exports. Each takes an MP4 path and returns the decoded RGB frames of the
attacked copy.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from generation import exports

LOW_BITRATE = 200_000  # bits per second, for a 256 px clip


def reencode(
    source: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    bitrate: int = LOW_BITRATE,
    size: tuple[int, int] | None = None,
    crop: float = 0.0,
) -> Path:
    """Re-encode ``source`` as H.264 at ``bitrate`` (no tags, no credentials),
    optionally cropping ``crop`` of each edge first and scaling to ``size``."""
    frames, fps = exports.read_frames(source)
    if crop:
        _, height, width, _ = frames.shape
        dy, dx = round(height * crop), round(width * crop)
        frames = frames[:, dy : height - dy, dx : width - dx]
    _, height, width, _ = frames.shape
    width, height = size or (width, height)
    width, height = width - width % 2, height - height % 2
    time_base = Fraction(1, fps)
    with av.open(str(dest), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = time_base
        stream.bit_rate = bitrate
        stream.options = {"preset": "medium"}
        for index, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), "rgb24")
            frame = frame.reformat(width=width, height=height, format="yuv420p")
            frame.pts, frame.time_base = index, time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return Path(dest)


def _via(write: Callable[[Path], object], suffix: str) -> np.ndarray:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"attacked{suffix}"
        write(path)
        return read_any(path)


def read_any(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode a video (PyAV) or an animated image (Pillow) to RGB frames."""
    path = Path(path)
    if path.suffix.lower() in (".gif", ".webp", ".png", ".jpg", ".jpeg"):
        frames = []
        with Image.open(path) as image:
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                frames.append(np.asarray(image.convert("RGB")))
        return np.stack(frames)
    return exports.read_frames(path)[0]


ATTACKS: dict[str, Callable[[Path], np.ndarray]] = {
    "none": lambda source: exports.read_frames(source)[0],
    "h264_low_bitrate": lambda source: _via(
        lambda dest: reencode(source, dest), ".mp4"
    ),
    "resize_half": lambda source: _via(
        lambda dest: reencode(
            source,
            dest,
            bitrate=4 * LOW_BITRATE,
            size=tuple(v // 2 for v in _size(source)),
        ),
        ".mp4",
    ),
    "crop_10": lambda source: _via(
        lambda dest: reencode(source, dest, bitrate=4 * LOW_BITRATE, crop=0.1),
        ".mp4",
    ),
    "gif": lambda source: _via(
        lambda dest: exports.export_clip(source, "gif", dest), ".gif"
    ),
    "webm": lambda source: _via(
        lambda dest: exports.export_clip(source, "webm", dest), ".webm"
    ),
    "webp": lambda source: _via(
        lambda dest: exports.export_clip(source, "webp", dest), ".webp"
    ),
}


def _size(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        return context.width, context.height
