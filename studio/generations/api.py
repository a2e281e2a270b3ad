"""The generations JSON API: queue clips, find them, follow, star, cancel and
delete them. Requests are checked for shape here and by the engine for
everything else, through the one submit service."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, Literal
from uuid import UUID

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Status, UploadedFile
from ninja.decorators import decorate_view
from pydantic import WithJsonSchema, model_validator

from generation import specs
from generation.adapters.builtin import capabilities as builtin_capabilities
from generation.specs import GenerationSpec
from studio.api import (
    MAX_BODY_BYTES,
    ApiError,
    Error,
    FieldErrors,
    RequestBody,
    Router,
    Schema,
    Uuid,
    parse_json,
    validate,
)
from studio.api.parsers import JsonParser
from studio.generations.models import Generation
from studio.generations.search import (
    FILTER_STATUSES,
    MAX_QUERY_CHARS,
    generation_search,
)
from studio.generations.services import (
    ClipNotFinished,
    QueueFull,
    SubmitError,
    generation_cancel,
    generation_delete,
    generation_extend,
    generation_star,
    generation_state,
    submit,
)
from studio.generations.sound import SOUND_FIELD_SCHEMA
from studio.generations.store import queue_positions
from studio.generations.uploads import MAX_IMAGE_BYTES, MAX_VIDEO_BYTES
from studio.numbers import MAX_ID
from studio.projects.models import Project
from studio.registry.models import RegisteredModel

router = Router(tags=["Generations"])

LIST_PAGE_SIZE = 50
MAX_LIST_PAGE_SIZE = 200
# A multipart request carries the settings as JSON plus an image or a video.
MAX_MULTIPART_BYTES = MAX_BODY_BYTES + MAX_IMAGE_BYTES + MAX_VIDEO_BYTES
MAX_MODEL_CHARS = RegisteredModel._meta.get_field("name").max_length
DEFAULT_MODEL = GenerationSpec(prompt="").model
# The built-in model's rules, to say what a left-out setting becomes.
BUILTIN = builtin_capabilities()
UPLOADS = ("image", "video")


def _default(rule: str, value: object) -> str:
    return (
        f"Left out or null: the model's own default (`{rule}` in "
        f"`GET /api/models/{{name}}`); the built-in model's is {value}."
    )


# ------------------------------------------------------------------ requests


class GenerationIn(RequestBody):
    """A clip to render. These bounds are what every model shares; each
    model narrows them (`GET /api/models`) and a 400 says which rule a
    setting broke, in the model's words."""

    prompt: str = Field(
        min_length=1,
        max_length=specs.MAX_PROMPT_CHARS,
        title="The prompt",
        description=(
            "`{red|blue} ball` queues one clip per choice and `@name` puts in "
            "a saved character, as on the page."
        ),
    )
    negative_prompt: str | None = Field(
        None,
        max_length=specs.MAX_PROMPT_CHARS,
        title="The negative prompt",
        description="Left out or null: the one the model works best with.",
    )
    model: str = Field(
        DEFAULT_MODEL, min_length=1, max_length=MAX_MODEL_CHARS, title="The model"
    )
    num_frames: int | None = Field(
        None,
        ge=specs.MIN_FRAMES,
        le=specs.MAX_FRAMES,
        title="The number of frames",
        description=_default("capabilities.frames.default", BUILTIN.frames.default),
    )
    fps: int | None = Field(
        None,
        ge=specs.MIN_FPS,
        le=specs.MAX_FPS,
        title="The frame rate",
        description=_default("capabilities.fps.default", BUILTIN.fps.default),
    )
    width: int | None = Field(
        None,
        ge=specs.MIN_SIZE,
        le=specs.MAX_SIZE,
        title="The width",
        description=_default(
            "capabilities.size.default_width", BUILTIN.size.default_width
        ),
    )
    height: int | None = Field(
        None,
        ge=specs.MIN_SIZE,
        le=specs.MAX_SIZE,
        title="The height",
        description=_default(
            "capabilities.size.default_height", BUILTIN.size.default_height
        ),
    )
    steps: int | None = Field(
        None,
        ge=specs.MIN_STEPS,
        le=specs.MAX_STEPS,
        title="The number of steps",
        description=_default("capabilities.steps.default", BUILTIN.steps.default),
    )
    guidance: float | None = Field(
        None,
        ge=specs.MIN_GUIDANCE,
        le=specs.MAX_GUIDANCE,
        title="The guidance",
        description=_default("capabilities.guidance.default", BUILTIN.guidance.default),
    )
    seed: int | None = Field(
        None,
        ge=0,
        le=specs.MAX_SEED,
        title="The seed",
        description="Random when left out or null; always recorded.",
    )
    strength: float | None = Field(
        None,
        ge=specs.MIN_STRENGTH,
        le=specs.MAX_STRENGTH,
        title="The strength",
        description=(
            "Video→video: how much of the source video the model may change "
            "(1: all of it). Left out or null: the model's "
            "`capabilities.inputs.strength.default`."
        ),
    )
    project: Uuid | None = Field(None, title="The project")
    # Checked by the sound engine, whose sentence a 400 gives under "sound".
    sound: Annotated[Any, WithJsonSchema(SOUND_FIELD_SCHEMA)] = Field(
        None, title="The sound"
    )


