from __future__ import annotations

import io
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from generation import sequence, sheet, specs
from generation.sequence import SoundtrackError
from generation.sound import SoundError
from studio.generations import sound
from studio.generations.services import CLIPS_QUEUED, QueueFull
from studio.generations.sound import PreviewLimited, PreviewShot, SoundForm
from studio.generations.sound_views import first_error, refusal, wav_response
from studio.generations.validation import model_capabilities
from studio.projects.models import Project
from studio.sharing.panels import share_panel_context
from studio.storyboards import services
from studio.storyboards.forms import (
    ChoiceForm,
    ScriptForm,
    ShotForm,
    SoundtrackForm,
    StoryboardForm,
)
from studio.storyboards.models import Choice, Shot, Storyboard, Take
from studio.storyboards.script import ProposedShot, propose_shots
from studio.storyboards.services import StoryboardError

MAX_PROPOSALS = 40


def _storyboard(request: HttpRequest, project_id: UUID, storyboard_id: UUID):
    return get_object_or_404(
        Storyboard.objects.select_related("project", "style_preset"),
        pk=storyboard_id,
        project_id=project_id,
        owner=request.user,
    )


def _shot(storyboard: Storyboard, shot_id: int) -> Shot:
    return get_object_or_404(Shot, pk=shot_id, storyboard=storyboard)


def _board_context(request: HttpRequest, storyboard: Storyboard) -> dict:
    shots = list(services.shots_with_takes(storyboard))
    # Takes finish in the worker, which knows nothing of share links: the
    # owner's next look at the board makes the copies a live link will play.
    services.shared_takes_refresh(storyboard=storyboard, shots=shots)
    paths = services.storyboard_paths(storyboard, shots)
    renders = storyboard.renders.select_related("generation")[:5]
    supported, reason = services.continue_support(storyboard.model)
    return {
        "project": storyboard.project,
        "storyboard": storyboard,
        "shots": shots,
        "paths": paths,
        "interactive": services.is_interactive(shots),
        "renders": renders,
        "total": sum(shot.duration for shot in shots),
        "missing": sum(1 for s in shots if not s.takes.all()),
        "continue_supported": supported,
        "continue_reason": reason,
        "kinds": Shot.Kind.choices,
        "choice_form": ChoiceForm(storyboard=storyboard),
        "path_rows": _path_rows(shots, paths),
        "speakers": _speakers(storyboard),
    }


def _speakers(storyboard: Storyboard) -> list:
    from studio.prompts.models import Character

    return list(
        Character.objects.filter(
            owner_id=storyboard.owner_id, kind=Character.Kind.CHARACTER
        ).only("pk", "name")
    )


def _sound_form(storyboard: Storyboard) -> SoundForm:
    return SoundForm(initial=sound.initial_from(storyboard.sound))


def _mood_line(storyboard: Storyboard, shots: list[Shot], mood: str | None) -> str:
    text = " ".join(shot.prompt for shot in shots)
    line = sound.mood_line(text, mood)
    return f"Music: {line}" if line else "Music: add shots to hear their mood"


def _path_rows(shots: list[Shot], paths) -> list[dict]:
    order = {shot.pk: shot.order for shot in shots}
    broken: dict[int, list[str]] = {}
    for pk, label in paths.broken:
        broken.setdefault(pk, []).append(label)
    rows = []
    for shot in shots:
        labels = {c.target_id: c.label for c in shot.choices.all()}
        rows.append(
            {
                "shot": shot,
                "exits": [(labels.get(t, ""), order[t]) for t in paths.edges[shot.pk]],
                "broken": broken.get(shot.pk, []),
                "unreachable": shot.pk in paths.unreachable,
                "loop": shot.pk in paths.in_cycle,
                "trapped": shot.pk in paths.trapped,
            }
        )
    return rows


def _board(
    request: HttpRequest, storyboard: Storyboard, *, queued: bool = False
) -> HttpResponse:
    """After a change: the board fragment for htmx, else back to the page."""
    if request.htmx:
        ctx = _board_context(request, storyboard)
        response = render(request, "storyboards/storyboard_detail.html#board", ctx)
        if queued:
            trigger_client_event(response, CLIPS_QUEUED)
        return response
    return redirect(storyboard)


