from __future__ import annotations

import json

import pytest
from django.test import Client

from studio.accounts.services import api_token_create
from studio.prompts.models import Character, Prompt
from studio.prompts.services import prompt_create


def send(client: Client, method: str, url: str, data=None, **headers):
    body = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.generic(
        method.upper(), url, body, content_type="application/json", headers=headers
    )


@pytest.fixture
def token(alice) -> str:
    return api_token_create(user=alice, name="test")[1]


@pytest.fixture
def noir(alice) -> Prompt:
    return prompt_create(
        owner=alice,
        title="Rainy alley",
        text="a detective walking down a rainy alley at night, slow push-in",
        tags=["noir", "city"],
        notes="Try with film noir style.",
        rating=4,
    )


@pytest.fixture
def meadow(alice) -> Prompt:
    return prompt_create(
        owner=alice,
        title="Meadow",
        text="a red ball bouncing across a sunny meadow, pan right",
        tags=["nature"],
    )


@pytest.fixture
def mia(alice) -> Character:
    return Character.objects.create(
        owner=alice, name="mia", description="a young woman in a red coat"
    )
