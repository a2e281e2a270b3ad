"""Extend: continuing a finished clip from the API (session and token), from
its page, and from a storyboard's take; the joined version is one signed MP4
of both clips."""

from __future__ import annotations

import json

import av
import pytest
from django.conf import settings

from generation import adapters
from generation.capabilities import shared
from generation.service import GenerationService
from studio.accounts.services import api_token_create
from studio.generations.models import Generation
from studio.generations.store import OrmJobStore
from studio.lib.credentials import clip_signer, video_verdict
from studio.projects.models import Project
from studio.storyboards import services as storyboards
from studio.storyboards.models import Shot

pytestmark = pytest.mark.django_db

PROMPT = "a red ball bouncing to the right, slow push-in"
SETTINGS = {"prompt": PROMPT, "num_frames": 8, "fps": 8, "steps": 2,
            "width": 64, "height": 64, "guidance": 3.0}  # fmt: skip


class Quiet:
    def emit(self, job_id, event): ...

    def emit_preview(self, job_id, event): ...


def render_queued(adapter) -> None:
    """Render every queued clip as the worker does, in this thread."""
    store = OrmJobStore()
    service = GenerationService(
        store=store,
        sink=Quiet(),
        adapter_loader=lambda name, device: adapter,
        signer=clip_signer(),
    )
    while (job := store.claim_next()) is not None:
        result = service.run_spec(job.spec, job.output_dir)
        assert store.mark_succeeded(job.id, result)


def post(client, url, data, **headers):
    return client.post(
        url, json.dumps(data), content_type="application/json", headers=headers
    )


def frame_count(data: bytes, tmp_path) -> int:
    path = tmp_path / "got.mp4"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


@pytest.fixture
def token(alice) -> str:
    return api_token_create(user=alice, name="script")[1]


@pytest.fixture
def project(alice):
    return Project.objects.create(owner=alice, name="Ball")


@pytest.fixture
def finished(alice_client, project, tiny_adapter) -> Generation:
    response = post(
        alice_client, "/api/generations", {**SETTINGS, "project": str(project.pk)}
    )
    assert response.status_code == 201, response.content
    render_queued(tiny_adapter)
    generation = Generation.objects.get(pk=response.json()["id"])
    assert generation.status == Generation.Status.SUCCEEDED
    return generation


def test_a_script_extends_a_clip_and_gets_the_joined_version(
    anonymous_client, token, finished, tiny_adapter, tmp_path
):
    bearer = {"Authorization": f"Bearer {token}"}
    response = post(
        anonymous_client, f"/api/generations/{finished.pk}/extend", {"seconds": 1.5},
        **bearer,
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued" and body["extends"] == str(finished.pk)
    assert body["batch"] == [
        {"id": body["id"], "prompt": PROMPT, "ws_url": f"/ws/generations/{body['id']}"}
    ]
    assert body["settings"]["task"] == "extend"
    assert body["settings"]["num_frames"] == 12  # 1.5 s at the clip's 8 fps
    assert body["settings"]["video_path"] == finished.video.rsplit("/", 1)[-1]
    render_queued(tiny_adapter)
    state = anonymous_client.get(f"/api/generations/{body['id']}", headers=bearer)
    joined_url = state.json()["joined_url"]
    joined = anonymous_client.get(joined_url, headers=bearer)
    assert joined.status_code == 200 and joined["Content-Type"] == "video/mp4"
    assert frame_count(b"".join(joined.streaming_content), tmp_path) == 8 + 12
    extension = Generation.objects.get(pk=body["id"])
    joined_file = settings.MEDIA_ROOT / extension.video.rsplit("/", 1)[0] / "joined.mp4"
    verdict = video_verdict(joined_file)
    assert verdict.valid and verdict.ai_generated, verdict.message
    # The second request serves the file made by the first.
    made = joined_file.stat().st_mtime_ns
    anonymous_client.get(joined_url, headers=bearer)
    assert joined_file.stat().st_mtime_ns == made


def test_a_session_extends_with_a_new_prompt(alice_client, finished):
    response = post(
        alice_client,
        f"/api/generations/{finished.pk}/extend",
        {"seconds": 1, "prompt": "  a red ball rolling to the left  "},
    )
    assert response.status_code == 201
    extension = Generation.objects.get(pk=response.json()["id"])
    assert extension.prompt == "a red ball rolling to the left"
    assert extension.extends == finished and extension.project == finished.project
    assert extension.spec.width == 64 and extension.spec.fps == 8


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"seconds": 0.2}, "must be at least 0.5"),
        ({"seconds": 11}, "must be at most 10"),
        ({"seconds": "long"}, "number"),
        ({}, "required"),
        ({"seconds": 7}, "continues a clip by 1 to 6 seconds (8 to 48 frames)"),
        ({"seconds": 1, "prompt": "x" * 2001}, "2000"),
        ({"seconds": 1, "colour": "red"}, ""),
    ],
)
def test_bad_lengths_and_fields_are_refused_with_a_sentence(
    alice_client, finished, body, words
):
    response = post(alice_client, f"/api/generations/{finished.pk}/extend", body)
    assert response.status_code == 400
    assert words in json.dumps(response.json())
    assert not Generation.objects.filter(extends=finished).exists()


@pytest.fixture
def plain_model():
    adapters.register(
        "plain", lambda device: None, capabilities=shared("plain", "Plain")
    )
    yield "plain"
    adapters.unregister("plain")


