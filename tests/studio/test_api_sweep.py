"""Every documented JSON API field, sent every kind of wrong value.

Non-negotiable: bad input is a clear 4xx, never a 500. The sweep reads the
OpenAPI schema, so a field added later is swept too.
"""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.django_db

WRONG = [
    None,
    True,
    -1,
    0,
    10**30,
    1e308,
    "",
    "x" * 100_000,
    "nul \x00 byte",
    "\ud800",
    [],
    ["a"] * 2000,
    {},
    {"$gt": ""},
]


def call(client, method: str, path: str, body=None):
    data = None if body is None else json.dumps(body)
    return getattr(client, method)(path, data=data, content_type="application/json")


def body_properties(schema: dict, operation: dict) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {})
    body = content.get("application/json", {}).get("schema", {})
    if "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    return list(body.get("properties", {}))


@pytest.fixture
def ids(alice_client, settings) -> dict[str, str]:
    """One object of each kind, for the paths that name one."""
    settings.STUDIO_MAX_QUEUED_PER_USER = 10_000
    made = {}
    made["generation"] = call(
        alice_client, "post", "/api/generations", {"prompt": "a red ball"}
    ).json()["id"]
    made["prompt"] = call(
        alice_client, "post", "/api/prompts", {"text": "a red ball"}
    ).json()["id"]
    made["gallery"] = call(
        alice_client, "post", "/api/galleries", {"title": "Reel"}
    ).json()["id"]
    made["storyboard"] = call(
        alice_client, "post", "/api/storyboards", {"title": "Board"}
    ).json()["id"]
    made["shot"] = call(
        alice_client,
        "post",
        f"/api/storyboards/{made['storyboard']}/shots",
        {"type": "establishing", "prompt": "a red ball", "duration": 2},
    ).json()["id"]
    return made


def fill(path: str, ids: dict[str, str]) -> str:
    """``path`` with alice's objects in its placeholders: ``{id}`` is one of
    the kind the path starts with (/api/prompts/{id} → a prompt)."""
    kinds = {"generations": "generation", "prompts": "prompt", "galleries": "gallery"}
    kind = kinds.get(path.split("/")[2], "")
    named = {"id": ids.get(kind, "1"), "storyboard_id": ids["storyboard"]}
    named["shot_id"] = ids["shot"]
    return re.sub(r"\{([^}]+)\}", lambda m: str(named.get(m.group(1), "1")), path)


def test_no_wrong_value_in_any_documented_field_is_a_server_error(alice_client, ids):
    schema = alice_client.get("/api/schema").json()
    crashes = []
    swept = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "patch"):
                continue
            for field in body_properties(schema, operation):
                for wrong in WRONG:
                    url = fill(path, ids)
                    response = call(alice_client, method, url, {field: wrong})
                    swept += 1
                    if response.status_code >= 500:
                        crashes.append((method, url, field, repr(wrong)[:40]))
    assert swept > 500
    assert crashes == []


WRONG_QUERY = ["", "nul \x00 byte", "x" * 5000, "-1", "9" * 30, "%", "'", "[]", "é"]


def test_no_wrong_value_in_any_documented_query_parameter_is_a_server_error(
    alice_client, ids
):
    schema = alice_client.get("/api/schema").json()
    crashes = []
    swept = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method != "get":
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                for wrong in WRONG_QUERY:
                    url = fill(path, ids)
                    response = alice_client.get(url, {parameter["name"]: wrong})
                    swept += 1
                    if response.status_code >= 500:
                        crashes.append((url, parameter["name"], repr(wrong)[:40]))
    assert swept > 30
    assert crashes == []
