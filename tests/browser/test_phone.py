"""The studio on a phone's screen, in headless Chromium."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    PATIENCE,
    RENDERING,
    save_artifacts,
    sign_up_with_a_project,
)

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
# Links that download, leave the page or act instead of showing a page.
NOT_PAGES = ("/media/", "/s/", "logout", "download", "export", "/admin", "/api/")


def own_pages(page) -> list[str]:
    hrefs = page.eval_on_selector_all(
        "a[href^='/']", "links => links.map(a => a.getAttribute('href'))"
    )
    return [h.split("#")[0] for h in hrefs if not any(n in h for n in NOT_PAGES)]


def test_no_page_of_a_creators_studio_scrolls_sideways_on_a_phone(live_studio, browser):
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    desk.set_default_timeout(PATIENCE)
    page = desk.new_page()
    try:
        sign_up_with_a_project(
            page, live_studio, "noor", "A rather long project name for a small screen"
        )
        page.fill(
            "#id_prompt", "a yellow star drifting left over a night sky, pan left"
        )
        page.press("#id_prompt", "Control+Enter")
        page.wait_for_selector("#gallery video", timeout=RENDERING)
        page.goto(f"{live_studio}/galleries/")
        page.fill("#id_title", "Night skies")
        page.click("button[type=submit]")
        page.wait_for_load_state()

        # Every page a creator can reach from the start page, two links deep.
        seen: list[str] = []
        frontier = ["/"]
        for _ in range(2):
            found = []
            for path in frontier:
                page.goto(live_studio + path)
                found += [p for p in own_pages(page) if p not in seen + found]
            seen += [p for p in frontier if p not in seen]
            frontier = found
        seen += frontier
        assert len(seen) >= 10, seen
    except Exception:
        save_artifacts(page, "phone-crawl")
        raise

    phone = browser.new_context(viewport=PHONE, storage_state=desk.storage_state())
    phone.set_default_timeout(PATIENCE)
    small = phone.new_page()
    wide = {}
    for path in seen:
        small.goto(live_studio + path)
        width = small.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[path] = width
    if wide:
        save_artifacts(small, "phone-wide")
    assert wide == {}

    # The player's title keeps the width of the dialog (the keyboard hints
    # that would squeeze it into a column are for desktops).
    small.goto(f"{live_studio}/clips/")
    small.click("#gallery .clip-media")
    small.wait_for_selector("#player[open] .player-video")
    share = small.evaluate(
        "document.querySelector('#player .player-title').getBoundingClientRect().width"
        " / document.querySelector('#player').clientWidth"
    )
    assert share > 0.5
    phone.close()
    desk.close()
