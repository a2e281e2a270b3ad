"""The storyboards JSON API: storyboards, their shots, new takes, and the cut.

A route that names a storyboard finds it before it reads a body, so another
creator's storyboard is a 404 whatever was sent. A body is then checked in
two passes whose sentences come back together: its shape and bounds by the
request classes below, which are what the OpenAPI document shows; then the
rules that depend on the storyboard (whole frames at its fps, the models this
studio has) by the page's own forms.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import pydantic
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from ninja import Field, Status
from pydantic import ConfigDict, WithJsonSchema, field_validator

from generation import specs
from studio.api import (
    ApiError,
    Error,
    FieldErrors,
    RequestBody,
    Router,
    Schema,
    Uuid,
    parse_json,
)
from studio.api.errors import ALL, TOO_LARGE, field_errors
from studio.api.schemas import ErrorsByField
from studio.generations import sound as sound_settings
from studio.generations.models import Generation
from studio.generations.services import QueueFull, generation_state
from studio.generations.sound import SOUND_FIELD_SCHEMA
from studio.numbers import MAX_ID, parse_id
from studio.projects.models import Project
from studio.projects.services import project_create
from studio.storyboards import services
from studio.storyboards.forms import MAX_SHOT_SECONDS, ShotForm, StoryboardForm
from studio.storyboards.models import MAX_SHOTS, MAX_VOICE_CHARS, Shot, Storyboard, Take
from studio.storyboards.services import SoundSettingsError, StoryboardError

router = Router(tags=["Storyboards"])

MAX_LIST = 200
# The shot fields' names in the API, where the form's differ.
API_NAMES = {"kind": "type"}
FORM_NAMES = {"type": "kind"}
DEFAULT_KIND = Shot._meta.get_field("kind").default
# The storyboard form's rule for widths and heights.


def _chars(model: type, name: str) -> int:
    return model._meta.get_field(name).max_length


# Path parameters: any text, so that a malformed id is as unknown as
# another creator's (a 404 that names the storyboard or the shot).
StoryboardId = Annotated[str, WithJsonSchema({"type": "string", "format": "uuid"})]
ShotId = Annotated[
    str, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_ID})
]
Kind = Literal[tuple(Shot.Kind.values)]
Transition = Literal[tuple(Storyboard.Transition.values)]
GenerationStatus = Literal[tuple(Generation.Status.values)]
IsoTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
# Checked by the sound engine, whose sentence a 400 gives under "sound".
Sound = Annotated[Any, WithJsonSchema(SOUND_FIELD_SCHEMA)]
# At least one character that is not white space: blank text is refused.
NOT_BLANK = {"pattern": r"\S"}


# -- requests ---------------------------------------------------------------------


class StoryboardNew(RequestBody):
    title: str = Field(
        min_length=1,
        max_length=_chars(Storyboard, "title"),
        title="The title",
        json_schema_extra=NOT_BLANK,
    )
    project: Uuid | None = Field(
        None,
        description="Left out or null: your most recently changed project, "
        "or a new one.",
    )

    @field_validator("title")
    @classmethod
    def _title_given(cls, title: str) -> str:
        if not title.strip():
            raise ValueError("Give the storyboard a title.")
        return title


def _unset_is_unchanged(schema: dict[str, Any]) -> None:
    # A field left out keeps its value; null is not a value it takes.
    for field in schema.get("properties", {}).values():
        if "default" in field and field["default"] is None:
            del field["default"]


class Changes(RequestBody):
    """Fields to change: each one left out keeps its value."""

    model_config = ConfigDict(json_schema_extra=_unset_is_unchanged)


class StoryboardChanges(Changes):
    """The settings to change; the others keep theirs. Every take of every
    shot is made with them."""

    title: str = Field(
        None,
        min_length=1,
        max_length=_chars(Storyboard, "title"),
        title="The title",
        json_schema_extra=NOT_BLANK,
    )
    style: str = Field(
        None,
        max_length=_chars(Storyboard, "style"),
        description="Added to every shot's prompt.",
    )
    negative_prompt: str = Field(None, max_length=_chars(Storyboard, "negative_prompt"))
    model: str = Field(
        None,
        max_length=_chars(Storyboard, "model"),
        description="A model's name, from GET /api/models.",
    )
    fps: int = Field(None, ge=specs.MIN_FPS, le=specs.MAX_FPS)
    width: int = Field(None, ge=specs.MIN_SIZE, le=specs.MAX_SIZE)
    height: int = Field(None, ge=specs.MIN_SIZE, le=specs.MAX_SIZE)
    steps: int = Field(None, ge=specs.MIN_STEPS, le=specs.MAX_STEPS)
    guidance: float = Field(None, ge=specs.MIN_GUIDANCE, le=specs.MAX_GUIDANCE)
    transition: Transition = None
    burn_captions: bool = None
    sound: Sound = Field(
        None,
        description="The sound renders get: music, effects and the shots' "
        "spoken lines. null: none (an uploaded soundtrack still plays).",
    )


class ShotChanges(Changes):
    """The fields to change; the others keep theirs."""

    type: Kind = None
    prompt: str = Field(
        None,
        min_length=1,
        max_length=_chars(Shot, "prompt"),
        json_schema_extra=NOT_BLANK,
    )
    duration: float = Field(
        None,
        gt=0,
        le=MAX_SHOT_SECONDS,
        description="Seconds; a whole number of frames at the storyboard's fps, "
        f"{specs.MIN_FRAMES} to {specs.MAX_FRAMES} frames.",
    )
    caption: str = Field(
        None,
        max_length=_chars(Shot, "caption"),
        description="Shown under the shot in the cut's captions.",
    )
    notes: str = Field(None, max_length=_chars(Shot, "notes"))
    voice_line: str = Field(
        None,
        max_length=MAX_VOICE_CHARS,
        description="Spoken over the shot when the cut renders with voice on "
        "(voice-over, or `voice_character`'s dialogue); the captions follow it. "
        "Empty: nothing is said.",
    )
    voice_character: str | None = Field(
        None,
        max_length=100,
        description="The name of one of your characters (as in `@mia`), who "
        "speaks the line in their own voice; null: the narrator.",
    )
    voice_start: float = Field(
        None,
        ge=0,
        le=MAX_SHOT_SECONDS,
        description="Seconds into the shot when the line starts; before the shot ends.",
    )
    order: int = Field(
        None,
        ge=1,
        le=MAX_SHOTS,
        description="1-based position; past the end means last.",
    )


class ShotNew(ShotChanges):
    type: Kind = DEFAULT_KIND
    prompt: str = Field(
        min_length=1, max_length=_chars(Shot, "prompt"), json_schema_extra=NOT_BLANK
    )
    duration: float = Field(
        gt=0,
        le=MAX_SHOT_SECONDS,
        description="Seconds; a whole number of frames at the storyboard's fps, "
        f"{specs.MIN_FRAMES} to {specs.MAX_FRAMES} frames.",
    )


# The storyboard's settings its form checks (sound is the sound engine's).
FORM_SETTINGS = [name for name in StoryboardChanges.model_fields if name != "sound"]


# -- answers ----------------------------------------------------------------------


class ShotTakeOut(Schema):
    number: int
    generation: uuid.UUID
    status: GenerationStatus
    video_url: str = Field(description="Empty until the take has finished.")


class ChoiceOut(Schema):
    label: str
    target: int | None = Field(description="null once its shot is deleted.")


class ShotOut(Schema):
    id: int
    order: int
    type: Kind
    prompt: str
    duration: float
    caption: str
    notes: str
    voice_line: str
    voice_character: str | None = Field(
        description="Who speaks the line; null: the narrator."
    )
    voice_start: float
    takes: list[ShotTakeOut]
    take: uuid.UUID | None = Field(
        description="The generation the cut uses: the chosen take if it "
        "finished, else the newest finished one."
    )
    choices: list[ChoiceOut]


class ShotList(Schema):
    shots: list[ShotOut]


class StoryboardBrief(Schema):
    id: uuid.UUID
    project: uuid.UUID
    url: str = Field(description="The storyboard's page.")
    created: IsoTime
    updated: IsoTime
    title: str
    style: str
    negative_prompt: str
    model: str
    fps: int
    width: int
    height: int
    steps: int
    guidance: float
    transition: Transition
    burn_captions: bool
    soundtrack: str | None = Field(description="The soundtrack's file name.")
    sound: dict[str, Any] | None = Field(
        description="The sound settings renders get; null: none."
    )


class StoryboardOut(StoryboardBrief):
    shots: list[ShotOut]
    # A whole number when it is one, as the shots' sum gives it.
    duration: Annotated[int | float, WithJsonSchema({"type": "number"})] = Field(
        description="Seconds, every shot together."
    )


class StoryboardList(Schema):
    storyboards: list[StoryboardBrief]


class TakeOut(Schema):
    """A take queued: a generation like any other, to follow at
    /api/generations/{generation} or on the websocket at ws_url."""

    shot: int
    number: int = Field(description="The take's number within its shot.")
    generation: uuid.UUID
    status: GenerationStatus
    ws_url: str


class TakesOut(Schema):
    generations: list[uuid.UUID] = Field(description="The takes' generations.")
    takes: list[TakeOut]


class ProgressOut(Schema):
    model_config = ConfigDict(extra="allow")

    step: int
    steps: int
    elapsed: float | None = None
    eta: float | None = None


class RenderOut(Schema):
    """The render job: a generation like any other (see GET
    /api/generations/{id}), whose clip is the cut."""

    model_config = ConfigDict(extra="allow")

    id: uuid.UUID
    status: GenerationStatus
    progress: ProgressOut
    settings: dict[str, Any]
    seed: int
    starred: bool
    project: uuid.UUID | None
    ws_url: str
    created: IsoTime
    started: IsoTime | None
    finished: IsoTime | None
    position: int | None = None
    error: str | None = None
    video_url: str | None = None
    poster_url: str | None = None
    seconds: float | None = None
    captions_url: str | None = Field(None, description="The cut's WebVTT captions.")
    storyboard: uuid.UUID


def _json_body(schema: type[RequestBody]) -> dict[str, Any]:
    """The OpenAPI of a JSON body a route reads itself, with its 400 and 413."""

    def errors(description: str) -> dict[str, Any]:
        ref = {"$ref": f"#/components/schemas/{ErrorsByField.__name__}"}
        return {
            "description": description,
            "content": {"application/json": {"schema": ref}},
        }

    content = {"application/json": {"schema": schema.model_json_schema()}}
    return {
        "requestBody": {"required": True, "content": content},
        "responses": {
            400: errors("Invalid fields: {errors: {field: [message]}}."),
            413: errors(TOO_LARGE),
        },
    }


# -- reading requests ---------------------------------------------------------------


def _storyboard_of(request: HttpRequest, storyboard_id: str) -> Storyboard | None:
    try:
        pk = uuid.UUID(storyboard_id)
    except ValueError:
        return None
    return (
        Storyboard.objects.select_related("project")
        .filter(pk=pk, owner=request.user)
        .first()
    )


def _own_storyboard(request: HttpRequest, storyboard_id: str) -> Storyboard:
    board = _storyboard_of(request, storyboard_id)
    if board is None:
        raise ApiError(404, "No such storyboard.")
    return board


def _own_shot(request: HttpRequest, storyboard_id: str, shot_id: str) -> Shot:
    board = _storyboard_of(request, storyboard_id)
    pk = parse_id(shot_id)
    shot = None
    if board is not None and pk is not None:
        shot = services.shots_with_takes(board).filter(pk=pk).first()
    if shot is None:
        raise ApiError(404, "No such shot.")
    return shot


def _read(
    request: HttpRequest, schema: type[RequestBody]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The body's fields that ``schema`` accepts, and sentences for the rest."""
    data = parse_json(request.body or b"{}")
    try:
        return schema.model_validate(data).model_dump(exclude_unset=True), {}
    except pydantic.ValidationError as exc:
        errors = field_errors(exc.errors(), schema)
    if ALL in errors or not isinstance(data, dict):
        raise FieldErrors(errors)
    fields = schema.model_fields
    return {k: v for k, v in data.items() if k in fields and k not in errors}, errors


