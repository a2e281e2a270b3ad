"""Share links: the owner makes and revokes them; anyone with one sees a
read-only page. Public views never look at the visitor's session, so what
they show depends on the token alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from generation import exports
from studio.galleries.models import Gallery
from studio.galleries.services import (
    download_name,
    export_target,
    file_stem,
    gallery_page,
    generation_export,
    private_copies_make,
    private_copy_path,
)
from studio.generations.models import Generation
from studio.lib.credentials import video_verdict
from studio.lib.media import ranged_file
from studio.live.broadcast import hub
from studio.sharing.forms import ShareLinkForm
from studio.sharing.models import ShareLink
from studio.sharing.panels import share_panel_context
from studio.sharing.preparer import preparer
from studio.sharing.ratelimit import rate_limited
from studio.sharing.services import (
    MAX_SHARED_ARCHIVE,
    LinkExpired,
    share_link_create,
    share_link_record_view,
    share_link_resolve,
    share_link_revoke,
    share_url,
    shared_archive_make,
    shared_archive_path,
    shared_cut_file,
    shared_generation,
    shared_shot_file,
    shows_prompts,
)
from studio.storyboards.models import Storyboard
from studio.storyboards.services import (
    is_interactive,
    shared_shot_copy,
    shots_with_takes,
    storyboard_paths,
)

SHARE_PAGE_SIZE = 24
# How soon a visitor waiting for a file being prepared asks again.
PREPARING_RETRY_SECONDS = 5
# ...and when the preparer's queue is full.
BUSY_RETRY_SECONDS = 30


# -- the owner's side ---------------------------------------------------------


@login_required
@require_POST
def share_create(request: HttpRequest) -> HttpResponse:
    gallery = generation = storyboard = None
    live = False
    if request.POST.get("live"):
        live = True
    elif request.POST.get("gallery"):
        gallery = get_object_or_404(
            Gallery, pk=_uuid_or_404(request.POST["gallery"]), owner=request.user
        )
    elif request.POST.get("storyboard"):
        storyboard = get_object_or_404(
            Storyboard,
            pk=_uuid_or_404(request.POST["storyboard"]),
            owner=request.user,
        )
    else:
        generation = get_object_or_404(
            Generation,
            pk=_uuid_or_404(request.POST.get("generation", "")),
            owner=request.user,
            status=Generation.Status.SUCCEEDED,
        )
    form = ShareLinkForm(request.POST)
    new_url = ""
    if form.is_valid():
        _, token = share_link_create(
            owner=request.user,
            gallery=gallery,
            generation=generation,
            storyboard=storyboard,
            live=live,
            label=form.cleaned_data["label"],
            expires_in_hours=form.cleaned_data["expires_in_hours"],
        )
        new_url = request.build_absolute_uri(share_url(token))
        form = ShareLinkForm()
        if not request.htmx:
            messages.success(request, f"Share link (copy it now): {new_url}")
            if live:
                return redirect("live:page")
            return redirect(gallery or generation or storyboard)

    ctx = share_panel_context(
        request,
        gallery=gallery,
        generation=generation,
        storyboard=storyboard,
        live=live,
        form=form,
        new_url=new_url,
    )
    return render(request, "sharing/share_panel.html#panel", ctx)


@login_required
@require_POST
def share_revoke(request: HttpRequest, link_id: int) -> HttpResponse:
    link = get_object_or_404(
        ShareLink.objects.select_related("gallery", "generation", "storyboard"),
        pk=link_id,
        owner=request.user,
    )
    share_link_revoke(link=link)
    if request.htmx:
        ctx = share_panel_context(
            request,
            gallery=link.gallery,
            generation=link.generation,
            storyboard=link.storyboard,
            live=link.live,
        )
        return render(request, "sharing/share_panel.html#panel", ctx)
    messages.success(request, "The link was revoked; it no longer opens.")
    return redirect(link)


def _uuid_or_404(value: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise Http404 from None


# -- the public side ----------------------------------------------------------


def _public(
    request: HttpRequest, template: str, ctx: dict[str, object], status: int = 200
) -> HttpResponse:
    response = render(request, template, ctx, status=status)
    # The token must not travel to other sites, and the page must not be
    # cached past a revocation or indexed by search engines.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _not_found(request: HttpRequest) -> HttpResponse:
    return _public(request, "sharing/share_missing.html", {}, status=404)


def _expired(request: HttpRequest, link: ShareLink) -> HttpResponse:
    return _public(
        request, "sharing/share_expired.html", {"expired": link.expires}, status=410
    )


@require_GET
@rate_limited("share-page", "STUDIO_SHARE_RATE_LIMIT")
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = share_link_resolve(token)
    except LinkExpired as exc:
        return _expired(request, exc.link)
    if link is None:
        return _not_found(request)
    if link.live:
        return _live_page(request, link, token)
    if link.storyboard is not None:
        return _storyboard_page(request, link, token)
    share_link_record_view(link=link)

    if link.gallery is not None:
        gallery = link.gallery
        # Only finished clips enter a gallery, and they stay finished.
        items = gallery.items.select_related("generation")
        page = gallery_page(items, request.GET.get("page"), SHARE_PAGE_SIZE)
        clips = [item.generation for item in page]
        title, description = gallery.title, gallery.description
        show_prompts = shows_prompts(link)
        cover = gallery.cover if gallery.cover in clips else None
        cover = cover or (clips[0] if clips else None)
    else:
        page = None
        clips = [link.generation]
        title, description = "A clip", ""
        show_prompts = shows_prompts(link)
        cover = link.generation

    ready = _copies_ready(clips, private=not show_prompts)
    ctx = {
        "token": token,
        "title": title,
        "description": description,
        "show_prompts": show_prompts,
        "page": page,
        "clips": [(clip, _verdict(clip), ready[clip.pk]) for clip in clips],
        "preparing": not all(ready.values()),
        "retry": PREPARING_RETRY_SECONDS,
        "cover": cover,
        "formats": exports.FORMATS.values(),
        "max_archive": MAX_SHARED_ARCHIVE,
        "page_url": request.build_absolute_uri(),
        # Media links are built from this prefix rather than reversed per clip.
        "clips_base": reverse("sharing:page", args=[token]) + "clips/",
    }
    return _public(request, "sharing/share_page.html", ctx)


def _live_page(request: HttpRequest, link: ShareLink, token: str) -> HttpResponse:
    """The owner's live stream, played as it is made, with the votes the
    owner offers. The page holds no prompt of the owner's; the stream and the
    votes come over the viewer socket."""
    share_link_record_view(link=link)
    ctx = {
        "socket": f"/ws/live/watch?share={token}",
        "streaming": hub.streaming(link.owner_id),
    }
    return _public(request, "sharing/live_watch.html", ctx)


def _storyboard_page(request: HttpRequest, link: ShareLink, token: str) -> HttpResponse:
    """The cut for anyone with the link: one shot at a time, choices as links.
    Only the opening of the cut counts as a view, not each shot after it."""
    storyboard = link.storyboard
    shots = list(shots_with_takes(storyboard))
    by_id = {shot.pk: shot for shot in shots}
    wanted = request.GET.get("shot")
    try:
        current = by_id.get(int(wanted)) if wanted is not None else shots[0]
    except (ValueError, IndexError):
        current = None
    if current is None:
        return _not_found(request)
    if wanted is None:
        share_link_record_view(link=link)
    paths = storyboard_paths(storyboard, shots)
    choices = [c for c in current.choices.all() if c.target_id in by_id]
    following = (
        by_id[paths.edges[current.pk][0]]
        if not choices and paths.edges[current.pk]
        else None
    )
    base = reverse("sharing:page", args=[token])
    interactive = is_interactive(shots)
    # A cut with choices plays shot by shot; a straight one as its latest render.
    cut = None if interactive else shared_cut_file(link, "render.mp4")
    ctx = {
        "storyboard": storyboard,
        "shot": current,
        "ready": shared_shot_copy(current) is not None,
        "shot_url": f"{base}shots/{current.pk}.mp4",
        "choices": choices,
        "following": following,
        "interactive": interactive,
        "cut_url": f"{base}cut/render.mp4" if cut else "",
        "captions_url": (
            f"{base}cut/render.vtt" if cut and cut.with_suffix(".vtt").is_file() else ""
        ),
        "position": shots.index(current) + 1,
        "count": len(shots),
    }
    return _public(request, "storyboards/shared.html", ctx)


def _copies_ready(clips: list[Generation], *, private: bool) -> dict[UUID, bool]:
    """Whether each clip's video has nothing to wait for. A prompt-free copy
    is made when a link is made or a clip joins a shared gallery; one still
    missing (a large gallery's, or a link older than that) goes to the
    preparer, and the page shows the poster until it is there. A clip whose
    original is gone, or whose copy just failed, is not waited for."""
    ready = {}
    for clip in clips:
        path = private_copy_path(clip)
        ready[clip.pk] = (
            not private
            or path.is_file()
            or preparer.failed(str(path))
            or not (settings.MEDIA_ROOT / clip.video).is_file()
        )
        if not ready[clip.pk]:
            _submit(path, lambda clip=clip: private_copies_make([clip]))
    return ready


def _submit(path: Path, make: Callable[[], object]) -> bool:
    """Queue the making of ``path``; a job that ends without the file counts
    as failed, so its visitors are told instead of waiting forever."""

    def job() -> None:
        make()
        if not path.is_file():
            raise RuntimeError(f"{path} was not made")

    return preparer.submit(str(path), job)


def _verdict(generation: Generation):
    return video_verdict(settings.MEDIA_ROOT / generation.video)


def _shared_clip(
    token: str, generation_id: UUID
) -> tuple[Generation, bool] | HttpResponse:
    """The shared clip, and whether its owner keeps its prompt private."""
    try:
        link = share_link_resolve(token)
    except LinkExpired:
        return HttpResponse("This share link has expired.", status=410)
    generation = shared_generation(link, generation_id) if link else None
    if generation is None:
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    return generation, not shows_prompts(link)


@require_GET
@rate_limited("share-media", "STUDIO_SHARE_MEDIA_RATE_LIMIT")
def share_media(
    request: HttpRequest, token: str, generation_id: UUID, kind: str
) -> HttpResponseBase:
    """A shared clip's video or poster, by token; never the owner-only view."""
    shared = _shared_clip(token, generation_id)
    if isinstance(shared, HttpResponse):
        return shared
    generation, private = shared
    if kind not in ("video", "poster"):
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    relative = generation.video if kind == "video" else generation.poster
    file = (settings.MEDIA_ROOT / relative).resolve()
    if not relative or not file.is_relative_to(settings.MEDIA_ROOT):
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    if not file.is_file():
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    if kind == "video" and private:
        # The same frames, signed, without the prompt in the file's tags.
        file = private_copy_path(generation)
        if not file.is_file():
            return _prepare(
                request, file, lambda: private_copies_make([generation]), token
            )
    response = ranged_file(request, file)
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _shared_file(
    request: HttpRequest, token: str, find: Callable[[ShareLink], Path | None]
) -> HttpResponseBase:
    """A file of a shared storyboard, as ``find`` names it for the link."""
    try:
        link = share_link_resolve(token)
    except LinkExpired:
        return HttpResponse("This share link has expired.", status=410)
    file = find(link) if link is not None else None
    if file is None:
        return HttpResponse(
            "Not found, or not ready to share yet.",
            status=404,
            content_type="text/plain",
        )
    response = ranged_file(request, file)
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
@rate_limited("share-media", "STUDIO_SHARE_MEDIA_RATE_LIMIT")
def share_shot(request: HttpRequest, token: str, shot_id: int) -> HttpResponseBase:
    """A shot of a shared cut: the copy of its take made when it was shared."""
    return _shared_file(request, token, lambda link: shared_shot_file(link, shot_id))


@require_GET
@rate_limited("share-media", "STUDIO_SHARE_MEDIA_RATE_LIMIT")
def share_cut(request: HttpRequest, token: str, name: str) -> HttpResponseBase:
    """A shared storyboard's latest rendered cut, or its captions."""
    return _shared_file(request, token, lambda link: shared_cut_file(link, name))


@require_GET
@rate_limited("share-media", "STUDIO_SHARE_MEDIA_RATE_LIMIT")
def share_download(
    request: HttpRequest, token: str, generation_id: UUID, key: str
) -> HttpResponseBase:
    shared = _shared_clip(token, generation_id)
    if isinstance(shared, HttpResponse):
        return shared
    generation, private = shared
    if key not in exports.FORMATS:
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    if not (settings.MEDIA_ROOT / generation.video).is_file():
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    watermark = settings.STUDIO_EXPORT_WATERMARK
    path = export_target(generation, key, watermark=watermark, private=private)
    if not path.is_file():
        return _prepare(
            request,
            path,
            lambda: generation_export(
                generation=generation, key=key, watermark=watermark, private=private
            ),
            token,
        )
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=download_name(generation, key, private=private),
        content_type=exports.FORMATS[key].content_type,
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
@rate_limited("share-media", "STUDIO_SHARE_MEDIA_RATE_LIMIT")
def share_download_all(request: HttpRequest, token: str) -> HttpResponseBase:
    """A shared gallery's clips in board order as one ZIP (the first
    MAX_SHARED_ARCHIVE of them), as the share page serves them."""
    try:
        link = share_link_resolve(token)
    except LinkExpired:
        return HttpResponse("This share link has expired.", status=410)
    if link is None or link.gallery is None:
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    items = link.gallery.items.select_related("generation").order_by("position")
    clips = [
        item.generation
        for item in items[:MAX_SHARED_ARCHIVE]
        if item.generation.status == Generation.Status.SUCCEEDED
        and item.generation.video
    ]
    if not clips:
        return HttpResponse(
            "This gallery has no clips yet.", status=404, content_type="text/plain"
        )
    private = not shows_prompts(link)
    watermark = settings.STUDIO_EXPORT_WATERMARK
    path = shared_archive_path(
        link.gallery, clips, private=private, watermark=watermark
    )
    if not path.is_file():
        return _prepare(
            request,
            path,
            lambda: shared_archive_make(
                path=path, clips=clips, private=private, watermark=watermark
            ),
            token,
        )
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{file_stem(link.gallery.title, 'gallery')}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _prepare(
    request: HttpRequest, path: Path, make: Callable[[], object], token: str
) -> HttpResponse:
    """Hand the making of a file a visitor asked for to the background
    preparer and answer at once: 202 while it is being made (the page
    refreshes), 503 while the preparer is full, 404 once it could not be made.
    A visitor's request never makes a file itself."""
    key = str(path)
    if preparer.failed(key):
        return HttpResponse(
            "This file could not be prepared.", status=404, content_type="text/plain"
        )
    if _submit(path, make):
        status, retry = 202, PREPARING_RETRY_SECONDS
    else:
        status, retry = 503, BUSY_RETRY_SECONDS
    if "application/json" in request.headers.get("Accept", "").split(",")[0]:
        state = "preparing" if status == 202 else "busy"
        response = JsonResponse({"status": state, "retry_after": retry}, status=status)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
    else:
        ctx = {
            "busy": status == 503,
            "retry": retry,
            "back": reverse("sharing:page", args=[token]),
        }
        response = _public(request, "sharing/share_preparing.html", ctx, status)
    response["Retry-After"] = str(retry)
    return response
