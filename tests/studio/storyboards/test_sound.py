"""Sound in the studio: the API's `sound` settings on clips and renders, shots'
spoken lines, the Sound panels and their Preview, and the audio of a
rendered cut as its share link and its download serve it."""

from __future__ import annotations

import io
import json

import av
import numpy as np
import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from studio.asgi import application
from studio.generations.models import Generation
from studio.generations.sound import PREVIEWS_PER_MINUTE
from studio.prompts.models import Character
from studio.sharing.services import share_link_create
from studio.storyboards import services
from tests.studio.sockets import PatientCommunicator

PROMPT = "a red ball bouncing to the right, slow push-in"
SMALL = {"num_frames": 9, "width": 64, "height": 64, "steps": 2}
FULL = {
    "music": {"mood": "tense"},
    "effects": True,
    "voice": True,
    "volumes": {"music": 0.8, "effects": 1.0, "voice": 1.0},
}


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def patch_json(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def audio_of(data: bytes) -> tuple[float, float, str]:
    """(video seconds, audio seconds, audio codec) of an MP4's bytes."""
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video))
        seconds = frames / float(video.average_rate)
    with av.open(io.BytesIO(data)) as container:
        assert container.streams.audio, "the file has no audio stream"
        audio = container.streams.audio[0]
        samples = sum(f.samples for f in container.decode(audio))
        return seconds, samples / audio.rate, audio.codec_context.name


