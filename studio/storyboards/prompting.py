"""A shot's prompt as sent to the model: shot type, prompt, the storyboard's look.

Characters (``@mia``), named lists and wildcards expand through the prompts
app, so a character reads the same in every shot; the storyboard's style
preset and style text follow every prompt, its negative prompt every take.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser

from generation.specs import MAX_PROMPT_CHARS

if TYPE_CHECKING:
    from studio.storyboards.models import Shot, Storyboard

# How each shot type reads at the front of a prompt.
FRAMING = {
    "establishing": "establishing wide shot",
    "wide": "wide shot",
    "medium": "medium shot",
    "close-up": "close-up",
    "reaction": "close-up reaction shot",
    "insert": "insert close-up",
    "over-the-shoulder": "over-the-shoulder shot",
    "pov": "point-of-view shot",
}


class PromptError(ValueError):
    """A shot prompt that cannot be expanded; the message says why."""


def expand(*, user: AbstractBaseUser, text: str, variation: int = 0) -> str:
    """Expand characters, lists and wildcards; takes cycle through variations."""
    from studio.prompts.expand import ExpansionError
    from studio.prompts.services import prompt_expand

    try:
        expansion = prompt_expand(user=user, text=text)
    except ExpansionError as exc:
        raise PromptError(str(exc)) from exc
    if not expansion.variations:
        return text
    return expansion.variations[variation % len(expansion.variations)]


def join(*parts: str) -> str:
    return ", ".join(p.strip().strip(",") for p in parts if p and p.strip())


def compose(
    *, user: AbstractBaseUser, storyboard: Storyboard, shot: Shot, variation: int = 0
) -> tuple[str, str]:
    """The (prompt, negative prompt) for a take of ``shot``."""
    preset = storyboard.style_preset
    text = join(
        FRAMING.get(shot.kind, ""),
        shot.prompt,
        preset.snippet if preset else "",
        storyboard.style,
    )
    prompt = expand(user=user, text=text, variation=variation)[:MAX_PROMPT_CHARS]
    negative = join(
        storyboard.negative_prompt, preset.negative_prompt if preset else ""
    )[:MAX_PROMPT_CHARS]
    return prompt, negative
