"""Sound for clips and sequences: scene-aware music, effects that follow the
picture, spoken lines, and a mix levelled to −16 LUFS.

    result = clip_sound(frames, fps, prompt, SoundSettings(), seed=7)
    wav = to_wav_bytes(result.audio)
"""

from .mix import loudness, to_wav_bytes
from .music import MusicPlan, read_mood
from .settings import MOODS, SAMPLE_RATE, SoundError, SoundSettings
from .soundtrack import (
    ShotSound,
    SoundResult,
    VoiceLine,
    clip_sound,
    sequence_sound,
)
from .voice import voice_available, voice_for

__all__ = [
    "MOODS",
    "SAMPLE_RATE",
    "MusicPlan",
    "ShotSound",
    "SoundError",
    "SoundResult",
    "SoundSettings",
    "VoiceLine",
    "clip_sound",
    "loudness",
    "read_mood",
    "sequence_sound",
    "to_wav_bytes",
    "voice_available",
    "voice_for",
]
