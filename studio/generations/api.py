"""The JSON API: session or bearer-token auth, JSON in and out."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from studio import jsontext
from studio.accounts.services import api_token_user
from studio.generations.models import Generation
from studio.generations.schema import openapi_schema
from studio.generations.search import clean_filters, generation_search
from studio.generations.services import (
    QueueFull,
    generation_cancel,
    generation_delete,
    generation_star,
    generation_state,
    generation_submit,
)
from studio.generations.store import queue_positions
from studio.generations.uploads import (
    MAX_IMAGE_BYTES,
    MAX_VIDEO_BYTES,
    UploadError,
    store_image,
    store_video,
)
from studio.generations.validation import validate_api_settings
from studio.numbers import page_and_size
from studio.projects.models import Project

MAX_BODY_BYTES = 1024 * 1024
LIST_PAGE_SIZE = 50
MAX_LIST_PAGE_SIZE = 200
# Filters that name one thing: an empty value matches nothing a client meant.
EXACT_FILTERS = ("status", "project", "starred")
# A multipart request carries the settings as JSON plus an image or a video.
MAX_MULTIPART_BYTES = MAX_BODY_BYTES + MAX_IMAGE_BYTES + MAX_VIDEO_BYTES

View = Callable[..., HttpResponse]


def error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _csrf_failure(request: HttpRequest) -> HttpResponse | None:
    check = CsrfViewMiddleware(lambda r: HttpResponse())
    check.process_request(request)
    return check.process_view(request, lambda r: HttpResponse(), (), {})


def api_view(methods: list[str]) -> Callable[[View], View]:
    """Authenticate by bearer token or session; 401 as JSON otherwise.

    Session requests keep Django's CSRF check; token requests carry no cookie
    a third-party page could ride on, so they skip it.
    """

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = error(405, f"Use {' or '.join(methods)}.")
                response["Allow"] = ", ".join(methods)
                return response
            header = request.headers.get("Authorization", "")
            if header:
                scheme, _, token = header.partition(" ")
                user = api_token_user(token.strip()) if scheme == "Bearer" else None
                if user is None:
                    return error(401, "Invalid API token.")
                request.user = user
            elif not request.user.is_authenticated:
                return error(401, "Log in or send an API token.")
            elif request.method not in ("GET", "HEAD") and _csrf_failure(request):
                return error(403, "CSRF check failed.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _own_generation(request: HttpRequest, generation_id: str) -> Generation | None:
    # A malformed id is as unknown as a missing one, and answers in JSON too.
    try:
        pk = uuid.UUID(generation_id)
    except ValueError:
        return None
    return Generation.objects.filter(pk=pk, owner=request.user).first()


@api_view(["GET", "POST"])
def generations(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _generation_list(request)
    multipart = request.content_type == "multipart/form-data"
    limit = MAX_MULTIPART_BYTES if multipart else MAX_BODY_BYTES
    if int(request.headers.get("Content-Length") or 0) > limit:
        message = "The request body is too large."
        return JsonResponse({"errors": {"__all__": [message]}}, status=413)
    try:
        raw = request.POST.get("settings", "{}") if multipart else request.body
        data = jsontext.loads(raw or b"null")
    except jsontext.JSONTextError as exc:
        return JsonResponse({"errors": {"__all__": [str(exc)]}}, status=400)

    inputs, errors = _store_inputs(request) if multipart else ({}, {})
    spec = None
    if not errors:
        spec, errors = validate_api_settings(data, **inputs)
    project = None
    if isinstance(data, dict) and data.get("project") is not None:
        project = _own_project(request, data["project"])
        if project is None:
            errors["project"] = ["No such project."]
    if errors or spec is None:
        _discard(inputs)
        return JsonResponse({"errors": errors}, status=400)

    try:
        generation = generation_submit(user=request.user, spec=spec, project=project)
    except QueueFull as exc:
        _discard(inputs)
        return error(429, str(exc))
    return JsonResponse(generation_state(generation), status=201)


def _generation_list(request: HttpRequest) -> HttpResponse:
    """The creator's generations, newest first, filtered like the Clips page."""
    projects = Project.objects.filter(owner=request.user)
    filters, errors = clean_filters(request.GET, projects=projects)
    for name in EXACT_FILTERS:
        if request.GET.get(name) == "":
            errors[name] = ["Leave the filter out, or give it a value."]
    number, size, problems = page_and_size(
        request.GET, size=LIST_PAGE_SIZE, max_size=MAX_LIST_PAGE_SIZE
    )
    errors.update(problems)
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    found = generation_search(Generation.objects.filter(owner=request.user), **filters)
    page = Paginator(found, size).get_page(number)
    positions = queue_positions()
    return JsonResponse(
        {
            "count": page.paginator.count,
            "page": page.number,
            "pages": page.paginator.num_pages,
            "results": [generation_state(g, positions=positions) for g in page],
        }
    )


