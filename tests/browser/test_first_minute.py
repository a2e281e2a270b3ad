"""The first minute of PRODUCT.md, in headless Chromium against a live server."""

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

pytestmark = [
    pytest.mark.browser,
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 90) -> None:
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
def live_studio(tmp_path_factory):
    """A Daphne server on a free port with its own SQLite file and media folder."""
    folder = tmp_path_factory.mktemp("studio")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "STUDIO_MEDIA_ROOT": str(folder / "media"),
        "DJANGO_DEBUG": "1",
        "STUDIO_SERVICE_AUTOSTART": "1",
        "STUDIO_SIGNUP_OPEN": "1",
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
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


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        yield context.new_page()
        context.close()
        browser.close()


def test_a_new_creator_goes_from_sign_up_to_a_playing_clip(live_studio, page):
    try:
        page.goto(f"{live_studio}/accounts/signup/")
        page.fill("#id_username", "mia")
        page.fill("#id_password1", "a-long-enough-passphrase")
        page.fill("#id_password2", "a-long-enough-passphrase")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_studio}/")

        page.fill("#id_name", "First film")
        page.click("text=Create project")
        page.wait_for_selector("#composer")

        page.fill("#id_prompt", "a red ball bouncing to the right, slow push-in")
        page.press("#id_prompt", "Control+Enter")

        page.wait_for_selector(".live-card", timeout=15_000)
        page.wait_for_function(
            "Number(document.documentElement.dataset.previews || 0) >= 3",
            timeout=120_000,
        )
        video = page.wait_for_selector("#gallery video", timeout=120_000)
        video.evaluate("v => { v.muted = true; return v.play(); }")
        page.wait_for_function(
            "document.querySelector('#gallery video').readyState >= 2",
            timeout=30_000,
        )
        assert page.locator(".clip").count() == 1
        page.mouse.move(0, 0)
        (ROOT / "docs").mkdir(exist_ok=True)
        page.screenshot(path=ROOT / "docs" / "screenshot.png")

        page.click(".clip-media")
        page.wait_for_selector("#player[open] .player-video")
        assert page.locator("#player").get_by_text("Use these settings again").count()
    except Exception:
        artifacts = ROOT / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        page.screenshot(path=artifacts / "first-minute.png", full_page=True)
        (artifacts / "first-minute.html").write_text(page.content())
        raise
