"""The editor's numbers: bounded before the coach does arithmetic with them."""

from __future__ import annotations

import pytest

from studio.prompts.services import prompt_update

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "duration", ["1e999999", "1e999999999", "NaN", "Infinity", "-1", "1000000"]
)
def test_the_coach_refuses_a_duration_it_cannot_multiply_with_a_sentence(
    alice_client, duration
):
    response = alice_client.post(
        "/prompts/coach/", {"prompt": "x", "duration": duration, "fps": "8"}
    )
    assert response.status_code == 400
    assert response.content.decode().startswith("Duration must be")


@pytest.mark.parametrize(
    ("field", "value"),
    [("fps", "1e999999"), ("fps", "²"), ("variations", "9" * 5000)],
)
def test_the_coach_refuses_other_numbers_it_cannot_read(alice_client, field, value):
    response = alice_client.post("/prompts/coach/", {"prompt": "x", field: value})
    assert response.status_code == 400
    assert "must be" in response.content.decode()


def test_the_coach_reads_the_editor_form_as_it_is_typed(alice_client):
    for data in (
        {"prompt": "a fox running, pan left"},
        {"prompt": "a fox", "duration": "", "fps": "", "variations": ""},
        {"prompt": "a fox", "duration": "2.5", "fps": "24", "variations": "3"},
        {"prompt": "a fox", "duration": ".5", "fps": "8"},
    ):
        response = alice_client.post("/prompts/coach/", data)
        assert response.status_code == 200, data


def test_the_coach_leaves_other_users_out(anonymous_client):
    response = anonymous_client.post("/prompts/coach/", {"duration": "1e999999"})
    assert response.status_code == 302


@pytest.mark.parametrize(
    "query",
    [
        {"compare": "99999999999999999999", "with": "1"},
        {"compare": "²", "with": "1"},
        {"compare": "1", "with": "1e999"},
    ],
)
def test_comparing_versions_by_numbers_int_cannot_read_is_a_400(
    alice_client, noir, query
):
    response = alice_client.get(f"/prompts/{noir.pk}/", query)
    assert response.status_code == 400
    assert "Version must be" in response.content.decode()


def test_comparing_two_real_versions_still_shows_the_diff(alice_client, noir):
    prompt_update(prompt=noir, text=noir.text + ", rain")
    response = alice_client.get(f"/prompts/{noir.pk}/", {"compare": 1, "with": 2})
    assert response.status_code == 200
    assert response.context["compare"] is not None


def test_bob_cannot_compare_alices_versions(bob_client, noir):
    response = bob_client.get(f"/prompts/{noir.pk}/", {"compare": 1, "with": 2})
    assert response.status_code == 404
