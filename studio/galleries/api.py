"""Galleries and their share links in the JSON API.

A route that names a gallery finds it before it reads the body, so someone
else's gallery is a 404 whatever the body says; an empty body reads as an
empty object, as it always has here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from ninja import Field, Path, Query, Status
from ninja.schema import NinjaGenerateJsonSchema
from pydantic import (
    BaseModel,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from studio.api import (
    ApiError,
    FieldErrors,
    RequestBody,
    Router,
    Schema,
    Uuid,
    parse_json,
    validate,
)
from studio.api.schemas import ErrorsByField
from studio.galleries import models, services
from studio.generations.models import Generation
from studio.numbers import MAX_ID, NumberError, query_whole
from studio.sharing.models import ShareLink as Link
from studio.sharing.requests import ShareInput
from studio.sharing.services import (
    share_link_create,
    share_link_revoke,
    share_url,
)

router = Router(tags=["Galleries"])

ITEMS_PER_PAGE = 100
MAX_TITLE_CHARS = models.Gallery._meta.get_field("title").max_length
MAX_DESCRIPTION_CHARS = models.Gallery._meta.get_field("description").max_length
NOT_BLANK = r"\S"
NO_CLIP = "No such clip."

# Times as Python writes them (2025-06-01T12:00:00.123456+00:00), as this API
# always has, rather than cut to milliseconds.
Time = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
# Read by the route, so a malformed id is "No such gallery." like any other.
GalleryId = Annotated[str, WithJsonSchema({"type": "string", "format": "uuid"})]
Key = Annotated[int, Path(ge=1, le=MAX_ID)]


# ------------------------------------------------------------------ answers


class Gallery(Schema):
    id: uuid.UUID
    title: str
    description: str
    show_prompts: bool
    cover: uuid.UUID | None = Field(description="The clip shown for the gallery.")
    created: Time
    updated: Time

    @staticmethod
    def resolve_cover(gallery: models.Gallery) -> uuid.UUID | None:
        return gallery.cover_id


class GalleryItem(Schema):
    id: int
    position: int
    generation: uuid.UUID
    prompt: str
    video_url: str
    poster_url: str

    @staticmethod
    def resolve_generation(item: models.GalleryItem) -> uuid.UUID:
        return item.generation_id

    @staticmethod
    def resolve_prompt(item: models.GalleryItem) -> str:
        return item.generation.prompt

    @staticmethod
    def resolve_video_url(item: models.GalleryItem) -> str:
        return item.generation.video_url

    @staticmethod
    def resolve_poster_url(item: models.GalleryItem) -> str:
        return item.generation.poster_url


class GalleryPage(Gallery):
    """A gallery with one page of its items."""

    # Made by gallery_page(), which hands the page over as context["page"].

    items: list[GalleryItem] = Field(description="In the gallery's order.")
    page: int
    pages: int
    count: int = Field(description="Items in the whole gallery.")

    @staticmethod
    def resolve_items(gallery: models.Gallery, context: dict[str, Any]) -> list:
        return list(context["page"])

    @staticmethod
    def resolve_page(gallery: models.Gallery, context: dict[str, Any]) -> int:
        return context["page"].number

    @staticmethod
    def resolve_pages(gallery: models.Gallery, context: dict[str, Any]) -> int:
        return context["page"].paginator.num_pages

    @staticmethod
    def resolve_count(gallery: models.Gallery, context: dict[str, Any]) -> int:
        return context["page"].paginator.count


class GalleryList(Schema):
    galleries: list[Gallery]


class ShareLink(Schema):
    id: int
    url: str = Field(description="Shown once; only its hash is kept.")
    label: str
    expires: Time | None


# ----------------------------------------------------------------- requests


def named_fields(data: Any) -> Any:
    # The API's sentences name the field they are about; "" has no name.
    if isinstance(data, dict) and "" in data:
        raise ValueError("Every field needs a name.")
    return data


class GalleryChanges(RequestBody):
    """The fields to change; those left out stay as they are."""

    title: str = Field(
        None, min_length=1, max_length=MAX_TITLE_CHARS, pattern=NOT_BLANK
    )
    description: str = Field(None, max_length=MAX_DESCRIPTION_CHARS)
    show_prompts: bool = Field(None, description="Show each clip's prompt to visitors.")
    cover: Uuid | None = Field(None, description="A clip in the gallery, or null.")

    @model_validator(mode="before")
    @classmethod
    def _named(cls, data: Any) -> Any:
        return named_fields(data)

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Any) -> Any:
        blank = not isinstance(value, str) or not value.strip()
        if blank or len(value) > MAX_TITLE_CHARS:
            raise ValueError(f"Give a title of 1 to {MAX_TITLE_CHARS} characters.")
        return value

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, value: Any) -> Any:
        if not isinstance(value, str) or len(value) > MAX_DESCRIPTION_CHARS:
            raise ValueError(f"At most {MAX_DESCRIPTION_CHARS} characters of text.")
        return value

    @field_validator("show_prompts", mode="before")
    @classmethod
    def _show_prompts(cls, value: Any) -> Any:
        if not isinstance(value, bool):
            raise ValueError("true or false.")
        return value

    @field_validator("cover", mode="before")
    @classmethod
    def _cover(cls, value: Any) -> uuid.UUID | None:
        return None if value is None else clip_id(value)


class GalleryInput(GalleryChanges):
    title: str = Field(min_length=1, max_length=MAX_TITLE_CHARS, pattern=NOT_BLANK)
    description: str = Field("", max_length=MAX_DESCRIPTION_CHARS)
    show_prompts: bool = Field(
        False, description="Show each clip's prompt to visitors."
    )
    # Not a field of a new gallery; named, it is refused with the reason.
    cover: SkipJsonSchema[Any] = None

    @model_validator(mode="before")
    @classmethod
    def _title_left_out(cls, data: Any) -> Any:
        if isinstance(data, dict) and "title" not in data:
            return {"title": None, **data}
        return data

    @field_validator("cover", mode="before")
    @classmethod
    def _cover(cls, value: Any) -> None:
        raise ValueError("Add clips first, then pick a cover.")


class Lenient(BaseModel):
    """A JSON object whose fields besides those declared are ignored, as
    these routes always have.

    A plain pydantic model, strict as a :class:`RequestBody` is: ninja's
    Schema, when it does not refuse unknown fields, reads a list or a number
    as an object that lacks them.
    """

    model_config = ConfigDict(strict=True, extra="ignore")


class ItemInput(Lenient):
    generation: Uuid = Field(description="A finished clip of yours.")

    @model_validator(mode="before")
    @classmethod
    def _generation_left_out(cls, data: Any) -> Any:
        if isinstance(data, dict) and "generation" not in data:
            return {"generation": None, **data}
        return data

    @field_validator("generation", mode="before")
    @classmethod
    def _generation(cls, value: Any) -> uuid.UUID:
        return clip_id(value)


class PageQuery(Schema):
    page: int = Field(
        1,
        ge=1,
        le=MAX_ID,
        description=f"{ITEMS_PER_PAGE} items a page; past the last, the last.",
    )

    @field_validator("page", mode="before")
    @classmethod
    def _page(cls, value: Any) -> int:
        try:
            return query_whole(
                {"page": value}, "page", label="Page", low=1, high=MAX_ID, default=1
            )
        except NumberError as exc:
            raise ValueError(str(exc)) from None


# ------------------------------------------------------------------ helpers


def clip_id(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValueError(NO_CLIP) from None


def json_body(schema: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of a route that reads its body itself."""
    document = schema.model_json_schema(schema_generator=NinjaGenerateJsonSchema)
    return {
        "required": required,
        "content": {"application/json": {"schema": document}},
    }


