"""A small composer: a music bed from what a clip or a sequence is about.

:func:`read_mood` turns mood and pacing words into a :class:`MusicPlan`
(tempo, key, mode, instruments, dynamics). :func:`compose` writes the bed:
each shot is one phrase whose bars are stretched so that its last beat ends
on the next cut, chords move through a progression that opens on the tonic at
every cut and leans on the dominant just before it, and the whole bed fades
out at the end. Every voice is a wavetable oscillator or shaped noise, drawn
with numpy; the seed picks the progression, the figures and the noise.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

import numpy as np

from .settings import MOODS, SAMPLE_RATE

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
}
# Chord progressions as scale degrees (0 = tonic); each phrase opens on one.
PROGRESSIONS: dict[str, tuple[tuple[int, ...], ...]] = {
    "major": ((0, 4, 5, 3), (0, 3, 4, 0), (0, 5, 3, 4), (0, 3, 0, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 5, 4), (0, 5, 3, 4), (0, 6, 5, 6)),
    "dorian": ((0, 3, 0, 3), (0, 6, 3, 0), (0, 4, 3, 6)),
}


@dataclass(frozen=True)
class _Profile:
    tempo: int
    mode: str
    instruments: tuple[str, ...]
    dynamics: str
    keys: tuple[str, ...]
    words: tuple[str, ...]


PROFILES: dict[str, _Profile] = {
    "calm": _Profile(
        76,
        "major",
        ("pads", "piano"),
        "soft",
        ("C", "F", "G", "D"),
        (
            "calm",
            "peaceful",
            "serene",
            "gentle",
            "soft",
            "quiet",
            "relaxed",
            "tranquil",
            "soothing",
            "still",
            "lazy",
            "cozy",
            "dreamy",
            "floating",
        ),
    ),
    "contemplative": _Profile(
        62,
        "minor",
        ("pads", "piano"),
        "soft",
        ("A", "D", "E"),
        (
            "contemplative",
            "thoughtful",
            "reflective",
            "pensive",
            "meditative",
            "introspective",
            "lingering",
            "wistful",
            "lonely",
            "solitary",
            "quietly",
        ),
    ),
    "tense": _Profile(
        98,
        "minor",
        ("pulse", "strings", "bass"),
        "medium",
        ("C#", "F#", "D"),
        (
            "tense",
            "suspense",
            "suspenseful",
            "danger",
            "dangerous",
            "threat",
            "ominous",
            "anxious",
            "nervous",
            "uneasy",
            "creeping",
            "looming",
            "thriller",
            "stalking",
            "dread",
        ),
    ),
    "joyful": _Profile(
        116,
        "major",
        ("pluck", "bass", "drums"),
        "medium",
        ("G", "D", "C", "A"),
        (
            "joyful",
            "happy",
            "cheerful",
            "bright",
            "playful",
            "fun",
            "sunny",
            "upbeat",
            "celebration",
            "celebrating",
            "dancing",
            "festive",
            "party",
            "delight",
            "bouncy",
            "whimsical",
        ),
    ),
    "epic": _Profile(
        88,
        "minor",
        ("strings", "bass", "drums"),
        "strong",
        ("D", "C", "E"),
        (
            "epic",
            "heroic",
            "grand",
            "majestic",
            "triumphant",
            "vast",
            "sweeping",
            "soaring",
            "powerful",
            "cinematic",
            "legendary",
            "monumental",
            "aerial",
        ),
    ),
    "action": _Profile(
        140,
        "minor",
        ("drums", "bass", "pluck"),
        "strong",
        ("E", "D", "G"),
        (
            "action",
            "chase",
            "fight",
            "battle",
            "explosive",
            "explosion",
            "intense",
            "frantic",
            "racing",
            "speeding",
            "rushing",
            "dynamic",
            "energetic",
            "thrilling",
            "pursuit",
            "crash",
        ),
    ),
    "mysterious": _Profile(
        70,
        "dorian",
        ("pads", "bells"),
        "soft",
        ("F#", "B", "C#"),
        (
            "mysterious",
            "mystery",
            "eerie",
            "strange",
            "magical",
            "mystical",
            "haunting",
            "ghostly",
            "enigmatic",
            "foggy",
            "misty",
            "shadowy",
            "dark",
            "secret",
            "otherworldly",
            "starry",
        ),
    ),
    "melancholy": _Profile(
        66,
        "minor",
        ("piano", "strings"),
        "soft",
        ("D", "B", "G"),
        (
            "melancholy",
            "melancholic",
            "sad",
            "sorrow",
            "sorrowful",
            "grief",
            "mournful",
            "nostalgic",
            "tearful",
            "rainy",
            "farewell",
            "longing",
            "bittersweet",
            "lost",
            "fading",
        ),
    ),
}
assert tuple(PROFILES) == MOODS

SLOW_WORDS = (
    "slow",
    "slowly",
    "gentle",
    "gently",
    "lingering",
    "drifting",
    "leisurely",
    "unhurried",
    "lazy",
    "languid",
    "calm",
    "contemplative",
)
FAST_WORDS = (
    "fast",
    "quick",
    "quickly",
    "rapid",
    "rapidly",
    "dynamic",
    "frantic",
    "racing",
    "speeding",
    "rushing",
    "hurried",
    "energetic",
    "action",
    "chase",
    "swift",
    "whip",
)
# With no mood words, the scene decides.
SCENE_MOODS = {
    "night": "mysterious",
    "sea": "contemplative",
    "ocean": "contemplative",
    "sunset": "melancholy",
    "dusk": "melancholy",
    "day": "joyful",
    "sunny": "joyful",
    "field": "calm",
    "meadow": "calm",
    "city": "tense",
}
INSTRUMENT_NAMES = {
    "pads": "pads",
    "piano": "piano",
    "pulse": "a low pulse",
    "strings": "strings",
    "bass": "bass",
    "drums": "drums",
    "pluck": "plucked arpeggios",
    "bells": "bells",
}
_DYNAMIC_LOUDNESS = {"soft": -24.0, "medium": -21.0, "strong": -19.0}


@dataclass(frozen=True)
class MusicPlan:
    """What the composer will write, and why it reads as it does."""

    mood: str
    tempo_bpm: int
    key: str
    mode: str
    instruments: tuple[str, ...]
    dynamics: str  # soft | medium | strong
    pacing: str  # slow | moderate | fast

    def describe(self) -> str:
        """One short line for a page: ``slow · A minor · pads and piano``."""
        names = [INSTRUMENT_NAMES.get(i, i) for i in self.instruments]
        if len(names) > 1:
            listed = ", ".join(names[:-1]) + " and " + names[-1]
        else:
            listed = names[0] if names else "silence"
        return f"{self.pacing} · {self.key} {self.mode} · {listed}"

    def to_json(self) -> dict:
        return {
            "mood": self.mood,
            "tempo_bpm": self.tempo_bpm,
            "key": self.key,
            "mode": self.mode,
            "instruments": list(self.instruments),
            "dynamics": self.dynamics,
            "pacing": self.pacing,
            "description": self.describe(),
        }

    @property
    def loudness(self) -> float:
        """The bed's level (LUFS) before the mix is levelled as a whole."""
        return _DYNAMIC_LOUDNESS[self.dynamics]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def read_mood(text: str) -> MusicPlan:
    """The music a prompt (or a named mood, or a few free words) asks for.

    Mood words pick the character (tempo, mode, instruments, dynamics); pacing
    words ("slow", "dynamic") move the tempo; with neither, the scene decides,
    and with no scene either the bed is calm. The key follows the mood, chosen
    by the text so the same words always give the same key.
    """
    words = _words(text or "")
    counts = {w: words.count(w) for w in set(words)}
    scores = {
        mood: sum(counts.get(w, 0) for w in profile.words)
        + (2 if mood in counts else 0)
        for mood, profile in PROFILES.items()
    }
    slow = sum(counts.get(w, 0) for w in SLOW_WORDS)
    fast = sum(counts.get(w, 0) for w in FAST_WORDS)
    mood = max(MOODS, key=lambda m: scores[m])
    if scores[mood] == 0:
        scene = next((SCENE_MOODS[w] for w in words if w in SCENE_MOODS), None)
        if fast > slow:
            mood = "action"
        elif scene:
            mood = scene
        elif slow > fast:
            mood = "contemplative"
        else:
            mood = "calm"
    profile = PROFILES[mood]
    tempo = float(profile.tempo)
    if fast > slow:
        tempo *= 1.22
    elif slow > fast:
        tempo *= 0.82
    tempo_bpm = int(round(min(max(tempo, 48.0), 168.0)))
    pacing = "slow" if tempo_bpm < 80 else "moderate" if tempo_bpm < 110 else "fast"
    digest = hashlib.blake2s(" ".join(words).encode(), digest_size=4).digest()
    key = profile.keys[digest[0] % len(profile.keys)]
    instruments = profile.instruments
    dynamics = profile.dynamics
    if pacing == "fast" and "drums" not in instruments:
        instruments = instruments + ("drums",)
    if pacing == "slow" and dynamics == "strong":
        dynamics = "medium"
    return MusicPlan(
        mood=mood,
        tempo_bpm=tempo_bpm,
        key=key,
        mode=profile.mode,
        instruments=instruments,
        dynamics=dynamics,
        pacing=pacing,
    )


