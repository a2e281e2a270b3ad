"""Live mode in the JSON API: a share link to the creator's live stream."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Status
from ninja.schema import NinjaGenerateJsonSchema
from pydantic import (
    BaseModel,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)

from studio.api import Router, Schema, parse_json, validate
from studio.api.schemas import ErrorsByField
from studio.sharing.models import ShareLink as Link
from studio.sharing.services import MAX_EXPIRY_HOURS, share_link_create, share_url

router = Router(tags=["Live"])

MAX_LABEL_CHARS = Link._meta.get_field("label").max_length

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


class LiveShareInput(BaseModel):
    """Strict as the API's other bodies: no number read from a string."""

    model_config = ConfigDict(strict=True, extra="ignore")

    expires_in_hours: float | None = Field(
        None, gt=0, le=MAX_EXPIRY_HOURS, description="Left out or null: never."
    )
    label: str = Field("", max_length=MAX_LABEL_CHARS)

    @field_validator("expires_in_hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value <= MAX_EXPIRY_HOURS
        ):
            raise ValueError(f"A number of hours above 0 and up to {MAX_EXPIRY_HOURS}.")
        return value

    @field_validator("label", mode="before")
    @classmethod
    def _label(cls, value: Any) -> Any:
        if not isinstance(value, str) or len(value) > MAX_LABEL_CHARS:
            raise ValueError(f"At most {MAX_LABEL_CHARS} characters of text.")
        return value


def _body_schema() -> dict[str, Any]:
    document = LiveShareInput.model_json_schema(
        schema_generator=NinjaGenerateJsonSchema
    )
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
    share = validate(LiveShareInput, parse_json(raw) if raw else {})
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