@login_required
def storyboard_list(request: HttpRequest, project_id: UUID) -> HttpResponse:
    project = get_object_or_404(Project, pk=project_id, owner=request.user)
    if request.method == "POST":
        title = request.POST.get("title", "")
        try:
            storyboard = services.storyboard_create(
                owner=request.user, project=project, title=title
            )
        except StoryboardError as exc:
            messages.error(request, str(exc))
            return redirect("storyboards:list", project.pk)
        return redirect(storyboard)

    storyboards = project.storyboards.all()
    ctx = {"project": project, "storyboards": storyboards}
    return render(request, "storyboards/storyboard_list.html", ctx)


@login_required
def storyboard_detail(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID
) -> HttpResponse:
    storyboard = _storyboard(request, project_id, storyboard_id)
    if request.method == "POST":
        form = StoryboardForm(request.POST, instance=storyboard, user=request.user)
        if form.is_valid():
            services.storyboard_update(storyboard=storyboard, **form.cleaned_data)
            messages.success(request, "Storyboard settings saved.")
            return redirect(storyboard)
    else:
        form = StoryboardForm(instance=storyboard, user=request.user)

    if request.htmx and request.GET.get("partial") == "board":
        ctx = _board_context(request, storyboard)
        return render(request, "storyboards/storyboard_detail.html#board", ctx)
    status = 400 if request.method == "POST" else 200
    return _page(request, storyboard, form=form, status=status)


def _page(
    request: HttpRequest, storyboard: Storyboard, *, status: int = 200, **extra
) -> HttpResponse:
    ctx = _board_context(request, storyboard)
    ctx.update(
        form=StoryboardForm(instance=storyboard, user=request.user),
        shot_form=ShotForm(storyboard=storyboard),
        script_form=ScriptForm(),
        soundtrack_form=SoundtrackForm(),
        sound_form=_sound_form(storyboard),
        **share_panel_context(request, storyboard=storyboard),
    )
    ctx.update(extra)
    mood = ctx["sound_form"]["sound_mood"].value() or None
    ctx["sound_mood_line"] = _mood_line(storyboard, ctx["shots"], mood)
    ctx["shot_prompts"] = " ".join(shot.prompt for shot in ctx["shots"])[:2000]
    ctx["soundtrack_note"] = (
        "Your uploaded soundtrack is the music: the composer stays silent, "
        "and effects and spoken lines play over the soundtrack."
        if storyboard.soundtrack
        else "Upload a soundtrack below to use it as the music instead; "
        "effects and spoken lines still play over it."
    )
    return render(request, "storyboards/storyboard_detail.html", ctx, status=status)


@login_required
@require_POST
def storyboard_delete(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID
) -> HttpResponse:
    storyboard = _storyboard(request, project_id, storyboard_id)
    services.storyboard_delete(storyboard=storyboard)
    messages.success(request, "Storyboard deleted; its clips stay in the project.")
    return redirect("storyboards:list", project_id)


# -- script → shots --------------------------------------------------------------


def _shot_seconds(storyboard: Storyboard) -> tuple[float, float]:
    """The shortest and longest shot, in seconds, that the storyboard's
    model makes at its frame rate."""
    low, high = specs.MIN_FRAMES, specs.MAX_FRAMES
    rules = model_capabilities(storyboard.model)
    if rules is not None:
        low, high = max(low, rules.frames.min), min(high, rules.frames.max)
    fps = max(1, storyboard.fps)
    return low / fps, high / fps


@login_required
@require_POST
def script_propose(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID
) -> HttpResponse:
    storyboard = _storyboard(request, project_id, storyboard_id)
    form = ScriptForm(request.POST)
    proposals: list[ProposedShot] = []
    if form.is_valid():
        try:
            low, high = _shot_seconds(storyboard)
            proposals = propose_shots(
                form.cleaned_data["script"],
                min_seconds=low,
                max_seconds=high,
                fps=storyboard.fps,
            )
        except ValueError as exc:
            form.add_error("script", str(exc))
    ctx = {
        "project": storyboard.project,
        "storyboard": storyboard,
        "script_form": form,
        "proposals": proposals,
        "kinds": Shot.Kind.choices,
    }
    template = "storyboards/storyboard_detail.html#script"
    return render(request, template, ctx, status=200 if form.is_valid() else 400)