def _add_form_errors(errors: dict[str, list[str]], form: Any) -> None:
    # A field the first pass refused has its sentence already.
    for name, messages in form.errors.items():
        errors.setdefault(API_NAMES.get(name, name), [str(m) for m in messages])


def _project_for(request: HttpRequest, project_id: uuid.UUID | None) -> Project:
    if project_id is None:
        project = (
            Project.objects.filter(owner=request.user, archived=False)
            .order_by("-updated")
            .first()
        )
        return project or project_create(owner=request.user, name="Storyboards")
    project = Project.objects.filter(pk=project_id, owner=request.user).first()
    if project is None:
        raise FieldErrors({"project": ["No such project."]})
    return project


# -- answers ------------------------------------------------------------------------


def shot_json(shot: Shot) -> dict[str, Any]:
    take = shot.used_take()
    return {
        "id": shot.pk,
        "order": shot.order,
        "type": shot.kind,
        "prompt": shot.prompt,
        "duration": shot.duration,
        "caption": shot.caption,
        "notes": shot.notes,
        "voice_line": shot.voice_line,
        "voice_character": shot.voice_character.name if shot.voice_character else None,
        "voice_start": shot.voice_start,
        "takes": [
            {
                "number": t.number,
                "generation": t.generation_id,
                "status": t.generation.status,
                "video_url": t.generation.video_url,
            }
            for t in shot.takes.all()
        ],
        "take": take.generation_id if take else None,
        "choices": [
            {"label": c.label, "target": c.target_id} for c in shot.choices.all()
        ],
    }


