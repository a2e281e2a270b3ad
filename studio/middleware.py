"""Form fields and query parameters that no database column can hold.

PostgreSQL refuses NUL characters in text, so a NUL typed into any field a
view reads directly (not through a Django form, whose fields already refuse
it) turned into a 500 there. This refuses them before any view runs, with the
same message as :mod:`studio.jsontext` gives for JSON bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError

from studio.jsontext import UNSTORABLE_TEXT

FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


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
