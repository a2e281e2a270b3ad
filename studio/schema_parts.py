"""The hand-written OpenAPI of routes not yet served by :mod:`studio.api`.

``/api/schema`` is ninja's generated document merged with these (see
``StudioAPI.with_legacy_routes``), so it covers every route while apps move
over. An app whose routes are all ninja routes drops its module from here.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Any

# Each module may define `openapi_paths() -> dict` and `openapi_components() -> dict`.
PART_MODULES: tuple[str, ...] = ()
# Whole documents, `openapi_schema() -> dict`: their paths and schemas.
DOCUMENT_MODULES: tuple[str, ...] = ()


def _module(name: str) -> ModuleType | None:
    try:
        return import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise  # the module is there and one of its imports is broken
        return None


def extra_paths() -> tuple[dict[str, Any], dict[str, Any]]:
    paths: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for name in PART_MODULES:
        module = _module(name)
        if module is None:
            continue
        paths.update(getattr(module, "openapi_paths", dict)())
        components.update(getattr(module, "openapi_components", dict)())
    return paths, components


def legacy_parts() -> tuple[dict[str, Any], dict[str, Any]]:
    """Every hand-written path, and the component schemas they refer to."""
    paths: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for name in DOCUMENT_MODULES:
        module = _module(name)
        if module is None:
            continue
        document = module.openapi_schema()
        paths.update(document.get("paths", {}))
        components.update(document.get("components", {}).get("schemas", {}))
    more_paths, more_components = extra_paths()
    paths.update(more_paths)
    components.update(more_components)
    return paths, components
