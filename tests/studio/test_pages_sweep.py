"""Every page route of the studio, sent junk in every field a form has.

The pages' side of "bad input is a clear 4xx, never a 500": the routes come
from the URL configuration, so a page added later is swept too. And since
everything is private to its owner, another creator reaching any of alice's
objects by its address gets nothing but a 404 (or 403/405).
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from studio.generations.models import Generation

pytestmark = pytest.mark.django_db

# Logging out or deleting the account would end the sweep's own session;
# share pages and media answer to tokens, not to the session.
SKIPPED = ("admin/", "media/", "api/", "s/", "storyboards/shared/", "accounts/")
JUNK = ["", "\x00", "x" * 20_000, "-1", "9" * 40, "[]", "{}"]
FIELDS = [
    "name", "title", "description", "prompt", "negative_prompt", "text", "tags",
    "notes", "rating", "label", "expires_in_hours", "order", "direction", "page",
    "q", "generation", "clip", "style", "fps", "width", "height", "steps",
    "guidance", "seed", "duration", "caption", "type", "target", "starred",
    "archived", "variations", "size", "aspect", "model", "strength", "confirm",
    "action", "status", "project", "format", "from",
]  # fmt: skip


def routes() -> list[str]:
    def walk(patterns, prefix=""):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, route)
            else:
                yield route

    return [r for r in walk(get_resolver().url_patterns) if not r.startswith(SKIPPED)]


@pytest.fixture
def objects(alice_client) -> dict[str, str]:
    """One of alice's objects of each kind the routes name."""

    def api(url: str, body: dict) -> dict:
        response = alice_client.post(
            url, json.dumps(body), content_type="application/json"
        )
        assert response.status_code in (200, 201), response.content
        return response.json()

    project = alice_client.post("/", {"name": "Harbour"})
    project_id = project["Location"].strip("/").split("/")[-1]
    generation = api(
        "/api/generations", {"prompt": "a red ball", "project": project_id}
    )
    Generation.objects.filter(pk=generation["id"]).update(
        status="succeeded", video="clips/x/clip.mp4", poster="clips/x/clip.jpg"
    )
    gallery = api("/api/galleries", {"title": "Picks"})
    item = api(
        f"/api/galleries/{gallery['id']}/items", {"generation": generation["id"]}
    )
    storyboard = api("/api/storyboards", {"title": "Board", "project": project_id})
    shot = api(
        f"/api/storyboards/{storyboard['id']}/shots",
        {"type": "establishing", "prompt": "a ball", "duration": 2},
    )
    return {
        "project_id": project_id,
        "generation_id": generation["id"],
        "gallery_id": gallery["id"],
        "item_id": str(item.get("id", 1)),
        "prompt_id": str(api("/api/prompts", {"text": "a red ball"})["id"]),
        "storyboard_id": storyboard["id"],
        "shot_id": str(shot["id"]),
    }


def address(route: str, objects: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        return objects.get(match.group(1).split(":")[-1], "1")

    return "/" + re.sub(r"<([^>]+)>", value, route)


def test_no_junk_in_any_field_of_any_page_is_a_server_error(
    alice, alice_client, objects
):
    crashes = []
    swept = 0
    for route in routes():
        url = address(route, objects)
        for junk in JUNK:
            alice_client.force_login(alice)  # a route may have ended the session
            for response in (
                alice_client.get(url, {"q": junk, "page": junk, "sort": junk}),
                alice_client.post(url, {field: junk for field in FIELDS}),
            ):
                swept += 1
                if response.status_code >= 500:
                    crashes.append((url, repr(junk)[:12], response.status_code))
    assert swept > 500
    assert crashes == []


def test_bob_reaches_none_of_alices_objects_by_their_address(bob_client, objects):
    reached = []
    for route in routes():
        if "<" not in route:
            continue
        url = address(route, objects)
        for method in ("get", "post"):
            response = getattr(bob_client, method)(url)
            if response.status_code not in (403, 404, 405):
                reached.append((method, url, response.status_code))
    assert reached == []


def test_a_nul_character_in_a_form_is_refused_with_the_reason(alice, alice_client):
    from studio.prompts.models import Prompt

    # Quick save reads the field itself; PostgreSQL would refuse the row.
    response = alice_client.post("/prompts/save/", {"prompt": "a red\x00 ball"})
    assert response.status_code == 400
    assert "NUL characters" in response.content.decode()
    assert not Prompt.objects.filter(owner=alice).exists()


def test_every_page_carries_a_policy_that_runs_no_inline_script(
    alice, alice_client, objects
):
    from studio.security_headers import CONTENT_SECURITY_POLICY, PERMISSIONS_POLICY

    gallery = objects["gallery_id"]
    share = alice_client.post(
        f"/api/galleries/{gallery}/shares", "{}", content_type="application/json"
    ).json()
    pages = [address(route, objects) for route in routes()]
    pages += [share["url"], "/s/no-such-link/"]
    # A page that fails still answers with the policies.
    owner = Client(raise_request_exception=False)
    anonymous = Client(raise_request_exception=False)
    assert anonymous.get(share["url"]).status_code == 200
    unprotected = []
    for url in pages:
        for client in (owner, anonymous):
            owner.force_login(alice)  # a route may have ended the session
            response = client.get(url)
            if (
                response.get("Content-Security-Policy") != CONTENT_SECURITY_POLICY
                or response.get("Permissions-Policy") != PERMISSIONS_POLICY
            ):
                unprotected.append((url, response.status_code))
    assert unprotected == []
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
