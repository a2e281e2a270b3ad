"""The first hour in headless Chromium: the front door, sign-up, the welcome, a
suggested prompt, a clip, a share link opened logged out on a phone, and no
console error on any page along the way."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    PASSWORD,
    PATIENCE,
    RENDERING,
    save_artifacts,
    wait_for_the_composer,
    wait_until,
)

pytestmark = [pytest.mark.browser]

STARTER = "a red ball bouncing to the right, slow push-in"


def collect_console_errors(page, errors: list[str]) -> None:
    page.on(
        "console",
        lambda message: (
            errors.append(f"{page.url}: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))


def test_a_new_creator_signs_up_makes_a_clip_and_shares_it_to_a_phone(
    live_studio, browser
):
    owner = browser.new_context(viewport={"width": 1280, "height": 900})
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    for context in (owner, phone):
        context.set_default_timeout(PATIENCE)
    page, public = owner.new_page(), phone.new_page()
    errors: list[str] = []
    collect_console_errors(page, errors)
    collect_console_errors(public, errors)
    visited: list[str] = []
    page.on("framenavigated", lambda frame: visited.append(frame.url))
    try:
        # The front door says what the studio is, and leads to sign-up.
        page.goto(f"{live_studio}/")
        assert page.is_visible("text=Describe a shot. Watch it appear.")
        page.click("[data-testid=landing-signup]")
        page.fill("#id_username", "ada")
        page.fill("#id_password1", PASSWORD)
        page.fill("#id_password2", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_studio}/")

        # The welcome: what the studio does, a first project, three prompts.
        page.wait_for_selector("[data-testid=welcome]")
        assert page.locator("[data-testid=starter]").count() == 3
        assert page.is_visible("[data-testid=open-first-project]")

        # One click on a suggestion: the first project's prompt box holds it.
        page.click(f"[data-testid=starter]:has-text('{STARTER}')")
        wait_for_the_composer(page)
        project_url = page.url.split("?")[0]
        assert page.input_value("#id_prompt") == STARTER
        # The coach reads it; the top bar counts nothing yet.
        page.wait_for_selector("#coach [data-code]")
        assert page.get_attribute("#queue-badge", "data-active") == "0"

        # The top bar follows the cards' own events.
        page.evaluate(
            "document.body.addEventListener('clips-changed', () => {"
            " document.documentElement.dataset.clipsChanged ="
            " String(Number(document.documentElement.dataset.clipsChanged || 0) + 1);"
            "})"
        )
        page.select_option("#id_size", "64")
        page.fill("#id_steps", "4")
        page.press("#id_prompt", "Control+Enter")
        page.wait_for_selector(".live-card")
        page.wait_for_selector("#gallery .clip video", timeout=RENDERING)
        wait_until(page, "Number(document.documentElement.dataset.clipsChanged) >= 1")
        # A finished clip beside the top bar: it counts nothing rendering.
        wait_until(
            page,
            "document.getElementById('queue-badge').dataset.active === '0'",
        )
        assert "rendering" not in page.inner_text("header")
        # The welcome has done its work.
        page.goto(f"{live_studio}/")
        assert page.locator("[data-testid=welcome]").count() == 0
        page.goto(project_url)
        wait_for_the_composer(page)

        # Share the clip from the player.
        page.click("#gallery .clip-media")
        page.wait_for_selector("#player[open] [data-testid=create-share]")
        page.click("#player [data-testid=create-share]")
        share_url = page.inner_text("#player [data-testid=share-url]").strip()
        assert "/s/" in share_url

        # Logged out, on a phone: the clip plays, labelled, with honest credentials.
        public.goto(share_url)
        public.wait_for_selector("video")
        public.eval_on_selector("video", "v => { v.muted = true; return v.play(); }")
        wait_until(public, "document.querySelector('video').readyState >= 2")
        assert public.text_content("[data-testid=ai-label]") == "AI-generated"
        line = public.inner_text("[data-testid=credentials]")
        assert "signed by this studio's own key" in line
        assert "Content Credentials: valid" not in line
        assert public.evaluate("document.documentElement.scrollWidth") <= 390

        # The library and the other pages of the first hour, visited once.
        for path in ("/clips/", "/prompts/", "/galleries/", "/models/"):
            page.goto(f"{live_studio}{path}")
            page.wait_for_load_state("load")
        # A search box left to the coach and the reading panel to answer.
        page.goto(f"{live_studio}/prompts/")
        page.wait_for_load_state("networkidle")

        assert len(visited) >= 8
        assert not errors, "console errors:\n" + "\n".join(errors)
    except Exception:
        save_artifacts(page, "first-hour-owner")
        save_artifacts(public, "first-hour-phone")
        raise
    finally:
        owner.close()
        phone.close()
