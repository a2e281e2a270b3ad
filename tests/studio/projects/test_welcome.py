"""The first hour: the front door, the welcome, a first project ready to use,
and prompts the built-in model draws well, one click from the prompt box."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from studio.generations.models import Generation
from studio.projects.models import Project
from studio.projects.welcome import FIRST_PROJECT_NAME, STARTER_PROMPTS

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-enough-passphrase"


def sign_up(client, username: str = "carol"):
    return client.post(
        reverse("accounts:signup"),
        {"username": username, "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )


def test_the_front_door_says_what_the_studio_is_with_sign_up_and_log_in(
    anonymous_client,
):
    response = anonymous_client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Describe a shot. Watch it appear." in body
    assert f'href="{reverse("accounts:signup")}"' in body
    assert f'href="{reverse("login")}"' in body
    assert 'data-testid="welcome"' not in body


def test_the_front_door_offers_only_log_in_when_sign_up_is_closed(
    anonymous_client, settings
):
    settings.STUDIO_SIGNUP_OPEN = False
    body = anonymous_client.get("/").content.decode()
    assert 'data-testid="landing-signup"' not in body
    assert 'data-testid="landing-login"' in body


def test_other_pages_still_send_a_visitor_to_log_in(anonymous_client):
    response = anonymous_client.get(reverse("generations:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_sign_up_makes_a_first_project_and_welcomes_the_new_creator(
    anonymous_client,
):
    response = sign_up(anonymous_client)
    body = unescape(response.content.decode())
    (project,) = Project.objects.filter(owner__username="carol")
    assert project.name == FIRST_PROJECT_NAME
    assert 'data-testid="welcome"' in body
    assert "Welcome, carol." in body
    assert f'href="{project.get_absolute_url()}"' in body
    for n, text in enumerate(STARTER_PROMPTS, 1):
        assert f'href="{project.get_absolute_url()}?try={n}"' in body
        assert text in body


def test_a_starter_link_fills_the_prompt_box(anonymous_client):
    sign_up(anonymous_client)
    project = Project.objects.get(owner__username="carol")
    body = anonymous_client.get(project.get_absolute_url(), {"try": "2"})
    box = re.search(r"<textarea[^>]*name=\"prompt\"[^>]*>(.*?)</textarea>",
                    body.content.decode(), re.S)  # fmt: skip
    assert unescape(box.group(1)).strip() == STARTER_PROMPTS[1]


@pytest.mark.parametrize("value", ["0", "4", "-1", "x", "1" * 50, ""])
def test_a_starter_number_out_of_range_leaves_the_box_as_it_was(
    alice_client, alice, value
):
    project = Project.objects.create(owner=alice, name="Harbour")
    response = alice_client.get(project.get_absolute_url(), {"try": value})
    assert response.status_code == 200
    box = re.search(r"<textarea[^>]*name=\"prompt\"[^>]*>(.*?)</textarea>",
                    response.content.decode(), re.S)  # fmt: skip
    assert box.group(1).strip() == ""


def test_an_empty_project_offers_the_starters_as_one_click_fills(alice_client, alice):
    project = Project.objects.create(owner=alice, name="Harbour")
    body = unescape(alice_client.get(project.get_absolute_url()).content.decode())
    for text in STARTER_PROMPTS:
        assert f'data-fill-prompt="{text}"' in body


def test_the_welcome_gives_way_after_the_first_clip(alice_client, alice):
    project = Project.objects.create(owner=alice, name="Harbour")
    assert 'data-testid="welcome"' in alice_client.get("/").content.decode()
    Generation.objects.create(
        owner=alice,
        project=project,
        prompt="a red ball",
        seed=1,
        settings={
            "prompt": "a red ball",
            "model": "builtin",
            "num_frames": 16,
            "fps": 8,
        },
    )
    assert 'data-testid="welcome"' not in alice_client.get("/").content.decode()
    # The empty gallery's suggestions stay only while the project has no clip.
    Generation.objects.filter(owner=alice).update(status="succeeded")
    body = alice_client.get(project.get_absolute_url()).content.decode()
    assert "data-fill-prompt" not in body


def test_another_creators_first_project_is_not_offered(alice_client, bob):
    Project.objects.create(owner=bob, name="Bob's")
    body = alice_client.get("/").content.decode()
    assert "Bob&#x27;s" not in body and "Bob's" not in body
