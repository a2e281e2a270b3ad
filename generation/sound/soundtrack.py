"""A clip's or a sequence's soundtrack: music, effects and voice, mixed.

The layers are made apart (stems), each brought to its own level, the music
ducked under the voice, each scaled by its volume, summed, levelled to
−16 LUFS integrated, peak-limited under −1 dBFS and cut to the exact length.
Everything random comes from the seed: the same settings and seed give the
same samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import effects as fx
from .mix import TARGET_LUFS, duck, gain_to, limit, loudness
from .music import MusicPlan, compose, read_mood, shot_energy
from .settings import SAMPLE_RATE, SoundError, SoundSettings
from .voice import clean_line, speak_many, voice_available

MAX_SECONDS = 600.0
MAX_SHOTS = 200
MAX_FPS = 120
AMBIENCE_LUFS = -30.0  # the scene's bed, under everything
HITS_LUFS = -25.0  # thumps, swells, whooshes, while they sound
CROSSFADE_S = 0.3  # ambience crossfades over a cut
VOICE_LUFS = -17.0


@dataclass(frozen=True)
class VoiceLine:
    """A line spoken in a shot, by a character ("" is the narrator)."""

    text: str
    character: str = ""
    start: float = 0.0  # seconds from the start of its shot


@dataclass(frozen=True)
class ShotSound:
    """One shot of a sequence, as its soundtrack needs it."""

    prompt: str
    start: float  # seconds in the sequence
    duration: float
    # uint8 (T, H, W, 3) for effects timed from the picture; None: only the
    # ambience the prompt names.
    frames: np.ndarray | None = None
    voice: VoiceLine | None = None


@dataclass(frozen=True)
class SoundResult:
    """The mixed soundtrack and what was placed in it."""

    audio: np.ndarray  # float32 (2, n) at SAMPLE_RATE
    plan: MusicPlan | None
    voice_spans: list[tuple[float, float, str]]  # (start_s, end_s, text)
    events: list[tuple[float, str]]  # (time_s, "bounce" | "swell" | ...)
    # Each spoken word's estimated (start_s, end_s, word), in sequence time.
    words: list[tuple[float, float, str]] = field(default_factory=list)
    # The levelled layers before the limiter: "music", "effects", "voice".
    stems: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def seconds(self) -> float:
        return self.audio.shape[1] / SAMPLE_RATE


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SoundError(f"The {what} must be a number of seconds.")
    value = float(value)
    if not math.isfinite(value):
        raise SoundError(f"The {what} must be a finite number of seconds.")
    return value


def _check_frames(frames, what: str) -> np.ndarray:
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8:
        raise SoundError(f"The {what} must be uint8 frames (T, H, W, 3).")
    if frames.ndim != 4 or frames.shape[-1] != 3 or min(frames.shape[:3]) < 1:
        raise SoundError(f"The {what} must be uint8 frames (T, H, W, 3).")
    return frames


def _check_fps(fps) -> int:
    if isinstance(fps, bool) or not isinstance(fps, int | np.integer):
        raise SoundError("The frame rate must be a whole number of frames a second.")
    if not 1 <= fps <= MAX_FPS:
        raise SoundError(f"The frame rate must be from 1 to {MAX_FPS} frames a second.")
    return int(fps)


def _rng(seed: int, stream: int, index: int = 0) -> np.random.Generator:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise SoundError("The seed must be a whole number.")
    return np.random.default_rng([int(seed) & 0xFFFF_FFFF_FFFF_FFFF, stream, index])


def _effects(
    shots: list[ShotSound], order: list[int], fps: int, n: int, seed: int
) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """The effects stem: each shot's ambience, crossfaded over the cuts, under
    the effects its frames call for, each layer at its own level."""
    beds = np.zeros((2, n), np.float32)
    hits = np.zeros((2, n), np.float32)
    events: list[tuple[float, str]] = []
    overlap = int(CROSSFADE_S * SAMPLE_RATE)
    for k, i in enumerate(order):
        shot = shots[i]
        i0 = int(round(float(shot.start) * SAMPLE_RATE))
        i1 = min(n, i0 + int(round(float(shot.duration) * SAMPLE_RATE)))
        if i1 <= i0:
            continue
        scene = fx.scene_of(shot.prompt)
        if scene is None and shot.frames is not None:
            scene = fx.scene_in(shot.frames)
        if scene:
            # The bed reaches half a crossfade past the shot on either side.
            a, b = max(0, i0 - overlap // 2), min(n, i1 + overlap // 2)
            bed = fx.ambience(scene, b - a, _rng(seed, 3, k))
            fade_in = overlap if a > 0 else int(0.02 * SAMPLE_RATE)
            fade_out = overlap if b < n else int(0.3 * SAMPLE_RATE)
            for length, side in (
                (fade_in, slice(None)),
                (fade_out, slice(None, None, -1)),
            ):
                length = min(length, (b - a) // 2)
                if length > 0:
                    ramp = np.sin(np.linspace(0, np.pi / 2, length)) ** 2
                    view = bed[:, side]
                    view[:, :length] *= ramp.astype(np.float32)
            beds[:, a:b] += bed
            events.append((float(shot.start), f"ambience:{scene}"))
        stem, placed = fx.hits_for(shot.frames, fps, i1 - i0, _rng(seed, 2, k))
        hits[:, i0:i1] += stem
        events += [(float(shot.start) + t, name) for t, name in placed]
    beds *= gain_to(beds, AMBIENCE_LUFS)
    hits *= gain_to(hits, HITS_LUFS)
    return beds + hits, events


def clip_sound(
    frames: np.ndarray, fps: int, prompt: str, settings: SoundSettings, seed: int
) -> SoundResult:
    """The soundtrack of one clip: exactly as long as its frames at ``fps``."""
    fps = _check_fps(fps)
    frames = _check_frames(frames, "clip")
    seconds = len(frames) / fps
    shot = ShotSound(prompt=prompt, start=0.0, duration=seconds, frames=frames)
    return sequence_sound([shot], fps, settings, seed, seconds)


def sequence_sound(
    shots: list[ShotSound],
    fps: int,
    settings: SoundSettings,
    seed: int,
    seconds: float,
) -> SoundResult:
    """The soundtrack of a sequence of shots, ``seconds`` long.

    The music's phrases start on the shots' starts and the bed fades out at
    the end; each shot with frames gets its effects, each voice line is
    spoken from its shot's start plus its own start.
    """
    if not isinstance(settings, SoundSettings):
        raise SoundError("Sound settings are missing.")
    fps = _check_fps(fps)
    seconds = _number(seconds, "length of the soundtrack")
    if not 0 < seconds <= MAX_SECONDS:
        raise SoundError(
            f"A soundtrack must last more than 0 and at most {MAX_SECONDS:.0f} seconds."
        )
    if not isinstance(shots, list | tuple) or len(shots) > MAX_SHOTS:
        raise SoundError(f"A soundtrack takes a list of at most {MAX_SHOTS} shots.")
    for i, shot in enumerate(shots, 1):
        if not isinstance(shot, ShotSound):
            raise SoundError(f"Shot {i} is not a shot.")
        start = _number(shot.start, f"start of shot {i}")
        duration = _number(shot.duration, f"length of shot {i}")
        if start < 0 or duration <= 0:
            raise SoundError(f"Shot {i} must start at 0 s or later and last a while.")
        if not isinstance(shot.prompt, str):
            raise SoundError(f"The prompt of shot {i} must be text.")
        if shot.frames is not None:
            _check_frames(shot.frames, f"frames of shot {i}")
        if shot.voice is not None:
            if not isinstance(shot.voice, VoiceLine):
                raise SoundError(f"The voice of shot {i} is not a spoken line.")
            clean_line(shot.voice.text)
            if (
                not isinstance(shot.voice.character, str)
                or len(shot.voice.character) > 80
            ):
                raise SoundError(f"The speaker of shot {i} must be a short name.")
            _number(shot.voice.start, f"start of the line in shot {i}")
    n = int(round(seconds * SAMPLE_RATE))
    order = sorted(range(len(shots)), key=lambda i: float(shots[i].start))

    plan = None
    music = np.zeros((2, n), np.float32)
    if settings.music:
        text = settings.mood or " ".join(shots[i].prompt for i in order)
        plan = read_mood(text)
        cuts = [float(shots[i].start) for i in order]
        energies = {float(shots[i].start): shot_energy(shots[i].prompt) for i in order}
        music = compose(plan, cuts, n / SAMPLE_RATE, _rng(seed, 1), energies)
        music *= gain_to(music, plan.loudness)

    effects = np.zeros((2, n), np.float32)
    events: list[tuple[float, str]] = []
    if settings.effects:
        effects, events = _effects(shots, order, fps, n, seed)

    voice = np.zeros((2, n), np.float32)
    spans: list[tuple[float, float, str]] = []
    words: list[tuple[float, float, str]] = []
    lines = [
        (i, clean_line(shots[i].voice.text))
        for i in order
        if settings.voice and shots[i].voice is not None
    ]
    lines = [(i, text) for i, text in lines if text]
    if lines and voice_available():
        speeches = speak_many([(text, shots[i].voice.character) for i, text in lines])
        for (i, text), speech in zip(lines, speeches, strict=True):
            shot = shots[i]
            at = float(shot.start) + max(0.0, float(shot.voice.start))
            i0 = int(round(at * SAMPLE_RATE))
            if i0 >= n or len(speech.audio) == 0:
                continue
            part = speech.audio[: n - i0]
            if len(part) < len(speech.audio):  # cut by the end: no click
                fade = min(len(part), int(0.05 * SAMPLE_RATE))
                part = part.copy()
                part[len(part) - fade :] *= np.linspace(1, 0, fade, dtype=np.float32)
            voice[:, i0 : i0 + len(part)] += part
            begin, end = i0 / SAMPLE_RATE, (i0 + len(part)) / SAMPLE_RATE
            spans.append((begin, end, text))
            words += [
                (begin + a, min(begin + b, end), w)
                for a, b, w in speech.words
                if begin + a < end
            ]
        voice *= gain_to(voice, VOICE_LUFS)
        if settings.music:
            music = duck(music, voice)

    stems = {
        "music": music * settings.music_volume,
        "effects": effects * settings.effects_volume,
        "voice": voice * settings.voice_volume,
    }
    mix = stems["music"] + stems["effects"] + stems["voice"]
    audio = mix
    if np.isfinite(loudness(mix)):
        gain = gain_to(mix, TARGET_LUFS)
        audio = limit(mix * gain)
        # The limiter takes a little loudness off the peaks; give it back once.
        again = gain_to(audio, TARGET_LUFS)
        if abs(20 * np.log10(again)) > 0.1:
            gain *= again
            audio = limit(mix * gain)
        stems = {k: (v * gain).astype(np.float32) for k, v in stems.items()}
    audio = np.ascontiguousarray(audio[:, :n], dtype=np.float32)
    events.sort(key=lambda e: e[0])
    return SoundResult(
        audio=audio,
        plan=plan,
        voice_spans=spans,
        events=events,
        words=words,
        stems=stems,
    )
