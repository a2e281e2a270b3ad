"""The craft and library journeys of PRODUCT.md, in headless Chromium."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    RENDERING,
    save_artifacts,
    sign_up_with_a_project,
    wait_for_the_composer,
    wait_until,
)

pytestmark = [pytest.mark.browser]


@pytest.fixture
def studio_url(live_studio):
    return live_studio


def hint_codes(page) -> list[str]:
    return page.eval_on_selector_all(
        "#coach [data-code]", "items => items.map(i => i.dataset.code)"
    )


def test_a_creator_writes_saves_finds_and_generates_a_prompt(studio_url, page):
    try:
        sign_up_with_a_project(page, studio_url, "lena", "Street scenes")
        project_url = page.url

        # A character, so that @mia looks the same in every shot.
        page.goto(f"{studio_url}/prompts/characters/")
        page.fill("#id_name", "mia")
        page.fill("#id_description", "a young woman in a red coat, short black hair")
        page.click("[data-testid=character-save]")
        page.wait_for_selector("text=@mia")

        # The coach reads the prompt as it is typed.
        page.goto(project_url)
        page.wait_for_selector("#coach [data-code]")
        page.click("#id_prompt")
        page.keyboard.type("a cat")
        page.wait_for_selector("#coach [data-code=bare_subject]")
        page.fill("#id_prompt", "")
        page.keyboard.type("@mia walking to the {left|right} in the rain")
        wait_until(
            page,
            "!document.querySelector('#coach [data-code=bare_subject]')"
            " && document.querySelector('#coach [data-code=no_camera]')",
        )
        assert "bare_subject" not in hint_codes(page)
        assert (
            page.locator("#coach [data-role=variations]").get_attribute("data-count")
            == "2"
        )
        page.click("#coach [data-code=no_camera] button")
        page.wait_for_selector("#coach [data-code=ok]")
        text = page.input_value("#id_prompt")
        assert text == "@mia walking to the {left|right} in the rain, slow push-in"

        # Save it to the library, then find it again by search.
        page.click("[data-testid=save-prompt]")
        page.wait_for_selector("#save-status >> text=Saved to your library")
        page.goto(f"{studio_url}/prompts/")
        page.click("[data-testid=library-search]")
        page.keyboard.type("rain walk")
        wait_until(
            page,
            "document.querySelector('#results')?.dataset.count === '1'"
            " && location.search.includes('rain')",
        )
        page.click("#results .prompt-card h2 a")
        page.wait_for_selector("[data-testid=use-in-project]")
        prompt_url = page.url

        # Open it in the project and generate all its variations.
        page.click("[data-testid=use-in-project]")
        wait_for_the_composer(page)
        assert page.input_value("#id_prompt") == text
        page.select_option("#id_size", "64")
        page.fill("#id_steps", "2")
        page.fill("#id_duration", "1")
        page.wait_for_selector("#generate-label >> text=Generate all 2")
        page.press("#id_prompt", "Control+Enter")
        wait_until(
            page,
            "document.querySelectorAll('#gallery .clip video').length >= 2",
            timeout=RENDERING,
        )
        captions = page.locator("#gallery .clip-prompt").all_inner_texts()
        assert any("to the left" in c for c in captions)
        assert any("to the right" in c for c in captions)
        assert all("red coat" in c for c in captions)

        page.goto(prompt_url)
        assert page.locator(".clip").count() == 2
    except Exception:
        save_artifacts(page, "prompt-library")
        raise