# ------------------------------------------------------------- synthesis

_TABLE = 4096


def _table(partials: list[tuple[float, float]]) -> np.ndarray:
    """One period of a waveform made of (harmonic, amplitude) partials."""
    phase = np.arange(_TABLE) / _TABLE * 2 * np.pi
    wave = sum(a * np.sin(h * phase) for h, a in partials)
    wave = wave / np.max(np.abs(wave))
    return wave.astype(np.float32)


TABLES = {
    "soft": _table([(h, 1.0 / h**1.6) for h in range(1, 9)]),
    "bright": _table([(h, 1.0 / h) for h in range(1, 14)]),
    "sine": _table([(1, 1.0)]),
    "bass": _table([(1, 1.0), (2, 0.35), (3, 0.12)]),
    "piano": _table([(1, 1.0), (2, 0.45), (3, 0.22), (4, 0.12), (5, 0.06)]),
    "hollow": _table([(1, 1.0), (3, 0.33), (5, 0.16), (7, 0.08)]),
}


def midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12)


class _Canvas:
    """A stereo buffer that notes are added into, clipped to its length."""

    def __init__(self, n: int):
        self.n = n
        self.buf = np.zeros((2, n), np.float32)

    def add(self, start_s: float, mono: np.ndarray, pan: float = 0.0) -> None:
        i0 = int(round(start_s * SAMPLE_RATE))
        if i0 >= self.n or len(mono) == 0:
            return
        j0 = max(0, -i0)
        i0 = max(0, i0)
        m = mono[j0 : j0 + self.n - i0]
        left = math.cos((pan + 1) * math.pi / 4) * math.sqrt(2)
        right = math.sin((pan + 1) * math.pi / 4) * math.sqrt(2)
        self.buf[0, i0 : i0 + len(m)] += left * m
        self.buf[1, i0 : i0 + len(m)] += right * m


