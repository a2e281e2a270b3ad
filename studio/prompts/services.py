"""Writes to the prompt library, and the workflows that span its models."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from generation import looks
from studio.generations.models import Generation
from studio.generations.services import SubmitError, submit
from studio.lib.folders import owner_folder
from studio.projects.models import Project
from studio.prompts import coach as coach_rules
from studio.prompts import search
from studio.prompts.expand import Expander, Expansion
from studio.prompts.models import (
    Character,
    DirectorProfile,
    Draft,
    Prompt,
    PromptClip,
    PromptVersion,
    StylePreset,
    WordList,
    text_digest,
)
from studio.prompts.vocabulary import BUILTIN_LISTS

# Where imported colour tables live, per owner (see studio.lib.folders).
LOOKS = "looks"

CONTENT_FIELDS = ("title", "text", "negative_prompt", "notes", "tags")


class DuplicatePrompt(Exception):
    def __init__(self, existing: Prompt) -> None:
        super().__init__(
            f"This prompt is already in your library as “{existing.title}”."
        )
        self.existing = existing


def find_duplicate(
    *, owner: AbstractBaseUser, text: str, exclude: int | None = None
) -> Prompt | None:
    found = Prompt.objects.filter(owner=owner, digest=text_digest(text))
    if exclude is not None:
        found = found.exclude(pk=exclude)
    return found.first()


def _snapshot(prompt: Prompt, tags: list[str], *, when=None) -> PromptVersion:
    last = prompt.versions.order_by("-number").values_list("number", flat=True)
    return PromptVersion.objects.create(
        prompt=prompt,
        number=(last.first() or 0) + 1,
        title=prompt.title,
        text=prompt.text,
        negative_prompt=prompt.negative_prompt,
        notes=prompt.notes,
        tags=tags,
        created=when or timezone.now(),
    )


@transaction.atomic
def prompt_create(
    *,
    owner: AbstractBaseUser,
    title: str,
    text: str,
    tags: Iterable[str] = (),
    notes: str = "",
    negative_prompt: str = "",
    rating: int = 0,
    favourite: bool = False,
    allow_duplicate: bool = False,
) -> Prompt:
    """Save a prompt and its first version. Raises DuplicatePrompt."""
    if not allow_duplicate and (existing := find_duplicate(owner=owner, text=text)):
        raise DuplicatePrompt(existing)
    now = timezone.now()
    prompt = Prompt.objects.create(
        owner=owner,
        title=title,
        text=text,
        negative_prompt=negative_prompt,
        notes=notes,
        rating=rating,
        favourite=favourite,
        digest=text_digest(text),
        created=now,
        updated=now,
    )
    tags = sorted(set(tags))
    prompt.tags.set(tags)
    _snapshot(prompt, tags, when=now)
    search.index([prompt])
    return prompt


@transaction.atomic
def prompt_update(*, prompt: Prompt, **changes: Any) -> Prompt:
    """Apply changes; content changes leave a new version. Raises DuplicatePrompt."""
    unknown = set(changes) - {*CONTENT_FIELDS, "rating", "favourite"}
    if unknown:
        raise TypeError(f"Unknown fields: {sorted(unknown)}")
    if "text" in changes and (
        existing := find_duplicate(
            owner=prompt.owner, text=changes["text"], exclude=prompt.pk
        )
    ):
        raise DuplicatePrompt(existing)
    old_tags = prompt.tag_names()
    tags = sorted(set(changes.pop("tags", old_tags)))
    content_changed = tags != old_tags or any(
        getattr(prompt, name) != value
        for name, value in changes.items()
        if name in CONTENT_FIELDS
    )
    for name, value in changes.items():
        setattr(prompt, name, value)
    prompt.digest = text_digest(prompt.text)
    prompt.updated = timezone.now()
    prompt.save()
    if tags != old_tags:
        prompt.tags.set(tags)
    if content_changed:
        _snapshot(prompt, tags)
    # Tags were read before the change; the index needs the new ones.
    prompt = Prompt.objects.prefetch_related("tags").get(pk=prompt.pk)
    search.index([prompt])
    return prompt


def prompt_restore(*, prompt: Prompt, version: PromptVersion) -> Prompt:
    """Bring back an earlier version; the restore itself is a new version."""
    if version.prompt_id != prompt.pk:
        raise PermissionError("That version belongs to another prompt.")
    return prompt_update(
        prompt=prompt,
        title=version.title,
        text=version.text,
        negative_prompt=version.negative_prompt,
        notes=version.notes,
        tags=list(version.tags),
    )


@transaction.atomic
def prompt_delete(*, prompt: Prompt) -> None:
    search.unindex([prompt.pk])
    prompt.delete()


def prompt_link_clips(*, prompt: Prompt, generations: Iterable[Generation]) -> None:
    for generation in generations:
        if generation.owner_id != prompt.owner_id:
            raise PermissionError("Not your clip.")
        PromptClip.objects.update_or_create(
            generation=generation, defaults={"prompt": prompt}
        )


@transaction.atomic
def prompt_save_from_generation(
    *, user: AbstractBaseUser, generation: Generation
) -> tuple[Prompt, bool]:
    """Keep a result's prompt in the library; an existing copy is reused."""
    if generation.owner_id != user.pk:
        raise PermissionError("Not your clip.")
    spec = generation.spec
    prompt = find_duplicate(owner=user, text=spec.prompt)
    created = prompt is None
    if prompt is None:
        from studio.prompts.validation import title_from

        prompt = prompt_create(
            owner=user,
            title=title_from(spec.prompt),
            text=spec.prompt,
            negative_prompt=spec.negative_prompt,
        )
    prompt_link_clips(prompt=prompt, generations=[generation])
    return prompt, created


