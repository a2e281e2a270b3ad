"""The suite's second run (PostgreSQL + Redis) keeps every test those
backends change, and leaves out only tests that run the same on both."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = [
    "tests/generation/test_looks.py",  # model code: no database, no layer
    "tests/studio/generations/test_consumers.py",  # Django's test database
    "tests/studio/generations/test_shutdown.py",  # both kinds in one file
    "tests/browser/test_restart.py",  # marked: its server's layer is Redis
    "tests/browser/test_phone.py",  # its own SQLite studio, no live events
]


def collected(scope: str | None) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "STUDIO_TEST_SCOPE"}
    if scope is not None:
        env["STUDIO_TEST_SCOPE"] = scope
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q",
         "-p", "no:cacheprovider", *FILES],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return {line for line in done.stdout.splitlines() if "::" in line}


def test_the_backend_run_keeps_the_tests_the_backends_change():
    everything = collected(None)
    kept = collected("backends")
    assert kept < everything
    files = {test.split("::")[0] for test in kept}
    assert files == {
        "tests/studio/generations/test_consumers.py",
        "tests/studio/generations/test_shutdown.py",
        "tests/browser/test_restart.py",
    }
    # Every websocket test stays, and of the shutdown tests only the one that
    # runs on Django's test database; the others start SQLite studios.
    consumers = {t for t in everything if "test_consumers.py" in t}
    assert consumers <= kept
    shutdown = {t for t in kept if "test_shutdown.py" in t}
    assert [t.split("::")[1] for t in shutdown] == [
        "test_an_asgi_lifespan_starts_the_worker_and_stopping_gives_its_clip_back"
    ]
