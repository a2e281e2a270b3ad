"""A clip's sound survives the copies the studio serves: the share link's
remux, and the MP4 and WebM exports."""

from __future__ import annotations

import av
import numpy as np
import pytest

from generation import encode, exports

FPS = 8
RATE = 48_000


@pytest.fixture
def clip_with_sound(tmp_path):
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 255, (16, 64, 64, 3), dtype=np.uint8)
    t = np.arange(2 * RATE) / RATE
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    audio = np.stack([tone, tone])
    path = encode.write_video(
        frames, tmp_path / "clip.mp4", fps=FPS, audio=audio, audio_rate=RATE
    )
    return path


def _streams(path):
    with av.open(str(path)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return frames, 0.0, 0.0
        stream = container.streams.audio[0]
        chunks = [f.to_ndarray() for f in container.decode(stream)]
        rate = stream.rate
    samples = np.concatenate(chunks, axis=1)
    return frames, samples.shape[1] / rate, float(np.sqrt(np.mean(samples**2)))


def test_the_share_copy_keeps_the_frames_and_the_sound(clip_with_sound, tmp_path):
    copy = exports.remux(clip_with_sound, tmp_path / "copy.mp4", metadata={"t": "1"})
    frames, seconds, rms = _streams(copy)
    assert frames == 16
    assert seconds == pytest.approx(2.0, abs=1 / FPS)
    assert rms > 0.1  # the tone, not silence


@pytest.mark.parametrize("key", ["mp4", "webm"])
def test_video_exports_keep_the_sound(clip_with_sound, tmp_path, key):
    out = exports.export_clip(
        clip_with_sound, key, tmp_path / f"out.{key}", watermark=(key == "mp4")
    )
    frames, seconds, rms = _streams(out)
    assert frames == 16
    assert seconds == pytest.approx(2.0, abs=1 / FPS)
    assert rms > 0.1


def test_a_silent_clip_stays_silent(tmp_path):
    frames = np.zeros((8, 64, 64, 3), dtype=np.uint8)
    path = encode.write_video(frames, tmp_path / "silent.mp4", fps=FPS)
    copy = exports.remux(path, tmp_path / "copy.mp4", metadata={})
    webm = exports.export_clip(path, "webm", tmp_path / "out.webm")
    assert _streams(copy)[1:] == (0.0, 0.0)
    assert _streams(webm)[1:] == (0.0, 0.0)
