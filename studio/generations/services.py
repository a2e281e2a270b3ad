from __future__ import annotations

import dataclasses
import logging
import shutil
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from generation import specs as engine
from generation.adapters import validate_spec
from generation.looks import check as check_look
from generation.specs import MAX_SEED, GenerationSpec
from studio.generations import runtime
from studio.generations.models import Generation, Worker
from studio.generations.store import STALE_AFTER, output_dir, queue_positions
from studio.generations.uploads import UploadError, input_dir, store_image, store_video
from studio.generations.validation import (
    Errors,
    check_api_settings,
    model_capabilities,
)
from studio.projects.models import Project

logger = logging.getLogger(__name__)


class QueueFull(Exception):
    """The creator's queue holds as many clips as it may: a 429."""

    status = 429

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"You already have {limit} clips waiting; wait for some to finish "
            "or cancel one."
        )
        self.limit = limit


class SubmitError(Exception):
    """Settings the studio cannot queue: a 400. ``errors`` maps each field, in
    the API's names (``__all__`` for the request as a whole), to sentences
    for the creator."""

    status = 400

    def __init__(self, errors: Errors) -> None:
        self.errors = errors
        super().__init__(" ".join(m for msgs in errors.values() for m in msgs))


class ClipNotFinished(Exception):
    """The clip to continue has not finished (or failed): a 409."""

    status = 409


# The uploads a submit takes, and how each is checked and stored.
UPLOADS = ("image", "video")


# The htmx event a page answer carries when it queued clips: the top bar
# counts them at once.
CLIPS_QUEUED = "clips-queued"


def submit(
    user: AbstractBaseUser,
    *,
    settings: Mapping[str, Any],
    project: Project | None = None,
    uploads: Mapping[str, IO[bytes] | None] | None = None,
    inputs: Mapping[str, str] | None = None,
    variations: int = 1,
    expand: bool = True,
    look: tuple[str, Mapping[str, Any]] | None = None,
) -> list[Generation]:
    """Check, expand and queue what a creator asked for; the queued clips.

    The one way into the queue for the page, the API, storyboards and the
    prompt library. ``settings`` are in the API's field names (``duration``
    in seconds may stand in for ``num_frames``); left-out ones take the
    model's defaults. ``uploads`` ("image", "video") are stored re-encoded
    under the owner's folder and removed again if anything fails, a full
    queue included; ``inputs`` name files the studio made itself (a
    storyboard's last frame). Wildcards, lists and characters in the prompt
    expand into one clip per variation unless ``expand`` is False, each
    ``variations`` times with the next seeds. ``look`` (a name and its
    resolved parameters, see ``generation.looks``) grades every clip.

    Raises :class:`SubmitError` (400) and :class:`QueueFull` (429).
    """
    if project is not None and project.owner_id != user.pk:
        raise PermissionError("Not your project.")
    stored: list[Path] = []
    queued = False
    try:
        found = {**(inputs or {}), **_store_uploads(user, uploads or {}, stored)}
        specs = generation_specs(
            settings=settings,
            user=user,
            inputs=found,
            variations=variations,
            expand=expand,
            look=look,
        )
        generations = generation_submit_batch(user=user, specs=specs, project=project)
        queued = True
    finally:
        if not queued:
            for path in stored:
                path.unlink(missing_ok=True)
    return generations


def generation_specs(
    *,
    settings: Mapping[str, Any],
    user: AbstractBaseUser | None = None,
    inputs: Mapping[str, Any] | None = None,
    variations: int = 1,
    expand: bool = True,
    look: tuple[str, Mapping[str, Any]] | None = None,
) -> list[GenerationSpec]:
    """The specs :func:`submit` would queue, checked by the engine; raises
    :class:`SubmitError`. The ``generate`` command renders them itself.

    ``user`` owns the characters and word lists the prompt may name.
    """
    limit = django_settings.STUDIO_MAX_VARIATIONS
    if isinstance(variations, bool) or not isinstance(variations, int):
        raise SubmitError({"variations": ["Variations must be a whole number."]})
    if not 1 <= variations <= limit:
        raise SubmitError(
            {"variations": [f"Ask for 1 to {limit} variations; got {variations}."]}
        )
    spec, errors = check_api_settings(settings, **(inputs or {}))
    if errors or spec is None:
        raise SubmitError(errors)
    if look is not None:
        name, params = look
        if problems := check_look(name, params):
            raise SubmitError({"look": problems})
        spec = dataclasses.replace(spec, look=name, look_params=dict(params))
    texts = _expand(user, spec.prompt) if expand else [spec.prompt]
    found = []
    for text in texts:
        variant = dataclasses.replace(spec, prompt=text)
        if text != spec.prompt and (problems := validate_spec(variant).get("prompt")):
            raise SubmitError({"prompt": [f"“{text[:60]}”: {problems[0]}"]})
        found += [
            dataclasses.replace(variant, seed=(spec.seed + n) % (MAX_SEED + 1))
            for n in range(variations)
        ]
    return found


