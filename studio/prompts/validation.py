"""Checking library input: the API, the forms and the importer end here.

Each checker returns cleaned values and a dict of messages per field, the
same shape as studio.generations.validation.
"""

from __future__ import annotations

import re
from typing import Any

from generation.looks import SHIPPED as SHIPPED_LOOKS
from generation.specs import MAX_PROMPT_CHARS
from studio.numbers import NumberError, check_whole
from studio.prompts.models import (
    MAX_DESCRIPTION_CHARS,
    MAX_NOTES_CHARS,
    MAX_TITLE_CHARS,
)
from studio.prompts.vocabulary import NAME_RE

Errors = dict[str, list[str]]

MAX_TAGS = 20
MAX_TAG_CHARS = 40
MAX_LIST_OPTIONS = 100
MAX_OPTION_CHARS = 200
MAX_RATING = 5
TAG_RE = re.compile(r"^[\w][\w .+#&'-]*$", re.UNICODE)
# The clip the coach judges a prompt for, when the request names none.
COACH_DEFAULTS = {"num_frames": 16, "fps": 8}
PROMPT_FIELDS = {"title", "text", "tags", "notes", "rating", "favourite"} | {
    "negative_prompt"
}


def clean_text(
    value: Any, label: str, limit: int, *, required: bool = False
) -> tuple[str, list[str]]:
    """Trimmed text of at most ``limit`` characters; None reads as empty."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        return "", [f"{label} must be text."]
    value = value.strip()
    if required and not value:
        return "", [f"{label} is empty."]
    if len(value) > limit:
        return "", [f"{label} is {len(value):,} characters; keep it under {limit:,}."]
    return value, []


def clean_tags(value: Any) -> tuple[list[str], list[str]]:
    """Tags from a list or a comma-separated string: trimmed, lower case, unique."""
    if value is None:
        return [], []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        return [], ["Tags must be a list of words."]
    tags: list[str] = []
    for raw in value:
        tag = " ".join(raw.split()).lower()
        if not tag or tag in tags:
            continue
        if len(tag) > MAX_TAG_CHARS:
            return [], [f"The tag “{tag[:20]}…” is over {MAX_TAG_CHARS} characters."]
        if not TAG_RE.match(tag):
            return [], [f"The tag “{tag}” may hold only letters, digits and spaces."]
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        return [], [f"{len(tags)} tags; keep to {MAX_TAGS}."]
    return sorted(tags), []


def clean_rating(value: Any) -> tuple[int, list[str]]:
    if value is None:
        return 0, []
    try:
        return check_whole(value, label="Rating", low=0, high=MAX_RATING), []
    except NumberError as exc:
        return 0, [str(exc)]


def validate_prompt(data: Any, *, partial: bool = False) -> tuple[dict, Errors]:
    """Check prompt fields; with ``partial`` only the fields given."""
    if not isinstance(data, dict):
        return {}, {"__all__": ["Send a JSON object."]}
    unknown = sorted(str(k)[:40] for k in data if k not in PROMPT_FIELDS)
    if unknown:
        return {}, {key: ["Unknown field."] for key in unknown[:20]}
    cleaned: dict[str, Any] = {}
    errors: Errors = {}

    def check(name: str, result: tuple[Any, list[str]]) -> None:
        value, problems = result
        if problems:
            errors[name] = problems
        else:
            cleaned[name] = value

    if not partial or "text" in data:
        check(
            "text",
            clean_text(data.get("text"), "Text", MAX_PROMPT_CHARS, required=True),
        )
    if not partial or "title" in data:
        title, problems = clean_text(data.get("title"), "Title", MAX_TITLE_CHARS)
        if problems:
            errors["title"] = problems
        elif title:
            cleaned["title"] = title
        elif partial:
            errors["title"] = ["Title is empty."]
        elif "text" in cleaned:
            # An untitled prompt is named by its opening words.
            cleaned["title"] = title_from(cleaned["text"])
    if not partial or "negative_prompt" in data:
        check(
            "negative_prompt",
            clean_text(
                data.get("negative_prompt"), "Negative prompt", MAX_PROMPT_CHARS
            ),
        )
    if not partial or "notes" in data:
        check("notes", clean_text(data.get("notes"), "Notes", MAX_NOTES_CHARS))
    if not partial or "tags" in data:
        check("tags", clean_tags(data.get("tags")))
    if not partial or "rating" in data:
        check("rating", clean_rating(data.get("rating")))
    if not partial or "favourite" in data:
        value = data.get("favourite", False)
        if isinstance(value, bool):
            cleaned["favourite"] = value
        else:
            errors["favourite"] = ["Favourite must be true or false."]
    return cleaned, errors


def title_from(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= 60 else words[:59].rsplit(" ", 1)[0] + "…"


def validate_name(value: Any, sigil: str) -> tuple[str, list[str]]:
    if not isinstance(value, str) or not NAME_RE.match(value.strip().lstrip(sigil)):
        return "", [
            "Names start with a letter and hold only letters, digits and "
            f"underscores (up to 40), like {sigil}mia_2."
        ]
    return value.strip().lstrip(sigil).lower(), []


def validate_character(data: Any) -> tuple[dict, Errors]:
    if not isinstance(data, dict):
        return {}, {"__all__": ["Send an object."]}
    errors: Errors = {}
    name, problems = validate_name(data.get("name"), "@")
    if problems:
        errors["name"] = problems
    description, problems = clean_text(
        data.get("description"), "Description", MAX_DESCRIPTION_CHARS, required=True
    )
    if problems:
        errors["description"] = problems
    kind = data.get("kind") or "character"
    if kind not in ("character", "place"):
        errors["kind"] = ["Kind is character or place."]
    return {"name": name, "description": description, "kind": kind}, errors


def validate_word_list(data: Any) -> tuple[dict, Errors]:
    if not isinstance(data, dict):
        return {}, {"__all__": ["Send an object."]}
    errors: Errors = {}
    name, problems = validate_name(data.get("name"), "$")
    if problems:
        errors["name"] = problems
    options = data.get("options")
    if isinstance(options, str):
        options = options.splitlines()
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        errors["options"] = ["Options must be a list of text."]
        options = []
    options = [o.strip() for o in options if o.strip()]
    if not options and "options" not in errors:
        errors["options"] = ["Give the list at least one option."]
    if len(options) > MAX_LIST_OPTIONS:
        errors["options"] = [f"{len(options)} options; keep to {MAX_LIST_OPTIONS}."]
    if any(len(o) > MAX_OPTION_CHARS for o in options):
        errors["options"] = [f"Keep each option under {MAX_OPTION_CHARS} characters."]
    return {"name": name, "options": options}, errors


def validate_style(data: Any) -> tuple[dict, Errors]:
    if not isinstance(data, dict):
        return {}, {"__all__": ["Send an object."]}
    errors: Errors = {}
    cleaned = {}
    for field, label, limit, required in (
        ("name", "Name", 80, True),
        ("snippet", "Snippet", MAX_DESCRIPTION_CHARS, True),
        ("negative_prompt", "Negative prompt", MAX_DESCRIPTION_CHARS, False),
    ):
        value, problems = clean_text(data.get(field), label, limit, required=required)
        if problems:
            errors[field] = problems
        cleaned[field] = value
    look = data.get("look")
    if look not in (None, ""):
        # A shipped look by name; imported colour tables travel as files, not here.
        if not isinstance(look, str) or look not in SHIPPED_LOOKS:
            known = ", ".join(SHIPPED_LOOKS)
            errors["look"] = [f"Choose a look by name ({known}), or none."]
        else:
            cleaned["look"] = look
    return cleaned, errors
