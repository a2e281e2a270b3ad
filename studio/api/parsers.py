"""Reading request bodies: bounded before they are read, JSON the studio can store.

The length a client declares is checked once the request is authenticated and
before anything reads the body, so an anonymous client is told to log in
rather than that its body is too large, as every API route always answered,
and nothing reads a body past its limit. JSON goes through
:func:`studio.jsontext.loads`, which refuses NaN, Infinity, 1e999, NUL
characters and lone surrogates with a sentence.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

import pydantic
from django.http import HttpRequest
from ninja.decorators import decorate_view
from ninja.parser import Parser

from studio import jsontext
from studio.api.errors import ALL, TOO_LARGE, FieldErrors, field_errors

MAX_BODY_BYTES = 1024 * 1024
# Eighteen digits is already far past any limit; more is not worth reading.
_LENGTH = re.compile(r"[0-9]{1,18}")
BAD_LENGTH = "The Content-Length header must be a number of bytes."

S = TypeVar("S", bound=pydantic.BaseModel)


def body_limit_of(request: HttpRequest) -> int:
    return getattr(request, "studio_body_limit", MAX_BODY_BYTES)


def check_length(request: HttpRequest) -> None:
    """Refuse a declared body length that is unreadable or over the route's
    limit (:data:`MAX_BODY_BYTES` unless the route says otherwise)."""
    declared = (request.META.get("CONTENT_LENGTH") or "").strip()
    if not declared:
        return
    if not declared.isascii() or not declared.isdigit():
        raise FieldErrors({ALL: [BAD_LENGTH]})
    if not _LENGTH.fullmatch(declared) or int(declared) > body_limit_of(request):
        raise FieldErrors({ALL: [TOO_LARGE]}, status=413)


def body_limit(limit: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let one route take bodies up to ``limit`` bytes (uploads), instead of
    :data:`MAX_BODY_BYTES`. Put it under the route's decorator."""

    def set_limit(run: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(run)
        def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            request.studio_body_limit = limit  # type: ignore[attr-defined]
            return run(request, *args, **kwargs)

        return limited

    return decorate_view(set_limit)


def parse_json(raw: bytes | str) -> Any:
    """JSON text as Python values, or :class:`FieldErrors` saying what is wrong."""
    try:
        return jsontext.loads(raw)
    except jsontext.JSONTextError as exc:
        raise FieldErrors({ALL: [str(exc)]}) from None


def validate(schema: type[S], data: Any) -> S:
    """``data`` checked by ``schema``, or :class:`FieldErrors` in the API's
    sentences: for JSON a route reads itself (a multipart ``settings`` field)."""
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as exc:
        raise FieldErrors(field_errors(exc.errors(), schema)) from None


class JsonParser(Parser):
    """ninja's parser, with the studio's bounds and JSON rules."""

    def parse_body(self, request: HttpRequest) -> Any:
        body = request.body
        if len(body) > body_limit_of(request):
            # No Content-Length was declared (a chunked upload).
            raise FieldErrors({ALL: [TOO_LARGE]}, status=413)
        return parse_json(body)


__all__ = [
    "MAX_BODY_BYTES",
    "body_limit",
    "check_length",
    "parse_json",
    "validate",
]
