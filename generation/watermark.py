"""An invisible watermark in the luma of every frame the studio writes.

The mark survives what strips Content Credentials: a re-encode, resizing,
cropping, conversion to GIF, WebM or WebP. It is a spread-spectrum pattern
of ±1 chips on a grid of cells sized relative to the frame (a cell is
1/32 of the short side, so the grid scales with the picture), tiled with a
period of 32×32 cells and added, smoothed, to the luma at an RMS of 1.8
levels in 255 (PSNR about 43 dB). The same pattern sits in every frame,
which keeps it cheap for the encoder to carry and lets detection average
all frames.

The pattern is the sum of 65 orthogonal chip sequences (rows of a
1024×1024 Walsh–Hadamard matrix times a fixed pseudo-random sign mask): one
*sync* sequence that is always there, and one per payload bit, signed by
the bit. The payload is 64 bits: a 32-bit studio id and a 32-bit clip
number (0 when the writer does not know the clip).

Detection is blind and public: each frame's detail (the picture minus its
local median, outliers left out) is averaged over the frames; for a small
set of scales (a crop makes the grid look larger relative to the frame) the
detail is folded onto one tile and correlated with every sequence at every
shift at once (FFT). The energy of the 65 correlations at the best shift,
as a z-score against the chi-squared law it follows without a mark, is the
score; past :data:`DETECTION_Z` the mark is found, and each bit is the sign
of its sequence's correlation at that shift. docs/provenance.md has the
details, the figures and the limits.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

CELLS = 32  # cells across the frame's short side
TILE = 32  # the pattern repeats every TILE×TILE cells
CHIPS = TILE * TILE
BITS = 64
# Strength: the RMS of the added luma pattern, in 8-bit levels.
STRENGTH = 2.3
# The share of the pattern's energy in the sync sequence: four bits' worth.
SYNC_ENERGY = 4 / (BITS + 4)
# Detection works on a grid of DETECT_PX pixels per cell.
DETECT_PX = 4
# The local median the detail is measured from spans this many pixels of the
# detection grid; differences beyond OUTLIER levels are not the mark's.
MEDIAN_WINDOW = 5
OUTLIER = 4.0
# Detection reads at most this many frames of a clip, evenly spread.
MAX_DETAIL_FRAMES = 24
# How much larger than the frame-relative grid the cells may look: crops of
# up to a quarter of the short side.
SCALES = tuple(1.01**k for k in range(-2, 31))
# Past this score (the z-score of the best shift's energy) the mark counts as
# found. Unmarked clips score up to about 7 over all the shifts and scales
# tried; marked ones after the attacks measured, 15 or more.
DETECTION_Z = 10.0
SEED = 0x57A710


@dataclass(frozen=True)
class Payload:
    """What the mark carries: the studio's id and a clip number (0: unknown)."""

    studio: int
    clip: int = 0

    def __post_init__(self) -> None:
        for value in (self.studio, self.clip):
            if not 0 <= value < 2**32:
                raise ValueError("a payload's parts are 32-bit numbers")

    def bits(self) -> np.ndarray:
        value = (self.studio << 32) | self.clip
        return np.array([(value >> (BITS - 1 - i)) & 1 for i in range(BITS)], np.uint8)

    @classmethod
    def from_bits(cls, bits: np.ndarray) -> Payload:
        value = 0
        for bit in bits[:BITS]:
            value = (value << 1) | int(bit)
        return cls(studio=value >> 32, clip=value & 0xFFFFFFFF)

    @property
    def hex(self) -> str:
        return f"{self.studio:08x}{self.clip:08x}"


@dataclass(frozen=True)
class Detection:
    """What a frame sequence says about its watermark."""

    found: bool
    z: float  # the sync peak's z-score
    payload: Payload | None
    bits: np.ndarray  # decoded bits (0/1), meaningful when found
    soft: np.ndarray  # per-bit correlations (sign = bit)
    scale: float = 1.0
    shift: tuple[int, int] = (0, 0)

    @property
    def confidence(self) -> float:
        """0–1: 0 up to the scores unmarked pictures give (6), 1 from twice
        the threshold (24) up."""
        return float(min(1.0, max(0.0, (self.z - 6.0) / (2 * DETECTION_Z - 6.0))))


# -- the chip sequences ---------------------------------------------------------


@functools.cache
def _sequences() -> np.ndarray:
    """(1 + BITS, TILE, TILE) float32 ±1 chips: the sync sequence, then one per bit."""
    hadamard = np.ones((1, 1), np.float32)
    while hadamard.shape[0] < CHIPS:
        hadamard = np.block([[hadamard, hadamard], [hadamard, -hadamard]])
    rng = np.random.default_rng(SEED)
    mask = rng.choice(np.array([-1.0, 1.0], np.float32), size=CHIPS)
    rows = rng.permutation(np.arange(1, CHIPS))[: 1 + BITS]
    return (hadamard[rows] * mask).reshape(1 + BITS, TILE, TILE).astype(np.float32)