def _store_inputs(request: HttpRequest) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Check and re-encode an uploaded ``image`` or ``video``."""
    inputs: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(request.FILES) - {"image", "video"})
    if unknown:
        return {}, {name[:40]: ["Unknown upload."] for name in unknown[:5]}
    for field, store in (("image", store_image), ("video", store_video)):
        if field not in request.FILES:
            continue
        try:
            stored = store(request.FILES[field], owner_id=request.user.pk)
        except UploadError as exc:
            errors[field] = [str(exc)]
            continue
        inputs[f"{field}_path"] = str(stored.path)
        if field == "video":
            inputs["video_frames"] = stored.frames
    if errors:
        _discard(inputs)
        return {}, errors
    return inputs, errors


def _discard(inputs: dict[str, Any]) -> None:
    for key in ("image_path", "video_path"):
        if inputs.get(key):
            Path(inputs[key]).unlink(missing_ok=True)


def _own_project(request: HttpRequest, value: Any) -> Project | None:
    try:
        project_id = uuid.UUID(str(value))
    except ValueError:
        return None
    return Project.objects.filter(pk=project_id, owner=request.user).first()


@api_view(["GET", "PATCH", "DELETE"])
def generation_detail(request: HttpRequest, generation_id: str) -> HttpResponse:
    generation = _own_generation(request, generation_id)
    if generation is None:
        return error(404, "No such generation.")
    if request.method == "DELETE":
        # Cancels it first if it is still queued or running; its files go too.
        generation_delete(generation=generation)
        return HttpResponse(status=204)
    if request.method == "PATCH":
        errors = _patch(request, generation)
        if errors:
            return JsonResponse({"errors": errors}, status=400)
    return JsonResponse(generation_state(generation))


def _patch(request: HttpRequest, generation: Generation) -> dict[str, list[str]]:
    """Apply ``{"starred": bool}``, the one thing a finished clip's owner sets."""
    if int(request.headers.get("Content-Length") or 0) > MAX_BODY_BYTES:
        return {"__all__": ["The request body is too large."]}
    try:
        data = jsontext.loads(request.body or b"null")
    except jsontext.JSONTextError as exc:
        return {"__all__": [str(exc)]}
    if not isinstance(data, dict) or not data:
        return {"__all__": ['Send a JSON object such as {"starred": true}.']}
    errors = {
        str(key)[:40]: ["Only starred can be changed."]
        for key in list(data)[:5]
        if key != "starred"
    }
    if "starred" in data and not isinstance(data["starred"], bool):
        errors["starred"] = ["Starred is true or false."]
    if not errors:
        generation_star(generation=generation, starred=data["starred"])
    return errors


@api_view(["POST"])
def generation_cancel_view(request: HttpRequest, generation_id: str) -> HttpResponse:
    generation = _own_generation(request, generation_id)
    if generation is None:
        return error(404, "No such generation.")
    generation_cancel(generation=generation)
    generation.refresh_from_db()
    return JsonResponse(generation_state(generation))


def schema(request: HttpRequest) -> HttpResponse:
    return JsonResponse(openapi_schema())
