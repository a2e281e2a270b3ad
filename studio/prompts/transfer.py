"""Export and import the library as one JSON document.

The document holds prompts (with tags and every version), characters, named
lists, the creator's own styles and the director profile. Exporting, importing
into an empty account and exporting again gives the same document, save the
``exported`` time. An import is checked whole before anything is written, and
written in one transaction: it lands entirely or not at all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from taggit.models import Tag

from studio.numbers import MAX_COUNTER, NumberError, check_whole
from studio.prompts import search
from studio.prompts.models import (
    Character,
    DirectorProfile,
    Prompt,
    PromptVersion,
    StylePreset,
    TaggedPrompt,
    WordList,
    text_digest,
)
from studio.prompts.validation import (
    clean_tags,
    validate_character,
    validate_prompt,
    validate_style,
    validate_word_list,
)

FORMAT = "studio.prompt-library"
VERSION = 1
MAX_IMPORT_BYTES = 8 * 1024 * 1024
MAX_IMPORT_PROMPTS = 10_000
MAX_IMPORT_VERSIONS = 200
MAX_IMPORT_OTHERS = 1_000
MAX_REPORTED_ERRORS = 20


class ImportRefused(ValueError):
    """The document cannot be imported; nothing was changed."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def library_export(*, owner: AbstractBaseUser) -> dict[str, Any]:
    prompts = (
        Prompt.objects.filter(owner=owner)
        .prefetch_related("tags", "versions")
        .order_by("created", "pk")
    )
    director = DirectorProfile.objects.filter(owner=owner).first()
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported": _time(timezone.now()),
        "prompts": [
            {
                "title": p.title,
                "text": p.text,
                "negative_prompt": p.negative_prompt,
                "notes": p.notes,
                "tags": p.tag_names(),
                "rating": p.rating,
                "favourite": p.favourite,
                "created": _time(p.created),
                "updated": _time(p.updated),
                "versions": [
                    {
                        "number": v.number,
                        "title": v.title,
                        "text": v.text,
                        "negative_prompt": v.negative_prompt,
                        "notes": v.notes,
                        "tags": list(v.tags),
                        "created": _time(v.created),
                    }
                    for v in sorted(p.versions.all(), key=lambda v: v.number)
                ],
            }
            for p in prompts
        ],
        "characters": list(
            Character.objects.filter(owner=owner)
            .order_by("name")
            .values("name", "kind", "description")
        ),
        "lists": list(
            WordList.objects.filter(owner=owner)
            .order_by("name")
            .values("name", "options")
        ),
        "styles": [
            # A shipped look goes by its name; styles made from an imported
            # .cube table stay behind (the table is a file, not JSON).
            {
                "name": style.name,
                "snippet": style.snippet,
                "negative_prompt": style.negative_prompt,
                "look": style.look,
            }
            for style in StylePreset.objects.filter(owner=owner, lut="").order_by(
                "name"
            )
        ],
        "director": (
            {
                "camera": director.camera,
                "pacing": director.pacing,
                "look": director.look,
                "negative_prompt": director.negative_prompt,
            }
            if director
            else None
        ),
    }


