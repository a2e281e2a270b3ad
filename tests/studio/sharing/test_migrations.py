"""Storyboard links handed out before storyboards shared through share links
keep opening after the migration that folds them in."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from studio.projects.models import Project
from studio.sharing.models import ShareLink, share_digest
from studio.sharing.services import share_link_create
from studio.storyboards.models import Shot
from studio.storyboards.services import storyboard_create
from tests.studio.storyboards.conftest import finished_take

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("sharing", "0002_sharelink_storyboard"), ("storyboards", "0001_initial")]
OPEN = "o" * 32
REVOKED = "r" * 32


def migrate(targets):
    """The apps as of ``targets``, after migrating the test database there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def latest():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    yield leaves
    # Whatever the test did, the next one finds the current schema.
    migrate(leaves)


def test_the_migration_carries_old_storyboard_links_over(alice, latest):
    old = migrate(BEFORE)
    Project = old.get_model("projects", "Project")
    Storyboard = old.get_model("storyboards", "Storyboard")
    StoryboardLink = old.get_model("storyboards", "StoryboardLink")
    project = Project.objects.create(owner_id=alice.pk, name="Valley")
    board = Storyboard.objects.create(owner_id=alice.pk, project=project, title="Hawk")
    made = timezone.now() - datetime.timedelta(days=30)
    StoryboardLink.objects.create(
        storyboard=board, label="Mia", digest=share_digest(OPEN), created=made
    )
    StoryboardLink.objects.create(
        storyboard=board,
        digest=share_digest(REVOKED),
        created=made,
        revoked=made + datetime.timedelta(days=1),
    )

    migrate(latest)

    carried = {link.label: link for link in ShareLink.objects.all()}
    assert set(carried) == {"Mia", ""}
    mia = carried["Mia"]
    assert mia.digest == share_digest(OPEN) and mia.created == made
    assert mia.storyboard_id == board.pk and mia.owner_id == alice.pk
    assert mia.revoked is None and mia.expires is None and mia.views == 0
    assert carried[""].revoked == made + datetime.timedelta(days=1)
    assert "storyboards_storyboardlink" not in connection.introspection.table_names()

    # The old address and the new one open the same cut; a revoked one neither.
    shot = Shot.objects.create(storyboard_id=board.pk, order=1, prompt="a hawk")
    finished_take(shot)
    page = Client().get(f"/storyboards/shared/{OPEN}/", follow=True)
    assert page.status_code == 200 and b"Hawk" in page.content
    assert page.redirect_chain == [(f"/s/{OPEN}/", 301)]
    assert Client().get(f"/s/{REVOKED}/").status_code == 404
    assert (
        Client().get(f"/storyboards/shared/{REVOKED}/", follow=True).status_code == 404
    )
    mia.refresh_from_db()
    assert mia.views == 1


def test_going_back_keeps_storyboard_links_as_the_old_kind(alice, latest):
    project = Project.objects.create(owner=alice, name="Valley")
    board = storyboard_create(owner=alice, project=project, title="Hawk")
    lasting, _ = share_link_create(owner=alice, storyboard=board, label="Mia")
    share_link_create(owner=alice, storyboard=board, label="Day", expires_in_hours=24)

    old = migrate(BEFORE)

    links = {
        link.label: link
        for link in old.get_model("storyboards", "StoryboardLink").objects.all()
    }
    assert links["Mia"].digest == lasting.digest and links["Mia"].revoked is None
    # The old kind has no expiry: a link that had one no longer opens.
    assert links["Day"].revoked is not None
    assert not old.get_model("sharing", "ShareLink").objects.exists()
