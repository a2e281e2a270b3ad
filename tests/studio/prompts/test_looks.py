"""Style presets with looks: the shipped looks, a clip graded by its style's
look, and .cube colour tables imported on the styles page."""

from __future__ import annotations

import time

import av
import numpy as np
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generation import looks
from generation.encode import probe_video
from studio.generations.models import Generation
from studio.projects.models import Project
from studio.prompts.models import StylePreset
from studio.prompts.services import LOOKS
from studio.prompts.transfer import library_export, library_import
from studio.prompts.validation import validate_style
from tests.studio.generations.processes import PATIENCE
from tests.studio.prompts.test_views import settings_form

pytestmark = pytest.mark.django_db(transaction=True)
IMPORT = "/prompts/styles/looks/"


@pytest.fixture
def noir() -> StylePreset:
    # The shipped row; tests that flush the database make it again.
    style, _ = StylePreset.objects.get_or_create(
        owner=None,
        name="Film noir",
        defaults={"snippet": "black-and-white film noir", "look": "Film noir"},
    )
    return style


@pytest.fixture
def project(alice) -> Project:
    return Project.objects.create(owner=alice, name="Harbour teaser")


def finished(generation: Generation) -> Generation:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        generation.refresh_from_db()
        if generation.is_finished:
            return generation
        time.sleep(0.05)
    raise AssertionError(f"{generation.pk} is still {generation.status}")


def video(generation: Generation):
    return settings.MEDIA_ROOT / generation.video


