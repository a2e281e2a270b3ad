"""The prompt library's JSON API: search, save, edit and delete prompts, read
their versions, export and import the library, and expand or coach a prompt.

Each request field is checked in the words the library's forms and importer
use (:mod:`studio.prompts.validation`), so a creator reads the same sentence
wherever a value is refused.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Path, Query, Status
from ninja.decorators import decorate_view
from ninja.schema import NinjaGenerateJsonSchema
from pydantic import (
    BaseModel,
    ConfigDict,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from generation import specs
from generation.specs import MAX_PROMPT_CHARS
from studio.api import (
    ApiError,
    Error,
    FieldErrors,
    RequestBody,
    Router,
    Schema,
    body_limit,
    parse_json,
    validate,
)
from studio.api.schemas import ErrorsByField
from studio.numbers import MAX_ID, NumberError, check_whole, query_whole
from studio.prompts import models, services, transfer
from studio.prompts.expand import ExpansionError
from studio.prompts.models import MAX_NOTES_CHARS, MAX_TITLE_CHARS
from studio.prompts.search import MAX_QUERY_CHARS, SORTS, prompt_search
from studio.prompts.validation import (
    COACH_DEFAULTS,
    MAX_RATING,
    MAX_TAG_CHARS,
    MAX_TAGS,
    clean_rating,
    clean_tags,
    clean_text,
    title_from,
)

router = Router(tags=["Prompts"])

MAX_BODY_BYTES = 256 * 1024
PAGE_SIZE = 20
MAX_PAGE_SIZE = 200
# Comma-separated tags: as many as a list holds, each with its comma and space.
MAX_TAG_TEXT = MAX_TAGS * (MAX_TAG_CHARS + 2)
# At least one character that is not white space: blank text is refused.
NOT_BLANK = r"\S"
NULL = "Give a value, or leave the field out."
NO_TEXT = "Send the prompt text."
NO_PROMPT = "No such prompt."

Sort = Literal[tuple(SORTS)]
Tag = Annotated[str, Field(max_length=MAX_TAG_CHARS)]
Tags = (
    Annotated[list[Tag], Field(max_length=MAX_TAGS)]
    | Annotated[
        str, Field(max_length=MAX_TAG_TEXT, description="Comma-separated tags.")
    ]
)
# Times as Python writes them (2025-06-01T12:00:00.123456+00:00), as this API
# always has, rather than cut to milliseconds.
Time = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
PromptId = Annotated[int, Path(ge=1, le=MAX_ID)]


# ------------------------------------------------------------------ answers


class Prompt(Schema):
    id: int
    title: str
    text: str
    negative_prompt: str
    notes: str
    tags: list[str]
    rating: int
    favourite: bool
    created: Time
    updated: Time
    url: str = Field(description="The prompt's page in the library.")

    @staticmethod
    def resolve_tags(prompt: models.Prompt) -> list[str]:
        return prompt.tag_names()

    @staticmethod
    def resolve_url(prompt: models.Prompt) -> str:
        return prompt.get_absolute_url()


class PromptDetail(Prompt):
    clips: list[str] = Field(description="Ids of the clips made from the prompt.")

    @staticmethod
    def resolve_clips(prompt: models.Prompt) -> list[str]:
        return [str(pk) for pk in prompt.clips.values_list("generation", flat=True)]


class PromptPage(Schema):
    count: int
    page: int
    pages: int
    results: list[Prompt]


class PromptVersion(Schema):
    number: int
    title: str
    text: str
    negative_prompt: str
    notes: str
    tags: list[str]
    created: Time


class VersionList(Schema):
    count: int
    results: list[PromptVersion] = Field(description="Newest first.")


class Duplicate(Error):
    duplicate_of: int = Field(description="The prompt that already has this text.")


class LibraryPrompt(Schema):
    title: str
    text: str
    negative_prompt: str
    notes: str
    tags: list[str]
    rating: int
    favourite: bool
    created: Time
    updated: Time
    versions: list[PromptVersion] = Field(description="Oldest first.")


class LibraryCharacter(Schema):
    name: str
    kind: str
    description: str


class LibraryList(Schema):
    name: str
    options: list[str]


class LibraryStyle(Schema):
    name: str
    snippet: str
    negative_prompt: str


class Director(Schema):
    camera: str
    pacing: str
    look: str
    negative_prompt: str


class PromptLibrary(Schema):
    """The whole library: prompts with every version, characters, named
    lists, the creator's own styles and the director profile."""

    format: Literal[transfer.FORMAT]
    version: Literal[transfer.VERSION]
    exported: Time
    prompts: list[LibraryPrompt]
    characters: list[LibraryCharacter]
    lists: list[LibraryList]
    styles: list[LibraryStyle]
    director: Director | None


