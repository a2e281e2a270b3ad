"""The storyboards JSON API: storyboards, their shots, and rendering the cut."""

from __future__ import annotations

import uuid
from typing import Any

from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse, JsonResponse

from studio import jsontext
from studio.generations.api import MAX_BODY_BYTES, api_view, error
from studio.generations.services import QueueFull, generation_state
from studio.numbers import NumberError, check_number, check_whole
from studio.projects.models import Project
from studio.projects.services import project_create
from studio.storyboards import schema, services
from studio.storyboards.forms import MAX_SHOT_SECONDS, ShotForm, StoryboardForm
from studio.storyboards.models import MAX_SHOTS, Shot, Storyboard
from studio.storyboards.services import StoryboardError

STORYBOARD_FIELDS = (
    "title",
    "style",
    "negative_prompt",
    "model",
    "fps",
    "width",
    "height",
    "steps",
    "guidance",
    "transition",
    "burn_captions",
)
SHOT_FIELDS = ("type", "prompt", "duration", "caption", "notes", "order")
# A form reads any value as text (a list is stored as its repr) and "8" as
# a number: each field must first be of the JSON type the schema names.
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}
TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
}
MAX_LIST = 200


def _json(request: HttpRequest) -> tuple[dict[str, Any] | None, HttpResponse | None]:
    if int(request.headers.get("Content-Length") or 0) > MAX_BODY_BYTES:
        return None, _errors({"__all__": ["The request body is too large."]}, 413)
    try:
        data = jsontext.loads(request.body or b"{}")
    except jsontext.JSONTextError as exc:
        return None, _errors({"__all__": [str(exc)]})
    if not isinstance(data, dict):
        return None, _errors({"__all__": ["Send a JSON object."]})
    return data, None


def _errors(errors: dict[str, list[str]], status: int = 400) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=status)


def _type_errors(
    data: dict[str, Any], fields: dict[str, dict[str, Any]]
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        kind = fields.get(name, {}).get("type")
        if kind not in JSON_TYPES or value is None:
            continue
        wrong_bool = isinstance(value, bool) and kind != "boolean"
        if wrong_bool or not isinstance(value, JSON_TYPES[kind]):
            label = name.replace("_", " ").capitalize()
            errors[name] = [f"{label} must be {TYPE_WORDS[kind]}."]
    return errors


def _form_errors(form: Any) -> dict[str, list[str]]:
    names = {"kind": "type"}
    return {names.get(k, k): [str(m) for m in v] for k, v in form.errors.items()}


def _own_storyboard(request: HttpRequest, storyboard_id: str) -> Storyboard | None:
    try:
        pk = uuid.UUID(storyboard_id)
    except ValueError:
        return None
    return (
        Storyboard.objects.select_related("project")
        .filter(pk=pk, owner=request.user)
        .first()
    )


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
        "takes": [
            {
                "number": t.number,
                "generation": str(t.generation_id),
                "status": t.generation.status,
                "video_url": t.generation.video_url,
            }
            for t in shot.takes.all()
        ],
        "take": str(take.generation_id) if take else None,
        "choices": [
            {"label": c.label, "target": c.target_id} for c in shot.choices.all()
        ],
    }


def storyboard_json(storyboard: Storyboard, *, shots: bool = False) -> dict[str, Any]:
    data = {
        "id": str(storyboard.pk),
        "project": str(storyboard.project_id),
        "url": storyboard.get_absolute_url(),
        "created": storyboard.created.isoformat(),
        "updated": storyboard.updated.isoformat(),
        **{name: getattr(storyboard, name) for name in STORYBOARD_FIELDS},
        "soundtrack": storyboard.soundtrack_name or None,
    }
    if shots:
        items = list(services.shots_with_takes(storyboard))
        data["shots"] = [shot_json(shot) for shot in items]
        data["duration"] = sum(shot.duration for shot in items)
    return data


def _project_for(request: HttpRequest, data: dict[str, Any]) -> Project | None:
    value = data.get("project")
    if value is None:
        project = (
            Project.objects.filter(owner=request.user, archived=False)
            .order_by("-updated")
            .first()
        )
        return project or project_create(owner=request.user, name="Storyboards")
    try:
        pk = uuid.UUID(str(value))
    except ValueError:
        return None
    return Project.objects.filter(pk=pk, owner=request.user).first()