@login_required
@require_POST
def script_accept(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID
) -> HttpResponse:
    storyboard = _storyboard(request, project_id, storyboard_id)
    post = request.POST
    rows = zip(
        post.getlist("kind")[:MAX_PROPOSALS],
        post.getlist("prompt")[:MAX_PROPOSALS],
        post.getlist("caption")[:MAX_PROPOSALS],
        post.getlist("duration")[:MAX_PROPOSALS],
        strict=False,
    )
    keep = set(post.getlist("keep"))
    accepted, errors = [], []
    for n, (kind, prompt, caption, duration) in enumerate(rows):
        if str(n) not in keep:
            continue
        form = ShotForm(
            {"kind": kind, "prompt": prompt, "caption": caption, "duration": duration},
            storyboard=storyboard,
        )
        if not form.is_valid():
            first = next(iter(form.errors.values()))[0]
            errors.append(f"Shot {n + 1}: {first}")
            continue
        data = form.cleaned_data
        accepted.append(
            ProposedShot(
                kind=data["kind"],
                prompt=data["prompt"],
                caption=data["caption"],
                duration=data["duration"],
            )
        )
    if errors:
        for message in errors:
            messages.error(request, message)
    elif not accepted:
        messages.error(request, "Keep at least one proposed shot.")
    else:
        try:
            services.shots_propose_accept(storyboard=storyboard, proposals=accepted)
        except StoryboardError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Added {len(accepted)} shots.")
    return redirect(storyboard)


# -- shots -------------------------------------------------------------------------


@login_required
@require_POST
def shot_add(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID
) -> HttpResponse:
    storyboard = _storyboard(request, project_id, storyboard_id)
    form = ShotForm(request.POST, storyboard=storyboard)
    if form.is_valid():
        try:
            services.shot_add(storyboard=storyboard, **form.cleaned_data)
        except StoryboardError as exc:
            messages.error(request, str(exc))
    else:
        for field, errors in form.errors.items():
            messages.error(
                request,
                f"{form.fields.get(field, form).label or ''} {errors[0]}".strip(),
            )
    return redirect(storyboard)


@login_required
@require_POST
def shot_edit(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID, shot_id: int
) -> HttpResponse:
    storyboard = _storyboard(request, project_id, storyboard_id)
    shot = _shot(storyboard, shot_id)
    form = ShotForm(request.POST, instance=shot, storyboard=storyboard)
    if form.is_valid():
        services.shot_update(shot=shot, **form.cleaned_data)
    else:
        shot.refresh_from_db()
        first = next(iter(form.errors.values()))[0]
        messages.error(request, f"Shot {shot.order}: {first}")
    return _board(request, storyboard)


@login_required
@require_POST
def shot_action(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID, shot_id: int
) -> HttpResponse:
    storyboard = _storyboard(request, project_id, storyboard_id)
    shot = _shot(storyboard, shot_id)
    action = request.POST.get("action")
    try:
        if action == "duplicate":
            services.shot_duplicate(shot=shot)
        elif action == "up":
            services.shot_move(shot=shot, position=shot.order - 1)
        elif action == "down":
            services.shot_move(shot=shot, position=shot.order + 1)
        elif action == "delete":
            services.shot_delete(shot=shot)
        elif action == "generate":
            services.takes_generate(shots=[shot])
        else:
            return HttpResponse("Unknown action.", status=400)
    except (StoryboardError, QueueFull) as exc:
        messages.error(request, str(exc))
        if request.htmx:
            ctx = _board_context(request, storyboard)
            ctx["error"] = str(exc)
            return render(request, "storyboards/storyboard_detail.html#board", ctx)
    return _board(request, storyboard, queued=action == "generate")


@login_required
@require_POST
def shots_reorder(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID
) -> HttpResponse:
    storyboard = _storyboard(request, project_id, storyboard_id)
    try:
        ids = [int(value) for value in request.POST.getlist("shot")]
        services.shots_reorder(storyboard=storyboard, shot_ids=ids)
    except (ValueError, StoryboardError):
        return HttpResponse(
            "Name every shot of the storyboard exactly once.", status=400
        )
    return _board(request, storyboard)


