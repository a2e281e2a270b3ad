"""Every main page of the studio, checked by axe-core in headless Chromium, with
real work on it: finished clips in a project and a gallery, a storyboard with
shots and takes, a prompt with versions, a share link opened logged out.

axe-core is installed by ``./studio.sh test`` under .cache/axe (git-ignored).
Its source is evaluated over the devtools protocol: a script tag added to the
page would be refused by the studio's Content-Security-Policy, as it should be.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import pytest

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PATIENCE,
    RENDERING,
    ROOT,
    queue_a_long_clip,
    save_artifacts,
    sign_up_with_a_project,
    wait_for_the_composer,
    wait_until,
)

pytestmark = [pytest.mark.browser]

AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# What fails a page; moderate and minor findings are listed, not failed on.
BLOCKING = ("critical", "serious")
CLIPS = 4

# Run in the live studio's own database, as its owner would: a gallery of the
# clips with a share link and a revoked one, a prompt edited once, a character, a style, a
# storyboard whose shots hold takes, and an API token on the account page.
SEED = """
import json
from django.contrib.auth import get_user_model
from studio.accounts.services import api_token_create
from studio.galleries.services import gallery_create, gallery_items_add
from studio.generations.models import Generation
from studio.projects.models import Project
from studio.prompts.services import character_save, prompt_create, prompt_update, style_save
from studio.sharing.services import share_link_create, share_link_revoke
from studio.storyboards.models import Take
from studio.storyboards.services import shot_add, storyboard_create, take_choose

owner = get_user_model().objects.get(username="ada")
project = Project.objects.get(owner=owner, name="Harbour film")
clips = list(project.generations.filter(status="succeeded").order_by("created"))
gallery = gallery_create(owner=owner, title="Harbour selects", description="The calm ones.")
gallery_items_add(gallery=gallery, generations=clips)
_, token = share_link_create(owner=owner, gallery=gallery, label="Client")
old, _ = share_link_create(owner=owner, gallery=gallery, label="Last year's client")
share_link_revoke(link=old)
prompt = prompt_create(
    owner=owner,
    title="Harbour at dawn",
    text="a fishing boat leaves the harbour at dawn, slow push-in",
    tags=["harbour", "dawn"],
    notes="The first look.",
    rating=4,
)
prompt_update(prompt=prompt, text="a fishing boat leaves the harbour at dawn, slow dolly out")
character_save(owner=owner, name="mia", description="a girl of ten in a yellow raincoat")
style_save(owner=owner, name="Soft film", snippet="soft film grain, warm light")
board = storyboard_create(owner=owner, project=project, title="The departure")
for number, (kind, text) in enumerate(
    [("establishing", "the harbour at dawn, wide"), ("close-up", "Mia waves from the pier")]
):
    shot = shot_add(storyboard=board, kind=kind, prompt=text, duration=1.0)
    take = Take.objects.create(shot=shot, generation=clips[number], number=1)
    take_choose(shot=shot, take=take)
api_token_create(user=owner, name="laptop")
print(json.dumps({
    "project": project.get_absolute_url(),
    "clip": clips[0].get_absolute_url(),
    "gallery": gallery.get_absolute_url(),
    "share": f"/s/{token}/",
    "prompt": prompt.get_absolute_url(),
    "storyboard": board.get_absolute_url(),
}))
"""


@dataclass
class Studio:
    url: str
    login: dict  # the owner's cookies, as Playwright's storage state
    paths: dict[str, str]


@pytest.fixture(scope="module")
def axe_source() -> str:
    assert AXE.is_file(), (
        f"axe-core is missing at {AXE.relative_to(ROOT)}: ./studio.sh test installs it "
        "(npm install --prefix .cache/axe axe-core)"
    )
    return AXE.read_text()


@pytest.fixture(scope="module")
def studio(live_studio, live_studio_env) -> Studio:
    """The studio with one creator's finished work in it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(PATIENCE)
        page = context.new_page()
        try:
            sign_up_with_a_project(page, live_studio, "ada", "Harbour film")
            page.select_option("#id_size", "64")
            page.fill("#id_steps", "2")
            page.fill("#id_variations", str(CLIPS))
            page.fill("#id_prompt", "a fishing boat leaves the harbour at dawn")
            page.press("#id_prompt", "Control+Enter")
            page.wait_for_selector(
                f"#gallery .clip video >> nth={CLIPS - 1}", timeout=RENDERING
            )
            login = context.storage_state()
        except Exception:
            save_artifacts(page, "accessibility-setup")
            raise
        finally:
            browser.close()
    seeded = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SEED],
        cwd=ROOT,
        env=live_studio_env,
        capture_output=True,
        text=True,
    )
    assert seeded.returncode == 0, (
        f"seeding the studio failed:\n{seeded.stderr[-3000:]}"
    )
    paths = json.loads(seeded.stdout.strip().splitlines()[-1])
    return Studio(live_studio, login, paths)


