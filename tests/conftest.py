"""Personas every studio test speaks of: alice owns things, bob is someone
else, and an anonymous visitor has no account."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

PASSWORD = "a-long-enough-passphrase"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix, tmp_path_factory
) -> None:
    """On SQLite, test in a database file, as the studio runs: Django's
    in-memory test database shares one cache between connections, where a
    write while the worker thread writes fails at once with "table is
    locked" instead of waiting its turn."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        folder = tmp_path_factory.mktemp("database")
        database.setdefault("TEST", {})["NAME"] = str(folder / "test.sqlite3")


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


@pytest.fixture(scope="session")
def audio_folder(tmp_path_factory):
    """A tiny random-weight Stable Audio folder, made once."""
    from generation.tiny_audio import save_tiny_stable_audio

    return save_tiny_stable_audio(tmp_path_factory.mktemp("models") / "stable-audio")


@pytest.fixture
def forget_registered_models():
    """After the test: no registered model, none loaded, of either kind."""
    yield
    from generation import adapters
    from generation.adapters import stable_audio
    from studio.registry.models import RegisteredModel
    from studio.registry.services import registry_sync

    RegisteredModel.objects.all().delete()
    registry_sync()
    adapters.unload()
    stable_audio.unload()


def models_command(*args: str) -> str:
    """What ``manage.py models ARGS`` prints, errors included."""
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("models", *args, stdout=out, stderr=out)
    return out.getvalue()


# Fixtures through which a test reaches the database without the marker.
DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


def touches_a_backend(item: pytest.Item) -> bool:
    """Whether the database or the channel layer and cache that DATABASE_URL and
    REDIS_URL name take part in the test: through Django's test database, or
    as its ``backends`` mark says (a server it starts, a layer it joins)."""
    if item.get_closest_marker("django_db") or item.get_closest_marker("backends"):
        return True
    return bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """With STUDIO_TEST_SCOPE=backends (the suite's run on PostgreSQL and
    Redis), leave out the tests that run the same on every backend: the model
    code, and processes that make their own SQLite studio. They ran on the
    embedded defaults already."""
    import os

    if os.environ.get("STUDIO_TEST_SCOPE", "all") != "backends":
        return
    kept, left = [], []
    for item in items:
        (kept if touches_a_backend(item) else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


def _end_every_task(loop) -> None:
    """What ``asyncio.runners`` does as a test's event loop closes: cancel
    every task left and wait for them; then cancel again what one cancel did
    not end. A websocket consumer's receive on the Redis layer has been seen
    to outlive its cancel, and the loop then waited on it for good, holding
    the whole run. Each straggler is named on stderr."""
    import asyncio
    import sys

    for round_ in range(30):
        left = {task for task in asyncio.all_tasks(loop) if not task.done()}
        if not left:
            return
        if round_:
            for task in left:
                sys.__stderr__.write(f"\nA task outlived its cancel: {task!r}\n")
        for task in left:
            task.cancel()
        loop.run_until_complete(asyncio.wait(left, timeout=1))


def pytest_configure(config: pytest.Config) -> None:
    import asyncio.runners

    asyncio.runners._cancel_all_tasks = _end_every_task