def _expand(user: AbstractBaseUser | None, text: str) -> list[str]:
    # The prompt library owns the syntax; a creator's characters and lists
    # are theirs, so the page, the API and the command expand alike.
    from studio.prompts.expand import Expander, ExpansionError
    from studio.prompts.services import prompt_expand
    from studio.prompts.vocabulary import BUILTIN_LISTS

    try:
        if user is None:  # no creator (the command): the built-in lists only
            return Expander(characters={}, lists=BUILTIN_LISTS).expand(text).variations
        return prompt_expand(user=user, text=text).variations
    except ExpansionError as error:
        raise SubmitError({"prompt": [str(error)]}) from error


def _store_uploads(
    user: AbstractBaseUser,
    uploads: Mapping[str, IO[bytes] | None],
    stored: list[Path],
) -> dict[str, Any]:
    """Check and store each upload; every stored path lands in ``stored``
    as soon as it exists, for the caller to remove on failure."""
    errors: Errors = {
        str(name)[:40]: ["Unknown upload."] for name in uploads if name not in UPLOADS
    }
    inputs: dict[str, Any] = {}
    for name, store in (("image", store_image), ("video", store_video)):
        upload = uploads.get(name)
        if not upload:
            continue
        try:
            kept = store(upload, owner_id=user.pk)
        except UploadError as error:
            errors[name] = [str(error)]
            continue
        stored.append(kept.path)
        inputs[f"{name}_path"] = str(kept.path)
        if name == "video":
            inputs["video_frames"] = kept.frames
    if errors:
        raise SubmitError(errors)
    return inputs


def generation_submit(
    *, user: AbstractBaseUser, spec: GenerationSpec, project: Project | None = None
) -> Generation:
    """Queue one clip of an already checked spec, as given (no expansion).
    Raises QueueFull past the per-user limit. New callers use :func:`submit`."""
    return generation_submit_variations(user=user, spec=spec, project=project, count=1)[
        0
    ]


def generation_submit_variations(
    *,
    user: AbstractBaseUser,
    spec: GenerationSpec,
    project: Project | None = None,
    count: int = 1,
) -> list[Generation]:
    """Queue ``count`` clips of one spec; each variation takes the next seed."""
    variants = [
        dataclasses.replace(spec, seed=(spec.seed + n) % (MAX_SEED + 1))
        for n in range(count)
    ]
    return generation_submit_batch(user=user, specs=variants, project=project)


def generation_submit_batch(
    *,
    user: AbstractBaseUser,
    specs: list[GenerationSpec],
    project: Project | None = None,
) -> list[Generation]:
    """Queue several specs together, each with its own recorded seed.

    All or nothing: past the per-user queue limit, none is queued.
    """
    if project is not None and project.owner_id != user.pk:
        raise PermissionError("Not your project.")
    limit = django_settings.STUDIO_MAX_QUEUED_PER_USER
    batch = uuid.uuid4() if len(specs) > 1 else None
    with transaction.atomic():
        _hold_queue_of(user)
        queued = Generation.objects.filter(
            owner=user, status=Generation.Status.QUEUED
        ).count()
        if queued + len(specs) > limit:
            raise QueueFull(limit)
        generations = [
            Generation.objects.create(
                owner=user,
                project=project,
                prompt=variant.prompt,
                settings=variant.to_dict(),
                seed=variant.seed,
                batch=batch,
            )
            for variant in specs
        ]
        if project is not None:
            # Recently used projects come first in the list.
            Project.objects.filter(pk=project.pk).update(updated=timezone.now())
        transaction.on_commit(lambda: _announce_queued(generations))
    return generations


