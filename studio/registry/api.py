"""The model registry's JSON API: the models, one model, and a prompt's reading."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field
from pydantic import ConfigDict

from generation import adapters
from generation.adapters import UnknownModelError, read_prompt
from generation.builtin.world import ATTRIBUTES
from generation.specs import MAX_PROMPT_CHARS
from studio.api import ApiError, RequestBody, Router, Schema
from studio.registry.services import AUDIO_FAMILIES, model_rows

router = Router(tags=["Models"])

Family = Literal[("builtin", *adapters.FAMILIES, *AUDIO_FAMILIES)]
Task = Literal["t2v", "i2v", "v2v", "t2a"]
Attribute = Literal[tuple(ATTRIBUTES)]
Number = int | float


class RangeOut(Schema):
    min: Number
    max: Number
    default: Number


class FramesOut(Schema):
    """Frame counts ``n`` with ``min <= n <= max`` and ``(n - offset) % step == 0``."""

    min: int
    max: int
    step: int
    offset: int
    default: int


class SizeOut(Schema):
    """Widths and heights: multiples of ``multiple`` from ``min`` to ``max``;
    ``detail``, the short side up to which the model draws its own detail
    (a larger frame is its frame enlarged), null when it draws at any size."""

    multiple: int
    min: int
    max: int
    default_width: int
    default_height: int
    detail: int | None = None


class InputsOut(Schema):
    """What the model takes besides the prompt; ``strength`` is there for a
    model that restyles a video."""

    model_config = ConfigDict(extra="allow")

    image: bool
    video: bool
    strength: RangeOut | None
    audio: bool


class CapabilitiesOut(Schema):
    """The engine's rules for the model: what a generation's settings may be."""

    model_config = ConfigDict(extra="allow")

    family: str
    label: str
    tasks: list[Task]
    frames: FramesOut
    fps: RangeOut
    size: SizeOut
    steps: RangeOut
    guidance: RangeOut
    negative_prompt: str
    inputs: InputsOut
    extend: FramesOut | None = Field(
        None,
        description=(
            "How many frames the model continues a finished clip by "
            "(`POST /api/generations/{id}/extend`); null when it cannot."
        ),
    )


class StepsOut(Schema):
    min: int
    max: int
    default: int


class AudioOut(Schema):
    """What an audio model makes: stereo sound up to ``max_seconds`` long."""

    sample_rate: int
    max_seconds: float
    min_seconds: float
    channels: int
    steps: StepsOut


class ModelOut(Schema):
    name: str
    family: Family
    task: Task
    status: Literal["available", "unavailable"]
    reason: str = Field(description="Why an unavailable model is unavailable.")
    defaults: dict[str, Any]
    description: str
    capabilities: CapabilitiesOut | None = Field(
        description="A video model's rules; null for an audio model and for a "
        "model of a family this studio no longer has."
    )
    kind: Literal["video", "audio"] = Field(
        "video",
        description="What the model makes. Audio models are never offered for "
        "clips; they make sound for the Sound panel.",
    )
    audio: AudioOut | None = Field(
        None, description="An audio model's sample rate and longest sound."
    )


class ModelList(Schema):
    models: list[ModelOut]


class ReadingIn(RequestBody):
    text: str = Field(max_length=MAX_PROMPT_CHARS, title="The prompt")


class Term(Schema):
    value: str
    confidence: float = Field(ge=0, le=1)


class UsedElsewhere(Schema):
    word: str
    use: str = Field(description="What the studio does with the word.")


class ReadingOut(Schema):
    terms: dict[Attribute, Term] = Field(
        description="Each attribute the prompt states: its likeliest term."
    )
    unknown: list[str] = Field(description="Words outside the model's world.")
    elsewhere: list[UsedElsewhere] = Field(
        default_factory=list,
        description="Words the model does not draw that the studio uses another "
        "way: the music's mood or pace, a look's name.",
    )
    summary: str


def _public(row: dict[str, Any]) -> dict[str, Any]:
    # Folder paths, load options and memory estimates are the server's business.
    public = {key: row[key] for key in ModelOut.model_fields if key in row}
    public["capabilities"] = _capabilities(row)
    return public


def _capabilities(row: dict[str, Any]) -> dict[str, Any] | None:
    if row.get("kind") == "audio":
        return None
    try:
        return adapters.capabilities(row["name"]).to_dict()
    except UnknownModelError:
        pass  # not registered in this process: unavailable, or not yet synced
    try:
        family: Any = adapters.family_module(row["family"])
        return family.capabilities(row["task"]).to_dict()
    except ValueError:
        return None


@router.get("/models", response=ModelList, summary="Every model, with its rules")
def model_list(request: HttpRequest) -> dict[str, Any]:
    """Every model this studio knows, the built-in one first, with its status
    and the rules a generation's settings must follow. Reads the registry as
    it stands; it does not re-check the models' folders."""
    return {"models": [_public(row) for row in model_rows(sync=False)]}


@router.get("/models/{name}", response=ModelOut, summary="One model, with its rules")
def model_detail(request: HttpRequest, name: str) -> dict[str, Any]:
    for row in model_rows(sync=False):
        if row["name"] == name:
            return _public(row)
    raise ApiError(404, str(UnknownModelError(name)))


@router.post(
    "/models/{name}/reading",
    response=ReadingOut,
    summary="What a model reads in a prompt, before generating",
)
def model_reading(request: HttpRequest, name: str, payload: ReadingIn) -> Any:
    """The terms the model will draw with their probabilities, the words it
    has no word for, and a one-line summary. 404 for a model without a
    prompt reader (every model but the built-in one today)."""
    reading = read_prompt(name, payload.text)
    if reading is None:
        raise ApiError(404, "This model has no prompt reader.")
    return reading
