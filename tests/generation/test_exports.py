"""Downloads in every format, with the settings in each file's metadata."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from generation import encode, exports


@pytest.fixture
def source(tmp_path, spec):
    frames = np.full((8, 64, 96, 3), 40, dtype=np.uint8)
    frames[:, :, :, 0] = np.arange(8, dtype=np.uint8)[:, None, None] * 30
    return encode.write_video(
        frames, tmp_path / "clip.mp4", fps=8, metadata=encode.clip_metadata(spec)
    )


@pytest.fixture
def metadata(spec):
    return encode.clip_metadata(spec)


def test_reading_frames_back_gives_every_frame_and_the_fps(source):
    frames, fps = exports.read_frames(source)
    assert frames.shape == (8, 64, 96, 3) and fps == 8


def test_webm_is_vp9_with_the_settings_as_tags(source, tmp_path, metadata):
    path = exports.export_clip(source, "webm", tmp_path / "out.webm", metadata=metadata)
    probe = encode.probe_video(path)
    assert probe["codec"] == "vp9" and probe["frames"] == 8
    tags = {key.lower(): value for key, value in probe["metadata"].items()}
    assert tags["ai_generated"] == "true" and tags["seed"] == metadata["seed"]


def test_animated_webp_loops_every_frame_with_xmp(source, tmp_path, metadata):
    path = exports.export_clip(source, "webp", tmp_path / "out.webp", metadata=metadata)
    with Image.open(path) as image:
        assert image.n_frames == 8 and image.is_animated
        xmp = image.info["xmp"]
    assert b"trainedAlgorithmicMedia" in xmp and metadata["seed"].encode() in xmp


def test_gif_loops_every_frame_with_the_settings_in_its_comment(
    source, tmp_path, metadata
):
    path = exports.export_clip(source, "gif", tmp_path / "out.gif", metadata=metadata)
    with Image.open(path) as image:
        assert image.n_frames == 8
        assert json.loads(image.info["comment"])["seed"] == int(metadata["seed"])


def test_the_frames_zip_holds_numbered_pngs_and_settings(source, tmp_path, metadata):
    path = exports.export_clip(
        source, "frames", tmp_path / "out.zip", metadata=metadata
    )
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names[0] == "settings.json"
        assert names[1:] == [f"frame-{i:04d}.png" for i in range(8)]
        with Image.open(io.BytesIO(archive.read("frame-0003.png"))) as frame:
            assert frame.size == (96, 64) and frame.text["ai_generated"] == "true"


def test_the_contact_sheet_is_a_grid_of_every_frame(source, tmp_path, metadata):
    path = exports.export_clip(source, "sheet", tmp_path / "out.png", metadata=metadata)
    with Image.open(path) as sheet:
        # 8 frames → 3 columns × 3 rows with 2-pixel gaps.
        assert sheet.size == (3 * 98 + 2, 3 * 66 + 2)
        assert sheet.text["prompt"] == metadata["prompt"]


def test_the_watermark_marks_the_bottom_right_corner_only(source):
    frames, _ = exports.read_frames(source)
    marked = exports.add_watermark(frames)
    difference = np.abs(marked.astype(int) - frames.astype(int)).sum(axis=(0, 3))
    assert difference[-20:, -30:].sum() > 0
    assert difference[:30, :40].sum() == 0


def test_a_watermarked_mp4_still_plays(source, tmp_path):
    path = exports.export_clip(source, "mp4", tmp_path / "out.mp4", watermark=True)
    assert encode.probe_video(path)["frames"] == 8


def test_an_unknown_format_is_refused(source, tmp_path):
    with pytest.raises(ValueError, match="unknown export format"):
        exports.export_clip(source, "avi", tmp_path / "out.avi")
