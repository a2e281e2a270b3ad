"""Personas every studio test speaks of: alice owns things, bob is someone
else, and an anonymous visitor has no account."""

from __future__ import annotations

import pytest
from django.test import Client

PASSWORD = "a-long-enough-passphrase"


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password=PASSWORD)


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password=PASSWORD)


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob) -> Client:
    client = Client()
    client.force_login(bob)
    return client


@pytest.fixture
def anonymous_client() -> Client:
    return Client()
