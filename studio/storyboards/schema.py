"""OpenAPI paths for storyboards, their shots and rendering, merged into /api/schema."""

from __future__ import annotations

from typing import Any

from studio.storyboards.models import Shot, Storyboard


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
STORYBOARD_FIELDS = {
    "title": {"type": "string", "minLength": 1, "maxLength": 200},
    "style": {"type": "string", "maxLength": 500},
    "negative_prompt": {"type": "string", "maxLength": 500},
    "model": {"type": "string"},
    "fps": {"type": "integer", "minimum": 4, "maximum": 30},
    "width": {"type": "integer", "minimum": 64, "maximum": 1024, "multipleOf": 8},
    "height": {"type": "integer", "minimum": 64, "maximum": 1024, "multipleOf": 8},
    "steps": {"type": "integer", "minimum": 1, "maximum": 100},
    "guidance": {"type": "number", "minimum": 0, "maximum": 20},
    "transition": {"type": "string", "enum": list(Storyboard.Transition.values)},
    "burn_captions": {"type": "boolean"},
}
SHOT_FIELDS = {
    "type": {"type": "string", "enum": list(Shot.Kind.values)},
    "prompt": {"type": "string", "minLength": 1, "maxLength": 2000},
    "duration": {
        "type": "number",
        "description": "Seconds; a whole number of frames at the storyboard's fps.",
    },
    "caption": {"type": "string", "maxLength": 300},
    "notes": {"type": "string", "maxLength": 2000},
    "order": {"type": "integer", "minimum": 1, "description": "1-based position."},
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
                            "project": {"type": "string", "format": "uuid"},
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
