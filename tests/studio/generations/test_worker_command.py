"""`manage.py worker`: a generation worker in a process of its own.

These start real processes: a Daphne server without a worker and a worker
beside it, sharing one SQLite file and the Redis server of this machine (the
suite's runner starts it) on a database of their own.
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from generation.encode import probe_video
from tests.browser.conftest import ROOT, free_port, wait_until_up
from tests.studio.generations import processes
from tests.studio.generations.processes import (
    FINAL,
    api_user,
    generation_rows,
    manage,
    submit,
    watch,
)

REDIS = "redis://127.0.0.1:6379/7"


@pytest.fixture
def studio_env(tmp_path) -> dict[str, str]:
    return processes.studio_env(
        tmp_path, REDIS_URL=REDIS, STUDIO_SERVICE_AUTOSTART="false"
    )


def test_a_worker_without_redis_refuses_to_start_and_says_why(studio_env):
    env = {k: v for k, v in studio_env.items() if k != "REDIS_URL"}
    done = manage(env, "worker", check=False)
    assert done.returncode != 0
    assert "needs REDIS_URL" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--device", "gpu9"], "Unknown device 'gpu9'"),
        (["--poll", "0"], "--poll must be between 0.1 and 60 seconds"),
        (["--poll", "soon"], "invalid float value"),
    ],
)
def test_a_worker_with_a_bad_option_says_what_is_wrong(studio_env, args, message):
    done = manage(studio_env, "worker", *args, check=False)
    assert done.returncode != 0
    assert message in done.stderr


def test_a_worker_in_its_own_process_renders_what_a_server_queues(studio_env, tmp_path):
    token = api_user(studio_env)
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "studio.asgi:application"],
        cwd=ROOT, env=studio_env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    # The longest poll: only the wake-up through Redis starts a clip promptly.
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--device", "cpu", "--poll", "60"],
        cwd=ROOT, env=studio_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        wait_until_up(f"http://127.0.0.1:{port}/accounts/login/", server)
        # Ready, and its model warm: the worker looks at the queue once, then
        # only when woken (or a minute later).
        assert processes.read_until(
            worker, "is waiting for clips", ("is loaded and warm", "warming up")
        )
        body = {"prompt": "a red ball bouncing to the right", "num_frames": 8,
                "width": 64, "height": 64, "steps": 4, "seed": 5}  # fmt: skip
        created = submit(port, token, body)
        received = asyncio.run(watch(port, token, created["ws_url"]))

        # Stopped mid-clip (a deploy), the worker puts the clip back in line.
        long = submit(port, token, {**body, "num_frames": 48, "steps": 100})

        def stop_at_the_first_step(event):
            if event["type"] == "progress" and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)

        interrupted = asyncio.run(
            watch(
                port, token, long["ws_url"], {"queued"} | FINAL, stop_at_the_first_step
            )
        )
        output, _ = worker.communicate(timeout=processes.PATIENCE)
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            worker.communicate(timeout=processes.PATIENCE)
        server.terminate()
        server.wait(processes.PATIENCE)
        log.close()

    events = [event for event, _ in received if event != "preview"]
    assert events[0]["type"] == "state"
    # Claimed because the server's wake-up reached it (or by the look the worker
    # takes as it starts), not by the minute's poll.
    claimed = re.search(rf"generation {created['id']} claimed \((.+?)\)", output)
    assert claimed and claimed.group(1) in ("woken", "at start"), output
    assert [e["step"] for e in events if e["type"] == "progress"][-1] == 4
    assert sum(1 for event, _ in received if event == "preview") >= 3
    assert events[-1]["type"] == "succeeded"
    video = events[-1]["video_url"].removeprefix("/media/")
    assert probe_video(Path(studio_env["STUDIO_MEDIA_ROOT"]) / video)["frames"] == 8
    rows = generation_rows(studio_env)[-2:]
    assert rows[0].startswith(f"succeeded 1 {socket.gethostname()}:{worker.pid}:")

    assert interrupted[-1][0]["type"] == "queued"
    assert rows[1] == "queued 0 -"
    assert worker.returncode == 0
    assert "goes back in the queue" in output
