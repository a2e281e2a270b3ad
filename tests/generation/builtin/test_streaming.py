from __future__ import annotations

import pytest
import torch

from generation.builtin.model import BuiltinVideoDenoiser
from generation.builtin.pipeline import WEIGHTS_DIR, text_encoder_for


@pytest.fixture(scope="module")
def shipped():
    """The shipped denoiser, a noisy clip and two prompts."""
    model = BuiltinVideoDenoiser.from_pretrained(WEIGHTS_DIR / "transformer").eval()
    states, mask, pooled = text_encoder_for(torch.device("cpu")).encode(
        ["a red ball staying still on a sunny day", "a blue box moving left at night"]
    )
    sample = torch.randn(2, 3, 8, 32, 32, generator=torch.Generator().manual_seed(0))
    return model, sample, (states, pooled, mask)


def test_a_timestep_shared_by_every_frame_gives_exactly_the_per_sample_output(
    shipped,
):
    model, sample, text = shipped
    t = torch.tensor([700.0, 250.0])
    with torch.no_grad():
        per_sample = model(sample, t, *text)
        per_frame = model(sample, t[:, None].expand(2, 8), *text)
    assert torch.equal(per_frame, per_sample)


def test_the_per_frame_path_matches_the_per_sample_one_on_a_shared_timestep(shipped):
    # Sample 1 has one frame at another level, so the whole batch takes the
    # per-frame path; sample 0's frames still share one level.
    model, sample, text = shipped
    t = torch.tensor([700.0, 250.0])
    per_frame = t[:, None].repeat(1, 8)
    per_frame[1, 3] = 100.0
    with torch.no_grad():
        shared = model(sample, t, *text)
        mixed = model(sample, per_frame, *text)
    torch.testing.assert_close(mixed[0], shared[0], rtol=1e-6, atol=1e-5)
    assert (mixed[1] - shared[1]).abs().max() > 1e-2


def test_a_per_frame_timestep_must_name_every_frame(shipped):
    model, sample, text = shipped
    with pytest.raises(ValueError, match=r"\(batch, frames\) = \(2, 8\)"):
        model(sample, torch.full((2, 5), 500.0), *text)