def mono_samples(data: bytes) -> tuple[np.ndarray, int]:
    """A file's audio as mono float samples, and its rate."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        mono = av.AudioResampler(format="flt", layout="mono", rate=stream.rate)
        chunks = [
            out.to_ndarray().reshape(-1)
            for frame in container.decode(stream)
            for out in mono.resample(frame)
        ]
        return np.concatenate(chunks), stream.rate


def body_of(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


# -- the clip API --------------------------------------------------------------


@pytest.mark.django_db
def test_a_clip_records_its_sound_settings_in_full(alice_client):
    answer = post_json(
        alice_client,
        "/api/generations",
        {"prompt": PROMPT, **SMALL, "sound": {"music": {"mood": "tense"}}},
    )
    assert answer.status_code == 201, answer.content
    sound = answer.json()["settings"]["sound"]
    assert sound["music"] == {"mood": "tense"}
    assert sound["effects"] is True
    assert sound["volumes"] == {"music": 1.0, "effects": 1.0, "voice": 1.0}
    stored = Generation.objects.get(pk=answer.json()["id"])
    assert stored.spec.sound == sound


@pytest.mark.django_db
def test_a_clip_without_sound_stays_silent(alice_client):
    answer = post_json(alice_client, "/api/generations", {"prompt": PROMPT, **SMALL})
    assert answer.status_code == 201
    assert answer.json()["settings"]["sound"] == {}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sound", "words"),
    [
        ("loud", "object"),
        ({"music": "yes"}, "true or false"),
        ({"volumes": {"music": 5}}, "from 0 to 2"),
        ({"drums": True}, "Unknown sound setting"),
        ({"music": {"mood": "x" * 80}}, "too long"),
        ({"music": {"tempo": 90}}, "only “mood”"),
    ],
)
def test_bad_sound_settings_answer_400_with_the_reason(alice_client, sound, words):
    answer = post_json(
        alice_client, "/api/generations", {"prompt": PROMPT, **SMALL, "sound": sound}
    )
    assert answer.status_code == 400
    (message,) = answer.json()["errors"]["sound"]
    assert words in message
    assert not Generation.objects.exists()


@pytest.mark.django_db
def test_the_schema_documents_the_sound_field(anonymous_client):
    document = anonymous_client.get("/api/schema").json()
    body = document["paths"]["/api/generations"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    sound = schema["properties"]["sound"]["anyOf"][0]
    assert {"type": "null"} in schema["properties"]["sound"]["anyOf"]
    assert set(sound["properties"]) == {
        "music",
        "effects",
        "voice",
        "volumes",
        "music_model",
    }
    assert "AAC" in sound["description"]
    render = document["paths"]["/api/storyboards/{storyboard_id}/render"]["post"]
    render_schema = render["requestBody"]["content"]["application/json"]["schema"]
    assert "volumes" in render_schema["properties"]["sound"]["anyOf"][0]["properties"]


# -- storyboards: spoken lines and sound ------------------------------------------


@pytest.fixture
def mia(alice):
    return Character.objects.create(
        owner=alice, name="mia", description="a girl with a red scarf"
    )


@pytest.mark.django_db
def test_a_shot_gets_a_spoken_line_by_a_character(alice_client, storyboard, shots, mia):
    url = f"/api/storyboards/{storyboard.pk}/shots/{shots[1].pk}"
    answer = patch_json(
        alice_client,
        url,
        {
            "voice_line": "  Look,   the sky! ",
            "voice_character": "@Mia",
            "voice_start": 0.5,
        },
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["voice_line"] == "Look, the sky!"
    assert answer.json()["voice_character"] == "mia"
    assert answer.json()["voice_start"] == 0.5
    # Changing something else keeps the line.
    assert patch_json(alice_client, url, {"caption": "Up"}).json()["voice_line"]
    narrator = patch_json(alice_client, url, {"voice_character": None}).json()
    assert narrator["voice_character"] is None


@pytest.mark.django_db
def test_a_spoken_line_is_checked(alice_client, bob, storyboard, shots):
    Character.objects.create(owner=bob, name="tom", description="bob's own")
    url = f"/api/storyboards/{storyboard.pk}/shots/{shots[0].pk}"
    unknown = patch_json(alice_client, url, {"voice_character": "tom"})
    assert unknown.status_code == 400
    assert "no character called “tom”" in unknown.json()["errors"]["voice_character"][0]
    late = patch_json(alice_client, url, {"voice_line": "Hi", "voice_start": 1.0})
    assert late.status_code == 400
    assert "start it earlier" in late.json()["errors"]["voice_start"][0]
    long = patch_json(alice_client, url, {"voice_line": "a" * 301})
    assert long.status_code == 400


@pytest.mark.django_db
def test_the_render_api_takes_sound_and_records_the_lines(
    alice_client, storyboard, shots, make_take, mia
):
    for shot in shots:
        make_take(shot)
    services.shot_update(
        shot=shots[1], voice_line="There it is.", voice_character=mia, voice_start=0.25
    )
    url = f"/api/storyboards/{storyboard.pk}/render"
    refused = post_json(alice_client, url, {"sound": {"volumes": {"voice": -1}}})
    assert refused.status_code == 400
    assert "voice volume" in refused.json()["errors"]["sound"][0]
    answer = post_json(alice_client, url, {"sound": FULL})
    assert answer.status_code == 202, answer.content
    plan = answer.json()["settings"]["sequence"]
    assert plan["sound"] == FULL
    spoken = plan["shots"][1]
    assert (spoken["voice"], spoken["character"], spoken["voice_start"]) == (
        "There it is.",
        "mia",
        0.25,
    )
    assert "voice" not in plan["shots"][0]


@pytest.mark.django_db
def test_a_render_without_a_body_uses_the_storyboards_sound(
    alice_client, storyboard, shots, make_take
):
    for shot in shots:
        make_take(shot)
    board = f"/api/storyboards/{storyboard.pk}"
    saved = patch_json(alice_client, board, {"sound": {"effects": False}})
    assert saved.status_code == 200
    assert saved.json()["sound"]["effects"] is False
    bad = patch_json(alice_client, board, {"sound": {"voice": "loud"}})
    assert (
        bad.status_code == 400 and "true or false" in bad.json()["errors"]["sound"][0]
    )
    answer = alice_client.post(f"{board}/render")
    assert answer.status_code == 202
    assert answer.json()["settings"]["sequence"]["sound"]["effects"] is False
    cleared = patch_json(alice_client, board, {"sound": None}).json()
    assert cleared["sound"] is None


# -- the pages ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_prompt_box_has_a_labelled_sound_panel(alice_client, project):
    page = alice_client.get(project.get_absolute_url()).content.decode()
    assert "data-sound-panel" in page
    for label in ("Add sound", "Music", "Mood", "Effects", "Music volume"):
        assert f">{label}<" in page or f"{label}</label>" in page or label in page
    assert 'for="id_sound_mood"' in page
    assert "From the prompt" in page and "Tense" in page
    assert "Preview sound" in page


@pytest.mark.django_db
def test_the_prompt_box_queues_a_clip_with_its_sound(alice_client, project):
    form = {
        "prompt": PROMPT,
        "model": "builtin",
        "duration": "1",
        "fps": "8",
        "aspect": "1:1",
        "size": "64",
        "steps": "2",
        "guidance": "5",
        "variations": "1",
        "sound": "on",
        "sound_music": "on",
        "sound_mood": "calm",
        "sound_music_volume": "0.5",
        "sound_effects_volume": "1",
    }
    answer = alice_client.post(f"{project.get_absolute_url()}generate/", form)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    sound = Generation.objects.get().settings["sound"]
    assert sound["music"] == {"mood": "calm"}
    assert sound["effects"] is False  # left unticked
    assert sound["volumes"]["music"] == 0.5
    del form["sound"]
    alice_client.post(f"{project.get_absolute_url()}generate/", form)
    assert Generation.objects.order_by("created").last().settings["sound"] == {}


@pytest.mark.django_db
def test_the_storyboard_page_saves_lines_and_sound_without_script(
    alice_client, storyboard, shots, mia
):
    page = alice_client.get(storyboard.get_absolute_url()).content.decode()
    assert 'aria-label="Spoken line of shot 1"' in page
    assert "@mia" in page and "Save sound" in page
    shot = shots[0]
    url = f"{storyboard.get_absolute_url()}shots/{shot.pk}/"
    answer = alice_client.post(
        url,
        {
            "kind": shot.kind,
            "duration": "1",
            "prompt": shot.prompt,
            "caption": shot.caption,
            "notes": "",
            "voice_line": "Hello, valley.",
            "voice_character": str(mia.pk),
            "voice_start": "0.2",
        },
    )
    assert answer.status_code == 302
    shot.refresh_from_db()
    assert (shot.voice_line, shot.voice_character, shot.voice_start) == (
        "Hello, valley.",
        mia,
        0.2,
    )
    saved = alice_client.post(
        f"{storyboard.get_absolute_url()}sound/",
        {"sound": "on", "sound_music": "on", "sound_voice": "on", "sound_mood": ""},
    )
    assert saved.status_code == 302
    storyboard.refresh_from_db()
    assert storyboard.sound["music"] is True
    assert storyboard.sound["effects"] is False and storyboard.sound["voice"] is True


@pytest.mark.django_db
def test_a_clips_preview_is_a_wav_as_long_as_the_clip(alice_client, bob_client):
    made = alice_client.post(
        "/sound/preview.wav",
        {"prompt": PROMPT, "duration": "2", "fps": "8", "sound_music": "on"},
        headers={"X-Requested-With": "fetch"},
    )
    assert made.status_code == 200
    url = made.json()["url"]
    answer = alice_client.get(url)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "audio/wav"
    data = answer.content
    assert data[:4] == b"RIFF"
    # The preview is its maker's alone.
    assert bob_client.get(url).status_code == 404
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(f.samples for f in container.decode(stream))
        assert samples / stream.rate == pytest.approx(2.0, abs=0.01)


@pytest.mark.django_db
def test_previews_are_bounded_and_rate_limited(alice_client, anonymous_client):
    url = "/sound/preview.wav"
    base = {"prompt": PROMPT, "duration": "1", "sound_music": "on"}
    assert anonymous_client.post(url, base).status_code == 302
    too_long = alice_client.post(url, {**base, "duration": "600"})
    assert too_long.status_code == 400
    assert "60" in too_long.content.decode()
    for _ in range(PREVIEWS_PER_MINUTE):
        # Without the page's script, the form's post lands on the WAV.
        assert alice_client.post(url, base).status_code == 302
    limited = alice_client.post(url, base)
    assert limited.status_code == 429
    assert "wait a moment" in limited.content.decode()


@pytest.mark.django_db
def test_a_storyboards_preview_is_its_owners_and_speaks_the_lines(
    alice_client, bob_client, storyboard, shots, mia
):
    services.shot_update(shot=shots[1], voice_line="Over here!", voice_character=mia)
    url = f"{storyboard.get_absolute_url()}sound/preview.wav"
    voice_only = {"sound_voice": "on"}
    assert bob_client.post(url, voice_only).status_code == 404
    answer = alice_client.post(url, voice_only, follow=True)
    assert answer.status_code == 200 and answer["Content-Type"] == "audio/wav"
    mono, rate = mono_samples(answer.content)
    # Only the line is heard, and from its shot (the second, at 1 s) on.
    assert len(mono) / rate == pytest.approx(3.5, abs=0.05)
    assert np.abs(mono[: int(0.9 * rate)]).max() < 0.01
    assert np.abs(mono[int(1.0 * rate) : int(2.5 * rate)]).max() > 0.05


@pytest.mark.django_db
def test_the_mood_line_reads_the_prompt_or_the_mood(alice_client):
    line = alice_client.post("/sound/mood/", {"prompt": "a calm sunset over the sea"})
    assert line.status_code == 200 and line.content.decode().startswith("Music: ")
    tense = alice_client.post("/sound/mood/", {"prompt": "", "sound_mood": "tense"})
    assert tense.content.decode() != line.content.decode()


# -- a rendered cut with sound, played and downloaded --------------------------------


async def _until_finished(ws) -> dict:
    while True:
        output = await ws.receive_output(timeout=120)
        assert output["type"] != "websocket.close", output
        if output.get("text"):
            message = json.loads(output["text"])
            if message["type"] in ("succeeded", "failed", "cancelled"):
                return message


@pytest.mark.django_db(transaction=True)
async def test_a_rendered_cut_keeps_its_sound_on_the_share_link_and_download(
    storyboard, shots, make_take, alice_client, anonymous_client, alice_cookie,
    start_live_service, mia,
):  # fmt: skip
    def prepare():
        for shot in shots:
            make_take(shot)
        services.shot_update(
            shot=shots[1], voice_line="We are here.", voice_character=mia
        )
        return services.storyboard_render(storyboard=storyboard, sound=FULL)

    render = await database_sync_to_async(prepare)()
    ws = PatientCommunicator(
        application,
        f"/ws/generations/{render.generation_id}",
        [(b"host", b"localhost"), (b"origin", b"http://localhost"), alice_cookie],
    )
    connected, _ = await ws.connect()
    assert connected
    await database_sync_to_async(start_live_service)()
    done = await _until_finished(ws)
    await ws.disconnect()
    assert done["type"] == "succeeded", done

    def fetch():
        generation = Generation.objects.get(pk=render.generation_id)
        original = (settings.MEDIA_ROOT / generation.video).read_bytes()
        download = body_of(alice_client.get(generation.video_url))
        _, token = share_link_create(owner=storyboard.owner, storyboard=storyboard)
        page = anonymous_client.get(f"/s/{token}/").content.decode()
        shared = body_of(anonymous_client.get(f"/s/{token}/cut/render.mp4"))
        captions = body_of(anonymous_client.get(f"/s/{token}/cut/render.vtt"))
        return original, download, page, shared, captions.decode()

    original, download, page, shared, captions = await database_sync_to_async(fetch)()
    assert download == original
    assert 'src="/s/' in page and "muted" not in page.split("shared-video")[1][:200]
    for data in (download, shared):
        video, audio, codec = audio_of(data)
        assert codec == "aac"
        assert video == pytest.approx(3.5)
        assert abs(audio - video) <= 1 / 8
    assert "We are here." in captions
