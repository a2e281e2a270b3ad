"""The API's docs page in Chromium: Swagger UI from the studio's own static
files lists every operation, under the page's policy, and nothing it loads
comes from anywhere but the studio."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import save_artifacts, wait_until

pytestmark = [pytest.mark.browser]


def test_the_docs_page_lists_the_operations_without_leaving_the_machine(
    live_studio, page
):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(f"{live_studio}/api/docs")
        wait_until(page, "document.querySelectorAll('.opblock').length > 20")
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        shown = {path.replace("\u200b", "") for path in paths}
        assert {
            "/api/models",
            "/api/models/{name}",
            "/api/models/{name}/reading",
            "/api/generations",
            "/api/storyboards/{storyboard_id}/render",
        } <= shown
        # Open one: its request body and answers render from the document.
        page.locator(".opblock-summary", has_text="/api/models/{name}/reading").click()
        wait_until(page, "document.querySelectorAll('.responses-table').length > 0")
        body = page.locator(".opblock.is-open").inner_text()
        assert "ReadingIn" in body or "text" in body
        assert "413" in body
    except Exception:
        save_artifacts(page, "api_docs")
        raise

    origin = urlsplit(live_studio)
    assert f"{live_studio}/api/schema" in requested
    assert any(url.endswith("/static/ninja/swagger-ui-bundle.js") for url in requested)
    elsewhere = [
        url
        for url in requested
        if (urlsplit(url).scheme, urlsplit(url).netloc)
        != (origin.scheme, origin.netloc)
    ]
    assert elsewhere == []
