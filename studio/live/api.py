"""Live mode in the JSON API: a share link to the creator's live stream."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Status
from ninja.schema import NinjaGenerateJsonSchema
from pydantic import (
    PlainSerializer,
    WithJsonSchema,
)

from studio.api import Router, Schema, parse_json, validate
from studio.api.schemas import ErrorsByField
from studio.sharing.requests import ShareInput
from studio.sharing.services import share_link_create, share_url

router = Router(tags=["Live"])


Time = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class LiveShareLink(Schema):
    id: int
    url: str = Field(description="Shown once; only its hash is kept.")
    label: str
    expires: Time | None


def _body_schema() -> dict[str, Any]:
    document = ShareInput.model_json_schema(schema_generator=NinjaGenerateJsonSchema)
    return {"required": False, "content": {"application/json": {"schema": document}}}


@router.post(
    "/live/shares",
    response={201: LiveShareLink, 400: ErrorsByField, 413: ErrorsByField},
    summary="Create a share link to your live stream",
    openapi_extra={"requestBody": _body_schema()},
)
def live_share(request: HttpRequest) -> Status:
    """Anyone with the link watches your live stream whenever it runs, at
    ``/s/<token>/`` (and ``/ws/live/watch?share=<token>``). The URL is in this
    answer only: the studio keeps its hash. Revoke it with
    ``DELETE /api/shares/<id>``."""
    raw = request.body
    share = validate(ShareInput, parse_json(raw) if raw else {})
    link, token = share_link_create(
        owner=request.user,
        live=True,
        label=share.label,
        expires_in_hours=share.expires_in_hours,
    )
    url = request.build_absolute_uri(share_url(token))
    return Status(
        201, {"id": link.pk, "url": url, "label": link.label, "expires": link.expires}
    )
