"""The prompt library's JSON API: same auth and error shapes as /api/generations."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse

from generation import specs
from studio import jsontext
from studio.generations.api import api_view, error
from studio.numbers import NumberError, check_whole, page_and_size
from studio.prompts import services, transfer
from studio.prompts.expand import ExpansionError
from studio.prompts.models import Prompt, PromptVersion
from studio.prompts.search import SORTS, prompt_search
from studio.prompts.validation import (
    COACH_BOUNDS,
    COACH_DEFAULTS,
    clean_tags,
    validate_prompt,
)

MAX_BODY_BYTES = 256 * 1024
PAGE_SIZE = 20
MAX_PAGE_SIZE = 200


def _body(request: HttpRequest, limit: int = MAX_BODY_BYTES) -> tuple[Any, Any]:
    """The JSON body, or an error response to send instead."""
    too_large = error(413, f"The request body is over {limit // 1024:,} KiB.")
    try:
        if int(request.headers.get("Content-Length") or 0) > limit:
            return None, too_large
    except ValueError:
        return None, error(400, "Bad Content-Length.")
    # Read the stream directly: Django's own cap on request.body is smaller
    # than an import may be, and answers in HTML.
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return None, too_large
    try:
        return jsontext.loads(raw or b"null"), None
    except jsontext.JSONTextError as exc:
        return None, JsonResponse({"errors": {"__all__": [str(exc)]}}, status=400)


def _own_prompt(request: HttpRequest, prompt_id: int) -> Prompt | None:
    return (
        Prompt.objects.filter(pk=prompt_id, owner=request.user)
        .prefetch_related("tags")
        .first()
    )


def prompt_data(prompt: Prompt) -> dict[str, Any]:
    return {
        "id": prompt.pk,
        "title": prompt.title,
        "text": prompt.text,
        "negative_prompt": prompt.negative_prompt,
        "notes": prompt.notes,
        "tags": prompt.tag_names(),
        "rating": prompt.rating,
        "favourite": prompt.favourite,
        "created": prompt.created.isoformat(),
        "updated": prompt.updated.isoformat(),
        "url": prompt.get_absolute_url(),
    }


def version_data(version: PromptVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "title": version.title,
        "text": version.text,
        "negative_prompt": version.negative_prompt,
        "notes": version.notes,
        "tags": version.tags,
        "created": version.created.isoformat(),
    }


def _null_errors(data: Any) -> dict[str, list[str]]:
    """The importer reads null as empty; a client naming a field gives a value."""
    if not isinstance(data, dict):
        return {}
    return {
        str(name)[:40]: ["Give a value, or leave the field out."]
        for name, value in data.items()
        if value is None
    }


def _duplicate(exc: services.DuplicatePrompt) -> JsonResponse:
    return error(409, str(exc), duplicate_of=exc.existing.pk)


@api_view(["GET", "POST"])
def prompts(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        data, failure = _body(request)
        if failure:
            return failure
        cleaned, errors = validate_prompt(data)
        errors.update(_null_errors(data))
        if errors:
            return JsonResponse({"errors": errors}, status=400)
        try:
            prompt = services.prompt_create(owner=request.user, **cleaned)
        except services.DuplicatePrompt as exc:
            return _duplicate(exc)
        return JsonResponse(prompt_data(prompt), status=201)

    errors: dict[str, list[str]] = {}
    tags, problems = clean_tags(request.GET.getlist("tag"))
    if problems:
        errors["tag"] = problems
    sort = request.GET.get("sort", "")
    if "sort" in request.GET and sort not in SORTS:
        errors["sort"] = [f"Sort by one of: {', '.join(SORTS)}."]
    number, size, problems = page_and_size(
        request.GET, size=PAGE_SIZE, max_size=MAX_PAGE_SIZE
    )
    errors.update(problems)
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    found = prompt_search(
        Prompt.objects.filter(owner=request.user),
        query=request.GET.get("q", ""),
        tags=tags,
        favourites=request.GET.get("favourite") in ("1", "true"),
        sort=sort,
    ).prefetch_related("tags")
    page = Paginator(found, size).get_page(number)
    return JsonResponse(
        {
            "count": page.paginator.count,
            "page": page.number,
            "pages": page.paginator.num_pages,
            "results": [prompt_data(prompt) for prompt in page],
        }
    )


@api_view(["GET", "PATCH", "DELETE"])
def prompt_detail(request: HttpRequest, prompt_id: int) -> HttpResponse:
    prompt = _own_prompt(request, prompt_id)
    if prompt is None:
        return error(404, "No such prompt.")
    if request.method == "DELETE":
        services.prompt_delete(prompt=prompt)
        return HttpResponse(status=204)
    if request.method == "PATCH":
        data, failure = _body(request)
        if failure:
            return failure
        cleaned, errors = validate_prompt(data, partial=True)
        errors.update(_null_errors(data))
        if errors:
            return JsonResponse({"errors": errors}, status=400)
        try:
            prompt = services.prompt_update(prompt=prompt, **cleaned)
        except services.DuplicatePrompt as exc:
            return _duplicate(exc)
    data = prompt_data(prompt)
    data["clips"] = [
        str(pk) for pk in prompt.clips.values_list("generation", flat=True)
    ]
    return JsonResponse(data)


@api_view(["GET"])
def prompt_versions(request: HttpRequest, prompt_id: int) -> HttpResponse:
    prompt = _own_prompt(request, prompt_id)
    if prompt is None:
        return error(404, "No such prompt.")
    versions = [version_data(v) for v in prompt.versions.order_by("-number")]
    return JsonResponse({"count": len(versions), "results": versions})


@api_view(["GET"])
def library_export(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(transfer.library_export(owner=request.user))
    response["Content-Disposition"] = 'attachment; filename="prompt-library.json"'
    return response


@api_view(["POST"])
def library_import(request: HttpRequest) -> HttpResponse:
    data, failure = _body(request, transfer.MAX_IMPORT_BYTES)
    if failure:
        return failure
    try:
        summary = transfer.library_import(owner=request.user, data=data)
    except transfer.ImportRefused as exc:
        return error(400, str(exc), problems=exc.errors)
    return JsonResponse(summary)


def _text_field(data: Any) -> tuple[str | None, JsonResponse | None]:
    if not isinstance(data, dict):
        return None, JsonResponse(
            {"errors": {"__all__": ["Send a JSON object."]}}, status=400
        )
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        message = "Send the prompt text."
        return None, JsonResponse({"errors": {"text": [message]}}, status=400)
    if len(text) > specs.MAX_PROMPT_CHARS:
        message = f"Keep the prompt under {specs.MAX_PROMPT_CHARS:,} characters."
        return None, JsonResponse({"errors": {"text": [message]}}, status=400)
    return text, None


@api_view(["POST"])
def expand(request: HttpRequest) -> HttpResponse:
    data, failure = _body(request)
    if failure:
        return failure
    text, failure = _text_field(data)
    if failure:
        return failure
    try:
        expansion = services.prompt_expand(user=request.user, text=text)
    except ExpansionError as exc:
        return JsonResponse({"errors": {"text": [str(exc)]}}, status=400)
    return JsonResponse(
        {
            "variations": expansion.variations,
            "count": expansion.count,
            "truncated": expansion.truncated,
            "message": expansion.message,
        }
    )


def _frames_and_fps(data: dict) -> tuple[int, int, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    values = {}
    for name, label, (low, high) in (
        ("num_frames", "Frame count", COACH_BOUNDS["num_frames"]),
        ("fps", "Frame rate", COACH_BOUNDS["fps"]),
    ):
        value = data.get(name)
        if value is None:
            value = COACH_DEFAULTS[name]
        try:
            values[name] = check_whole(value, label=label, low=low, high=high)
        except NumberError as exc:
            errors[name] = [str(exc)]
            values[name] = COACH_DEFAULTS[name]
    return values["num_frames"], values["fps"], errors


@api_view(["POST"])
def coach(request: HttpRequest) -> HttpResponse:
    data, failure = _body(request)
    if failure:
        return failure
    text, failure = _text_field(data)
    if failure:
        return failure
    num_frames, fps, errors = _frames_and_fps(data)
    unknown = set(data) - {"text", "num_frames", "fps"}
    errors.update({str(k)[:40]: ["Unknown field."] for k in sorted(unknown)[:20]})
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    hints = services.prompt_coach(
        user=request.user, text=text, num_frames=num_frames, fps=fps
    )
    return JsonResponse({"hints": [hint.as_dict() for hint in hints]})