def frames_of(generation: Generation) -> np.ndarray:
    path = video(generation)
    with av.open(str(path)) as container:
        return np.stack(
            [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        )


def saturation(frames: np.ndarray) -> float:
    rgb = frames.astype(np.float32)
    high, low = rgb.max(-1), rgb.min(-1)
    return float(np.where(high > 0, (high - low) / np.maximum(high, 1), 0).mean())


def cube(size: int = 9) -> bytes:
    return looks.write_cube(looks.identity_lut(size)).encode()


@pytest.mark.django_db  # before any flush: the migration's rows as shipped
def test_every_shipped_style_has_its_look():
    shipped = StylePreset.objects.filter(owner=None)
    assert shipped.count() == len(looks.SHIPPED)
    for style in shipped:
        assert style.look == style.name
        name, params = style.look_settings()
        assert name == style.name and params == looks.SHIPPED[style.name]


def test_a_style_with_a_look_makes_a_graded_clip_that_names_it(
    alice_client, project, live_service, noir
):
    url = reverse("projects:generate", args=[project.pk])
    assert alice_client.post(url, settings_form()).status_code == 302
    assert alice_client.post(url, settings_form(style=noir.pk)).status_code == 302
    plain, graded = (finished(g) for g in Generation.objects.order_by("created"))
    assert plain.status == graded.status == Generation.Status.SUCCEEDED

    assert graded.settings["look"] == "Film noir"
    assert graded.settings["look_params"] == looks.SHIPPED["Film noir"]
    assert "look" not in plain.settings or not plain.settings["look"]
    assert probe_video(video(graded))["metadata"]["look"] == "Film noir"
    # Measurably graded: the same seed's clip in colour, and in black and white.
    assert saturation(frames_of(plain)) > 0.15
    assert saturation(frames_of(graded)) < 0.1
    page = alice_client.get(graded.get_absolute_url()).content.decode()
    assert '<dd data-role="look">Film noir' in page


def test_another_creators_style_is_refused_in_words(
    alice_client, bob, project, live_service
):
    theirs = StylePreset.objects.create(
        owner=bob, name="Bob's", snippet="teal", look="Anime"
    )
    url = reverse("projects:generate", args=[project.pk])
    response = alice_client.post(url, settings_form(style=theirs.pk))
    assert response.status_code == 400
    assert "That style no longer exists" in response.content.decode()
    assert not Generation.objects.exists()


def test_the_styles_page_names_each_look_and_offers_the_import(alice_client, noir):
    page = alice_client.get(reverse("prompts:styles")).content.decode()
    assert "look: Film noir" in page
    assert 'action="/prompts/styles/looks/"' in page
    assert 'enctype="multipart/form-data"' in page


def test_a_good_cube_becomes_a_style_that_grades_clips(
    alice, alice_client, project, live_service
):
    upload = SimpleUploadedFile("teal.cube", cube(), "application/octet-stream")
    response = alice_client.post(
        IMPORT, {"name": "Teal", "snippet": "teal grade", "cube": upload}
    )
    assert response.status_code == 302
    style = StylePreset.objects.get(owner=alice, name="Teal")
    assert style.look == "Teal" and style.lut.startswith(f"{LOOKS}/")
    assert style.lut_path.is_file()
    assert looks.read_cube(style.lut_path).shape == (9, 9, 9, 3)

    url = reverse("projects:generate", args=[project.pk])
    assert alice_client.post(url, settings_form(style=style.pk)).status_code == 302
    clip = finished(Generation.objects.get())
    assert clip.status == Generation.Status.SUCCEEDED
    assert clip.settings["look"] == "Teal"
    comment = probe_video(video(clip))["metadata"]["comment"]
    # The clip names the table by its file name, never the server's path.
    assert style.lut_path.name in comment and str(settings.MEDIA_ROOT) not in comment

    alice_client.post(reverse("prompts:style_delete", args=[style.pk]))
    assert not style.lut_path.exists()


@pytest.mark.parametrize(
    "data, sentence",
    [
        (b"not a table", "no LUT_3D_SIZE line"),
        (b"LUT_3D_SIZE 2\n0 0 0\n", "needs 8 rows"),
        (b"LUT_3D_SIZE 90\n", "between 2 and 65"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary data"),
    ],
)
def test_a_bad_cube_is_a_400_with_a_sentence(alice, alice_client, data, sentence):
    upload = SimpleUploadedFile("bad.cube", data)
    response = alice_client.post(IMPORT, {"name": "Bad", "cube": upload})
    assert response.status_code == 400
    assert sentence in response.content.decode()
    assert not StylePreset.objects.filter(owner=alice).exists()


def test_an_oversize_cube_is_refused_before_it_is_read(alice, alice_client):
    big = b"# padding\n" * (2 * 1024 * 1024 // 10 + 10)
    upload = SimpleUploadedFile("huge.cube", big)
    response = alice_client.post(IMPORT, {"name": "Huge", "cube": upload})
    assert response.status_code == 400
    assert "larger than 2 MB" in response.content.decode()
    assert not StylePreset.objects.filter(owner=alice).exists()


def test_a_cube_needs_a_name_and_a_file(alice_client):
    response = alice_client.post(IMPORT, {"name": ""})
    assert response.status_code == 400
    assert response.content.decode().count("This field is required") == 2


def test_a_second_look_with_the_same_name_is_refused(alice, alice_client):
    for _ in range(2):
        upload = SimpleUploadedFile("a.cube", cube())
        response = alice_client.post(IMPORT, {"name": "Mine", "cube": upload})
    assert response.status_code == 400
    assert "already have a style named “Mine”" in response.content.decode()
    assert StylePreset.objects.filter(owner=alice).count() == 1


def test_anonymous_visitors_cannot_import(anonymous_client):
    upload = SimpleUploadedFile("a.cube", cube())
    response = anonymous_client.post(IMPORT, {"name": "Mine", "cube": upload})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_choosing_a_style_in_the_prompt_box_carries_its_look(
    alice_client, project, noir
):
    page = alice_client.get(project.get_absolute_url()).content.decode()
    assert f'data-style-id="{noir.pk}" data-look="Film noir"' in page
    assert 'name="style" value="" data-role="style-id"' in page


def test_an_export_keeps_shipped_looks_and_leaves_imported_tables_behind(
    alice, alice_client
):
    StylePreset.objects.create(
        owner=alice, name="Night", snippet="dark", look="Film noir"
    )
    upload = SimpleUploadedFile("a.cube", cube())
    alice_client.post(IMPORT, {"name": "Graded", "snippet": "warm", "cube": upload})
    data = library_export(owner=alice)
    assert [(s["name"], s["look"]) for s in data["styles"]] == [("Night", "Film noir")]

    StylePreset.objects.filter(owner=alice).delete()
    library_import(owner=alice, data=data)
    assert StylePreset.objects.get(owner=alice, name="Night").look == "Film noir"


def test_a_style_with_an_unknown_look_is_refused_in_words(alice, alice_client):
    response = alice_client.post(
        reverse("prompts:styles"), {"name": "Odd", "snippet": "odd", "look": "Sepia"}
    )
    assert response.status_code == 200  # the page again, with the form's error
    assert "Select a valid choice" in response.content.decode()
    _, errors = validate_style({"name": "Odd", "snippet": "odd", "look": "Sepia"})
    assert errors["look"][0].startswith("Choose a look by name (Film noir,")
    response = alice_client.post(
        reverse("prompts:styles"),
        {"name": "Noir too", "snippet": "x", "look": "Film noir"},
    )
    assert response.status_code == 302
    assert StylePreset.objects.get(owner=alice, name="Noir too").look == "Film noir"