def _osc(table: np.ndarray, hz: float, n: int, vibrato: float = 0.0) -> np.ndarray:
    """``n`` samples of a wavetable at ``hz`` (32-bit fixed-point phase)."""
    step = int(round(hz / SAMPLE_RATE * 2**32))
    if vibrato:
        t = np.arange(n, dtype=np.float32) / SAMPLE_RATE
        wobble = (
            vibrato * hz / (2 * np.pi * 5.0) * np.sin(2 * np.pi * 5.0 * t)
        ).astype(np.float64)
        phase = (np.arange(n, dtype=np.int64) * step) + (wobble * 2**32).astype(
            np.int64
        )
    else:
        phase = np.arange(n, dtype=np.int64) * step
    return table[(phase >> 20) & (_TABLE - 1)]


def _envelope(n: int, attack: float, release: float, decay: float = 0.0) -> np.ndarray:
    """Linear attack, optional exponential decay, linear release to zero."""
    env = np.ones(n, np.float32)
    a = min(n, max(1, int(attack * SAMPLE_RATE)))
    env[:a] = np.linspace(0, 1, a, dtype=np.float32)
    if decay > 0:
        t = np.arange(n, dtype=np.float32) / SAMPLE_RATE
        env *= np.exp(-t / decay).astype(np.float32)
    r = min(n, max(1, int(release * SAMPLE_RATE)))
    env[n - r :] *= np.linspace(1, 0, r, dtype=np.float32)
    return env


