"""A newcomer sees what the built-in model knows: the prompt box says kindly
when a prompt is mostly outside its world and offers one inside it, the
knowledge page shows every term with an example, a style's look grades the
clip, and a .cube colour table becomes a style."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generation import looks
from studio.registry.knowledge import all_terms
from tests.browser.conftest import (
    save_artifacts,
    sign_up_with_a_project,
    wait_until,
)

pytestmark = [pytest.mark.browser]
CAT = "a fluffy orange cat walking across a wooden floor"
SUGGESTION = "an orange ball moving right over a grass field, slow push-in"
RENDERING = 600_000  # ms: a hang guard for a clip on a busy CPU


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("STUDIO_KNOWLEDGE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_prompt_box_and_the_knowledge_page_show_the_model_s_world(
    live_studio, page, tmp_path
):
    folder = shots(tmp_path)
    try:
        sign_up_with_a_project(page, live_studio, "ines", "Cats")
        page.locator("#id_prompt").press_sequentially(CAT)

        # Read before generating: "cat" is not in the world, said kindly.
        page.locator("#reading .unknown-word", has_text="cat").wait_for()
        notice = page.locator("#reading [data-role=reading-notice]")
        notice.wait_for()
        assert "only knows a small world" in notice.inner_text()
        assert notice.locator("[data-role=suggestion]").inner_text() == SUGGESTION
        assert page.locator(".live-card").count() == 0
        page.locator(".prompt-box").screenshot(path=folder / "prompt-notice.png")

        # One click puts the suggestion in the box, and it reads as in-world.
        notice.locator("[data-testid=use-suggestion]").click()
        assert page.input_value("#id_prompt") == SUGGESTION
        page.locator("#reading .reading-term", has_text="push-in").wait_for()
        assert page.locator("#reading .unknown-word").count() == 0
        assert page.locator("#reading [data-role=reading-notice]").count() == 0

        # The knowledge page, from the prompt box: every term with its example.
        page.click("[data-testid=knowledge-link] >> nth=0")
        page.wait_for_selector(".knowledge-term")
        terms = page.locator(".knowledge-term")
        assert terms.count() == len(all_terms()) == 38
        wait_until(
            page,
            "[...document.querySelectorAll('.knowledge-term img')]"
            ".every(img => img.complete && img.naturalWidth === 96)",
        )
        assert page.locator("[data-term=motion-bounce]").get_by_text("bouncing").count()
        page.screenshot(path=folder / "knowledge.png", full_page=True)

        # A prompt to try goes straight into the project's prompt box.
        tried = page.locator("[data-testid=try-prompt]").nth(1)
        text = tried.inner_text()
        tried.click()
        page.wait_for_selector("#composer[data-bound]")
        assert page.input_value("#id_prompt") == text
    except Exception:
        save_artifacts(page, "knowledge")
        raise


def test_a_film_noir_clip_and_an_imported_cube(live_studio, page, tmp_path):
    folder = shots(tmp_path)
    try:
        sign_up_with_a_project(page, live_studio, "omar", "Noir")
        # No look chosen yet: the prompt box names none.
        look = page.locator("[data-role=look-chosen]")
        assert not look.is_visible()
        page.fill("#id_prompt", "a red ball bouncing over a grass field")
        page.fill("#id_duration", "1")
        page.fill("#id_steps", "4")
        page.click(".chips.styles >> text=Film noir")
        look = page.locator("[data-role=look-chosen]")
        assert look.is_visible() and "Film noir" in look.inner_text()
        assert "black-and-white film noir" in page.input_value("#id_prompt")
        page.press("#id_prompt", "Control+Enter")
        page.wait_for_selector("#gallery video", timeout=RENDERING)
        page.click("#gallery .clip-media")
        page.wait_for_selector("#player[open] .player-video")
        assert page.locator("#player [data-role=look]").inner_text() == "Film noir"
        clip_page = page.get_attribute("#gallery .clip-media", "href")
        page.goto(f"{live_studio}{clip_page}")
        assert page.locator("[data-role=look]").inner_text() == "Film noir"
        page.screenshot(path=folder / "noir-clip.png", full_page=True)

        # The styles page: each style's look, and a .cube table imported.
        page.goto(f"{live_studio}/prompts/styles/")
        cube = tmp_path / "Warm print.cube"
        table = looks.identity_lut(9)
        table[..., 2] *= 0.8  # less blue: warmer
        cube.write_text(looks.write_cube(table))
        form = page.locator("[data-testid=look-import]")
        form.locator("input[name=name]").fill("Warm print")
        form.locator("input[type=file]").set_input_files(str(cube))
        form.locator("button[type=submit]").click()
        page.wait_for_selector("tr[data-style='Warm print'] [data-role=look]")
        page.screenshot(path=folder / "styles.png", full_page=True)

        bad = tmp_path / "bad.cube"
        bad.write_text("LUT_3D_SIZE 2\n0 0 0\n")
        form = page.locator("[data-testid=look-import]")
        form.locator("input[name=name]").fill("Broken")
        form.locator("input[type=file]").set_input_files(str(bad))
        form.locator("button[type=submit]").click()
        page.get_by_text("A 2-point LUT needs 8 rows").wait_for()
        assert page.locator("tr[data-style='Broken']").count() == 0
    except Exception:
        save_artifacts(page, "film-noir")
        raise
