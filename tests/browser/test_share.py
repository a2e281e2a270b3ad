"""The share journey of PRODUCT.md in headless Chromium: results → a gallery →
a share link opened logged out → revoked."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    PATIENCE,
    RENDERING,
    save_artifacts,
    sign_up_with_a_project,
    wait_until,
)

# Run again on PostgreSQL + Redis: share pages count and cache in Redis there.
pytestmark = [pytest.mark.browser, pytest.mark.backends]


@pytest.fixture
def studio_url(live_studio):
    return live_studio


def make_a_clip(page, url: str) -> None:
    sign_up_with_a_project(page, url, "noor", "Client film")
    page.fill("#id_prompt", "a yellow star drifting left over a night sky")
    page.select_option("#id_size", "64")
    page.fill("#id_steps", "4")
    page.press("#id_prompt", "Control+Enter")
    page.wait_for_selector("#gallery .clip video", timeout=RENDERING)


def test_a_shared_gallery_plays_logged_out_and_stops_when_revoked(studio_url, browser):
    owner = browser.new_context(viewport={"width": 1280, "height": 800})
    page = owner.new_page()
    visitor = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    public = visitor.new_page()
    for context in (owner, visitor):
        context.set_default_timeout(PATIENCE)
    try:
        make_a_clip(page, studio_url)

        # From the result's player: into a new gallery.
        page.click("#gallery .clip-media")
        page.wait_for_selector("#player[open] [data-testid=add-to-gallery]")
        assert "Content Credentials: intact" in page.inner_text(
            "#player [data-testid=credentials]"
        )
        page.fill("#player .clip-actions [name=title]", "For the client")
        page.click("#player [data-testid=add-to-gallery]")
        page.wait_for_selector("#player >> text=Added to")
        page.click("#player >> text=For the client")
        page.wait_for_selector("#board .board-item")
        # Scripts run before a click may post the form through htmx.
        page.wait_for_load_state("load")

        # A share link for one recipient, shown once.
        page.fill(".share-panel [name=label]", "Mia")
        page.click("[data-testid=create-share]")
        share_url = page.inner_text("[data-testid=share-url]").strip()
        assert "/s/" in share_url
        assert page.is_visible("[data-testid=share-qr] svg")

        # Copy puts the link on the clipboard and says so, out loud too.
        owner.grant_permissions(["clipboard-read", "clipboard-write"])
        page.click("[data-testid=copy-share]")
        page.wait_for_selector("[data-testid=copy-share]:text-is('Copied')")
        assert page.text_content("[data-testid=copy-status]") == (
            "Link copied to the clipboard."
        )
        assert page.evaluate("navigator.clipboard.readText()") == share_url
        save_artifacts(page, "share-panel")

        # A fresh, logged-out browser on a phone plays it.
        public.goto(share_url)
        public.wait_for_selector("video")
        public.eval_on_selector("video", "v => { v.muted = true; return v.play(); }")
        wait_until(public, "document.querySelector('video').readyState >= 2")
        assert public.is_visible("[data-testid=ai-label]")
        assert public.text_content("[data-testid=ai-label]") == "AI-generated"
        assert "signer as untrusted" in public.inner_text("[data-testid=credentials]")
        assert "For the client" in public.title()
        assert "noor" not in public.content()
        width = public.evaluate("document.documentElement.scrollWidth")
        assert width <= 390

        # The owner revokes it; the visitor's reload finds nothing.
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("[data-testid=revoke-share]")
        page.wait_for_selector(".share-link.inactive")
        response = public.reload()
        assert response.status == 404
        public.wait_for_selector("[data-testid=share-missing]")
    except Exception:
        save_artifacts(page, "share-owner")
        save_artifacts(public, "share-visitor")
        raise
    finally:
        owner.close()
        visitor.close()
