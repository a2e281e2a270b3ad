"""The two error shapes of the JSON API, and the exceptions that make them.

Route code raises :class:`ApiError` for ``{"error": message}`` and
:class:`FieldErrors` for ``{"errors": {field: [message, ...]}}``; every other
failure a request can cause (a body too large or unreadable, a value of the
wrong type, a wrong path) is turned into one of the two here, with a sentence
a creator can act on. Pydantic's own messages ("Input should be a valid
integer") name types a creator never sees, so each error type is said again
in plain words, naming the field the client sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union, get_args, get_origin

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.http.request import UnreadablePostError
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import BaseModel

from studio.errors import MESSAGES
from studio.middleware import UNREADABLE_FORM

TOO_LARGE = "The request body is too large."
NOT_AN_OBJECT = "Send a JSON object."
LOG_IN = "Log in or send an API token."
ALL = "__all__"


class ApiError(Exception):
    """Answer ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FieldErrors(Exception):
    """Answer ``{"errors": {field: [message, ...]}}``, 400 unless told.

    A field's messages may be given as one string. ``"__all__"`` holds what
    is wrong with the request as a whole.
    """

    def __init__(
        self, errors: Mapping[str, str | Sequence[str]], status: int = 400
    ) -> None:
        self.errors = {
            field: [messages] if isinstance(messages, str) else list(messages)
            for field, messages in errors.items()
        }
        self.status = status
        super().__init__(self.errors)


