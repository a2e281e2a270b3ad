"""Finished frames → an MP4 the browser plays, a poster image, and metadata.

Files are written to a temporary name beside the target and renamed into
place, so a half-written video is never served.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image

from generation import watermark as marks
from generation.specs import GenerationSpec

DEFAULT_CRF = 18
# ultrafast: a third of superfast's time; short clips stay small either way.
DEFAULT_PRESET = "ultrafast"
# Frames up to this size encode on one x264 thread: for the built-in model's
# 256 px clips, starting and syncing x264's frame threads cost more than they
# save (16 frames: ~10–14 ms against ~13–20 ms inside a busy server).
SINGLE_THREAD_PIXELS = 320 * 320
# Sample rate of the AAC track muxed beside the frames.
AUDIO_RATE = 44_100
POSTER_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".png": "PNG"}


def _check_frames(frames: np.ndarray) -> None:
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(
            f"expected uint8 frames shaped (T, H, W, 3), got {frames.dtype} "
            f"{frames.shape}"
        )
    if frames.shape[0] < 1:
        raise ValueError("a video needs at least one frame")


def _temporary_sibling(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")


# What a clip shows and where its inputs lie: left out of the tags of copies
# shared by an owner who keeps the prompts to themselves.
PRIVATE_SETTINGS = ("prompt", "negative_prompt", "image_path", "video_path")


def clip_metadata(
    spec: GenerationSpec, *, with_prompt: bool = True, **extra: Any
) -> dict[str, str]:
    """The container tags describing how a clip was made.

    Individual settings get their own tag, and ``comment`` holds them all as
    JSON (the one tag most players show). Without ``with_prompt`` the tags
    say how the clip was made but not what it shows (no prompts, no input
    paths). ``extra`` adds or overrides tags.
    """
    settings = spec.to_dict()
    if not with_prompt:
        settings = {k: v for k, v in settings.items() if k not in PRIVATE_SETTINGS}
    for key in ("image_path", "video_path"):
        # An input by its file name: a file travels far from the server's disk.
        if settings.get(key):
            settings[key] = Path(settings[key]).name
    if settings.get("look_params", {}).get("lut"):
        lut = Path(settings["look_params"]["lut"]).name
        settings["look_params"] = {**settings["look_params"], "lut": lut}
    tags = {
        **(
            {
                "title": spec.prompt,
                "prompt": spec.prompt,
                "negative_prompt": spec.negative_prompt,
            }
            if with_prompt
            else {}
        ),
        "seed": str(spec.seed),
        "model": spec.model,
        "steps": str(spec.num_inference_steps),
        "guidance": f"{spec.guidance_scale:g}",
        "fps": str(spec.fps),
        "frames": str(spec.num_frames),
        "ai_generated": "true",
        **({"look": spec.look} if spec.look else {}),
        "comment": json.dumps(settings, ensure_ascii=False, sort_keys=True),
    }
    tags.update({key: str(value) for key, value in extra.items()})
    # Container tags are C strings.
    return {key: value.replace("\x00", "") for key, value in tags.items()}


def _cover_box(w: int, h: int, width: int, height: int) -> tuple[float, ...]:
    """The centred part of a w×h frame with the aspect ratio of width×height."""
    if width * h > height * w:  # wider than the source: crop top and bottom
        crop_w, crop_h = w, w * height / width
    else:
        crop_w, crop_h = h * width / height, h
    return ((w - crop_w) / 2, (h - crop_h) / 2, (w + crop_w) / 2, (h + crop_h) / 2)


def fit_frames(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize uint8 frames (T, h, w, 3) to (T, height, width, 3).

    Bicubic, scaled to cover the target with the overflow cropped evenly, so
    shapes keep their proportions.
    """
    _check_frames(frames)
    _, h, w, _ = frames.shape
    if (w, h) == (width, height):
        return frames
    box = _cover_box(w, h, width, height)
    out = np.empty((len(frames), height, width, 3), dtype=np.uint8)
    for index, frame in enumerate(frames):
        image = Image.fromarray(frame).resize(
            (width, height), Image.Resampling.BICUBIC, box=box
        )
        out[index] = np.asarray(image)
    return out


_pool: ThreadPoolExecutor | None = None


def helper_pool() -> ThreadPoolExecutor:
    """Two helper threads for work beside the generation: opening a clip's
    encoder while it denoises, writing its poster while it is encoded.

    Pillow and the encoder release the GIL, so this work overlaps the rest.
    """
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="encode")
    return _pool


_local = threading.local()


def _reformatter() -> VideoReformatter:
    """This thread's swscale reformatter.

    A reformatter keeps its scaling context between frames of the same
    geometry; a fresh one per frame (what ``VideoFrame.reformat`` does)
    recomputes the filter and costs several times the scaling itself.
    """
    reformatter = getattr(_local, "reformatter", None)
    if reformatter is None:
        reformatter = _local.reformatter = VideoReformatter()
    return reformatter


