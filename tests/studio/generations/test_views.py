from __future__ import annotations

import pytest
from django.urls import reverse

from studio.generations.models import Generation
from studio.generations.store import output_dir

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished(generation) -> Generation:
    folder = output_dir(generation)
    folder.mkdir(parents=True)
    (folder / "clip.mp4").write_bytes(b"0123456789" * 10)
    (folder / "clip.jpg").write_bytes(b"jpeg")
    prefix = folder.relative_to(folder.parents[2]).as_posix()
    Generation.objects.filter(pk=generation.pk).update(
        status="succeeded", video=f"{prefix}/clip.mp4", poster=f"{prefix}/clip.jpg"
    )
    generation.refresh_from_db()
    return generation


def test_alice_opens_the_player_with_the_settings(alice_client, finished):
    response = alice_client.get(reverse("generations:detail", args=[finished.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert finished.video_url in content
    assert f"Seed</dt><dd>{finished.seed}" in content


def test_the_player_is_a_fragment_for_htmx(alice_client, finished):
    response = alice_client.get(
        reverse("generations:detail", args=[finished.pk]),
        headers={"HX-Request": "true"},
    )
    assert response.content.decode().lstrip().startswith("<article")


@pytest.mark.parametrize("name", ["detail", "cancel", "delete"])
def test_bob_gets_a_404_for_alices_clip(bob_client, finished, name):
    url = reverse(f"generations:{name}", args=[finished.pk])
    response = bob_client.get(url) if name == "detail" else bob_client.post(url)
    assert response.status_code == 404
    assert Generation.objects.filter(pk=finished.pk).exists()


@pytest.mark.parametrize("name", ["detail", "cancel", "delete"])
def test_anonymous_visitors_are_sent_to_log_in(anonymous_client, finished, name):
    url = reverse(f"generations:{name}", args=[finished.pk])
    response = (
        anonymous_client.get(url) if name == "detail" else anonymous_client.post(url)
    )
    assert response.status_code == 302


def test_alice_cancels_a_queued_clip(alice_client, generation):
    alice_client.post(reverse("generations:cancel", args=[generation.pk]))
    generation.refresh_from_db()
    assert generation.status == "cancelled"


def test_alice_deletes_a_clip_and_its_files(
    alice_client, finished, django_capture_on_commit_callbacks
):
    folder = output_dir(finished)
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("generations:delete", args=[finished.pk]))
    assert not Generation.objects.filter(pk=finished.pk).exists()
    assert not folder.exists()


def test_an_uploaded_image_goes_with_the_last_clip_that_used_it(
    alice, alice_client, tiny_spec, django_capture_on_commit_callbacks
):
    from studio.generations.uploads import input_dir

    folder = input_dir(alice.pk)
    folder.mkdir(parents=True)
    image = folder / "start.png"
    image.write_bytes(b"png")
    settings = {**tiny_spec.to_dict(), "image_path": str(image)}
    first, second = (
        Generation.objects.create(
            owner=alice, prompt="p", seed=seed, settings={**settings, "seed": seed}
        )
        for seed in (1, 2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("generations:delete", args=[first.pk]))
    assert image.is_file()  # the other variation still starts from it
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("generations:delete", args=[second.pk]))
    assert not image.exists()


def test_deleting_a_clip_never_touches_files_outside_its_owners_inputs(
    alice, bob, alice_client, tiny_spec, django_capture_on_commit_callbacks
):
    from studio.generations.uploads import input_dir

    folder = input_dir(bob.pk)
    folder.mkdir(parents=True)
    bobs = folder / "bobs.png"
    bobs.write_bytes(b"png")
    clip = Generation.objects.create(
        owner=alice,
        prompt="p",
        seed=1,
        settings={**tiny_spec.to_dict(), "image_path": str(bobs)},
    )
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("generations:delete", args=[clip.pk]))
    assert bobs.is_file()


def test_media_is_served_to_its_owner_only(
    alice_client, bob_client, anonymous_client, finished
):
    assert alice_client.get(finished.video_url).status_code == 200
    assert alice_client.get(finished.poster_url)["Content-Type"] == "image/jpeg"
    assert bob_client.get(finished.video_url).status_code == 404
    assert anonymous_client.get(finished.video_url).status_code == 404


def test_media_opens_with_the_api_token_of_its_owner(
    alice, bob, anonymous_client, finished
):
    from studio.accounts.services import api_token_create

    alices = {"Authorization": f"Bearer {api_token_create(user=alice, name='s')[1]}"}
    bobs = {"Authorization": f"Bearer {api_token_create(user=bob, name='s')[1]}"}
    response = anonymous_client.get(finished.video_url, headers=alices)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"0123456789" * 10
    assert anonymous_client.get(finished.poster_url, headers=alices).status_code == 200
    ranged = anonymous_client.get(
        finished.video_url, headers={**alices, "Range": "bytes=0-3"}
    )
    assert ranged.status_code == 206
    assert anonymous_client.get(finished.video_url, headers=bobs).status_code == 404
    wrong = {"Authorization": "Bearer not-a-token"}
    assert anonymous_client.get(finished.video_url, headers=wrong).status_code == 404
    basic = {"Authorization": "Basic YWxpY2U6eA=="}
    assert anonymous_client.get(finished.video_url, headers=basic).status_code == 404


def test_media_answers_range_requests(alice_client, finished):
    response = alice_client.get(finished.video_url, headers={"Range": "bytes=10-19"})
    assert response.status_code == 206
    assert response.content == b"0123456789"
    assert response["Content-Range"] == "bytes 10-19/100"
    response = alice_client.get(finished.video_url, headers={"Range": "bytes=500-"})
    assert response.status_code == 416


def test_paths_outside_the_media_folder_are_a_404(alice_client, finished):
    assert alice_client.get("/media/../settings.py").status_code == 404
    assert alice_client.get("/media/clips/").status_code == 404
