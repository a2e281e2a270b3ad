"""A clip's sound: its spec's sound settings → stereo audio as long as its frames.

The service asks :func:`clip_audio` once a clip's frames are final and muxes
the answer beside them in the same MP4 write, so the Content Credentials
signed afterwards cover the audio too. A spec without sound settings costs
nothing: no audio is made and no audio stream is written.
"""

from __future__ import annotations

import numpy as np

from generation.encode import AUDIO_RATE
from generation.specs import GenerationSpec

__all__ = ["AUDIO_RATE", "ClipSoundError", "clip_audio", "fit_length", "wants_sound"]

# The model whose frames the sound engine reads for its effects; a real
# model's clip gets music and ambience from its prompt instead.
BUILTIN = "builtin"


class ClipSoundError(ValueError):
    """Sound settings a spec carries that the engine refuses; says why."""


def wants_sound(spec: GenerationSpec) -> bool:
    return bool(spec.sound)


def clip_audio(spec: GenerationSpec, frames: np.ndarray) -> tuple[np.ndarray, int]:
    """Stereo float32 audio (2, n) exactly ``len(frames) / fps`` long, and its rate.

    Raises :class:`ClipSoundError` for settings the engine refuses.
    """
    from generation.sound import SAMPLE_RATE, SoundError, SoundSettings, clip_sound

    try:
        settings = SoundSettings.from_json(spec.sound)
    except SoundError as error:
        raise ClipSoundError(str(error)) from None
    result = clip_sound(frames, spec.fps, spec.prompt, settings, spec.seed)
    return fit_length(result.audio, len(frames) / spec.fps, SAMPLE_RATE), SAMPLE_RATE


def fit_length(audio: np.ndarray, seconds: float, rate: int) -> np.ndarray:
    """Trim or pad (with silence) to exactly ``seconds`` at ``rate``."""
    wanted = round(seconds * rate)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.shape[1] >= wanted:
        return np.ascontiguousarray(audio[:, :wanted])
    return np.pad(audio, ((0, 0), (0, wanted - audio.shape[1])))