def prompts_using(character: Character) -> QuerySet[Prompt]:
    """The owner's saved prompts that mention ``@name``."""
    pattern = re.compile(rf"(?<![\w\\])@{re.escape(character.name)}(?!\w)", re.I)
    candidates = Prompt.objects.filter(
        owner_id=character.owner_id, text__icontains=f"@{character.name}"
    )
    ids = [p.pk for p in candidates.only("pk", "text") if pattern.search(p.text)]
    return Prompt.objects.filter(pk__in=ids).order_by("title")


# Characters, lists, styles and the director profile.


def character_save(
    *,
    owner: AbstractBaseUser,
    name: str,
    description: str,
    kind: str = Character.Kind.CHARACTER,
    character: Character | None = None,
) -> Character:
    clash = Character.objects.filter(owner=owner, name=name)
    if character is not None:
        clash = clash.exclude(pk=character.pk)
    if clash.exists():
        raise ValueError(f"You already have a character named @{name}.")
    if character is None:
        character = Character(owner=owner)
    elif character.owner_id != owner.pk:
        raise PermissionError("Not your character.")
    character.name, character.description, character.kind = name, description, kind
    character.save()
    return character


def word_list_save(
    *, owner: AbstractBaseUser, name: str, options: list[str]
) -> WordList:
    word_list, _ = WordList.objects.update_or_create(
        owner=owner, name=name, defaults={"options": options}
    )
    return word_list


def style_save(
    *,
    owner: AbstractBaseUser,
    name: str,
    snippet: str,
    negative_prompt: str = "",
    look: str = "",
    style: StylePreset | None = None,
) -> StylePreset:
    clash = StylePreset.objects.filter(owner=owner, name=name)
    if style is not None:
        if style.owner_id != owner.pk:
            raise PermissionError("The default styles are read-only.")
        clash = clash.exclude(pk=style.pk)
    if clash.exists():
        raise ValueError(f"You already have a style named “{name}”.")
    style = style or StylePreset(owner=owner)
    style.name, style.snippet, style.negative_prompt = name, snippet, negative_prompt
    style.look = look
    style.save()
    return style


def style_look(*, user: AbstractBaseUser, style_id: int) -> tuple[str, dict[str, Any]]:
    """The look of one of the styles ``user`` may use, as a spec carries it;
    raises SubmitError for a style that is not theirs or is gone."""
    style = styles_for(user).filter(pk=style_id).first()
    if style is None:
        raise SubmitError(
            {"style": ["That style no longer exists; choose another one."]}
        )
    return style.look_settings()


