"""Restarting the studio mid-clip: the page waits, reconnects and the clip
finishes after the restart, in headless Chromium."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import (
    RENDERING,
    ROOT,
    free_port,
    live_manage,
    queue_a_long_clip,
    save_artifacts,
    sign_up_with_a_project,
    wait_until,
    wait_until_up,
)
from tests.studio.generations.processes import generation_rows

# Run again on PostgreSQL + Redis: its clips' live events cross the Redis layer.
pytestmark = [pytest.mark.browser, pytest.mark.backends]


def serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with log.open("a") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.browser.serve", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    wait_until_up(f"http://127.0.0.1:{port}/accounts/login/", server)
    return server


def test_a_clip_rendering_when_the_studio_restarts_finishes_after_it(page, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STUDIO_MEDIA_ROOT": str(tmp_path / "media"),
        "STUDIO_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_DEBUG": "1",
        "STUDIO_SIGNUP_OPEN": "1",
        "PYTHONUNBUFFERED": "1",
    }
    live_manage(env, "migrate", "--noinput", "-v", "0")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    server = serve(env, port, log)
    try:
        sign_up_with_a_project(page, url, "kai", "Restarts")
        queue_a_long_clip(page, "a yellow star drifting left over a night sky")
        wait_until(
            page,
            "Number(document.documentElement.dataset.previews || 0) >= 1",
            timeout=RENDERING,
        )

        server.send_signal(signal.SIGTERM)
        server.wait(RENDERING / 1000)  # it stops once the clip reaches a step
        card = page.wait_for_selector(".live-card[data-connection=lost]")
        assert "reconnecting" in card.inner_text()
        assert generation_rows(env) == ["queued 0 -"]

        server = serve(env, port, log)
        # Only the card's reconnected socket brings the clip into the gallery:
        # the page is never reloaded.
        video = page.wait_for_selector("#gallery video", timeout=RENDERING)
        video.evaluate("v => { v.muted = true; return v.play(); }")
        wait_until(
            page,
            "document.querySelector('#gallery video').readyState >= 2",
        )
        [row] = generation_rows(env)
        # Counted once: the stopped server gave its try back.
        assert row.startswith("succeeded 1 ")
    except Exception:
        save_artifacts(page, "restart")
        print(log.read_text()[-4000:])
        raise
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
