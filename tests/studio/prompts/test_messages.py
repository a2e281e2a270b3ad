"""What the coach and the library say is true: no praise for an empty prompt,
and an import says what it skipped and why."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from studio.prompts import transfer
from studio.prompts.models import Prompt
from studio.prompts.services import prompt_create
from studio.prompts.transfer import import_message

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_the_coach_does_not_praise_an_empty_prompt(alice_client, text):
    response = alice_client.post(reverse("prompts:coach"), {"prompt": text})
    content = response.content.decode()
    assert response.status_code == 200
    assert "Reads like a shot" not in content
    assert 'data-code="empty"' in content
    assert "Describe a shot" in content


def test_the_coach_still_praises_a_prompt_that_names_the_shot(alice_client):
    response = alice_client.post(
        reverse("prompts:coach"),
        {"prompt": "a red ball bouncing to the right, slow push-in"},
    )
    content = response.content.decode()
    assert 'data-code="ok"' in content and 'data-code="empty"' not in content


def test_the_coach_api_asks_for_text_rather_than_praising_none(alice_client):
    response = alice_client.post(
        "/api/prompts/coach", {"text": ""}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "text" in response.json()["errors"]


def library_file(*texts: str) -> SimpleUploadedFile:
    data = {
        "format": transfer.FORMAT,
        "version": transfer.VERSION,
        "prompts": [{"title": t[:20], "text": t} for t in texts],
    }
    return SimpleUploadedFile("library.json", json.dumps(data).encode())


def test_a_re_import_says_what_it_skipped_and_why(alice, alice_client):
    prompt_create(owner=alice, title="Ball", text="a red ball bouncing")
    response = alice_client.post(
        reverse("prompts:import"),
        {"file": library_file("a red ball bouncing")},
        follow=True,
    )
    content = response.content.decode()
    assert "Imported 0 prompts" not in content
    assert "Nothing new was imported." in content
    assert "Skipped 1 prompt with the same text" in content
    assert "already has it" in content
    assert Prompt.objects.filter(owner=alice).count() == 1


def test_an_import_counts_what_it_added_and_skipped(alice, alice_client):
    prompt_create(owner=alice, title="Ball", text="a red ball bouncing")
    response = alice_client.post(
        reverse("prompts:import"),
        {"file": library_file("a red ball bouncing", "a blue box", "a star")},
        follow=True,
    )
    content = response.content.decode()
    assert "Imported 2 prompts." in content
    assert "Skipped 1 prompt with the same text" in content


@pytest.mark.parametrize(
    ("imported", "skipped", "expected"),
    [
        ({}, {}, "The file held nothing to import."),
        (
            {"prompts": 1, "styles": 2},
            {},
            "Imported 1 prompt and 2 styles.",
        ),
        (
            {"prompts": 0},
            {"prompts": 2, "characters": 1},
            "Nothing new was imported. Skipped 2 prompts with the same text and "
            "1 character with the same name: your library already has them, and "
            "an import never overwrites.",
        ),
    ],
)
def test_the_import_message_reads_as_a_sentence(imported, skipped, expected):
    assert import_message({"imported": imported, "skipped": skipped}) == expected


def test_only_the_project_prompt_box_gets_its_generate_label(alice_client):
    # The library's editor has no Generate button: an out-of-band label for
    # it would find no target and log an error in the browser console.
    url = reverse("prompts:coach")
    library = alice_client.post(url, {"text": "a {red|blue} ball"}).content.decode()
    assert 'id="generate-label"' not in library
    box = alice_client.post(url, {"prompt": "a {red|blue} ball", "composer": "1"})
    assert 'id="generate-label"' in box.content.decode()
    assert "Generate all 2" in box.content.decode()
