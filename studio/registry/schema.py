"""OpenAPI paths of the model registry, merged into /api/schema."""

from __future__ import annotations

from typing import Any


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
        }
    }
