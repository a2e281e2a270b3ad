"""The prompt coach: plain rules that read a prompt and give short hints.

Each rule takes a Draft (the text and the clip's length) and returns a Hint or
None. A hint may carry a fix: the whole prompt as it would read after one
click, so the page and the API apply it the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from studio.prompts import vocabulary as vocab
from studio.prompts.vocabulary import NAME_PATTERN

LONG_PROMPT_WORDS = 70
# How many distinct actions a clip of this many seconds can show clearly.
SECONDS_PER_ACTION = 1.5

WORD = re.compile(r"[a-z][a-z'-]*")
REFERENCE = re.compile(rf"(?<![\w\\])@({NAME_PATTERN})")
_UNITS = r"seconds?|secs?|minutes?|mins?|hours?"
DURATION = re.compile(
    r"\b(?:(?:for|over|in|lasting|within)\s+)?(?:"
    rf"(?P<n>\d+(?:\.\d+)?)\s*-?\s*(?P<unit>{_UNITS}|s)"
    rf"|(?P<w>{'|'.join(vocab.NUMBER_WORDS)})[\s-]+(?P<wunit>{_UNITS}))\b",
    re.IGNORECASE,
)
UNIT_SECONDS = {"s": 1, "sec": 1, "second": 1, "min": 60, "minute": 60, "hour": 3600}


@dataclass(frozen=True)
class Draft:
    text: str
    num_frames: int = 16
    fps: int = 8
    characters: Mapping[str, str] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.num_frames / self.fps

    @property
    def words(self) -> list[str]:
        # Wildcard and escape syntax is not prose.
        prose = re.sub(r"[{}|\\$@]", " ", self.text.lower())
        return WORD.findall(prose)


@dataclass(frozen=True)
class Hint:
    code: str
    message: str
    fix: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fix:
            data["fix"] = self.fix
        return data


def _append(text: str, addition: str) -> str:
    text = text.rstrip().rstrip(",.;")
    return f"{text}, {addition}" if text else addition


def _is_motion(word: str) -> bool:
    return word.startswith(vocab.MOTION_STEMS)


def _actions(words: list[str]) -> list[str]:
    found: list[str] = []
    for word in words:
        stem = next((s for s in vocab.ACTION_STEMS if word.startswith(s)), None)
        if stem and stem not in found and len(word) > 2:
            found.append(stem)
    return found


def bare_subject(draft: Draft) -> Hint | None:
    words = draft.words
    if not words or len(words) > 4 or any(_is_motion(w) for w in words):
        return None
    subject = " ".join(draft.text.split())
    return Hint(
        "bare_subject",
        f"“{subject}” — what does it do? Name an action and where it happens.",
        {"label": "Add an action", "text": f"{subject} moving slowly to the right"},
    )


def no_motion(draft: Draft) -> Hint | None:
    words = draft.words
    # A bare subject gets the more specific hint above.
    if len(words) <= 4 or any(_is_motion(w) for w in words):
        return None
    return Hint(
        "no_motion",
        "Nothing moves yet: say what moves and how (drifts left, walks toward "
        "the camera, slowly turns).",
    )


def no_camera(draft: Draft) -> Hint | None:
    words = set(draft.words)
    if not draft.words or words & vocab.CAMERA_WORDS:
        return None
    return Hint(
        "no_camera",
        "No camera named: say how the shot is framed and moves.",
        {"label": "Add a slow push-in", "text": _append(draft.text, "slow push-in")},
    )


def too_many_actions(draft: Draft) -> Hint | None:
    actions = _actions(draft.words)
    room = max(2, int(draft.seconds / SECONDS_PER_ACTION))
    if len(actions) <= room:
        return None
    return Hint(
        "too_many_actions",
        f"{len(actions)} actions in a {draft.seconds:g} s clip; keep to {room} "
        "or make the clip longer.",
    )


def duration_mismatch(draft: Draft) -> Hint | None:
    for match in DURATION.finditer(draft.text):
        if match.group("n"):
            number, unit = float(match.group("n")), match.group("unit")
        else:
            number = vocab.NUMBER_WORDS[match.group("w").lower()]
            unit = match.group("wunit")
        unit = unit.lower().rstrip("s") or "s"
        said = number * UNIT_SECONDS.get(unit, 1)
        if abs(said - draft.seconds) <= max(0.5, draft.seconds * 0.25):
            continue
        actual = f"{draft.seconds:g} seconds"
        fixed = draft.text.replace(match.group(0), f"over {actual}", 1)
        return Hint(
            "duration_mismatch",
            f"“{match.group(0).strip()}” but the clip is {actual} long "
            f"({draft.num_frames} frames at {draft.fps} fps).",
            {"label": f"Say {actual}", "text": fixed},
        )
    return None


def character_drift(draft: Draft) -> Hint | None:
    """The same @name described with colours its character does not have."""
    seen: dict[str, set[str]] = {}
    for match in REFERENCE.finditer(draft.text):
        name = match.group(1).lower()
        clause = re.split(r"[,.;]|\bthen\b", draft.text[match.end() :], maxsplit=1)[0]
        colours = set(WORD.findall(clause.lower())) & vocab.COLOURS
        saved = draft.characters.get(name)
        saved_colours = (
            set(WORD.findall(saved.lower())) & vocab.COLOURS if saved else set()
        )
        # Without colours in the saved description, the first mention sets them.
        expected = saved_colours or seen.get(name)
        if colours and expected and not colours <= expected:
            extra = ", ".join(sorted(colours - expected))
            return Hint(
                "character_drift",
                f"@{match.group(1)} is described as {extra} here but "
                f"{', '.join(sorted(expected))} elsewhere; let the character "
                "carry the look so every shot matches.",
                {
                    "label": "Remove the extra description",
                    "text": draft.text.replace(clause, "", 1).replace("  ", " "),
                },
            )
        seen.setdefault(name, set()).update(colours)
    return None


def unknown_character(draft: Draft) -> Hint | None:
    for match in REFERENCE.finditer(draft.text):
        if match.group(1).lower() not in draft.characters:
            return Hint(
                "unknown_character",
                f"There is no character @{match.group(1)} yet; create one so it "
                "looks the same in every shot.",
            )
    return None


def text_in_frame(draft: Draft) -> Hint | None:
    lower = draft.text.lower()
    quoted = re.search(r"[\"“][^\"”]{1,60}[\"”]", draft.text)
    asked = any(re.search(rf"\b{re.escape(w)}\b", lower) for w in vocab.TEXT_WORDS)
    if not (quoted or asked):
        return None
    return Hint(
        "text_or_logo",
        "Video models garble text and logos; add them in editing instead.",
    )


def too_long(draft: Draft) -> Hint | None:
    count = len(draft.text.split())
    if count <= LONG_PROMPT_WORDS:
        return None
    return Hint(
        "too_long",
        f"{count} words: long prompts blur together. Keep the shot to about "
        f"{LONG_PROMPT_WORDS} words; move style words into a preset.",
    )


RULES: list[Callable[[Draft], Hint | None]] = [
    bare_subject,
    no_motion,
    no_camera,
    too_many_actions,
    duration_mismatch,
    unknown_character,
    character_drift,
    text_in_frame,
    too_long,
]


def coach(draft: Draft) -> list[Hint]:
    if not draft.text.strip():
        return []
    return [hint for rule in RULES if (hint := rule(draft)) is not None]
