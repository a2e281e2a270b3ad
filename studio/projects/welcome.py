"""What a new creator meets first: a project ready to use, and prompts the
built-in model draws well (its world: coloured balls, boxes, triangles and
stars moving over a sky, a field or the sea, with a named camera move)."""

from __future__ import annotations

FIRST_PROJECT_NAME = "My first project"
FIRST_PROJECT_DESCRIPTION = (
    "Made for you at sign-up. Describe a shot, press Ctrl + Enter, and watch it appear."
)
STARTER_PROMPTS: tuple[str, ...] = (
    "a red ball bouncing to the right, slow push-in",
    "a yellow star drifting to the left over a night sky, static camera",
    "a blue box floating upward over the sea, the camera pans right",
)


def starter_prompt(value: str | None) -> str | None:
    """The starter prompt a link names by its number (1, 2, 3), or None."""
    if value is None or not value.isdigit() or len(value) > 2:
        return None
    index = int(value) - 1
    return STARTER_PROMPTS[index] if 0 <= index < len(STARTER_PROMPTS) else None