def error_response(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def errors_response(errors: Mapping[str, list[str]], status: int = 400) -> JsonResponse:
    return JsonResponse({"errors": dict(errors)}, status=status)


def answer(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The response for anything a route or ninja raised; unknown faults go on
    to Django, whose handler answers JSON 500 under /api/."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.message)
    if isinstance(exc, FieldErrors):
        return errors_response(exc.errors, exc.status)
    if isinstance(exc, HttpError):
        # ninja wraps what a body parser raised; the parser's answer stands.
        cause = exc.__cause__
        if isinstance(cause, ApiError | FieldErrors):
            return answer(request, cause)
        if isinstance(exc, AuthenticationError):
            return error_response(401, LOG_IN)
        if exc.status_code == 400:
            return errors_response({ALL: [MESSAGES[400]]})
        return error_response(exc.status_code, str(exc))
    if isinstance(exc, NinjaValidationError):
        # Each place starts with where it was (body, query): the field follows.
        found = [{**e, "loc": tuple(e.get("loc", ()))[1:]} for e in exc.errors]
        return errors_response(field_errors(found))
    if isinstance(exc, Http404):
        return error_response(404, MESSAGES[404])
    if isinstance(exc, RequestDataTooBig):
        return errors_response({ALL: [TOO_LARGE]}, status=413)
    if isinstance(exc, MultiPartParserError | UnreadablePostError):
        return errors_response({ALL: [UNREADABLE_FORM]})
    if isinstance(exc, SuspiciousOperation):
        # Too many fields or files, a bad header: nothing a retry would fix.
        return errors_response({ALL: [MESSAGES[400]]})
    raise exc


# ---------------------------------------------------------------- validation


def field_errors(
    errors: Iterable[Mapping[str, Any]], model: type[BaseModel] | None = None
) -> dict[str, list[str]]:
    """Pydantic's errors as ``{field: [sentence]}``, one sentence per field.

    Each error's ``loc`` starts at the field the client sent ("text",
    "page"); deeper places ("shots", 0, "prompt") name the field they are
    in. ``model`` gives the fields' titles, which sentences use as names.
    """
    result: dict[str, list[str]] = {}
    for error in errors:
        loc = tuple(error.get("loc", ()))
        key = str(loc[0]) if loc else ALL
        if key not in result:
            result[key] = [sentence(error, loc, model)]
    return result


def sentence(
    error: Mapping[str, Any], loc: tuple[Any, ...], model: type[BaseModel] | None
) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    name = _name(loc, model)
    if not loc:
        if kind in ("model_type", "model_attributes_type", "dict_type", "missing"):
            return NOT_AN_OBJECT
        name = "The request"
    if kind in ("value_error", "assertion_error"):
        # A validator's own sentence, as written.
        return str(ctx.get("error", error.get("msg", "")))
    if kind == "missing":
        return "This field is required." if len(loc) == 1 else f"{name} is required."
    if kind == "extra_forbidden":
        return "Unknown field." if len(loc) == 1 else f"{name} is not a field here."
    template = _TEMPLATES.get(kind)
    if template is None:
        for prefix, shared in _FAMILIES.items():
            if kind.startswith(prefix):
                template = shared
                break
    if template is None:
        # A custom error (PydanticCustomError) carries its own sentence.
        message = str(error.get("msg", "is not valid"))
        return message if kind not in _PYDANTIC_WORDING else f"{name} is not valid."
    values = {key: _number(value) for key, value in ctx.items()}
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        template = "{name} can't be empty."
    if kind in ("too_short", "too_long"):
        count = ctx.get("min_length" if kind == "too_short" else "max_length")
        values["items"] = "item" if count == 1 else "items"
    return template.format(name=name, **values)


_TEMPLATES = {
    "int_type": "{name} must be a whole number.",
    "int_parsing": "{name} must be a whole number.",
    "int_from_float": "{name} must be a whole number.",
    "int_parsing_size": "{name} is far too large a number.",
    "float_type": "{name} must be a number.",
    "float_parsing": "{name} must be a number.",
    "finite_number": "{name} must be a finite number.",
    "decimal_type": "{name} must be a number.",
    "decimal_parsing": "{name} must be a number.",
    "string_type": "{name} must be text.",
    "string_sub_type": "{name} must be text.",
    "string_too_short": "{name} must be at least {min_length} characters.",
    "string_too_long": "{name} must be at most {max_length} characters.",
    "string_pattern_mismatch": "{name} is not in the form it takes.",
    "bool_type": "{name} must be true or false.",
    "bool_parsing": "{name} must be true or false.",
    "greater_than": "{name} must be more than {gt}.",
    "greater_than_equal": "{name} must be at least {ge}.",
    "less_than": "{name} must be less than {lt}.",
    "less_than_equal": "{name} must be at most {le}.",
    "multiple_of": "{name} must be a multiple of {multiple_of}.",
    "list_type": "{name} must be a list.",
    "tuple_type": "{name} must be a list.",
    "set_type": "{name} must be a list.",
    "too_short": "{name} must have at least {min_length} {items}.",
    "too_long": "{name} must have at most {max_length} {items}.",
    "dict_type": "{name} must be a JSON object.",
    "model_type": "{name} must be a JSON object.",
    "model_attributes_type": "{name} must be a JSON object.",
    "dataclass_type": "{name} must be a JSON object.",
    "literal_error": "{name} must be {expected}.",
    "enum": "{name} must be {expected}.",
    "none_required": "{name} must be null.",
    "json_invalid": "{name} is not valid JSON.",
    "is_instance_of": "{name} is not valid.",
}
_FAMILIES = {
    "uuid_": "{name} must be an id such as 3fa85f64-5717-4562-b3fc-2c963f66afa6.",
    "datetime_": "{name} must be a date and time such as 2025-06-01T12:00:00Z.",
    "date_": "{name} must be a date such as 2025-06-01.",
    "time_": "{name} must be a time such as 12:00:00.",
    "url_": "{name} must be a web address.",
    "union_tag_": "{name} is not one of the kinds it takes.",
}
# Built-in error types whose messages speak pydantic, not the studio.
_PYDANTIC_WORDING = frozenset(
    {"arguments_type", "callable_type", "frozen_field", "get_attribute_error",
     "no_such_attribute", "recursion_loop", "unexpected_keyword_argument"}
)  # fmt: skip


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _name(loc: tuple[Any, ...], model: type[BaseModel] | None) -> str:
    """How a sentence names the place ``loc``: a field's title or its name;
    "Item 2 of tags" inside a list."""
    parts: list[str] = []
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            parts.append(f"item {part + 1}")
            current = _item_type(current)
            continue
        title = None
        fields = getattr(current, "model_fields", None)
        if isinstance(fields, dict) and part in fields:
            title = fields[part].title
            current = _unwrap(fields[part].annotation)
        else:
            current = None
        parts.append(title or str(part).replace("_", " ") or "a field with no name")
    if not parts:
        return ""
    text = " of ".join(reversed(parts))
    return text[0].upper() + text[1:]


def _unwrap(annotation: Any) -> Any:
    """``X | None`` → X; other unions stay as they are (no one class to name)."""
    if get_origin(annotation) in (Union, type(int | None)):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return members[0] if len(members) == 1 else None
    return annotation


def _item_type(annotation: Any) -> Any:
    args = get_args(annotation)
    return _unwrap(args[-1]) if args else None
