"""A storyboard tells the truth about shot 1 and asks before it deletes."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from studio.storyboards.models import Storyboard

pytestmark = pytest.mark.django_db


def page(storyboard) -> str:
    return storyboard.get_absolute_url()


def shot_html(body: str, order: int) -> str:
    items = re.findall(
        r'<li class="shot card.*?</li>\s*(?=<li class="shot|</ol>)', body, re.S
    )
    return items[order - 1]


def test_shot_one_offers_no_continuity_and_no_image_message(
    alice_client, storyboard, shots
):
    body = alice_client.get(page(storyboard)).content.decode()
    first = shot_html(body, 1)
    assert "continue_from_previous" not in first
    assert "Continue from previous shot" not in first
    assert "image" not in first.lower()
    second = shot_html(body, 2)
    assert "Continue from previous shot" in second
    assert 'data-testid="continue-reason"' in second
    assert body.count('data-testid="continue-reason"') == 1


def test_a_lone_shot_says_nothing_about_continuing(alice_client, storyboard, shots):
    shots[1].delete()
    shots[2].delete()
    body = alice_client.get(page(storyboard)).content.decode()
    board = re.search(r'<ol class="shots".*?</ol>', body, re.S).group(0)
    assert "Continue from previous shot" not in board
    assert "Continuing from the previous shot" not in board


def test_deleting_the_storyboard_asks_first_with_what_it_holds(
    alice_client, storyboard, shots
):
    body = alice_client.get(page(storyboard)).content.decode()
    action = re.escape(
        reverse("storyboards:delete", args=[storyboard.project_id, storyboard.pk])
    )
    form = re.search(rf'<form[^>]*action="{action}"[^>]*>', body).group(0)
    assert 'data-confirm="Delete the storyboard “The hawk” and its 3 shots?' in form
    assert "cannot be undone" in form


def test_deleting_a_shot_asks_the_same_way(alice_client, storyboard, shots):
    body = alice_client.get(page(storyboard)).content.decode()
    assert "hx-confirm" not in body
    assert body.count('value="delete" data-confirm="Delete shot') == 3


def test_the_delete_itself_still_works_once_confirmed(alice_client, storyboard, shots):
    url = reverse("storyboards:delete", args=[storyboard.project_id, storyboard.pk])
    response = alice_client.post(url)
    assert response.status_code == 302
    assert not Storyboard.objects.filter(pk=storyboard.pk).exists()
