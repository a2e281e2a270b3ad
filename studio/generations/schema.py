"""The OpenAPI description of the JSON API, served at /api/schema."""

from __future__ import annotations

from typing import Any

from generation import specs
from studio import schema_parts
from studio.generations.search import FILTER_STATUSES
from studio.numbers import MAX_ID


def _errors() -> dict[str, Any]:
    return {
        "description": "Invalid settings; messages per field.",
        "content": {
            "application/json": {
                "schema": {
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
                }
            }
        },
    }


def _message(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
        },
    }


def _generation(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Generation"}}
        },
    }


def _query(
    name: str, description: str, schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def openapi_schema() -> dict[str, Any]:
    # The views import this module to serve it.
    from studio.generations.api import LIST_PAGE_SIZE, MAX_LIST_PAGE_SIZE

    request = {
        "type": "object",
        "additionalProperties": False,
        "required": ["prompt"],
        "properties": {
            "prompt": {"type": "string", "maxLength": specs.MAX_PROMPT_CHARS},
            "negative_prompt": {"type": "string", "maxLength": specs.MAX_PROMPT_CHARS},
            "model": {"type": "string", "default": "builtin"},
            "num_frames": {
                "type": "integer",
                "minimum": specs.MIN_FRAMES,
                "maximum": specs.MAX_FRAMES,
                "default": 16,
            },
            "fps": {
                "type": "integer",
                "minimum": specs.MIN_FPS,
                "maximum": specs.MAX_FPS,
                "default": 8,
            },
            "width": {
                "type": "integer",
                "minimum": specs.MIN_SIZE,
                "maximum": specs.MAX_SIZE,
                "multipleOf": 8,
                "default": 256,
            },
            "height": {
                "type": "integer",
                "minimum": specs.MIN_SIZE,
                "maximum": specs.MAX_SIZE,
                "multipleOf": 8,
                "default": 256,
            },
            "steps": {
                "type": "integer",
                "minimum": specs.MIN_STEPS,
                "maximum": specs.MAX_STEPS,
                "default": 20,
            },
            "guidance": {
                "type": "number",
                "minimum": specs.MIN_GUIDANCE,
                "maximum": specs.MAX_GUIDANCE,
                "default": 5.0,
            },
            "seed": {
                "type": ["integer", "null"],
                "minimum": 0,
                "maximum": specs.MAX_SEED,
                "description": "Random when left out; always recorded.",
            },
            "project": {"type": ["string", "null"], "format": "uuid"},
            "strength": {
                "type": "number",
                "minimum": specs.MIN_STRENGTH,
                "maximum": specs.MAX_STRENGTH,
                "description": "video→video: the share of the steps that run",
            },
        },
    }
    generation = {
        "type": "object",
        "required": ["id", "status", "progress", "settings", "ws_url", "created"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "status": {
                "type": "string",
                "enum": ["queued", "running", "succeeded", "failed", "cancelled"],
            },
            "progress": {
                "type": "object",
                "properties": {
                    "step": {"type": "integer"},
                    "steps": {"type": "integer"},
                    "elapsed": {"type": "number"},
                    "eta": {"type": ["number", "null"]},
                },
            },
            "position": {"type": ["integer", "null"]},
            "error": {"type": "string"},
            "video_url": {"type": "string"},
            "poster_url": {"type": "string"},
            "seconds": {"type": ["number", "null"]},
            "settings": {"type": "object"},
            "seed": {"type": "integer"},
            "starred": {"type": "boolean"},
            "project": {"type": ["string", "null"]},
            "ws_url": {"type": "string"},
            "created": {"type": "string", "format": "date-time"},
            "started": {"type": ["string", "null"], "format": "date-time"},
            "finished": {"type": ["string", "null"], "format": "date-time"},
        },
    }
    path_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }
    schema = {
        "openapi": "3.1.0",
        "info": {
            "title": "Studio API",
            "version": "1",
            "description": (
                "Queue AI video generations and follow them. Live previews "
                "stream over the websocket at ws_url; see the README."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            },
            "schemas": {
                "GenerationRequest": request,
                "Generation": generation,
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                },
            },
        },
        "paths": {
            "/api/generations": {
                "get": {
                    "summary": "Your generations across projects, newest first",
                    "parameters": [
                        _query("q", "Words the prompt contains (all of them)."),
                        _query(
                            "status",
                            "Only this status; `active` is queued or running.",
                            {"type": "string", "enum": list(FILTER_STATUSES)},
                        ),
                        _query(
                            "project",
                            "Only this project's.",
                            {"type": "string", "format": "uuid"},
                        ),
                        _query("model", "Only clips made with this model."),
                        _query(
                            "starred",
                            "Only starred clips (true) or unstarred ones (false).",
                            {"type": "string", "enum": ["true", "false", "1", "0"]},
                        ),
                        _query(
                            "page",
                            "Page number; past the last page, the last page.",
                            {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        ),
                        _query(
                            "page_size",
                            "Generations per page.",
                            {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_LIST_PAGE_SIZE,
                                "default": LIST_PAGE_SIZE,
                            },
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": "One page of generations.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "count": {"type": "integer"},
                                            "page": {"type": "integer"},
                                            "pages": {"type": "integer"},
                                            "results": {
                                                "type": "array",
                                                "items": {
                                                    "$ref": "#/components/schemas/Generation"
                                                },
                                            },
                                        },
                                    }
                                }
                            },
                        },
                        "400": _errors(),
                        "401": _message("Not logged in and no valid token."),
                    },
                },
                "post": {
                    "summary": "Queue a generation",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "$ref": "#/components/schemas/GenerationRequest"
                                }
                            },
                            # Image→video and video→video: the settings plus files.
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["settings"],
                                    "properties": {
                                        "settings": {
                                            "type": "string",
                                            "description": "GenerationRequest as JSON",
                                        },
                                        "image": {"type": "string", "format": "binary"},
                                        "video": {"type": "string", "format": "binary"},
                                        "strength": {
                                            "type": "number",
                                            "minimum": specs.MIN_STRENGTH,
                                            "maximum": specs.MAX_STRENGTH,
                                        },
                                    },
                                }
                            },
                        },
                    },
                    "responses": {
                        "201": _generation("Queued."),
                        "400": _errors(),
                        "401": _message("Not logged in and no valid token."),
                        "429": _message("Too many of your clips are already queued."),
                    },
                },
            },
            "/api/generations/{id}": {
                "get": {
                    "summary": "A generation's status, progress and result",
                    "parameters": [path_id],
                    "responses": {
                        "200": _generation("The generation."),
                        "401": _message("Not logged in and no valid token."),
                        "404": _message("No such generation of yours."),
                    },
                },
                "patch": {
                    "summary": "Star or unstar a generation",
                    "parameters": [path_id],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["starred"],
                                    "properties": {"starred": {"type": "boolean"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _generation("The generation after the change."),
                        "400": _errors(),
                        "401": _message("Not logged in and no valid token."),
                        "404": _message("No such generation of yours."),
                    },
                },
                "delete": {
                    "summary": "Delete a generation and its files",
                    "description": "A queued or running generation is cancelled first.",
                    "parameters": [path_id],
                    "responses": {
                        "204": {"description": "Deleted."},
                        "401": _message("Not logged in and no valid token."),
                        "404": _message("No such generation of yours."),
                    },
                },
            },
            "/api/generations/{id}/cancel": {
                "post": {
                    "summary": "Cancel a queued or running generation",
                    "parameters": [path_id],
                    "responses": {
                        "200": _generation("The generation after the request."),
                        "401": _message("Not logged in and no valid token."),
                        "404": _message("No such generation of yours."),
                    },
                }
            },
        },
    }
    extra_paths, extra_components = schema_parts.extra_paths()
    schema["paths"].update(extra_paths)
    schema["components"]["schemas"].update(extra_components)
    return schema
