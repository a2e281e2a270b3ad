"""A finished clip in other formats: WebM, animated WebP/GIF, PNG frames, a
contact sheet — and an optional visible "AI" mark on any of them.

Every export decodes the studio's MP4 (PyAV) and re-encodes it (PyAV or
Pillow). The frames keep the clip's invisible watermark
(generation/watermark.py) whatever the options: a clip written before the
studio marked its frames is marked on the way out. The clip's settings travel in each file's metadata where the format
has room: container tags (WebM), XMP (WebP), the comment (GIF), text chunks
(PNG) and a settings.json beside the frames (ZIP).
"""

from __future__ import annotations

import io
import json
import math
import os
import secrets
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from xml.sax.saxutils import escape

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from generation import encode, watermark

Metadata = Mapping[str, str]


@dataclass(frozen=True)
class ExportFormat:
    """One download: its file suffix, MIME type and a label for people."""

    key: str
    suffix: str
    content_type: str
    label: str


FORMATS: dict[str, ExportFormat] = {
    f.key: f
    for f in (
        ExportFormat("mp4", ".mp4", "video/mp4", "MP4 (H.264)"),
        ExportFormat("webm", ".webm", "video/webm", "WebM (VP9)"),
        ExportFormat("webp", ".webp", "image/webp", "Animated WebP"),
        ExportFormat("gif", ".gif", "image/gif", "Animated GIF"),
        ExportFormat("frames", ".zip", "application/zip", "PNG frames (ZIP)"),
        ExportFormat("sheet", ".png", "image/png", "Contact sheet (PNG)"),
    )
}


