"""Helpers for tests that start the studio as real processes (Daphne,
``runserver``, ``manage.py worker``) on a database of their own, and for
tests that stop a worker part-way through a clip."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.browser.conftest import ROOT

FINAL = frozenset({"succeeded", "failed", "cancelled"})
# Waits on processes end when what they wait for happens; this ceiling (in
# seconds) only keeps a broken run from hanging, far above a busy machine's need.
PATIENCE = 300


def studio_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of a studio on a fresh SQLite file, migrated; without
    REDIS_URL unless ``settings`` give one."""
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("REDIS_URL", "DATABASE_URL")
        },
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STUDIO_MEDIA_ROOT": str(tmp_path / "media"),
        "STUDIO_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
        **settings,
    }
    manage(env, "migrate", "--noinput", "-v", "0")
    return env


def manage(env: dict[str, str], *args: str, check: bool = True):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=check,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )


def api_user(env: dict[str, str], username: str = "ana") -> str:
    """Create a user; return a new API token of theirs."""
    manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User;"
        f"User.objects.create_user({username!r}, password='a-long-enough-passphrase')",
    )
    return manage(env, "apitoken", username).stdout.strip().splitlines()[-1]


def generation_rows(env: dict[str, str]) -> list[str]:
    """``status attempts worker`` of every clip, oldest first."""
    lines = manage(
        env,
        "shell",
        "-c",
        "from studio.generations.models import Generation\n"
        "for g in Generation.objects.order_by('created'):"
        " print(g.status, g.attempts, g.worker or '-')",
    ).stdout.splitlines()
    statuses = ("queued", "running", "succeeded", "failed", "cancelled")
    return [line for line in lines if line.startswith(statuses)]


def submit(port: int, token: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/generations",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=PATIENCE) as response:
        return json.loads(response.read())


async def watch(port: int, token: str, ws_url: str, until=FINAL, on_event=None) -> list:
    """Every message of a generation's websocket, timed, up to an event of
    a type in ``until``; ``on_event`` sees each JSON event as it comes."""
    import websockets

    received = []
    url = f"ws://127.0.0.1:{port}{ws_url}?token={token}"
    async with websockets.connect(url, max_size=None) as socket:
        while True:
            message = await asyncio.wait_for(socket.recv(), timeout=PATIENCE)
            if isinstance(message, bytes):
                received.append(("preview", time.monotonic()))
                continue
            event = json.loads(message)
            received.append((event, time.monotonic()))
            if on_event is not None:
                on_event(event)
            if event["type"] in until:
                return received


def watch_until_started(port: int, token: str, ws_url: str) -> list:
    """Return once the clip's first step is done."""
    return asyncio.run(watch(port, token, ws_url, {"progress"} | FINAL))


def read_until(process: subprocess.Popen, *wanted: str | tuple[str, ...]) -> bool:
    """Read ``process``'s output until a line holding each of ``wanted`` (a
    text, or a tuple of texts any of which will do) has come; False if the
    output ends first."""
    waiting = [(w,) if isinstance(w, str) else w for w in wanted]
    for line in iter(process.stdout.readline, ""):
        waiting = [w for w in waiting if not any(text in line for text in w)]
        if not waiting:
            return True
    return False


class HeldAtTheFirstStep:
    """The tiny model, holding its clip at the first step once the worker is
    told to stop, until ``let_go`` is set."""

    def __init__(self, adapter):
        self.adapter = adapter
        self.native_size = adapter.native_size
        self.rendering = threading.Event()
        self.stopping = threading.Event()
        self.let_go = threading.Event()

    def validate(self, spec):
        return self.adapter.validate(spec)

    def generate(self, spec, *, should_stop, **hooks):
        def held_stop() -> bool:
            self.rendering.set()
            # The worker has no event of its own to wait on: its stop flag is
            # what the pipeline reads between steps.
            while not should_stop():
                self.let_go.wait(0.01)
            self.stopping.set()
            self.let_go.wait(PATIENCE)
            return True

        return self.adapter.generate(spec, should_stop=held_stop, **hooks)
