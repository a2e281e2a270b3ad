"""The first hour in headless Chromium: the front door, sign-up, the welcome, a
suggested prompt, a clip, a share link opened logged out on a phone, and no
console error on any page along the way."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    PASSWORD,
    PATIENCE,
    RENDERING,
    ROOT,
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
        (ROOT / "test-artifacts").mkdir(exist_ok=True)
        public.screenshot(path=ROOT / "test-artifacts" / "first-hour-share-phone.png")

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


def test_the_prompt_box_tells_the_truth_before_submit_and_deletes_ask(
    live_studio, page
):
    errors: list[str] = []
    collect_console_errors(page, errors)
    shots = ROOT / "test-artifacts"
    shots.mkdir(exist_ok=True)
    try:
        page.goto(f"{live_studio}/")
        page.screenshot(path=shots / "first-hour-landing.png")
        page.goto(f"{live_studio}/accounts/signup/")
        page.fill("#id_username", "lin")
        page.fill("#id_password1", PASSWORD)
        page.fill("#id_password2", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=welcome]")
        page.screenshot(path=shots / "first-hour-welcome.png")
        page.click("[data-testid=open-first-project]")
        wait_for_the_composer(page)

        # An empty prompt gets no praise from the coach.
        page.wait_for_selector("#coach [data-code=empty]")
        assert "Reads like a shot" not in page.inner_text("#coach")
        page.screenshot(path=shots / "first-hour-coach-empty.png")

        # "Prompt is empty" leaves as soon as there is a prompt.
        page.click("[data-testid=generate]")
        page.wait_for_selector("#composer-errors:not([hidden])")
        wait_for_the_composer(page)
        assert "prompt is empty" in page.inner_text("#composer-errors")
        # One click on a suggestion fills the box, and the error goes.
        page.click("#gallery [data-fill-prompt]")
        assert page.input_value("#id_prompt") == STARTER
        assert page.is_hidden("#composer-errors")
        assert page.locator("#composer .errorlist").count() == 0

        # A duration the model cannot make is said before submit.
        page.select_option("#id_fps", "24")
        page.fill("#id_duration", "12")
        note = page.inner_text("[data-role=frames]")
        assert "12 s is longer than Built-in makes at 24 fps: at most 2 s" in note
        assert "288" not in page.inner_text("#composer")
        assert page.get_attribute("#id_duration", "max") == "2"
        page.press("#id_duration", "Tab")
        assert page.input_value("#id_duration") == "2"
        assert "48 frames" in page.inner_text("[data-role=frames]")

        # A storyboard of two shots: shot 1 offers no continuity.
        project = page.url.split("?")[0]
        page.goto(f"{project}storyboards/")
        page.fill("#id_title", "Dawn")
        page.click("text=Create storyboard")
        page.wait_for_selector("[data-testid=total]")
        board = page.url.split("#")[0].split("?")[0]
        for prompt in ("a hawk over a valley", "a red ball bouncing"):
            page.click("summary:has-text('Add a shot')")
            form = page.locator(f"form[action$='{board.split(live_studio)[1]}shots/']")
            form.locator("textarea[name=prompt]").fill(prompt)
            form.locator("button[type=submit]").click()
            page.wait_for_load_state("load")
        page.wait_for_selector(".shot:nth-child(2)")
        first, second = page.locator(".shot").nth(0), page.locator(".shot").nth(1)
        assert first.locator("[name=continue_from_previous]").count() == 0
        assert "image" not in first.inner_text().lower()
        assert second.locator("[name=continue_from_previous]").count() == 1
        first.screenshot(path=shots / "first-hour-storyboard-shot-1.png")

        # Deleting the storyboard asks; Cancel keeps it.
        asked: list[str] = []

        def answer(dialog, accept: bool) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        page.once("dialog", lambda dialog: answer(dialog, False))
        page.click("text=Delete storyboard…")
        assert asked and "Delete the storyboard “Dawn” and its 2 shots?" in asked[0]
        assert page.url.startswith(board)
        page.reload()
        page.wait_for_selector("[data-testid=total]")
        # OK deletes it.
        page.once("dialog", lambda dialog: answer(dialog, True))
        page.click("text=Delete storyboard…")
        page.wait_for_selector("text=Storyboard deleted")
        assert page.locator(".project-card:has-text('Dawn')").count() == 0
        assert not errors, "console errors:\n" + "\n".join(errors)
    except Exception:
        save_artifacts(page, "first-hour-box")
        raise
