"""The prompt box reads the prompt back in the built-in model's terms as the
creator types, before anything is generated."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import save_artifacts, sign_up_with_a_project

pytestmark = [pytest.mark.browser]
CAT = "a fluffy orange cat walking across a wooden floor"


def test_typing_a_prompt_shows_the_words_outside_the_models_world(
    live_studio, page, tmp_path
):
    shot = Path(os.environ.get("STUDIO_READING_SCREENSHOT") or tmp_path / "r.png")
    try:
        sign_up_with_a_project(page, live_studio, "noor", "Cats")
        page.locator("#id_prompt").press_sequentially(CAT)

        unknown = page.locator("#reading .unknown-word")
        unknown.filter(has_text="cat").wait_for()
        assert "cat" in unknown.all_inner_texts()
        assert page.locator("#reading [data-role=reading-notice]").is_visible()
        assert page.locator("#reading .reading-term").count() >= 1
        # Read, not generated: nothing is queued and the gallery is untouched.
        assert page.locator(".live-card").count() == 0
        assert page.locator("#gallery .clip").count() == 0
        page.locator(".prompt-box").screenshot(path=shot)

        page.fill("#id_prompt", "a red ball bouncing to the right, slow push-in")
        page.locator("#reading .reading-term", has_text="push-in").wait_for()
        assert page.locator("#reading .unknown-word").count() == 0

        # A mood word is not drawn, but the music uses it: said so, not flagged.
        page.fill("#id_prompt", "a calm sunset over the sea, slow push-in")
        elsewhere = page.locator("#reading [data-role=reading-elsewhere]")
        elsewhere.wait_for()
        assert "calm sets the music's mood" in elsewhere.inner_text()
        assert page.locator("#reading .unknown-word").count() == 0
        page.locator(".prompt-box").screenshot(path=shot.with_name("mood.png"))
    except Exception:
        save_artifacts(page, "prompt-reading")
        raise
