from __future__ import annotations

import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone

from generation import sequence
from generation.adapters import validate_spec
from generation.specs import MAX_PROMPT_CHARS, MAX_SEED, GenerationSpec
from studio.galleries.services import private_copies_make, private_copy_path
from studio.generations import sound as sound_settings
from studio.generations.models import Generation
from studio.generations.services import (
    ClipNotFinished,
    SubmitError,
    generation_extend,
    generation_submit_batch,
    submit,
)
from studio.lib.folders import STORYBOARDS, owner_folder
from studio.projects.models import Project
from studio.storyboards import prompting
from studio.storyboards.graph import PathMap, path_map
from studio.storyboards.models import (
    MAX_CHOICES,
    MAX_SHOTS,
    MAX_TAKES,
    Choice,
    Render,
    Shot,
    Storyboard,
    Take,
)
from studio.storyboards.script import ProposedShot

ACTIVE = (Generation.Status.QUEUED, Generation.Status.RUNNING)


class StoryboardError(ValueError):
    """A request the storyboard cannot honour; the message says why."""


class SoundSettingsError(StoryboardError):
    """Sound settings the engine refuses; the message is its sentence."""


# A keyword left out, where None means something.
UNSET: Any = object()


def storyboard_media_dir(storyboard: Storyboard) -> Path:
    return owner_folder(STORYBOARDS, storyboard.owner_id) / storyboard.pk.hex


def _touch(storyboard: Storyboard) -> None:
    Storyboard.objects.filter(pk=storyboard.pk).update(updated=timezone.now())


def shots_with_takes(storyboard: Storyboard):
    takes = Take.objects.select_related("generation").order_by("number")
    return storyboard.shots.select_related("voice_character").prefetch_related(
        Prefetch("takes", queryset=takes), "choices"
    )


# -- storyboards ----------------------------------------------------------------


def storyboard_create(
    *, owner: AbstractBaseUser, project: Project, title: str, **fields: Any
) -> Storyboard:
    if project.owner_id != owner.pk:
        raise PermissionError("Not your project.")
    title = title.strip()[:200]
    if not title:
        raise StoryboardError("Give the storyboard a title.")
    return Storyboard.objects.create(
        owner=owner, project=project, title=title, **fields
    )


def storyboard_update(*, storyboard: Storyboard, **fields: Any) -> Storyboard:
    for name, value in fields.items():
        setattr(storyboard, name, value)
    storyboard.updated = timezone.now()
    storyboard.save()
    return storyboard


def storyboard_delete(*, storyboard: Storyboard) -> None:
    folder = storyboard_media_dir(storyboard)
    storyboard.delete()
    transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))


# -- shots --------------------------------------------------------------------


def _renumber(storyboard: Storyboard, ordered: Sequence[Shot]) -> None:
    for n, shot in enumerate(ordered, 1):
        if shot.order != n:
            shot.order = n
            Shot.objects.filter(pk=shot.pk).update(order=n)
    _touch(storyboard)


def shot_add(
    *, storyboard: Storyboard, order: int | None = None, **fields: Any
) -> Shot:
    """Add a shot at ``order`` (1-based; the end when None or past it)."""
    with transaction.atomic():
        shots = list(storyboard.shots.select_for_update().order_by("order", "pk"))
        if len(shots) >= MAX_SHOTS:
            raise StoryboardError(f"A storyboard holds at most {MAX_SHOTS} shots.")
        position = len(shots) + 1 if order is None else max(1, order)
        position = min(position, len(shots) + 1)
        shot = Shot.objects.create(storyboard=storyboard, order=position, **fields)
        shots.insert(position - 1, shot)
        _renumber(storyboard, shots)
    return shot


def shots_propose_accept(
    *, storyboard: Storyboard, proposals: Sequence[ProposedShot]
) -> list[Shot]:
    """Append the proposed shots the creator accepted, in their order."""
    with transaction.atomic():
        return [
            shot_add(
                storyboard=storyboard,
                kind=p.kind,
                prompt=p.prompt[:MAX_PROMPT_CHARS],
                caption=p.caption[:300],
                duration=p.duration,
                notes=("Characters: " + ", ".join(p.characters))
                if p.characters
                else "",
            )
            for p in proposals
        ]


