"""Real model families in the prompt box: registered with ``manage.py models
add`` (tiny random weights, the folders a real checkpoint has), chosen in the
model select, their rules and defaults followed, rendered to a playing clip."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from generation.tiny_models import save_tiny
from tests.browser.conftest import (
    RENDERING,
    live_manage,
    save_artifacts,
    sign_up_with_a_project,
    wait_until,
)

pytestmark = [pytest.mark.browser]

SHOTS = Path("/tmp/shots")


@pytest.fixture(scope="module")
def tiny_models(live_studio, live_studio_env, tmp_path_factory) -> dict[str, Path]:
    """Tiny Wan and LTX-Video text→video models and a tiny Wan image→video one,
    registered the way an owner registers a real folder."""
    root = tmp_path_factory.mktemp("models")
    models = {
        "tiny-wan": ("wan", "t2v"),
        "tiny-ltx": ("ltx", "t2v"),
        "tiny-wan-i2v": ("wan", "i2v"),
    }
    folders = {}
    for name, (family, task) in models.items():
        folders[name] = save_tiny(family, root / name, task)
        live_manage(
            live_studio_env,
            *("models", "add", name, "--family", family, "--task", task),
            *("--path", str(folders[name])),
        )
    return folders


def shown_frames(page) -> int:
    """The frame count the box says it will render."""
    note = page.inner_text("#composer [data-role=frames]")
    return int(re.match(r"(\d+) frames · ", note).group(1))


def choose(page, model: str) -> None:
    page.select_option("#id_model", model)
    wait_until(page, f"document.querySelector('#composer').dataset.frames && "
                     f"document.querySelector('#id_model').value === {model!r}")  # fmt: skip


def render_small(page, prompt: str) -> None:
    """The smallest frame and 2 steps: seconds on a CPU, whatever the model."""
    page.select_option("#id_size", "64")
    page.fill("#id_steps", "2")
    page.fill("#id_prompt", prompt)
    page.press("#id_prompt", "Control+Enter")


def wait_for_queued(page) -> None:
    """The clip is queued: its live card shows. A refusal fails at once, with
    the sentence the box shows, instead of waiting out the timeout (for a
    box that showed no refusal before it was sent)."""
    page.wait_for_selector(".live-card, #composer-errors:not([hidden])")
    errors = page.locator("#composer-errors:not([hidden])")
    assert errors.count() == 0, f"not queued: {errors.inner_text()}"
    page.wait_for_selector(".live-card")


def wait_for_clip(page, count: int) -> None:
    """Previews of the newest clip arrive, then its video is in the gallery and
    plays."""
    wait_until(
        page,
        "Number(document.documentElement.dataset.previews || 0) >= 1",
        timeout=RENDERING,
    )
    wait_until(
        page,
        f"document.querySelectorAll('#gallery video').length === {count}",
        timeout=RENDERING,
    )
    wait_until(
        page,
        "[...document.querySelectorAll('#gallery video')].every("
        "v => v.querySelector('source, [src]') || v.currentSrc || v.src)",
    )
    page.evaluate(
        "() => { for (const v of document.querySelectorAll('#gallery video')) "
        "{ v.muted = true; v.play().catch(() => {}); } }"
    )
    wait_until(
        page,
        "[...document.querySelectorAll('#gallery video')].every(v => v.readyState >= 2)",
    )


def screenshot(page, name: str) -> None:
    """The prompt box as the creator sees it, under /tmp/shots."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("scrollTo(0, 0)")  # the top bar sticks above the box, not over it
    box = page.eval_on_selector(
        "#composer",
        "e => { const r = e.getBoundingClientRect(); return {x: r.x + scrollX, "
        "y: r.y + scrollY, width: r.width, height: r.height}; }",
    )
    # The whole page, so the top bar stays where it belongs; caret="initial":
    # hiding the caret leaves style attributes behind for htmx to copy,
    # which the page's policy refuses.
    page.screenshot(path=SHOTS / name, full_page=True, clip=box, caret="initial")


def start_png(path: Path) -> Path:
    Image.new("RGB", (96, 64), (30, 120, 200)).save(path)
    return path


