"""Every delete of something with content asks first, the same way: the
form or its button carries data-confirm (static/studio/confirm.js asks)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from studio.galleries.services import gallery_create, gallery_item_add
from studio.projects.models import Project
from studio.prompts.models import Character, StylePreset, WordList
from studio.prompts.services import prompt_create
from studio.storyboards import services as boards
from tests.studio.galleries.conftest import make_clip

pytestmark = pytest.mark.django_db


class DeleteForms(HTMLParser):
    """Each form that deletes: its action, and whether it (or the button that
    deletes) asks first."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, bool]] = []
        self._form: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {
                "action": attrs.get("action") or "",
                "asks": "data-confirm" in attrs,
                "deletes": "/delete/" in (attrs.get("action") or ""),
                "button_asks": False,
            }
        elif tag == "button" and self._form is not None:
            if attrs.get("value") == "delete":
                self._form["deletes"] = True
            if "data-confirm" in attrs:
                self._form["button_asks"] = True

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            form = self._form
            if form["deletes"]:
                self.found.append((form["action"], form["asks"] or form["button_asks"]))
            self._form = None


def delete_forms(client, url: str) -> list[tuple[str, bool]]:
    response = client.get(url)
    assert response.status_code == 200, url
    parser = DeleteForms()
    parser.feed(response.content.decode())
    return parser.found


@pytest.fixture
def everything(alice):
    project = Project.objects.create(owner=alice, name="Harbour")
    clip = make_clip(alice)
    clip.project = project
    clip.save(update_fields=["project"])
    gallery = gallery_create(owner=alice, title="Picks")
    gallery_item_add(gallery=gallery, generation=clip)
    board = boards.storyboard_create(
        owner=alice, project=project, title="Dawn", fps=8, width=64, height=64, steps=2
    )
    for prompt in ("a hawk over a valley", "a red ball bouncing"):
        boards.shot_add(
            storyboard=board, kind="establishing", prompt=prompt, duration=1.0
        )
    return {
        "project": project,
        "clip": clip,
        "gallery": gallery,
        "storyboard": board,
        "prompt": prompt_create(owner=alice, title="Ball", text="a red ball"),
        "character": Character.objects.create(
            owner=alice, name="mia", description="a girl"
        ),
        "list": WordList.objects.create(
            owner=alice, name="hues", options=["red", "blue"]
        ),
        "style": StylePreset.objects.create(owner=alice, name="Mine", snippet="grainy"),
    }


def test_every_delete_on_every_page_asks_first(alice_client, everything):
    pages = [
        everything["storyboard"].get_absolute_url(),
        everything["prompt"].get_absolute_url(),
        everything["character"].get_absolute_url(),
        reverse("prompts:characters"),
        reverse("prompts:styles"),
        everything["gallery"].get_absolute_url(),
        everything["clip"].get_absolute_url(),
        reverse("generations:list"),
    ]
    seen = []
    for url in pages:
        for action, asks in delete_forms(alice_client, url):
            seen.append(action)
            assert asks, f"{url}: the delete form {action or '(here)'} does not ask"
    # The sweep saw the deletes it is about, not an empty page.
    assert sum("storyboards" in action for action in seen) >= 2
    assert any("/lists/" in action for action in seen)
    assert any("/styles/" in action for action in seen)
    assert any("/galleries/" in action for action in seen)


def test_a_project_is_deleted_only_from_its_confirmation_page(alice_client, everything):
    project = everything["project"]
    edit = alice_client.get(
        reverse("projects:edit", args=[project.pk])
    ).content.decode()
    assert f'href="{reverse("projects:delete", args=[project.pk])}"' in edit
    url = reverse("projects:delete", args=[project.pk])
    assert alice_client.post(url, {"confirm_name": "wrong"}).status_code == 200
    assert Project.objects.filter(pk=project.pk).exists()
