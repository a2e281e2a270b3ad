"""The prompt panel a creator meets first: folded settings summed up in one
line, a look named only once one is chosen, the preview and the gallery near
the top on a phone, and a project page the browser never shows stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.conftest import (
    PATIENCE,
    RENDERING,
    ROOT,
    save_artifacts,
    sign_up_with_a_project,
    wait_until,
)

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
# Where the live preview (the queue) and the gallery start on a phone, at
# most: about one and a half screens of 844 px. With the settings open they
# started near 1 470 px.
PHONE_REACH = 1300


def shots() -> Path:
    folder = ROOT / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


def top(page, selector: str) -> float:
    return page.evaluate(
        f"document.querySelector('{selector}').getBoundingClientRect().top + scrollY"
    )


def test_a_fresh_prompt_panel_on_a_phone(live_studio, browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(PATIENCE)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if message.type == "error" else None
        ),
    )
    try:
        sign_up_with_a_project(
            page, live_studio, "priya", "Phone first", open_settings=False
        )
        # No look is chosen: the prompt box names none.
        assert not page.locator("[data-role=look-chosen]").is_visible()

        # The settings are folded, summed up in one line.
        settings = page.locator("#composer details.settings")
        assert settings.get_attribute("open") is None
        summary = page.locator("#composer [data-role=summary]")
        assert re.fullmatch(
            r"Built-in · 2 s at 8 fps · \d+×\d+ · 20 steps · seed random",
            summary.inner_text(),
        ), summary.inner_text()

        # The live preview and the gallery are near the top of the page.
        queue, gallery = top(page, "#queue"), top(page, "#gallery")
        print(f"phone: queue starts at {queue:.0f} px, gallery at {gallery:.0f} px")
        assert queue < PHONE_REACH and gallery < PHONE_REACH
        page.screenshot(path=shots() / "prompt-panel-phone.png", full_page=True)

        # Opened, the settings change the line as they change.
        page.click("#composer details.settings > summary")
        page.fill("#id_steps", "7")
        page.fill("#id_seed", "42")
        wait_until(
            page,
            "document.querySelector('#composer [data-role=summary]').textContent"
            ".endsWith('7 steps · seed 42')",
        )
        page.screenshot(path=shots() / "prompt-panel-phone-open.png", full_page=True)
        assert not errors, errors
    except Exception:
        save_artifacts(page, "prompt-panel-phone")
        raise
    finally:
        context.close()


def test_a_look_is_named_only_while_chosen(live_studio, page):
    try:
        sign_up_with_a_project(page, live_studio, "ines", "Looks", open_settings=False)
        look = page.locator("[data-role=look-chosen]")
        assert not look.is_visible()
        page.screenshot(path=shots() / "prompt-panel-desktop.png", full_page=True)
        page.click(".chips.styles >> text=Film noir")
        assert look.is_visible()
        assert re.search(r"Look:\s*Film noir", look.inner_text()), look.inner_text()
        page.click("[data-clear-look]")
        assert not look.is_visible()
        assert page.input_value("[data-role=style-id]") == ""
    except Exception:
        save_artifacts(page, "prompt-panel-look")
        raise


def test_back_to_the_project_page_asks_the_studio_again(live_studio, page):
    try:
        sign_up_with_a_project(page, live_studio, "theo", "Back")
        project_url = page.url
        page.fill("#id_prompt", "a red ball bouncing to the right")
        page.fill("#id_duration", "1")
        page.fill("#id_steps", "2")
        page.press("#id_prompt", "Control+Enter")
        page.wait_for_selector("#gallery video", timeout=RENDERING)
        # A mark on this copy of the page: a copy from the page cache keeps it.
        page.evaluate("window.keptCopy = true")
        page.goto(f"{live_studio}/")
        page.go_back()
        page.wait_for_url(project_url)
        page.wait_for_selector("#composer[data-bound]")
        assert page.evaluate("window.keptCopy === undefined")
        assert page.locator("#gallery video").count() == 1
        response = page.request.get(project_url)
        assert "no-store" in response.headers["cache-control"]
    except Exception:
        save_artifacts(page, "prompt-panel-back")
        raise
