"""The one generation service of this server process, started on first use.

Nothing starts at import time: the ASGI app calls ``ensure_started`` when it
serves its first connection, and tests start a service only when they ask.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import gc
import logging
import sys
import threading
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from studio.generations.events import WORKERS_GROUP, LiveEvents

logger = logging.getLogger(__name__)

events = LiveEvents()
_service: Any = None
_listener: concurrent.futures.Future | None = None
_lock = threading.Lock()
# channels-redis forgets group members after a day; a worker re-joins sooner.
REJOIN_SECONDS = 600.0
# How long a stopping server waits for the clip being rendered to reach its
# next step and go back in the queue.
STOP_SECONDS = 10.0
_exit_hooks = False
# While a stop waits for the old worker, a fresh service would put the clip
# that worker still holds back in the queue and could claim it a second time.
_stops_in_progress = 0
# The loop of a server that has begun to stop: connections it still takes are
# answered, but start no service, since it would be cut off mid-clip.
_stopped_loop: asyncio.AbstractEventLoop | None = None


def ensure_started(**service_options: Any) -> Any:
    """Recover crashed jobs and start the worker, once per process.

    Returns the running service, or None while a stop is still waiting for
    the old one: the clip it holds goes back in the queue once, by its hand.
    """
    global _service
    with _lock:
        if _service is not None:
            return _service
        if _stops_in_progress:
            logger.debug("The generation service is stopping; none is started")
            return None
        from generation.service import GenerationService
        from studio.generations.store import OrmJobStore, recover_interrupted
        from studio.lib.credentials import clip_signer

        recover_interrupted()
        options = {
            "device": settings.STUDIO_DEVICE,
            # Every clip leaves the studio with Content Credentials.
            "signer": clip_signer(),
            # Loaded while the creator signs up, not when the first clip asks.
            "warm_model": settings.STUDIO_DEFAULT_MODEL,
            **service_options,
        }
        service = GenerationService(store=OrmJobStore(events), sink=events, **options)
        service.start()
        _service = service
        _listen_for_wakes(service)
        logger.info("Generation service started on %s", service.device)
        return service


def _listen_for_wakes(service: Any) -> None:
    """With a channel layer shared between processes, let clips queued in
    any process wake this worker at once instead of at its next poll."""
    global _listener
    loop = events.bound_loop
    if events.delivers_locally() or loop is None or not loop.is_running():
        return
    _listener = asyncio.run_coroutine_threadsafe(_wake_on_messages(service), loop)


async def _wake_on_messages(service: Any) -> None:
    layer = get_channel_layer()
    while True:
        try:
            channel = await layer.new_channel()
            while True:
                await layer.group_add(WORKERS_GROUP, channel)
                try:
                    async with asyncio.timeout(REJOIN_SECONDS):
                        while True:
                            message = await layer.receive(channel)
                            if message.get("type") == "worker.wake":
                                service.wake()
                except TimeoutError:
                    continue  # re-join before the group forgets this worker
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Listening for queued clips failed; polling meanwhile")
            await asyncio.sleep(5)


def stop(timeout: float = 10) -> None:
    global _service, _listener, _stops_in_progress
    with _lock:
        service, _service = _service, None
        listener, _listener = _listener, None
        _stops_in_progress += 1
    try:
        if listener is not None:
            listener.cancel()
        if service is not None:
            service.stop(timeout=timeout)
            # The worker's database connection dies with its thread's locals.
            gc.collect()
    finally:
        with _lock:
            _stops_in_progress -= 1


def current() -> Any:
    return _service


def wake() -> None:
    """A clip was queued: wake this process's worker, and any worker that
    runs in a process of its own."""
    if _service is not None:
        _service.wake()
    events.wake_workers()


def cancel(job_id: str) -> None:
    if _service is not None:
        _service.cancel(job_id)


async def stop_and_flush(timeout: float = STOP_SECONDS) -> None:
    """Stop the worker from the server's loop, then let the events it sent on
    the way out (a clip going back in the queue) reach their viewers."""
    global _stopped_loop
    _stopped_loop = asyncio.get_running_loop()
    await asyncio.to_thread(stop, timeout)
    try:
        async with asyncio.timeout(2):
            await events.flushed()
    except TimeoutError:
        logger.warning("Some live events were not sent before the server stopped")


def install_exit_hooks(loop: asyncio.AbstractEventLoop) -> None:
    """Give the clip being rendered back to the queue when the server stops,
    instead of leaving it ``running`` until a sweep takes it back.

    Daphne (and ``runserver --noreload``) stop a Twisted reactor on SIGINT or
    SIGTERM: the worker stops before the reactor does, while the loop can still
    send the clip's ``queued`` event. Any other exit (``runserver``'s reloader,
    ``sys.exit``) stops it at interpreter exit.
    """
    global _exit_hooks
    with _lock:
        if _exit_hooks:
            return
        _exit_hooks = True
    atexit.register(stop, STOP_SECONDS)
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is not None and getattr(reactor, "running", False):
        from twisted.internet import defer

        def before_shutdown() -> Any:
            return defer.Deferred.fromFuture(loop.create_task(stop_and_flush()))

        reactor.addSystemEventTrigger("before", "shutdown", before_shutdown)


class StudioApp:
    """Wraps the ASGI router: binds live events to the server's loop, starts
    the service with the first connection and stops it with the server."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        loop = asyncio.get_running_loop()
        if events.bound_loop is not loop:
            events.bind(loop)
            install_exit_hooks(loop)
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        if (
            _service is None
            and loop is not _stopped_loop
            and settings.STUDIO_SERVICE_AUTOSTART
        ):
            await asyncio.to_thread(ensure_started)
        await self.app(scope, receive, send)

    async def lifespan(self, receive: Any, send: Any) -> None:
        """ASGI servers that speak lifespan (Uvicorn, Hypercorn) start the
        worker with the server and stop it before they exit."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if settings.STUDIO_SERVICE_AUTOSTART:
                        await asyncio.to_thread(ensure_started)
                except Exception as error:
                    logger.exception("The generation service did not start")
                    await send(
                        {"type": "lifespan.startup.failed", "message": str(error)}
                    )
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await stop_and_flush()
                await send({"type": "lifespan.shutdown.complete"})
                return
