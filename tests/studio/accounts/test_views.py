from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from studio.accounts.models import ApiToken, token_digest
from studio.accounts.services import api_token_create, api_token_user

pytestmark = pytest.mark.django_db


def test_a_visitor_can_sign_up_and_lands_on_their_projects(anonymous_client):
    response = anonymous_client.post(
        reverse("accounts:signup"),
        {
            "username": "carol",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("projects:list")
    assert anonymous_client.get(reverse("projects:list")).status_code == 200


def test_sign_up_is_a_404_when_closed(anonymous_client, settings):
    settings.STUDIO_SIGNUP_OPEN = False
    assert anonymous_client.get(reverse("accounts:signup")).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(anonymous_client):
    response = anonymous_client.get(reverse("accounts:account"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_and_password_change_pages_render(anonymous_client, alice_client):
    assert anonymous_client.get(reverse("login")).status_code == 200
    assert alice_client.get(reverse("password_change")).status_code == 200


def test_alice_creates_a_token_and_only_its_hash_is_stored(alice, alice_client):
    response = alice_client.post(reverse("accounts:account"), {"name": "script"})
    assert response.status_code == 200
    plain = response.context["new_token"]
    token = ApiToken.objects.get(user=alice)
    assert token.digest == token_digest(plain)
    assert plain not in (token.digest, token.prefix)
    assert api_token_user(plain) == alice


def test_a_token_records_when_it_was_last_used_to_the_minute(alice):
    from datetime import timedelta

    token, plain = api_token_create(user=alice, name="script")
    assert token.last_used is None
    api_token_user(plain)
    token.refresh_from_db()
    first = token.last_used
    assert first is not None
    api_token_user(plain)  # within the minute: no write
    token.refresh_from_db()
    assert token.last_used == first
    ApiToken.objects.filter(pk=token.pk).update(last_used=first - timedelta(minutes=2))
    api_token_user(plain)
    token.refresh_from_db()
    assert token.last_used > first


def test_alice_revokes_her_token(alice, alice_client):
    token, plain = api_token_create(user=alice, name="old")
    response = alice_client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert api_token_user(plain) is None


def test_bob_cannot_revoke_alices_token(alice, bob_client):
    token, plain = api_token_create(user=alice, name="mine")
    response = bob_client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 404
    assert api_token_user(plain) == alice


def test_the_apitoken_command_prints_a_working_token_on_its_last_line(alice, capsys):
    call_command("apitoken", "alice")
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    assert api_token_user(last_line) == alice
