"""A creator's data: everything they made, as one ZIP, and account deletion."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import serializers
from django.db import transaction

from studio.galleries.models import Gallery
from studio.galleries.services import download_name
from studio.generations.models import Generation
from studio.generations.services import generation_cancel
from studio.generations.uploads import input_dir
from studio.lib.archives import writing_archive
from studio.lib.folders import owner_folders
from studio.projects.models import Project
from studio.sharing.models import ShareLink
from studio.storyboards.models import Storyboard
from studio.storyboards.services import shots_with_takes


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _generation_record(generation: Generation) -> dict[str, Any]:
    files = {}
    for kind in ("video", "poster"):
        relative = getattr(generation, kind)
        if relative:
            suffix = relative.rsplit(".", 1)[-1]
            files[kind] = f"clips/{generation.pk}.{suffix}"
    return {
        "id": str(generation.pk),
        "project": str(generation.project_id) if generation.project_id else None,
        "status": generation.status,
        "prompt": generation.prompt,
        "settings": generation.settings,
        "seed": generation.seed,
        "starred": generation.starred,
        "error": generation.error,
        "seconds": generation.seconds,
        "created": _iso(generation.created),
        "finished": _iso(generation.finished),
        "files": files,
    }


def _owned_rows(app_label: str, user: AbstractBaseUser) -> str | None:
    """Another app's rows that belong to ``user``, in Django's JSON format."""
    if not apps.is_installed(f"studio.{app_label}"):
        return None
    rows = []
    for model in apps.get_app_config(app_label).get_models():
        fields = {field.name for field in model._meta.get_fields()}
        owner_field = next((f for f in ("owner", "user") if f in fields), None)
        if owner_field:
            rows.extend(model.objects.filter(**{owner_field: user}))
    return serializers.serialize("json", rows, indent=2) if rows else None


def _files_under(folder: Path) -> Iterator[Path]:
    # Dot files are uploads still being checked, never kept.
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            yield path


def _storyboard_record(storyboard: Storyboard) -> dict[str, Any]:
    soundtrack = None
    if storyboard.soundtrack:
        suffix = Path(storyboard.soundtrack).suffix
        soundtrack = {
            "name": storyboard.soundtrack_name,
            "seconds": storyboard.soundtrack_seconds,
            "file": f"soundtracks/{storyboard.pk}{suffix}",
        }
    shots = []
    for shot in shots_with_takes(storyboard):
        takes = list(shot.takes.all())
        chosen = next((t.number for t in takes if t.pk == shot.chosen_take_id), None)
        shots.append(
            {
                "id": shot.pk,
                "order": shot.order,
                "kind": shot.kind,
                "prompt": shot.prompt,
                "duration": shot.duration,
                "caption": shot.caption,
                "notes": shot.notes,
                "continue_from_previous": shot.continue_from_previous,
                "takes": [
                    {
                        "number": take.number,
                        "clip": str(take.generation_id),
                        "created": _iso(take.created),
                    }
                    for take in takes
                ],
                "chosen_take": chosen,
                "choices": [
                    {"label": choice.label, "target": choice.target_id}
                    for choice in shot.choices.all()
                ],
                "created": _iso(shot.created),
            }
        )
    preset = storyboard.style_preset
    return {
        "id": str(storyboard.pk),
        "project": str(storyboard.project_id),
        "title": storyboard.title,
        "style": storyboard.style,
        "style_preset": preset.name if preset else None,
        "negative_prompt": storyboard.negative_prompt,
        "model": storyboard.model,
        "fps": storyboard.fps,
        "width": storyboard.width,
        "height": storyboard.height,
        "steps": storyboard.steps,
        "guidance": storyboard.guidance,
        "transition": storyboard.transition,
        "burn_captions": storyboard.burn_captions,
        "soundtrack": soundtrack,
        "shots": shots,
        "renders": [
            str(pk) for pk in storyboard.renders.values_list("generation", flat=True)
        ],
        "created": _iso(storyboard.created),
        "updated": _iso(storyboard.updated),
    }


def account_export(*, user: AbstractBaseUser) -> IO[bytes]:
    """A ZIP of the user's account, projects, clips (with their files and
    settings), uploaded inputs, storyboards (shots, takes, soundtracks),
    galleries, share links (without tokens) and prompts.

    Returns an open temporary file positioned at its start.
    """
    archive_file = tempfile.TemporaryFile()
    generations = Generation.objects.filter(owner=user).order_by("created")
    with writing_archive(archive_file) as archive:
        put = archive.add_json
        put(
            "account.json",
            {
                "username": user.get_username(),
                "email": getattr(user, "email", ""),
                "date_joined": _iso(getattr(user, "date_joined", None)),
            },
        )
        put(
            "projects.json",
            [
                {
                    "id": str(p.pk),
                    "name": p.name,
                    "description": p.description,
                    "archived": p.archived,
                    "created": _iso(p.created),
                }
                for p in Project.objects.filter(owner=user)
            ],
        )
        records = []
        for generation in generations.iterator():
            record = _generation_record(generation)
            records.append(record)
            for kind, name in record["files"].items():
                path = settings.MEDIA_ROOT / getattr(generation, kind)
                if path.is_file():
                    archive.add_file(path, name)
            captions = (settings.MEDIA_ROOT / generation.video).with_suffix(".vtt")
            if generation.video and captions.is_file():
                record["files"]["captions"] = f"clips/{generation.pk}.vtt"
                archive.add_file(captions, record["files"]["captions"], compress=True)
        put("generations.json", records)
        # Uploaded images and videos, as generations' settings name them.
        inputs = input_dir(user.pk)
        if inputs.is_dir():
            for path in _files_under(inputs):
                archive.add_file(path, f"inputs/{path.relative_to(inputs).as_posix()}")
        storyboards = []
        for storyboard in Storyboard.objects.filter(owner=user).order_by("created"):
            record = _storyboard_record(storyboard)
            storyboards.append(record)
            soundtrack = settings.MEDIA_ROOT / storyboard.soundtrack
            if record["soundtrack"] and soundtrack.is_file():
                archive.add_file(
                    soundtrack, record["soundtrack"]["file"], compress=True
                )
        put("storyboards.json", storyboards)
        put(
            "galleries.json",
            [
                {
                    "id": str(g.pk),
                    "title": g.title,
                    "description": g.description,
                    "show_prompts": g.show_prompts,
                    "cover": str(g.cover_id) if g.cover_id else None,
                    "items": [
                        str(pk)
                        for pk in g.items.order_by("position").values_list(
                            "generation", flat=True
                        )
                    ],
                    "created": _iso(g.created),
                }
                for g in Gallery.objects.filter(owner=user)
            ],
        )
        put(
            "share_links.json",
            [
                {
                    "label": link.label,
                    "gallery": str(link.gallery_id) if link.gallery_id else None,
                    "clip": str(link.generation_id) if link.generation_id else None,
                    "storyboard": (
                        str(link.storyboard_id) if link.storyboard_id else None
                    ),
                    "created": _iso(link.created),
                    "expires": _iso(link.expires),
                    "revoked": _iso(link.revoked),
                    "views": link.views,
                }
                for link in ShareLink.objects.filter(owner=user)
            ],
        )
        prompts = _owned_rows("prompts", user)
        if prompts:
            archive.add_text("prompts.json", prompts)
    archive_file.seek(0)
    return archive_file


def clips_archive(*, generations: Iterable[Generation]) -> IO[bytes]:
    """A ZIP of finished clips as they are stored (signed MP4s), named by
    their prompt and seed, with clips.json holding each one's settings.

    Returns an open temporary file positioned at its start.
    """
    archive_file = tempfile.TemporaryFile()
    records = []
    with writing_archive(archive_file) as archive:
        for number, generation in enumerate(generations, 1):
            path = settings.MEDIA_ROOT / generation.video
            if not generation.video or not path.is_file():
                continue
            name = f"{number:03d}-{download_name(generation, 'mp4')}"
            archive.add_file(path, name)
            records.append({**_generation_record(generation), "files": {"video": name}})
        archive.add_json("clips.json", records)
    archive_file.seek(0)
    return archive_file


def account_delete(*, user: AbstractBaseUser) -> None:
    """Delete the user, everything they own, and all their files."""
    with transaction.atomic():
        active = Generation.objects.filter(
            owner=user,
            status__in=(Generation.Status.QUEUED, Generation.Status.RUNNING),
        )
        for generation in active:
            generation_cancel(generation=generation)
        owner_id = user.pk  # a deleted user forgets its pk
        user.delete()
        transaction.on_commit(lambda: _delete_owner_folders(owner_id))


def _delete_owner_folders(owner_id: int) -> None:
    for folder in owner_folders(owner_id):
        shutil.rmtree(folder, ignore_errors=True)
