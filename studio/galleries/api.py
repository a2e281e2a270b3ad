"""Galleries and share links in the JSON API (same auth as /api/generations)."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse

from studio import jsontext
from studio.galleries.models import Gallery, GalleryItem
from studio.galleries.services import (
    NotAddable,
    gallery_create,
    gallery_delete,
    gallery_item_add,
    gallery_item_remove,
    gallery_update,
)
from studio.generations.api import MAX_BODY_BYTES, api_view, error
from studio.generations.models import Generation
from studio.numbers import MAX_ID, NumberError, query_whole
from studio.sharing.models import ShareLink
from studio.sharing.services import (
    MAX_EXPIRY_HOURS,
    share_link_create,
    share_link_revoke,
    share_url,
)

ITEMS_PER_PAGE = 100
MAX_TITLE_CHARS = 120
MAX_DESCRIPTION_CHARS = 2000
MAX_LABEL_CHARS = 100


def _body(request: HttpRequest) -> tuple[dict[str, Any] | None, JsonResponse | None]:
    if int(request.headers.get("Content-Length") or 0) > MAX_BODY_BYTES:
        return None, JsonResponse(
            {"errors": {"__all__": ["The request body is too large."]}}, status=413
        )
    try:
        data = jsontext.loads(request.body or b"{}")
    except jsontext.JSONTextError as exc:
        return None, JsonResponse({"errors": {"__all__": [str(exc)]}}, status=400)
    if not isinstance(data, dict):
        return None, JsonResponse(
            {"errors": {"__all__": ["Send a JSON object."]}}, status=400
        )
    return data, None


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _own_gallery(request: HttpRequest, gallery_id: str) -> Gallery | None:
    pk = _uuid(gallery_id)
    if pk is None:
        return None
    return Gallery.objects.filter(pk=pk, owner=request.user).first()


def _item_state(item: GalleryItem) -> dict[str, Any]:
    generation = item.generation
    return {
        "id": item.pk,
        "position": item.position,
        "generation": str(generation.pk),
        "prompt": generation.prompt,
        "video_url": generation.video_url,
        "poster_url": generation.poster_url,
    }


def _gallery_state(gallery: Gallery) -> dict[str, Any]:
    return {
        "id": str(gallery.pk),
        "title": gallery.title,
        "description": gallery.description,
        "show_prompts": gallery.show_prompts,
        "cover": str(gallery.cover_id) if gallery.cover_id else None,
        "created": gallery.created.isoformat(),
        "updated": gallery.updated.isoformat(),
    }


def _validate_fields(data: dict[str, Any], *, partial: bool) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    known = {"title", "description", "show_prompts", "cover"}
    for name in set(data) - known:
        errors[name] = ["Unknown field."]
    if not partial or "title" in data:
        title = data.get("title")
        if (
            not isinstance(title, str)
            or not title.strip()
            or len(title) > MAX_TITLE_CHARS
        ):
            errors["title"] = [f"Give a title of 1 to {MAX_TITLE_CHARS} characters."]
    if "description" in data and (
        not isinstance(data["description"], str)
        or len(data["description"]) > MAX_DESCRIPTION_CHARS
    ):
        errors["description"] = [f"At most {MAX_DESCRIPTION_CHARS} characters of text."]
    if "show_prompts" in data and not isinstance(data["show_prompts"], bool):
        errors["show_prompts"] = ["true or false."]
    return errors


@api_view(["GET", "POST"])
def galleries(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        rows = Gallery.objects.filter(owner=request.user)
        return JsonResponse({"galleries": [_gallery_state(g) for g in rows]})

    data, problem = _body(request)
    if problem:
        return problem
    errors = _validate_fields(data, partial=False)
    if "cover" in data:
        errors["cover"] = ["Add clips first, then pick a cover."]
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    gallery = gallery_create(
        owner=request.user,
        title=data["title"],
        description=data.get("description", ""),
        show_prompts=data.get("show_prompts", False),
    )
    return JsonResponse(_gallery_state(gallery), status=201)


@api_view(["GET", "PATCH", "DELETE"])
def gallery_detail(request: HttpRequest, gallery_id: str) -> HttpResponse:
    gallery = _own_gallery(request, gallery_id)
    if gallery is None:
        return error(404, "No such gallery.")
    if request.method == "DELETE":
        gallery_delete(gallery=gallery)
        return HttpResponse(status=204)
    if request.method == "PATCH":
        data, problem = _body(request)
        if problem:
            return problem
        errors = _validate_fields(data, partial=True)
        fields = {k: v for k, v in data.items() if k != "cover"}
        if "cover" in data and "cover" not in errors:
            cover = None
            if data["cover"] is not None:
                pk = _uuid(data["cover"])
                cover = (
                    pk and Generation.objects.filter(pk=pk, owner=request.user).first()
                )
                if cover is None:
                    errors["cover"] = ["No such clip."]
            fields["cover"] = cover
        if errors:
            return JsonResponse({"errors": errors}, status=400)
        try:
            gallery_update(gallery=gallery, **fields)
        except NotAddable as exc:
            return JsonResponse({"errors": {"cover": [str(exc)]}}, status=400)

    try:
        number = query_whole(
            request.GET, "page", label="Page", low=1, high=MAX_ID, default=1
        )
    except NumberError as exc:
        return JsonResponse({"errors": {"page": [str(exc)]}}, status=400)
    items = gallery.items.select_related("generation")
    page = Paginator(items, ITEMS_PER_PAGE).get_page(number)
    state = _gallery_state(gallery)
    state["items"] = [_item_state(item) for item in page]
    state["page"] = page.number
    state["pages"] = page.paginator.num_pages
    state["count"] = page.paginator.count
    return JsonResponse(state)


@api_view(["POST"])
def gallery_items(request: HttpRequest, gallery_id: str) -> HttpResponse:
    gallery = _own_gallery(request, gallery_id)
    if gallery is None:
        return error(404, "No such gallery.")
    data, problem = _body(request)
    if problem:
        return problem
    pk = _uuid(data.get("generation"))
    generation = (
        Generation.objects.filter(pk=pk, owner=request.user).first() if pk else None
    )
    if generation is None:
        return JsonResponse({"errors": {"generation": ["No such clip."]}}, status=400)
    try:
        item = gallery_item_add(gallery=gallery, generation=generation)
    except NotAddable as exc:
        return JsonResponse({"errors": {"generation": [str(exc)]}}, status=400)
    return JsonResponse(_item_state(item), status=201)


@api_view(["DELETE"])
def gallery_item(request: HttpRequest, gallery_id: str, item_id: int) -> HttpResponse:
    gallery = _own_gallery(request, gallery_id)
    item = None
    if gallery is not None:
        item = GalleryItem.objects.filter(pk=item_id, gallery=gallery).first()
    if item is None:
        return error(404, "No such item.")
    gallery_item_remove(item=item)
    return HttpResponse(status=204)


@api_view(["POST"])
def gallery_shares(request: HttpRequest, gallery_id: str) -> HttpResponse:
    gallery = _own_gallery(request, gallery_id)
    if gallery is None:
        return error(404, "No such gallery.")
    data, problem = _body(request)
    if problem:
        return problem
    hours = data.get("expires_in_hours")
    label = data.get("label", "")
    errors: dict[str, list[str]] = {}
    if hours is not None and (
        isinstance(hours, bool)
        or not isinstance(hours, int | float)
        or not 0 < hours <= MAX_EXPIRY_HOURS
    ):
        errors["expires_in_hours"] = [
            f"A number of hours above 0 and up to {MAX_EXPIRY_HOURS}."
        ]
    if not isinstance(label, str) or len(label) > MAX_LABEL_CHARS:
        errors["label"] = [f"At most {MAX_LABEL_CHARS} characters of text."]
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    link, token = share_link_create(
        owner=request.user, gallery=gallery, label=label, expires_in_hours=hours
    )
    body = {
        "id": link.pk,
        "url": request.build_absolute_uri(share_url(token)),
        "label": link.label,
        "expires": link.expires.isoformat() if link.expires else None,
    }
    return JsonResponse(body, status=201)


@api_view(["DELETE"])
def share_detail(request: HttpRequest, link_id: int) -> HttpResponse:
    link = ShareLink.objects.filter(pk=link_id, owner=request.user).first()
    if link is None:
        return error(404, "No such share link.")
    share_link_revoke(link=link)
    return HttpResponse(status=204)
