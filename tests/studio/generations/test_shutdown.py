"""Stopping a server gives the clip it is rendering back to the queue at once,
untried, instead of leaving it ``running`` until a sweep takes it back."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator

from studio.asgi import application
from studio.generations import runtime
from studio.generations.models import Generation
from tests.browser.conftest import ROOT, free_port, wait_until_up
from tests.studio.generations import processes
from tests.studio.generations.processes import (
    HeldAtTheFirstStep,
    api_user,
    generation_rows,
    submit,
    watch_until_started,
)

# Long enough on any CPU to be stopped part-way.
LONG_CLIP = {
    "prompt": "a red ball bouncing to the right",
    "num_frames": 48,
    "width": 64,
    "height": 64,
    "steps": 100,
    "seed": 5,
}


def stop_mid_clip(tmp_path, command: list[str], signum: int, group: bool = False):
    """Serve with ``command``, start a long clip, send ``signum`` at its
    first step; return the server's log and the clip's rows once it exits.

    A server that waited for the clip, or gave up waiting on its worker,
    leaves it ``succeeded`` or ``running``: the rows show which."""
    env = processes.studio_env(tmp_path)
    token = api_user(env)
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [arg.replace("{port}", str(port)) for arg in command],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=group,
        )  # fmt: skip
        try:
            wait_until_up(f"http://127.0.0.1:{port}/accounts/login/", server)
            created = submit(port, token, LONG_CLIP)
            received = watch_until_started(port, token, created["ws_url"])
            assert received[-1][0]["type"] == "progress"
            if group:  # a terminal's Ctrl+C reaches every process of the group
                os.killpg(server.pid, signum)
            else:
                server.send_signal(signum)
            try:
                server.wait(processes.PATIENCE)
            except subprocess.TimeoutExpired:
                log.flush()
                pytest.fail(
                    f"the server did not exit on signal {signum}:\n"
                    + log_path.read_text()[-4000:]
                )
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
    return log_path.read_text(), generation_rows(env)


def test_a_daphne_server_stopped_mid_clip_puts_the_clip_back_in_line(tmp_path):
    log, rows = stop_mid_clip(
        tmp_path,
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", "{port}",
         "studio.asgi:application"],
        signal.SIGTERM,
    )  # fmt: skip
    assert rows == ["queued 0 -"], log
    assert "goes back in the queue" in log


# A terminal's foreground job takes Ctrl+C with SIGINT's default disposition.
# A suite started in the background (``cmd &`` in a script) ignores SIGINT
# and passes that on to every process it starts; Python then installs no
# handler and Twisted leaves SIGINT ignored, so the server would never hear
# the Ctrl+C. Reset it, as the terminal would, before the server starts.
IN_A_TERMINAL = [
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])",
]


def test_ctrl_c_on_the_quickstart_server_puts_the_clip_back_in_line(tmp_path):
    # The command ./studio.sh start runs, as a terminal runs it.
    log, rows = stop_mid_clip(
        tmp_path,
        [sys.executable, *IN_A_TERMINAL, "manage.py", "runserver", "--noreload",
         "127.0.0.1:{port}"],
        signal.SIGINT,
        group=True,
    )  # fmt: skip
    assert rows == ["queued 0 -"], log
    assert "goes back in the queue" in log


def test_a_process_that_exits_while_its_worker_renders_puts_the_clip_back(tmp_path):
    env = processes.studio_env(tmp_path)
    api_user(env)
    script = """
import sys, time
from studio.generations import runtime
from studio.generations.models import Generation
from django.contrib.auth.models import User
clip = Generation.objects.create(
    owner=User.objects.get(username="ana"), prompt="a red ball bouncing",
    seed=5, settings={"prompt": "a red ball bouncing", "num_frames": 48, "fps": 8,
    "width": 64, "height": 64, "num_inference_steps": 100, "seed": 5},
)
runtime.install_exit_hooks(None)
runtime.ensure_started()
while not runtime.events.progress:
    time.sleep(0.01)
print("exiting mid-clip", flush=True)
sys.exit(0)
"""
    done = processes.manage(env, "shell", "-c", script)
    assert "exiting mid-clip" in done.stdout
    assert generation_rows(env) == ["queued 0 -"], done.stderr


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_asgi_lifespan_starts_the_worker_and_stopping_gives_its_clip_back(
    settings, alice, tiny_spec, tiny_adapter
):
    settings.STUDIO_SERVICE_AUTOSTART = True
    model = HeldAtTheFirstStep(tiny_adapter)
    await sync_to_async(runtime.ensure_started)(
        adapter_loader=lambda name, device: model,
        poll_interval=0.05,
        warm_model=None,
    )
    inbox: asyncio.Queue = asyncio.Queue()
    outbox: asyncio.Queue = asyncio.Queue()
    server = asyncio.create_task(
        application(
            {"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put
        )
    )
    try:
        await inbox.put({"type": "lifespan.startup"})
        started = await asyncio.wait_for(outbox.get(), processes.PATIENCE)
        assert started["type"] == "lifespan.startup.complete"
        assert runtime.current().running
        clip = await Generation.objects.acreate(
            owner=alice,
            prompt=tiny_spec.prompt,
            seed=tiny_spec.seed,
            settings=tiny_spec.to_dict(),
        )
        runtime.wake()
        assert await asyncio.to_thread(model.rendering.wait, processes.PATIENCE)
        await inbox.put({"type": "lifespan.shutdown"})
        # The clip is still rendering when the server stops.
        assert await asyncio.to_thread(model.stopping.wait, processes.PATIENCE)
        model.let_go.set()
        stopped = await asyncio.wait_for(outbox.get(), processes.PATIENCE)
        assert stopped["type"] == "lifespan.shutdown.complete"
        await asyncio.wait_for(server, processes.PATIENCE)
        # A request the stopping server still takes is answered, and starts
        # no worker that would claim the clip only to be cut off again.
        page = HttpCommunicator(
            application, "GET", "/accounts/login/", headers=[(b"host", b"testserver")]
        )
        response = await page.get_response(timeout=processes.PATIENCE)
        assert response["status"] == 200
        assert runtime.current() is None
    finally:
        model.let_go.set()
        await sync_to_async(runtime.stop)()
    clip = await Generation.objects.aget(pk=clip.pk)
    assert (clip.status, clip.attempts, clip.worker) == ("queued", 0, "")