def _parse_time(value: Any, errors: list[str], where: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        errors.append(f"{where}: not an ISO 8601 time.")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _list(data: dict, key: str, limit: int) -> list:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportRefused(f"“{key}” must be a list.")
    if len(value) > limit:
        raise ImportRefused(f"{len(value):,} {key}; an import holds at most {limit:,}.")
    return value


def _check_prompt(item: Any, where: str, errors: list[str]) -> dict | None:
    if not isinstance(item, dict):
        errors.append(f"{where}: must be an object.")
        return None
    fields = {
        k: item.get(k) for k in item if k not in ("versions", "created", "updated")
    }
    cleaned, problems = validate_prompt(fields)
    errors.extend(f"{where}.{k}: {' '.join(v)}" for k, v in problems.items())
    cleaned["created"] = _parse_time(item.get("created"), errors, f"{where}.created")
    cleaned["updated"] = _parse_time(item.get("updated"), errors, f"{where}.updated")
    versions = item.get("versions") or []
    if not isinstance(versions, list) or len(versions) > MAX_IMPORT_VERSIONS:
        errors.append(f"{where}.versions: a list of at most {MAX_IMPORT_VERSIONS}.")
        return None
    cleaned["versions"] = []
    for n, version in enumerate(versions):
        at = f"{where}.versions[{n}]"
        if not isinstance(version, dict):
            errors.append(f"{at}: must be an object.")
            continue
        fields = {
            k: version.get(k) for k in ("title", "text", "negative_prompt", "notes")
        }
        checked, problems = validate_prompt(fields)
        tags, tag_problems = clean_tags(version.get("tags"))
        number = version.get("number", n + 1)
        try:
            check_whole(number, label="number", low=1, high=MAX_COUNTER)
        except NumberError as exc:
            errors.append(f"{at}.number: {exc}")
        errors.extend(f"{at}.{k}: {' '.join(v)}" for k, v in problems.items())
        errors.extend(f"{at}.tags: {m}" for m in tag_problems)
        checked.update(
            tags=tags,
            number=number,
            created=_parse_time(version.get("created"), errors, f"{at}.created"),
        )
        cleaned["versions"].append(checked)
    numbers = [v["number"] for v in cleaned["versions"]]
    if len(set(numbers)) != len(numbers):
        errors.append(f"{where}.versions: version numbers repeat.")
    return cleaned


def _check(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportRefused(f"This is not a prompt library export (format “{FORMAT}”).")
    if data.get("version") != VERSION:
        raise ImportRefused(f"Unsupported export version {data.get('version')!r}.")
    errors: list[str] = []
    prompts = []
    for n, item in enumerate(_list(data, "prompts", MAX_IMPORT_PROMPTS)):
        if (cleaned := _check_prompt(item, f"prompts[{n}]", errors)) is not None:
            prompts.append(cleaned)
    others: dict[str, list[dict]] = {}
    for key, checker in (
        ("characters", validate_character),
        ("lists", validate_word_list),
        ("styles", validate_style),
    ):
        others[key] = []
        for n, item in enumerate(_list(data, key, MAX_IMPORT_OTHERS)):
            cleaned, problems = checker(item)
            errors.extend(f"{key}[{n}].{k}: {' '.join(v)}" for k, v in problems.items())
            others[key].append(cleaned)
    director = data.get("director")
    if director is not None:
        if not isinstance(director, dict) or not all(
            isinstance(director.get(k, ""), str) and len(director.get(k, "")) <= 200
            for k in ("camera", "pacing", "look")
        ):
            errors.append("director: camera, pacing and look are short texts.")
        elif len(str(director.get("negative_prompt", ""))) > 600:
            errors.append("director.negative_prompt: keep it under 600 characters.")
    if errors:
        shown = errors[:MAX_REPORTED_ERRORS]
        raise ImportRefused(
            f"The import has {len(errors)} problem(s); nothing was imported.", shown
        )
    return {"prompts": prompts, **others, "director": director}


def library_import(*, owner: AbstractBaseUser, data: Any) -> dict[str, Any]:
    """Import a document; returns counts of what was added and skipped.

    Prompts whose text the library already has, and characters, lists and
    styles whose name it already has, are skipped rather than overwritten.
    """
    checked = _check(data)
    added = {"prompts": 0, "characters": 0, "lists": 0, "styles": 0}
    skipped = dict(added)
    with transaction.atomic():
        new_prompts = _import_prompts(owner, checked["prompts"], skipped)
        added["prompts"] = len(new_prompts)
        taken = set(
            Character.objects.filter(owner=owner).values_list("name", flat=True)
        )
        for item in checked["characters"]:
            if item["name"] in taken:
                skipped["characters"] += 1
                continue
            Character.objects.create(owner=owner, **item)
            taken.add(item["name"])
            added["characters"] += 1
        taken = set(WordList.objects.filter(owner=owner).values_list("name", flat=True))
        for item in checked["lists"]:
            if item["name"] in taken:
                skipped["lists"] += 1
                continue
            WordList.objects.create(owner=owner, **item)
            taken.add(item["name"])
            added["lists"] += 1
        taken = set(
            StylePreset.objects.filter(owner=owner).values_list("name", flat=True)
        )
        for item in checked["styles"]:
            if item["name"] in taken:
                skipped["styles"] += 1
                continue
            StylePreset.objects.create(owner=owner, **item)
            taken.add(item["name"])
            added["styles"] += 1
        director = checked["director"]
        if director and not DirectorProfile.objects.filter(owner=owner).exists():
            DirectorProfile.objects.create(
                owner=owner,
                **{
                    k: str(director.get(k, ""))
                    for k in ("camera", "pacing", "look", "negative_prompt")
                },
            )
        search.index(
            Prompt.objects.filter(pk__in=[p.pk for p in new_prompts]).prefetch_related(
                "tags"
            )
        )
    return {"imported": added, "skipped": skipped}


# What an import skips, and why: the library keeps what it already has.
_KINDS = (
    ("prompts", "prompt", "prompts", "with the same text"),
    ("characters", "character", "characters", "with the same name"),
    ("lists", "list", "lists", "with the same name"),
    ("styles", "style", "styles", "with the same name"),
)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def import_message(summary: dict[str, Any]) -> str:
    """One sentence a creator reads after an import: what was added, and what
    was skipped because the library already had it."""
    added, skipped = summary["imported"], summary["skipped"]
    imported = [
        _count(added.get(key, 0), one, many)
        for key, one, many, _ in _KINDS
        if added.get(key, 0)
    ]
    left_out = [
        f"{_count(skipped.get(key, 0), one, many)} {why}"
        for key, one, many, why in _KINDS
        if skipped.get(key, 0)
    ]
    if not imported and not left_out:
        return "The file held nothing to import."
    text = f"Imported {_join(imported)}." if imported else "Nothing new was imported."
    if left_out:
        several = sum(skipped.get(key, 0) for key, *_ in _KINDS) > 1
        text += (
            f" Skipped {_join(left_out)}: your library already has "
            f"{'them' if several else 'it'}, and an import never overwrites."
        )
    return text


def _import_prompts(
    owner: AbstractBaseUser, items: list[dict], skipped: dict[str, int]
) -> list[Prompt]:
    seen = set(Prompt.objects.filter(owner=owner).values_list("digest", flat=True))
    now = timezone.now()
    rows: list[tuple[Prompt, dict]] = []
    for item in items:
        digest = text_digest(item["text"])
        if digest in seen:
            skipped["prompts"] += 1
            continue
        seen.add(digest)
        prompt = Prompt(
            owner=owner,
            title=item["title"],
            text=item["text"],
            negative_prompt=item["negative_prompt"],
            notes=item["notes"],
            rating=item["rating"],
            favourite=item["favourite"],
            digest=digest,
            created=item["created"] or now,
            updated=item["updated"] or item["created"] or now,
        )
        rows.append((prompt, item))
    prompts = Prompt.objects.bulk_create([prompt for prompt, _ in rows])
    if not prompts:
        return []
    if prompts[0].pk is None:
        # Backends without RETURNING: read the ids back in creation order.
        ids = list(Prompt.objects.filter(owner=owner).order_by("-pk")[: len(prompts)])[
            ::-1
        ]
        for prompt, saved in zip(prompts, ids, strict=True):
            prompt.pk = saved.pk
    names = {tag for _, item in rows for tag in item["tags"]}
    tags = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    for name in sorted(names - set(tags)):
        tags[name] = Tag.objects.create(name=name)
    TaggedPrompt.objects.bulk_create(
        TaggedPrompt(content_object=prompt, tag=tags[name])
        for prompt, (_, item) in zip(prompts, rows, strict=True)
        for name in item["tags"]
    )
    versions = []
    for prompt, (_, item) in zip(prompts, rows, strict=True):
        history = item["versions"] or [
            {
                "number": 1,
                "title": item["title"],
                "text": item["text"],
                "negative_prompt": item["negative_prompt"],
                "notes": item["notes"],
                "tags": item["tags"],
                "created": item["created"],
            }
        ]
        versions.extend(
            PromptVersion(
                prompt=prompt,
                number=v["number"],
                title=v["title"],
                text=v["text"],
                negative_prompt=v["negative_prompt"],
                notes=v["notes"],
                tags=v["tags"],
                created=v["created"] or prompt.created,
            )
            for v in history
        )
    PromptVersion.objects.bulk_create(versions, batch_size=500)
    return prompts