def _scaled_yuv_frames(
    frames: np.ndarray, width: int, height: int
) -> Iterator[av.VideoFrame]:
    """yuv420p frames of ``width``×``height`` from smaller RGB frames, in order.

    One swscale pass scales (bicubic, to cover) and converts the colours,
    which costs a fraction of scaling RGB first and converting the large
    frames after; the overflow is then cropped evenly from the planes.
    """
    _, h, w, _ = frames.shape
    scale = max(width / w, height / h)
    # Even sizes, so the half-resolution chroma planes crop cleanly.
    cover_w = max(width, 2 * round(w * scale / 2))
    cover_h = max(height, 2 * round(h * scale / 2))
    x0 = (cover_w - width) // 4 * 2
    y0 = (cover_h - height) // 4 * 2
    reformatter = _reformatter()
    for pixels in frames:
        frame = reformatter.reformat(
            av.VideoFrame.from_ndarray(pixels, format="rgb24"),
            width=cover_w,
            height=cover_h,
            format="yuv420p",
            interpolation="BICUBIC",
        )
        if (cover_w, cover_h) == (width, height):
            yield frame
            continue
        planes = frame.to_ndarray()  # Y rows, then U and V rows at half size
        luma = planes[:cover_h, x0 : x0 + width][y0 : y0 + height]
        chroma = planes[cover_h:].reshape(2, cover_h // 2, cover_w // 2)
        chroma = chroma[:, y0 // 2 : (y0 + height) // 2, x0 // 2 : (x0 + width) // 2]
        packed = np.concatenate([luma.reshape(-1), chroma.reshape(-1)])
        yield av.VideoFrame.from_ndarray(
            packed.reshape(height * 3 // 2, width), format="yuv420p"
        )


# The invisible watermark (generation/watermark.py) every writer puts in its
# frames unless told otherwise: the application names the payload for a
# file's path (its studio id, and the clip number when the path is a clip's).
Payload = marks.Payload
_payload_for: Callable[[Path], Payload] = lambda path: Payload(0)  # noqa: E731
AUTO: Any = object()


def set_watermark_payload(resolve: Callable[[Path], Payload]) -> None:
    """Name the watermark payload of the file each writer writes by default."""
    global _payload_for
    _payload_for = resolve


def watermark_payload(path: str | os.PathLike[str]) -> Payload:
    """The payload a writer marks ``path``'s frames with by default."""
    return _payload_for(Path(path))


def _marked_frames(
    source: Iterator[av.VideoFrame], payload: Payload, width: int, height: int
) -> Iterator[av.VideoFrame]:
    """yuv420p frames with the watermark added to their luma, in place."""
    for frame in source:
        if frame.format.name != "yuv420p":
            frame = _reformatter().reformat(frame, format="yuv420p")
        plane = frame.planes[0]
        luma = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        marks.mark_luma(luma[:height, :width], payload)
        yield frame


class VideoWriter:
    """An H.264 MP4 opened before its frames exist.

    Opening the container and the encoder costs a few milliseconds; a
    generation opens its writer while it denoises and hands it the finished
    frames with :meth:`write`. Until then the file is a hidden temporary
    beside ``path``; :meth:`discard` removes it (a cancelled or failed clip).
    Frames are yuv420p so every browser plays them: the size must be even.

    Every frame gets the invisible watermark in its luma: ``watermark`` is
    its :class:`Payload`, by default the one the application names for
    ``path`` (:func:`set_watermark_payload`); ``None`` only for frames that
    already carry it (a re-encode of a studio clip) or that no model made
    (a creator's own upload).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        size: tuple[int, int],
        fps: int,
        metadata: dict[str, str] | None = None,
        crf: int = DEFAULT_CRF,
        preset: str = DEFAULT_PRESET,
        watermark: Payload | None = AUTO,
    ) -> None:
        if int(fps) != fps or fps < 1:
            raise ValueError(f"fps must be a positive whole number, got {fps}")
        width, height = (int(v) for v in size)
        if width < 2 or height < 2 or width % 2 or height % 2:
            raise ValueError(f"H.264 needs even dimensions, got {width}x{height}")
        self.path = Path(path)
        self.size = (width, height)
        self.watermark = watermark_payload(path) if watermark is AUTO else watermark
        self.time_base = Fraction(1, int(fps))
        self._temporary = _temporary_sibling(self.path)
        self._container = av.open(
            str(self._temporary),
            mode="w",
            format="mp4",
            # mdta tags keep arbitrary keys; faststart lets playback begin early.
            options={"movflags": "+use_metadata_tags+faststart"},
        )
        try:
            self._container.metadata.update(metadata or {})
            stream = self._container.add_stream("libx264", rate=int(fps))
            stream.width, stream.height = width, height
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = self.time_base
            stream.options = {
                "crf": str(crf),
                "preset": preset,
                "threads": "1" if width * height <= SINGLE_THREAD_PIXELS else "0",
            }
            stream.codec_context.open()
        except BaseException:
            self.discard()
            raise
        self._stream = stream

    def write(
        self,
        frames: np.ndarray,
        *,
        audio: np.ndarray | None = None,
        audio_rate: int = AUDIO_RATE,
    ) -> Path:
        """Encode uint8 frames (T, h, w, 3), each once at i/fps, and move the
        finished file to ``path``. Frames of another size are scaled to cover
        the writer's size, the overflow cropped evenly (see
        :func:`fit_frames`). ``audio``, float32 stereo (2, n) at
        ``audio_rate``, is muxed beside them as AAC. Returns the path."""
        try:
            _check_frames(frames)
            sound = None if audio is None else self._add_audio(audio, audio_rate)
            width, height = self.size
            if frames.shape[1:3] != (height, width):
                source = _scaled_yuv_frames(frames, width, height)
            else:
                source = (
                    av.VideoFrame.from_ndarray(pixels, format="rgb24")
                    for pixels in frames
                )
            if self.watermark is not None:
                source = _marked_frames(source, self.watermark, width, height)
            container, stream = self._container, self._stream
            for index, frame in enumerate(source):
                frame.pts, frame.time_base = index, self.time_base
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
            if sound is not None:
                _mux_audio(container, sound, audio)
            container.close()
            os.replace(self._temporary, self.path)
        finally:
            self.discard()
        return self.path

    def _add_audio(self, audio: np.ndarray, rate: int) -> av.audio.stream.AudioStream:
        if audio.ndim != 2 or audio.shape[0] != 2:
            raise ValueError(f"audio must be stereo (2, n), got {audio.shape}")
        sound = self._container.add_stream("aac", rate=int(rate))
        sound.layout = "stereo"
        return sound

    def discard(self) -> None:
        """Close the file and remove it unless :meth:`write` finished it."""
        try:
            self._container.close()
        except Exception:  # closing a file that was never written to
            pass
        self._temporary.unlink(missing_ok=True)


def write_video(
    frames: np.ndarray,
    path: str | os.PathLike[str],
    *,
    fps: int,
    metadata: dict[str, str] | None = None,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
    size: tuple[int, int] | None = None,
    audio: np.ndarray | None = None,
    audio_rate: int = AUDIO_RATE,
    watermark: Payload | None = AUTO,
) -> Path:
    """Encode uint8 frames (T, H, W, 3) as an H.264 MP4 at exactly ``fps``.

    Every frame is written once (frame i at time i/fps), in yuv420p so every
    browser plays it; width and height must therefore be even. ``metadata``
    goes into the container's tags. ``size`` (width, height) scales the
    frames to cover that size while encoding, cropping the overflow evenly
    (see :func:`fit_frames`). ``audio`` (float32 stereo, (2, n) at
    ``audio_rate``) is muxed beside the frames as AAC. ``watermark`` is as
    for :class:`VideoWriter`. Returns the written path.
    """
    _check_frames(frames)
    if size is None:
        size = (frames.shape[2], frames.shape[1])
    writer = VideoWriter(
        path,
        size=size,
        fps=fps,
        metadata=metadata,
        crf=crf,
        preset=preset,
        watermark=watermark,
    )
    return writer.write(frames, audio=audio, audio_rate=audio_rate)


def _mux_audio(
    container: av.container.OutputContainer,
    sound: av.audio.stream.AudioStream,
    audio: np.ndarray,
    chunk: int = 1024,
) -> None:
    samples = np.asarray(audio, dtype=np.float32)
    rate = sound.codec_context.sample_rate
    for start in range(0, samples.shape[1], chunk):
        block = np.ascontiguousarray(samples[:, start : start + chunk])
        frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = rate, start
        container.mux(sound.encode(frame))
    container.mux(sound.encode(None))


def write_poster(
    frames: np.ndarray,
    path: str | os.PathLike[str],
    *,
    frame: int | None = None,
    quality: int = 85,
    size: tuple[int, int] | None = None,
    watermark: Payload | None = AUTO,
) -> Path:
    """Save one frame (the middle one unless ``frame`` says) as the poster.

    The format follows the suffix: .jpg/.jpeg, .webp or .png. ``size``
    (width, height) scales the frame as :func:`write_video` does. The
    poster carries the watermark as the clip's frames do (``watermark`` as
    for :class:`VideoWriter`). Returns the written path.
    """
    _check_frames(frames)
    path = Path(path)
    image_format = POSTER_FORMATS.get(path.suffix.lower())
    if image_format is None:
        raise ValueError(f"a poster must be one of {sorted(POSTER_FORMATS)}")
    index = len(frames) // 2 if frame is None else frame
    picture = frames[index][None]
    if size is not None:
        picture = fit_frames(picture, *size)
    payload = watermark_payload(path) if watermark is AUTO else watermark
    if payload is not None:
        picture = marks.mark_rgb(picture, payload)
    temporary = _temporary_sibling(path)
    options = {} if image_format == "PNG" else {"quality": quality}
    try:
        Image.fromarray(picture[0]).save(temporary, format=image_format, **options)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def probe_video(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read back a video's frame count (decoded), fps, size and tags."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return {
            "frames": frames,
            "fps": float(stream.average_rate) if stream.average_rate else 0.0,
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "metadata": dict(container.metadata),
        }
