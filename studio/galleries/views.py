from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from generation import exports
from studio.accounts.data import clips_archive
from studio.galleries.forms import AddToGalleryForm, GalleryForm
from studio.galleries.models import Gallery, GalleryItem
from studio.galleries.services import (
    NotAddable,
    download_name,
    file_stem,
    gallery_create,
    gallery_delete,
    gallery_item_add,
    gallery_item_move,
    gallery_item_remove,
    gallery_page,
    gallery_update,
    generation_export,
)
from studio.generations.models import Generation
from studio.lib.credentials import video_verdict
from studio.sharing.panels import share_panel_context

BOARD_PAGE_SIZE = 24
COMPARE_CHOICES = 24


@login_required
def gallery_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = GalleryForm(request.POST)
        if form.is_valid():
            gallery = gallery_create(owner=request.user, **form.cleaned_data)
            return redirect(gallery)
    else:
        form = GalleryForm()

    galleries = Gallery.objects.filter(owner=request.user).select_related("cover")
    ctx = {"form": form, "galleries": galleries}
    return render(request, "galleries/gallery_list.html", ctx)


def _board(request: HttpRequest, gallery: Gallery):
    items = gallery.items.select_related("generation").only(
        "id",
        "position",
        "gallery_id",
        "generation__id",
        "generation__prompt",
        "generation__status",
        "generation__settings",
        "generation__seed",
        "generation__video",
        "generation__poster",
    )
    return gallery_page(items, request.GET.get("page"), BOARD_PAGE_SIZE)


def _board_context(request: HttpRequest, gallery: Gallery) -> dict[str, object]:
    board = _board(request, gallery)
    # Cards build their links from these prefixes: reversing eight URLs for
    # each card was most of the page's render time.
    return {
        "gallery": gallery,
        "board": board,
        "last_position": board.paginator.count - 1,
        "item_base": reverse("galleries:detail", args=[gallery.pk]) + "items/",
        "clip_base": reverse("generations:detail", args=[UUID(int=0)]).removesuffix(
            f"{UUID(int=0)}/"
        ),
        "media_url": settings.MEDIA_URL,
    }


def _board_response(request: HttpRequest, gallery: Gallery) -> HttpResponse:
    ctx = _board_context(request, gallery)
    return render(request, "galleries/gallery_detail.html#board", ctx)


@login_required
def gallery_detail(request: HttpRequest, gallery_id: UUID) -> HttpResponse:
    gallery = get_object_or_404(Gallery, pk=gallery_id, owner=request.user)
    if request.htmx and request.GET.get("partial") == "board":
        return _board_response(request, gallery)

    ctx = {
        **_board_context(request, gallery),
        "form": GalleryForm(instance=gallery),
        **share_panel_context(request, gallery=gallery),
    }
    return render(request, "galleries/gallery_detail.html", ctx)


@login_required
def gallery_download(request: HttpRequest, gallery_id: UUID) -> HttpResponse:
    """The gallery's clips in board order, as one ZIP with their settings."""
    gallery = get_object_or_404(Gallery, pk=gallery_id, owner=request.user)
    items = gallery.items.select_related("generation").order_by("position")
    clips = [item.generation for item in items if item.generation.video]
    if not clips:
        messages.info(request, "This gallery has no clips to download yet.")
        return redirect(gallery)
    return FileResponse(
        clips_archive(generations=clips),
        as_attachment=True,
        filename=f"{file_stem(gallery.title, 'gallery')}.zip",
        content_type="application/zip",
    )


@login_required
@require_POST
def gallery_edit(request: HttpRequest, gallery_id: UUID) -> HttpResponse:
    gallery = get_object_or_404(Gallery, pk=gallery_id, owner=request.user)
    form = GalleryForm(request.POST, instance=gallery)
    if form.is_valid():
        gallery_update(gallery=gallery, **form.cleaned_data)
        return redirect(gallery)

    ctx = {
        **_board_context(request, gallery),
        "form": form,
        **share_panel_context(request, gallery=gallery),
    }
    return render(request, "galleries/gallery_detail.html", ctx, status=400)


@login_required
@require_POST
def gallery_delete_view(request: HttpRequest, gallery_id: UUID) -> HttpResponse:
    gallery = get_object_or_404(Gallery, pk=gallery_id, owner=request.user)
    gallery_delete(gallery=gallery)
    messages.success(request, f"“{gallery.title}” was deleted; its clips were kept.")
    return redirect("galleries:list")


def _own_item(request: HttpRequest, gallery_id: UUID, item_id: int) -> GalleryItem:
    return get_object_or_404(
        GalleryItem.objects.select_related("gallery"),
        pk=item_id,
        gallery_id=gallery_id,
        gallery__owner=request.user,
    )


def _back_to_board(request: HttpRequest, gallery: Gallery) -> HttpResponse:
    if request.htmx:
        return _board_response(request, gallery)
    page = request.POST.get("page") or request.GET.get("page")
    url = gallery.get_absolute_url()
    return redirect(f"{url}?page={page}" if page else url)


@login_required
@require_POST
def gallery_item_remove_view(
    request: HttpRequest, gallery_id: UUID, item_id: int
) -> HttpResponse:
    item = _own_item(request, gallery_id, item_id)
    gallery_item_remove(item=item)
    return _back_to_board(request, item.gallery)