class ExtendIn(RequestBody):
    """How to continue a finished clip: by how long, and with which prompt."""

    seconds: float = Field(
        ge=specs.MIN_EXTEND_SECONDS,
        le=specs.MAX_EXTEND_SECONDS,
        allow_inf_nan=False,
        title="The extension's length",
        description=(
            "Seconds; the extension gets the model's continuation nearest to "
            "this many frames at the clip's frame rate "
            "(`capabilities.extend` in `GET /api/models/{name}`)."
        ),
    )
    prompt: str | None = Field(
        None,
        max_length=specs.MAX_PROMPT_CHARS,
        title="The prompt",
        description="Left out, null or empty: the clip's own prompt.",
    )


class StarIn(RequestBody):
    """The one thing a client changes on a generation."""

    starred: bool

    @model_validator(mode="before")
    @classmethod
    def something_to_change(cls, data: Any) -> Any:
        if data == {}:
            raise ValueError('Send a JSON object such as {"starred": true}.')
        return data


def _no_default(schema: dict[str, Any]) -> None:
    # Left out is no filter; a query string has no null to send.
    schema.pop("default", None)


class Filters(Schema):
    """The Clips page's filters; a filter given empty is refused rather than
    read as no filter."""

    q: str = Field(
        "",
        max_length=MAX_QUERY_CHARS,
        title="The search",
        description="Words the prompt contains (all of them).",
    )
    status: Literal[tuple(FILTER_STATUSES)] = Field(
        None,
        json_schema_extra=_no_default,
        title="The status",
        description="Only this status; `active` is queued or running, oldest first.",
    )
    project: Uuid = Field(
        None,
        json_schema_extra=_no_default,
        title="The project",
        description="Only this project's.",
    )
    model: str = Field(
        "",
        max_length=MAX_MODEL_CHARS,
        title="The model",
        description="Only clips made with this model.",
    )
    starred: bool = Field(
        None,
        json_schema_extra=_no_default,
        title="Starred",
        description="Only starred clips (true) or unstarred ones (false).",
    )
    page: int = Field(
        1,
        ge=1,
        le=MAX_ID,
        title="The page",
        description="Page number; past the last page, the last page.",
    )
    page_size: int = Field(
        LIST_PAGE_SIZE,
        ge=1,
        le=MAX_LIST_PAGE_SIZE,
        title="The page size",
        description="Generations per page.",
    )


# ----------------------------------------------------------------- responses

# Times as the websocket's state message gives them: ISO 8601, as stored.
Isoformat = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


class ProgressOut(Schema):
    step: int
    steps: int
    elapsed: float | None = Field(None, description="Seconds so far, while running.")
    eta: float | None = Field(None, description="Seconds to go, while running.")


