"""Files a share serves that are too slow to make inside a visitor's request
(format exports, a gallery's ZIP, prompt-free copies of a large gallery):
one background thread makes them, one at a time.

Jobs are keyed by the file they make, so asking again for a file already
queued or being made adds nothing; at most ``limit`` jobs wait. A visitor can
thus only ever cause one job per shared file at a time, and a made file is
kept, so it is made once. Each server process has its own preparer; the
files are written under a temporary name and moved into place, so two
processes making one file at once only repeat work.

Jobs get everything they need when they are queued and read no database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import connections

logger = logging.getLogger(__name__)

# A failed job is not tried again for this long, so a visitor's retries
# cannot keep the thread busy with a file that cannot be made.
FAILURE_MEMORY_SECONDS = 60
MAX_REMEMBERED_FAILURES = 256


class Preparer:
    def __init__(self, *, limit: int, name: str = "share-preparer") -> None:
        self.limit = limit
        self._name = name
        self._state = threading.Condition()
        self._queue: dict[str, Callable[[], object]] = {}
        self._running: str | None = None
        self._thread: threading.Thread | None = None
        self._failures: dict[str, float] = {}

    def submit(self, key: str, job: Callable[[], object]) -> bool:
        """Queue ``job`` to make the file ``key`` unless it is already queued
        or being made. False when the queue is full: the caller says so and
        the visitor tries again later."""
        with self._state:
            if key == self._running or key in self._queue:
                return True
            if len(self._queue) >= self.limit:
                return False
            self._failures.pop(key, None)
            self._queue[key] = job
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name=self._name, daemon=True
                )
                self._thread.start()
            return True

    def is_pending(self, key: str) -> bool:
        with self._state:
            return key == self._running or key in self._queue

    def pending(self) -> list[str]:
        """The keys being made or waiting, the one being made first."""
        with self._state:
            running = [self._running] if self._running else []
            return running + list(self._queue)

    def failed(self, key: str) -> bool:
        """Whether the last try to make ``key`` failed a short while ago."""
        with self._state:
            when = self._failures.get(key)
            return when is not None and time.monotonic() - when < (
                FAILURE_MEMORY_SECONDS
            )

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or being made; False on timeout."""
        with self._state:
            return self._state.wait_for(
                lambda: not self._queue and self._running is None, timeout
            )

    def _work(self) -> None:
        while True:
            with self._state:
                if not self._queue:
                    self._thread = None
                    self._state.notify_all()
                    return
                key = next(iter(self._queue))
                job = self._queue.pop(key)
                self._running = key
            ok = self._run(key, job)
            with self._state:
                self._running = None
                if not ok:
                    self._remember_failure(key)
                self._state.notify_all()

    def _run(self, key: str, job: Callable[[], object]) -> bool:
        try:
            job()
        except Exception:
            logger.exception("Could not prepare %s", key)
            return False
        finally:
            # Jobs read no database; a connection one opened anyway must not
            # outlive this thread.
            connections.close_all()
        return True

    def _remember_failure(self, key: str) -> None:
        self._failures[key] = time.monotonic()
        while len(self._failures) > MAX_REMEMBERED_FAILURES:
            self._failures.pop(next(iter(self._failures)))


# Waiting jobs: enough for a page of clips' copies and a few downloads.
preparer = Preparer(limit=64)