def _note(
    table: np.ndarray,
    note: float,
    length: float,
    *,
    attack: float,
    release: float,
    decay: float = 0.0,
    detune: float = 0.0,
    vibrato: float = 0.0,
) -> np.ndarray:
    n = max(1, int((length + release) * SAMPLE_RATE))
    hz = midi_hz(note)
    wave = _osc(table, hz * (1 + detune), n, vibrato)
    return wave * _envelope(n, attack, release, decay)


def _noise_burst(rng: np.random.Generator, length: float, decay: float, bright: bool):
    n = max(1, int(length * SAMPLE_RATE))
    noise = rng.standard_normal(n).astype(np.float32)
    if bright:  # first difference: a simple high-pass
        noise = np.diff(noise, prepend=np.float32(0)) * 0.5
    t = np.arange(n, dtype=np.float32) / SAMPLE_RATE
    return noise * np.exp(-t / decay).astype(np.float32)


def _kick(length: float = 0.35) -> np.ndarray:
    n = int(length * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    hz = 45 + 90 * np.exp(-t / 0.04)
    phase = 2 * np.pi * np.cumsum(hz) / SAMPLE_RATE
    return (np.sin(phase) * np.exp(-t / 0.12)).astype(np.float32)


def _chord_notes(plan: MusicPlan, degree: int, octave: int) -> list[int]:
    scale = MODES[plan.mode]
    root = NOTE_NAMES.index(plan.key)
    notes = []
    for step in (0, 2, 4):
        d = degree + step
        notes.append(12 * (octave + 1) + root + scale[d % 7] + 12 * (d // 7))
    return notes


def _segments(cuts: list[float], seconds: float) -> list[tuple[float, float]]:
    marks = sorted({0.0, *(c for c in cuts if 0.0 < c < seconds)})
    marks.append(seconds)
    return [(a, b) for a, b in zip(marks, marks[1:], strict=False) if b - a > 1e-3]


def shot_energy(prompt: str) -> float:
    """How hard the music plays under one shot: its own pacing words lift
    (fast, dynamic) or soften (slow, gentle) the sequence's bed."""
    words = _words(prompt or "")
    fast = sum(w in FAST_WORDS for w in words)
    slow = sum(w in SLOW_WORDS for w in words)
    return 1.25 if fast > slow else 0.8 if slow > fast else 1.0


def compose(
    plan: MusicPlan,
    cuts: list[float],
    seconds: float,
    rng: np.random.Generator,
    energies: dict[float, float] | None = None,
) -> np.ndarray:
    """The music bed: float32 (2, round(seconds * SAMPLE_RATE)), not yet levelled.

    ``cuts`` are the shot starts (seconds): every phrase starts on one.
    ``energies`` maps a cut to how hard its phrase plays (1: as planned); the
    level moves over 80 ms at the cut.
    """
    n = int(round(seconds * SAMPLE_RATE))
    canvas = _Canvas(n)
    segments = _segments(cuts, seconds)
    beat = 60.0 / plan.tempo_bpm
    fast = plan.pacing == "fast"
    for index, (a, b) in enumerate(segments):
        last_segment = index == len(segments) - 1
        length = b - a
        # Whole beats per phrase, stretched so the phrase ends on the cut.
        beats = max(1, round(length / beat))
        step = length / beats
        beats_per_chord = 4 if beats >= 6 else 2 if beats >= 3 else beats
        chords = max(1, math.ceil(beats / beats_per_chord))
        progression = PROGRESSIONS[plan.mode][
            int(rng.integers(len(PROGRESSIONS[plan.mode])))
        ]
        degrees = [progression[i % len(progression)] for i in range(chords)]
        if chords >= 2:
            degrees[-1] = 0 if last_segment else 4
        accent = 1.0 + 0.25 * (index > 0)
        for c, degree in enumerate(degrees):
            b0 = c * beats_per_chord
            b1 = min(beats, b0 + beats_per_chord)
            t0, t1 = a + b0 * step, a + b1 * step
            _play_chord(canvas, plan, rng, degree, t0, t1, step, c == 0, accent)
        if "drums" in plan.instruments:
            _play_drums(canvas, rng, a, beats, step, fast, index > 0)
    out = canvas.buf
    if energies:
        gain = np.ones(n, np.float32)
        for a, b in segments:
            i0, i1 = int(round(a * SAMPLE_RATE)), int(round(b * SAMPLE_RATE))
            gain[i0:i1] = energies.get(a, 1.0)
        ramp = int(0.08 * SAMPLE_RATE)
        kernel = np.ones(ramp, np.float32) / ramp
        smooth = np.convolve(
            np.pad(gain, (ramp // 2, ramp - ramp // 2 - 1), "edge"), kernel, "valid"
        )
        out *= smooth.astype(np.float32)
    fade_in = min(n, int(0.02 * SAMPLE_RATE))
    out[:, :fade_in] *= np.linspace(0, 1, fade_in, dtype=np.float32)
    fade = min(n, int(min(2.0, max(0.3, 0.2 * seconds)) * SAMPLE_RATE))
    if fade > 0:
        curve = np.cos(np.linspace(0, np.pi / 2, fade)) ** 2
        out[:, n - fade :] *= curve.astype(np.float32)
    return out


def _play_chord(
    canvas: _Canvas,
    plan: MusicPlan,
    rng: np.random.Generator,
    degree: int,
    t0: float,
    t1: float,
    step: float,
    downbeat: bool,
    accent: float,
) -> None:
    span = t1 - t0
    mid = _chord_notes(plan, degree, 4)
    low = _chord_notes(plan, degree, 2)
    instruments = plan.instruments
    if "pads" in instruments:
        for k, note in enumerate([*mid, mid[0] + 12]):
            for detune, pan in ((-0.0018, -0.6), (0.0018, 0.6)):
                wave = _note(
                    TABLES["soft"],
                    note,
                    span,
                    attack=min(0.8, 0.4 * span),
                    release=0.35,
                    detune=detune,
                )
                canvas.add(t0, 0.05 * wave, pan * (0.5 + 0.15 * k))
    if "strings" in instruments:
        for k, note in enumerate([low[0] + 12, *mid]):
            wave = _note(
                TABLES["bright"],
                note,
                span,
                attack=min(0.25, 0.3 * span),
                release=0.25,
                vibrato=0.004,
                detune=0.001 * (k - 1.5),
            )
            canvas.add(t0, 0.035 * wave, -0.5 + 0.33 * k)
    if "bass" in instruments:
        beats = max(1, round(span / step))
        per = 1 if plan.pacing != "slow" else beats
        for i in range(0, beats, per):
            note = low[0] - 12 + (7 if (i % 4 == 2 and beats >= 4) else 0)
            wave = _note(
                TABLES["bass"],
                note,
                step * per * 0.9,
                attack=0.01,
                release=0.06,
                decay=0.6,
            )
            canvas.add(t0 + i * step, 0.22 * accent**0.5 * wave, 0.0)
    if "pulse" in instruments:
        eighths = max(1, round(span / (step / 2)))
        for i in range(eighths):
            vel = 0.12 if i % 2 == 0 else 0.07
            wave = _note(
                TABLES["hollow"],
                low[0],
                step / 2 * 0.7,
                attack=0.005,
                release=0.04,
                decay=0.15,
            )
            canvas.add(t0 + i * step / 2, vel * wave, -0.2)
    if "piano" in instruments:
        beats = max(1, round(span / step))
        tones = [*mid, mid[0] + 12, mid[1] + 12]
        if downbeat:
            for note in low[:1] + mid:
                wave = _note(
                    TABLES["piano"],
                    note,
                    step * 2,
                    attack=0.004,
                    release=0.3,
                    decay=0.9,
                )
                canvas.add(t0, 0.07 * accent * wave, -0.1)
        for i, note in enumerate(_melody(plan, rng, tones, beats)):
            wave = _note(
                TABLES["piano"], note, step, attack=0.004, release=0.25, decay=0.6
            )
            canvas.add(t0 + i * step, 0.06 * wave, 0.25)
    if "pluck" in instruments:
        eighths = max(1, round(span / (step / 2)))
        tones = [*mid, mid[0] + 12]
        order = rng.permutation(len(tones))
        for i in range(eighths):
            note = tones[order[i % len(tones)]] + 12 * (i % 8 == 7)
            wave = _note(
                TABLES["bright"],
                note,
                step / 2,
                attack=0.003,
                release=0.08,
                decay=0.11,
            )
            canvas.add(t0 + i * step / 2, 0.05 * wave, 0.35 * (-1) ** i)
    if "bells" in instruments:
        beats = max(1, round(span / step))
        for i in range(0, beats, 2):
            if i and rng.random() < 0.35:
                continue
            note = mid[int(rng.integers(3))] + 12
            wave = np.zeros(int((step * 3 + 0.5) * SAMPLE_RATE), np.float32)
            for ratio, amp in ((1.0, 1.0), (2.76, 0.4), (5.4, 0.2), (8.93, 0.1)):
                part = _note(
                    TABLES["sine"],
                    note + 12 * math.log2(ratio),
                    step * 3,
                    attack=0.002,
                    release=0.5,
                    decay=1.2 / ratio**0.5,
                )
                wave[: len(part)] += amp * part[: len(wave)]
            canvas.add(t0 + i * step, 0.05 * wave, float(rng.uniform(-0.7, 0.7)))


def _melody(
    plan: MusicPlan, rng: np.random.Generator, tones: list[int], beats: int
) -> list[int]:
    """A line over one chord: it opens on a chord tone, walks by steps of the
    scale, and comes back to a chord tone on the chord's last beat."""
    root = NOTE_NAMES.index(plan.key)
    lo, hi = min(tones), max(tones)
    scale = [p for p in range(lo, hi + 1) if (p - root) % 12 in MODES[plan.mode]]
    at = scale.index(tones[int(rng.integers(len(tones)))])
    line = [scale[at]]
    for _ in range(beats - 1):
        move = int(rng.choice((-2, -1, -1, 1, 1, 2)))
        if not 0 <= at + move < len(scale):
            move = -move  # turn back at the edge of the range
        at = min(max(at + move, 0), len(scale) - 1)
        line.append(scale[at])
    if beats > 1:
        line[-1] = min(tones, key=lambda t: abs(t - line[-2]))
    return line


def _play_drums(
    canvas: _Canvas,
    rng: np.random.Generator,
    start: float,
    beats: int,
    step: float,
    fast: bool,
    cut: bool,
) -> None:
    kick = _kick()
    for i in range(beats):
        t = start + i * step
        if i % 2 == 0:
            canvas.add(t, 0.5 * kick, 0.0)
        else:
            snare = _noise_burst(rng, 0.2, 0.05, bright=False)
            canvas.add(t, 0.2 * snare, 0.05)
        subdivisions = 4 if fast else 2
        for j in range(subdivisions):
            hat = _noise_burst(rng, 0.06, 0.012, bright=True)
            canvas.add(t + j * step / subdivisions, (0.1 if j else 0.14) * hat, -0.3)
    if cut:  # a cymbal marks the cut
        crash = _noise_burst(rng, 1.6, 0.45, bright=True)
        canvas.add(start, 0.12 * crash, 0.3)
