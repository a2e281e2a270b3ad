from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import F, Max, QuerySet

from generation import encode, exports
from generation.credentials import sign_video
from studio.galleries.models import Gallery, GalleryItem
from studio.generations.models import Generation
from studio.generations.store import output_dir
from studio.lib.credentials import studio_credentials
from studio.lib.folders import GALLERIES, owner_folder
from studio.sharing.preparer import preparer

# A share's prompt-free copies of this many clips (about 20 ms each) are made
# inside the owner's request; more go to the background preparer.
PREPARE_AT_ONCE = 24


class NotAddable(ValueError):
    """The clip cannot go into a gallery (someone else's, or not finished)."""


def gallery_create(
    *,
    owner: AbstractBaseUser,
    title: str,
    description: str = "",
    show_prompts: bool = False,
) -> Gallery:
    return Gallery.objects.create(
        owner=owner,
        title=title.strip()[:120] or "Untitled gallery",
        description=description.strip()[:2000],
        show_prompts=show_prompts,
    )


def gallery_update(*, gallery: Gallery, **fields: object) -> Gallery:
    """Change title, description, show_prompts or cover (a Generation or None)."""
    allowed = {"title", "description", "show_prompts", "cover"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)}")
    cover = fields.get("cover")
    if cover is not None and not _in_gallery(gallery, cover):
        raise NotAddable("The cover must be a clip in this gallery.")
    for name, value in fields.items():
        setattr(gallery, name, value)
    gallery.save()
    if fields.get("show_prompts") is False:
        gallery_shared_copies_refresh(gallery=gallery)
    return gallery


def _in_gallery(gallery: Gallery, generation: object) -> bool:
    return GalleryItem.objects.filter(gallery=gallery, generation=generation).exists()


def gallery_page(items: QuerySet[GalleryItem], number: object, size: int) -> Page:
    """One page of a gallery's items, fetched by position range, not OFFSET.

    Positions are dense (0..n-1), so page k is positions [(k-1)·size, k·size):
    an index range scan that costs the same on the first and the last page.
    """
    page = Paginator(items, size).get_page(number)
    if page.paginator.count:
        first = page.start_index() - 1
        page.object_list = items.filter(position__gte=first, position__lt=first + size)
    return page


def gallery_media_dir(gallery: Gallery) -> Path:
    """The gallery's own files: what its share links serve that no clip holds."""
    return owner_folder(GALLERIES, gallery.owner_id) / gallery.pk.hex


def gallery_delete(*, gallery: Gallery) -> None:
    # Clips stay in their projects; only the board, its links and files go.
    folder = gallery_media_dir(gallery)
    gallery.delete()
    transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))


def gallery_item_add(*, gallery: Gallery, generation: Generation) -> GalleryItem:
    """Append a finished clip to the end of a gallery (once; again is a no-op)."""
    item = _item_append(gallery=gallery, generation=generation)
    gallery_shared_copies_refresh(gallery=gallery, generations=[generation])
    return item


def _item_append(*, gallery: Gallery, generation: Generation) -> GalleryItem:
    if generation.owner_id != gallery.owner_id:
        raise NotAddable("No such clip.")
    if generation.status != Generation.Status.SUCCEEDED or not generation.video:
        raise NotAddable("Only finished clips can go into a gallery.")
    with transaction.atomic():
        # Serialises concurrent appends to one gallery.
        Gallery.objects.select_for_update().filter(pk=gallery.pk).first()
        existing = GalleryItem.objects.filter(
            gallery=gallery, generation=generation
        ).first()
        if existing is not None:
            return existing
        last = gallery.items.aggregate(last=Max("position"))["last"]
        item = GalleryItem.objects.create(
            gallery=gallery,
            generation=generation,
            position=0 if last is None else last + 1,
        )
        if gallery.cover_id is None:
            gallery.cover = generation
        gallery.save()
    return item


def gallery_items_add(
    *, gallery: Gallery, generations: Iterable[Generation]
) -> tuple[int, int]:
    """Append several clips in order; returns (added or already there, skipped
    because unfinished)."""
    added: list[Generation] = []
    skipped = 0
    for generation in generations:
        try:
            _item_append(gallery=gallery, generation=generation)
        except NotAddable:
            skipped += 1
        else:
            added.append(generation)
    gallery_shared_copies_refresh(gallery=gallery, generations=added)
    return len(added), skipped


def gallery_item_remove(*, item: GalleryItem) -> None:
    gallery = item.gallery
    with transaction.atomic():
        item.delete()
        gallery.items.filter(position__gt=item.position).update(
            position=F("position") - 1
        )
        if gallery.cover_id == item.generation_id:
            first = gallery.items.order_by("position").first()
            gallery.cover_id = first.generation_id if first else None
        gallery.save()


