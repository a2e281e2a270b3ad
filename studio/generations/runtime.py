"""The one generation service of this server process, started on first use.

Nothing starts at import time: the ASGI app calls ``ensure_started`` when it
serves its first connection, and tests start a service only when they ask.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from typing import Any

from django.conf import settings

from studio.generations.events import LiveEvents

logger = logging.getLogger(__name__)

events = LiveEvents()
_service: Any = None
_lock = threading.Lock()


def ensure_started(**service_options: Any) -> Any:
    """Recover crashed jobs and start the worker, once per process."""
    global _service
    with _lock:
        if _service is not None:
            return _service
        from generation.service import GenerationService
        from studio.galleries.credentials import clip_signer
        from studio.generations.store import OrmJobStore, recover_interrupted

        recover_interrupted()
        options = {
            "device": settings.STUDIO_DEVICE,
            # Every clip leaves the studio with Content Credentials.
            "signer": clip_signer(),
            **service_options,
        }
        service = GenerationService(store=OrmJobStore(events), sink=events, **options)
        service.start()
        _service = service
        logger.info("Generation service started on %s", service.device)
        return service


def stop(timeout: float = 10) -> None:
    global _service
    with _lock:
        service, _service = _service, None
    if service is not None:
        service.stop(timeout=timeout)
        # The worker's database connection dies with its thread's locals.
        gc.collect()


def current() -> Any:
    return _service


def wake() -> None:
    if _service is not None:
        _service.wake()


def cancel(job_id: str) -> None:
    if _service is not None:
        _service.cancel(job_id)


class StudioApp:
    """Wraps the ASGI router: binds live events to the server's loop and
    starts the service with the first connection."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        loop = asyncio.get_running_loop()
        if events.bound_loop is not loop:
            events.bind(loop)
        if _service is None and settings.STUDIO_SERVICE_AUTOSTART:
            await asyncio.to_thread(ensure_started)
        await self.app(scope, receive, send)