def storyboard_json(storyboard: Storyboard, *, shots: bool = False) -> dict[str, Any]:
    data = {
        "id": storyboard.pk,
        "project": storyboard.project_id,
        "url": storyboard.get_absolute_url(),
        "created": storyboard.created.isoformat(),
        "updated": storyboard.updated.isoformat(),
        **{name: getattr(storyboard, name) for name in StoryboardChanges.model_fields},
        "soundtrack": storyboard.soundtrack_name or None,
        "sound": storyboard.sound or None,
    }
    if shots:
        items = list(services.shots_with_takes(storyboard))
        data["shots"] = [shot_json(shot) for shot in items]
        data["duration"] = sum(shot.duration for shot in items)
    return data


def take_json(take: Take) -> dict[str, Any]:
    return {
        "shot": take.shot_id,
        "number": take.number,
        "generation": take.generation_id,
        "status": take.generation.status,
        "ws_url": take.generation.ws_url,
    }


# -- storyboards --------------------------------------------------------------------


@router.get("/storyboards", response=StoryboardList, summary="Your storyboards")
def storyboard_list(request: HttpRequest) -> dict[str, Any]:
    """The newest-changed first, without their shots; at most 200."""
    items = Storyboard.objects.filter(owner=request.user)[:MAX_LIST]
    return {"storyboards": [storyboard_json(s) for s in items]}


