"""A clip's sound: its spec's sound settings → stereo audio as long as its frames.

The service asks :func:`clip_audio` once a clip's frames are final and muxes
the answer beside them in the same MP4 write, so the Content Credentials
signed afterwards cover the audio too. A spec without sound settings costs
nothing: no audio is made and no audio stream is written.

``spec.sound`` is the sound engine's settings (``SoundSettings.to_json``),
plus ``music_model`` when a registered audio model (Stable Audio) makes the
music in place of the built-in composer: the model's sound, made from the
mood or the prompt at exactly the clip's length, is mixed under the
engine's effects.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from generation.encode import AUDIO_RATE
from generation.specs import GenerationSpec

__all__ = [
    "AUDIO_RATE",
    "MUSIC_MODEL",
    "ClipSoundError",
    "clip_audio",
    "fit_length",
    "split_music_model",
    "wants_sound",
]

# The model whose frames the sound engine reads for its effects; a real
# model's clip gets music and ambience from its prompt instead.
BUILTIN = "builtin"


class ClipSoundError(ValueError):
    """Sound settings a spec carries that the engine refuses; says why."""


def wants_sound(spec: GenerationSpec) -> bool:
    return bool(spec.sound)


MUSIC_MODEL = "music_model"
# A model's music sits this far under full scale before the effects join it.
MODEL_MUSIC_PEAK = 0.5


def split_music_model(sound: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The engine's part of stored sound settings, and the audio model's name
    ("" for the built-in composer)."""
    engine = {k: v for k, v in sound.items() if k != MUSIC_MODEL}
    return engine, str(sound.get(MUSIC_MODEL) or "")


def clip_audio(
    spec: GenerationSpec, frames: np.ndarray, *, device: str = "cpu"
) -> tuple[np.ndarray, int]:
    """Stereo float32 audio (2, n) exactly ``len(frames) / fps`` long, and its rate.

    Raises :class:`ClipSoundError` for settings the engine refuses.
    """
    from generation.sound import SAMPLE_RATE, SoundError, SoundSettings, clip_sound

    engine, model = split_music_model(spec.sound)
    try:
        settings = SoundSettings.from_json(engine)
    except SoundError as error:
        raise ClipSoundError(str(error)) from None
    seconds = len(frames) / spec.fps
    by_model = bool(model) and settings.music
    if by_model:
        settings = dataclasses.replace(settings, music=False)
    result = clip_sound(frames, spec.fps, spec.prompt, settings, spec.seed)
    audio = fit_length(result.audio, seconds, SAMPLE_RATE)
    if by_model:
        music = model_music(
            model, settings.mood or spec.prompt, seconds, spec.seed, device
        )
        peak = float(np.abs(music).max()) or 1.0
        scale = MODEL_MUSIC_PEAK * (engine_volume(engine) / peak)
        audio = np.clip(audio + music * scale, -1.0, 1.0).astype(np.float32)
    return audio, SAMPLE_RATE


def engine_volume(engine: dict[str, Any]) -> float:
    volumes = engine.get("volumes") or {}
    return float(volumes.get("music", 1.0))


def model_music(
    name: str, text: str, seconds: float, seed: int, device: str
) -> np.ndarray:
    """``seconds`` of the audio model's sound for ``text``, at the engine's rate."""
    from generation.adapters import ModelUnavailableError
    from generation.adapters.stable_audio import audio_adapter
    from generation.sound import SAMPLE_RATE

    try:
        adapter = audio_adapter(name, device)
    except ModelUnavailableError as error:
        raise ClipSoundError(str(error)) from None
    music, rate = adapter.generate_audio(text, seconds, seed)
    return fit_length(resample(music, rate, SAMPLE_RATE), seconds, SAMPLE_RATE)


def resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Linear resampling of (2, n) audio from ``rate`` to ``target``."""
    audio = np.asarray(audio, dtype=np.float32)
    if rate == target or audio.shape[1] == 0:
        return audio
    length = round(audio.shape[1] * target / rate)
    old = np.arange(audio.shape[1]) / rate
    new = np.arange(length) / target
    return np.stack([np.interp(new, old, channel) for channel in audio]).astype(
        np.float32
    )


def fit_length(audio: np.ndarray, seconds: float, rate: int) -> np.ndarray:
    """Trim or pad (with silence) to exactly ``seconds`` at ``rate``."""
    wanted = round(seconds * rate)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.shape[1] >= wanted:
        return np.ascontiguousarray(audio[:, :wanted])
    return np.pad(audio, ((0, 0), (0, wanted - audio.shape[1])))
