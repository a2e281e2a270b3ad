"""An extension of a clip with sound carries the sound on, and its joined
version plays both clips' sound, as long as both clips' frames."""

from __future__ import annotations

import io

import av
import pytest

from studio.generations.models import Generation
from tests.studio.generations.test_extend import SETTINGS, post, render_queued

pytestmark = pytest.mark.django_db


def lengths(data: bytes) -> tuple[float, float]:
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        seconds = sum(1 for _ in container.decode(video)) / float(video.average_rate)
    with av.open(io.BytesIO(data)) as container:
        audio = container.streams.audio[0]
        return seconds, sum(f.samples for f in container.decode(audio)) / audio.rate


def test_the_joined_version_of_a_clip_with_sound_keeps_it(alice_client, tiny_adapter):
    sound = {"music": {"mood": "calm"}, "effects": False}
    made = post(alice_client, "/api/generations", {**SETTINGS, "sound": sound})
    assert made.status_code == 201, made.content
    render_queued(tiny_adapter)
    extended = post(
        alice_client, f"/api/generations/{made.json()['id']}/extend", {"seconds": 1.5}
    )
    assert extended.status_code == 201
    assert extended.json()["settings"]["sound"]["music"] == {"mood": "calm"}
    render_queued(tiny_adapter)
    extension = Generation.objects.get(pk=extended.json()["id"])
    joined = alice_client.get(extension.joined_url)
    video, audio = lengths(b"".join(joined.streaming_content))
    assert video == pytest.approx((8 + 12) / 8)
    assert abs(audio - video) <= 1 / 8
