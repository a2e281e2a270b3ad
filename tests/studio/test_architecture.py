"""The shape of the code: no app reaches into another app's views or API,
and no two modules import each other, however indirectly, at import time."""

from __future__ import annotations

import ast
from pathlib import Path

STUDIO = Path(__file__).resolve().parents[2] / "studio"


def module_imports() -> dict[str, set[str]]:
    """Each studio module and the studio modules it imports at its top level."""
    paths = {}
    for path in STUDIO.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(STUDIO.parent).with_suffix("").parts)
        paths[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module in paths:
                graph[name].add(node.module)
                graph[name] |= {
                    f"{node.module}.{alias.name}"
                    for alias in node.names
                    if f"{node.module}.{alias.name}" in paths
                }
            elif isinstance(node, ast.Import):
                graph[name] |= {a.name for a in node.names if a.name in paths}
    return graph


def app_of(module: str) -> str:
    return module.split(".")[1]


def test_no_app_imports_another_apps_views_or_api():
    crossing = [
        f"{name} imports {target}"
        for name, targets in module_imports().items()
        for target in targets
        # studio.<app>.views / .api; studio.api and studio.lib are shared
        if target.count(".") == 2
        and app_of(target) not in ("api", "lib")
        and target.rsplit(".", 1)[-1] in ("views", "api")
        and app_of(target) != app_of(name)
        and name != "studio.urls"
    ]
    assert crossing == []


def test_no_modules_import_each_other():
    graph = module_imports()
    cycles = []

    def visit(name: str, path: list[str], done: set[str]) -> None:
        for target in graph[name]:
            if target in path:
                cycles.append(path[path.index(target) :] + [target])
            elif target not in done:
                visit(target, [*path, target], done)
        done.add(name)

    done: set[str] = set()
    for name in graph:
        if name not in done:
            visit(name, [name], done)
    assert cycles == []