@api_view(["GET", "POST"])
def storyboards(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        items = Storyboard.objects.filter(owner=request.user)[:MAX_LIST]
        return JsonResponse({"storyboards": [storyboard_json(s) for s in items]})
    data, failure = _json(request)
    if failure:
        return failure
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        return _errors({"title": ["Give the storyboard a title."]})
    if len(title) > 200:
        return _errors({"title": ["Keep the title under 200 characters."]})
    project = _project_for(request, data)
    if project is None:
        return _errors({"project": ["No such project."]})
    storyboard = services.storyboard_create(
        owner=request.user, project=project, title=title
    )
    return JsonResponse(storyboard_json(storyboard, shots=True), status=201)


@api_view(["GET", "PATCH", "DELETE"])
def storyboard(request: HttpRequest, storyboard_id: str) -> HttpResponse:
    board = _own_storyboard(request, storyboard_id)
    if board is None:
        return error(404, "No such storyboard.")
    if request.method == "DELETE":
        services.storyboard_delete(storyboard=board)
        return HttpResponse(status=204)
    if request.method == "PATCH":
        data, failure = _json(request)
        if failure:
            return failure
        unknown = sorted(set(data) - set(STORYBOARD_FIELDS))
        if unknown:
            return _errors({name: ["Not a storyboard field."] for name in unknown})
        wrong = _type_errors(data, schema.STORYBOARD_FIELDS)
        if wrong:
            return _errors(wrong)
        merged = {**model_to_dict(board, fields=STORYBOARD_FIELDS), **data}
        form = StoryboardForm(merged, instance=board, user=request.user)
        form.fields.pop("style_preset")
        if not form.is_valid():
            return _errors(_form_errors(form))
        changes = {k: v for k, v in form.cleaned_data.items() if k in data}
        services.storyboard_update(storyboard=board, **changes)
    return JsonResponse(storyboard_json(board, shots=True))


def _shot_form(
    board: Storyboard, data: dict[str, Any], shot: Shot | None = None
) -> tuple[ShotForm | None, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(data) - set(SHOT_FIELDS))
    for name in unknown:
        errors[str(name)[:40]] = ["Not a shot field."]
    errors.update(_type_errors(data, schema.SHOT_FIELDS))
    if "duration" in data or shot is None:
        try:
            check_number(
                data.get("duration"), label="Duration", low=0, high=MAX_SHOT_SECONDS
            )
        except NumberError as exc:
            errors["duration"] = [str(exc)]
    if data.get("order") is not None:
        try:
            check_whole(data["order"], label="Order", low=1, high=MAX_SHOTS)
        except NumberError as exc:
            errors["order"] = [str(exc)]
    if errors:
        return None, errors
    base = model_to_dict(shot, fields=ShotForm.Meta.fields) if shot else {}
    values = {**base, **data}
    if "type" in values:
        values["kind"] = values.pop("type")
    form = ShotForm(values, instance=shot, storyboard=board)
    if not form.is_valid():
        errors.update(_form_errors(form))
    return form, errors


@api_view(["GET", "POST"])
def shots(request: HttpRequest, storyboard_id: str) -> HttpResponse:
    board = _own_storyboard(request, storyboard_id)
    if board is None:
        return error(404, "No such storyboard.")
    if request.method == "GET":
        items = services.shots_with_takes(board)
        return JsonResponse({"shots": [shot_json(s) for s in items]})
    data, failure = _json(request)
    if failure:
        return failure
    form, errors = _shot_form(board, data)
    if errors:
        return _errors(errors)
    fields = {
        k: v for k, v in form.cleaned_data.items() if k != "continue_from_previous"
    }
    try:
        shot = services.shot_add(storyboard=board, order=data.get("order"), **fields)
    except StoryboardError as exc:
        return _errors({"__all__": [str(exc)]})
    return JsonResponse(shot_json(shot), status=201)


@api_view(["GET", "PATCH", "DELETE"])
def shot(request: HttpRequest, storyboard_id: str, shot_id: int) -> HttpResponse:
    board = _own_storyboard(request, storyboard_id)
    item = None
    if board is not None:
        item = services.shots_with_takes(board).filter(pk=shot_id).first()
    if item is None:
        return error(404, "No such shot.")
    if request.method == "DELETE":
        services.shot_delete(shot=item)
        return HttpResponse(status=204)
    if request.method == "PATCH":
        data, failure = _json(request)
        if failure:
            return failure
        form, errors = _shot_form(board, data, item)
        if errors:
            return _errors(errors)
        changes = {k: v for k, v in form.cleaned_data.items() if k in data}
        if "type" in data:
            changes["kind"] = form.cleaned_data["kind"]
        services.shot_update(shot=item, order=data.get("order"), **changes)
        item = services.shots_with_takes(board).get(pk=item.pk)
    return JsonResponse(shot_json(item))


@api_view(["POST"])
def render(request: HttpRequest, storyboard_id: str) -> HttpResponse:
    board = _own_storyboard(request, storyboard_id)
    if board is None:
        return error(404, "No such storyboard.")
    try:
        result = services.storyboard_render(storyboard=board)
    except StoryboardError as exc:
        return error(409, str(exc))
    except ValueError as exc:
        return error(400, str(exc))
    except QueueFull as exc:
        return error(429, str(exc))
    state = generation_state(result.generation)
    state["storyboard"] = str(board.pk)
    return JsonResponse(state, status=202)
