"""Sound settings in the studio: the Sound panel's fields, the API's schema,
and the in-page preview.

A clip or a storyboard carries its sound settings in the sound engine's API
shape (``generation.sound.SoundSettings.to_json``); an empty value is a
silent clip. The panel's fields are plain form fields, so the page works
without its script; the script adds the Preview button's player and the
mood line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.cache import cache

# The longest sound a preview makes, in seconds: a storyboard longer than
# this previews its first minute.
MAX_PREVIEW_SECONDS = 60.0
# Previews a creator may ask for in a minute.
PREVIEWS_PER_MINUTE = 12
PREVIEW_WINDOW = 60
FROM_PROMPT = ""
BUILT_IN = ""
MAX_VOLUME = 2.0

SOUND_SCHEMA: dict[str, Any] = {
    "title": "Sound",
    "description": (
        "Gives the clip a soundtrack, muxed into its MP4 as AAC. Left out or "
        "null: a silent clip. Every key is optional; `{}` is music read from "
        "the prompt plus effects. `music` is true, false or "
        '`{"mood": "tense"}` (a mood name from `moods`, or a few words); '
        "`effects` adds sounds timed to what moves in the frames; `voice` "
        "speaks a storyboard shot's line; `volumes` are 0 to 2 for each layer; "
        "`music_model` hands a clip's music to a registered audio model."
    ),
    "type": "object",
    "properties": {
        "music": {
            "anyOf": [
                {"type": "boolean"},
                {
                    "type": "object",
                    "properties": {
                        "mood": {
                            "anyOf": [
                                {"type": "string", "maxLength": 40},
                                {"type": "null"},
                            ]
                        }
                    },
                    "additionalProperties": False,
                },
            ],
            "default": True,
        },
        "effects": {"type": "boolean", "default": True},
        "voice": {"type": "boolean", "default": True},
        "music_model": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "description": "A registered audio model (`kind: audio` in "
            "`GET /api/models`, e.g. Stable Audio) that makes the music from the "
            "mood or the prompt instead of the built-in composer.",
        },
        "volumes": {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {
                        name: {"type": "number", "minimum": 0, "maximum": MAX_VOLUME}
                        for name in ("music", "effects", "voice")
                    },
                    "additionalProperties": False,
                },
                {"type": "null"},
            ]
        },
    },
    "additionalProperties": False,
    "example": {"music": {"mood": "tense"}, "effects": True, "volumes": {"music": 0.8}},
}


# The API's field: the settings, or null for none.
SOUND_FIELD_SCHEMA: dict[str, Any] = {
    "anyOf": [SOUND_SCHEMA, {"type": "null"}],
    "title": "Sound",
    "description": SOUND_SCHEMA["description"],
}


def moods() -> tuple[str, ...]:
    from generation.sound import MOODS

    return tuple(MOODS)


def mood_line(prompt: str, mood: str | None = None) -> str:
    """What the composer will play for a prompt (or a chosen mood), in words:
    "slow · A minor · pads and piano"; empty for nothing to read."""
    from generation.sound import SoundError, read_mood

    text = " ".join((mood or prompt or "").split())[:2000]
    if not text:
        return ""
    try:
        return read_mood(text).describe()
    except SoundError:
        return ""


def audio_models() -> list[str]:
    """The registered audio models (Stable Audio) that can make a clip's music."""
    from generation.adapters import refresh
    from generation.adapters.stable_audio import registered_names

    refresh()
    return registered_names()


def check(value: Any) -> tuple[dict[str, Any], str]:
    """Settings in the API's shape, written out in full, or the engine's
    sentence; null gives ``{}`` (no sound). ``music_model`` names a
    registered audio model that makes the music instead of the composer."""
    if value is None:
        return {}, ""
    from generation.clip_audio import MUSIC_MODEL
    from generation.sound import SoundError, SoundSettings

    model = ""
    if isinstance(value, dict) and MUSIC_MODEL in value:
        value = dict(value)
        model = value.pop(MUSIC_MODEL)
        if model is not None and not isinstance(model, str):
            return {}, "“music_model” must be the name of an audio model, or null."
        model = (model or "").strip()
        if model and model not in audio_models():
            known = ", ".join(audio_models()) or "none is registered"
            return {}, (
                f"There is no audio model called “{model[:60]}” ({known}); "
                "leave music_model out for the built-in composer."
            )
    try:
        checked = SoundSettings.from_json(value).to_json()
    except SoundError as error:
        return {}, str(error)
    if model:
        checked[MUSIC_MODEL] = model
    return checked, ""


def _volume_field(label: str) -> forms.FloatField:
    return forms.FloatField(
        label=label,
        required=False,
        min_value=0.0,
        max_value=MAX_VOLUME,
        initial=1.0,
        widget=forms.NumberInput(
            attrs={"type": "range", "min": 0, "max": 2, "step": 0.1}
        ),
    )


def sound_fields(*, voice: bool) -> dict[str, forms.Field]:
    """The Sound panel's form fields, named ``sound_*``."""
    fields: dict[str, forms.Field] = {
        "sound": forms.BooleanField(
            required=False,
            label="Add sound",
            help_text="Music and effects, muxed into the MP4.",
        ),
        "sound_music": forms.BooleanField(required=False, initial=True, label="Music"),
        "sound_music_model": forms.ChoiceField(
            required=False,
            label="Music by",
            choices=[(BUILT_IN, "Built-in composer")]
            + [(name, name) for name in audio_models()],
        ),
        "sound_mood": forms.ChoiceField(
            required=False,
            label="Mood",
            choices=[(FROM_PROMPT, "From the prompt")]
            + [(m, m.capitalize()) for m in moods()],
        ),
        "sound_effects": forms.BooleanField(
            required=False, initial=True, label="Effects"
        ),
        "sound_music_volume": _volume_field("Music volume"),
        "sound_effects_volume": _volume_field("Effects volume"),
    }
    if voice:
        fields["sound_voice"] = forms.BooleanField(
            required=False, initial=True, label="Voice lines"
        )
        fields["sound_voice_volume"] = _volume_field("Voice volume")
    return fields