# (name, path or a key of Studio.paths, logged in)
PAGES = [
    ("landing", "/", False),
    ("sign-up", "/accounts/signup/", False),
    ("share", "share", False),
    ("projects", "/", True),
    ("project", "project", True),
    ("clip", "clip", True),
    ("clips", "/clips/", True),
    ("library", "/prompts/", True),
    ("prompt", "prompt", True),
    ("characters", "/prompts/characters/", True),
    ("styles", "/prompts/styles/", True),
    ("storyboard", "storyboard", True),
    ("galleries", "/galleries/", True),
    ("gallery", "gallery", True),
    ("account", "/accounts/", True),
    ("models", "/models/", True),
    ("live", "/live/", True),
]


def open_page(browser, studio: Studio, path: str, *, logged_in: bool):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        storage_state=studio.login if logged_in else None,
    )
    context.set_default_timeout(PATIENCE)
    page = context.new_page()
    response = page.goto(studio.url + studio.paths.get(path, path))
    assert response is not None and response.ok, (
        f"{path} answered {response.status if response else 'nothing'}"
    )
    page.wait_for_load_state("networkidle")
    return context, page


def axe_violations(page, source: str) -> list[dict]:
    """axe-core's violations on the page as it is now."""
    page.evaluate(source + "\n;undefined")
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(" ")),
            }));
        }"""
    )


def assert_no_blocking_violations(page, source: str, name: str) -> None:
    violations = axe_violations(page, source)
    print(f"{name}: {len(violations)} rules violated\n{describe(violations)}")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, (
        f"axe-core finds critical or serious violations on {name} "
        f"({page.url}):\n{describe(blocking)}"
    )


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  {v['id']} ({v['impact']}): {v['help']}")
        lines += [f"      {target}" for target in v["targets"][:8]]
        if len(v["targets"]) > 8:
            lines.append(f"      ... and {len(v['targets']) - 8} more")
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("name", "path", "logged_in"), PAGES, ids=[name for name, _, _ in PAGES]
)
def test_a_main_page_has_no_serious_accessibility_violations(
    studio, browser, axe_source, name, path, logged_in
):
    context, page = open_page(browser, studio, path, logged_in=logged_in)
    try:
        assert_no_blocking_violations(page, axe_source, name)
    except Exception:
        save_artifacts(page, f"accessibility-{name}")
        raise
    finally:
        context.close()


def test_the_open_player_has_no_serious_accessibility_violations(
    studio, browser, axe_source
):
    context, page = open_page(browser, studio, "project", logged_in=True)
    try:
        page.click("#gallery .clip-media >> nth=0")
        page.wait_for_selector("#player[open] video")
        page.wait_for_load_state("networkidle")
        assert_no_blocking_violations(page, axe_source, "the player")
    except Exception:
        save_artifacts(page, "accessibility-player")
        raise
    finally:
        context.close()


FOCUSED = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return {
        tag: el.tagName, id: el.id, text: el.textContent.trim(),
        classes: [...el.classList], inMain: !!el.closest("main"),
        top: el.getBoundingClientRect().top,
        outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
        offset: parseFloat(style.outlineOffset),
    };
}"""


