"""Live mode's writes: the project a session records into, a recording
turned into a clip in the gallery like any other, and who may watch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings as django_settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from generation.live import LiveSettings, Recording, recording_spec, write_recording
from studio.generations import runtime
from studio.generations.events import media_relative
from studio.generations.models import Generation
from studio.generations.store import output_dir
from studio.lib.credentials import clip_signer
from studio.projects.models import Project
from studio.sharing.models import ShareLink
from studio.sharing.ratelimit import allow
from studio.sharing.services import LinkExpired, share_link_resolve


def live_project(*, user: AbstractBaseUser, project_id: Any) -> Project | None:
    """``user``'s own project of that id, or None (another's is as unknown
    as a missing one)."""
    try:
        pk = uuid.UUID(str(project_id))
    except ValueError:
        return None
    return Project.objects.filter(pk=pk, owner_id=user.pk).first()


def live_look(
    *, user: AbstractBaseUser, style_id: int
) -> tuple[str, dict[str, Any]] | str:
    """The look of one of the styles ``user`` may use, as the stream takes
    it (a name and its parameters), or a sentence saying why not."""
    from studio.generations.services import SubmitError
    from studio.prompts.services import style_look

    try:
        name, params = style_look(user=user, style_id=style_id)
    except SubmitError as error:
        return error.errors["style"][0]
    if not name:
        return "That style has no look; choose one with a look, or none."
    return name, params


def clip_waiting() -> bool:
    """Whether this process's generation worker has a clip in hand, so a
    live stream takes turns with it on the device."""
    service = runtime.current()
    return service is not None and service.current_job is not None


def live_recording_save(
    *,
    user: AbstractBaseUser,
    project_id: Any,
    settings: LiveSettings,
    recording: Recording,
) -> Generation:
    """Turn a recording into a finished clip of ``user``'s: an MP4 signed
    with Content Credentials and a poster, written as the service writes a
    clip, then one succeeded ``Generation`` whose settings say it was
    recorded live and list the prompt timeline.

    Blocking (encoding and signing take a while): call it off the event loop.
    The project is looked up again, so a project deleted meanwhile leaves the
    clip outside any project rather than failing it.
    """
    spec = recording_spec(settings, recording)
    generation = Generation(
        owner_id=user.pk,
        status=Generation.Status.SUCCEEDED,
        kind=Generation.Kind.CLIP,
        prompt=spec.prompt,
        seed=spec.seed,
        settings={**spec.to_dict(), "live": True, "prompts": recording.timeline},
        started=datetime.fromtimestamp(recording.started, tz=UTC),
    )
    video, poster = write_recording(
        spec, recording, output_dir(generation), signer=clip_signer()
    )
    try:
        if project_id is not None:
            generation.project = live_project(user=user, project_id=project_id)
        generation.video = media_relative(video)
        generation.poster = media_relative(poster)
        generation.finished = timezone.now()
        generation.save(force_insert=True)
    except BaseException:
        video.unlink(missing_ok=True)
        poster.unlink(missing_ok=True)
        raise
    return generation


@dataclass(frozen=True)
class Admission:
    """Whether a viewer may watch: the link when they may, or why not
    (``refused``: "limited", "missing" or "expired")."""

    link: ShareLink | None = None
    refused: str = ""


def live_watch_admit(*, token: str, address: str) -> Admission:
    """Check a viewer's share token as the share pages check theirs: counted
    per client address against ``STUDIO_SHARE_RATE_LIMIT``; unknown,
    revoked, expired and other kinds of links refused alike."""
    if not allow("share-live", address, limit=django_settings.STUDIO_SHARE_RATE_LIMIT):
        return Admission(refused="limited")
    try:
        link = share_link_resolve(token)
    except LinkExpired:
        return Admission(refused="expired")
    if link is None or not link.live:
        return Admission(refused="missing")
    return Admission(link=link)
