"""OpenAPI paths of the model registry, merged into /api/schema."""

from __future__ import annotations

from typing import Any

from generation.builtin.world import ATTRIBUTES
from generation.specs import MAX_PROMPT_CHARS

JSON = "application/json"


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = {JSON: {"schema": schema}}
    return answer


def reading_path() -> dict[str, Any]:
    term = {
        "type": "object",
        "required": ["value", "confidence"],
        "properties": {
            "value": {"type": "string"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        },
    }
    reading = {
        "type": "object",
        "required": ["terms", "unknown", "summary"],
        "properties": {
            "terms": {
                "type": "object",
                "properties": {name: term for name in ATTRIBUTES},
                "additionalProperties": False,
            },
            "unknown": {"type": "array", "items": {"type": "string"}},
            "summary": {"type": "string"},
        },
    }
    text = {
        "type": "object",
        "required": ["text"],
        "properties": {"text": {"type": "string", "maxLength": MAX_PROMPT_CHARS}},
    }
    error = {"$ref": "#/components/schemas/Error"}
    return {
        "post": {
            "summary": "What a model reads in a prompt, before generating",
            "parameters": [
                {
                    "name": "name",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "example": "builtin",
                }
            ],
            "requestBody": {"required": True, "content": {JSON: {"schema": text}}},
            "responses": {
                "200": _answer(
                    "The terms the model will draw with their probabilities, "
                    "the words it has no word for, and a one-line summary.",
                    reading,
                ),
                "400": _answer(
                    "Invalid input; messages per field.",
                    {"$ref": "#/components/schemas/FieldErrors"},
                ),
                "401": _answer("Log in or send an API token.", error),
                "403": _answer("CSRF check failed (session requests).", error),
                "404": _answer("No such model, or one without a prompt reader.", error),
                "413": _answer("The request body is too large."),
            },
        }
    }


def openapi_paths() -> dict[str, Any]:
    model = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "family": {
                "type": "string",
                "enum": [
                    "builtin",
                    "wan",
                    "ltx",
                    "cogvideox",
                    "hunyuan",
                    "animatediff",
                ],  # fmt: skip
            },
            "task": {"type": "string", "enum": ["t2v", "i2v", "v2v"]},
            "status": {"type": "string", "enum": ["available", "unavailable"]},
            "reason": {"type": "string"},
            "defaults": {"type": "object", "additionalProperties": True},
            "description": {"type": "string"},
        },
    }
    return {
        "/api/models": {
            "get": {
                "summary": "Every model this studio knows, with its status",
                "responses": {
                    "200": {
                        "description": "The models; the built-in one first.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "models": {"type": "array", "items": model}
                                    },
                                }
                            }
                        },
                    },
                    "401": {"description": "Log in or send an API token."},
                },
            }
        },
        "/api/models/{name}/reading": reading_path(),
    }