def test_the_skip_link_takes_the_keyboard_to_the_first_clip(studio, browser):
    context, page = open_page(browser, studio, "/clips/", logged_in=True)
    try:
        page.keyboard.press("Tab")
        skip = page.evaluate(FOCUSED)
        assert "skip-link" in skip["classes"], f"the first Tab stop is {skip}"
        assert skip["text"] == "Skip to content"
        assert skip["top"] >= 0, "the skip link stays out of sight when focused"
        assert skip["outline"] == "solid" and skip["width"] >= 2

        page.keyboard.press("Enter")
        landed = page.evaluate(FOCUSED)
        assert landed["inMain"], f"the skip link left focus on {landed}"

        presses = 0
        while "clip-media" not in page.evaluate(FOCUSED)["classes"]:
            assert presses < 5, (
                f"the first clip is not among the first 5 Tab stops after the "
                f"skip link; the 5th is {page.evaluate(FOCUSED)}"
            )
            page.keyboard.press("Tab")
            presses += 1
        first_clip = page.locator("#gallery .clip .clip-media").first
        assert first_clip.evaluate("el => el === document.activeElement")

        # The ring is 2 px or more, drawn inside the card, which clips whatever
        # sticks out of it, and above the picture, which covers the link.
        ring = first_clip.evaluate(
            """el => {
                const ring = getComputedStyle(el, "::after");
                return {content: ring.content, position: ring.position, inset: ring.inset,
                        z: Number(ring.zIndex), style: ring.borderTopStyle,
                        width: parseFloat(ring.borderTopWidth)};
            }"""
        )
        assert ring["content"] != "none" and ring["style"] == "solid", ring
        assert ring["width"] >= 2 and ring["z"] >= 1, ring
        assert ring["position"] == "absolute" and ring["inset"] == "0px", ring
        name = first_clip.get_attribute("aria-label")
        assert name and name.startswith("Open “a fishing boat"), name
    except Exception:
        save_artifacts(page, "accessibility-keyboard")
        raise
    finally:
        context.close()


CANVAS_DIGEST = """() => {
    const canvas = document.querySelector(".live-card canvas");
    if (!canvas || !canvas.width) return "";
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let digest = 0;
    for (let i = 0; i < data.length; i += 7) digest = (digest * 31 + data[i]) >>> 0;
    return String(digest);
}"""


def test_reduced_motion_stills_the_page_but_not_the_preview(studio, browser):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        storage_state=studio.login,
        reduced_motion="reduce",
    )
    context.set_default_timeout(PATIENCE)
    page = context.new_page()
    try:
        page.goto(studio.url + studio.paths["project"])
        wait_for_the_composer(page)
        durations = page.eval_on_selector(
            "#gallery .clip",
            "el => [getComputedStyle(el).transitionDuration,"
            " getComputedStyle(el.querySelector('video')).transitionDuration]",
        )
        assert durations == ["0s", "0s"], durations

        # A clip on its way: its preview still animates, frame after frame.
        queue_a_long_clip(page, "a lighthouse beam sweeping over the sea")
        page.wait_for_selector(".live-card[data-previews]:not([data-previews='0'])")
        # Two looks at the canvas with no new preview between them, and a
        # different picture: the player moved on to another frame by itself.
        wait_until(
            page,
            f"""(() => {{
                const card = document.querySelector(".live-card");
                const now = {{previews: card.dataset.previews, digest: ({CANVAS_DIGEST})()}};
                const was = window.motionSample;
                window.motionSample = now;
                return !!(was && now.digest && was.previews === now.previews
                          && was.digest !== now.digest);
            }})()""",
        )
        bar = page.eval_on_selector(
            ".live-card .progress-bar", "el => getComputedStyle(el).transitionDuration"
        )
        assert bar == "0s"
    except Exception:
        save_artifacts(page, "accessibility-reduced-motion")
        raise
    finally:
        context.close()