def shot_update(*, shot: Shot, **fields: Any) -> Shot:
    order = fields.pop("order", None)
    for name, value in fields.items():
        setattr(shot, name, value)
    shot.save()
    if order is not None and order != shot.order:
        shot_move(shot=shot, position=order)
    else:
        _touch(shot.storyboard)
    return shot


def shot_duplicate(*, shot: Shot) -> Shot:
    """A copy of the shot (without its takes) right after it."""
    return shot_add(
        storyboard=shot.storyboard,
        order=shot.order + 1,
        kind=shot.kind,
        prompt=shot.prompt,
        duration=shot.duration,
        caption=shot.caption,
        notes=shot.notes,
        continue_from_previous=shot.continue_from_previous,
        voice_line=shot.voice_line,
        voice_character=shot.voice_character,
        voice_start=shot.voice_start,
    )


def shot_move(*, shot: Shot, position: int) -> None:
    """Move a shot to ``position`` (1-based, clamped to the list)."""
    storyboard = shot.storyboard
    with transaction.atomic():
        shots = [s for s in storyboard.shots.order_by("order", "pk") if s.pk != shot.pk]
        position = min(max(1, position), len(shots) + 1)
        shots.insert(position - 1, shot)
        _renumber(storyboard, shots)


def shots_reorder(*, storyboard: Storyboard, shot_ids: Sequence[int]) -> None:
    """Put the shots in the given order; every shot must be named once."""
    with transaction.atomic():
        shots = {s.pk: s for s in storyboard.shots.all()}
        if sorted(shot_ids) != sorted(shots) or len(set(shot_ids)) != len(shot_ids):
            raise StoryboardError("Name every shot of the storyboard exactly once.")
        _renumber(storyboard, [shots[pk] for pk in shot_ids])


def shot_delete(*, shot: Shot) -> None:
    storyboard = shot.storyboard
    with transaction.atomic():
        shot.delete()
        _renumber(storyboard, list(storyboard.shots.order_by("order", "pk")))


# -- takes ----------------------------------------------------------------------


def continue_support(model: str) -> tuple[bool, str]:
    """Whether ``model`` can start a shot from an image, and if not, why.

    The reason speaks of continuing, not of an image: the creator gave none;
    the studio would pass the previous shot's last frame."""
    probe = GenerationSpec(prompt="probe", model=model, image_path="probe.png")
    errors = validate_spec(probe)
    if errors.get("model"):
        return False, errors["model"][0]
    if errors.get("image") or errors.get("image_path"):
        return False, (
            "Continuing from the previous shot starts this shot from that shot's "
            "last frame, an image this storyboard's model does not take; pick an "
            "image-to-video model for the storyboard to continue shots."
        )
    return True, ""


def _last_frame(previous: Shot | None, storyboard: Storyboard) -> str:
    take = previous.used_take() if previous is not None else None
    if take is None:
        raise StoryboardError(
            "The previous shot has no finished take to continue from yet."
        )
    frames = sequence.read_frames(settings.MEDIA_ROOT / take.generation.video)
    folder = storyboard_media_dir(storyboard)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"last-{take.generation_id.hex}.png"
    from PIL import Image

    Image.fromarray(np.ascontiguousarray(frames[-1])).save(path)
    return str(path)


def shot_settings(*, shot: Shot, take_number: int) -> tuple[dict[str, Any], dict]:
    """The settings of a new take (the shot's prompt with the storyboard's
    look, the shot's length in seconds) and the inputs the studio made for
    it: the previous shot's last frame when the shot continues from it."""
    storyboard = shot.storyboard
    try:
        prompt, negative = prompting.compose(
            user=storyboard.owner,
            storyboard=storyboard,
            shot=shot,
            variation=take_number - 1,
        )
    except prompting.PromptError as exc:
        raise StoryboardError(f"Shot {shot.order}: {exc}") from exc
    settings = {
        "prompt": prompt,
        "negative_prompt": negative,
        "model": storyboard.model,
        # The model's nearest frame count, as the prompt box makes it.
        "duration": shot.duration,
        "fps": storyboard.fps,
        "width": storyboard.width,
        "height": storyboard.height,
        "steps": storyboard.steps,
        "guidance": storyboard.guidance,
        "seed": secrets.randbelow(MAX_SEED + 1),
    }
    inputs = {}
    if shot.continue_from_previous:
        supported, reason = continue_support(storyboard.model)
        if not supported:
            raise StoryboardError(reason)
        previous = storyboard.shots.filter(order__lt=shot.order).last()
        inputs["image_path"] = _last_frame(previous, storyboard)
    return settings, inputs