class GenerationOut(Schema):
    """A generation as `GET /api/generations/{id}` and the websocket's
    `state` message give it; the fields with defaults appear only when they
    apply."""

    id: UUID
    status: Literal[tuple(Generation.Status.values)]
    progress: ProgressOut
    position: int | None = Field(None, description="Place in line, while queued.")
    error: str | None = Field(None, description="Why it failed, for the creator.")
    video_url: str | None = Field(None, description="The MP4, once it succeeded.")
    poster_url: str | None = Field(None, description="Its first frame as an image.")
    captions_url: str | None = Field(
        None, description="A rendered storyboard's WebVTT captions."
    )
    seconds: float | None = Field(None, description="How long rendering took.")
    extends: UUID | None = Field(
        None, description="The clip this one continues (an extension)."
    )
    joined_url: str | None = Field(
        None,
        description=(
            "An extension's joined version: the clip it continues and this one "
            "as one MP4, made on first request."
        ),
    )
    settings: dict[str, Any]
    seed: int
    starred: bool
    project: UUID | None
    ws_url: str
    created: Isoformat
    started: Isoformat | None
    finished: Isoformat | None


class QueuedOut(Schema):
    id: UUID
    prompt: str
    ws_url: str


class GenerationCreated(GenerationOut):
    batch: list[QueuedOut] = Field(
        description=(
            "Every clip this request queued, this one first: a prompt with "
            "`{a|b}` choices makes one clip per variation."
        )
    )


class GenerationPage(Schema):
    count: int
    page: int
    pages: int
    results: list[GenerationOut]


# -------------------------------------------------------------------- routes


def _own_generation(request: HttpRequest, generation_id: UUID) -> Generation:
    generation = Generation.objects.filter(pk=generation_id, owner=request.user).first()
    if generation is None:
        raise ApiError(404, "No such generation.")
    return generation


@router.get(
    "/generations",
    response=GenerationPage,
    exclude_unset=True,
    summary="Your generations across projects, newest first",
)
def generation_list(request: HttpRequest, filters: Query[Filters]) -> dict[str, Any]:
    """Filtered like the Clips page; `status=active` lists the clips still on
    their way in the order they render."""
    project = None
    if filters.project is not None:
        project = Project.objects.filter(pk=filters.project, owner=request.user).first()
        if project is None:
            raise FieldErrors({"project": ["No such project."]})
    clips = generation_search(
        Generation.objects.filter(owner=request.user),
        query=filters.q.strip(),
        status=filters.status or "",
        project=project,
        model=filters.model.strip(),
        starred=filters.starred,
    )
    page = Paginator(clips, filters.page_size).get_page(filters.page)
    positions = queue_positions()
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": [generation_state(g, positions=positions) for g in page],
    }


def _upload_limit(run: Callable[..., Any]) -> Callable[..., Any]:
    """Uploads may be as large as the settings and both files together; a
    JSON body keeps the API's limit."""

    @functools.wraps(run)
    def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.content_type == "multipart/form-data":
            request.studio_body_limit = MAX_MULTIPART_BYTES  # type: ignore[attr-defined]
        return run(request, *args, **kwargs)

    return limited


