"""Personas every studio test speaks of: alice owns things, bob is someone
else, and an anonymous visitor has no account."""

from __future__ import annotations

import uuid

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


@pytest.fixture(autouse=True)
def own_cache_keys(settings):
    """Each test counts and caches under its own key prefix, so rate limits
    and cached verdicts never leak between tests, or between runs when the
    cache is a shared Redis."""
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}"}
        for name, config in settings.CACHES.items()
    }
