"""The prompt library's part of the OpenAPI description (merged into /api/schema)."""

from __future__ import annotations

from typing import Any

from generation import specs
from studio.numbers import MAX_ID
from studio.prompts.api import MAX_PAGE_SIZE, PAGE_SIZE
from studio.prompts.models import MAX_NOTES_CHARS, MAX_TITLE_CHARS
from studio.prompts.search import SORTS
from studio.prompts.transfer import MAX_IMPORT_BYTES
from studio.prompts.validation import (
    COACH_BOUNDS,
    MAX_RATING,
    MAX_TAG_CHARS,
    MAX_TAGS,
)

JSON = "application/json"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = {JSON: {"schema": schema}}
    return answer


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": schema}}}


ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
# At least one character that is not white space: blank text is refused.
NOT_BLANK = r"\S"
TEXT = {
    "type": "string",
    "minLength": 1,
    "maxLength": specs.MAX_PROMPT_CHARS,
    "pattern": NOT_BLANK,
}
MISSING = _answer("No such prompt (or not yours).", _ref("Error"))
INVALID = _answer("Invalid input; messages per field.", _ref("FieldErrors"))


def openapi_components() -> dict[str, Any]:
    tags = {
        "type": "array",
        "maxItems": MAX_TAGS,
        "items": {"type": "string", "maxLength": MAX_TAG_CHARS},
    }
    fields = {
        "title": {"type": "string", "maxLength": MAX_TITLE_CHARS},
        "text": TEXT,
        "negative_prompt": {"type": "string", "maxLength": specs.MAX_PROMPT_CHARS},
        "tags": tags,
        "notes": {"type": "string", "maxLength": MAX_NOTES_CHARS},
        "rating": {"type": "integer", "minimum": 0, "maximum": MAX_RATING},
        "favourite": {"type": "boolean"},
    }
    return {
        "PromptInput": {
            "type": "object",
            "additionalProperties": False,
            "required": ["text"],
            "properties": {
                **fields,
                "tags": {
                    "anyOf": [
                        tags,
                        {"type": "string", "description": "Comma-separated tags."},
                    ]
                },
            },
        },
        "Prompt": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                **fields,
                "created": {"type": "string", "format": "date-time"},
                "updated": {"type": "string", "format": "date-time"},
                "url": {"type": "string"},
                "clips": {"type": "array", "items": {"type": "string"}},
            },
        },
        "PromptVersion": {
            "type": "object",
            "properties": {
                "number": {"type": "integer"},
                "title": {"type": "string"},
                "text": {"type": "string"},
                "negative_prompt": {"type": "string"},
                "notes": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "created": {"type": "string", "format": "date-time"},
            },
        },
        "PromptLibrary": {
            "type": "object",
            "description": "An export: prompts with versions, characters, lists, "
            "styles and the director profile.",
            "required": ["format", "version"],
            "properties": {
                "format": {"const": "studio.prompt-library"},
                "version": {"const": 1},
                "prompts": {"type": "array"},
                "characters": {"type": "array"},
                "lists": {"type": "array"},
                "styles": {"type": "array"},
                "director": {"type": ["object", "null"]},
            },
        },
        "FieldErrors": {
            "type": "object",
            "properties": {
                "errors": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "array",
                        "items": {"type": "string"},
                    },
                }
            },
        },
    }


