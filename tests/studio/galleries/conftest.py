"""Finished clips with real (tiny, signed) MP4s, and galleries to hold them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from generation import encode
from generation.credentials import sign_video
from generation.specs import GenerationSpec
from studio.galleries.models import Gallery
from studio.galleries.services import gallery_create, gallery_item_add
from studio.generations.models import Generation
from studio.generations.store import output_dir
from studio.lib.credentials import studio_credentials

_seeds = itertools.count(100)


@pytest.fixture(autouse=True)
def gallery_settings(settings, tmp_path):
    settings.STUDIO_DATA_DIR = tmp_path / "data"
    settings.STUDIO_SHARE_RATE_LIMIT = 1000
    settings.STUDIO_SHARE_MEDIA_RATE_LIMIT = 1000
    settings.STUDIO_EXPORT_WATERMARK = False


def make_clip(owner, *, prompt: str = "a red ball bouncing to the right") -> Generation:
    """A succeeded generation whose MP4 and poster exist and are signed."""
    seed = next(_seeds)
    spec = GenerationSpec(
        prompt=prompt, num_frames=8, fps=8, width=64, height=64, seed=seed
    )
    generation = Generation.objects.create(
        owner=owner,
        prompt=prompt,
        seed=seed,
        settings=spec.to_dict(),
        status=Generation.Status.SUCCEEDED,
        seconds=0.5,
    )
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 255, (8, 64, 64, 3), dtype=np.uint8)
    folder = output_dir(generation)
    folder.mkdir(parents=True)
    video = encode.write_video(
        frames, folder / "clip.mp4", fps=8, metadata=encode.clip_metadata(spec)
    )
    sign_video(video, spec=spec, credentials=studio_credentials())
    poster = encode.write_poster(frames, folder / "clip.jpg")
    from django.conf import settings

    generation.video = video.relative_to(settings.MEDIA_ROOT).as_posix()
    generation.poster = poster.relative_to(settings.MEDIA_ROOT).as_posix()
    generation.save()
    return generation


@pytest.fixture
def clip(alice) -> Generation:
    return make_clip(alice)


@pytest.fixture
def other_clip(alice) -> Generation:
    return make_clip(alice, prompt="a blue box drifting left over a night sky")


@pytest.fixture
def bobs_clip(bob) -> Generation:
    return make_clip(bob, prompt="bob's private clip")


@pytest.fixture
def gallery(alice, clip, other_clip) -> Gallery:
    gallery = gallery_create(
        owner=alice, title="Client picks", description="Two takes for Mia"
    )
    gallery_item_add(gallery=gallery, generation=clip)
    gallery_item_add(gallery=gallery, generation=other_clip)
    return gallery
