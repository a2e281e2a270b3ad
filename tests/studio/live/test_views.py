"""The Live page, for alice, bob and an anonymous visitor."""

from __future__ import annotations

import re

import pytest

from studio.projects.models import Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(alice) -> Project:
    return Project.objects.create(owner=alice, name="Harbour")


def test_alice_opens_live_mode(alice_client):
    response = alice_client.get("/live/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-socket="/ws/live"' in html
    assert 'data-project=""' in html
    assert 'id="live-canvas"' in html
    assert "studio/live_mode.js" in html
    # Every page links to it.
    assert '<a href="/live/">Live</a>' in html


def test_live_from_a_project_records_into_it(alice_client, project):
    response = alice_client.get(f"/projects/{project.pk}/live/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-project="{project.pk}"' in html
    assert "Harbour" in html
    page = alice_client.get(project.get_absolute_url()).content.decode()
    assert f'href="/projects/{project.pk}/live/"' in page


def test_the_page_runs_no_inline_script_or_style(alice_client, project):
    html = alice_client.get(f"/projects/{project.pk}/live/").content.decode()
    assert " style=" not in html and "<style" not in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag


def test_bob_cannot_open_live_mode_on_alices_project(bob_client, project):
    assert bob_client.get(f"/projects/{project.pk}/live/").status_code == 404


def test_an_unknown_project_is_a_404(alice_client):
    url = "/projects/00000000-0000-0000-0000-000000000000/live/"
    assert alice_client.get(url).status_code == 404


@pytest.mark.parametrize("path", ["/live/", "/projects/{pk}/live/"])
def test_anonymous_visitors_are_sent_to_log_in(anonymous_client, project, path):
    response = anonymous_client.get(path.format(pk=project.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
