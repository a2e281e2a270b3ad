"""Content-Security-Policy and Permissions-Policy: on error pages and the API
as on every page (the page sweep checks the pages), and templates that need
no 'unsafe-inline' to work under them."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from studio.security_headers import CONTENT_SECURITY_POLICY, PERMISSIONS_POLICY

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
TEMPLATES = sorted(
    [
        *(ROOT / "templates").rglob("*.html"),
        *(ROOT / "studio").glob("**/templates/**/*.html"),
    ]
)
# Script types a browser does not run: data for code in static files.
DATA_SCRIPTS = ("application/json", "application/ld+json")


def assert_protected(response) -> None:
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY


def test_the_policy_allows_no_inline_code_and_no_framing():
    directives = dict(
        part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; ")
    )
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_the_browser_s_devices_and_sensors_are_off():
    for feature in ("camera", "microphone", "geolocation", "usb", "payment"):
        assert f"{feature}=()" in PERMISSIONS_POLICY.split(", ")


def test_a_missing_page_and_a_missing_api_path_carry_the_policies(
    settings, alice_client, anonymous_client
):
    settings.DEBUG = False
    for response in (
        anonymous_client.get("/no-such-page/"),
        alice_client.get("/no-such-page/"),
        alice_client.get("/api/no-such-thing"),
        anonymous_client.get("/api/generations"),
    ):
        assert response.status_code in (401, 403, 404)
        assert_protected(response)


def test_the_login_page_and_a_refused_form_carry_the_policies(alice):
    assert_protected(Client().get("/accounts/login/"))
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    refused = client.post("/", {"name": "Harbour"})
    assert refused.status_code == 403
    assert_protected(refused)


@pytest.mark.urls("tests.studio.error_urls")
def test_a_crash_page_and_its_json_carry_the_policies(settings, alice):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    for url in ("/broken/", "/api/broken"):
        response = client.get(url)
        assert response.status_code == 500
        assert_protected(response)


def test_django_s_own_debug_pages_keep_their_inline_styles(settings, alice_client):
    settings.DEBUG = True
    response = alice_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Content-Security-Policy" not in response


def test_in_debug_the_studio_s_own_missing_pages_keep_the_policies(
    settings, anonymous_client
):
    settings.DEBUG = True
    response = anonymous_client.get("/s/no-such-link/")
    assert response.status_code == 404
    assert_protected(response)


class InlineCode(HTMLParser):
    """Collects what in a template would need 'unsafe-inline' or eval."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name: value or "" for name, value in attrs}
        for name, value in names.items():
            if name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"<{tag} {name}=...>")
            elif name == "style":
                self.found.append(f"<{tag} style=...>")
            elif value.strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value[:30]}>")
            elif name in ("hx-vals", "hx-vars") and "js:" in value:
                self.found.append(f"<{tag} {name}={value[:30]}>")
        if tag == "script" and "src" not in names:
            self.script = "" if names.get("type") not in DATA_SCRIPTS else None
        if tag == "style":
            self.found.append("<style>")

    def handle_data(self, data: str) -> None:
        if self.script is not None:
            self.script += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self.script is not None:
            if self.script.strip():
                self.found.append(f"<script>{self.script.strip()[:40]}")
            self.script = None


def test_templates_were_found():
    assert len(TEMPLATES) > 30
    assert ROOT / "templates" / "base.html" in TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_holds_inline_code_or_styles(template):
    parser = InlineCode()
    parser.feed(template.read_text())
    parser.close()
    assert parser.found == []
