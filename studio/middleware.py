"""Form bodies and query parameters that no view should be handed.

PostgreSQL refuses NUL characters in text, so a NUL typed into any field a
view reads directly (not through a Django form, whose fields already refuse
it) turned into a 500 there. This refuses them before any view runs, with the
same message as :mod:`studio.jsontext` gives for JSON bodies.

A form body Django cannot read would reach a view as an empty form, and the
view would answer "the prompt is empty" to an upload that never arrived; such a
body is refused with a sentence that says what happened instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError

from studio.jsontext import UNSTORABLE_TEXT

FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
UNREADABLE_FORM = (
    "The form could not be read: it was cut off or malformed. Send it again."
)
NO_LENGTH = (
    "Send the form with a Content-Length header: without one, its fields "
    "cannot be told from an empty form."
)


def _refusal(status: int, message: str, *, api: bool) -> HttpResponse:
    if api:
        return JsonResponse({"error": message}, status=status)
    return HttpResponse(
        message, status=status, content_type="text/plain; charset=utf-8"
    )


def _nul_field(data: QueryDict) -> str | None:
    for key, values in data.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return key.replace("\x00", "")[:40] or "__all__"
    return None


class RefuseNulCharacters:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        field = _nul_field(request.GET)
        # The JSON API reads its own bodies (and answers an oversized upload
        # itself, before anything parses it).
        api = request.path.startswith("/api/")
        if field is None and not api and request.content_type in FORMS:
            try:
                field = _nul_field(request.POST)
            except MultiPartParserError:
                return None  # the view answers a broken body as it would
        if field is None:
            return None
        if api:
            return JsonResponse({"errors": {field: [UNSTORABLE_TEXT]}}, status=400)
        return HttpResponse(
            UNSTORABLE_TEXT, status=400, content_type="text/plain; charset=utf-8"
        )


class RefuseUnreadableForms:
    """A form body Django cannot read is refused, not handed on as empty.

    Django takes a multipart body without a Content-Length (a chunked upload,
    passed on as it came by a server other than studio.server) for a form
    with no fields, and once its parser's error is caught, a malformed body
    for one too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if request.method != "POST" or request.content_type not in FORMS:
            return None
        api = request.path.startswith("/api/")
        multipart = request.content_type == "multipart/form-data"
        if multipart and not request.META.get("CONTENT_LENGTH"):
            return _refusal(411, NO_LENGTH, api=api)
        if api:
            return None  # API views read their own bodies, after their own checks
        try:
            request.POST  # noqa: B018  parsed here to catch its error
        except MultiPartParserError:
            return _refusal(400, UNREADABLE_FORM, api=False)
        return None