@router.post(
    "/storyboards", response={201: StoryboardOut}, summary="Create a storyboard"
)
def storyboard_create(request: HttpRequest, payload: StoryboardNew) -> Status:
    project = _project_for(request, payload.project)
    board = services.storyboard_create(
        owner=request.user, project=project, title=payload.title
    )
    return Status(201, storyboard_json(board, shots=True))


@router.get(
    "/storyboards/{storyboard_id}", response=StoryboardOut, summary="A storyboard"
)
def storyboard_detail(request: HttpRequest, storyboard_id: StoryboardId) -> Any:
    """The storyboard with its shots in order, their takes and choices."""
    return storyboard_json(_own_storyboard(request, storyboard_id), shots=True)


@router.patch(
    "/storyboards/{storyboard_id}",
    response=StoryboardOut,
    summary="Change a storyboard's settings",
    openapi_extra=_json_body(StoryboardChanges),
)
def storyboard_update(request: HttpRequest, storyboard_id: StoryboardId) -> Any:
    board = _own_storyboard(request, storyboard_id)
    sent, errors = _read(request, StoryboardChanges)
    sound = None
    if "sound" in sent:
        sound, problem = sound_settings.check(sent.pop("sound"))
        if problem:
            errors["sound"] = [problem]
    current = model_to_dict(board, fields=FORM_SETTINGS)
    form = StoryboardForm({**current, **sent}, instance=board, user=request.user)
    form.fields.pop("style_preset")
    if not form.is_valid():
        _add_form_errors(errors, form)
    if errors:
        raise FieldErrors(errors)
    changes = {name: form.cleaned_data[name] for name in sent}
    if sound is not None:
        changes["sound"] = sound
    services.storyboard_update(storyboard=board, **changes)
    return storyboard_json(board, shots=True)


