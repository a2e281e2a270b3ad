"""With DEBUG off, people get the studio's error pages and API clients JSON."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from studio.projects.models import Project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False


def test_a_missing_page_is_the_studios_404_with_a_way_home(alice_client):
    response = alice_client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "This page does not exist" in html
    assert 'data-testid="error-page"' in html
    assert "Back to your projects" in html
    assert f'href="{reverse("projects:list")}"' in html


def test_another_creators_project_looks_like_any_missing_page(bob, alice_client):
    project = Project.objects.create(owner=bob, name="Bob's secret film")
    response = alice_client.get(project.get_absolute_url())
    assert response.status_code == 404
    html = response.content.decode()
    assert "This page does not exist" in html
    assert "Bob's secret film" not in html


def test_a_missing_api_path_answers_json(alice_client):
    response = alice_client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Not found."}


def test_a_form_posted_without_its_csrf_token_explains_itself(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("projects:list"), {"name": "Harbour teaser"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    assert not Project.objects.filter(name="Harbour teaser").exists()


@pytest.mark.urls("tests.studio.error_urls")
def test_a_crash_shows_a_calm_page_and_api_clients_get_json(alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice)

    page = client.get("/broken/")
    assert page.status_code == 500
    html = page.content.decode()
    assert "Something went wrong on the server" in html
    assert "a bug in a view" not in html and "Traceback" not in html

    api = client.get("/api/broken")
    assert api.status_code == 500
    assert api.json() == {
        "error": "Something went wrong on the server. Try again in a moment."
    }


def test_a_bad_request_page_and_its_api_twin(rf):
    from django.core.exceptions import SuspiciousOperation

    from studio import errors

    page = errors.bad_request(rf.get("/projects/"), SuspiciousOperation("odd"))
    assert page.status_code == 400
    assert "could not read that request" in page.content.decode()
    api = errors.bad_request(rf.get("/api/generations"), SuspiciousOperation("odd"))
    assert api.status_code == 400
    assert api["Content-Type"] == "application/json"
