"""A live studio under Daphne and headless Chromium, for the journeys of PRODUCT.md."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a-long-enough-passphrase"
# Waits end when what they wait for happens; these ceilings only keep a broken
# run from hanging, and are far above what a busy machine needs (ms).
PATIENCE = 120_000
RENDERING = 900_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@pytest.fixture(scope="module")
def live_studio_env(tmp_path_factory) -> dict[str, str]:
    """The environment of the live studio: its own SQLite file, media and data
    folders; the channel layer is whatever REDIS_URL says."""
    folder = tmp_path_factory.mktemp("studio")
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "STUDIO_MEDIA_ROOT": str(folder / "media"),
        "STUDIO_DATA_DIR": str(folder / "data"),
        "DJANGO_DEBUG": "1",
        "STUDIO_SERVICE_AUTOSTART": "1",
        "STUDIO_SIGNUP_OPEN": "1",
        "PYTHONUNBUFFERED": "1",
    }


def live_manage(env: dict[str, str], *args: str) -> str:
    """Run a manage.py command against the live studio's database."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def live_studio(live_studio_env):
    """A Daphne server on a free port, serving the studio of ``live_studio_env``."""
    env = live_studio_env
    folder = Path(env["STUDIO_MEDIA_ROOT"]).parent
    live_manage(env, "migrate", "--noinput", "-v", "0")
    port = free_port()
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.browser.serve", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/accounts/login/", server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        print((folder / "server.log").read_text()[-4000:])


def is_policy_violation(text: str) -> bool:
    """Chromium reports what the Content-Security-Policy refused, and a
    Permissions-Policy it cannot read, as console errors."""
    return "Content Security Policy" in text or "Permissions-Policy" in text


@pytest.fixture
def browser():
    """Chromium, whose every context fails the test at the end if a page in it
    broke the studio's Content-Security-Policy or Permissions-Policy."""
    from playwright.sync_api import sync_playwright

    violations: list[str] = []

    def watch(context):
        context.on(
            "console",
            lambda message: (
                violations.append(f"{message.location.get('url')}: {message.text}")
                if is_policy_violation(message.text)
                else None
            ),
        )
        return context

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        new_context = browser.new_context
        browser.new_context = lambda **options: watch(new_context(**options))
        yield browser
        browser.close()
    assert not violations, "the pages broke their policies:\n" + "\n".join(violations)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(PATIENCE)
    yield context.new_page()
    context.close()


def wait_until(page, expression: str, timeout: float = PATIENCE) -> None:
    """Wait until a JavaScript expression is true in ``page``.

    Playwright's wait_for_function runs its expression through the page's own
    eval, which the studio's Content-Security-Policy forbids; an evaluation
    over the devtools protocol is outside the policy. A navigation while
    waiting starts the expression again in the new document.
    """
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout / 1000
    while True:
        try:
            if page.evaluate(expression):
                return
        except Error as error:
            if "Execution context was destroyed" not in error.message:
                raise
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"still false after {timeout / 1000:.0f} s: {expression}"
            )
        page.wait_for_timeout(50)


def save_artifacts(page, name: str) -> None:
    """A screenshot and the HTML of a failing page, under test-artifacts/."""
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)
    (artifacts / f"{name}.html").write_text(page.content())


def sign_up_with_a_project(
    page, url: str, username: str, project: str, *, open_settings: bool = True
) -> None:
    """A new creator signs up and lands on a new project's prompt box, its
    folded settings opened (and kept open) unless ``open_settings`` is False."""
    page.goto(f"{url}/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.fill("#id_name", project)
    page.click("text=Create project")
    wait_for_the_composer(page, open_settings=open_settings)


def wait_for_the_composer(page, *, open_settings: bool = True) -> None:
    """The prompt box is ready for keys once its script has bound it and htmx has run.

    The form is in the DOM before its deferred scripts run, so a Ctrl+Enter pressed
    as soon as it appears could reach a form that nothing listens to yet. Its
    folded settings are opened (the box keeps them open from then on) unless
    ``open_settings`` is False.
    """
    page.wait_for_selector("#composer[data-bound]")
    page.wait_for_load_state("load")
    if open_settings and not page.is_visible("#composer #id_steps"):
        page.click("#composer details.settings > summary")
        page.wait_for_selector("#composer details.settings[open]")


def queue_a_long_clip(page, prompt: str, *, variations: int = 1) -> None:
    """Queue ``variations`` clips of 4 s at 100 steps from the project page:
    seconds of rendering each, long enough to act while they render."""
    page.fill("#id_duration", "4")
    page.fill("#id_steps", "100")
    if variations > 1:
        page.fill("#id_variations", str(variations))
    page.fill("#id_prompt", prompt)
    page.press("#id_prompt", "Control+Enter")