@router.delete(
    "/storyboards/{storyboard_id}",
    response={204: None},
    summary="Delete a storyboard (its clips stay)",
)
def storyboard_delete(request: HttpRequest, storyboard_id: StoryboardId) -> Any:
    services.storyboard_delete(storyboard=_own_storyboard(request, storyboard_id))
    return HttpResponse(status=204)


# -- shots --------------------------------------------------------------------------


def _speaker(board: Storyboard, name: Any, errors: dict[str, list[str]]) -> Any:
    """The id of the creator's character called ``name`` (null: none)."""
    from studio.prompts.models import Character

    if name is None or not str(name).strip():
        return None
    name = str(name).strip().removeprefix("@")
    found = Character.objects.filter(
        owner_id=board.owner_id, kind=Character.Kind.CHARACTER, name__iexact=name
    ).first()
    if found is None:
        errors["voice_character"] = [
            f"You have no character called “{name[:60]}”: add one on the "
            "Characters page, or leave it out for the narrator."
        ]
        return None
    return found.pk


def _shot_fields(
    request: HttpRequest, board: Storyboard, shot: Shot | None = None
) -> tuple[dict[str, Any], int | None]:
    """The checked fields of a new shot, or of the changes to ``shot``, in
    the form's names; and the position asked for."""
    sent, errors = _read(request, ShotChanges if shot else ShotNew)
    if "voice_character" in sent:
        sent["voice_character"] = _speaker(board, sent["voice_character"], errors)
    if sent.get("voice_line") is None:
        sent.pop("voice_line", None)
    if sent.get("voice_start") is None:
        sent.pop("voice_start", None)
    base = model_to_dict(shot, fields=ShotForm.Meta.fields) if shot else {}
    values = {"kind": DEFAULT_KIND, **base}
    values.update({FORM_NAMES.get(k, k): v for k, v in sent.items()})
    form = ShotForm(values, instance=shot, storyboard=board)
    if not form.is_valid():
        _add_form_errors(errors, form)
    if errors:
        raise FieldErrors(errors)
    names = [FORM_NAMES.get(k, k) for k in sent] if shot else ShotForm.Meta.fields
    fields = {
        name: form.cleaned_data[name]
        for name in names
        if name in form.cleaned_data and name != "continue_from_previous"
    }
    return fields, sent.get("order")


