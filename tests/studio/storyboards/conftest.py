from __future__ import annotations

import numpy as np
import pytest
from django.conf import settings

from generation.encode import write_video
from studio.generations.models import Generation
from studio.projects.models import Project
from studio.storyboards import services
from studio.storyboards.models import Take


@pytest.fixture
def project(alice):
    return Project.objects.create(owner=alice, name="Valley")


@pytest.fixture
def storyboard(alice, project):
    return services.storyboard_create(
        owner=alice,
        project=project,
        title="The hawk",
        fps=8,
        width=64,
        height=64,
        steps=2,
    )


@pytest.fixture
def shots(storyboard):
    return [
        services.shot_add(
            storyboard=storyboard,
            kind=kind,
            prompt=prompt,
            duration=duration,
            caption=caption,
        )
        for kind, prompt, duration, caption in [
            ("establishing", "a hawk over a green valley", 1.0, "Dawn."),
            ("close-up", "a yellow star drifting left", 1.5, ""),
            ("reaction", "a red ball bouncing", 1.0, "Look!"),
        ]
    ]


def finished_take(shot, *, colour=(200, 0, 0), frames=None) -> Take:
    """A take whose clip is already rendered: solid colour, the shot's length."""
    storyboard = shot.storyboard
    count = frames or round(shot.duration * storyboard.fps)
    generation = Generation.objects.create(
        owner=storyboard.owner,
        project=storyboard.project,
        prompt=shot.prompt,
        seed=1,
        settings={
            "prompt": shot.prompt,
            "num_frames": count,
            "fps": storyboard.fps,
            "width": storyboard.width,
            "height": storyboard.height,
            "num_inference_steps": 2,
        },  # fmt: skip
        status=Generation.Status.SUCCEEDED,
    )
    folder = settings.MEDIA_ROOT / "clips" / generation.pk.hex
    folder.mkdir(parents=True)
    pixels = np.zeros((count, storyboard.height, storyboard.width, 3), np.uint8)
    pixels[...] = colour
    write_video(pixels, folder / "clip.mp4", fps=storyboard.fps)
    generation.video = f"clips/{generation.pk.hex}/clip.mp4"
    generation.save()
    number = shot.takes.count() + 1
    return Take.objects.create(shot=shot, generation=generation, number=number)


@pytest.fixture
def make_take():
    return finished_take