def read_body(request: HttpRequest, schema: type[Any]) -> Any:
    """The JSON body as ``schema`` reads it; an empty body is an empty object."""
    raw = request.body
    return validate(schema, parse_json(raw) if raw else {})


def own_gallery(request: HttpRequest, gallery_id: str) -> models.Gallery:
    try:
        pk = uuid.UUID(gallery_id)
    except ValueError:
        pk = None
    gallery = pk and models.Gallery.objects.filter(pk=pk, owner=request.user).first()
    if not gallery:
        raise ApiError(404, "No such gallery.")
    return gallery


def own_clip(request: HttpRequest, pk: uuid.UUID, field: str) -> Generation:
    clip = Generation.objects.filter(pk=pk, owner=request.user).first()
    if clip is None:
        raise FieldErrors({field: NO_CLIP})
    return clip


def gallery_page(gallery: models.Gallery, number: int) -> GalleryPage:
    items = gallery.items.select_related("generation")
    page: Page = Paginator(items, ITEMS_PER_PAGE).get_page(number)
    return GalleryPage.model_validate(gallery, context={"page": page})


# ------------------------------------------------------------------- routes


@router.get("/galleries", response=GalleryList, summary="Your galleries")
def gallery_list(request: HttpRequest) -> dict[str, Any]:
    return {"galleries": models.Gallery.objects.filter(owner=request.user)}


