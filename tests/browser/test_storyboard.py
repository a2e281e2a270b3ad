"""The storyboard journey of PRODUCT.md in headless Chromium: scene → shots →
takes → reorder → pick a take → render → play, with the VTT and the sheet."""

from __future__ import annotations

import av
import pytest

from tests.browser.conftest import (
    RENDERING,
    save_artifacts,
    sign_up_with_a_project,
    wait_until,
)

pytestmark = [pytest.mark.browser]

SCENE = (
    "A hawk circles above a green valley at dawn. "
    "Mia looks up and smiles at the bird. "
    '"We follow it," Mia whispers to Tom.'
)
FPS = 8


def shot_ids(page) -> list[str]:
    return page.eval_on_selector_all(
        ".shot[data-shot]", "els => els.map(e => e.dataset.shot)"
    )


def test_a_creator_turns_a_scene_into_a_rendered_cut(live_studio, page, tmp_path):
    try:
        sign_up_with_a_project(page, live_studio, "ren", "Valley")

        page.click("text=Storyboards")
        page.fill("#id_title", "The hawk")
        page.click("text=Create storyboard")
        page.wait_for_selector("#script")
        page.wait_for_load_state("load")

        # Tiny settings: 8 frames a shot, 2 steps, 64 px.
        page.click("text=Look, model and render")
        page.fill("#id_fps", str(FPS))
        page.fill("#id_width", "64")
        page.fill("#id_height", "64")
        page.fill("#id_steps", "2")
        page.click("text=Save settings")
        page.wait_for_selector("text=Storyboard settings saved.")

        page.fill("#id_script", SCENE)
        page.click("text=Propose shots")
        page.wait_for_selector("[data-testid=proposal] >> nth=2")
        assert page.locator("[data-testid=proposal]").count() == 3
        kinds = page.eval_on_selector_all(
            "[data-testid=proposal] select", "els => els.map(e => e.value)"
        )
        assert kinds == ["establishing", "reaction", "close-up"]
        for field in page.locator(".proposal input[name=duration]").all():
            field.fill("1")
        page.click("text=Accept shots")
        page.wait_for_selector(".shot[data-shot] >> nth=2")

        page.click("text=Generate all missing shots")
        wait_until(
            page,
            "document.querySelectorAll('.take[data-take]').length === 3",
            timeout=RENDERING,
        )

        # Reorder: the third shot moves up with the keyboard.
        before = shot_ids(page)
        page.focus(f"#shot-{before[2]}")
        page.keyboard.press("Alt+ArrowUp")
        wait_until(
            page,
            f"document.querySelectorAll('.shot[data-shot]')[1].dataset.shot === '{before[2]}'",
        )
        after = shot_ids(page)
        assert after == [before[0], before[2], before[1]]

        # A second take of the first shot; then go back to take 1.
        first = page.locator(f"#shot-{after[0]}")
        first.locator("button[value=generate]").click()
        wait_until(
            page,
            f"document.querySelectorAll('#shot-{after[0]} .take[data-take]').length === 2",
            timeout=RENDERING,
        )
        page.locator(f"#shot-{after[0]}").get_by_text("Use take 1").click()
        page.wait_for_selector(f"#shot-{after[0]} .take.used[data-take='1']")

        page.click("text=Render sequence")
        video = page.wait_for_selector("[data-testid=render] video", timeout=RENDERING)
        video.evaluate("v => { v.muted = true; return v.play(); }")
        wait_until(
            page,
            "document.querySelector('[data-testid=render] video').readyState >= 2",
        )

        with page.expect_download() as download:
            page.click("[data-testid=vtt]")
        vtt = download.value.path().read_text()
        assert vtt.startswith("WEBVTT")
        assert "00:00:00.000 --> 00:00:01.000" in vtt

        with page.expect_download() as download:
            page.click("text=Sheet (PNG)")
        assert download.value.path().read_bytes().startswith(b"\x89PNG")

        src = video.get_attribute("src")
        clip = tmp_path / "cut.mp4"
        clip.write_bytes(page.request.get(f"{live_studio}{src}").body())
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            frames = sum(1 for _ in container.decode(stream))
            seconds = float(stream.duration * stream.time_base)
        assert frames == 3 * FPS
        assert abs(seconds - 3.0) <= 1 / FPS
    except Exception:
        save_artifacts(page, "storyboard")
        raise