class Counts(Schema):
    prompts: int
    characters: int
    lists: int
    styles: int


class ImportSummary(Schema):
    imported: Counts
    skipped: Counts = Field(description="Already in the library: kept as they were.")


class ImportRefused(Error):
    problems: list[str] = Field(description="What is wrong, the first few.")


class Fix(Schema):
    label: str
    text: str = Field(description="The whole prompt after the fix.")


class Hint(Schema):
    code: str
    message: str
    fix: Fix | None = None


class Hints(Schema):
    hints: list[Hint]


class Expansion(Schema):
    variations: list[str] = Field(description="The first variations, in order.")
    count: int = Field(description="How many variations the prompt makes in all.")
    truncated: bool
    message: str


# ----------------------------------------------------------------- requests


def named_fields(data: Any) -> Any:
    # The API's sentences name the field they are about; "" has no name.
    if isinstance(data, dict) and "" in data:
        raise ValueError("Every field needs a name.")
    return data


def _given(value: Any) -> Any:
    # The importer reads null as empty; a client naming a field gives a value.
    if value is None:
        raise ValueError(NULL)
    return value


# Each text field: how a sentence names it, and its limit.
TEXTS = {
    "text": ("Text", MAX_PROMPT_CHARS),
    "title": ("Title", MAX_TITLE_CHARS),
    "negative_prompt": ("Negative prompt", MAX_PROMPT_CHARS),
    "notes": ("Notes", MAX_NOTES_CHARS),
}


def _clean(result: tuple[Any, list[str]]) -> Any:
    value, problems = result
    if problems:
        raise ValueError(problems[0])
    return value


class PromptChanges(RequestBody):
    """The fields to change; those left out stay as they are. A change to
    the text, title, negative prompt, notes or tags keeps a new version."""

    text: str = Field(
        None, min_length=1, max_length=MAX_PROMPT_CHARS, pattern=NOT_BLANK
    )
    title: str = Field(
        None, min_length=1, max_length=MAX_TITLE_CHARS, pattern=NOT_BLANK
    )
    negative_prompt: str = Field(None, max_length=MAX_PROMPT_CHARS)
    notes: str = Field(None, max_length=MAX_NOTES_CHARS)
    tags: Tags = None
    rating: int = Field(None, ge=0, le=MAX_RATING)
    favourite: bool = None  # type: ignore[assignment]

    NOT_EMPTY: ClassVar[tuple[str, ...]] = ("text", "title")

    @model_validator(mode="before")
    @classmethod
    def _named(cls, data: Any) -> Any:
        return named_fields(data)

    @field_validator(*TEXTS, mode="before")
    @classmethod
    def _texts(cls, value: Any, info: ValidationInfo) -> str:
        label, limit = TEXTS[info.field_name]
        required = info.field_name in cls.NOT_EMPTY
        return _clean(clean_text(_given(value), label, limit, required=required))

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> list[str]:
        if isinstance(_given(value), str) and len(value) > MAX_TAG_TEXT:
            raise ValueError(f"Keep the tags under {MAX_TAG_TEXT:,} characters.")
        return _clean(clean_tags(value))

    @field_validator("rating", mode="before")
    @classmethod
    def _rating(cls, value: Any) -> int:
        return _clean(clean_rating(_given(value)))

    @field_validator("favourite", mode="before")
    @classmethod
    def _favourite(cls, value: Any) -> Any:
        return _given(value)