def read_frames(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Decode a video into uint8 frames (T, H, W, 3) and its whole-number fps."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        rate = stream.average_rate or stream.base_rate or 8
    if not frames:
        raise ValueError(f"{path} holds no video frames")
    return np.stack(frames), max(1, round(float(rate)))


def ensure_marked(frames: np.ndarray, source: str | os.PathLike[str]) -> np.ndarray:
    """``frames`` of the clip at ``source``, with the invisible watermark: as
    they are when they carry it, marked with the clip's payload otherwise."""
    sample = frames[:: max(1, len(frames) // 8)]
    if watermark.detect_rgb(sample).found:
        return frames
    return watermark.mark_rgb(frames, encode.watermark_payload(source))


def add_watermark(frames: np.ndarray, text: str = "AI") -> np.ndarray:
    """A copy of ``frames`` with a small visible label in the bottom-right corner."""
    _, height, width, _ = frames.shape
    size = max(10, min(width, height) // 10)
    font = _font(size)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font)
    pad = max(2, size // 4)
    box_w, box_h = right - left + 2 * pad, bottom - top + 2 * pad
    x0, y0 = width - box_w - pad, height - box_h - pad
    marked = []
    for pixels in frames:
        image = Image.fromarray(pixels).convert("RGBA")
        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        draw.rounded_rectangle(
            (x0, y0, x0 + box_w, y0 + box_h), radius=pad, fill=(0, 0, 0, 150)
        )
        draw.text(
            (x0 + pad - left, y0 + pad - top), text, font=font, fill=(255, 255, 255)
        )
        marked.append(np.asarray(Image.alpha_composite(image, overlay).convert("RGB")))
    return np.stack(marked)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow built without FreeType
        return ImageFont.load_default()


def _atomic(path: Path, write: Callable[[Path], None]) -> Path:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_webm(
    frames: np.ndarray,
    path: str | os.PathLike[str],
    *,
    fps: int,
    metadata: Metadata | None = None,
    audio: np.ndarray | None = None,
) -> Path:
    """Encode frames as WebM (VP9, constant quality) with ``metadata`` as tags
    and, when given, float32 stereo ``audio`` at 48 kHz as Opus."""
    time_base = Fraction(1, int(fps))
    _, height, width, _ = frames.shape

    def write(temporary: Path) -> None:
        with av.open(str(temporary), mode="w", format="webm") as container:
            container.metadata.update(dict(metadata or {}))
            stream = container.add_stream("libvpx-vp9", rate=int(fps))
            stream.width, stream.height = width, height
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = time_base
            stream.options = {"crf": "32", "b": "0", "deadline": "realtime"}
            sound = None
            if audio is not None:  # every stream is added before the first packet
                sound = container.add_stream("libopus", rate=OPUS_RATE)
                sound.layout = "stereo"
            for index, pixels in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                frame.pts, frame.time_base = index, time_base
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
            if sound is not None:
                _mux_opus(container, sound, audio)

    return _atomic(Path(path), write)


OPUS_RATE = 48_000


def _mux_opus(
    container: av.container.OutputContainer,
    sound: av.audio.stream.AudioStream,
    audio: np.ndarray,
) -> None:
    samples = np.ascontiguousarray(audio, dtype=np.float32)
    # Opus takes 20 ms frames of interleaved samples.
    chunk = OPUS_RATE // 50
    for start in range(0, samples.shape[1], chunk):
        block = samples[:, start : start + chunk]
        if block.shape[1] < chunk:
            block = np.pad(block, ((0, 0), (0, chunk - block.shape[1])))
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(block.T.reshape(1, -1)), format="flt", layout="stereo"
        )
        frame.sample_rate, frame.pts = OPUS_RATE, start
        container.mux(sound.encode(frame))
    container.mux(sound.encode(None))


def read_sound(
    source: str | os.PathLike[str], seconds: float, rate: int
) -> np.ndarray | None:
    """The clip's sound as float32 stereo (2, n) at ``rate``, exactly
    ``seconds`` long; None for a clip without sound."""
    with av.open(str(source)) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=rate)
        chunks = [
            out.to_ndarray()
            for frame in container.decode(stream)
            for out in resampler.resample(frame)
        ]
        chunks += [out.to_ndarray() for out in resampler.resample(None)]
    wanted = round(seconds * rate)
    sound = np.concatenate(chunks, axis=1) if chunks else np.zeros((2, 0))
    sound = sound[:, :wanted].astype(np.float32)
    return np.pad(sound, ((0, 0), (0, wanted - sound.shape[1])))


def _xmp(metadata: Metadata) -> bytes:
    fields = "".join(
        f"<studio:{key}>{escape(value)}</studio:{key}>"
        for key, value in metadata.items()
        if key.isidentifier()
    )
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:studio="https://studio.local/ns/1.0/" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        "<Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/"
        "digitalsourcetype/trainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType>"
        f"{fields}</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def write_animated_webp(
    frames: np.ndarray,
    path: str | os.PathLike[str],
    *,
    fps: int,
    metadata: Metadata | None = None,
) -> Path:
    """An endlessly looping animated WebP; the settings go into its XMP."""
    images = [Image.fromarray(pixels) for pixels in frames]

    def write(temporary: Path) -> None:
        images[0].save(
            temporary,
            format="WEBP",
            save_all=True,
            append_images=images[1:],
            duration=round(1000 / fps),
            loop=0,
            quality=80,
            xmp=_xmp(metadata or {}),
        )

    return _atomic(Path(path), write)


def write_gif(
    frames: np.ndarray,
    path: str | os.PathLike[str],
    *,
    fps: int,
    metadata: Metadata | None = None,
) -> Path:
    """An endlessly looping GIF; the settings go into its comment."""
    images = [Image.fromarray(pixels).convert("P", palette=1) for pixels in frames]
    comment = (metadata or {}).get("comment", "")

    def write(temporary: Path) -> None:
        images[0].save(
            temporary,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=round(1000 / fps),
            loop=0,
            comment=comment.encode()[:4000],
        )

    return _atomic(Path(path), write)


def _png_info(metadata: Metadata) -> PngInfo:
    info = PngInfo()
    for key, value in metadata.items():
        info.add_itxt(key[:79], value)
    return info


def write_frames_zip(
    frames: np.ndarray,
    path: str | os.PathLike[str],
    *,
    metadata: Metadata | None = None,
) -> Path:
    """A ZIP of numbered PNG frames (settings in each PNG) and settings.json."""
    metadata = dict(metadata or {})
    digits = max(4, len(str(len(frames))))

    def write(temporary: Path) -> None:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("settings.json", json.dumps(metadata, indent=2))
            for index, pixels in enumerate(frames):
                buffer = io.BytesIO()
                Image.fromarray(pixels).save(
                    buffer, format="PNG", pnginfo=_png_info(metadata)
                )
                archive.writestr(f"frame-{index:0{digits}d}.png", buffer.getvalue())

    return _atomic(Path(path), write)


def contact_sheet(frames: np.ndarray, *, columns: int | None = None) -> np.ndarray:
    """Every frame in a grid (row by row), with a thin gap between them."""
    count, height, width, _ = frames.shape
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    gap = 2
    sheet = np.full(
        (rows * (height + gap) + gap, columns * (width + gap) + gap, 3),
        16,
        dtype=np.uint8,
    )
    for index, pixels in enumerate(frames):
        row, column = divmod(index, columns)
        y, x = gap + row * (height + gap), gap + column * (width + gap)
        sheet[y : y + height, x : x + width] = pixels
    return sheet


def write_contact_sheet(
    frames: np.ndarray,
    path: str | os.PathLike[str],
    *,
    columns: int | None = None,
    metadata: Metadata | None = None,
) -> Path:
    """A contact sheet as PNG with the settings in its text chunks."""
    sheet = Image.fromarray(contact_sheet(frames, columns=columns))

    def write(temporary: Path) -> None:
        sheet.save(temporary, format="PNG", pnginfo=_png_info(metadata or {}))

    return _atomic(Path(path), write)


def remux(
    source: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    metadata: Metadata,
) -> Path:
    """Copy the MP4 at ``source`` to ``dest`` with ``metadata`` as its only
    container tags: the same frames and sound, not re-encoded, and no Content
    Credentials (the caller signs the copy)."""

    def write(temporary: Path) -> None:
        with (
            av.open(str(source)) as original,
            av.open(
                str(temporary),
                "w",
                format="mp4",
                options={"movflags": "+use_metadata_tags+faststart"},
            ) as copy,
        ):
            video = original.streams.video[0]
            sources = [video, *original.streams.audio[:1]]
            targets = {s.index: copy.add_stream_from_template(s) for s in sources}
            copy.metadata.update(dict(metadata))
            for packet in original.demux(*sources):
                if packet.dts is None:  # the demuxer's flush packet
                    continue
                packet.stream = targets[packet.stream.index]
                copy.mux(packet)

    return _atomic(Path(dest), write)


def export_clip(
    source: str | os.PathLike[str],
    key: str,
    dest: str | os.PathLike[str],
    *,
    metadata: Metadata | None = None,
    watermark: bool = False,
) -> Path:
    """Write the clip at ``source`` (an MP4) as format ``key`` to ``dest``.

    ``key`` is one of :data:`FORMATS`. ``watermark`` adds the *visible* "AI"
    label; the invisible watermark is always there. An MP4 export is a
    re-encode, so it is only needed with ``watermark``; the caller signs it
    afterwards.
    """
    visible_mark = watermark
    if key not in FORMATS:
        raise ValueError(f"unknown export format {key!r}; use one of {list(FORMATS)}")
    frames, fps = read_frames(source)
    frames = ensure_marked(frames, source)
    if visible_mark:
        frames = add_watermark(frames)
    tags = dict(metadata or {})
    seconds = len(frames) / fps
    if key == "mp4":
        # The frames carry the mark already: do not add it twice.
        sound = read_sound(source, seconds, encode.AUDIO_RATE)
        return encode.write_video(
            frames, dest, fps=fps, metadata=tags, watermark=None, audio=sound
        )
    if key == "webm":
        sound = read_sound(source, seconds, OPUS_RATE)
        return write_webm(frames, dest, fps=fps, metadata=tags, audio=sound)
    if key == "webp":
        return write_animated_webp(frames, dest, fps=fps, metadata=tags)
    if key == "gif":
        return write_gif(frames, dest, fps=fps, metadata=tags)
    if key == "frames":
        return write_frames_zip(frames, dest, metadata=tags)
    return write_contact_sheet(frames, dest, metadata=tags)
