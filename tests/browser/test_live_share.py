"""Sharing a live stream in headless Chromium: the creator streams and makes a
link; someone logged out opens it on a phone, watches frames arrive, and
votes on what happens next; the winner steers the creator's stream."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import (
    PATIENCE,
    RENDERING,
    save_artifacts,
    sign_up_with_a_project,
    wait_until,
)

pytestmark = [pytest.mark.browser]

RED = "a red ball staying still on a sunny day"
BLUE = "a blue ball staying still on a sunny day"
GREEN = "a green ball staying still on a sunny day"
SPREAD = """(selector) => {
  const c = document.querySelector(selector);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let lo = 255, hi = 0;
  for (let i = 0; i < d.length; i += 4) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); }
  return hi - lo;
}"""


def errors_of(page) -> list[str]:
    """Console errors and uncaught exceptions of ``page``, as they come."""
    found: list[str] = []
    page.on(
        "console",
        lambda m: found.append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


def screenshot(page, name: str) -> None:
    folder = os.environ.get("STUDIO_LIVE_SHARE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=Path(folder) / f"{name}.png", full_page=True)


def test_a_phone_watches_a_shared_stream_and_its_vote_steers_it(
    live_studio, browser, page
):
    owner_errors = errors_of(page)
    phone = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    phone.set_default_timeout(PATIENCE)
    viewer = phone.new_page()
    viewer_errors = errors_of(viewer)
    try:
        sign_up_with_a_project(page, live_studio, "mara", "Live show")
        page.goto(f"{live_studio}/live/")
        page.wait_for_selector("#live[data-bound]")
        page.fill("#live-prompt", RED)
        page.click("[data-testid=live-start]")
        wait_until(
            page,
            "Number(document.querySelector('#live').dataset.frames) >= 3",
            RENDERING,
        )

        # Share live: the link is shown once, with a Copy button.
        page.click("#share-panel-live [data-testid=create-share]")
        url = page.wait_for_selector("[data-testid=share-url]").text_content()
        assert "/s/" in url
        assert page.get_by_text("is not shown again").count()
        page.click("[data-testid=copy-share]")
        wait_until(
            page,
            "['Copied', 'Press Ctrl+C'].includes("
            "document.querySelector('[data-testid=copy-share]').textContent)",
        )

        # Someone logged out opens it on a phone.
        viewer.goto(url.strip())
        viewer.wait_for_selector("#watch[data-bound]")
        wait_until(
            viewer, "Number(document.querySelector('#watch').dataset.frames) >= 3"
        )
        assert viewer.get_attribute("#watch", "data-state") == "live"
        assert viewer.evaluate(SPREAD, "#watch-canvas") > 20
        label = viewer.locator("[data-testid=ai-label]")
        assert label.is_visible() and label.text_content() == "AI-generated"
        assert RED not in viewer.content()
        box = viewer.locator("#watch-canvas").bounding_box()
        assert box["width"] >= 300  # the stream fills the phone's width
        wait_until(page, "document.querySelector('#live').dataset.viewers === '1'")
        assert page.text_content("[data-testid=live-viewers]") == "1"
        screenshot(viewer, "viewer-phone")

        # The creator offers a vote; the viewer picks Green.
        choices = page.locator("[data-role=vote-form] fieldset")
        for row, (name, prompt) in enumerate([("Blue", BLUE), ("Green", GREEN)]):
            choices.nth(row).locator("[name=label]").fill(name)
            choices.nth(row).locator("[name=prompt]").fill(prompt)
        page.fill("[data-role=vote-form] [name=seconds]", "60")
        page.click("[data-action=poll]")
        wait_until(page, "document.querySelector('#live').dataset.poll")
        viewer.wait_for_selector(".watch-choice >> text=Green")
        screenshot(viewer, "viewer-phone-vote")
        viewer.tap(".watch-choice >> text=Green")
        wait_until(viewer, "document.querySelector('#watch').dataset.voted === '1'")
        wait_until(page, "document.querySelector('#live').dataset.votes === '1'")
        screenshot(page, "owner-vote")

        index = page.get_attribute("#live", "data-prompt-index")
        page.click("[data-action=poll-close]")
        wait_until(
            page,
            f"document.querySelector('#live-prompt').value === {GREEN!r}",
        )
        wait_until(
            page,
            f"document.querySelector('#live').dataset.promptIndex !== {index!r}",
            RENDERING,
        )
        wait_until(viewer, "document.querySelector('#watch').dataset.winner === '1'")
        assert "Green" in viewer.text_content("[data-role=vote-note]")
        screenshot(page, "owner-after-vote")
        viewer.set_viewport_size({"width": 1280, "height": 900})
        screenshot(viewer, "viewer-desktop")

        page.click("[data-action=stop]")
        wait_until(viewer, "document.querySelector('#watch').dataset.state === 'ended'")
        assert viewer.get_by_text("The stream has ended").is_visible()
        screenshot(viewer, "viewer-phone-ended")
        assert not owner_errors, owner_errors
        assert not viewer_errors, viewer_errors
    except Exception:
        save_artifacts(page, "live-share-owner")
        save_artifacts(viewer, "live-share-viewer")
        raise
    finally:
        phone.close()