@login_required
@require_POST
def gallery_item_move_view(
    request: HttpRequest, gallery_id: UUID, item_id: int
) -> HttpResponse:
    """Move by one (``direction`` up/down: the keyboard path) or to an exact
    ``position`` (where a card was dropped)."""
    item = _own_item(request, gallery_id, item_id)
    direction = request.POST.get("direction")
    if direction in ("up", "down"):
        target = item.position + (-1 if direction == "up" else 1)
    else:
        try:
            target = int(request.POST.get("position", ""))
        except ValueError:
            return HttpResponse("Say where to move the clip.", status=400)
    gallery_item_move(item=item, position=target)
    return _back_to_board(request, item.gallery)


@login_required
@require_POST
def gallery_item_cover(
    request: HttpRequest, gallery_id: UUID, item_id: int
) -> HttpResponse:
    item = _own_item(request, gallery_id, item_id)
    gallery_update(gallery=item.gallery, cover=item.generation)
    return _back_to_board(request, item.gallery)


def _own_clip(request: HttpRequest, generation_id: UUID) -> Generation:
    return get_object_or_404(
        Generation,
        pk=generation_id,
        owner=request.user,
        status=Generation.Status.SUCCEEDED,
    )


def _clip_actions_context(
    request: HttpRequest, generation: Generation, **extra: object
) -> dict[str, object]:
    galleries = Gallery.objects.filter(owner=request.user).only("id", "title")
    others = (
        Generation.objects.filter(
            owner=request.user, status=Generation.Status.SUCCEEDED
        )
        .exclude(pk=generation.pk)
        .only("id", "prompt", "seed")[:COMPARE_CHOICES]
    )
    ctx = {
        "generation": generation,
        "add_form": AddToGalleryForm(galleries=galleries),
        "verdict": video_verdict(settings.MEDIA_ROOT / generation.video),
        "formats": exports.FORMATS.values(),
        "watermark_default": settings.STUDIO_EXPORT_WATERMARK,
        "compare_choices": others,
        **share_panel_context(request, generation=generation),
    }
    ctx.update(extra)
    return ctx


@login_required
def clip_actions(request: HttpRequest, generation_id: UUID) -> HttpResponse:
    """Gallery, sharing, download, compare and credentials for one clip."""
    generation = _own_clip(request, generation_id)
    ctx = _clip_actions_context(request, generation)
    template = "galleries/clip_actions.html"
    if request.htmx:
        template += "#actions"
    return render(request, template, ctx)


@login_required
@require_POST
def clip_add(request: HttpRequest, generation_id: UUID) -> HttpResponse:
    generation = _own_clip(request, generation_id)
    galleries = Gallery.objects.filter(owner=request.user)
    form = AddToGalleryForm(request.POST, galleries=galleries)
    added_to = None
    if form.is_valid():
        gallery = form.cleaned_data["gallery"] or gallery_create(
            owner=request.user, title=form.cleaned_data["title"]
        )
        try:
            gallery_item_add(gallery=gallery, generation=generation)
        except NotAddable as exc:
            form.add_error(None, str(exc))
        else:
            added_to = gallery
            if not request.htmx:
                messages.success(request, f"Added to “{gallery.title}”.")
                return redirect(gallery)

    ctx = _clip_actions_context(request, generation, added_to=added_to)
    if added_to is None:
        ctx["add_form"] = form
    return render(request, "galleries/clip_actions.html#actions", ctx)


@login_required
def clip_download(request: HttpRequest, generation_id: UUID) -> FileResponse:
    generation = _own_clip(request, generation_id)
    key = request.GET.get("format", "mp4")
    if key not in exports.FORMATS:
        raise Http404
    flag = request.GET.get("watermark")
    watermark = settings.STUDIO_EXPORT_WATERMARK if flag is None else flag == "1"
    try:
        path = generation_export(generation=generation, key=key, watermark=watermark)
        stream = path.open("rb")
    except FileNotFoundError:
        # The row outlived its file (a media folder restored without it, or
        # cleaned by hand): nothing to send, and nothing for the server to fix.
        raise Http404("This clip's video is no longer on the server.") from None
    return FileResponse(
        stream,
        as_attachment=True,
        filename=download_name(generation, key),
        content_type=exports.FORMATS[key].content_type,
    )


@login_required
def clip_compare(request: HttpRequest) -> HttpResponse:
    """Two of the owner's clips side by side, playing in step."""
    ids = request.GET.getlist("clip")
    if len(ids) != 2:
        messages.error(request, "Pick exactly two clips to compare.")
        back = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts=None):
            back = reverse("galleries:list")
        return redirect(back)
    try:
        pks = [UUID(value) for value in ids]
    except ValueError:
        raise Http404 from None
    clips = {
        clip.pk: clip
        for clip in Generation.objects.filter(
            pk__in=pks, owner=request.user, status=Generation.Status.SUCCEEDED
        )
    }
    if len(clips) != len(set(pks)):
        raise Http404
    ctx = {"clips": [clips[pk] for pk in pks]}
    return render(request, "galleries/compare.html", ctx)
