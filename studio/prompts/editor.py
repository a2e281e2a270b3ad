"""What the prompt box needs from the library, for any page that shows it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from studio.numbers import parse_id
from studio.projects.models import Project
from studio.prompts import services
from studio.prompts.models import Character, DirectorProfile, Draft, Prompt, WordList
from studio.prompts.vocabulary import BUILTIN_LISTS, CAMERA_MOVES, PACING


def editor_context(user, project: Project | None = None) -> dict[str, Any]:
    """What the prompt box's helpers offer: the creator's own words first."""
    director = DirectorProfile.objects.filter(owner=user).first()
    return {
        "characters": list(Character.objects.filter(owner=user)[:60]),
        "lists": sorted(
            {
                *BUILTIN_LISTS,
                *WordList.objects.filter(owner=user).values_list("name", flat=True),
            }
        ),
        "styles": list(services.styles_for(user)),
        "director": director if director and director.snippet() else None,
        "director_negative": director.negative_prompt if director else "",
        "camera_moves": CAMERA_MOVES,
        "pacing": PACING,
        "project": project,
    }


def editor_initial(request: HttpRequest, project: Project) -> dict[str, Any]:
    """The prompt box's starting text: a library prompt asked for, or the draft."""
    prompt_id = parse_id(request.GET.get("prompt"))
    if prompt_id is not None:
        prompt = Prompt.objects.filter(pk=prompt_id, owner=request.user).first()
        if prompt is not None:
            return {
                "prompt": prompt.text,
                "negative_prompt": prompt.negative_prompt,
                "library_prompt": prompt.pk,
            }
    draft = Draft.objects.filter(project=project, owner=request.user).first()
    return {"prompt": draft.text} if draft and draft.text else {}


def library_prompt(user, value: str | None) -> Prompt | None:
    """The creator's library prompt a form names, if any."""
    prompt_id = parse_id(value)
    if prompt_id is None:
        return None
    return Prompt.objects.filter(pk=prompt_id, owner=user).first()