def _both_forms() -> dict[str, Any]:
    """The request body's two forms: the settings as JSON, or as a JSON
    `settings` field beside the uploads (ninja documents that one)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": GenerationIn.model_json_schema()},
                "multipart/form-data": {"schema": {"required": ["settings"]}},
            },
        }
    }


@router.post(
    "/generations",
    response={201: GenerationCreated, 429: Error},
    exclude_unset=True,
    summary="Queue a generation",
    openapi_extra=_both_forms(),
)
@decorate_view(_upload_limit)
def generation_create(
    request: HttpRequest,
    settings: Annotated[
        str, Form(max_length=MAX_BODY_BYTES, description="GenerationIn as JSON.")
    ] = "{}",
    strength: Annotated[
        float | None,
        Form(
            ge=specs.MIN_STRENGTH,
            le=specs.MAX_STRENGTH,
            allow_inf_nan=False,
            title="The strength",
            description="Video→video: the strength, when settings leave it out.",
        ),
    ] = None,
    image: Annotated[
        UploadedFile | None,
        File(description="Image→video: the start image (PNG, JPEG or WebP)."),
    ] = None,
    video: Annotated[
        UploadedFile | None,
        File(description="Video→video: the source video (MP4, MOV or WebM)."),
    ] = None,
) -> Any:
    """A JSON body, or multipart form data for a model that starts from an
    image or restyles a video. Returns the first clip queued; a prompt with
    choices queues one clip for each. 429 when your queue is full."""
    if request.content_type == "multipart/form-data":
        payload = validate(GenerationIn, parse_json(settings))
        if strength is not None:
            if payload.strength is not None:
                raise FieldErrors(
                    {"strength": ["Give the strength once: in settings or beside it."]}
                )
            payload = payload.model_copy(update={"strength": strength})
        uploads = {name: request.FILES[name] for name in request.FILES}
    else:
        payload = validate(GenerationIn, JsonParser().parse_body(request))
        uploads = {}
    project = None
    if payload.project is not None:
        project = Project.objects.filter(pk=payload.project, owner=request.user).first()
        if project is None:
            raise FieldErrors({"project": ["No such project."]})
    try:
        queued = submit(
            request.user,
            settings=payload.model_dump(exclude_none=True, exclude={"project"}),
            project=project,
            uploads=uploads,
        )
    except SubmitError as exc:
        raise FieldErrors(exc.errors) from None
    except QueueFull as exc:
        raise ApiError(429, str(exc)) from None
    batch = [{"id": g.pk, "prompt": g.prompt, "ws_url": g.ws_url} for g in queued]
    return Status(201, {**generation_state(queued[0]), "batch": batch})


@router.get(
    "/generations/{id}",
    response=GenerationOut,
    exclude_unset=True,
    summary="A generation's status, progress and result",
)
def generation_detail(request: HttpRequest, id: UUID) -> dict[str, Any]:
    return generation_state(_own_generation(request, id))


@router.patch(
    "/generations/{id}",
    response=GenerationOut,
    exclude_unset=True,
    summary="Star or unstar a generation",
)
def generation_update(request: HttpRequest, id: UUID, payload: StarIn) -> Any:
    generation = _own_generation(request, id)
    generation_star(generation=generation, starred=payload.starred)
    return generation_state(generation)


@router.delete(
    "/generations/{id}",
    response={204: None},
    summary="Delete a generation and its files",
)
def generation_remove(request: HttpRequest, id: UUID) -> HttpResponse:
    """A queued or running generation is cancelled first."""
    generation_delete(generation=_own_generation(request, id))
    return HttpResponse(status=204)


@router.post(
    "/generations/{id}/cancel",
    response=GenerationOut,
    exclude_unset=True,
    summary="Cancel a queued or running generation",
)
def generation_cancel_route(request: HttpRequest, id: UUID) -> dict[str, Any]:
    """A queued one is cancelled at once; a running one stops at its next step."""
    generation = _own_generation(request, id)
    generation_cancel(generation=generation)
    generation.refresh_from_db()
    return generation_state(generation)


@router.post(
    "/generations/{id}/extend",
    response={201: GenerationCreated, 409: Error, 429: Error},
    exclude_unset=True,
    summary="Continue a finished clip",
)
def generation_extend_route(request: HttpRequest, id: UUID, payload: ExtendIn) -> Any:
    """Queue a new clip that continues this one from its last frames and
    plays right after it, with the clip's prompt or a new one. The built-in
    model and SkyReels-V2 models continue clips; 400 names the rule a
    request broke, 409 while the clip has not finished, 429 when your queue
    is full. The new clip's `joined_url` gives both as one MP4."""
    generation = _own_generation(request, id)
    try:
        extension = generation_extend(
            user=request.user,
            generation=generation,
            seconds=payload.seconds,
            prompt=payload.prompt,
        )
    except SubmitError as exc:
        raise FieldErrors(exc.errors) from None
    except ClipNotFinished as exc:
        raise ApiError(409, str(exc)) from None
    except QueueFull as exc:
        raise ApiError(429, str(exc)) from None
    batch = [{"id": extension.pk, "prompt": extension.prompt,
              "ws_url": extension.ws_url}]  # fmt: skip
    return Status(201, {**generation_state(extension), "batch": batch})
