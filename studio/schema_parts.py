"""OpenAPI path fragments contributed by each app, merged into /api/schema."""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Each module may define `openapi_paths() -> dict` and `openapi_components() -> dict`.
PART_MODULES = (
    "studio.prompts.schema",
    "studio.galleries.schema",
    "studio.storyboards.schema",
    "studio.registry.schema",
)


def extra_paths() -> tuple[dict[str, Any], dict[str, Any]]:
    paths: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for name in PART_MODULES:
        try:
            module = import_module(name)
        except ModuleNotFoundError:
            continue
        paths.update(getattr(module, "openapi_paths", dict)())
        components.update(getattr(module, "openapi_components", dict)())
    return paths, components
