"""Under /api/ errors are JSON with DEBUG on too, where Django would answer
its HTML debug page; the API's own docs page still renders."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def debug(settings):
    settings.DEBUG = True


@pytest.mark.parametrize(
    "path", ["/api/", "/api/no-such-thing", "/api/generations/not-an-id/x"]
)
def test_unknown_api_paths_answer_json_404(alice_client, anonymous_client, path):
    for client in (alice_client, anonymous_client):
        response = client.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert "error" in response.json()


def test_an_unknown_method_on_an_unknown_api_path_is_json_too(alice_client):
    response = alice_client.delete("/api/nothing/here")
    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}


def test_the_api_docs_page_renders(alice_client):
    response = alice_client.get("/api/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
