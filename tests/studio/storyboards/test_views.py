from __future__ import annotations

import io
import re
import wave

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from studio.storyboards import services
from studio.storyboards.models import Render, Shot, Storyboard

pytestmark = pytest.mark.django_db


def page(storyboard, suffix: str = "") -> str:
    return storyboard.get_absolute_url() + suffix


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x10\x00\xf0\xff" * int(seconds * rate / 2))
    return buffer.getvalue()


# -- access ------------------------------------------------------------------


@pytest.mark.parametrize(
    "suffix", ["", "sheet.png", "sheet.pdf"], ids=["page", "png", "pdf"]
)
def test_only_the_owner_sees_a_storyboard(
    alice_client, bob_client, anonymous_client, storyboard, shots, suffix
):
    url = page(storyboard, suffix)
    assert alice_client.get(url).status_code == 200
    assert bob_client.get(url).status_code == 404
    response = anonymous_client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "suffix,data",
    [
        ("", {"title": "Mine now"}),
        ("delete/", {}),
        ("shots/", {"prompt": "x", "duration": 1, "kind": "wide"}),
        ("render/", {}),
        ("shots/missing/", {}),
    ],
)
def test_another_user_cannot_change_a_storyboard(
    bob_client, anonymous_client, storyboard, shots, suffix, data
):
    assert bob_client.post(page(storyboard, suffix), data).status_code == 404
    assert anonymous_client.post(page(storyboard, suffix), data).status_code == 302
    assert Storyboard.objects.get(pk=storyboard.pk).title == "The hawk"
    assert storyboard.shots.count() == 3


def test_another_user_cannot_touch_a_shot(bob_client, storyboard, shots):
    url = page(storyboard, f"shots/{shots[0].pk}/action/")
    assert bob_client.post(url, {"action": "delete"}).status_code == 404
    assert storyboard.shots.count() == 3


def test_the_project_page_links_to_its_storyboards(alice_client, project):
    response = alice_client.get(project.get_absolute_url())
    assert f"/projects/{project.pk}/storyboards/" in response.content.decode()


def test_alice_creates_a_storyboard_in_her_project(alice_client, project):
    url = f"/projects/{project.pk}/storyboards/"
    response = alice_client.post(url, {"title": "Opening"})
    storyboard = Storyboard.objects.get(title="Opening")
    assert response["Location"] == storyboard.get_absolute_url()
    assert "Opening" in alice_client.get(url).content.decode()


def test_bob_cannot_create_a_storyboard_in_alices_project(bob_client, project):
    url = f"/projects/{project.pk}/storyboards/"
    assert bob_client.post(url, {"title": "Mine"}).status_code == 404


# -- script to shots ------------------------------------------------------------


