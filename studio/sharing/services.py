from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from generation.encode import PRIVATE_SETTINGS
from generation.specs import GenerationSpec
from studio.galleries.models import Gallery
from studio.galleries.services import (
    download_name,
    gallery_media_dir,
    gallery_shared_copies_refresh,
    generation_export,
    private_copies_make,
)
from studio.generations.models import Generation
from studio.lib.archives import writing_archive
from studio.live.broadcast import hub
from studio.sharing.models import ShareLink, share_digest
from studio.storyboards.models import Storyboard
from studio.storyboards.services import (
    shared_shot_copy,
    shared_takes_prepare,
    shots_with_takes,
)

# 24 random bytes: 192 bits, 32 URL-safe characters.
TOKEN_BYTES = 24
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")
MAX_EXPIRY_HOURS = 24 * 365


class LinkExpired(Exception):
    def __init__(self, link: ShareLink) -> None:
        super().__init__("This share link has expired.")
        self.link = link


def share_url(token: str) -> str:
    return reverse("sharing:page", args=[token])


def share_link_create(
    *,
    owner: AbstractBaseUser,
    gallery: Gallery | None = None,
    generation: Generation | None = None,
    storyboard: Storyboard | None = None,
    live: bool = False,
    label: str = "",
    expires_in_hours: float | None = None,
) -> tuple[ShareLink, str]:
    """A new link to a gallery, a clip, a storyboard's cut or (``live``) the
    live stream of ``owner``'s.

    The files its visitors play are made now (for a large gallery, by the
    background preparer), so that no visitor's request has to make one; a
    live link plays whatever the owner streams, whenever that is.
    Returns the link and its plain token, which is shown once and never stored.
    """
    targets = [t for t in (gallery, generation, storyboard) if t is not None]
    if len(targets) + live != 1:
        raise ValueError("Share one gallery, clip, storyboard or live stream.")
    for target in targets:
        if target.owner_id != owner.pk:
            raise PermissionError("Not yours to share.")
    if generation is not None and generation.status != Generation.Status.SUCCEEDED:
        raise ValueError("Only finished clips can be shared.")
    expires = None
    if expires_in_hours is not None:
        if not 0 < expires_in_hours <= MAX_EXPIRY_HOURS:
            raise ValueError(
                f"expires_in_hours must be between 0 and {MAX_EXPIRY_HOURS}."
            )
        expires = timezone.now() + datetime.timedelta(hours=expires_in_hours)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ShareLink.objects.create(
        owner=owner,
        gallery=gallery,
        generation=generation,
        storyboard=storyboard,
        live=live,
        label=label.strip()[:100],
        digest=share_digest(token),
        expires=expires,
    )
    if live:
        pass  # frames go out as they are made; nothing to prepare
    elif storyboard is not None:
        shared_takes_prepare(storyboard=storyboard)
    elif gallery is not None:
        gallery_shared_copies_refresh(gallery=gallery)
    else:
        # A single clip's link never shows its prompt.
        private_copies_make([generation])
    return link, token


def share_link_revoke(*, link: ShareLink) -> None:
    """Turn the link off; whoever watches a live stream through it is cut
    off once the revocation is committed."""
    if link.revoked is None:
        link.revoked = timezone.now()
        link.save(update_fields=["revoked"])
    if link.live:
        owner_id, link_id = link.owner_id, link.pk
        transaction.on_commit(lambda: hub.drop_link(owner_id, link_id))


def share_link_resolve(token: str) -> ShareLink | None:
    """The active link for a token; None for a malformed, unknown or revoked one.

    Raises LinkExpired for a link past its expiry.
    """
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        return None
    link = (
        ShareLink.objects.select_related("gallery", "generation", "storyboard")
        .filter(digest=share_digest(token))
        .first()
    )
    if link is None or not link.matches(token) or link.revoked is not None:
        return None
    if link.is_expired:
        raise LinkExpired(link)
    return link


def share_link_record_view(*, link: ShareLink) -> None:
    now = timezone.now()
    ShareLink.objects.filter(pk=link.pk).update(views=F("views") + 1, last_viewed=now)
    link.views += 1
    link.last_viewed = now


def shows_prompts(link: ShareLink) -> bool:
    """Whether the link's viewers may read the prompts: only where the owner
    said so, on a gallery. Elsewhere the prompts stay out of the page, the
    file names and the files' tags; a live stream's viewers see the labels of
    the choices they vote on, never the prompt that is streaming."""
    return link.gallery is not None and link.gallery.show_prompts


