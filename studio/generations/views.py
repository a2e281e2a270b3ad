from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from generation import specs as engine
from studio.accounts.data import clips_archive
from studio.galleries.models import Gallery
from studio.galleries.services import gallery_items_add
from studio.generations.forms import MAX_BULK_CLIPS, BulkClipsForm
from studio.generations.models import Generation
from studio.generations.search import STATUSES, clean_filters, generation_search
from studio.generations.services import (
    ClipNotFinished,
    QueueFull,
    SubmitError,
    generation_cancel,
    generation_delete,
    generation_extend,
    generation_joined,
    generation_star,
    generations_cancel,
    generations_delete,
    generations_star,
    render_queue,
)
from studio.generations.sound import describe as sound_describe
from studio.generations.validation import model_capabilities, model_names
from studio.lib.media import credentials_user, ranged_file
from studio.projects.models import Project

# ASCII digits of a bounded length: int() of "²" or of 5,000 digits raises.
CLIPS_PAGE_SIZE = 48


def _clip_list_context(request: HttpRequest, params: QueryDict) -> dict[str, Any]:
    projects = Project.objects.filter(owner=request.user)
    filters, errors = clean_filters(params, projects=projects)
    found = generation_search(Generation.objects.filter(owner=request.user), **filters)
    page = Paginator(found, CLIPS_PAGE_SIZE).get_page(params.get("page"))
    rest = params.copy()
    rest.pop("page", None)
    return {
        "clips": page,
        "errors": errors,
        "filters": {
            key: params.get(key, "")
            for key in ("q", "status", "project", "model", "starred")
        },
        "filtered": bool(filters),
        "query_string": rest.urlencode(),
        "page_query": params.urlencode(),
        "statuses": STATUSES,
        "projects": projects.order_by("name"),
        "models": model_names(),
        "galleries": Gallery.objects.filter(owner=request.user).order_by("title"),
        "max_bulk": MAX_BULK_CLIPS,
    }


@login_required
def clip_list(request: HttpRequest) -> HttpResponse:
    """Every clip of the creator's, across projects: search and filters."""
    ctx = _clip_list_context(request, request.GET)
    template = "generations/clip_list.html"
    if request.htmx and request.htmx.target == "gallery":
        template += "#results"
    return render(request, template, ctx)


@require_GET
def queue_badge(request: HttpRequest) -> HttpResponse:
    """The top bar's count of clips rendering and waiting, polled while any are."""
    if not request.user.is_authenticated:
        # 286 tells htmx to stop polling: the session ended.
        return HttpResponse(status=286)
    return render(
        request,
        "generations/queue_badge.html",
        {"render_queue": render_queue(request.user)},
    )


@login_required
@require_POST
def clips_cancel_all(request: HttpRequest) -> HttpResponse:
    """Cancel every clip of the creator's still rendering or waiting."""
    done = generations_cancel(generations=Generation.objects.filter(owner=request.user))
    if done:
        messages.success(request, f"{done} clip{pluralize(done)} cancelled.")
    else:
        messages.info(request, "Nothing was rendering or waiting.")
    return redirect(f"{reverse('generations:list')}?status=active")


@login_required
@require_POST
def clip_bulk(request: HttpRequest) -> HttpResponse:
    """Star, unstar, add to a gallery or delete the ticked clips, then show
    the same list again with what happened; or download them as one ZIP."""
    form = BulkClipsForm(request.POST)
    params = QueryDict(request.POST.get("query", "")[:2000], mutable=True)
    ok = form.is_valid()
    if ok and form.cleaned_data["action"] == "download":
        finished = Generation.objects.filter(
            owner=request.user,
            pk__in=form.cleaned_data["clip"],
            status=Generation.Status.SUCCEEDED,
        ).exclude(video="")
        if finished.exists():
            return FileResponse(
                clips_archive(generations=finished.order_by("-created")),
                as_attachment=True,
                filename="clips.zip",
                content_type="application/zip",
            )
        ok, notice = False, "None of the ticked clips has finished yet."
    elif ok:
        ok, notice = _apply_bulk(request.user, form.cleaned_data)
    else:
        notice = " ".join(m for ms in form.errors.values() for m in ms)
    if not request.htmx and ok:
        messages.success(request, notice)
        return redirect(f"{reverse('generations:list')}?{params.urlencode()}")
    ctx = {**_clip_list_context(request, params), "notice": notice, "notice_ok": ok}
    if request.htmx:
        # htmx swaps only 2xx answers: the message shows in the list itself.
        return render(request, "generations/clip_list.html#results", ctx)
    return render(request, "generations/clip_list.html", ctx, status=400)


def _apply_bulk(user: Any, data: dict[str, Any]) -> tuple[bool, str]:
    chosen = Generation.objects.filter(owner=user, pk__in=data["clip"])
    count = len(data["clip"])
    action = data["action"]
    if action in ("star", "unstar"):
        done = generations_star(generations=chosen, starred=action == "star")
        return True, f"{done} clip{pluralize(done)} {action}red."
    if action == "delete":
        done = generations_delete(generations=chosen)
        return True, f"{done} clip{pluralize(done)} deleted."
    gallery = Gallery.objects.filter(owner=user, pk=data["gallery"]).first()
    if gallery is None:
        return False, "Choose one of your galleries."
    added, skipped = gallery_items_add(
        gallery=gallery, generations=chosen.order_by("-created")
    )
    notice = f"{added} clip{pluralize(added)} in “{gallery.title}”."
    if skipped:
        notice += f" {skipped} not finished, so left out."
    if added + skipped < count:
        notice += f" {count - added - skipped} no longer exist."
    return True, notice


