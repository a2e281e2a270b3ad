from __future__ import annotations

import pytest

from studio.generations.models import Generation
from studio.generations.store import output_dir

pytestmark = pytest.mark.django_db

CONTENT = b"0123456789" * 10


@pytest.fixture
def video_url(generation) -> str:
    folder = output_dir(generation)
    folder.mkdir(parents=True)
    (folder / "clip.mp4").write_bytes(CONTENT)
    prefix = folder.relative_to(folder.parents[2]).as_posix()
    Generation.objects.filter(pk=generation.pk).update(
        status="succeeded", video=f"{prefix}/clip.mp4"
    )
    generation.refresh_from_db()
    return generation.video_url


@pytest.mark.parametrize(
    "header", ["bytes=" + "9" * 5000 + "-", "bytes=-" + "9" * 5000, "bytes=²-3"]
)
def test_a_range_int_cannot_read_is_served_whole_not_a_500(
    alice_client, video_url, header
):
    response = alice_client.get(video_url, headers={"Range": header})
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTENT


def test_a_range_past_the_file_within_a_key_is_unsatisfiable(alice_client, video_url):
    response = alice_client.get(video_url, headers={"Range": "bytes=" + "9" * 19 + "-"})
    assert response.status_code == 416
