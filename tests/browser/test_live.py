"""Live mode in headless Chromium against a live server: type, watch frames
arrive, steer, record, and find the clip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import (
    RENDERING,
    save_artifacts,
    sign_up_with_a_project,
    wait_until,
)

pytestmark = [pytest.mark.browser]

RED = "a red ball staying still on a sunny day"
BLUE = "a blue ball staying still on a sunny day"


def frames(page) -> int:
    return int(page.get_attribute("#live", "data-frames"))


def test_a_creator_streams_steers_and_records_a_clip(live_studio, page):
    try:
        sign_up_with_a_project(page, live_studio, "lena", "Live film")
        page.click(".studio-head a:text-is('Live')")
        page.wait_for_selector("#live[data-bound]")
        assert page.get_attribute("#live", "data-project")

        page.fill("#live-prompt", RED)
        page.click("[data-testid=live-start]")
        wait_until(
            page,
            "Number(document.querySelector('#live').dataset.frames) >= 3",
            RENDERING,
        )
        assert page.get_attribute("#live", "data-state") == "live"
        assert page.get_attribute("#live", "data-prompt-index") == "0"
        # Something was drawn: the canvas is not all one colour.
        spread = page.evaluate(
            """() => {
              const c = document.querySelector('#live-canvas');
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              let lo = 255, hi = 0;
              for (let i = 0; i < d.length; i += 4) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); }
              return hi - lo;
            }"""
        )
        assert spread > 20
        wait_until(
            page, "document.querySelector('[data-role=fps]').textContent !== '–'"
        )

        page.click("[data-action=record]")
        assert page.get_attribute("[data-action=record]", "aria-pressed") == "true"
        seen = frames(page)
        wait_until(
            page,
            f"Number(document.querySelector('#live').dataset.frames) >= {seen + 3}",
        )
        # Every edit steers: no button, the prompt index moves on.
        page.fill("#live-prompt", BLUE)
        wait_until(
            page,
            "document.querySelector('#live').dataset.promptIndex === '1'",
            RENDERING,
        )
        page.click("[data-action=record]")
        link = page.wait_for_selector("[data-role=recorded-list] a", timeout=RENDERING)
        assert link.text_content().startswith("Clip of ")
        shot = os.environ.get("STUDIO_LIVE_SCREENSHOT")
        if shot:
            Path(shot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=shot)

        page.click("[data-action=stop]")
        wait_until(page, "document.querySelector('#live').dataset.state === 'idle'")

        link.click()
        video = page.wait_for_selector("video.player-video")
        video.evaluate("v => { v.muted = true; return v.play(); }")
        wait_until(page, "document.querySelector('video.player-video').readyState >= 2")
        assert page.get_by_text(RED).count()

        page.go_back()
        page.click(".crumb a")
        page.wait_for_selector("#gallery .clip video")
    except Exception:
        save_artifacts(page, "live")
        raise


def test_the_live_prompt_is_read_back_before_the_stream_starts(live_studio, page):
    try:
        sign_up_with_a_project(page, live_studio, "omar", "Live reading")
        page.goto(f"{live_studio}/live/")
        page.wait_for_selector("#live[data-bound]")
        page.locator("#live-prompt").press_sequentially(
            "a fluffy orange cat walking across a wooden floor"
        )
        page.locator("#reading .unknown-word", has_text="cat").wait_for()
        assert page.locator("#reading [data-role=reading-notice]").is_visible()
        # "Use this" puts an in-world prompt in the box, which reads clean.
        page.click("#reading [data-testid=use-suggestion]")
        assert "ball" in page.input_value("#live-prompt")
        page.locator("#reading [data-role=reading-terms]").wait_for()
        wait_until(page, "!document.querySelector('#reading .unknown-word')")
        assert page.get_attribute("#live", "data-state") == "idle"
        # The styles' looks can grade the stream, chosen before the start.
        looks = page.locator("#live-look option").all_inner_texts()
        assert looks[0] == "None" and "Film noir" in looks
        page.select_option("#live-look", label="Film noir")
        shot = os.environ.get("STUDIO_LIVE_READING_SCREENSHOT")
        if shot:
            page.screenshot(path=shot)
    except Exception:
        save_artifacts(page, "live-reading")
        raise