def shared_generation(link: ShareLink, generation_id: object) -> Generation | None:
    """A finished clip the link shows, or None: anything else is not shared."""
    clips = Generation.objects.filter(
        pk=generation_id, status=Generation.Status.SUCCEEDED
    ).exclude(video="")
    if link.generation_id is not None:
        clips = clips.filter(pk=link.generation_id)
    elif link.gallery_id is not None:
        clips = clips.filter(
            pk__in=link.gallery.items.values("generation"), owner=link.owner_id
        )
    else:
        return None
    return clips.first()


def shared_shot_file(link: ShareLink, shot_id: int) -> Path | None:
    """The copy a storyboard link plays for one of its shots, or None: for a
    shot of another storyboard, one without a finished take, or one whose copy
    was not made beforehand (visitors never wait for one to be made)."""
    if link.storyboard_id is None:
        return None
    shot = shots_with_takes(link.storyboard).filter(pk=shot_id).first()
    return shared_shot_copy(shot) if shot is not None else None


CUT_FILES = {"render.mp4": ".mp4", "render.vtt": ".vtt"}


def shared_cut_file(link: ShareLink, name: str) -> Path | None:
    """The storyboard's latest rendered cut (``render.mp4``) or its captions
    (``render.vtt``), as the render wrote them, or None."""
    if link.storyboard_id is None or name not in CUT_FILES:
        return None
    latest = (
        link.storyboard.renders.filter(generation__status=Generation.Status.SUCCEEDED)
        .exclude(generation__video="")
        .select_related("generation")
        .first()
    )
    if latest is None:
        return None
    relative = latest.generation.video.removesuffix(".mp4") + CUT_FILES[name]
    path = (settings.MEDIA_ROOT / relative).resolve()
    if not path.is_relative_to(settings.MEDIA_ROOT) or not path.is_file():
        return None
    return path


# A share viewer's "Download all" holds at most this many clips, in board order.
MAX_SHARED_ARCHIVE = 200
_SPEC_FIELDS = {field.name for field in fields(GenerationSpec)}
_PATHS = ("image_path", "video_path")


def _shared_record(clip: Generation, name: str, *, private: bool) -> dict[str, Any]:
    """What a share viewer may know of a clip: how it was made; its prompts
    only where the owner shows them; never a path on the server."""
    hidden = PRIVATE_SETTINGS if private else _PATHS
    settings = {
        key: value
        for key, value in clip.settings.items()
        if key in _SPEC_FIELDS and key not in hidden
    }
    return {"file": name, "seed": clip.seed, "settings": settings}


def shared_archive_path(
    gallery: Gallery, clips: Sequence[Generation], *, private: bool, watermark: bool
) -> Path:
    """Where the ZIP of these clips, as a share of ``gallery`` serves them, is
    kept: named by what it holds, so a changed board names a new file."""
    what = json.dumps([private, watermark, [str(clip.pk) for clip in clips]])
    digest = hashlib.sha256(what.encode()).hexdigest()[:32]
    return gallery_media_dir(gallery) / f"download-{digest}.zip"


def shared_archive_make(
    *, path: Path, clips: Sequence[Generation], private: bool, watermark: bool
) -> Path:
    """Write the ZIP ``shared_archive_path`` names, unless it is there, and
    drop the gallery's older ones. Reads no database, so the background
    preparer can run it."""
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written under a dot name and moved into place: a visitor never gets a
    # half-written archive, and the account export skips dot files.
    with tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=".", suffix=".part", delete=False
    ) as out:
        part = Path(out.name)
        try:
            _write_archive(out, clips=clips, private=private, watermark=watermark)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
    os.replace(part, path)
    for older in path.parent.glob("download-*.zip"):
        if older != path:
            older.unlink(missing_ok=True)
    return path


def _write_archive(
    out: IO[bytes], *, clips: Sequence[Generation], private: bool, watermark: bool
) -> None:
    """The clips as a share serves them (signed MP4s; copies without the
    prompts where the owner keeps them), numbered in order, with clips.json
    saying how each was made."""
    records = []
    with writing_archive(out) as archive:
        for number, clip in enumerate(clips, 1):
            path = generation_export(
                generation=clip, key="mp4", watermark=watermark, private=private
            )
            name = f"{number:03d}-{download_name(clip, 'mp4', private=private)}"
            archive.add_file(path, name)
            records.append(_shared_record(clip, name, private=private))
        archive.add_json("clips.json", records)