def _hold_queue_of(user: AbstractBaseUser) -> None:
    """Make the caller's transaction the only one counting and queueing
    ``user``'s clips until it ends: concurrent submits would each count the
    same queue and together pass the limit. PostgreSQL locks the user's row;
    SQLite's IMMEDIATE transactions already take the database's one write
    lock up front, before the count."""
    users = get_user_model()._default_manager
    list(users.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def _announce_queued(generations: list[Generation]) -> None:
    positions = queue_positions()
    for generation in generations:
        job_id = str(generation.pk)
        if job_id in positions:
            runtime.events.publish_event(
                job_id, {"type": "queued", "position": positions[job_id]}
            )
    runtime.wake()


def generation_extend(
    *,
    user: AbstractBaseUser,
    generation: Generation,
    seconds: Any,
    prompt: str | None = None,
) -> Generation:
    """Queue a clip that continues ``generation`` by ``seconds`` from its
    last frames, with its prompt or a new one; the new clip records what it
    extends and plays right after it.

    The extension keeps the clip's model, frame rate, size, steps, guidance
    and negative prompt and gets a new seed; its frame count is the model's
    continuation nearest to ``seconds``. Goes through :func:`submit`.
    Raises :class:`SubmitError` (400), :class:`ClipNotFinished` (409) and
    :class:`QueueFull` (429).
    """
    if generation.owner_id != user.pk:
        raise PermissionError("Not your clip.")
    if generation.kind != Generation.Kind.CLIP:
        raise SubmitError({"__all__": ["Only a clip can be extended, not a sequence."]})
    original = generation.spec
    caps = model_capabilities(original.model)
    if caps is None:
        raise SubmitError(
            {"model": [f"The model {original.model!r} is no longer available."]}
        )
    if caps.extend is None:
        raise SubmitError(
            {
                "model": [
                    "Extend needs the built-in model or a SkyReels-V2 model; "
                    f"{original.model} can't continue a clip."
                ]
            }
        )
    if generation.status != Generation.Status.SUCCEEDED or not generation.video:
        raise ClipNotFinished(
            "This clip has not finished yet; extend it once it has."
            if not generation.is_finished
            else "Only a finished clip can be extended; this one did not finish."
        )
    frames = extension_frames(seconds, original.fps, caps)
    if prompt is not None and not isinstance(prompt, str):
        raise SubmitError({"prompt": ["The prompt must be text."]})
    settings = {
        "prompt": (prompt or "").strip() or original.prompt,
        "negative_prompt": original.negative_prompt,
        "model": original.model,
        "num_frames": frames,
        "fps": original.fps,
        "width": original.width,
        "height": original.height,
        "steps": original.num_inference_steps,
        "guidance": original.guidance_scale,
        # A clip with sound goes on with the same sound settings.
        "sound": original.sound or None,
    }
    source = str(django_settings.MEDIA_ROOT / generation.video)
    with transaction.atomic():
        (extension,) = submit(
            user,
            settings=settings,
            project=generation.project,
            inputs={"video_path": source, "task": engine.EXTEND},
            expand=False,
        )
        Generation.objects.filter(pk=extension.pk).update(extends=generation)
        extension.extends = generation
    return extension


def extension_frames(seconds: Any, fps: int, caps: Any) -> int:
    """The frame count of an extension ``seconds`` long at ``fps``: the
    model's continuation nearest to it. :class:`SubmitError` for a length
    outside the shared bounds or longer or shorter than the model goes."""
    low, high = engine.MIN_EXTEND_SECONDS, engine.MAX_EXTEND_SECONDS
    number = isinstance(seconds, int | float) and not isinstance(seconds, bool)
    if not number or not abs(seconds) < float("inf"):  # NaN and infinities too
        raise SubmitError({"seconds": ["Give the extension's length in seconds."]})
    if not low <= seconds <= high:
        side = "long" if seconds > high else "short"
        raise SubmitError(
            {
                "seconds": [
                    f"Extend a clip by {low:g} to {high:g} seconds; {seconds:g} s "
                    f"is too {side}."
                ]
            }
        )
    rule = caps.extend
    wanted = round(seconds * fps)
    if not rule.min <= wanted <= rule.max:
        who = caps.subject
        who = who[:1].lower() + who[1:] if who.startswith("The ") else who
        raise SubmitError(
            {
                "seconds": [
                    f"At {fps} fps {who} continues a clip by {rule.min / fps:g} to "
                    f"{rule.max / fps:g} seconds ({rule.min} to {rule.max} frames); "
                    f"{seconds:g} s would be {wanted} frames."
                ]
            }
        )
    return rule.nearest(wanted)


JOINED_NAME = "joined.mp4"


def joined_path(extension: Generation) -> Path:
    """Where the joined version of an extension is kept."""
    return output_dir(extension) / JOINED_NAME


def generation_joined(*, extension: Generation) -> Path:
    """The clip ``extension`` continues and the extension as one MP4,
    signed as every clip is; made on first request and kept beside the
    extension. Raises :class:`ClipNotFinished` while either is missing."""
    from generation import encode, sequence

    original = extension.extends
    if (
        original is None
        or not original.video
        or not extension.video
        or extension.status != Generation.Status.SUCCEEDED
    ):
        raise ClipNotFinished("The joined version needs both clips finished.")
    path = joined_path(extension)
    if path.is_file():
        return path
    root = django_settings.MEDIA_ROOT
    first = sequence.read_frames(root / original.video)
    after = sequence.read_frames(root / extension.video)
    height, width = first.shape[1:3]
    if after.shape[1:3] != (height, width):
        after = encode.fit_frames(after, width, height)
    spec = extension.spec
    frames = np.concatenate([first, after])
    metadata = encode.clip_metadata(spec, frames=str(len(frames)))
    # Clips with sound keep it, each part as long as its frames.
    sounds = [
        _sound_of(root / clip.video, len(clip_frames) / spec.fps)
        for clip, clip_frames in ((original, first), (extension, after))
    ]
    audio = None
    if any(sound is not None for sound in sounds):
        audio = np.concatenate(
            [
                np.zeros((2, round(len(f) / spec.fps * SOUND_RATE)), np.float32)
                if sound is None
                else sound
                for sound, f in zip(sounds, (first, after), strict=True)
            ],
            axis=1,
        )
    # Written aside and signed before it takes the name the page asks for.
    part = path.with_name(f".{uuid.uuid4().hex}.mp4")
    try:
        encode.write_video(
            frames,
            part,
            fps=spec.fps,
            metadata=metadata,
            audio=audio,
            audio_rate=SOUND_RATE,
        )
        _sign(part, spec)
        part.replace(path)
    finally:
        part.unlink(missing_ok=True)
    return path


# The rate a joined version's sound is written at: the sound engine's.
SOUND_RATE = 48_000


def _sound_of(path: Path, seconds: float) -> np.ndarray | None:
    """A clip's audio as float32 stereo exactly ``seconds`` long, or None."""
    import av

    from generation import sequence

    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
    return sequence.read_audio(path, seconds, SOUND_RATE)


def _sign(path: Path, spec: GenerationSpec) -> None:
    # Every MP4 the studio writes carries Content Credentials.
    from studio.lib.credentials import clip_signer

    clip_signer()(path, spec)


def generation_cancel(*, generation: Generation) -> None:
    """Cancel a queued job at once; a running one stops at its next step.

    Viewers hear of it, and the worker stops, only once the transaction
    commits: a rolled-back cancel (or project delete) leaves the clip as it was.
    """
    if generation.is_finished:
        return
    job_id = str(generation.pk)
    if generation.request_cancel():
        transaction.on_commit(lambda: _announce_cancelled(job_id))
    else:
        transaction.on_commit(lambda: runtime.cancel(job_id))


def _announce_cancelled(job_id: str) -> None:
    runtime.events.forget(job_id)
    runtime.events.publish_event(job_id, {"type": "cancelled"})


def generations_cancel(*, generations: QuerySet[Generation]) -> int:
    """Cancel every clip of ``generations`` still rendering or waiting (and
    not already asked to stop); the number of them."""
    active = list(
        generations.filter(status__in=Generation.ACTIVE, cancel_requested=False)
    )
    for generation in active:
        generation_cancel(generation=generation)
    return len(active)


def generation_star(*, generation: Generation, starred: bool) -> None:
    """Mark a clip as a keeper, or not."""
    generation.starred = starred
    Generation.objects.filter(pk=generation.pk).update(starred=starred)


def generations_star(*, generations: QuerySet[Generation], starred: bool) -> int:
    """Star or unstar several clips at once; returns how many."""
    return generations.update(starred=starred)


def generation_delete(*, generation: Generation) -> None:
    generations_delete(generations=[generation])


def generations_delete(*, generations: Iterable[Generation]) -> int:
    """Delete several clips (cancelling any still queued or running) and,
    once the transaction commits, the files they leave behind."""
    generations = list(generations)
    for generation in generations:
        generation_cancel(generation=generation)
    folders = generation_folders(generations)
    Generation.objects.filter(pk__in=[g.pk for g in generations]).delete()
    transaction.on_commit(lambda: delete_folders(folders))
    return len(generations)


# The spec fields that name an uploaded input stored under the owner's folder.
INPUT_KEYS = ("image_path", "video_path")


def generation_folders(
    generations: Iterable[Generation],
) -> list[Path | tuple[int, str]]:
    """What deleting these generations frees: their output folders, and their
    uploaded inputs as (owner id, stored path) — an input shared by variations
    goes only when no remaining generation uses it."""
    found: list[Path | tuple[int, str]] = []
    for generation in generations:
        found.append(output_dir(generation))
        found += [
            (generation.owner_id, generation.settings[key])
            for key in INPUT_KEYS
            if generation.settings.get(key)
        ]
    return found


def delete_folders(folders: Iterable[Path | tuple[int, str]]) -> None:
    """Delete output folders and uploaded inputs nothing refers to any more."""
    for item in folders:
        if isinstance(item, Path):
            shutil.rmtree(item, ignore_errors=True)
            continue
        owner_id, stored = item
        path = Path(stored)
        # Only ever a file in the owner's own input folder.
        if path.parent.resolve() != input_dir(owner_id).resolve():
            continue
        in_use = Generation.objects.filter(owner_id=owner_id).filter(
            Q(settings__image_path=stored) | Q(settings__video_path=stored)
        )
        if not in_use.exists():
            path.unlink(missing_ok=True)


def public_settings(spec: dict[str, Any]) -> dict[str, Any]:
    """The settings as a client sees them: uploaded inputs by file name only,
    never as a path on the server."""
    shown = dict(spec)
    for key in ("image_path", "video_path"):
        if shown.get(key):
            shown[key] = Path(shown[key]).name
    return shown


def generation_state(
    generation: Generation, *, positions: dict[str, int] | None = None
) -> dict[str, Any]:
    """What the API and a newly connected websocket say about a job.

    ``positions`` (from :func:`queue_positions`) saves a query per queued job
    when describing many."""
    job_id = str(generation.pk)
    steps = generation.settings.get("num_inference_steps", 0)
    live = (
        runtime.events.live_progress(job_id)
        if generation.status == Generation.Status.RUNNING
        else None
    )
    if generation.status == Generation.Status.SUCCEEDED:
        progress = {"step": steps, "steps": steps}
    elif generation.status == Generation.Status.RUNNING and live:
        progress = {"step": live["step"], "steps": live["steps"] or steps}
    else:
        progress = {"step": 0, "steps": steps}
    state: dict[str, Any] = {
        "id": job_id,
        "status": generation.status,
        "progress": progress,
        "settings": public_settings(generation.settings),
        "seed": generation.seed,
        "starred": generation.starred,
        "project": str(generation.project_id) if generation.project_id else None,
        "ws_url": generation.ws_url,
        "created": generation.created.isoformat(),
        "started": generation.started.isoformat() if generation.started else None,
        "finished": generation.finished.isoformat() if generation.finished else None,
    }
    if generation.status == Generation.Status.RUNNING and live:
        state["progress"].update(elapsed=live["elapsed"], eta=live["eta"])
    if generation.status == Generation.Status.QUEUED:
        if positions is None:
            positions = queue_positions()
        state["position"] = positions.get(job_id)
    if generation.extends_id is not None:
        state["extends"] = str(generation.extends_id)
        if generation.joined_url:
            state["joined_url"] = generation.joined_url
    if generation.error:
        state["error"] = generation.error
    if generation.video:
        state["video_url"] = generation.video_url
        state["poster_url"] = generation.poster_url
        state["seconds"] = generation.seconds
        if generation.kind == Generation.Kind.SEQUENCE:
            # A rendered sequence's captions sit beside its video.
            state["captions_url"] = generation.video_url.removesuffix(".mp4") + ".vtt"
    return state


def render_queue(user: AbstractBaseUser) -> dict[str, int]:
    """How many of ``user``'s clips are rendering and waiting, across projects."""
    counts = dict(
        Generation.objects.filter(owner=user, status__in=Generation.ACTIVE)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    running = counts.get(Generation.Status.RUNNING, 0)
    queued = counts.get(Generation.Status.QUEUED, 0)
    return {"running": running, "queued": queued, "active": running + queued}


def workers_status() -> list[dict[str, Any]]:
    """Every worker that said it is alive in the last day: its name, device,
    what it does now ("rendering", "idle" or "silent") and when it last
    said so, with a rendering clip's step."""
    now = timezone.now()
    silent_before = now - STALE_AFTER
    rows = []
    for worker in Worker.objects.all():
        row = {
            "name": worker.name,
            "device": worker.device,
            "last_seen": worker.last_seen,
            "seconds_ago": int((now - worker.last_seen).total_seconds()),
            "started": worker.started,
            "state": "idle",
        }
        if worker.last_seen < silent_before:
            row["state"] = "silent"
        elif worker.job_id is not None:
            row["state"] = "rendering"
            live = runtime.events.live_progress(str(worker.job_id))
            if live:
                row.update(step=live["step"], steps=live["steps"])
        rows.append(row)
    return rows