def test_a_pasted_scene_is_proposed_and_accepted_as_shots(alice_client, storyboard):
    scene = "A hawk circles above the valley. Mia smiles at the sky. It dives."
    response = alice_client.post(
        page(storyboard, "script/"), {"script": scene}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="proposal"') == 2
    response = alice_client.post(
        page(storyboard, "script/accept/"),
        {
            "keep": ["0", "1"],
            "kind": ["establishing", "reaction"],
            "prompt": ["a hawk circles above the valley", "Mia smiles"],
            "caption": ["", "Oh!"],
            "duration": ["1", "1.5"],
        },
    )
    assert response.status_code == 302
    kinds = list(storyboard.shots.values_list("order", "kind", "duration", "caption"))
    assert kinds == [(1, "establishing", 1.0, ""), (2, "reaction", 1.5, "Oh!")]


def test_a_proposal_with_a_bad_duration_adds_nothing(alice_client, storyboard):
    response = alice_client.post(
        page(storyboard, "script/accept/"),
        {
            "keep": ["0"],
            "kind": ["wide"],
            "prompt": ["x"],
            "caption": [""],
            "duration": ["1.1"],
        },  # fmt: skip
        follow=True,
    )
    assert "whole number of frames" in response.content.decode()
    assert storyboard.shots.count() == 0


def test_an_empty_script_is_refused_with_a_message(alice_client, storyboard):
    response = alice_client.post(page(storyboard, "script/"), {"script": " "})
    assert response.status_code == 400


# -- shots, order, takes ----------------------------------------------------------


def test_shots_move_with_the_buttons(alice_client, storyboard, shots):
    url = page(storyboard, f"shots/{shots[2].pk}/action/")
    response = alice_client.post(url, {"action": "up"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="gallery"' in response.content.decode()
    assert [s.pk for s in storyboard.shots.all()] == [
        shots[0].pk, shots[2].pk, shots[1].pk,
    ]  # fmt: skip


def test_shots_reorder_by_drag_and_drop(alice_client, storyboard, shots):
    a, b, c = (s.pk for s in shots)
    url = page(storyboard, "shots/order/")
    assert alice_client.post(url, {"shot": [c, a, b]}).status_code == 302
    assert [s.pk for s in storyboard.shots.all()] == [c, a, b]
    assert alice_client.post(url, {"shot": [c, a]}).status_code == 400
    assert alice_client.post(url, {"shot": ["x"]}).status_code == 400


def test_a_shot_is_edited_and_a_bad_duration_is_refused(
    alice_client, storyboard, shots
):
    url = page(storyboard, f"shots/{shots[0].pk}/")
    data = {"kind": "wide", "prompt": "a wide valley", "duration": "2", "caption": ""}
    alice_client.post(url, data)
    shot = Shot.objects.get(pk=shots[0].pk)
    assert (shot.kind, shot.prompt, shot.duration) == ("wide", "a wide valley", 2.0)
    alice_client.post(url, {**data, "duration": "0.3"})
    assert Shot.objects.get(pk=shots[0].pk).duration == 2.0
    alice_client.post(url, {**data, "duration": "99"})
    assert Shot.objects.get(pk=shots[0].pk).duration == 2.0


def test_picking_a_take_puts_it_in_the_cut(alice_client, storyboard, shots, make_take):
    first, _ = make_take(shots[0]), make_take(shots[0])
    url = page(storyboard, f"shots/{shots[0].pk}/takes/{first.pk}/use/")
    response = alice_client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert Shot.objects.get(pk=shots[0].pk).used_take() == first
    assert "Use take 2" in response.content.decode()


def test_the_board_shows_a_live_card_for_a_queued_take(alice_client, storyboard, shots):
    response = alice_client.post(page(storyboard, "shots/missing/"))
    assert response.status_code == 302
    body = alice_client.get(page(storyboard)).content.decode()
    assert body.count('class="live-card"') == 3
    assert "/ws/generations/" in body


def test_continue_from_previous_is_shown_disabled_with_the_reason(
    alice_client, storyboard, shots
):
    body = alice_client.get(page(storyboard)).content.decode()
    assert "Continuing from the previous shot" in body
    # No image was given: the reason does not ask to remove one.
    assert "remove the image" not in body


# -- choices and paths ---------------------------------------------------------------


def test_choices_show_the_paths_with_unreachable_shots(alice_client, storyboard, shots):
    url = page(storyboard, f"shots/{shots[0].pk}/choices/")
    alice_client.post(url, {"label": "follow the hawk", "target": shots[2].pk})
    body = alice_client.get(page(storyboard)).content.decode()
    assert "“follow the hawk” → shot 3" in body
    assert "unreachable" in body
    assert body.count('data-testid="path-row"') == 3


def test_a_loop_without_a_way_out_is_shown_as_a_dead_end(
    alice_client, storyboard, shots
):
    services.choice_add(shot=shots[1], label="again", target=shots[0])
    body = alice_client.get(page(storyboard)).content.decode()
    assert "loop" in body and "dead end" in body


def test_a_choice_cannot_lead_to_another_storyboards_shot(
    alice, alice_client, project, storyboard, shots
):
    other = services.storyboard_create(owner=alice, project=project, title="Other")
    stranger = services.shot_add(storyboard=other, prompt="x", duration=1.0)
    url = page(storyboard, f"shots/{shots[0].pk}/choices/")
    alice_client.post(url, {"label": "away", "target": stranger.pk})
    assert not shots[0].choices.exists()


# -- soundtrack -----------------------------------------------------------------------


def upload(client, storyboard, name, data, content_type="audio/wav"):
    file = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post(page(storyboard, "soundtrack/"), {"soundtrack": file})


def test_a_soundtrack_is_checked_and_kept(alice_client, storyboard):
    response = upload(alice_client, storyboard, "music.wav", wav_bytes(2.0))
    assert response.status_code == 302
    storyboard.refresh_from_db()
    assert storyboard.soundtrack_name == "music.wav"
    assert storyboard.soundtrack_seconds == pytest.approx(2.0, abs=0.01)


def test_a_soundtrack_of_the_wrong_type_is_refused(alice_client, storyboard):
    response = upload(alice_client, storyboard, "music.png", b"\x89PNG\r\n")
    assert response.status_code == 400
    assert "Upload an audio file" in response.content.decode()
    response = upload(alice_client, storyboard, "music.mp3", b"not audio at all")
    assert response.status_code == 400
    storyboard.refresh_from_db()
    assert storyboard.soundtrack == ""


def test_a_soundtrack_too_long_is_refused(alice_client, storyboard, monkeypatch):
    from generation import sequence

    monkeypatch.setattr(sequence, "MAX_SOUNDTRACK_SECONDS", 1.0)
    monkeypatch.setattr(
        sequence.soundtrack_check,
        "__kwdefaults__",
        {"max_bytes": 10**8, "max_seconds": 1.0},
    )
    response = upload(alice_client, storyboard, "long.wav", wav_bytes(2.0))
    assert response.status_code == 400
    assert "longer than" in response.content.decode()


def test_a_soundtrack_too_large_is_refused(alice_client, storyboard, monkeypatch):
    from generation import sequence

    monkeypatch.setattr(sequence, "MAX_SOUNDTRACK_BYTES", 1000)
    response = upload(alice_client, storyboard, "big.wav", wav_bytes(1.0))
    assert response.status_code == 400
    assert "larger than" in response.content.decode()


# -- sheet and share pages ----------------------------------------------------------------


def test_the_sheet_downloads_as_png_and_pdf(alice_client, storyboard, shots, make_take):
    make_take(shots[0])
    png = alice_client.get(page(storyboard, "sheet.png"))
    assert png["Content-Type"] == "image/png"
    assert b"".join(png.streaming_content).startswith(b"\x89PNG")
    pdf = alice_client.get(page(storyboard, "sheet.pdf"))
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_proposed_durations_keep_to_what_the_model_makes_at_the_boards_rate(
    alice_client, storyboard
):
    # 16 fps: the model's 48 frames at most are 3 s.
    storyboard.fps = 16
    storyboard.save()
    scene = (
        "A hawk circles above the valley at dawn. "
        "Mia runs down the hill, jumps the stream, grabs her bag and climbs "
        "onto the old cart while the farmer shouts after her."
    )
    response = alice_client.post(
        page(storyboard, "script/"), {"script": scene}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    seconds = [
        float(v) for v in re.findall(r'name="duration"[^>]*value="([^"]+)"', html)
    ]
    assert len(seconds) == 2 and max(seconds) == 3.0
    assert all(2.0 <= value <= 3.0 for value in seconds)


def test_the_rendered_cut_sits_by_the_render_button_above_the_shots(
    alice_client, storyboard, shots, make_take
):
    older = make_take(shots[0]).generation
    newest = make_take(shots[1]).generation
    Render.objects.create(storyboard=storyboard, generation=older)
    Render.objects.create(storyboard=storyboard, generation=newest)
    html = alice_client.get(page(storyboard)).content.decode()
    button = html.index(">Render sequence</button>")
    player = html.index('data-testid="render"')
    vtt = html.index('data-testid="vtt"')
    earlier = html.index('data-testid="earlier-render"')
    first_shot = html.index('<ol class="shots"')
    assert button < player < vtt < earlier < first_shot
    assert html.count('data-testid="render"') == 1
    assert newest.video_url in html[player:vtt]