def openapi_paths() -> dict[str, Any]:
    text_only = {
        "type": "object",
        "required": ["text"],
        "properties": {"text": TEXT},
    }
    return {
        "/api/prompts": {
            "get": {
                "summary": "Search the library",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "tag",
                        "in": "query",
                        "schema": {"type": "array", "items": {"type": "string"}},
                        "description": "Repeat to require several tags.",
                    },
                    {
                        "name": "sort",
                        "in": "query",
                        "schema": {"type": "string", "enum": list(SORTS)},
                    },
                    {"name": "favourite", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        "description": "Past the last page: the last page.",
                    },
                    {
                        "name": "page_size",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_PAGE_SIZE,
                            "default": PAGE_SIZE,
                        },
                    },
                ],
                "responses": {
                    "200": _answer(
                        "Matching prompts, best first.",
                        {
                            "type": "object",
                            "properties": {
                                "count": {"type": "integer"},
                                "page": {"type": "integer"},
                                "pages": {"type": "integer"},
                                "results": {"type": "array", "items": _ref("Prompt")},
                            },
                        },
                    ),
                    "400": INVALID,
                },
            },
            "post": {
                "summary": "Save a prompt",
                "requestBody": _body(_ref("PromptInput")),
                "responses": {
                    "201": _answer("Saved.", _ref("Prompt")),
                    "400": INVALID,
                    "409": _answer(
                        "The library already holds this text; see duplicate_of.",
                        _ref("Error"),
                    ),
                },
            },
        },
        "/api/prompts/{id}": {
            "parameters": [ID],
            "get": {
                "summary": "One prompt, with the clips made from it",
                "responses": {
                    "200": _answer("The prompt.", _ref("Prompt")),
                    "404": MISSING,
                },
            },
            "patch": {
                "summary": "Edit; content changes keep a new version",
                "requestBody": _body(_ref("PromptInput")),
                "responses": {
                    "200": _answer("Saved.", _ref("Prompt")),
                    "400": INVALID,
                    "404": MISSING,
                    "409": _answer("Another prompt has this text.", _ref("Error")),
                },
            },
            "delete": {
                "summary": "Delete with its history",
                "responses": {"204": _answer("Deleted."), "404": MISSING},
            },
        },
        "/api/prompts/{id}/versions": {
            "parameters": [ID],
            "get": {
                "summary": "Every version, newest first",
                "responses": {
                    "200": _answer(
                        "Versions.",
                        {
                            "type": "object",
                            "properties": {
                                "count": {"type": "integer"},
                                "results": {
                                    "type": "array",
                                    "items": _ref("PromptVersion"),
                                },
                            },
                        },
                    ),
                    "404": MISSING,
                },
            },
        },
        "/api/prompts/export": {
            "get": {
                "summary": "The whole library as JSON",
                "responses": {"200": _answer("The export.", _ref("PromptLibrary"))},
            }
        },
        "/api/prompts/import": {
            "post": {
                "summary": f"Import an export (at most {MAX_IMPORT_BYTES // 2**20} MiB); "
                "all or nothing",
                "requestBody": _body(_ref("PromptLibrary")),
                "responses": {
                    "200": _answer(
                        "Counts imported and skipped.",
                        {
                            "type": "object",
                            "properties": {
                                "imported": {"type": "object"},
                                "skipped": {"type": "object"},
                            },
                        },
                    ),
                    "400": _answer(
                        "Refused; nothing changed. `problems` lists why.",
                        _ref("Error"),
                    ),
                    "413": _answer("Too large.", _ref("Error")),
                },
            }
        },
        "/api/prompts/expand": {
            "post": {
                "summary": "Expand wildcards, named lists and characters",
                "requestBody": _body(text_only),
                "responses": {
                    "200": _answer(
                        "Variations (capped) and how many the prompt makes.",
                        {
                            "type": "object",
                            "properties": {
                                "variations": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                },
                                "count": {"type": "integer"},
                                "truncated": {"type": "boolean"},
                                "message": {"type": "string"},
                            },
                        },
                    ),
                    "400": INVALID,
                },
            }
        },
        "/api/prompts/coach": {
            "post": {
                "summary": "Hints on a prompt",
                "requestBody": _body(
                    {
                        **text_only,
                        "properties": {
                            **text_only["properties"],
                            **{
                                name: {
                                    "type": ["integer", "null"],
                                    "minimum": low,
                                    "maximum": high,
                                }
                                for name, (low, high) in COACH_BOUNDS.items()
                            },
                        },
                    }
                ),
                "responses": {
                    "200": _answer(
                        "Hints; a fix is the whole prompt after one click.",
                        {
                            "type": "object",
                            "properties": {
                                "hints": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "code": {"type": "string"},
                                            "message": {"type": "string"},
                                            "fix": {
                                                "type": "object",
                                                "properties": {
                                                    "label": {"type": "string"},
                                                    "text": {"type": "string"},
                                                },
                                            },
                                        },
                                    },
                                }
                            },
                        },
                    ),
                    "400": INVALID,
                },
            }
        },
    }