def _detail_context(generation: Generation) -> dict[str, Any]:
    spec = generation.spec
    caps = model_capabilities(spec.model)
    extendable = (
        generation.kind == Generation.Kind.CLIP
        and generation.status == Generation.Status.SUCCEEDED
        and bool(generation.video)
        and caps is not None
        and caps.extend is not None
    )
    return {
        "generation": generation,
        "spec": spec,
        "sound_line": sound_describe(
            generation.settings.get("sound")
            or generation.settings.get("sequence", {}).get("sound")
        ),
        "extendable": extendable,
        "extend": {
            "min": engine.MIN_EXTEND_SECONDS,
            "max": engine.MAX_EXTEND_SECONDS,
            "seconds": 2,
            "prompt": spec.prompt,
        },
    }


@login_required
def generation_detail(request: HttpRequest, generation_id: UUID) -> HttpResponse:
    generation = get_object_or_404(
        Generation.objects.select_related("extends"),
        pk=generation_id,
        owner=request.user,
    )
    ctx = _detail_context(generation)
    template = "generations/generation_detail.html"
    if request.htmx:
        template += "#player"
    return render(request, template, ctx)


@login_required
@require_POST
def generation_extend_page(request: HttpRequest, generation_id: UUID) -> HttpResponse:
    """The clip page's Extend form: queue the continuation and open its page;
    a problem shows on the clip's page, beside the form."""
    generation = get_object_or_404(Generation, pk=generation_id, owner=request.user)
    raw = request.POST.get("seconds", "").strip()[:20]
    prompt = request.POST.get("prompt", "")[: engine.MAX_PROMPT_CHARS + 1]
    status = 400
    try:
        seconds = float(raw)
    except ValueError:
        seconds = None
    try:
        if seconds is None:
            raise SubmitError({"seconds": ["Give the extension's length in seconds."]})
        extension = generation_extend(
            user=request.user, generation=generation, seconds=seconds, prompt=prompt
        )
    except SubmitError as exc:
        problems = [m for messages in exc.errors.values() for m in messages]
    except ClipNotFinished as exc:
        problems, status = [str(exc)], 409
    except QueueFull as exc:
        problems, status = [str(exc)], 429
    else:
        return redirect(extension)
    ctx = _detail_context(generation)
    ctx["extend"].update(seconds=raw, prompt=prompt)
    ctx["extend_errors"] = problems
    return render(request, "generations/generation_detail.html", ctx, status=status)


def generation_joined_video(request: HttpRequest, generation_id: UUID) -> HttpResponse:
    """An extension's joined version: the clip it continues, then it, as one
    MP4 (made on first request). For its owner only, by session or token."""
    user = credentials_user(request)
    if user is None or not user.is_authenticated:
        raise Http404
    extension = get_object_or_404(
        Generation.objects.select_related("extends"), pk=generation_id, owner=user
    )
    try:
        path = generation_joined(extension=extension)
    except ClipNotFinished as exc:
        raise Http404(str(exc)) from None
    response = ranged_file(request, path)
    if request.GET.get("download"):
        response["Content-Disposition"] = (
            f'attachment; filename="joined-{extension.pk.hex[:8]}.mp4"'
        )
    return response


@login_required
@require_POST
def generation_cancel_page(request: HttpRequest, generation_id: UUID) -> HttpResponse:
    generation = get_object_or_404(Generation, pk=generation_id, owner=request.user)
    generation_cancel(generation=generation)
    if request.htmx:
        return HttpResponse(status=204)
    return redirect(generation.project or "projects:list")


@login_required
@require_POST
def generation_star_page(request: HttpRequest, generation_id: UUID) -> HttpResponse:
    generation = get_object_or_404(Generation, pk=generation_id, owner=request.user)
    generation_star(generation=generation, starred=request.POST.get("starred") == "1")
    if request.htmx:
        response = render(
            request, "generations/star_button.html", {"generation": generation}
        )
        # Every other star of this clip on the page follows (card and player).
        event = {"id": str(generation.pk), "starred": generation.starred}
        response["HX-Trigger"] = json.dumps({"clip-starred": event})
        return response
    return redirect(generation.project or "generations:list")


@login_required
@require_POST
def generation_delete_page(request: HttpRequest, generation_id: UUID) -> HttpResponse:
    generation = get_object_or_404(Generation, pk=generation_id, owner=request.user)
    project = generation.project
    generation_delete(generation=generation)
    if request.htmx:
        return HttpResponse("")
    return redirect(project or "projects:list")


def media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Serve a clip, poster or captions to their owner only (by session or by
    API token); anyone else gets a 404."""
    user = credentials_user(request)
    if user is None or not user.is_authenticated:
        raise Http404
    names = Q(video=path) | Q(poster=path)
    if path.endswith(".vtt"):
        # A rendered sequence's captions sit beside its video.
        names |= Q(
            video=path.removesuffix(".vtt") + ".mp4", kind=Generation.Kind.SEQUENCE
        )
    owned = Generation.objects.filter(names, owner=user).exists()
    file = (settings.MEDIA_ROOT / path).resolve()
    if not owned or not file.is_relative_to(settings.MEDIA_ROOT) or not file.is_file():
        raise Http404
    return ranged_file(request, file)
