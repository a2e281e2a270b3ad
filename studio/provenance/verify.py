"""What a file says about itself: its Content Credentials and its watermark.

Anyone may upload a video or an image (``/verify/``, ``POST /api/verify``).
The upload is bounded (bytes, pixels before decoding, frames read), decoded
by PyAV or Pillow from the temporary file Django spooled it to, and never
kept: nothing of it outlives the request.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import av
import c2pa
import numpy as np
from PIL import Image

from generation import watermark
from generation.credentials import Verdict, _verdict
from studio.generations.uploads import checked_video_stream
from studio.lib.credentials import studio_credentials
from studio.provenance.identity import clip_id_range, studio_id

MAX_BYTES = 50 * 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096
MAX_FRAMES = 96  # frames read from a video or an animation
# Frames are read at most this large on their short side (the mark's grid
# is relative to the frame, so nothing is lost).
READ_SIDE = 512
# What the first bytes of each accepted kind of file look like.
IMAGE_MIMES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
IMAGE_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
# Read bits of the studio's id that may be wrong; the clip number's least
# certain bits tried both ways when looking the clip up.
STUDIO_BITS_TOLERATED = 3
CLIP_BITS_RETRIED = 4


class VerifyError(ValueError):
    """The upload could not be checked; the message is for whoever sent it."""


@dataclass(frozen=True)
class Report:
    kind: str  # "video" or "image"
    format: str
    width: int
    height: int
    frames: int
    credentials: Verdict
    detection: watermark.Detection
    ours: bool  # the mark names this studio
    clip: dict[str, Any] | None  # the shared clip it names, if any

    def credentials_status(self) -> str:
        return {
            "valid": "valid",
            "invalid": "tampered",
            "missing": "absent",
        }.get(self.credentials.status, "unreadable")

    def summary(self) -> str:
        found = self.detection.found
        status = self.credentials_status()
        if found and self.ours:
            words = "Made with this studio, AI-generated."
        elif found:
            words = "AI-generated: it carries a studio watermark (another studio's)."
        elif status == "valid" and self.credentials.ai_generated:
            words = "AI-generated, say its Content Credentials."
        else:
            words = "No sign of this studio: no watermark found."
        if status == "tampered":
            words += " Its Content Credentials do not match the file: it was changed."
        elif status == "absent" and found:
            words += " Its Content Credentials were stripped (a re-encode or upload does that)."
        return words

    def as_json(self) -> dict[str, Any]:
        detection = self.detection
        verdict = self.credentials
        return {
            "summary": self.summary(),
            "file": {
                "kind": self.kind,
                "format": self.format,
                "width": self.width,
                "height": self.height,
                "frames": self.frames,
            },
            "credentials": {
                "status": self.credentials_status(),
                "message": verdict.message,
                "signer": verdict.signer,
                "ai_generated": verdict.ai_generated,
                "model": verdict.model,
                "trusted": verdict.trusted,
            },
            "watermark": {
                "found": detection.found,
                "confidence": round(detection.confidence, 3),
                "score": round(detection.z, 2),
                "this_studio": bool(detection.found and self.ours),
                "payload": detection.payload.hex if detection.payload else None,
                "clip": self.clip,
                "message": self.watermark_message(),
            },
        }

    def watermark_message(self) -> str:
        if not self.detection.found:
            return "No watermark found."
        if not self.ours:
            return "A watermark of another studio than this one."
        if self.clip:
            return "Watermark found: a clip of this studio that its owner has shared."
        if self.detection.payload and self.detection.payload.clip:
            return (
                "Watermark found: made with this studio. Which clip stays "
                "private: its owner has not shared it."
            )
        return "Watermark found: made with this studio."


def _spool(upload: IO[bytes]) -> tuple[Path, bool]:
    """A path to the upload's bytes: the file Django spooled it to, or a
    temporary copy of a small one (copied in chunks). True when the copy is
    ours to delete."""
    path = getattr(upload, "temporary_file_path", None)
    if callable(path):
        return Path(path()), False
    handle, name = tempfile.mkstemp(prefix="verify-")
    with os.fdopen(handle, "wb") as out:
        upload.seek(0)
        shutil.copyfileobj(upload, out, 1024 * 1024)
    return Path(name), True


def _size(upload: Any) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
        upload.seek(0)
    return int(size)


def inspect_upload(upload: IO[bytes]) -> Report:
    """Check an uploaded video or image; raises :class:`VerifyError`."""
    if _size(upload) > MAX_BYTES:
        raise VerifyError(
            f"The file is larger than {MAX_BYTES // 2**20} MB; send a shorter clip."
        )
    if _size(upload) == 0:
        raise VerifyError("The file is empty.")
    path, owned = _spool(upload)
    try:
        return inspect_file(path)
    finally:
        if owned:
            path.unlink(missing_ok=True)


def inspect_file(path: Path) -> Report:
    with path.open("rb") as handle:
        head = handle.read(16)
    if head[:6] in (b"GIF87a", b"GIF89a") or head[:8] == b"\x89PNG\r\n\x1a\n":
        return _inspect_image(path)
    if head[:3] == b"\xff\xd8\xff" or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return _inspect_image(path)
    return _inspect_video(path)


def _fit(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, READ_SIDE / min(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _inspect_video(path: Path) -> Report:
    try:
        with av.open(str(path), mode="r") as container:
            stream, width, height = checked_video_stream(
                container, VerifyError, "Send a video (MP4, MOV or WebM) or an image."
            )
            formats = set(container.format.name.split(","))
            size = _fit(width, height)
            frames = []
            for frame in container.decode(stream):
                frames.append(
                    frame.to_ndarray(width=size[0], height=size[1], format="gray")
                )
                if len(frames) == MAX_FRAMES:
                    break
            is_mp4 = bool(formats & {"mov", "mp4", "m4a", "3gp", "3g2", "mj2"})
    except VerifyError:
        raise
    except (av.FFmpegError, OSError, ValueError, IndexError) as error:
        raise VerifyError(
            "The file could not be read; send an MP4, MOV or WebM video, or a "
            "PNG, JPEG, WebP or GIF image."
        ) from error
    if not frames:
        raise VerifyError("The video has no frames.")
    luma = np.stack(frames).astype(np.float32)
    verdict = (
        _credentials(path, "video/mp4")
        if is_mp4
        else Verdict("missing", "No Content Credentials in this video.")
    )
    return _report(
        "video", "webm" if not is_mp4 else "mp4", width, height, luma, verdict
    )


def _inspect_image(path: Path) -> Report:
    try:
        with Image.open(path) as image:
            kind = image.format or ""
            if kind not in IMAGE_FORMATS:
                raise VerifyError("Send a PNG, JPEG, WebP or GIF image, or a video.")
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise VerifyError(
                    f"The image is {width}×{height}; keep it under "
                    f"{MAX_IMAGE_PIXELS // 10**6} megapixels."
                )
            size = _fit(width, height)
            frames = []
            for index in range(min(getattr(image, "n_frames", 1), MAX_FRAMES)):
                image.seek(index)
                picture = image.convert("L")
                if picture.size != size:
                    picture = picture.resize(size, Image.Resampling.BOX)
                frames.append(np.asarray(picture, dtype=np.float32))
    except VerifyError:
        raise
    except Image.DecompressionBombError as error:
        raise VerifyError("The image is too large to check.") from error
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise VerifyError(
            "The image could not be read; send a PNG, JPEG, WebP or GIF."
        ) from error
    mime = IMAGE_MIMES.get(kind)
    verdict = (
        _credentials(path, mime)
        if mime
        else Verdict("missing", "No Content Credentials in this image.")
    )
    luma = np.stack(frames)
    return _report("image", kind.lower(), width, height, luma, verdict)


def _credentials(path: Path, mime: str) -> Verdict:
    """The Content Credentials' verdict, read offline as share pages read them."""
    anchor = studio_credentials().trust_anchor
    context = None
    if anchor:
        context = c2pa.Context.from_dict(
            {
                "trust": {"user_anchors": anchor.decode()},
                "verify": {"verify_trust": True},
            }
        )
    try:
        with path.open("rb") as stream:
            reader = c2pa.Reader.try_create(mime, stream, None, context)
            if reader is None:
                return Verdict("missing", "No Content Credentials in this file.")
            with reader:
                state = reader.get_validation_state() or ""
                manifest = reader.get_active_manifest() or {}
                results = reader.get_validation_results() or {}
    except (OSError, c2pa.C2paError) as error:
        return Verdict("unreadable", f"Content Credentials could not be read: {error}")
    return _verdict(state, manifest, results)


