"""What a creator asks of a soundtrack: which layers, which mood, how loud."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SAMPLE_RATE = 48_000
MAX_MOOD_CHARS = 40
MAX_VOLUME = 2.0
# The moods a page offers by name; free words are read by the same rules.
MOODS: tuple[str, ...] = (
    "calm",
    "contemplative",
    "tense",
    "joyful",
    "epic",
    "action",
    "mysterious",
    "melancholy",
)
_KEYS = {"music", "effects", "voice", "volumes"}
_MOOD_CHARS = re.compile(r"^[\w ,.'-]*$")


class SoundError(ValueError):
    """Sound settings the studio will not use; the message says why."""


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    raise SoundError(f"The {name} setting must be true or false.")


def _volume(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SoundError(f"The {name} volume must be a number from 0 to 2.")
    volume = float(value)
    if not 0.0 <= volume <= MAX_VOLUME:
        raise SoundError(f"The {name} volume must be from 0 to 2, not {value}.")
    return volume


def clean_mood(value: Any) -> str | None:
    """A mood as given (a named mood or a few free words), checked and tidied."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise SoundError("The music mood must be words, like “calm” or “tense”.")
    mood = " ".join(value.split()).lower()
    if not mood:
        return None
    if len(mood) > MAX_MOOD_CHARS:
        raise SoundError(
            f"The music mood is too long: keep it to {MAX_MOOD_CHARS} characters."
        )
    if not _MOOD_CHARS.match(mood):
        raise SoundError(
            "The music mood may hold only letters, digits, spaces and simple"
            " punctuation."
        )
    return mood


@dataclass(frozen=True)
class SoundSettings:
    """Which layers a soundtrack has and how loud each one is (0–2)."""

    music: bool = True
    mood: str | None = None  # None: read from the prompt(s)
    effects: bool = True
    voice: bool = True
    music_volume: float = 1.0
    effects_volume: float = 1.0
    voice_volume: float = 1.0

    def __post_init__(self) -> None:
        for name in ("music", "effects", "voice"):
            _flag(getattr(self, name), name)
        # A mood only means something with music on.
        mood = clean_mood(self.mood) if self.music else None
        object.__setattr__(self, "mood", mood)
        for name in ("music", "effects", "voice"):
            key = f"{name}_volume"
            object.__setattr__(self, key, _volume(getattr(self, key), name))

    @classmethod
    def from_json(cls, value: Any) -> SoundSettings:
        """Settings from the API's shape.

        ``{"music": true | false | {"mood": "tense"}, "effects": bool,
        "voice": bool, "volumes": {"music": 1.0, "effects": 1.0, "voice": 1.0}}``;
        every key is optional. Raises :class:`SoundError` on anything else.
        """
        if value is None:
            return cls()
        if not isinstance(value, dict):
            raise SoundError("Sound settings must be an object of named choices.")
        unknown = sorted(str(k) for k in value if k not in _KEYS)
        if unknown:
            raise SoundError(
                f"Unknown sound setting “{unknown[0][:40]}”: use music, effects,"
                " voice and volumes."
            )
        music = value.get("music", True)
        mood = None
        if isinstance(music, dict):
            extra = sorted(str(k) for k in music if k != "mood")
            if extra:
                raise SoundError(
                    f"Unknown music setting “{extra[0][:40]}”: only “mood” is known."
                )
            mood = clean_mood(music.get("mood"))
            music = True
        music = _flag(music, "music")
        volumes = value.get("volumes", {})
        if volumes is None:
            volumes = {}
        if not isinstance(volumes, dict):
            raise SoundError(
                "Volumes must be given as music, effects and voice numbers from 0 to 2."
            )
        extra = sorted(
            str(k) for k in volumes if k not in ("music", "effects", "voice")
        )
        if extra:
            raise SoundError(
                f"Unknown volume “{extra[0][:40]}”: use music, effects and voice."
            )
        return cls(
            music=music,
            mood=mood,
            effects=_flag(value.get("effects", True), "effects"),
            voice=_flag(value.get("voice", True), "voice"),
            music_volume=_volume(volumes.get("music", 1.0), "music"),
            effects_volume=_volume(volumes.get("effects", 1.0), "effects"),
            voice_volume=_volume(volumes.get("voice", 1.0), "voice"),
        )

    def to_json(self) -> dict:
        """The API's shape; ``from_json(to_json())`` gives the same settings."""
        music: bool | dict = (
            {"mood": self.mood} if self.music and self.mood else self.music
        )
        return {
            "music": music,
            "effects": self.effects,
            "voice": self.voice,
            "volumes": {
                "music": self.music_volume,
                "effects": self.effects_volume,
                "voice": self.voice_volume,
            },
        }
