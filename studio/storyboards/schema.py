"""OpenAPI paths for storyboards, their shots and rendering, merged into /api/schema."""

from __future__ import annotations

from typing import Any

from generation import specs
from studio.storyboards.forms import MAX_SHOT_SECONDS
from studio.storyboards.models import MAX_SHOTS, Shot, Storyboard


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}  # fmt: skip


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _param(name: str, kind: str = "string", fmt: str | None = None) -> dict[str, Any]:
    schema = {"type": kind, **({"format": fmt} if fmt else {})}
    return {"name": name, "in": "path", "required": True, "schema": schema}


NOT_FOUND = {"description": "Not found, or not yours."}
INVALID = {"description": "Invalid fields: {errors: {field: [message]}}."}
UNAUTHORISED = {"description": "Log in or send a bearer token."}
STORYBOARD_ID = _param("storyboard_id", fmt="uuid")
SHOT_ID = _param("shot_id", "integer")


def _text(model: type, name: str, *, required: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "string",
        "maxLength": model._meta.get_field(name).max_length,
    }
    if required:
        schema.update(minLength=1, pattern=NOT_BLANK)
    return schema


# At least one character that is not white space: blank text is refused.
NOT_BLANK = r"\S"
STORYBOARD_FIELDS = {
    "title": _text(Storyboard, "title", required=True),
    "style": _text(Storyboard, "style"),
    "negative_prompt": _text(Storyboard, "negative_prompt"),
    "model": {"type": "string"},
    "fps": {"type": "integer", "minimum": specs.MIN_FPS, "maximum": specs.MAX_FPS},
    "width": {
        "type": "integer",
        "minimum": specs.MIN_SIZE,
        "maximum": specs.MAX_SIZE,
        "multipleOf": 8,
    },
    "height": {
        "type": "integer",
        "minimum": specs.MIN_SIZE,
        "maximum": specs.MAX_SIZE,
        "multipleOf": 8,
    },
    "steps": {
        "type": "integer",
        "minimum": specs.MIN_STEPS,
        "maximum": specs.MAX_STEPS,
    },
    "guidance": {
        "type": "number",
        "minimum": specs.MIN_GUIDANCE,
        "maximum": specs.MAX_GUIDANCE,
    },
    "transition": {"type": "string", "enum": list(Storyboard.Transition.values)},
    "burn_captions": {"type": "boolean"},
}
SHOT_FIELDS = {
    "type": {"type": "string", "enum": list(Shot.Kind.values)},
    "prompt": _text(Shot, "prompt", required=True),
    "duration": {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": MAX_SHOT_SECONDS,
        "description": "Seconds; a whole number of frames at the storyboard's fps, "
        f"{specs.MIN_FRAMES} to {specs.MAX_FRAMES} frames.",
    },
    "caption": _text(Shot, "caption"),
    "notes": _text(Shot, "notes"),
    "order": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_SHOTS,
        "description": "1-based position; past the end means last.",
    },
}


def openapi_components() -> dict[str, Any]:
    return {
        "Shot": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                **SHOT_FIELDS,
                "takes": {"type": "array", "items": {"type": "object"}},
                "take": {"type": ["string", "null"], "format": "uuid"},
                "choices": {"type": "array", "items": {"type": "object"}},
            },
        },
        "Storyboard": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "project": {"type": "string", "format": "uuid"},
                **STORYBOARD_FIELDS,
                "shots": {"type": "array", "items": _ref("Shot")},
                "duration": {"type": "number"},
            },
        },
    }


def openapi_paths() -> dict[str, Any]:
    board = _json(_ref("Storyboard"), "The storyboard with its shots.")
    shot = _json(_ref("Shot"), "The shot.")
    return {
        "/api/storyboards": {
            "get": {
                "summary": "Your storyboards",
                "responses": {
                    "200": _json({"type": "object"}, "{storyboards: [...]}"),
                    "401": UNAUTHORISED,
                },  # fmt: skip
            },
            "post": {
                "summary": "Create a storyboard",
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["title"],
                        "properties": {
                            "title": STORYBOARD_FIELDS["title"],
                            "project": {
                                "type": ["string", "null"],
                                "format": "uuid",
                                "description": "Left out or null: your most "
                                "recently changed project, or a new one.",
                            },
                        },
                    }
                ),
                "responses": {"201": board, "400": INVALID, "401": UNAUTHORISED},
            },
        },
        "/api/storyboards/{storyboard_id}": {
            "parameters": [STORYBOARD_ID],
            "get": {
                "summary": "A storyboard",
                "responses": {"200": board, "404": NOT_FOUND},
            },  # fmt: skip
            "patch": {
                "summary": "Change a storyboard's settings",
                "requestBody": _body(
                    {"type": "object", "properties": STORYBOARD_FIELDS}
                ),  # fmt: skip
                "responses": {"200": board, "400": INVALID, "404": NOT_FOUND},
            },
            "delete": {
                "summary": "Delete a storyboard (its clips stay)",
                "responses": {"204": {"description": "Deleted."}, "404": NOT_FOUND},
            },  # fmt: skip
        },
        "/api/storyboards/{storyboard_id}/shots": {
            "parameters": [STORYBOARD_ID],
            "get": {
                "summary": "The shots in order",
                "responses": {
                    "200": _json({"type": "object"}, "{shots: [...]}"),
                    "404": NOT_FOUND,
                },
            },  # fmt: skip
            "post": {
                "summary": "Add a shot (at `order`, or at the end)",
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["prompt", "duration"],
                        "properties": SHOT_FIELDS,
                    }
                ),  # fmt: skip
                "responses": {"201": shot, "400": INVALID, "404": NOT_FOUND},
            },
        },
        "/api/storyboards/{storyboard_id}/shots/{shot_id}": {
            "parameters": [STORYBOARD_ID, SHOT_ID],
            "get": {"summary": "A shot", "responses": {"200": shot, "404": NOT_FOUND}},
            "patch": {
                "summary": "Change a shot; `order` moves it",
                "requestBody": _body({"type": "object", "properties": SHOT_FIELDS}),
                "responses": {"200": shot, "400": INVALID, "404": NOT_FOUND},
            },
            "delete": {
                "summary": "Delete a shot",
                "responses": {"204": {"description": "Deleted."}, "404": NOT_FOUND},
            },  # fmt: skip
        },
        "/api/storyboards/{storyboard_id}/render": {
            "parameters": [STORYBOARD_ID],
            "post": {
                "summary": "Render the cut: every shot's chosen take, in order",
                "description": (
                    "Answers 202 with a generation: poll /api/generations/{id} or "
                    "follow /ws/generations/{id}; when it succeeds it has "
                    "video_url and captions_url (WebVTT)."
                ),
                "responses": {
                    "202": _json({"type": "object"}, "The render job, a generation."),
                    "404": NOT_FOUND,
                    "409": {"description": "A shot has no finished take yet."},
                    "429": {"description": "Your queue is full."},
                },
            },
        },
    }