def _report(
    kind: str, fmt: str, width: int, height: int, luma: np.ndarray, verdict: Verdict
) -> Report:
    detection = watermark.detect_luma(luma)
    ours = bool(detection.found and _close(detection.bits[:32], studio_id()))
    clip = shared_clip(_clip_numbers(detection)) if ours else None
    return Report(
        kind=kind,
        format=fmt,
        width=width,
        height=height,
        frames=len(luma),
        credentials=verdict,
        detection=detection,
        ours=ours,
        clip=clip,
    )


def _close(bits: np.ndarray, number: int) -> bool:
    """Whether 32 read bits are ``number`` but for a few weak ones: a mark
    read after heavy re-encoding may get one or two bits wrong, and another
    studio's id is this close by chance about once in a million."""
    expected = np.array([(number >> (31 - i)) & 1 for i in range(32)], np.uint8)
    return int(np.sum(bits != expected)) <= STUDIO_BITS_TOLERATED


def _clip_numbers(detection: watermark.Detection) -> list[int]:
    """The clip number as read, then as read with each combination of its
    least certain bits flipped, most likely first."""
    bits = detection.bits[32:].astype(np.int64)
    weakest = np.argsort(np.abs(detection.soft[32:]))[:CLIP_BITS_RETRIED]
    base = int(sum(int(b) << (31 - i) for i, b in enumerate(bits)))
    numbers = []
    for flips in range(2**CLIP_BITS_RETRIED):
        number = base
        for k, position in enumerate(weakest):
            if flips >> k & 1:
                number ^= 1 << (31 - int(position))
        numbers.append(number)
    return numbers


def shared_clip(numbers: list[int]) -> dict[str, Any] | None:
    """The first clip of this studio whose number is in ``numbers`` and
    whose owner shares it (by a link to it, or to a gallery holding it, that
    still opens); else None."""
    from django.db.models import Q

    from studio.generations.models import Generation
    from studio.sharing.models import ShareLink

    numbers = [number for number in numbers if number]
    if not numbers:
        return None
    ranges = Q()
    for number in numbers:
        low, high = clip_id_range(number)
        ranges |= Q(pk__gte=low, pk__lte=high)
    active = ShareLink.objects.active()
    shared = Generation.objects.filter(ranges).filter(
        Q(pk__in=active.values("generation"))
        | Q(pk__in=active.values("gallery__items__generation"))
    )
    order = {number: rank for rank, number in enumerate(numbers)}
    found = sorted(shared[:8], key=lambda clip: order.get(clip.pk.int >> 96, 0))
    if not found:
        return None
    clip = found[0]
    return {
        "id": str(clip.pk),
        "model": clip.spec.model,
        "created": clip.created.isoformat(),
        "shared": True,
    }
