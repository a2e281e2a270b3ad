"""A per-address, fixed-window request limiter on Django's cache."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

WINDOW_SECONDS = 60


def client_address(request: HttpRequest) -> str:
    # Behind a proxy, the proxy should set REMOTE_ADDR (e.g. uvicorn's
    # --proxy-headers); a client-sent X-Forwarded-For is not to be believed.
    return request.META.get("REMOTE_ADDR") or "unknown"


def allow(scope: str, key: str, *, limit: int, window: int = WINDOW_SECONDS) -> bool:
    """Count one request for ``key``; False once ``limit`` is passed this window."""
    bucket = int(time.time() // window)
    cache_key = f"rate:{scope}:{key}:{bucket}"
    if cache.add(cache_key, 1, window + 1):
        return limit >= 1
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, window + 1)
        count = 1
    return count <= limit


def rate_limited(scope: str, setting: str) -> Callable[[Callable], Callable]:
    """Answer 429 past ``settings.<setting>`` requests per minute per address."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            limit = getattr(settings, setting)
            if not allow(scope, client_address(request), limit=limit):
                response = render(request, "sharing/rate_limited.html", status=429)
                response["Retry-After"] = str(WINDOW_SECONDS)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