def test_a_tiny_wan_follows_its_rules_in_the_prompt_box_and_renders(
    live_studio, tiny_models, page
):
    try:
        sign_up_with_a_project(page, live_studio, "wren", "Real models")
        # The built-in model: any frame count, 8 fps; no start image.
        assert page.input_value("#id_fps") == "8"
        assert shown_frames(page) == 16
        assert not page.is_visible("#id_image")
        # Sizes past the detail its weights draw say they are enlarged.
        from generation.adapters.builtin import detail_side

        detail = detail_side()
        labels = dict(
            page.eval_on_selector_all(
                "#id_size option:not([disabled])",
                "options => options.map(o => [o.value, o.text])",
            )
        )
        assert f"enlarged from {detail} px" in labels["512"]
        assert "enlarged" not in labels[str(detail)]
        page.select_option("#id_size", "512")
        assert f"drawn at {detail} px, enlarged" in page.inner_text(
            "[data-role=summary]"
        )
        page.select_option("#id_size", str(detail))
        assert "enlarged" not in page.inner_text("[data-role=summary]")

        choose(page, "tiny-wan")
        # Wan: 4k+1 frames and its own 16 fps, the duration snapped to them.
        frames = shown_frames(page)
        assert (frames - 1) % 4 == 0 and frames == 33
        assert page.input_value("#id_fps") == "16"
        assert page.input_value("#id_duration") == "2.063"
        assert page.input_value("#id_steps") == "30"
        assert page.input_value("#id_aspect") == "native"
        assert page.input_value("#id_size") == "480"
        assert "832×480" in page.inner_text("#composer [data-role=frames]")
        assert f"{frames} frames" in page.inner_text("[data-role=frames-badge]")
        # Frame rates and sizes Wan cannot make are not offered.
        offered = page.eval_on_selector_all(
            "#id_size option:not([disabled])", "options => options.map(o => o.text)"
        )
        assert offered and not any("enlarged" in o for o in offered)
        assert all(
            int(w) % 16 == 0 and int(h) % 16 == 0
            for w, h in (re.search(r"(\d+)×(\d+)", o).groups() for o in offered)
        )
        assert not page.is_visible("#id_image")
        assert not page.is_visible("#id_strength")
        screenshot(page, "prompt_box_wan.png")

        # A duration typed out of Wan's rule snaps when the creator moves on.
        page.fill("#id_duration", "1")
        page.press("#id_duration", "Tab")
        assert page.input_value("#id_duration") == "1.063"
        assert shown_frames(page) == 17

        render_small(page, "a red ball bouncing to the right, slow push-in")
        wait_for_queued(page)
        wait_for_clip(page, 1)
    except Exception:
        save_artifacts(page, "real-model-wan")
        raise


def test_a_tiny_ltx_takes_its_own_rate_and_frames(live_studio, tiny_models, page):
    try:
        sign_up_with_a_project(page, live_studio, "lars", "LTX")
        choose(page, "tiny-ltx")
        frames = shown_frames(page)
        assert (frames - 1) % 8 == 0
        assert page.input_value("#id_fps") == "24"
        # 2 s at 24 fps would be 48 frames; LTX's longest is 41.
        assert frames == 41
        render_small(page, "a blue box sliding left over a field")
        wait_for_clip(page, 1)
    except Exception:
        save_artifacts(page, "real-model-ltx")
        raise


def test_image_to_video_shows_the_start_image_only_for_its_model(
    live_studio, tiny_models, page, tmp_path
):
    try:
        sign_up_with_a_project(page, live_studio, "ines-i2v", "From a still")
        choose(page, "tiny-wan")
        assert not page.is_visible("#id_image")
        choose(page, "tiny-wan-i2v")
        assert page.is_visible("#id_image")
        assert not page.is_visible("#id_video")
        page.set_input_files("#id_image", str(start_png(tmp_path / "start.png")))

        # Without the image the model says so beside the Generate button.
        choose(page, "tiny-wan")
        choose(page, "tiny-wan-i2v")
        assert page.input_value("#id_image") == ""
        render_small(page, "the ball rolls away")
        summary = page.wait_for_selector("#composer-errors:not([hidden])")
        screenshot(page, "prompt_box_error.png")
        assert "add one" in summary.inner_text()
        assert summary.get_attribute("role") == "alert"
        assert page.locator(".live-card").count() == 0

        page.set_input_files("#id_image", str(start_png(tmp_path / "start.png")))
        page.press("#id_prompt", "Control+Enter")
        page.wait_for_selector(".live-card")
        wait_for_clip(page, 1)
        page.click("#gallery .clip-media")
        page.wait_for_selector("#player[open] .player-video")
        assert "Start image" in page.inner_text("#player")
    except Exception:
        save_artifacts(page, "real-model-i2v")
        raise
