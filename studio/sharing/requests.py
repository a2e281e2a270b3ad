"""The JSON body that makes a share link, the same for every target."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from studio.sharing.models import ShareLink
from studio.sharing.services import MAX_EXPIRY_HOURS

MAX_LABEL_CHARS = ShareLink._meta.get_field("label").max_length


class ShareInput(BaseModel):
    """How long a new link lasts and whom it is for. Strict as the API's
    other bodies (no number read from a string); other fields are ignored."""

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
