"""python manage.py worker [--device D] [--poll S]

A generation worker in a process of its own, e.g. one per GPU machine, with
the web servers started with STUDIO_SERVICE_AUTOSTART=false. It claims clips
from the database every server shares and sends its live events through the
Redis channel layer, so viewers of any server process see every step.
"""

from __future__ import annotations

import asyncio
import re
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from studio.generations import runtime
from studio.generations.store import worker_name

DEVICES = "auto, cpu, cuda, cuda:N or mps"
DEVICE_NAME = re.compile(r"auto|cpu|mps|cuda(:\d{1,2})?")


def check_device(device: str) -> str:
    """Why the worker cannot render on ``device``; "" when it can."""
    if not DEVICE_NAME.fullmatch(device):
        return f"Unknown device {device!r}: use {DEVICES}."
    import torch

    if device.startswith("cuda"):
        index = int(device.partition(":")[2] or 0)
        if not torch.cuda.is_available():
            return "This machine has no CUDA GPU that torch can use."
        if index >= torch.cuda.device_count():
            return f"There is no {device} here: {torch.cuda.device_count()} GPU(s)."
    if device == "mps" and not torch.backends.mps.is_available():
        return "This machine has no Apple GPU (mps) that torch can use."
    return ""


class Command(BaseCommand):
    help = (
        "Run a generation worker in its own process: claim clips from the "
        "shared queue, render them, and stream their previews through Redis."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--device",
            default=None,
            help=f"Where to render: {DEVICES} (default: STUDIO_DEVICE).",
        )
        parser.add_argument(
            "--poll",
            type=float,
            default=1.0,
            help="Seconds between looks at the queue when no wake-up arrives (0.1–60).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if runtime.events.delivers_locally():
            raise CommandError(
                "A worker in its own process needs REDIS_URL: its live previews "
                "reach the studio's viewers through Redis."
            )
        poll = options["poll"]
        if not 0.1 <= poll <= 60:
            raise CommandError("--poll must be between 0.1 and 60 seconds.")
        device = options["device"] or settings.STUDIO_DEVICE
        problem = check_device(device)
        if problem:
            raise CommandError(problem)
        loop = asyncio.new_event_loop()
        events_thread = threading.Thread(
            target=loop.run_forever, name="worker-events", daemon=True
        )
        events_thread.start()
        asyncio.run_coroutine_threadsafe(_bind(loop), loop).result()
        service = runtime.ensure_started(device=device, poll_interval=poll)

        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())
        self.stdout.write(
            f"Worker {worker_name()} on {service.device} is waiting for clips "
            "(Ctrl+C stops it).",
        )
        self.stdout.flush()
        while not stopping.wait(0.5):
            if not service.running:
                break
        self.stdout.write("Stopping: a clip being rendered goes back in the queue.")
        runtime.stop()
        # The last events (a stopped clip's "failed") still reach its viewers.
        asyncio.run_coroutine_threadsafe(runtime.events.flushed(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        events_thread.join(5)


async def _bind(loop: asyncio.AbstractEventLoop) -> None:
    runtime.events.bind(loop)