def from_fields(data: Mapping[str, Any], *, voice: bool) -> dict[str, Any] | None:
    """The API's shape from the panel's cleaned fields; None when sound is off."""
    if not data.get("sound"):
        return None
    mood = data.get("sound_mood") or None
    music: bool | dict[str, str] = bool(data.get("sound_music"))
    if music and mood:
        music = {"mood": mood}

    def volume(name: str) -> float:
        value = data.get(f"sound_{name}_volume")
        return 1.0 if value is None else float(value)

    value: dict[str, Any] = {
        "music": music,
        "effects": bool(data.get("sound_effects")),
        "voice": bool(data.get("sound_voice")) if voice else False,
        "volumes": {"music": volume("music"), "effects": volume("effects")},
    }
    if voice:
        value["volumes"]["voice"] = volume("voice")
    if music and data.get("sound_music_model"):
        value["music_model"] = data["sound_music_model"]
    return value


def initial_from(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """The panel's field values that show stored settings."""
    if not value:
        return {"sound": False}
    music = value.get("music", True)
    volumes = value.get("volumes") or {}
    return {
        "sound": True,
        "sound_music": bool(music),
        "sound_music_model": value.get("music_model") or BUILT_IN,
        "sound_mood": music.get("mood") or "" if isinstance(music, dict) else "",
        "sound_effects": bool(value.get("effects", True)),
        "sound_voice": bool(value.get("voice", True)),
        "sound_music_volume": volumes.get("music", 1.0),
        "sound_effects_volume": volumes.get("effects", 1.0),
        "sound_voice_volume": volumes.get("voice", 1.0),
    }


def describe(value: Mapping[str, Any] | None) -> str:
    """Stored settings in a few words, for a clip's page: "Music (tense) ·
    effects"; empty for a silent clip."""
    if not value:
        return ""
    parts = []
    music = value.get("music", True)
    if music:
        mood = music.get("mood") if isinstance(music, dict) else None
        parts.append(f"music ({mood})" if mood else "music")
    if value.get("effects", True):
        parts.append("effects")
    if value.get("voice", True):
        parts.append("voice")
    return (" · ".join(parts) or "silent").capitalize()


# -- preview ---------------------------------------------------------------------


class PreviewLimited(Exception):
    """Too many previews in a minute: a 429 with this sentence."""


@dataclass(frozen=True)
class PreviewShot:
    prompt: str
    duration: float
    voice: str = ""
    character: str = ""
    voice_start: float = 0.0


def preview_allowed(user_id: Any) -> None:
    """Count a preview against the creator's minute; raises PreviewLimited."""
    key = f"sound-preview:{user_id}"
    cache.add(key, 0, PREVIEW_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, PREVIEW_WINDOW)
        count = 1
    if count > PREVIEWS_PER_MINUTE:
        raise PreviewLimited(
            f"That is {PREVIEWS_PER_MINUTE} previews this minute; "
            "wait a moment and press Preview again."
        )


def preview_wav(
    shots: Sequence[PreviewShot], *, fps: int, sound: Mapping[str, Any], seed: int = 0
) -> bytes:
    """The sound of ``shots`` (no pictures yet: music, ambience and voices)
    as a WAV file, at most :data:`MAX_PREVIEW_SECONDS` long."""
    from generation.clip_audio import fit_length, split_music_model
    from generation.sound import (
        SAMPLE_RATE,
        ShotSound,
        SoundSettings,
        VoiceLine,
        sequence_sound,
        to_wav_bytes,
    )

    # An audio model plays its music in the render; the preview has the composer's.
    engine, _ = split_music_model(dict(sound))
    settings = SoundSettings.from_json(engine)
    plan, start = [], 0.0
    for shot in shots:
        if start >= MAX_PREVIEW_SECONDS:
            break
        duration = min(shot.duration, MAX_PREVIEW_SECONDS - start)
        line = " ".join(shot.voice.split())
        voice = None
        if line and settings.voice:
            voice = VoiceLine(line, character=shot.character, start=shot.voice_start)
        plan.append(ShotSound(shot.prompt, start, duration, None, voice))
        start += duration
    seconds = max(start, 0.5)
    result = sequence_sound(plan, fps, settings, seed, seconds)
    return to_wav_bytes(fit_length(result.audio, seconds, SAMPLE_RATE), SAMPLE_RATE)


# -- forms -----------------------------------------------------------------------


class SoundForm(forms.Form):
    """A storyboard's Sound panel: the sound its renders get."""

    def __init__(self, *args: Any, voice: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.voice = voice
        self.fields.update(sound_fields(voice=voice))

    @property
    def sound(self) -> dict[str, Any] | None:
        """The checked settings (API shape); None when sound is off."""
        return from_fields(self.cleaned_data, voice=self.voice)

    @property
    def preview_sound(self) -> dict[str, Any]:
        """What Preview plays: the panel's choices, even while sound is off."""
        return from_fields({**self.cleaned_data, "sound": True}, voice=self.voice) or {}


class ClipPreviewForm(SoundForm):
    """What the prompt box sends for a preview: its prompt, length and panel."""

    prompt = forms.CharField(required=False, max_length=2000)
    duration = forms.FloatField(min_value=0.1, max_value=MAX_PREVIEW_SECONDS)
    fps = forms.IntegerField(required=False, min_value=1, max_value=120)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, voice=False, **kwargs)
