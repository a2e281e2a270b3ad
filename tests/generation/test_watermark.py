"""The invisible watermark: embed → extract, each attack it must survive,
no false alarms on unmarked clips, and what it costs the picture."""

from __future__ import annotations

import random

import numpy as np
import pytest

from generation import attacks, encode, exports, watermark
from generation.builtin import world

PAYLOAD = watermark.Payload(studio=0x5EED1234, clip=0x0BADC0DE)


def built_in_clip(seed: int, frames: int = 48, size: int = 256) -> np.ndarray:
    return world.render(world.sample_params(random.Random(seed)), frames, size)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255**2 / mse)


def test_the_payload_round_trips_through_bits():
    assert watermark.Payload.from_bits(PAYLOAD.bits()) == PAYLOAD
    assert PAYLOAD.hex == "5eed12340badc0de"
    with pytest.raises(ValueError):
        watermark.Payload(studio=2**32)


def test_embed_then_extract_gives_the_payload_back():
    frames = built_in_clip(1, frames=16)
    detection = watermark.detect_rgb(watermark.mark_rgb(frames, PAYLOAD))
    assert detection.found
    assert detection.payload == PAYLOAD
    assert detection.confidence == 1.0
    # One frame alone carries it too (a poster, a screenshot).
    single = watermark.detect_rgb(watermark.mark_rgb(frames[5], PAYLOAD))
    assert single.payload == PAYLOAD


def test_the_mark_costs_less_than_40_db(tmp_path):
    for seed in range(4):
        frames = built_in_clip(seed, frames=8)
        assert psnr(watermark.mark_rgb(frames, PAYLOAD), frames) >= 40.0
        # The writer's own marking, through a lossless encode of both.
        marked = encode.write_video(frames, tmp_path / "m.mp4", fps=8, crf=0)
        plain = encode.write_video(
            frames, tmp_path / "p.mp4", fps=8, crf=0, watermark=None
        )
        assert psnr(exports.read_frames(marked)[0], exports.read_frames(plain)[0]) >= 40


def test_the_writer_marks_with_the_payload_the_application_names(tmp_path):
    frames = built_in_clip(2, frames=16)
    named = []

    def resolve(path):
        named.append(path)
        return PAYLOAD

    previous = encode._payload_for
    encode.set_watermark_payload(resolve)
    try:
        path = encode.write_video(frames, tmp_path / "clip.mp4", fps=8, size=(320, 320))
        poster = encode.write_poster(frames, tmp_path / "clip.png")
    finally:
        encode.set_watermark_payload(previous)
    assert named == [tmp_path / "clip.mp4", tmp_path / "clip.png"]
    assert watermark.detect_rgb(exports.read_frames(path)[0]).payload == PAYLOAD
    assert watermark.detect_rgb(attacks.read_any(poster)).payload == PAYLOAD
    unmarked = encode.write_video(frames, tmp_path / "own.mp4", fps=8, watermark=None)
    assert not watermark.detect_rgb(exports.read_frames(unmarked)[0]).found


@pytest.fixture(scope="module")
def marked_clips(tmp_path_factory):
    """Four built-in clips (day and night scenes, still and moving cameras),
    48 frames at 256 px, written by the studio's writer."""
    folder = tmp_path_factory.mktemp("marked")
    paths = []
    for seed in (1, 2, 3, 4):
        path = folder / f"clip{seed}.mp4"
        encode.write_video(built_in_clip(seed), path, fps=8, watermark=PAYLOAD)
        paths.append(path)
    return paths


@pytest.mark.parametrize("attack", sorted(attacks.ATTACKS))
def test_the_mark_survives(marked_clips, attack):
    accuracies = []
    for path in marked_clips:
        detection = watermark.detect_rgb(attacks.ATTACKS[attack](path))
        assert detection.found, (attack, path.name, detection.z)
        accuracies.append(watermark.bit_accuracy(detection, PAYLOAD))
    assert np.mean(accuracies) >= 0.95, accuracies


def test_the_visible_mark_export_keeps_the_invisible_one(marked_clips, tmp_path):
    mp4 = exports.export_clip(
        marked_clips[0], "mp4", tmp_path / "v.mp4", watermark=True
    )
    detection = watermark.detect_rgb(exports.read_frames(mp4)[0])
    assert detection.payload == PAYLOAD


def test_an_unmarked_clip_is_marked_on_export(tmp_path):
    source = encode.write_video(
        built_in_clip(6, frames=16), tmp_path / "old.mp4", fps=8, watermark=None
    )
    webm = exports.export_clip(source, "webm", tmp_path / "old.webm")
    assert watermark.detect_rgb(attacks.read_any(webm)).found


def test_no_false_alarm_on_50_unmarked_clips():
    scores = []
    for seed in range(100, 150):
        detection = watermark.detect_rgb(built_in_clip(seed, frames=16))
        scores.append(detection.z)
        assert not detection.found, (seed, detection.z)
    assert max(scores) < watermark.DETECTION_Z
