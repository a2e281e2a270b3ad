"""Provenance anyone can check: a clip downloaded, re-encoded at a low
bitrate (its Content Credentials gone) and uploaded logged out to /verify/
still reads as made with this studio."""

from __future__ import annotations

import pytest

from generation import attacks
from tests.browser.conftest import (
    PATIENCE,
    RENDERING,
    save_artifacts,
    sign_up_with_a_project,
)

pytestmark = [pytest.mark.browser]


def test_a_reencoded_download_is_recognised_logged_out(live_studio, browser, tmp_path):
    owner = browser.new_context(viewport={"width": 1280, "height": 800})
    visitor = browser.new_context(viewport={"width": 1280, "height": 900})
    page, public = owner.new_page(), visitor.new_page()
    for context in (owner, visitor):
        context.set_default_timeout(PATIENCE)
    try:
        sign_up_with_a_project(page, live_studio, "ines", "Provenance")
        page.fill("#id_prompt", "a red ball bouncing to the right over a field")
        page.select_option("#id_size", "256")
        page.press("#id_prompt", "Control+Enter")
        page.wait_for_selector("#gallery .clip video", timeout=RENDERING)

        # The player names both layers, and downloads the MP4.
        page.click("#gallery .clip-media")
        page.wait_for_selector("#player[open] [data-testid=watermark-line]")
        assert "Invisible watermark" in page.inner_text(
            "#player [data-testid=watermark-line]"
        )
        with page.expect_download() as waiting:
            page.click("#player .clip-actions button:has-text('Download')")
        download = tmp_path / "clip.mp4"
        waiting.value.save_as(download)

        # Re-encoded at a low bitrate: no tags, no Content Credentials.
        copy = attacks.reencode(download, tmp_path / "reupload.mp4")

        public.goto(f"{live_studio}/verify/")
        public.set_input_files("#verify-file", str(copy))
        public.click("[data-testid=verify-form] button[type=submit]")
        public.wait_for_selector("[data-testid=verify-result]")
        summary = public.inner_text("[data-testid=verify-summary]")
        assert "Made with this studio, AI-generated." in summary
        assert "Absent" in public.inner_text("[data-testid=verify-credentials]")
        assert "Watermark found" in public.inner_text("[data-testid=verify-watermark]")
        public.screenshot(path=tmp_path / "verify.png", full_page=True)
    except Exception:
        save_artifacts(page, "verify-owner")
        save_artifacts(public, "verify-visitor")
        raise
    finally:
        owner.close()
        visitor.close()
