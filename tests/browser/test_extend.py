"""Extend in the browser: a creator opens a finished clip, presses Extend, and
lands on the new clip, which says what it continues and plays the joined
version once it has rendered."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    RENDERING,
    save_artifacts,
    sign_up_with_a_project,
    wait_until,
)

pytestmark = [pytest.mark.browser]

PROMPT = "a red ball drifting right over a green field"


def finished_clip(page, url: str) -> str:
    """Queue a short clip from the prompt box; its id once it has finished."""
    page.fill("#id_duration", "1")
    page.fill("#id_steps", "4")
    page.fill("#id_prompt", PROMPT)
    page.press("#id_prompt", "Control+Enter")
    listing = f"{url}/api/generations?status=succeeded"
    deadline_checks = RENDERING // 250
    for _ in range(deadline_checks):
        found = page.request.get(listing).json()["results"]
        if found:
            return found[0]["id"]
        page.wait_for_timeout(250)
    raise TimeoutError("the clip did not finish")


def test_a_creator_extends_a_clip_and_watches_the_joined_version(
    page, live_studio, tmp_path
):
    url = live_studio
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if message.type == "error" else None
        ),
    )
    sign_up_with_a_project(page, url, "maya", "Ball")
    clip = finished_clip(page, url)
    try:
        page.goto(f"{url}/generations/{clip}/")
        form = page.get_by_test_id("extend-form")
        assert form.locator("textarea[name=prompt]").input_value() == PROMPT
        form.locator("input[name=seconds]").fill("1.5")
        page.screenshot(path=tmp_path / "clip-with-extend.png", full_page=True)
        page.get_by_test_id("extend-button").click()
        page.wait_for_url(lambda address: f"/generations/{clip}/" not in address)
        continues = page.get_by_test_id("continues")
        continues.wait_for()
        assert PROMPT[:40] in continues.inner_text()
        assert continues.locator("a").get_attribute("href") == f"/generations/{clip}/"
        # The page follows the extension until it has rendered.
        page.get_by_test_id("joined-player").wait_for(timeout=RENDERING)
        wait_until(
            page,
            "document.querySelector('[data-testid=joined-player]').readyState >= 1",
        )
        duration = page.evaluate(
            "document.querySelector('[data-testid=joined-player]').duration"
        )
        assert duration == pytest.approx((8 + 12) / 8, abs=0.2)
        assert page.get_by_test_id("joined-download").is_visible()
        page.screenshot(path=tmp_path / "extension-joined.png", full_page=True)
    except Exception:
        save_artifacts(page, "extend")
        raise
    assert not errors, errors
