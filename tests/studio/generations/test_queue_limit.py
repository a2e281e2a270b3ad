"""The per-user queue limit holds when many submits arrive at once, each
request on its own thread and database connection."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from studio.accounts.services import api_token_create
from studio.generations.models import Generation

PROMPT = "a red ball bouncing to the right, slow push-in"
REQUESTS = 30


def submit_together(token: str, count: int) -> list[int]:
    """POST ``count`` clips at once, one thread each; their status codes."""
    start = threading.Barrier(count)
    codes: list[int] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def submit() -> None:
        try:
            client = Client()
            start.wait()
            response = client.post(
                "/api/generations",
                json.dumps({"prompt": PROMPT, "num_frames": 8, "steps": 2}),
                content_type="application/json",
                headers={"Authorization": f"Bearer {token}"},
            )
            with lock:
                codes.append(response.status_code)
        except BaseException as error:
            with lock:
                failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    return codes


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_from_one_user_queue_exactly_the_limit(alice, settings):
    token = api_token_create(user=alice, name="burst")[1]

    codes = submit_together(token, REQUESTS)

    limit = settings.STUDIO_MAX_QUEUED_PER_USER
    assert sorted(codes) == [201] * limit + [429] * (REQUESTS - limit)
    assert Generation.objects.filter(owner=alice, status="queued").count() == limit


@pytest.mark.django_db(transaction=True)
def test_a_burst_from_one_user_leaves_another_users_submits_alone(alice, bob, settings):
    limit = settings.STUDIO_MAX_QUEUED_PER_USER
    alice_token = api_token_create(user=alice, name="burst")[1]
    bob_token = api_token_create(user=bob, name="burst")[1]
    results: dict[str, list[int]] = {}

    def burst(name: str, token: str) -> None:
        results[name] = submit_together(token, limit + 4)

    threads = [
        threading.Thread(target=burst, args=("alice", alice_token)),
        threading.Thread(target=burst, args=("bob", bob_token)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for name in ("alice", "bob"):
        assert sorted(results[name]) == [201] * limit + [429] * 4
    assert Generation.objects.filter(status="queued").count() == 2 * limit
