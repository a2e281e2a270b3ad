"""GET /api/models and GET /api/models/<name> for every persona."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from generation import adapters
from studio.accounts.services import api_token_create
from studio.registry.models import RegisteredModel
from studio.registry.services import model_add, registry_sync

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def forget_registered_models():
    yield
    RegisteredModel.objects.all().delete()
    registry_sync()


@pytest.fixture
def gone(tmp_path) -> RegisteredModel:
    """A registered LTX model whose folder is missing."""
    return model_add(name="gone", family="ltx", path=str(tmp_path / "missing"))


def models(client, **headers) -> dict[str, dict]:
    response = client.get("/api/models", headers=headers)
    assert response.status_code == 200
    return {model["name"]: model for model in response.json()["models"]}


def test_every_model_comes_with_the_rules_the_engine_holds(alice_client, gone):
    listed = models(alice_client)
    assert list(listed) == ["builtin", "gone"]
    builtin = listed["builtin"]
    assert builtin["capabilities"] == adapters.capabilities("builtin").to_dict()
    assert list(builtin) == ["name", "family", "task", "status", "reason",
                             "defaults", "description", "capabilities", "kind",
                             "audio"]  # fmt: skip
    # Not registered with the engine: the rules of its family and task.
    ltx = adapters.family_module("ltx").capabilities("t2v").to_dict()
    assert listed["gone"]["capabilities"] == ltx
    assert listed["gone"]["status"] == "unavailable"
    assert "does not exist" in listed["gone"]["reason"]
    assert "path" not in listed["gone"] and "options" not in listed["gone"]


def test_one_model_is_the_same_as_in_the_list(alice_client, gone):
    listed = models(alice_client)
    for name in ("builtin", "gone"):
        response = alice_client.get(f"/api/models/{name}")
        assert response.status_code == 200
        assert response.json() == listed[name]


@pytest.mark.parametrize("name", ["no-such-model", "x", "wan-2.1"])
def test_an_unknown_model_is_a_json_404_naming_it(alice_client, name):
    response = alice_client.get(f"/api/models/{name}")
    assert response.status_code == 404
    assert response.json() == {"error": f"There is no model called '{name}'."}


def test_bob_sees_the_same_models_and_alice_sees_them_with_her_token(
    alice, alice_client, bob_client, anonymous_client, gone
):
    _, token = api_token_create(user=alice, name="cli")
    by_token = models(anonymous_client, Authorization=f"Bearer {token}")
    assert by_token == models(alice_client) == models(bob_client)


def test_an_anonymous_visitor_gets_401(anonymous_client):
    for url in ("/api/models", "/api/models/builtin"):
        response = anonymous_client.get(url)
        assert response.status_code == 401
        assert response.json() == {"error": "Log in or send an API token."}


def table_reads(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return sum("registry_registeredmodel" in q["sql"] for q in queries.captured_queries)


def test_listing_models_reads_the_registry_once_without_checking_folders(
    alice_client, gone
):
    # The models page checks every folder first; the API reads the table.
    assert table_reads(alice_client, "/models/") >= 2
    assert table_reads(alice_client, "/api/models") == 1