def takes_generate(*, shots: Sequence[Shot]) -> list[Take]:
    """Queue one new take of each shot, in order. Raises QueueFull, StoryboardError."""
    if not shots:
        return []
    storyboard = shots[0].storyboard
    with transaction.atomic():
        numbers = []
        for shot in shots:
            last = shot.takes.aggregate(n=Max("number"))["n"] or 0
            if shot.takes.count() >= MAX_TAKES:
                raise StoryboardError(
                    f"Shot {shot.order} already has {MAX_TAKES} takes; delete one."
                )
            numbers.append(last + 1)
        takes = []
        for shot, n in zip(shots, numbers, strict=True):
            settings, inputs = shot_settings(shot=shot, take_number=n)
            try:
                # The prompt is composed already: one take, as written.
                (generation,) = submit(
                    storyboard.owner,
                    settings=settings,
                    inputs=inputs,
                    project=storyboard.project,
                    expand=False,
                )
            except SubmitError as exc:
                reason = next(m for messages in exc.errors.values() for m in messages)
                raise StoryboardError(f"Shot {shot.order}: {reason}") from exc
            takes.append(
                Take.objects.create(shot=shot, generation=generation, number=n)
            )
        _touch(storyboard)
    return takes


def take_extend(*, take: Take, seconds: Any, prompt: str | None = None) -> Take:
    """Continue a finished take: a new shot right after the take's shot,
    whose first take (and the one in the cut) is the extension, so the cut
    plays it straight after the take it continues. ``prompt`` (else the
    take's own) gets the storyboard's look as every shot's does. Raises
    StoryboardError, QueueFull."""
    shot = take.shot
    storyboard = shot.storyboard
    generation = take.generation
    text = (prompt or "").strip() if isinstance(prompt, str) else ""
    with transaction.atomic():
        added = shot_add(
            storyboard=storyboard,
            order=shot.order + 1,
            kind=shot.kind,
            prompt=(text or shot.prompt)[:MAX_PROMPT_CHARS],
            duration=float(seconds) if isinstance(seconds, int | float) else 0.0,
            caption="",
            notes=f"Continues shot {shot.order}, take {take.number}.",
        )
        composed = None
        if text:
            try:
                composed, _ = prompting.compose(
                    user=storyboard.owner, storyboard=storyboard, shot=added
                )
            except prompting.PromptError as exc:
                raise StoryboardError(str(exc)) from exc
        try:
            extension = generation_extend(
                user=storyboard.owner,
                generation=generation,
                seconds=seconds,
                prompt=composed,
            )
        except SubmitError as exc:
            reason = next(m for messages in exc.errors.values() for m in messages)
            raise StoryboardError(reason) from exc
        except ClipNotFinished as exc:
            raise StoryboardError("Only a finished take can be extended.") from exc
        spec = extension.spec
        # The shot lasts exactly as long as its take: the cut keeps every frame.
        added.duration = spec.num_frames / spec.fps
        added.save(update_fields=["duration"])
        continuation = Take.objects.create(shot=added, generation=extension, number=1)
        added.chosen_take = continuation
        added.save(update_fields=["chosen_take"])
        _touch(storyboard)
    return continuation


def shots_missing(storyboard: Storyboard) -> list[Shot]:
    """Shots with no finished, queued or running take."""
    busy = (*ACTIVE, Generation.Status.SUCCEEDED)
    return [
        shot
        for shot in storyboard.shots.order_by("order")
        if not shot.takes.filter(generation__status__in=busy).exists()
    ]