@login_required
@require_POST
def take_choose(
    request: HttpRequest,
    project_id: UUID,
    storyboard_id: UUID,
    shot_id: int,
    take_id: int,
) -> HttpResponse:
    storyboard = _storyboard(request, project_id, storyboard_id)
    shot = _shot(storyboard, shot_id)
    take = get_object_or_404(
        Take.objects.select_related("generation"), pk=take_id, shot=shot
    )
    try:
        services.take_choose(shot=shot, take=take)
    except StoryboardError as exc:
        messages.error(request, str(exc))
    return _board(request, storyboard)


@login_required
@require_POST
def take_extend(
    request: HttpRequest,
    project_id: UUID,
    storyboard_id: UUID,
    shot_id: int,
    take_id: int,
) -> HttpResponse:
    """A take's Extend button: a new shot after this one that continues it."""
    storyboard = _storyboard(request, project_id, storyboard_id)
    shot = _shot(storyboard, shot_id)
    take = get_object_or_404(
        Take.objects.select_related("generation", "shot"), pk=take_id, shot=shot
    )
    try:
        seconds = float(request.POST.get("seconds", "").strip()[:20])
    except ValueError:
        messages.error(request, "Give the extension's length in seconds.")
        return _board(request, storyboard)
    try:
        services.take_extend(
            take=take, seconds=seconds, prompt=request.POST.get("prompt", "")[:2001]
        )
    except (StoryboardError, QueueFull) as exc:
        messages.error(request, str(exc))
        return _board(request, storyboard)
    return _board(request, storyboard, queued=True)


@login_required
@require_POST
def generate_missing(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID
) -> HttpResponse:
    storyboard = _storyboard(request, project_id, storyboard_id)
    missing = services.shots_missing(storyboard)
    takes = []
    try:
        takes = services.takes_generate(shots=missing)
    except (StoryboardError, QueueFull) as exc:
        messages.error(request, str(exc))
    else:
        if not takes:
            messages.info(request, "Every shot already has a take.")
    return _board(request, storyboard, queued=bool(takes))


# -- choices ------------------------------------------------------------------------


@login_required
@require_POST
def choice_add(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID, shot_id: int
) -> HttpResponse:
    storyboard = _storyboard(request, project_id, storyboard_id)
    shot = _shot(storyboard, shot_id)
    form = ChoiceForm(request.POST, storyboard=storyboard)
    if form.is_valid():
        try:
            services.choice_add(
                shot=shot,
                label=form.cleaned_data["label"],
                target=form.cleaned_data["target"],
            )
        except StoryboardError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, "Name the choice and pick the shot it leads to.")
    return _board(request, storyboard)


@login_required
@require_POST
def choice_delete(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID, choice_id: int
) -> HttpResponse:
    storyboard = _storyboard(request, project_id, storyboard_id)
    choice = get_object_or_404(Choice, pk=choice_id, shot__storyboard=storyboard)
    services.choice_delete(choice=choice)
    return _board(request, storyboard)


# -- render, soundtrack, sheet ----------------------------------------------------------


@login_required
@require_POST
def render_sequence(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID
) -> HttpResponse:
    storyboard = _storyboard(request, project_id, storyboard_id)
    try:
        services.storyboard_render(storyboard=storyboard)
    except (StoryboardError, QueueFull, ValueError) as exc:
        messages.error(request, str(exc))
        return _board(request, storyboard)
    return _board(request, storyboard, queued=True)


@login_required
@require_POST
def soundtrack(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID
) -> HttpResponse:
    storyboard = _storyboard(request, project_id, storyboard_id)
    if request.POST.get("action") == "remove":
        services.soundtrack_clear(storyboard=storyboard)
        messages.success(request, "Soundtrack removed.")
        return redirect(storyboard)
    form = SoundtrackForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.soundtrack_set(
                storyboard=storyboard, upload=form.cleaned_data["soundtrack"]
            )
        except SoundtrackError as exc:
            form.add_error("soundtrack", str(exc))
        else:
            messages.success(request, "Soundtrack added to the next render.")
            return redirect(storyboard)
    return _page(request, storyboard, status=400, soundtrack_form=form)


