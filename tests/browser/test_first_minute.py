"""The first minute of PRODUCT.md, in headless Chromium against a live server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import ROOT, save_artifacts

pytestmark = [pytest.mark.browser]


def test_a_new_creator_goes_from_sign_up_to_a_playing_clip(live_studio, page, tmp_path):
    # STUDIO_SCREENSHOT=docs/screenshot.png refreshes the README's picture.
    shot = Path(os.environ.get("STUDIO_SCREENSHOT") or tmp_path / "studio.png")
    try:
        page.goto(f"{live_studio}/accounts/signup/")
        page.fill("#id_username", "mia")
        page.fill("#id_password1", "a-long-enough-passphrase")
        page.fill("#id_password2", "a-long-enough-passphrase")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_studio}/")

        page.fill("#id_name", "First film")
        page.click("text=Create project")
        page.wait_for_selector("#composer")

        page.fill("#id_prompt", "a red ball bouncing to the right, slow push-in")
        page.press("#id_prompt", "Control+Enter")

        page.wait_for_selector(".live-card", timeout=15_000)
        page.wait_for_function(
            "Number(document.documentElement.dataset.previews || 0) >= 3",
            timeout=120_000,
        )
        video = page.wait_for_selector("#gallery video", timeout=120_000)
        video.evaluate("v => { v.muted = true; return v.play(); }")
        page.wait_for_function(
            "document.querySelector('#gallery video').readyState >= 2",
            timeout=30_000,
        )
        assert page.locator(".clip").count() == 1
        page.mouse.move(0, 0)
        shot = shot if shot.is_absolute() else ROOT / shot
        page.screenshot(path=shot)
        assert shot.read_bytes().startswith(b"\x89PNG")

        page.click(".clip-media")
        page.wait_for_selector("#player[open] .player-video")
        assert page.locator("#player").get_by_text("Use these settings again").count()
    except Exception:
        save_artifacts(page, "first-minute")
        raise
