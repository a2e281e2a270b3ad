from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from generation.encode import clip_metadata, probe_video, write_poster, write_video
from generation.specs import GenerationSpec


def moving_square(t: int = 8, width: int = 64, height: int = 48) -> np.ndarray:
    frames = np.zeros((t, height, width, 3), dtype=np.uint8)
    for i in range(t):
        frames[i, 10:26, 4 * i : 4 * i + 16, 0] = 255
    return frames


def test_it_writes_the_exact_frame_count_fps_and_size(tmp_path):
    path = write_video(moving_square(t=11), tmp_path / "clip.mp4", fps=7)
    info = probe_video(path)
    assert info["frames"] == 11
    assert info["fps"] == 7
    assert (info["width"], info["height"]) == (64, 48)
    assert info["codec"] == "h264"
    assert info["pix_fmt"] == "yuv420p"


def test_it_writes_the_settings_into_the_container_metadata(tmp_path):
    spec = GenerationSpec(
        prompt="a red ball bouncing — slow push-in",
        negative_prompt="blurry",
        seed=1234,
        num_frames=8,
        fps=12,
        num_inference_steps=3,
        guidance_scale=4.5,
    )
    path = write_video(
        moving_square(), tmp_path / "clip.mp4", fps=12, metadata=clip_metadata(spec)
    )
    tags = probe_video(path)["metadata"]
    assert tags["prompt"] == spec.prompt
    assert tags["negative_prompt"] == "blurry"
    assert tags["seed"] == "1234"
    assert tags["model"] == "builtin"
    assert tags["steps"] == "3"
    assert tags["guidance"] == "4.5"
    assert tags["fps"] == "12"
    assert tags["frames"] == "8"
    assert json.loads(tags["comment"]) == spec.to_dict()


def test_it_leaves_no_temporary_file_behind(tmp_path):
    write_video(moving_square(), tmp_path / "clip.mp4", fps=8)
    write_poster(moving_square(), tmp_path / "clip.jpg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.jpg", "clip.mp4"]


def test_it_refuses_odd_dimensions_without_leaving_a_file(tmp_path):
    with pytest.raises(ValueError, match="even"):
        write_video(moving_square(width=63), tmp_path / "clip.mp4", fps=8)
    assert list(tmp_path.iterdir()) == []


def test_it_saves_the_middle_frame_as_the_poster(tmp_path):
    frames = moving_square(t=8)
    path = write_poster(frames, tmp_path / "poster.jpg")
    image = np.asarray(Image.open(path))
    assert image.shape == (48, 64, 3)
    assert np.abs(image.astype(int) - frames[4].astype(int)).mean() < 6


def test_it_saves_a_webp_poster_when_asked(tmp_path):
    path = write_poster(moving_square(), tmp_path / "poster.webp")
    assert Image.open(path).format == "WEBP"