class PromptInput(PromptChanges):
    """A prompt to save; without a title it is named by its opening words."""

    text: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS, pattern=NOT_BLANK)
    title: str = Field("", max_length=MAX_TITLE_CHARS)
    negative_prompt: str = Field("", max_length=MAX_PROMPT_CHARS)
    notes: str = Field("", max_length=MAX_NOTES_CHARS)
    tags: Tags = []
    rating: int = Field(0, ge=0, le=MAX_RATING)
    favourite: bool = False

    # Without a title, the prompt is named by its opening words.
    NOT_EMPTY: ClassVar[tuple[str, ...]] = ("text",)

    @model_validator(mode="before")
    @classmethod
    def _text_left_out(cls, data: Any) -> Any:
        # Left out, the text is refused in the words an empty one is.
        if isinstance(data, dict) and "text" not in data:
            return {"text": "", **data}
        return data

    @model_validator(mode="after")
    def _title_from_text(self) -> PromptInput:
        if not self.title:
            self.title = title_from(self.text)
        return self


class PromptSearch(Schema):
    q: str = Field(
        "",
        max_length=MAX_QUERY_CHARS,
        description="Words, matched as prefixes in titles, texts, notes and tags.",
    )
    tag: list[Tag] = Field(
        [], max_length=MAX_TAGS, description="Repeat to require several tags."
    )
    sort: Sort = Field(None, description="Left out: best matches first.")
    favourite: str = Field(
        "",
        # "false" is the longest word a client sends here.
        max_length=len("false"),
        description="1 or true: only favourites.",
    )
    page: int = Field(1, ge=1, le=MAX_ID, description="Past the last page: the last.")
    page_size: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)

    @field_validator("q", mode="before")
    @classmethod
    def _q(cls, value: Any) -> Any:
        if isinstance(value, str) and len(value) > MAX_QUERY_CHARS:
            raise ValueError(f"Search with at most {MAX_QUERY_CHARS} characters.")
        return value

    @field_validator("tag", mode="before")
    @classmethod
    def _tag(cls, value: Any) -> list[str]:
        return _clean(clean_tags(value))

    @field_validator("sort", mode="before")
    @classmethod
    def _sort(cls, value: Any) -> str:
        if value not in SORTS:
            raise ValueError(f"Sort by one of: {', '.join(SORTS)}.")
        return value

    @field_validator("page", "page_size", mode="before")
    @classmethod
    def _whole(cls, value: Any, info: ValidationInfo) -> int:
        name = info.field_name
        label, high = (
            ("Page", MAX_ID) if name == "page" else ("Page size", MAX_PAGE_SIZE)
        )
        try:
            return query_whole(
                {name: value}, name, label=label, low=1, high=high, default=1
            )
        except NumberError as exc:
            raise ValueError(str(exc)) from None


class PromptText(BaseModel):
    """A prompt's text; other fields are ignored.

    A plain pydantic model, strict as a :class:`RequestBody` is: ninja's
    Schema, when it does not refuse unknown fields, reads a list or a number
    as an object that lacks them.
    """

    model_config = ConfigDict(strict=True, extra="ignore")

    text: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS, pattern=NOT_BLANK)

    @model_validator(mode="before")
    @classmethod
    def _text_left_out(cls, data: Any) -> Any:
        if isinstance(data, dict) and "text" not in data:
            return {"text": None, **data}
        return data

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(NO_TEXT)
        if len(value) > MAX_PROMPT_CHARS:
            raise ValueError(f"Keep the prompt under {MAX_PROMPT_CHARS:,} characters.")
        return value


class CoachInput(PromptText):
    """A prompt's text and the clip it is for; left out or null, the clip is
    16 frames at 8 fps."""

    model_config = ConfigDict(extra="forbid")

    num_frames: int | None = Field(None, ge=specs.MIN_FRAMES, le=specs.MAX_FRAMES)
    fps: int | None = Field(None, ge=specs.MIN_FPS, le=specs.MAX_FPS)

    @model_validator(mode="before")
    @classmethod
    def _named(cls, data: Any) -> Any:
        return named_fields(data)

    @field_validator("num_frames", mode="before")
    @classmethod
    def _num_frames(cls, value: Any) -> int | None:
        return _optional_whole(value, "Frame count", specs.MIN_FRAMES, specs.MAX_FRAMES)

    @field_validator("fps", mode="before")
    @classmethod
    def _fps(cls, value: Any) -> int | None:
        return _optional_whole(value, "Frame rate", specs.MIN_FPS, specs.MAX_FPS)


