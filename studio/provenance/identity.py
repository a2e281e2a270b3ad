"""Who the watermark says made a file: this studio's id and the clip's number.

The 64-bit payload (generation/watermark.py) is two 32-bit numbers:

- the studio's id: ``STUDIO_WATERMARK_ID`` (8 hex digits) when set, or the
  first 32 bits of SHA-256 of ``"studio-watermark:" + SECRET_KEY``, so that
  every worker sharing the secret key marks with the same id;
- the clip's number: the first 32 bits of the clip's id (its UUID), read from
  the folder every clip is written into (``clips/<owner>/<clip id hex>/``);
  0 for anything else.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from generation.watermark import Payload

CLIP_FOLDER = re.compile(r"^[0-9a-f]{32}$")


def studio_id() -> int:
    configured = getattr(settings, "STUDIO_WATERMARK_ID", "")
    if configured:
        if not re.fullmatch(r"[0-9a-fA-F]{1,8}", configured):
            raise ImproperlyConfigured(
                "STUDIO_WATERMARK_ID must be 1 to 8 hex digits, e.g. 5eed1234."
            )
        return int(configured, 16)
    digest = hashlib.sha256(f"studio-watermark:{settings.SECRET_KEY}".encode())
    return int.from_bytes(digest.digest()[:4], "big")


def clip_number(clip_id: uuid.UUID) -> int:
    return clip_id.int >> 96


def payload_for(path: Path) -> Payload:
    """The payload of a file the studio writes at ``path``."""
    folder = path.parent.name
    clip = int(folder[:8], 16) if CLIP_FOLDER.match(folder) else 0
    return Payload(studio=studio_id(), clip=clip)


def clip_id_range(number: int) -> tuple[uuid.UUID, uuid.UUID]:
    """The lowest and highest clip ids whose number is ``number``."""
    low = uuid.UUID(int=number << 96)
    high = uuid.UUID(int=(number << 96) | (2**96 - 1))
    return low, high
