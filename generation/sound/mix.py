"""Levels: loudness (ITU-R BS.1770), ducking, peak limiting and WAV bytes."""

from __future__ import annotations

import io
import wave

import numpy as np

from .settings import SAMPLE_RATE

TARGET_LUFS = -16.0
PEAK_CEILING = 10 ** (-1.0 / 20)  # −1 dBFS
SILENCE_LUFS = -70.0

# BS.1770 K-weighting at 48 kHz: a high shelf, then the RLB high-pass.
_SHELF = (
    (1.53512485958697, -2.69169618940638, 1.19839281085285),
    (1.0, -1.69065929318241, 0.73248077421585),
)
_HIGHPASS = ((1.0, -2.0, 1.0), (1.0, -1.99004745483398, 0.99007225036621))


def k_weighted(audio: np.ndarray) -> np.ndarray:
    """The K-weighted signal (channels, n): the shelf, then the high-pass."""
    from scipy.signal import lfilter

    y = lfilter(_SHELF[0], _SHELF[1], audio.astype(np.float64), axis=-1)
    return lfilter(_HIGHPASS[0], _HIGHPASS[1], y, axis=-1)


def loudness(audio: np.ndarray) -> float:
    """Integrated loudness (LUFS) of (channels, n) audio at SAMPLE_RATE.

    400 ms blocks overlapping by 75 %, an absolute gate at −70 LUFS and a
    relative gate 10 LU under the loudness of the blocks that pass it. Audio
    shorter than one block is measured as one block. Silence is −inf.
    """
    audio = np.atleast_2d(audio)
    y = k_weighted(audio) ** 2
    n = y.shape[-1]
    block = int(0.4 * SAMPLE_RATE)
    hop = block // 4
    if n <= block:
        powers = np.array([y.mean(axis=-1).sum()])
    else:
        csum = np.concatenate([np.zeros((y.shape[0], 1)), np.cumsum(y, axis=-1)], -1)
        starts = np.arange(0, n - block + 1, hop)
        powers = ((csum[:, starts + block] - csum[:, starts]) / block).sum(axis=0)
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(powers)
    kept = powers[levels > SILENCE_LUFS]
    if kept.size == 0:
        return float("-inf")
    relative = -0.691 + 10 * np.log10(kept.mean()) - 10.0
    kept = powers[levels > max(relative, SILENCE_LUFS)]
    return float(-0.691 + 10 * np.log10(kept.mean()))


def gain_to(audio: np.ndarray, target: float) -> float:
    """The linear gain that brings ``audio`` to ``target`` LUFS (1 if silent)."""
    level = loudness(audio)
    if not np.isfinite(level):
        return 1.0
    return float(10 ** ((target - level) / 20))


def _moving_average(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average along the last axis, same length."""
    width = max(1, int(width))
    if width == 1:
        return x.astype(np.float32)
    pad = width // 2
    padded = np.pad(x.astype(np.float64), (pad, width - pad - 1), mode="edge")
    csum = np.concatenate([[0.0], np.cumsum(padded)])
    return ((csum[width:] - csum[:-width]) / width).astype(np.float32)


def _block_extreme(x: np.ndarray, width: int, fn) -> np.ndarray:
    """A sliding max/min of about ``width`` samples, same length (blockwise)."""
    n = len(x)
    width = max(1, int(width))
    blocks = -(-n // width)
    padded = np.pad(x, (0, blocks * width - n), mode="edge").reshape(blocks, width)
    per = fn(padded, axis=1)
    spread = fn(
        np.stack([per, np.roll(per, 1), np.roll(per, -1)]), axis=0
    )  # the block and its neighbours
    spread[0] = fn(per[:2]) if blocks > 1 else per[0]
    spread[-1] = fn(per[-2:]) if blocks > 1 else per[-1]
    return np.repeat(spread, width)[:n]


def limit(audio: np.ndarray, ceiling: float = PEAK_CEILING) -> np.ndarray:
    """Peak-limit (channels, n) audio under ``ceiling``.

    The gain needed per sample is spread over its neighbours (a 5 ms
    look-ahead either side) and smoothed, so peaks are turned down without
    clicks; a final clip catches what smoothing lets through.
    """
    peak = np.abs(audio).max(axis=0)
    if peak.max() <= ceiling:
        return audio
    need = np.minimum(1.0, ceiling / np.maximum(peak, 1e-9)).astype(np.float32)
    width = int(0.005 * SAMPLE_RATE)
    gain = _block_extreme(need, width, np.min)
    gain = _moving_average(gain, width)
    gain = np.minimum(gain, _block_extreme(need, width, np.min))
    return np.clip(audio * gain, -ceiling, ceiling).astype(np.float32)


def speech_envelope(voice: np.ndarray) -> np.ndarray:
    """0..1: how much speech there is at each sample (for ducking)."""
    mono = np.abs(voice).max(axis=0) if voice.ndim == 2 else np.abs(voice)
    if mono.max() <= 0:
        return np.zeros(len(mono), np.float32)
    level = _block_extreme(mono, int(0.02 * SAMPLE_RATE), np.max)
    active = (level > 0.05 * mono.max()).astype(np.float32)
    # Hold through the gaps between words, then ease in and out.
    held = _block_extreme(active, int(0.15 * SAMPLE_RATE), np.max)
    return np.clip(_moving_average(held, int(0.12 * SAMPLE_RATE)), 0, 1)


def duck(music: np.ndarray, voice: np.ndarray, depth_db: float = 12.0) -> np.ndarray:
    """The music turned down by ``depth_db`` wherever the voice speaks."""
    env = speech_envelope(voice)
    floor = 10 ** (-depth_db / 20)
    return (music * (1.0 - (1.0 - floor) * env)).astype(np.float32)


def to_wav_bytes(audio: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM WAV of float audio (channels, n) or (n,) in −1..1."""
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim == 1:
        data = data[None]
    if data.ndim != 2 or data.shape[0] not in (1, 2):
        raise ValueError("audio must be (n,), (1, n) or (2, n)")
    pcm = (np.clip(data, -1.0, 1.0) * 32767).round().astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(data.shape[0])
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(pcm.T.tobytes())
    return out.getvalue()