def look_import(
    *, owner: AbstractBaseUser, name: str, snippet: str, cube: bytes
) -> StylePreset:
    """Make a style whose look is an imported .cube colour table.

    The table is parsed first (a bad file raises LookError with a sentence)
    and stored as the studio wrote it back, under the owner's folder.
    """
    table = looks.parse_cube(looks.decode_cube(cube))
    if StylePreset.objects.filter(owner=owner, name=name).exists():
        raise ValueError(f"You already have a style named “{name}”.")
    folder = owner_folder(LOOKS, owner.pk)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_urlsafe(12)}.cube"
    path.write_text(looks.write_cube(table, title=name))
    try:
        return StylePreset.objects.create(
            owner=owner,
            name=name,
            snippet=snippet,
            look=name,
            lut=str(path.relative_to(Path(django_settings.MEDIA_ROOT))),
        )
    except Exception:
        path.unlink(missing_ok=True)
        raise


def style_delete(*, style: StylePreset) -> None:
    """Delete one of a creator's styles and its colour table."""
    lut = style.lut_path
    style.delete()
    if lut is not None:
        lut.unlink(missing_ok=True)


def styles_for(user: AbstractBaseUser) -> QuerySet[StylePreset]:
    """The shared defaults, then the creator's own."""
    from django.db.models import Q

    return StylePreset.objects.filter(Q(owner=None) | Q(owner=user)).order_by(
        "owner_id", "name"
    )


def director_save(*, owner: AbstractBaseUser, **fields: str) -> DirectorProfile:
    profile, _ = DirectorProfile.objects.update_or_create(owner=owner, defaults=fields)
    return profile


def draft_save(*, owner: AbstractBaseUser, project: Project, text: str) -> Draft:
    if project.owner_id != owner.pk:
        raise PermissionError("Not your project.")
    draft, _ = Draft.objects.update_or_create(
        project=project,
        defaults={"owner": owner, "text": text, "updated": timezone.now()},
    )
    return draft


# Expansion, coaching and generating variations.


def expander_for(user: AbstractBaseUser) -> Expander:
    characters = dict(
        Character.objects.filter(owner=user).values_list("name", "description")
    )
    lists = {**BUILTIN_LISTS}
    lists.update(WordList.objects.filter(owner=user).values_list("name", "options"))
    return Expander(characters=characters, lists=lists)


def prompt_expand(*, user: AbstractBaseUser, text: str) -> Expansion:
    """Raises ExpansionError with a message for the creator."""
    return expander_for(user).expand(text)


def prompt_coach(
    *, user: AbstractBaseUser, text: str, num_frames: int = 16, fps: int = 8
) -> list[coach_rules.Hint]:
    characters = dict(
        Character.objects.filter(owner=user).values_list("name", "description")
    )
    draft = coach_rules.Draft(
        text=text, num_frames=num_frames, fps=fps, characters=characters
    )
    return coach_rules.coach(draft)


def prompt_variations_submit(
    *,
    user: AbstractBaseUser,
    settings: dict[str, Any],
    project: Project | None = None,
    count: int = 1,
    prompt: Prompt | None = None,
    uploads: dict[str, Any] | None = None,
    style: int | None = None,
) -> list[Generation]:
    """Queue every expansion of the settings' prompt, ``count`` seeds each,
    and link the clips to the library ``prompt`` they came from; ``style``
    (a style preset's id) grades them with its look.

    Every expansion shares the seeds, so side by side the clips differ only
    where the wildcards do. Raises SubmitError and QueueFull.
    """
    if prompt is not None and prompt.owner_id != user.pk:
        raise PermissionError("Not your prompt.")
    look = style_look(user=user, style_id=style) if style is not None else None
    with transaction.atomic():
        generations = submit(
            user,
            settings=settings,
            project=project,
            uploads=uploads,
            variations=count,
            look=look,
        )
        if prompt is not None:
            prompt_link_clips(prompt=prompt, generations=generations)
    return generations
