"""Where each owner's files live: ``MEDIA_ROOT/<kind>/<owner folder>/...``.

The owner's folder name is salted, so nobody guesses it from an id; every
kind of file (clips, uploaded inputs, galleries' and storyboards' own files)
sits under it, which is how an account's files are found, exported and
deleted together.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils.crypto import salted_hmac

CLIPS, INPUTS, GALLERIES, STORYBOARDS = "clips", "inputs", "galleries", "storyboards"


def owner_media_dir(owner_id: int) -> str:
    """A per-owner folder name nobody can guess from the owner's id."""
    return salted_hmac("studio.media.owner", str(owner_id)).hexdigest()[:24]


def owner_folder(kind: str, owner_id: int) -> Path:
    """The owner's folder for one kind of file."""
    return Path(settings.MEDIA_ROOT) / kind / owner_media_dir(owner_id)


def owner_folders(owner_id: int) -> list[Path]:
    """Every folder of this owner's files that exists, of every kind."""
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return []
    name = owner_media_dir(owner_id)
    return [kind / name for kind in root.iterdir() if (kind / name).is_dir()]