@router.get(
    "/storyboards/{storyboard_id}/shots",
    response=ShotList,
    summary="The shots in order",
)
def shot_list(request: HttpRequest, storyboard_id: StoryboardId) -> Any:
    board = _own_storyboard(request, storyboard_id)
    return {"shots": [shot_json(s) for s in services.shots_with_takes(board)]}


@router.post(
    "/storyboards/{storyboard_id}/shots",
    response={201: ShotOut},
    summary="Add a shot (at `order`, or at the end)",
    openapi_extra=_json_body(ShotNew),
)
def shot_create(request: HttpRequest, storyboard_id: StoryboardId) -> Status:
    board = _own_storyboard(request, storyboard_id)
    fields, order = _shot_fields(request, board)
    try:
        shot = services.shot_add(storyboard=board, order=order, **fields)
    except StoryboardError as exc:
        raise FieldErrors({ALL: [str(exc)]}) from None
    return Status(201, shot_json(shot))


@router.get(
    "/storyboards/{storyboard_id}/shots/{shot_id}",
    response=ShotOut,
    summary="A shot",
)
def shot_detail(
    request: HttpRequest, storyboard_id: StoryboardId, shot_id: ShotId
) -> Any:
    return shot_json(_own_shot(request, storyboard_id, shot_id))


@router.patch(
    "/storyboards/{storyboard_id}/shots/{shot_id}",
    response=ShotOut,
    summary="Change a shot; `order` moves it",
    openapi_extra=_json_body(ShotChanges),
)
def shot_update(
    request: HttpRequest, storyboard_id: StoryboardId, shot_id: ShotId
) -> Any:
    shot = _own_shot(request, storyboard_id, shot_id)
    fields, order = _shot_fields(request, shot.storyboard, shot)
    services.shot_update(shot=shot, order=order, **fields)
    return shot_json(services.shots_with_takes(shot.storyboard).get(pk=shot.pk))


@router.delete(
    "/storyboards/{storyboard_id}/shots/{shot_id}",
    response={204: None},
    summary="Delete a shot",
)
def shot_delete(
    request: HttpRequest, storyboard_id: StoryboardId, shot_id: ShotId
) -> Any:
    services.shot_delete(shot=_own_shot(request, storyboard_id, shot_id))
    return HttpResponse(status=204)


# -- takes and the cut ----------------------------------------------------------------


def _queue_takes(shots: list[Shot]) -> list[Take]:
    try:
        return services.takes_generate(shots=shots)
    except StoryboardError as exc:
        raise ApiError(400, str(exc)) from None
    except QueueFull as exc:
        raise ApiError(429, str(exc)) from None


@router.post(
    "/storyboards/{storyboard_id}/shots/{shot_id}/takes",
    response={202: TakeOut, 400: Error, 429: Error},
    summary="Generate a take of a shot",
)
def take_create(
    request: HttpRequest, storyboard_id: StoryboardId, shot_id: ShotId
) -> Status:
    """Queue one new take of the shot, as the storyboard page's Generate
    button does: the shot's prompt with the storyboard's look and settings,
    a new seed. 400 with the reason when the storyboard's settings don't
    suit its model, or the shot has as many takes as it may; 429 when your
    queue is full."""
    shot = _own_shot(request, storyboard_id, shot_id)
    (take,) = _queue_takes([shot])
    return Status(202, take_json(take))


class TakeExtendIn(RequestBody):
    """How to continue a finished take."""

    seconds: float = Field(
        ge=specs.MIN_EXTEND_SECONDS,
        le=specs.MAX_EXTEND_SECONDS,
        allow_inf_nan=False,
        title="The extension's length",
        description="Seconds; the model's continuation nearest to it.",
    )
    prompt: str | None = Field(
        None,
        max_length=specs.MAX_PROMPT_CHARS,
        title="The new shot's prompt",
        description="Left out, null or empty: the take's own.",
    )


