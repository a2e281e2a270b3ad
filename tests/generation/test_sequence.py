from __future__ import annotations

import av
import numpy as np
import pytest

from generation.encode import probe_video, write_video
from generation.sequence import (
    ShotClip,
    SoundtrackError,
    caption_cues,
    crossfade,
    render_sequence,
    shot_frames,
    soundtrack_check,
    webvtt,
)


def solid_clip(path, colour, frames=8, size=(64, 48), fps=8):
    pixels = np.zeros((frames, size[1], size[0], 3), dtype=np.uint8)
    pixels[..., :] = colour
    return write_video(pixels, path, fps=fps)


def tone(path, seconds, rate=8000, codec="pcm_s16le", fmt="wav"):
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        samples = np.sin(np.arange(int(seconds * rate)) / 4).astype(np.float32)
        pcm = (samples * 20000).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = rate
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def stream_duration(path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return float(stream.duration * stream.time_base)


@pytest.fixture
def three_shots(tmp_path):
    return [
        ShotClip(solid_clip(tmp_path / "a.mp4", (200, 0, 0)), 1.0, "First"),
        ShotClip(solid_clip(tmp_path / "b.mp4", (0, 200, 0), frames=16), 1.5, ""),
        ShotClip(solid_clip(tmp_path / "c.mp4", (0, 0, 200)), 0.5, "Third < fine"),
    ]


def test_a_shot_needs_a_whole_number_of_frames():
    assert shot_frames(1.5, 8) == 12
    with pytest.raises(ValueError, match="whole number"):
        shot_frames(1.1, 8)


def test_the_sequence_is_exactly_as_long_as_its_shots(tmp_path, three_shots):
    result = render_sequence(three_shots, tmp_path / "out", fps=8, width=64, height=48)
    info = probe_video(result.video_path)
    assert info["frames"] == result.num_frames == 8 + 12 + 4
    assert abs(stream_duration(result.video_path) - 3.0) <= 1 / 8


def test_shots_play_in_order_with_hard_cuts(tmp_path, three_shots):
    result = render_sequence(three_shots, tmp_path / "out", fps=8, width=64, height=48)
    with av.open(str(result.video_path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert frames[7].mean(axis=(0, 1)).argmax() == 0
    assert frames[8].mean(axis=(0, 1)).argmax() == 1
    assert frames[20].mean(axis=(0, 1)).argmax() == 2


def test_a_crossfade_keeps_the_frame_count_and_blends_across_the_cut():
    red = np.full((8, 4, 4, 3), (200, 0, 0), dtype=np.uint8)
    blue = np.full((8, 4, 4, 3), (0, 0, 200), dtype=np.uint8)
    out = crossfade([red, blue], 4)
    assert len(out) == 16
    assert out[0, 0, 0, 0] == 200 and out[15, 0, 0, 2] == 200
    assert 0 < out[7, 0, 0, 0] < 200 and 0 < out[8, 0, 0, 2] < 200


def test_captions_follow_the_shot_timing(three_shots):
    cues = caption_cues(three_shots)
    assert [(c.start, c.end, c.text) for c in cues] == [
        (0.0, 1.0, "First"),
        (2.5, 3.0, "Third < fine"),
    ]
    text = webvtt(cues)
    assert text.startswith("WEBVTT\n")
    assert "00:00:02.500 --> 00:00:03.000\nThird &lt; fine" in text


def test_it_writes_the_captions_sidecar_and_can_burn_them_in(tmp_path, three_shots):
    plain = render_sequence(three_shots, tmp_path / "a", fps=8, width=64, height=48)
    burned = render_sequence(
        three_shots, tmp_path / "b", fps=8, width=64, height=48, burn_captions=True
    )
    assert "00:00:00.000 --> 00:00:01.000" in plain.captions_path.read_text()
    with av.open(str(plain.video_path)) as a, av.open(str(burned.video_path)) as b:
        first_plain = next(a.decode(video=0)).to_ndarray(format="rgb24")
        first_burned = next(b.decode(video=0)).to_ndarray(format="rgb24")
    # The caption band darkens the bottom of the frame.
    assert first_burned[-6:].mean() < first_plain[-6:].mean() - 10


def test_a_soundtrack_is_trimmed_to_the_video_and_muxed_as_aac(tmp_path, three_shots):
    music = tone(tmp_path / "music.wav", 5.0)
    result = render_sequence(
        three_shots, tmp_path / "out", fps=8, width=64, height=48, soundtrack=music
    )
    with av.open(str(result.video_path)) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        samples = sum(f.samples for f in container.decode(audio))
    assert abs(samples / 44_100 - 3.0) < 0.05
    assert probe_video(result.video_path)["frames"] == 24


def test_a_soundtrack_of_the_wrong_type_is_refused(tmp_path):
    fake = tmp_path / "music.mp3"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 500)
    with pytest.raises(SoundtrackError, match="not an audio file"):
        soundtrack_check(fake)
    garbage = tmp_path / "noise.wav"
    garbage.write_bytes(b"RIFF" + bytes(range(256)) * 4)
    with pytest.raises(SoundtrackError, match="could not be read as audio"):
        soundtrack_check(garbage)
    text = tmp_path / "notes.txt"
    text.write_text("la la la")
    with pytest.raises(SoundtrackError, match="Upload an audio file"):
        soundtrack_check(text)


def test_a_soundtrack_too_long_is_refused(tmp_path):
    music = tone(tmp_path / "long.wav", 3.0)
    assert soundtrack_check(music) == pytest.approx(3.0, abs=0.01)
    with pytest.raises(SoundtrackError, match="longer than"):
        soundtrack_check(music, max_seconds=2.0)


def test_a_soundtrack_too_large_is_refused(tmp_path):
    music = tone(tmp_path / "big.wav", 1.0)
    with pytest.raises(SoundtrackError, match="larger than"):
        soundtrack_check(music, max_bytes=1000)
