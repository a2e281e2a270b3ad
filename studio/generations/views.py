from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from uuid import UUID

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from studio.generations.models import Generation
from studio.generations.services import generation_cancel, generation_delete

RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@login_required
def generation_detail(request: HttpRequest, generation_id: UUID) -> HttpResponse:
    generation = get_object_or_404(Generation, pk=generation_id, owner=request.user)
    ctx = {"generation": generation, "spec": generation.spec}
    template = "generations/generation_detail.html"
    if request.htmx:
        template += "#player"
    return render(request, template, ctx)


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
def generation_delete_page(request: HttpRequest, generation_id: UUID) -> HttpResponse:
    generation = get_object_or_404(Generation, pk=generation_id, owner=request.user)
    project = generation.project
    generation_delete(generation=generation)
    if request.htmx:
        return HttpResponse("")
    return redirect(project or "projects:list")


def media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Serve a clip or poster to its owner only; anyone else gets a 404."""
    if not request.user.is_authenticated:
        raise Http404
    names = Q(video=path) | Q(poster=path)
    if path.endswith(".vtt"):
        # A rendered sequence's captions sit beside its video.
        names |= Q(video=path.removesuffix(".vtt") + ".mp4", settings__job="sequence")
    owned = Generation.objects.filter(names, owner=request.user).exists()
    file = (settings.MEDIA_ROOT / path).resolve()
    if not owned or not file.is_relative_to(settings.MEDIA_ROOT) or not file.is_file():
        raise Http404
    return _ranged_file(request, file)


def _ranged_file(request: HttpRequest, file: Path) -> HttpResponseBase:
    # Browsers seek in videos with Range requests; Safari insists on them.
    size = file.stat().st_size
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    match = RANGE.match(request.headers.get("Range", "").strip())
    if not match or not any(match.groups()):
        response = FileResponse(file.open("rb"), content_type=content_type)
        response["Accept-Ranges"] = "bytes"
        response["Cache-Control"] = "private, max-age=3600"
        return response
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    else:
        start, end = max(size - int(last), 0), size - 1
    if start > end or start >= size:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    with file.open("rb") as handle:
        handle.seek(start)
        body = handle.read(end - start + 1)
    response = HttpResponse(body, status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    return response