@router.post(
    "/storyboards/{storyboard_id}/shots/{shot_id}/takes/{number}/extend",
    response={202: TakeOut, 429: Error},
    summary="Continue a take in a new shot",
)
def take_extend(
    request: HttpRequest,
    storyboard_id: StoryboardId,
    shot_id: ShotId,
    number: ShotId,
    payload: TakeExtendIn,
) -> Status:
    """Queue a new shot right after this one whose take continues take
    `number` of the shot (its `takes[].number`) from its last frames, as the
    page's Extend button does; the cut then plays it straight after. 400
    when the take has not finished or its model cannot continue a clip; 429
    when your queue is full."""
    shot = _own_shot(request, storyboard_id, shot_id)
    wanted = parse_id(number)
    take = (
        Take.objects.select_related("generation", "shot")
        .filter(number=wanted, shot=shot)
        .first()
        if wanted is not None
        else None
    )
    if take is None:
        raise ApiError(404, "No such take.")
    try:
        continuation = services.take_extend(
            take=take, seconds=payload.seconds, prompt=payload.prompt
        )
    except StoryboardError as exc:
        raise FieldErrors({ALL: [str(exc)]}) from None
    except QueueFull as exc:
        raise ApiError(429, str(exc)) from None
    return Status(202, take_json(continuation))


@router.post(
    "/storyboards/{storyboard_id}/generate",
    response={200: TakesOut, 202: TakesOut, 400: Error, 429: Error},
    summary="Generate a take of every shot that has none",
)
def takes_missing_create(request: HttpRequest, storyboard_id: StoryboardId) -> Status:
    """Queue one take of each shot without a finished, queued or running
    take, in shot order, as the page's "Generate missing" does: all of them
    or, on an error, none. 202 with the takes queued; 200 with empty lists
    when no shot lacks one."""
    board = _own_storyboard(request, storyboard_id)
    takes = _queue_takes(services.shots_missing(board))
    answer = {
        "generations": [take.generation_id for take in takes],
        "takes": [take_json(take) for take in takes],
    }
    return Status(202 if takes else 200, answer)


class RenderIn(RequestBody):
    """What a render may set for itself; an empty body is fine."""

    sound: Sound = Field(
        None,
        description="This render's sound settings; null: no generated sound. "
        "Left out: the storyboard's own (`sound`).",
    )


def _render_body() -> dict[str, Any]:
    extra = _json_body(RenderIn)
    extra["requestBody"]["required"] = False
    return extra


@router.post(
    "/storyboards/{storyboard_id}/render",
    response={202: RenderOut, 400: Error, 409: Error, 429: Error},
    exclude_unset=True,
    summary="Render the cut: every shot's chosen take, in order",
    openapi_extra=_render_body(),
)
def storyboard_render(request: HttpRequest, storyboard_id: StoryboardId) -> Status:
    """Answers 202 with a generation: poll /api/generations/{id} or follow
    /ws/generations/{id}; when it succeeds it has video_url and captions_url
    (WebVTT). The body is optional: `{"sound": {...}}` gives this render
    its own sound settings (null: none), else the storyboard's own apply.
    400 names a refused sound setting; 409 while a shot has no finished
    take."""
    board = _own_storyboard(request, storyboard_id)
    sent: dict[str, Any] = {}
    # A bare POST (a form, or no body at all) renders as the storyboard says.
    if request.content_type != "multipart/form-data" and request.body.strip():
        sent, errors = _read(request, RenderIn)
        if errors:
            raise FieldErrors(errors)
    options = {"sound": sent["sound"]} if "sound" in sent else {}
    try:
        result = services.storyboard_render(storyboard=board, **options)
    except SoundSettingsError as exc:
        raise FieldErrors({"sound": [str(exc)]}) from None
    except StoryboardError as exc:
        raise ApiError(409, str(exc)) from None
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    except QueueFull as exc:
        raise ApiError(429, str(exc)) from None
    state = generation_state(result.generation)
    state["storyboard"] = str(board.pk)
    return Status(202, state)
