from __future__ import annotations

import numpy as np
import pytest
import torch

from generation.previews import (
    decode_strip,
    encode_strip,
    frames_to_strip,
    tensor_to_frames,
)


def distinct_frames(t: int = 8, size: int = 32) -> np.ndarray:
    """Frames each filled with its own flat colour, so lossy coding keeps them apart."""
    colours = np.stack(
        [
            np.array([(37 * i) % 256, (90 + 53 * i) % 256, (200 - 23 * i) % 256])
            for i in range(t)
        ]
    ).astype(np.uint8)
    return np.broadcast_to(colours[:, None, None, :], (t, size, size, 3)).copy()


def test_it_lays_frame_i_at_columns_i_times_width():
    frames = np.random.default_rng(0).integers(0, 256, (5, 4, 6, 3), dtype=np.uint8)
    strip = frames_to_strip(frames)
    assert strip.shape == (4, 5 * 6, 3)
    for i in range(5):
        np.testing.assert_array_equal(strip[:, i * 6 : (i + 1) * 6], frames[i])


@pytest.mark.parametrize("image_format", ["jpeg", "webp"])
def test_it_encodes_every_frame_into_one_decodable_image(image_format):
    frames = distinct_frames(t=8, size=32)
    data = encode_strip(frames, format=image_format)
    decoded = decode_strip(data, frames=8)
    assert decoded.shape == frames.shape
    assert np.abs(decoded.astype(int) - frames.astype(int)).mean() < 4


def test_it_writes_jpeg_by_default():
    assert encode_strip(distinct_frames()).startswith(b"\xff\xd8")


def test_it_rejects_an_unknown_preview_format():
    with pytest.raises(ValueError, match="format"):
        encode_strip(distinct_frames(), format="gif")


def test_it_converts_a_sample_in_minus_one_to_one_into_clipped_uint8_frames():
    sample = torch.zeros(3, 2, 4, 5)
    sample[0] = 1.0  # red channel full
    sample[1] = -1.0  # green channel off
    sample[2, 1] = 7.0  # far out of range: clipped, not wrapped
    frames = tensor_to_frames(sample)
    assert frames.dtype == np.uint8
    assert frames.shape == (2, 4, 5, 3)
    assert (frames[..., 0] == 255).all()
    assert (frames[..., 1] == 0).all()
    assert (frames[0, ..., 2] == 128).all()
    assert (frames[1, ..., 2] == 255).all()


def test_it_leaves_the_sample_it_converts_untouched():
    sample = torch.full((3, 2, 4, 4), 3.0)
    tensor_to_frames(sample)
    assert (sample == 3.0).all()