def _optional_whole(value: Any, label: str, low: int, high: int) -> int | None:
    if value is None:
        return None
    try:
        return check_whole(value, label=label, low=low, high=high)
    except NumberError as exc:
        raise ValueError(str(exc)) from None


class LibraryUpload(Schema):
    """An export, as ``GET /api/prompts/export`` gives it; fields besides
    these are ignored. Checked whole before anything is written."""

    format: Literal[transfer.FORMAT]
    version: Literal[transfer.VERSION]
    prompts: list[dict[str, Any]] | None = Field(
        None, max_length=transfer.MAX_IMPORT_PROMPTS
    )
    characters: list[dict[str, Any]] | None = Field(
        None, max_length=transfer.MAX_IMPORT_OTHERS
    )
    lists: list[dict[str, Any]] | None = Field(
        None, max_length=transfer.MAX_IMPORT_OTHERS
    )
    styles: list[dict[str, Any]] | None = Field(
        None, max_length=transfer.MAX_IMPORT_OTHERS
    )
    director: dict[str, Any] | None = None


# ------------------------------------------------------------------ helpers


def too_large(limit: int) -> JsonResponse:
    message = f"The request body is over {limit // 1024:,} KiB."
    return JsonResponse({"error": message}, status=413)


def limit_body(limit: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Bodies up to ``limit`` bytes, and past it the answer the library's
    routes have always given: ``{"error": "The request body is over N KiB."}``."""

    def in_kib(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(run)
        def answered(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = run(request, *args, **kwargs)
            return too_large(limit) if response.status_code == 413 else response

        return answered

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        return body_limit(limit)(decorate_view(in_kib)(func))

    return decorate


def json_body(schema: type[Schema]) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of a route that reads its body itself."""
    document = schema.model_json_schema(schema_generator=NinjaGenerateJsonSchema)
    return {
        "required": True,
        "content": {"application/json": {"schema": document}},
    }


def own_prompt(request: HttpRequest, prompt_id: int) -> models.Prompt:
    prompt = (
        models.Prompt.objects.filter(pk=prompt_id, owner=request.user)
        .prefetch_related("tags")
        .first()
    )
    if prompt is None:
        raise ApiError(404, NO_PROMPT)
    return prompt


def duplicate(exc: services.DuplicatePrompt) -> Status:
    return Status(409, {"error": str(exc), "duplicate_of": exc.existing.pk})


# ------------------------------------------------------------------- routes


@router.get("/prompts", response=PromptPage, summary="Search the library")
def prompt_list(request: HttpRequest, query: Query[PromptSearch]) -> dict[str, Any]:
    """The creator's prompts matching every word and tag, best first (or in
    the order ``sort`` names)."""
    found = prompt_search(
        models.Prompt.objects.filter(owner=request.user),
        query=query.q,
        tags=query.tag,
        favourites=query.favourite in ("1", "true"),
        sort=query.sort or "",
    ).prefetch_related("tags")
    page = Paginator(found, query.page_size).get_page(query.page)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": list(page),
    }


@router.post(
    "/prompts",
    response={201: Prompt, 409: Duplicate, 413: Error},
    summary="Save a prompt",
)
@limit_body(MAX_BODY_BYTES)
def prompt_create(request: HttpRequest, payload: PromptInput) -> Any:
    """409 when the library already holds this text (ignoring case and
    spacing); ``duplicate_of`` names that prompt."""
    try:
        prompt = services.prompt_create(owner=request.user, **payload.model_dump())
    except services.DuplicatePrompt as exc:
        return duplicate(exc)
    return Status(201, prompt)


@router.get(
    "/prompts/{id:id}",
    response=PromptDetail,
    summary="One prompt, with the clips made from it",
)
def prompt_detail(request: HttpRequest, id: PromptId) -> models.Prompt:
    return own_prompt(request, id)