def take_choose(*, shot: Shot, take: Take) -> None:
    if take.shot_id != shot.pk:
        raise StoryboardError("That take belongs to another shot.")
    if not take.is_usable:
        raise StoryboardError("Only a finished take can be used in the cut.")
    shot.chosen_take = take
    shot.save(update_fields=["chosen_take"])
    _touch(shot.storyboard)
    shared_takes_refresh(storyboard=shot.storyboard)


# -- choices and the path map -----------------------------------------------------


def choice_add(*, shot: Shot, label: str, target: Shot) -> Choice:
    label = " ".join(label.split())[:80]
    if not label:
        raise StoryboardError("Write what the viewer chooses, e.g. “follow the hawk”.")
    if target.storyboard_id != shot.storyboard_id:
        raise StoryboardError("A choice leads to a shot of the same storyboard.")
    if shot.choices.count() >= MAX_CHOICES:
        raise StoryboardError(f"A shot ends in at most {MAX_CHOICES} choices.")
    choice = Choice.objects.create(shot=shot, label=label, target=target)
    _touch(shot.storyboard)
    return choice


def choice_delete(*, choice: Choice) -> None:
    choice.delete()


def storyboard_paths(storyboard: Storyboard, shots: Sequence[Shot]) -> PathMap:
    choices = {
        shot.pk: [(c.label, c.target_id) for c in shot.choices.all()] for shot in shots
    }
    return path_map([shot.pk for shot in shots], choices)


def is_interactive(shots: Sequence[Shot]) -> bool:
    return any(shot.choices.all() for shot in shots)


# -- soundtrack and render ------------------------------------------------------


def soundtrack_set(*, storyboard: Storyboard, upload: UploadedFile) -> None:
    """Check an uploaded soundtrack by decoding it, then keep it for renders.

    Raises SoundtrackError with a message for the creator.
    """
    if upload.size > sequence.MAX_SOUNDTRACK_BYTES:
        raise sequence.SoundtrackError(
            f"The soundtrack is larger than "
            f"{sequence.MAX_SOUNDTRACK_BYTES // (1024 * 1024)} MB."
        )
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in sequence.AUDIO_SUFFIXES:
        raise sequence.SoundtrackError(
            "Upload an audio file: MP3, WAV, M4A, AAC, OGG, FLAC or Opus."
        )
    folder = storyboard_media_dir(storyboard)
    folder.mkdir(parents=True, exist_ok=True)
    incoming = folder / f".upload-{secrets.token_hex(8)}{suffix}"
    try:
        with incoming.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        seconds = sequence.soundtrack_check(incoming)
        # Stored once, re-encoded into each render, never served as uploaded.
        kept = folder / f"soundtrack-{secrets.token_hex(8)}{suffix}"
        incoming.replace(kept)
    finally:
        incoming.unlink(missing_ok=True)
    soundtrack_clear(storyboard=storyboard)
    storyboard_update(
        storyboard=storyboard,
        soundtrack=kept.relative_to(settings.MEDIA_ROOT).as_posix(),
        soundtrack_name=Path(upload.name or "soundtrack").name[:200],
        soundtrack_seconds=round(seconds, 3),
    )


def soundtrack_clear(*, storyboard: Storyboard) -> None:
    if storyboard.soundtrack:
        (settings.MEDIA_ROOT / storyboard.soundtrack).unlink(missing_ok=True)
        storyboard_update(
            storyboard=storyboard,
            soundtrack="",
            soundtrack_name="",
            soundtrack_seconds=None,
        )


def sound_set(*, storyboard: Storyboard, sound: Any) -> dict[str, Any]:
    """Keep the sound settings renders use (API shape; None: no sound).

    Raises StoryboardError with the sound engine's sentence.
    """
    checked, problem = sound_settings.check(sound)
    if problem:
        raise StoryboardError(problem)
    storyboard_update(storyboard=storyboard, sound=checked)
    return checked


def voice_plan(shot: Shot) -> dict[str, Any]:
    """A shot's spoken line as the render job records it."""
    if not shot.voice_line.strip():
        return {}
    speaker = shot.voice_character
    return {
        "voice": shot.voice_line,
        "character": speaker.name if speaker else "",
        "voice_start": shot.voice_start,
    }


