"""The first minute of PRODUCT.md, in headless Chromium against a live server."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from generation.builtin.evaluate import LEAD_PROMPT
from generation.tiny_models import save_tiny
from tests.browser.conftest import (
    RENDERING,
    ROOT,
    live_manage,
    queue_a_long_clip,
    save_artifacts,
    sign_up_with_a_project,
    wait_for_the_composer,
    wait_until,
)

# Run again on PostgreSQL + Redis: its clips' live events cross the Redis layer.
pytestmark = [pytest.mark.browser, pytest.mark.backends]


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
        wait_for_the_composer(page)

        # The brief's own prompt: a hawk over a misty valley as the camera pans.
        page.fill("#id_prompt", LEAD_PROMPT)
        title = page.title()
        page.press("#id_prompt", "Control+Enter")

        page.wait_for_selector(".live-card")
        # The empty project's hint gives way to the clip on its way.
        assert not page.is_visible("#gallery > .empty")
        # The tab shows the step while the clip renders, then its own title.
        wait_until(page, "/^\\[\\d+\\/20\\] /.test(document.title)", RENDERING)
        wait_until(
            page,
            "Number(document.documentElement.dataset.previews || 0) >= 3",
            timeout=RENDERING,
        )
        video = page.wait_for_selector("#gallery video", timeout=RENDERING)
        video.evaluate("v => { v.muted = true; return v.play(); }")
        wait_until(
            page,
            "document.querySelector('#gallery video').readyState >= 2",
        )
        assert page.locator(".clip").count() == 1
        wait_until(page, f"document.title === {title!r}")
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


def test_the_player_steps_through_the_gallery_with_the_arrow_keys(live_studio, page):
    try:
        sign_up_with_a_project(page, live_studio, "ines", "Takes")
        page.fill("#id_prompt", "a blue box sliding left over a field, static shot")
        page.fill("#id_variations", "3")
        page.fill("#id_steps", "4")
        page.press("#id_prompt", "Control+Enter")
        wait_until(
            page,
            "document.querySelectorAll('#gallery [data-clip] video').length === 3",
            timeout=RENDERING,
        )
        clips = page.eval_on_selector_all(
            "#gallery [data-clip]", "clips => clips.map(c => c.id.slice(5))"
        )

        def showing() -> str:
            page.wait_for_selector("#player[open] .player-video")
            return page.get_attribute("#player [data-generation]", "data-generation")

        page.click(f"#clip-{clips[0]} .clip-media")
        assert showing() == clips[0]
        page.keyboard.press("ArrowRight")
        page.wait_for_selector(f"#player [data-generation='{clips[1]}']")
        page.keyboard.press("ArrowRight")
        page.wait_for_selector(f"#player [data-generation='{clips[2]}']")
        page.keyboard.press("ArrowRight")  # the last clip: it stays
        page.keyboard.press("ArrowLeft")
        page.wait_for_selector(f"#player [data-generation='{clips[1]}']")
        assert showing() == clips[1]
        page.keyboard.press("Escape")
        page.wait_for_selector("#player:not([open])", state="attached")

        # The Clips page finds them from any project, as the creator types.
        page.click("nav >> text=Clips")
        page.wait_for_selector("#gallery [data-clip]")
        page.wait_for_load_state("load")
        assert page.locator("#gallery [data-clip]").count() == 3
        page.fill("#clip-search", "giraffe")
        page.wait_for_selector("#gallery .result-count[data-count='0']")
        assert "q=giraffe" in page.url
        page.fill("#clip-search", "blue box")
        page.wait_for_selector("#gallery .result-count[data-count='3']")
        page.click(f"#clip-{clips[2]} .clip-media")
        assert showing() == clips[2]
        # htmx takes new content in hand only once it settles; a slow settle
        # makes sure S, pressed the moment the clip shows, still stays on the page.
        assert page.evaluate("htmx.config.defaultSettleDelay") == 0
        page.evaluate("htmx.config.defaultSettleDelay = 1000")
        page.keyboard.press("ArrowLeft")
        page.wait_for_selector(f"#player [data-generation='{clips[1]}']")

        # A star given in the player (S) shows on the card too, and filters.
        page.keyboard.press("s")
        page.wait_for_selector("#player .star.on")
        page.wait_for_selector(f"#clip-{clips[1]} .star.on", state="attached")
        assert page.url.startswith(f"{live_studio}/clips/")
        page.evaluate("htmx.config.defaultSettleDelay = 0")
        page.keyboard.press("Escape")
        page.check("input[name=starred]")
        page.wait_for_selector("#gallery .result-count[data-count='1']")
        assert page.locator("#gallery [data-clip]").count() == 1
        assert page.locator(f"#clip-{clips[1]}").count() == 1

        # On a gallery board the keys follow the board's order.
        csrf = next(
            c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"
        )
        headers = {"X-CSRFToken": csrf, "Content-Type": "application/json"}
        gallery = page.request.post(
            f"{live_studio}/api/galleries", data={"title": "Picks"}, headers=headers
        ).json()["id"]
        for clip in reversed(clips):
            page.request.post(
                f"{live_studio}/api/galleries/{gallery}/items",
                data={"generation": clip},
                headers=headers,
            )
        page.goto(f"{live_studio}/galleries/{gallery}/")
        page.click("#board .board-item .clip-media")
        assert showing() == clips[2]
        page.keyboard.press("ArrowRight")
        page.wait_for_selector(f"#player [data-generation='{clips[1]}']")
        page.keyboard.press("Escape")

        # Back on Clips, the creator ticks clips and acts on them together.
        page.goto(f"{live_studio}/clips/")
        # / jumps to the search box; ? lists the shortcuts.
        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.id") == "clip-search"
        page.evaluate("document.activeElement.blur()")
        page.keyboard.press("?")
        page.wait_for_selector("#shortcuts[open] >> text=Keyboard shortcuts")
        page.keyboard.press("Escape")
        page.wait_for_selector("#shortcuts:not([open])", state="attached")
        assert page.is_disabled("#bulk button[value=star]")
        page.check("[data-role=pick-all]")
        page.wait_for_selector("#bulk [data-role=picked] >> text=3 clips ticked")
        page.click("#bulk button[value=star]")
        page.wait_for_selector("[data-testid=bulk-notice] >> text=3 clips starred.")
        assert page.locator("#gallery .star.on").count() == 3
        page.check("[data-role=pick-all]")
        with page.expect_download() as download:
            page.click("#bulk button[value=download]")
        with zipfile.ZipFile(download.value.path()) as archive:
            videos = [n for n in archive.namelist() if n.endswith(".mp4")]
            assert len(videos) == 3
            assert "blue-box" in videos[0]
        assert page.url.startswith(f"{live_studio}/clips/")
        page.uncheck("[data-role=pick-all]")
        page.check(f"#clip-{clips[0]} .clip-pick input")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#bulk button[value=delete]")
        page.wait_for_selector("[data-testid=bulk-notice] >> text=1 clip deleted.")
        assert page.locator("#gallery [data-clip]").count() == 2
        assert page.is_disabled("#bulk button[value=delete]")
    except Exception:
        save_artifacts(page, "player-keys")
        raise


def test_a_clip_that_fails_says_why_and_offers_its_settings_again(
    live_studio, live_studio_env, page, tmp_path
):
    # A creator registered a model folder that turns out to be broken.
    folder = save_tiny("animatediff", tmp_path / "ad")
    live_manage(
        live_studio_env,
        *("models", "add", "broken-ad", "--family", "animatediff"),
        *("--path", str(folder)),
    )
    (folder / "unet" / "config.json").write_text("{not json")
    try:
        sign_up_with_a_project(page, live_studio, "noor", "Broken")
        page.select_option("#id_model", "broken-ad")
        page.fill("#id_prompt", "a green triangle growing over a field")
        page.press("#id_prompt", "Control+Enter")

        card = page.wait_for_selector(
            ".live-card[data-status='failed']", timeout=RENDERING
        )
        assert "could not be loaded" in card.inner_text()
        assert page.locator(".live-card [data-role=cancel]").count() == 0
        generation = card.get_attribute("data-generation")
        again = page.get_attribute(
            ".live-card >> text=Use these settings again", "href"
        )
        assert again.endswith(f"?from={generation}")

        page.click(".live-card >> text=Dismiss")
        page.wait_for_selector(".live-card", state="detached")
        failed = page.locator(f"#clip-{generation}")
        assert "failed" in failed.get_attribute("class")
        assert "could not be loaded" in failed.inner_text()

        page.goto(f"{live_studio}{again}")
        wait_for_the_composer(page)
        assert page.input_value("#id_prompt") == "a green triangle growing over a field"
        # The folder that failed to load is no longer offered.
        assert "broken-ad" not in page.eval_on_selector_all(
            "#id_model option", "options => options.map(o => o.value)"
        )
    except Exception:
        save_artifacts(page, "failed-clip")
        raise


def test_the_top_bar_leads_to_every_clip_on_its_way(live_studio, page):
    try:
        sign_up_with_a_project(page, live_studio, "tomas", "Kites")
        queue_a_long_clip(page, "a red kite drifting right over a sea")
        # Counted at once, from the answer that queued it.
        badge = page.wait_for_selector("#queue-badge[data-active='1']")
        assert badge.inner_text().strip() in ("1 rendering", "1 queued")

        page.click("#queue-badge")  # polling may have swapped the element
        page.wait_for_url("**/clips/?status=active")
        card = page.wait_for_selector(".live-card")
        wait_until(
            page,
            "Number(document.querySelector('.live-card')?.dataset.previews || 0) >= 2",
            timeout=RENDERING,
        )
        assert "a red kite drifting right" in card.inner_text()
        # Done: it leaves the list of clips on their way, and the count goes.
        page.wait_for_selector(".live-card", state="detached", timeout=RENDERING)
        page.wait_for_selector("#queue-badge[data-active='0']", state="attached")
        assert "Nothing is rendering or waiting" in page.inner_text("#gallery")
        assert page.locator("#queue-badge").is_hidden()
    except Exception:
        save_artifacts(page, "queue-badge")
        raise


def test_a_creator_cancels_everything_on_its_way_at_once(live_studio, page):
    try:
        sign_up_with_a_project(page, live_studio, "ravi", "Too many kites")
        queue_a_long_clip(page, "a red kite drifting right over a sea", variations=3)
        page.wait_for_selector("#queue-badge[data-active='3']")

        page.click("#queue-badge")
        page.wait_for_selector(".live-card")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("[data-testid=cancel-all]")
        page.wait_for_url("**/clips/?status=active")
        assert "3 clips cancelled." in page.inner_text(".messages")
        # The running one stops at its next step; then nothing is left.
        page.wait_for_selector(".live-card", state="detached")
        page.wait_for_selector("#queue-badge[data-active='0']", state="attached")
    except Exception:
        save_artifacts(page, "cancel-all")
        raise
