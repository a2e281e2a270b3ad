"""Finding clips across all of a creator's projects: the Clips page and
``GET /api/generations`` share these filters."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from studio.generations.models import Generation
from studio.lib import search as words

MAX_QUERY_CHARS = 200
STATUSES = [choice for choice, _ in Generation.Status.choices]
# "active": queued or running, the clips still on their way.
ACTIVE = "active"
FILTER_STATUSES = [ACTIVE, *STATUSES]


def clean_filters(
    params: Any, *, projects: QuerySet
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Read q / status / project / model / starred from a QueryDict-like ``params``.

    Returns the cleaned filters and creator-readable errors per parameter;
    a project that is not one of ``projects`` is as unknown as a bad id.
    """
    filters: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    query = params.get("q", "").strip()
    if len(query) > MAX_QUERY_CHARS:
        errors["q"] = [f"Search with at most {MAX_QUERY_CHARS} characters."]
    elif query:
        filters["query"] = query
    status = params.get("status", "")
    if status and status not in FILTER_STATUSES:
        errors["status"] = [f"Status is one of: {', '.join(FILTER_STATUSES)}."]
    elif status:
        filters["status"] = status
    project = params.get("project", "")
    if project:
        try:
            found = projects.filter(pk=uuid.UUID(project)).first()
        except ValueError:
            found = None
        if found is None:
            errors["project"] = ["No such project."]
        else:
            filters["project"] = found
    starred = params.get("starred", "")
    if starred in ("1", "true"):
        filters["starred"] = True
    elif starred in ("0", "false"):
        filters["starred"] = False
    elif starred:
        errors["starred"] = ["Starred is true or false."]
    model = params.get("model", "").strip()
    if len(model) > 100:
        errors["model"] = ["No such model."]
    elif model:
        filters["model"] = model
    return filters, errors


def generation_search(
    generations: QuerySet[Generation],
    *,
    query: str = "",
    status: str = "",
    project: Any = None,
    model: str = "",
    starred: bool | None = None,
) -> QuerySet[Generation]:
    """``generations`` narrowed by the filters, newest first; clips on their
    way (``status="active"``) in the order they render: oldest first."""
    found = generations
    # Words match as the library's do: "cats" finds a cat.
    for word in words.terms(query):
        found = found.filter(prompt__iregex=words.word_start_pattern(word))
    if status == ACTIVE:
        found = found.filter(status__in=Generation.ACTIVE)
    elif status:
        found = found.filter(status=status)
    if project is not None:
        found = found.filter(project=project)
    if model:
        found = found.filter(settings__model=model)
    if starred is not None:
        found = found.filter(starred=starred)
    found = found.select_related("project")
    if status == ACTIVE:
        return found.order_by("created", "pk")
    return found.order_by("-created", "-pk")