def test_a_model_that_cannot_continue_a_clip_is_named(alice, alice_client, plain_model):
    clip = Generation.objects.create(
        owner=alice, prompt=PROMPT, seed=1, status=Generation.Status.SUCCEEDED,
        settings={**SETTINGS, "model": plain_model}, video="clips/x.mp4",
    )  # fmt: skip
    response = post(alice_client, f"/api/generations/{clip.pk}/extend", {"seconds": 1})
    assert response.status_code == 400
    assert response.json()["errors"]["model"] == [
        "Extend needs the built-in model or a SkyReels-V2 model; plain can't "
        "continue a clip."
    ]


def test_a_clip_still_rendering_answers_409(alice, alice_client):
    queued = post(alice_client, "/api/generations", SETTINGS).json()
    response = post(
        alice_client, f"/api/generations/{queued['id']}/extend", {"seconds": 1}
    )
    assert response.status_code == 409
    assert "not finished yet" in response.json()["error"]


def test_bob_cannot_extend_or_watch_alices_clip(
    bob, bob_client, finished, tiny_adapter
):
    response = post(
        bob_client, f"/api/generations/{finished.pk}/extend", {"seconds": 1}
    )
    assert response.status_code == 404
    _, token = api_token_create(user=bob, name="bob")
    assert post(
        bob_client, f"/api/generations/{finished.pk}/extend", {"seconds": 1},
        Authorization=f"Bearer {token}",
    ).status_code == 404  # fmt: skip
    assert (
        bob_client.post(
            f"/generations/{finished.pk}/extend/", {"seconds": "1"}
        ).status_code
        == 404
    )
    ours = post(
        Client_for(finished.owner), f"/api/generations/{finished.pk}/extend",
        {"seconds": 1},
    ).json()  # fmt: skip
    render_queued(tiny_adapter)
    assert bob_client.get(f"/generations/{ours['id']}/joined.mp4").status_code == 404


def Client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_clip_page_extends_and_the_extension_page_links_back(
    alice_client, finished, tiny_adapter
):
    page = alice_client.get(finished.get_absolute_url()).content.decode()
    assert 'data-testid="extend-form"' in page
    assert f">{PROMPT}</textarea>" in page  # the prompt, ready to change
    response = alice_client.post(
        f"/generations/{finished.pk}/extend/", {"seconds": "1", "prompt": PROMPT}
    )
    extension = Generation.objects.get(extends=finished)
    assert response.status_code == 302 and response.url == extension.get_absolute_url()
    render_queued(tiny_adapter)
    page = alice_client.get(extension.get_absolute_url()).content.decode()
    assert f'href="{finished.get_absolute_url()}"' in page and "Continues" in page
    assert f'src="/generations/{extension.pk}/joined.mp4"' in page
    assert "Download joined MP4" in page


def test_the_page_says_what_was_wrong_with_the_form(alice_client, finished):
    response = alice_client.post(
        f"/generations/{finished.pk}/extend/", {"seconds": "eleven", "prompt": ""}
    )
    assert response.status_code == 400
    assert "Give the extension&#x27;s length in seconds." in response.content.decode()
    response = alice_client.post(
        f"/generations/{finished.pk}/extend/", {"seconds": "30"}
    )
    assert "too long" in response.content.decode()


def test_a_storyboard_take_is_continued_in_a_new_shot(
    alice, alice_client, token, anonymous_client, project, tiny_adapter
):
    board = storyboards.storyboard_create(
        owner=alice, project=project, title="Ball", fps=8, width=64, height=64,
        steps=2, guidance=3.0,
    )  # fmt: skip
    shot = storyboards.shot_add(storyboard=board, prompt="a red ball", duration=1.0)
    storyboards.shot_add(storyboard=board, prompt="a blue box", duration=1.0)
    (take,) = storyboards.takes_generate(shots=[shot])
    render_queued(tiny_adapter)
    url = (f"/projects/{project.pk}/storyboards/{board.pk}/shots/{shot.pk}"
           f"/takes/{take.pk}/extend/")  # fmt: skip
    assert alice_client.post(url, {"seconds": "1.5"}).status_code == 302
    shots = list(board.shots.order_by("order"))
    assert [s.prompt for s in shots] == ["a red ball", "a red ball", "a blue box"]
    added = shots[1]
    assert added.duration == 1.5
    continuation = added.chosen_take
    assert continuation.generation.extends == take.generation
    page = alice_client.get(board.get_absolute_url()).content.decode()
    # The continuation, still queued, has nothing to extend yet.
    assert page.count('data-testid="take-extend"') == 1
    # Nor does the API: a 400 with the reason, as the request's own error.
    response = post(
        anonymous_client,
        f"/api/storyboards/{board.pk}/shots/{added.pk}/takes/{continuation.number}/extend",
        {"seconds": 1},
        Authorization=f"Bearer {token}",
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"]["__all__"]
    render_queued(tiny_adapter)
    page = alice_client.get(board.get_absolute_url()).content.decode()
    assert page.count('data-testid="take-extend"') == 2
    # The API does the same, by token.
    response = post(
        anonymous_client,
        f"/api/storyboards/{board.pk}/shots/{added.pk}/takes/{continuation.number}/extend",
        {"seconds": 1, "prompt": "a red ball rolling left"},
        Authorization=f"Bearer {token}",
    )
    assert response.status_code == 202, response.content
    assert Shot.objects.filter(storyboard=board).count() == 4
    newest = Shot.objects.get(storyboard=board, order=3)
    assert newest.prompt == "a red ball rolling left"
    assert newest.chosen_take.generation.extends == continuation.generation