def storyboard_render(*, storyboard: Storyboard, sound: Any = UNSET) -> Render:
    """Queue the cut: every shot's used take, in order, as one generation.

    ``sound`` (the API's shape, None for none) replaces the storyboard's own
    sound settings for this render. Raises StoryboardError when a shot has no
    finished take or the sound settings are refused, QueueFull when the
    owner's queue is full.
    """
    if sound is UNSET:
        chosen = storyboard.sound or {}
    else:
        chosen, problem = sound_settings.check(sound)
        if problem:
            raise SoundSettingsError(problem)
    shots = list(shots_with_takes(storyboard))
    if not shots:
        raise StoryboardError("Add a shot before rendering.")
    plan, missing = [], []
    for shot in shots:
        take = shot.used_take()
        if take is None:
            missing.append(str(shot.order))
            continue
        sequence.shot_frames(shot.duration, storyboard.fps)
        plan.append(
            {
                "path": take.generation.video,
                "duration": shot.duration,
                "caption": shot.caption,
                "take": take.number,
                "prompt": shot.prompt,
                **voice_plan(shot),
            }
        )
    if missing:
        raise StoryboardError(
            f"Shot{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            "need a finished take first: generate the missing shots."
        )
    frames = sum(sequence.shot_frames(s.duration, storyboard.fps) for s in shots)
    spec = GenerationSpec(
        prompt=f"Storyboard: {storyboard.title}",
        negative_prompt=storyboard.negative_prompt,
        model=storyboard.model,
        num_frames=frames,
        fps=storyboard.fps,
        width=storyboard.width,
        height=storyboard.height,
        num_inference_steps=len(shots),
        seed=0,
    )
    with transaction.atomic():
        (generation,) = generation_submit_batch(
            user=storyboard.owner, specs=[spec], project=storyboard.project
        )
        generation.kind = Generation.Kind.SEQUENCE
        generation.settings = {
            **spec.to_dict(),
            "storyboard": str(storyboard.pk),
            "sequence": {
                "shots": plan,
                "transition": storyboard.transition,
                "burn_captions": storyboard.burn_captions,
                "soundtrack": storyboard.soundtrack,
                "sound": chosen,
            },
        }
        generation.save(update_fields=["kind", "settings"])
        render = Render.objects.create(storyboard=storyboard, generation=generation)
        _touch(storyboard)
    shared_takes_refresh(storyboard=storyboard, shots=shots)
    return render


# -- what share links play ----------------------------------------------------------


def shared_take_path(take: Take) -> Path:
    """Where the copy of a take that share links play is kept: the original's
    frames with Content Credentials of their own and no prompt in its tags."""
    return private_copy_path(take.generation)


def shared_shot_copy(shot: Shot) -> Path | None:
    """The copy a share link plays for ``shot``, if its used take has one."""
    take = shot.used_take()
    if take is None:
        return None
    path = shared_take_path(take)
    return path if path.is_file() else None


def has_live_links(storyboard: Storyboard) -> bool:
    return storyboard.share_links.active().exists()


def shared_takes_prepare(
    *, storyboard: Storyboard, shots: Sequence[Shot] | None = None
) -> int:
    """Make the copies the storyboard's share links play, for every shot's
    used take that lacks one, so that a link's visitors are only ever served
    files made beforehand. Returns how many were made.

    ``shots`` saves a query where the caller has them with their takes.
    """
    shots = shots if shots is not None else shots_with_takes(storyboard)
    takes = [take for shot in shots if (take := shot.used_take()) is not None]
    return private_copies_make(take.generation for take in takes)


def shared_takes_refresh(
    *, storyboard: Storyboard, shots: Sequence[Shot] | None = None
) -> int:
    """Prepare the shared copies only where a live link plays them."""
    if not has_live_links(storyboard):
        return 0
    return shared_takes_prepare(storyboard=storyboard, shots=shots)


def generation_ids_in_cut(storyboard: Storyboard) -> dict[int, Take]:
    """Each shot's used take, for the share page."""
    return {
        shot.pk: take
        for shot in shots_with_takes(storyboard)
        if (take := shot.used_take()) is not None
    }