def _cell_pattern(payload: Payload) -> np.ndarray:
    """The tile's chip values for ``payload``, with unit RMS."""
    sequences = _sequences()
    signs = payload.bits().astype(np.float32) * 2 - 1
    bit_weight = math.sqrt((1 - SYNC_ENERGY) / BITS)
    tile = math.sqrt(SYNC_ENERGY) * sequences[0] + bit_weight * np.tensordot(
        signs, sequences[1:], axes=1
    )
    return tile / np.sqrt(np.mean(tile**2))


def _render(tile: np.ndarray, height: int, width: int, cell: float) -> np.ndarray:
    """The periodic tile drawn on a height×width grid with cells of ``cell``
    pixels, smoothly (bilinear between chip centres, wrapping around)."""

    def axis(count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        position = (np.arange(count, dtype=np.float64) + 0.5) / cell - 0.5
        low = np.floor(position)
        frac = (position - low).astype(np.float32)
        low = low.astype(np.int64) % TILE
        return low, (low + 1) % TILE, frac

    y0, y1, fy = axis(height)
    x0, x1, fx = axis(width)
    rows0, rows1 = tile[y0], tile[y1]  # (height, TILE)
    top = rows0[:, x0] * (1 - fx) + rows0[:, x1] * fx
    bottom = rows1[:, x0] * (1 - fx) + rows1[:, x1] * fx
    return top * (1 - fy)[:, None] + bottom * fy[:, None]


def cell_size(height: int, width: int) -> float:
    return min(height, width) / CELLS


def _weights(payload: Payload) -> np.ndarray:
    """Each sequence's weight (sync first) in the plain pattern, unit RMS."""
    signs = payload.bits().astype(np.float32) * 2 - 1
    weights = np.concatenate(
        [[math.sqrt(SYNC_ENERGY)], math.sqrt((1 - SYNC_ENERGY) / BITS) * signs]
    )
    return weights.astype(np.float32)


def _pattern(weights: np.ndarray, height: int, width: int) -> np.ndarray:
    tile = np.tensordot(weights, _sequences(), axes=1)
    return _render(tile, height, width, cell_size(height, width))


@functools.lru_cache(maxsize=16)
def luma_pattern(
    payload: Payload, height: int, width: int, strength: float = STRENGTH
) -> np.ndarray:
    """The int16 luma offsets (height, width) that mark a frame with ``payload``
    (kept for the next frames and clips of the same size)."""
    pattern = _pattern(_weights(payload), height, width)
    pattern *= strength / max(float(np.sqrt(np.mean(pattern**2))), 1e-6)
    offsets = np.rint(pattern).astype(np.int16)
    offsets.setflags(write=False)
    return offsets


# Video luma spans 16–235: this many of its levels move RGB by one level.
VIDEO_RANGE = 219 / 255


def mark_luma(planes: np.ndarray, payload: Payload) -> np.ndarray:
    """Add the mark to uint8 video-range luma planes (…, H, W) (yuv420p's Y),
    in place; returns them. The RGB frames move as :func:`mark_rgb` moves them."""
    height, width = planes.shape[-2:]
    marked = planes.astype(np.int16)
    marked += luma_pattern(payload, height, width, STRENGTH * VIDEO_RANGE)
    np.clip(marked, 0, 255, out=marked)
    planes[...] = marked
    return planes


_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def mark_rgb(frames: np.ndarray, payload: Payload) -> np.ndarray:
    """A marked copy of uint8 RGB frames (T, H, W, 3) or one frame (H, W, 3):
    the luma offsets are added to all three channels, which moves the luma
    by the same amount and leaves the colour alone."""
    height, width = frames.shape[-3:-1]
    offsets = luma_pattern(payload, height, width)[..., None]
    marked = frames.astype(np.int16)
    marked += offsets
    np.clip(marked, 0, 255, out=marked)
    return marked.astype(np.uint8)


def rgb_luma(frames: np.ndarray) -> np.ndarray:
    """Float32 luma (…, H, W) of uint8 RGB frames."""
    return frames.astype(np.float32) @ _LUMA


# -- detection ------------------------------------------------------------------


def _detail(mean: np.ndarray) -> np.ndarray:
    """The picture's detail at the scale of the mark, on a grid of DETECT_PX
    pixels per cell: the picture minus its local median (which ignores small
    bright things such as stars), with the pixels that differ by more than
    the mark ever does (edges, highlights) left out."""
    height, width = mean.shape
    zoom = DETECT_PX / cell_size(height, width)
    size = (max(1, round(width * zoom)), max(1, round(height * zoom)))
    resample = Image.Resampling.BOX if zoom < 1 else Image.Resampling.BILINEAR
    small = np.asarray(
        Image.fromarray(np.asarray(mean, np.float32), mode="F").resize(size, resample),
        dtype=np.float32,
    )
    radius = MEDIAN_WINDOW // 2
    windows = sliding_window_view(
        np.pad(small, radius, mode="edge"), (MEDIAN_WINDOW, MEDIAN_WINDOW)
    )
    detail = small - np.median(windows.reshape(*small.shape, -1), axis=-1)
    detail[np.abs(detail) > OUTLIER] = 0
    return detail.astype(np.float32)


@functools.cache
def _drawn() -> np.ndarray:
    """All sequences (sync first) drawn at DETECT_PX, zero-mean."""
    side = TILE * DETECT_PX
    drawn = np.stack(
        [_render(seq, side, side, DETECT_PX) for seq in _sequences()]
    ).astype(np.float32)
    return drawn - drawn.mean(axis=(1, 2), keepdims=True)


@functools.cache
def _references() -> np.ndarray:
    """The conjugate spectra of all sequences (sync first)."""
    return np.conj(np.fft.rfft2(_drawn()))


def _fold(detail: np.ndarray, scale: float) -> np.ndarray:
    """The detail (at DETECT_PX pixels per frame-relative cell) resampled so
    that cells ``scale`` times larger span DETECT_PX pixels, and summed onto
    one tile."""
    height, width = detail.shape
    if scale != 1.0:
        size = (max(1, round(width / scale)), max(1, round(height / scale)))
        detail = np.asarray(
            Image.fromarray(detail, mode="F").resize(size, Image.Resampling.BILINEAR),
            dtype=np.float32,
        )
    side = TILE * DETECT_PX
    rows = -(-detail.shape[0] // side) * side
    cols = -(-detail.shape[1] // side) * side
    padded = np.zeros((rows, cols), np.float32)
    padded[: detail.shape[0], : detail.shape[1]] = detail
    return padded.reshape(rows // side, side, cols // side, side).sum(axis=(0, 2))


def _correlations(folded: np.ndarray) -> np.ndarray:
    """(1 + BITS, side, side): each sequence's correlation at every shift."""
    side = folded.shape[0]
    spectrum = np.fft.rfft2(folded)[None] * _references()
    return np.fft.irfft2(spectrum, s=(side, side)).astype(np.float32)


def detect_luma(luma: np.ndarray) -> Detection:
    """Look for the mark in float luma frames (T, H, W) or one frame (H, W).

    At every scale and shift the correlations with all 65 sequences are
    summed as energy, each against its own spread over all shifts: without
    the mark that sum follows a chi-squared law with 65 degrees of freedom;
    the mark puts all of its energy at one shift. The z-score of the best
    shift (with the sync sequence's correlation positive) is the confidence.
    """
    luma = np.asarray(luma, np.float32)
    if luma.ndim == 2:
        luma = luma[None]
    empty = np.zeros(BITS, np.float32)
    if min(luma.shape[1:]) < CELLS:  # too small to hold a cell grid
        return Detection(False, 0.0, None, empty.astype(np.uint8), empty)
    # Each frame's detail, averaged: moving things do not smear into streaks.
    step = max(1, -(-len(luma) // MAX_DETAIL_FRAMES))
    detail = np.mean([_detail(frame) for frame in luma[::step]], axis=0)
    count = 1 + BITS
    best: tuple[float, float, tuple[int, int], np.ndarray] | None = None
    for scale in SCALES:
        correlations = _correlations(_fold(detail, scale))
        variance = np.mean(correlations**2, axis=(1, 2), keepdims=True)
        if not np.all(variance > 0):
            continue
        energy = np.sum(correlations**2 / variance, axis=0)
        energy[correlations[0] <= 0] = 0  # the sync sequence is added, not taken
        peak = int(np.argmax(energy))
        z = (float(energy.flat[peak]) - count) / math.sqrt(2 * count)
        if best is None or z > best[0]:
            shift = divmod(peak, energy.shape[1])
            best = (z, scale, shift, correlations[1:, shift[0], shift[1]].copy())
    if best is None:
        return Detection(False, 0.0, None, empty.astype(np.uint8), empty)
    z, scale, shift, soft = best
    bits = (soft > 0).astype(np.uint8)
    found = z >= DETECTION_Z
    return Detection(
        found=found,
        z=z,
        payload=Payload.from_bits(bits) if found else None,
        bits=bits,
        soft=soft,
        scale=scale,
        shift=shift,
    )


def detect_rgb(frames: np.ndarray) -> Detection:
    """Look for the mark in uint8 RGB frames (T, H, W, 3) or one (H, W, 3)."""
    luma = rgb_luma(frames)
    return detect_luma(luma)


def bit_accuracy(detection: Detection, payload: Payload) -> float:
    """The share of ``payload``'s bits the detection read right."""
    return float(np.mean(detection.bits == payload.bits()))