@router.patch(
    "/prompts/{id:id}",
    response={200: PromptDetail, 400: ErrorsByField, 409: Duplicate, 413: Error},
    summary="Edit a prompt; content changes keep a new version",
    openapi_extra={"requestBody": json_body(PromptChanges)},
)
@limit_body(MAX_BODY_BYTES)
def prompt_update(request: HttpRequest, id: PromptId) -> Any:
    prompt = own_prompt(request, id)
    # Read once the prompt is found: someone else's is a 404 whatever the body.
    raw = request.body
    data = parse_json(raw) if raw else None
    changes = validate(PromptChanges, data).model_dump(exclude_unset=True)
    try:
        return services.prompt_update(prompt=prompt, **changes)
    except services.DuplicatePrompt as exc:
        return duplicate(exc)


@router.delete(
    "/prompts/{id:id}", response={204: None}, summary="Delete a prompt and its history"
)
def prompt_delete(request: HttpRequest, id: PromptId) -> HttpResponse:
    services.prompt_delete(prompt=own_prompt(request, id))
    return HttpResponse(status=204)


@router.get("/prompts/{id:id}/versions", response=VersionList, summary="Every version")
def prompt_versions(request: HttpRequest, id: PromptId) -> dict[str, Any]:
    versions = list(own_prompt(request, id).versions.order_by("-number"))
    return {"count": len(versions), "results": versions}


@router.get(
    "/prompts/export", response=PromptLibrary, summary="The whole library as JSON"
)
def library_export(request: HttpRequest, response: HttpResponse) -> dict[str, Any]:
    response["Content-Disposition"] = 'attachment; filename="prompt-library.json"'
    return transfer.library_export(owner=request.user)


@router.post(
    "/prompts/import",
    response={
        200: ImportSummary,
        400: ImportRefused | ErrorsByField,
        413: Error,
    },
    summary=f"Import an export (at most {transfer.MAX_IMPORT_BYTES // 2**20} MiB)",
    openapi_extra={"requestBody": json_body(LibraryUpload)},
)
@limit_body(transfer.MAX_IMPORT_BYTES)
def library_import(request: HttpRequest) -> Any:
    """All or nothing: a refused import changes nothing, and ``problems``
    says why. What the library already has is skipped, not overwritten."""
    # Read from the stream: an import may be larger than Django lets
    # request.body hold.
    raw = request.read(transfer.MAX_IMPORT_BYTES + 1)
    if len(raw) > transfer.MAX_IMPORT_BYTES:
        return too_large(transfer.MAX_IMPORT_BYTES)
    data = parse_json(raw) if raw else None
    try:
        return transfer.library_import(owner=request.user, data=data)
    except transfer.ImportRefused as exc:
        return Status(400, {"error": str(exc), "problems": exc.errors})


@router.post(
    "/prompts/expand",
    response={200: Expansion, 413: Error},
    summary="Expand wildcards, named lists and characters",
)
@limit_body(MAX_BODY_BYTES)
def prompt_expand(request: HttpRequest, payload: PromptText) -> Any:
    """``{red|blue}`` choices, ``$list`` names and ``@character`` names, the
    creator's own; the variations are capped, ``count`` is all of them."""
    try:
        expansion = services.prompt_expand(user=request.user, text=payload.text)
    except ExpansionError as exc:
        raise FieldErrors({"text": [str(exc)]}) from None
    return expansion


@router.post(
    "/prompts/coach",
    response={200: Hints, 413: Error},
    exclude_unset=True,
    summary="Hints on a prompt",
)
@limit_body(MAX_BODY_BYTES)
def prompt_coach(request: HttpRequest, payload: CoachInput) -> dict[str, Any]:
    """Each hint may carry a fix: the whole prompt after one click."""
    num_frames = payload.num_frames or COACH_DEFAULTS["num_frames"]
    fps = payload.fps or COACH_DEFAULTS["fps"]
    hints = services.prompt_coach(
        user=request.user, text=payload.text, num_frames=num_frames, fps=fps
    )
    return {"hints": [hint.as_dict() for hint in hints]}
