"""Conditioning uploads for image→video and video→video.

Nothing a creator uploads is kept as given: the file is checked (type, bytes,
pixel count before decoding, duration, frame count), decoded with Pillow or
PyAV, and re-encoded as a fresh PNG or MP4 under the owner's private media
folder. Only the server's own file ever reaches a model.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import av
import numpy as np
from PIL import Image, ImageOps

from generation import encode, specs
from studio.lib.folders import INPUTS, owner_folder

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_VIDEO_BYTES = 50 * 1024 * 1024
# Checked from the header, before a single pixel is decoded.
MAX_IMAGE_PIXELS = 4096 * 4096
MAX_VIDEO_PIXELS = 2048 * 2048
MAX_VIDEO_SECONDS = 20
# Stored inputs are scaled down to this long side; clips are at most 1024 px.
MAX_SIDE = specs.MAX_SIZE
IMAGE_FORMATS = {"PNG", "JPEG", "WEBP"}
VIDEO_CONTAINERS = {"mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm"}


class UploadError(ValueError):
    """The upload was refused; the message is for the creator."""


@dataclass(frozen=True)
class StoredInput:
    """A checked, re-encoded input: absolute path and what it holds."""

    path: Path
    width: int
    height: int
    frames: int = 1


def input_dir(owner_id: int) -> Path:
    return owner_folder(INPUTS, owner_id)


def _size(file: Any) -> int:
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
    file.seek(0)
    return int(size)


def _fit(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, MAX_SIDE / max(width, height))
    # Even sides, as H.264 needs.
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def store_image(file: IO[bytes], *, owner_id: int) -> StoredInput:
    """Check an uploaded image and store it re-encoded as PNG."""
    if _size(file) > MAX_IMAGE_BYTES:
        raise UploadError(
            f"The image is larger than {MAX_IMAGE_BYTES // 2**20} MB; send a smaller one."
        )
    try:
        with Image.open(file) as image:
            if image.format not in IMAGE_FORMATS:
                raise UploadError("Send the image as PNG, JPEG or WebP.")
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise UploadError(
                    f"The image is {width}×{height}; keep it under "
                    f"{MAX_IMAGE_PIXELS // 10**6} megapixels."
                )
            image.load()
            picture = ImageOps.exif_transpose(image).convert("RGB")
    except UploadError:
        raise
    except Image.DecompressionBombError as error:
        raise UploadError(
            f"The image is too large; keep it under {MAX_IMAGE_PIXELS // 10**6} "
            "megapixels."
        ) from error
    except (OSError, ValueError, SyntaxError) as error:
        raise UploadError(
            "The image could not be read; send a PNG, JPEG or WebP."
        ) from error
    size = _fit(*picture.size)
    if size != picture.size:
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    folder = input_dir(owner_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_urlsafe(16)}.png"
    picture.save(path, format="PNG")
    return StoredInput(path=path, width=size[0], height=size[1])


def store_video(file: IO[bytes], *, owner_id: int) -> StoredInput:
    """Check an uploaded video and store its first frames re-encoded as MP4.

    Keeps at most ``specs.MAX_FRAMES`` frames: no clip needs more.
    """
    if _size(file) > MAX_VIDEO_BYTES:
        raise UploadError(
            f"The video is larger than {MAX_VIDEO_BYTES // 2**20} MB; send a shorter one."
        )
    try:
        frames, fps = _decode_video(file)
    except UploadError:
        raise
    except (av.FFmpegError, OSError, ValueError, IndexError) as error:
        raise UploadError(
            "The video could not be read; send an MP4 or WebM."
        ) from error
    folder = input_dir(owner_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_urlsafe(16)}.mp4"
    # A creator's own footage: no "made by this studio" watermark.
    encode.write_video(frames, path, fps=fps, watermark=None)
    _, height, width, _ = frames.shape
    return StoredInput(path=path, width=width, height=height, frames=len(frames))


def checked_video_stream(
    container: av.container.InputContainer,
    error: type[Exception],
    wrong_kind: str,
) -> tuple[Any, int, int]:
    """The first video stream of an opened upload, with its width and
    height, after the checks every video upload gets before a frame is
    decoded: a video container, a video stream, a bounded picture. Raises
    ``error`` with a sentence (``wrong_kind`` for another kind of file)."""
    if not set(container.format.name.split(",")) & VIDEO_CONTAINERS:
        raise error(wrong_kind)
    if not container.streams.video:
        raise error("The file holds no video.")
    stream = container.streams.video[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if not width or not height or width * height > MAX_VIDEO_PIXELS:
        raise error(
            f"The video is {width}×{height}; keep it under "
            f"{MAX_VIDEO_PIXELS // 10**6} megapixels."
        )
    return stream, width, height


def _decode_video(file: IO[bytes]) -> tuple[np.ndarray, int]:
    with av.open(file, mode="r") as container:
        stream, width, height = checked_video_stream(
            container, UploadError, "Send the video as MP4, MOV or WebM."
        )
        seconds = _duration(container, stream)
        if seconds > MAX_VIDEO_SECONDS:
            raise UploadError(
                f"The video lasts {seconds:.0f} s; keep it under {MAX_VIDEO_SECONDS} s."
            )
        rate = stream.average_rate or Fraction(8)
        fps = min(max(round(float(rate)), 1), 60)
        size = _fit(width, height)
        frames = []
        for frame in container.decode(stream):
            # Every frame is re-rendered at one size, whatever the stream says.
            frames.append(
                frame.to_ndarray(width=size[0], height=size[1], format="rgb24")
            )
            if len(frames) == specs.MAX_FRAMES:
                break
    if not frames:
        raise UploadError("The video has no frames.")
    return np.stack(frames), fps


def _duration(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0
