"""OpenAPI paths for galleries and share links, merged into /api/schema."""

from __future__ import annotations

from typing import Any

from studio.galleries.api import (
    ITEMS_PER_PAGE,
    MAX_DESCRIPTION_CHARS,
    MAX_LABEL_CHARS,
    MAX_TITLE_CHARS,
)
from studio.numbers import MAX_ID
from studio.sharing.services import MAX_EXPIRY_HOURS


def _json(ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}
        },
    }


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


NOT_FOUND = _json("Error", "Not found, or not yours.")
INVALID = {"description": "Invalid fields; messages per field."}
GALLERY_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}  # fmt: skip
GALLERY_FIELDS = {
    "title": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_TITLE_CHARS,
        "pattern": r"\S",
    },
    "description": {"type": "string", "maxLength": MAX_DESCRIPTION_CHARS},
    "show_prompts": {"type": "boolean", "default": False},
}


def openapi_components() -> dict[str, Any]:
    return {
        "Gallery": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                **GALLERY_FIELDS,
                "cover": {"type": ["string", "null"], "format": "uuid"},
                "created": {"type": "string", "format": "date-time"},
                "updated": {"type": "string", "format": "date-time"},
                "items": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/GalleryItem"},
                },  # fmt: skip
                "page": {"type": "integer"},
                "pages": {"type": "integer"},
                "count": {"type": "integer"},
            },
        },
        "GalleryItem": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "position": {"type": "integer"},
                "generation": {"type": "string", "format": "uuid"},
                "prompt": {"type": "string"},
                "video_url": {"type": "string"},
                "poster_url": {"type": "string"},
            },
        },
        "ShareLink": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "url": {
                    "type": "string",
                    "description": "Shown once; only its hash is kept.",
                },  # fmt: skip
                "label": {"type": "string"},
                "expires": {"type": ["string", "null"], "format": "date-time"},
            },
        },
    }


def openapi_paths() -> dict[str, Any]:
    key = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    item_id = {"name": "item", "in": "path", "required": True, "schema": key}
    share_id = {"name": "id", "in": "path", "required": True, "schema": key}
    page = {
        "name": "page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        "description": f"{ITEMS_PER_PAGE} items a page; past the last, the last.",
    }
    return {
        "/api/galleries": {
            "get": {
                "summary": "Your galleries",
                "responses": {"200": {"description": "{galleries: [Gallery]}"}},
            },
            "post": {
                "summary": "Create a gallery",
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["title"],
                        "properties": GALLERY_FIELDS,
                    }
                ),  # fmt: skip
                "responses": {"201": _json("Gallery", "Created."), "400": INVALID},
            },
        },
        "/api/galleries/{id}": {
            "parameters": [GALLERY_ID],
            "get": {
                "summary": "A gallery with one page of its items",
                "parameters": [page],
                "responses": {
                    "200": _json("Gallery", "The gallery."),
                    "400": INVALID,
                    "404": NOT_FOUND,
                },
            },
            "patch": {
                "summary": "Change title, description, show_prompts or cover",
                "requestBody": _body(
                    {
                        "type": "object",
                        "properties": {
                            **GALLERY_FIELDS,
                            "cover": {"type": ["string", "null"], "format": "uuid"},
                        },
                    }
                ),  # fmt: skip
                "responses": {
                    "200": _json("Gallery", "Updated."),
                    "400": INVALID,
                    "404": NOT_FOUND,
                },  # fmt: skip
            },
            "delete": {
                "summary": "Delete a gallery (its clips stay in their projects)",
                "responses": {"204": {"description": "Deleted."}, "404": NOT_FOUND},
            },
        },
        "/api/galleries/{id}/items": {
            "parameters": [GALLERY_ID],
            "post": {
                "summary": "Append a finished clip",
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["generation"],
                        "properties": {
                            "generation": {"type": "string", "format": "uuid"}
                        },
                    }
                ),  # fmt: skip
                "responses": {
                    "201": _json("GalleryItem", "Added (or already there)."),
                    "400": INVALID,
                    "404": NOT_FOUND,
                },  # fmt: skip
            },
        },
        "/api/galleries/{id}/items/{item}": {
            "parameters": [GALLERY_ID, item_id],
            "delete": {
                "summary": "Remove a clip from the gallery",
                "responses": {"204": {"description": "Removed."}, "404": NOT_FOUND},
            },
        },
        "/api/galleries/{id}/shares": {
            "parameters": [GALLERY_ID],
            "post": {
                "summary": "Create a share link",
                "requestBody": _body(
                    {
                        "type": "object",
                        "properties": {
                            "expires_in_hours": {
                                "type": "number",
                                "exclusiveMinimum": 0,
                                "maximum": MAX_EXPIRY_HOURS,
                            },  # fmt: skip
                            "label": {
                                "type": "string",
                                "maxLength": MAX_LABEL_CHARS,
                            },
                        },
                    }
                ),
                "responses": {
                    "201": _json("ShareLink", "Created."),
                    "400": INVALID,
                    "404": NOT_FOUND,
                },  # fmt: skip
            },
        },
        "/api/shares/{id}": {
            "parameters": [share_id],
            "delete": {
                "summary": "Revoke a share link: it answers 404 from then on",
                "responses": {"204": {"description": "Revoked."}, "404": NOT_FOUND},
            },
        },
    }
