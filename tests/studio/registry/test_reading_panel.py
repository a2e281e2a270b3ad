"""The prompt box's reading (htmx): what the chosen model will draw."""

from __future__ import annotations

import pytest

from generation.specs import MAX_PROMPT_CHARS

pytestmark = pytest.mark.django_db
URL = "/models/reading/"
CAT = "a fluffy orange cat walking across a wooden floor"


def test_alice_sees_the_words_outside_the_world(alice_client):
    response = alice_client.post(URL, {"prompt": CAT, "model": "builtin"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="unknown-word">cat<' in html
    assert "not in this model's world" in html
    assert 'data-role="reading-notice"' in html
    # A friendly way back into the world, keeping the prompt's colour and motion.
    assert "This model only knows a small world" in html
    suggestion = "an orange ball moving right over a grass field, slow push-in"
    assert f'Try “<span data-role="suggestion">{suggestion}</span>”' in html
    assert f'data-fill-prompt="{suggestion}"' in html
    assert 'href="/models/builtin/knows/"' in html


def test_an_in_world_prompt_lists_no_unknown_words(alice_client):
    text = "a red ball bouncing to the right over a grass field, slow push-in"
    response = alice_client.post(URL, {"prompt": text, "model": "builtin"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-role="reading-terms"' in html
    assert 'data-attribute="colour"' in html and ">red<" in html
    assert ">push-in<" in html
    assert "unknown-word" not in html
    assert "reading-notice" not in html


def test_a_term_carries_its_confidence(alice_client):
    response = alice_client.post(URL, {"prompt": "a red ball", "model": "builtin"})
    assert 'title="Colour: 100% sure"' in response.content.decode()


@pytest.mark.parametrize("model", ["wan-2.1", "no-such-model", ""])
def test_a_model_without_a_reader_shows_nothing(alice_client, model):
    response = alice_client.post(URL, {"prompt": CAT, "model": model})
    assert response.status_code == 200
    assert response.content == b""


def test_an_empty_prompt_shows_nothing(alice_client):
    response = alice_client.post(URL, {"prompt": "  ", "model": "builtin"})
    assert response.status_code == 200
    assert response.content == b""


def test_an_over_long_prompt_is_a_400_fragment(alice_client):
    text = "a" * (MAX_PROMPT_CHARS + 1)
    response = alice_client.post(URL, {"prompt": text, "model": "builtin"})
    assert response.status_code == 400
    assert b"at most" in response.content


def test_an_anonymous_visitor_is_sent_to_log_in(anonymous_client):
    response = anonymous_client.post(URL, {"prompt": CAT, "model": "builtin"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_only_answers_posts(alice_client):
    assert alice_client.get(URL).status_code == 405


def test_the_project_page_asks_for_the_reading_as_the_creator_types(
    alice_client, alice
):
    from studio.projects.models import Project

    project = Project.objects.create(owner=alice, name="Film")
    html = alice_client.get(project.get_absolute_url()).content.decode()
    assert 'id="reading"' in html
    assert 'hx-post="/models/reading/"' in html
    assert "from:#id_prompt" in html and "change from:#id_model" in html


def test_words_the_studio_uses_another_way_are_named_not_flagged(alice_client):
    text = "a calm sunset over the sea, slow push-in"
    response = alice_client.post(URL, {"prompt": text, "model": "builtin"})
    html = response.content.decode()
    assert "unknown-word" not in html
    assert 'data-role="reading-elsewhere"' in html
    assert "<strong>calm</strong> sets the music&#x27;s mood (calm)" in html