@router.post(
    "/galleries",
    response={201: Gallery, 400: ErrorsByField, 413: ErrorsByField},
    summary="Create a gallery",
    openapi_extra={"requestBody": json_body(GalleryInput)},
)
def gallery_create(request: HttpRequest) -> Status:
    fields = read_body(request, GalleryInput).model_dump(exclude={"cover"})
    return Status(201, services.gallery_create(owner=request.user, **fields))


@router.get(
    "/galleries/{id}",
    response=GalleryPage,
    summary="A gallery with one page of its items",
)
def gallery_detail(
    request: HttpRequest, id: GalleryId, query: Query[PageQuery]
) -> GalleryPage:
    return gallery_page(own_gallery(request, id), query.page)


@router.patch(
    "/galleries/{id}",
    response={200: GalleryPage, 400: ErrorsByField, 413: ErrorsByField},
    summary="Change the title, description, show_prompts or cover",
    openapi_extra={"requestBody": json_body(GalleryChanges, required=False)},
)
def gallery_update(
    request: HttpRequest, id: GalleryId, query: Query[PageQuery]
) -> GalleryPage:
    """Answers the gallery with the page of its items that ``page`` names."""
    gallery = own_gallery(request, id)
    fields = read_body(request, GalleryChanges).model_dump(exclude_unset=True)
    if fields.get("cover") is not None:
        fields["cover"] = own_clip(request, fields["cover"], "cover")
    try:
        services.gallery_update(gallery=gallery, **fields)
    except services.NotAddable as exc:
        raise FieldErrors({"cover": str(exc)}) from None
    return gallery_page(gallery, query.page)


@router.delete(
    "/galleries/{id}",
    response={204: None},
    summary="Delete a gallery (its clips stay in their projects)",
)
def gallery_delete(request: HttpRequest, id: GalleryId) -> HttpResponse:
    services.gallery_delete(gallery=own_gallery(request, id))
    return HttpResponse(status=204)


@router.post(
    "/galleries/{id}/items",
    response={201: GalleryItem, 400: ErrorsByField, 413: ErrorsByField},
    summary="Append a finished clip (or answer the item it already is)",
    openapi_extra={"requestBody": json_body(ItemInput)},
)
def gallery_item_add(request: HttpRequest, id: GalleryId) -> Status:
    gallery = own_gallery(request, id)
    pk = read_body(request, ItemInput).generation
    clip = own_clip(request, pk, "generation")
    try:
        item = services.gallery_item_add(gallery=gallery, generation=clip)
    except services.NotAddable as exc:
        raise FieldErrors({"generation": str(exc)}) from None
    return Status(201, item)


@router.delete(
    "/galleries/{id}/items/{id:item}",
    response={204: None},
    summary="Remove a clip from the gallery",
)
def gallery_item_remove(request: HttpRequest, id: GalleryId, item: Key) -> HttpResponse:
    try:
        gallery = own_gallery(request, id)
    except ApiError:
        raise ApiError(404, "No such item.") from None
    row = models.GalleryItem.objects.filter(pk=item, gallery=gallery).first()
    if row is None:
        raise ApiError(404, "No such item.")
    services.gallery_item_remove(item=row)
    return HttpResponse(status=204)


@router.post(
    "/galleries/{id}/shares",
    response={201: ShareLink, 400: ErrorsByField, 413: ErrorsByField},
    summary="Create a share link",
    openapi_extra={"requestBody": json_body(ShareInput, required=False)},
)
def gallery_share(request: HttpRequest, id: GalleryId) -> Status:
    """The link's URL is in this answer only: the studio keeps its hash."""
    gallery = own_gallery(request, id)
    share = read_body(request, ShareInput)
    link, token = share_link_create(
        owner=request.user,
        gallery=gallery,
        label=share.label,
        expires_in_hours=share.expires_in_hours,
    )
    url = request.build_absolute_uri(share_url(token))
    return Status(
        201, {"id": link.pk, "url": url, "label": link.label, "expires": link.expires}
    )


@router.delete(
    "/shares/{id:id}",
    response={204: None},
    summary="Revoke a share link: it answers 404 from then on",
)
def share_revoke(request: HttpRequest, id: Key) -> HttpResponse:
    """A link to a gallery, a clip or a storyboard."""
    link = Link.objects.filter(pk=id, owner=request.user).first()
    if link is None:
        raise ApiError(404, "No such share link.")
    share_link_revoke(link=link)
    return HttpResponse(status=204)
