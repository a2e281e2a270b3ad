"""Folders are checked on start, by `models add/remove` and by the Models
page; the prompt box and the Clips page only read what changed."""

from __future__ import annotations

import pytest

from generation import adapters
from generation.tiny_models import save_tiny
from studio.projects.models import Project
from studio.registry.models import RegisteredModel
from studio.registry.services import model_add, registry_sync

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def wan_folder(tmp_path_factory):
    return save_tiny("wan", tmp_path_factory.mktemp("models") / "wan")


@pytest.fixture(autouse=True)
def forget_registered_models():
    yield
    RegisteredModel.objects.all().delete()
    registry_sync()


@pytest.fixture
def folder_checks(monkeypatch) -> list[str]:
    """The folders checked while a test runs (the real check still runs)."""
    checked: list[str] = []
    real = adapters.check_folder

    def counting(family, path):
        checked.append(str(path))
        return real(family, path)

    monkeypatch.setattr(adapters, "check_folder", counting)
    return checked


def test_pages_that_offer_models_check_no_folder(alice, alice_client, wan_folder,
                                                 folder_checks):  # fmt: skip
    model_add(name="tiny-wan", family="wan", path=str(wan_folder))
    folder_checks.clear()
    project = Project.objects.create(owner=alice, name="Trailer")
    for url in (project.get_absolute_url(), "/clips/"):
        response = alice_client.get(url)
        assert response.status_code == 200
        assert b"tiny-wan" in response.content
    assert folder_checks == []
    # The Models page is where a creator asks for the folders to be looked at.
    assert alice_client.get("/models/").status_code == 200
    assert folder_checks == [str(wan_folder.resolve())]


def test_a_model_added_by_another_process_shows_up_on_the_next_page(
    alice, alice_client, wan_folder
):
    project = Project.objects.create(owner=alice, name="Trailer")
    assert b"other-wan" not in alice_client.get(project.get_absolute_url()).content
    # What `manage.py models add` in another process leaves behind: a row.
    RegisteredModel.objects.create(
        name="other-wan", family="wan", task="t2v", path=str(wan_folder.resolve())
    )
    assert b"other-wan" in alice_client.get(project.get_absolute_url()).content
    assert adapters.is_registered("other-wan")
