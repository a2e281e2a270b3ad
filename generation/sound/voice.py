"""Spoken lines through espeak-ng, offline: one stable voice per character.

Each line is spoken by the ``espeak-ng`` program (no model to download),
trimmed to its speech, resampled to SAMPLE_RATE and placed on its shot. The
words' timings are estimated within the measured spoken span: the span is
shared out by each word's syllables, and each boundary moves to the quietest
moment near it.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import wave
from dataclasses import dataclass

import numpy as np

from .settings import SAMPLE_RATE, SoundError

MAX_LINE_CHARS = 300
ESPEAK = "espeak-ng"
SPEAK_TIMEOUT_S = 30
NARRATOR = dict(voice="en-gb+m3", pitch=42, speed=150)
_VARIANTS = ("m1", "m2", "m4", "m5", "m7", "f1", "f2", "f3", "f4", "f5")
_ACCENTS = ("en-gb", "en-us")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Voice:
    voice: str  # espeak-ng voice name with a variant, e.g. "en-us+f2"
    pitch: int  # 0..99
    speed: int  # words per minute


@dataclass(frozen=True)
class Speech:
    audio: np.ndarray  # float32 mono at SAMPLE_RATE, starting on the first sound
    words: list[tuple[float, float, str]]  # seconds from the start of ``audio``


def voice_available() -> bool:
    """Whether lines can be spoken here (the espeak-ng program is installed)."""
    return shutil.which(ESPEAK) is not None


def voice_for(character: str) -> Voice:
    """The voice of a character: the same name always sounds the same.

    The narrator (an empty name) has a calm, low voice; any other name picks a
    variant, a pitch and a pace from a hash of the name, case and spacing
    aside.
    """
    name = " ".join(character.split()).lower()
    if not name or name == "narrator":
        return Voice(**NARRATOR)
    digest = hashlib.blake2s(name.encode(), digest_size=8).digest()
    variant = _VARIANTS[digest[0] % len(_VARIANTS)]
    accent = _ACCENTS[digest[1] % len(_ACCENTS)]
    female = variant.startswith("f")
    pitch = (48 if female else 32) + digest[2] % 25
    speed = 145 + digest[3] % 31
    return Voice(voice=f"{accent}+{variant}", pitch=pitch, speed=speed)


def clean_line(text: str) -> str:
    """A line as spoken: control characters out, spaces tidied, bounded."""
    if not isinstance(text, str):
        raise SoundError("A spoken line must be text.")
    line = " ".join(_CONTROL.sub(" ", text).split())
    if len(line) > MAX_LINE_CHARS:
        raise SoundError(
            f"A spoken line is too long: keep it to {MAX_LINE_CHARS} characters."
        )
    return line


def _start(text: str, voice: Voice) -> subprocess.Popen:
    args = [
        ESPEAK,
        "--stdout",
        "-v",
        voice.voice,
        "-s",
        str(voice.speed),
        "-p",
        str(voice.pitch),
        "--",
        text,
    ]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Samples and rate of espeak-ng's 16-bit mono WAV (its sizes may be open)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SoundError("The speech engine did not return audio.")
    try:
        with wave.open(io.BytesIO(data)) as w:
            rate = w.getframerate()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError):
        rate = int.from_bytes(data[24:28], "little")
        at = data.find(b"data", 12)
        frames = data[at + 8 :] if at >= 0 else b""
    frames = frames[: len(frames) // 2 * 2]
    return np.frombuffer(frames, "<i2").astype(np.float32) / 32768.0, rate


def resample(x: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Polyphase resampling from ``rate`` to ``target`` Hz."""
    from math import gcd

    from scipy.signal import resample_poly

    if rate == target or len(x) == 0:
        return x.astype(np.float32)
    g = gcd(int(rate), int(target))
    return resample_poly(x, target // g, rate // g).astype(np.float32)


def _syllables(word: str) -> int:
    return max(1, len(re.findall(r"[aeiouy]+", word.lower())))


def _word_timings(
    audio: np.ndarray, words: list[str]
) -> list[tuple[float, float, str]]:
    if not words:
        return []
    hop = int(0.01 * SAMPLE_RATE)
    frames = len(audio) // hop
    if frames < 2:
        return [(0.0, len(audio) / SAMPLE_RATE, " ".join(words))]
    energy = np.sqrt((audio[: frames * hop].reshape(frames, hop) ** 2).mean(1))
    weights = np.array([_syllables(w) + 0.3 for w in words], np.float64)
    bounds = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()]) * frames
    edges = [0]
    for b in bounds[1:-1]:
        lo = max(edges[-1] + 1, int(b) - 8)
        hi = min(frames - 1, int(b) + 8)
        edges.append(lo + int(np.argmin(energy[lo : hi + 1])) if hi >= lo else lo)
    edges.append(frames)
    return [
        (edges[i] * hop / SAMPLE_RATE, edges[i + 1] * hop / SAMPLE_RATE, w)
        for i, w in enumerate(words)
    ]


def _trim(x: np.ndarray) -> np.ndarray:
    """Cut the silence before the first and after the last sound."""
    if len(x) == 0:
        return x
    loud = np.flatnonzero(np.abs(x) > 0.02 * max(float(np.abs(x).max()), 1e-6))
    if loud.size == 0:
        return x[:0]
    return x[loud[0] : loud[-1] + 1]


def speak_many(lines: list[tuple[str, str]]) -> list[Speech]:
    """Speak (text, character) lines, all at once; each trimmed to its sound."""
    if not voice_available():
        raise SoundError(
            "Spoken lines need the espeak-ng speech engine, which is not installed."
        )
    procs = [_start(text, voice_for(character)) for text, character in lines]
    speeches = []
    for proc, (text, _) in zip(procs, lines, strict=True):
        try:
            out, err = proc.communicate(timeout=SPEAK_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise SoundError("The speech engine took too long on a line.") from None
        if proc.returncode != 0:
            raise SoundError("The speech engine could not speak a line.")
        samples, rate = _read_wav(out)
        audio = _trim(resample(samples, rate))
        fade = min(len(audio), int(0.005 * SAMPLE_RATE))
        if fade:
            audio[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
        speeches.append(Speech(audio, _word_timings(audio, text.split())))
    return speeches