@login_required
@require_POST
def sound_settings(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID
) -> HttpResponse:
    """The Sound panel's Save: the sound the next renders get."""
    storyboard = _storyboard(request, project_id, storyboard_id)
    form = SoundForm(request.POST)
    if form.is_valid():
        try:
            services.sound_set(storyboard=storyboard, sound=form.sound)
        except StoryboardError as exc:
            form.add_error(None, str(exc))
        else:
            on = "on" if storyboard.sound else "off"
            messages.success(request, f"Sound {on} for the next render.")
            return redirect(storyboard)
    return _page(request, storyboard, status=400, sound_form=form)


@never_cache
@login_required
@require_POST
def sound_preview(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID
) -> HttpResponse:
    """The Sound panel's Preview: music and the shots' spoken lines, timed to
    the shots, as a WAV the page plays (the first minute at most)."""
    storyboard = _storyboard(request, project_id, storyboard_id)
    form = SoundForm(request.POST)
    if not form.is_valid():
        return refusal(first_error(form), 400)
    shots = [
        PreviewShot(
            prompt=shot.prompt,
            duration=shot.duration,
            **{
                key: value
                for key, value in services.voice_plan(shot).items()
                if key in ("voice", "character", "voice_start")
            },
        )
        for shot in services.shots_with_takes(storyboard)
    ]
    if not shots:
        return refusal("Add a shot first: the preview follows the shots.", 400)
    try:
        sound.preview_allowed(request.user.pk)
    except PreviewLimited as exc:
        return refusal(str(exc), 429)
    try:
        wav = sound.preview_wav(shots, fps=storyboard.fps, sound=form.preview_sound)
    except SoundError as exc:
        return refusal(str(exc), 400)
    return wav_response(request, wav)


def sheet_shots(storyboard: Storyboard) -> list[sheet.SheetShot]:
    rows = []
    for shot in services.shots_with_takes(storyboard):
        take = shot.used_take()
        frames = None
        if take is not None:
            try:
                frames = sequence.read_frames(
                    settings.MEDIA_ROOT / take.generation.video
                )
            except (OSError, ValueError):
                frames = None
        rows.append(
            sheet.SheetShot(
                number=shot.order,
                kind=shot.get_kind_display(),
                duration=shot.duration,
                prompt=shot.prompt,
                caption=shot.caption,
                notes=shot.notes,
                frames=frames,
            )
        )
    return rows


@login_required
def storyboard_sheet(
    request: HttpRequest, project_id: UUID, storyboard_id: UUID, format: str
) -> HttpResponse:
    storyboard = _storyboard(request, project_id, storyboard_id)
    rows = sheet_shots(storyboard)
    buffer = io.BytesIO()
    if format == "pdf":
        sheet.write_sheet_pdf(storyboard.title, rows, buffer)
        content_type = "application/pdf"
    else:
        sheet.write_sheet_png(storyboard.title, rows, buffer)
        content_type = "image/png"
    buffer.seek(0)
    name = f"storyboard-{storyboard.pk.hex[:8]}.{format}"
    return FileResponse(
        buffer, as_attachment=True, filename=name, content_type=content_type
    )


# -- share links made before they were share links ----------------------------------


def _moved(url: str) -> HttpResponse:
    response = HttpResponsePermanentRedirect(url)
    # The token is in both addresses: keep it out of caches and referrers.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
def shared_page(request: HttpRequest, token: str) -> HttpResponse:
    """Links handed out as /storyboards/shared/<token>/ open the share page,
    which checks the token, its expiry and the visitor's rate."""
    url = reverse("sharing:page", args=[token])
    query = request.META.get("QUERY_STRING", "")
    return _moved(f"{url}?{query}" if query else url)


@require_GET
def shared_shot(request: HttpRequest, token: str, shot_id: int) -> HttpResponse:
    return _moved(reverse("sharing:shot", args=[token, shot_id]))


@require_GET
def shared_media(request: HttpRequest, token: str, name: str) -> HttpResponse:
    return _moved(reverse("sharing:cut", args=[token, name]))
