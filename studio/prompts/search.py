"""Full-text search over the prompt library.

On SQLite an FTS5 table (``prompts_prompt_fts``, rowid = prompt id) holds each
prompt's title, text, notes and tags; the services keep it in step with every
write. On PostgreSQL the same query runs on a weighted tsvector. Both match
every word, each as a prefix, so results follow the creator's typing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import F, QuerySet

from studio.lib import search as shared_search
from studio.prompts.models import Prompt, TaggedPrompt

FTS_TABLE = "prompts_prompt_fts"
MAX_QUERY_CHARS = shared_search.MAX_QUERY_CHARS
SORTS = {
    "updated": ("-updated", "-pk"),
    "created": ("-created", "-pk"),
    "title": ("title", "pk"),
    "rating": ("-rating", "-updated", "-pk"),
}


def terms(query: str) -> list[str]:
    # Every search box of the studio reads its words the same way.
    return shared_search.terms(query)


def is_sqlite() -> bool:
    return connection.vendor == "sqlite"


def index(prompts: Iterable[Prompt]) -> None:
    """Write prompts (with their current tags) into the SQLite index."""
    if not is_sqlite():
        return
    rows = [(p.pk, p.title, p.text, p.notes, " ".join(p.tag_names())) for p in prompts]
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [(row[0],) for row in rows]
        )
        cursor.executemany(
            f"INSERT INTO {FTS_TABLE} (rowid, title, text, notes, tags) "
            "VALUES (%s, %s, %s, %s, %s)",
            rows,
        )


def unindex(prompt_ids: Iterable[int]) -> None:
    if not is_sqlite():
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [(pk,) for pk in prompt_ids]
        )


def _fts5_query(words: list[str]) -> str:
    # Each word quoted (so no FTS5 operator sneaks in) and matched as a prefix.
    return " ".join(f'"{word}"*' for word in words)


def _tsquery(words: list[str]) -> str:
    return " & ".join(f"{word}:*" for word in words)


def prompt_search(
    prompts: QuerySet[Prompt],
    *,
    query: str = "",
    tags: Iterable[str] = (),
    favourites: bool = False,
    sort: str = "",
) -> QuerySet[Prompt]:
    """Filter an owner's prompts by words and tags; best matches first."""
    for tag in tags:
        # IN (subquery) rather than a join: one list per tag, whatever the plan.
        tagged = TaggedPrompt.objects.filter(tag__name=tag).values("content_object")
        prompts = prompts.filter(pk__in=tagged)
    if favourites:
        prompts = prompts.filter(favourite=True)
    words = terms(query)
    ordering = SORTS.get(sort)
    if not words:
        return prompts.order_by(*(ordering or SORTS["updated"]))
    if is_sqlite():
        # A join, not a subquery per row: FTS5 finds the matches through its
        # index once and computes each one's bm25 rank (lower is better).
        prompts = prompts.extra(
            tables=[FTS_TABLE],
            where=[f"prompts_prompt.id = +{FTS_TABLE}.rowid", f"{FTS_TABLE} MATCH %s"],
            params=[_fts5_query(words)],
            select={"rank": f"{FTS_TABLE}.rank"},
        )
        if ordering:
            return prompts.order_by(*ordering)
        return prompts.order_by("rank", "-updated")
    return _postgres_search(prompts, words, ordering)


def _postgres_search(
    prompts: QuerySet[Prompt], words: list[str], ordering: tuple[str, ...] | None
) -> QuerySet[Prompt]:
    from django.contrib.postgres.aggregates import StringAgg
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
    from django.db.models import OuterRef, Subquery, TextField, Value
    from django.db.models.functions import Coalesce

    # Tags through a subquery, so the outer query needs no GROUP BY.
    tag_text = Subquery(
        TaggedPrompt.objects.filter(content_object=OuterRef("pk"))
        .values("content_object")
        .annotate(names=StringAgg("tag__name", delimiter=" "))
        .values("names"),
        output_field=TextField(),
    )
    vector = (
        SearchVector("title", weight="A", config="english")
        + SearchVector("text", weight="B", config="english")
        + SearchVector(
            Coalesce(tag_text, Value(""), output_field=TextField()),
            weight="B",
            config="english",
        )
        + SearchVector("notes", weight="C", config="english")
    )
    search = SearchQuery(_tsquery(words), search_type="raw", config="english")
    matching = (
        prompts.annotate(document=vector)
        .filter(document=search)
        .annotate(rank=SearchRank(F("document"), search))
    )
    if ordering:
        return matching.order_by(*ordering)
    return matching.order_by("-rank", "-updated")
