"""Base classes and field types for request and response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Strict


class RequestBody(Schema):
    """A JSON body as JSON means it: ``"8"`` is not a number, ``1`` is not
    true, ``8.0`` is not a whole number, and a field the class does not
    declare is refused ("Unknown field.") rather than ignored.

    Strictness applies to every field; types that arrive as JSON strings
    (ids, dates) take the :data:`Uuid` and :data:`Moment` types below.
    """

    model_config = ConfigDict(strict=True, extra="forbid")


# A UUID or a date sent as a JSON string (strict fields want Python objects).
Uuid = Annotated[UUID, Strict(False)]
Moment = Annotated[datetime, Strict(False)]


class ErrorMessage(Schema):
    """``{"error": message}``: what went wrong, in one sentence."""

    error: str


class ErrorsByField(Schema):
    """``{"errors": {field: [message, ...]}}``; ``__all__`` for the request
    as a whole."""

    errors: dict[str, list[str]]


# What a route names in ``response={429: Error}``. The document calls it
# ErrorMessage: the hand-written schema's own, looser "Error" stays as it was
# for the routes that still refer to it.
Error = ErrorMessage