def gallery_item_move(*, item: GalleryItem, position: int) -> GalleryItem:
    """Move an item to ``position`` (clamped to the gallery), shifting the
    items in between by one. Two UPDATEs whatever the gallery's size."""
    gallery = item.gallery
    with transaction.atomic():
        size = gallery.items.count()
        target = max(0, min(position, size - 1))
        current = item.position
        if target == current:
            return item
        if target > current:
            gallery.items.filter(position__gt=current, position__lte=target).update(
                position=F("position") - 1
            )
        else:
            gallery.items.filter(position__gte=target, position__lt=current).update(
                position=F("position") + 1
            )
        GalleryItem.objects.filter(pk=item.pk).update(position=target)
        item.position = target
        gallery.save()
    return item


# -- downloads ----------------------------------------------------------------


def export_path(
    generation: Generation, key: str, *, watermark: bool, private: bool = False
) -> Path:
    """Where the export of one clip in one format is kept once made."""
    suffix = exports.FORMATS[key].suffix
    mark = ("-ai" if watermark else "") + ("-private" if private else "")
    return output_dir(generation) / "exports" / f"{key}{mark}{suffix}"


def export_target(
    generation: Generation, key: str, *, watermark: bool, private: bool
) -> Path:
    """Where ``generation_export`` finds or puts a clip in format ``key``."""
    if key == "mp4" and not watermark and not private:
        return settings.MEDIA_ROOT / generation.video
    return export_path(generation, key, watermark=watermark, private=private)


def generation_export(
    *, generation: Generation, key: str, watermark: bool = False, private: bool = False
) -> Path:
    """The clip in format ``key``, made on first request and kept beside it.

    The MP4 without a mark is the signed original; a marked MP4 is re-encoded
    and signed again. A ``private`` export's tags leave out the prompts (its
    MP4 is the original's frames, not re-encoded, signed again). Raises
    KeyError for an unknown format.
    """
    if key not in exports.FORMATS:
        raise KeyError(key)
    source = settings.MEDIA_ROOT / generation.video
    dest = export_target(generation, key, watermark=watermark, private=private)
    if dest == source or dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    spec = generation.spec
    metadata = encode.clip_metadata(spec, with_prompt=not private)
    if key != "mp4":
        exports.export_clip(source, key, dest, metadata=metadata, watermark=watermark)
        return dest
    # Made and signed in a folder of its own, then moved into place: a viewer
    # never gets an unsigned or half-written copy.
    with tempfile.TemporaryDirectory(dir=dest.parent) as folder:
        made = Path(folder) / dest.name
        if watermark:
            exports.export_clip(source, key, made, metadata=metadata, watermark=True)
        else:
            exports.remux(source, made, metadata=metadata)
        sign_video(made, spec=spec, credentials=studio_credentials())
        os.replace(made, dest)
    return dest


# -- what share links serve where the prompts stay hidden ----------------------


def private_copy_path(generation: Generation) -> Path:
    """The copy of a clip that share links play where its prompt stays
    hidden: the original's frames, signed again, without the prompt."""
    return export_path(generation, "mp4", watermark=False, private=True)


def private_copies_make(generations: Iterable[Generation]) -> int:
    """Make the prompt-free copies these clips lack; returns how many were made.

    Reads no database, so the background preparer can run it.
    """
    made = 0
    for generation in generations:
        if not generation.video or private_copy_path(generation).is_file():
            continue
        if not (settings.MEDIA_ROOT / generation.video).is_file():
            continue
        try:
            generation_export(generation=generation, key="mp4", private=True)
        except (OSError, ValueError):
            # An unreadable clip stays unshared ("being prepared") rather
            # than breaking the owner's page; its own player says what is wrong.
            continue
        made += 1
    return made


def private_copies_prepare(*, generations: Sequence[Generation], key: str) -> None:
    """Have the prompt-free copies of these clips made before any visitor asks:
    a few at once, more by the background preparer as one job named ``key``."""
    missing = [g for g in generations if not private_copy_path(g).is_file()]
    if len(missing) <= PREPARE_AT_ONCE:
        private_copies_make(missing)
    else:
        preparer.submit(key, lambda: private_copies_make(missing))


def gallery_shared_copies_refresh(
    *, gallery: Gallery, generations: Sequence[Generation] | None = None
) -> None:
    """Where a live link shows the gallery without its prompts, prepare the
    copies it plays of ``generations`` (default: every clip in it)."""
    if gallery.show_prompts or not gallery.share_links.active().exists():
        return
    if generations is None:
        items = gallery.items.select_related("generation").order_by("position")
        generations = [item.generation for item in items]
    private_copies_prepare(generations=generations, key=f"gallery-copies:{gallery.pk}")


def file_stem(text: str, default: str) -> str:
    """A file name's stem from free text: its words, lower case, joined by -."""
    words = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(part for part in words.split("-") if part)[:48] or default


def download_name(generation: Generation, key: str, *, private: bool = False) -> str:
    """A download's file name: the prompt's words and the seed, or for a
    ``private`` copy (prompts kept to the owner) the clip's short id."""
    suffix = exports.FORMATS[key].suffix
    if private:
        return f"clip-{generation.pk.hex[:8]}{suffix}"
    return f"{file_stem(generation.prompt, 'clip')}-{generation.seed}{suffix}"
