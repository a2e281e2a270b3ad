from __future__ import annotations

import json

import av
import numpy as np
import pytest
from PIL import Image

from generation.encode import (
    VideoWriter,
    clip_metadata,
    fit_frames,
    probe_video,
    write_poster,
    write_video,
)
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


def test_a_writer_opened_before_the_frames_exist_writes_the_whole_clip(tmp_path):
    writer = VideoWriter(
        tmp_path / "clip.mp4", size=(128, 96), fps=8, metadata={"seed": "7"}
    )
    # Open, but nothing is visible at the final path yet.
    assert not (tmp_path / "clip.mp4").exists()
    path = writer.write(moving_square(t=9, width=64, height=48))
    info = probe_video(path)
    assert (info["frames"], info["width"], info["height"]) == (9, 128, 96)
    assert info["metadata"]["seed"] == "7"
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_small_clips_encode_on_one_thread_and_large_ones_on_all(tmp_path):
    small = VideoWriter(tmp_path / "small.mp4", size=(256, 256), fps=8)
    large = VideoWriter(tmp_path / "large.mp4", size=(832, 480), fps=8)
    try:
        assert small._stream.codec_context.thread_count == 1
        assert large._stream.codec_context.thread_count == 0  # x264 picks
        frames = moving_square(t=5, width=64, height=48)
        for writer in (small, large):
            assert probe_video(writer.write(frames))["frames"] == 5
    finally:
        small.discard()
        large.discard()


def test_a_discarded_writer_leaves_nothing_behind(tmp_path):
    writer = VideoWriter(tmp_path / "clip.mp4", size=(64, 48), fps=8)
    writer.discard()
    assert list(tmp_path.iterdir()) == []


def test_a_writer_given_bad_frames_raises_and_leaves_nothing(tmp_path):
    writer = VideoWriter(tmp_path / "clip.mp4", size=(64, 48), fps=8)
    with pytest.raises(ValueError, match="uint8"):
        writer.write(np.zeros((4, 48, 64, 3), dtype=np.float32))
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


def left_half_red(t: int = 2) -> np.ndarray:
    clip = np.zeros((t, 32, 32, 3), dtype=np.uint8)
    clip[:, :, :16, 0] = 255
    return clip


def test_fitting_frames_upscales_smoothly_and_crops_to_cover():
    frames = fit_frames(left_half_red(), 96, 64)
    assert frames.shape == (2, 64, 96, 3)
    assert (frames[:, :, :40, 0] == 255).all()
    assert (frames[:, :, 56:, 0] == 0).all()
    # A smooth filter leaves intermediate values along the edge.
    edge = frames[0, 0, 40:56, 0]
    assert ((edge > 0) & (edge < 255)).any()


def test_fitting_a_tall_frame_crops_the_sides_evenly():
    clip = np.zeros((1, 32, 32, 3), dtype=np.uint8)
    clip[:, :, 12:20] = 255  # a centred band a quarter of the frame wide
    frames = fit_frames(clip, 64, 128)
    assert frames.shape == (1, 128, 64, 3)
    # Only the middle half of the source is kept, so the band fills half of it.
    assert (frames[0, :, 20:44] == 255).all()
    assert frames[0, :, :8].max() < 64 and frames[0, :, 56:].max() < 64


def decoded(path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack(
            [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        )


@pytest.mark.parametrize(("width", "height"), [(96, 64), (64, 128), (128, 128)])
def test_it_scales_small_frames_to_cover_the_asked_size_while_encoding(
    tmp_path, width, height
):
    clip = left_half_red(t=3)
    path = write_video(clip, tmp_path / "clip.mp4", fps=8, size=(width, height))
    info = probe_video(path)
    assert (info["frames"], info["width"], info["height"]) == (3, width, height)
    # The same picture as scaling the RGB frames first, within codec error.
    video = decoded(path).astype(int)
    expected = fit_frames(clip, width, height).astype(int)
    assert np.abs(video - expected).mean() < 6
    red = video[..., 0] > 128
    # The red half stays the left half of what is kept: no stretching.
    assert red[:, :, : width // 2 - 8].all()
    assert not red[:, :, width // 2 + 8 :].any()


def test_it_scales_the_poster_like_the_video(tmp_path):
    path = write_poster(
        left_half_red(), tmp_path / "poster.png", size=(96, 64), watermark=None
    )
    image = np.asarray(Image.open(path))
    np.testing.assert_array_equal(image, fit_frames(left_half_red(), 96, 64)[1])


def test_a_clips_tags_name_its_input_by_file_name_not_by_server_path():
    spec = GenerationSpec(
        prompt="the cat in the photo turns its head",
        image_path="/srv/studio/data/inputs/7/a1b2c3.png",
    )
    settings = json.loads(clip_metadata(spec)["comment"])
    assert settings["image_path"] == "a1b2c3.png"
    assert settings["video_path"] == ""
    private = clip_metadata(spec, with_prompt=False)
    assert "prompt" not in private and "title" not in private
    assert "image_path" not in json.loads(private["comment"])
    assert "turns its head" not in " ".join(private.values())
