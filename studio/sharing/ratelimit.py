"""A per-address, fixed-window request limiter on Django's cache.

Behind a reverse proxy every request comes from the proxy's address; set
``STUDIO_TRUSTED_PROXIES`` to it and each visitor is counted on their own.
"""

from __future__ import annotations

import functools
import ipaddress
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

WINDOW_SECONDS = 60


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy) for proxy in proxies)


def _address(text: str) -> Address | None:
    """An address as proxies write it: bare, or with a port ("1.2.3.4:80",
    "[2001:db8::1]:80"), so that one client is one key whatever its port."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address | None, proxies: tuple[Network, ...]) -> bool:
    return address is not None and any(address in net for net in proxies)


def client_address(request: HttpRequest) -> str:
    """The address a request is counted under.

    A request from one of ``STUDIO_TRUSTED_PROXIES`` counts under the
    right-most X-Forwarded-For entry that is not a trusted proxy: each proxy
    appends the address it was reached from, so the entries up to that one were
    written by trusted proxies, and anything left of it by the client, who may
    write anything. A request from anyone else counts under its own address,
    whatever X-Forwarded-For it sends.
    """
    return _counted_address(
        request.META.get("REMOTE_ADDR") or "unknown",
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
    )


def scope_address(scope: dict[str, Any]) -> str:
    """The address a websocket's handshake is counted under, by the same
    rule as :func:`client_address`."""
    client = scope.get("client")
    remote = str(client[0]) if client else "unknown"
    forwarded = ",".join(
        value.decode("latin-1")
        for name, value in scope.get("headers", [])
        if name == b"x-forwarded-for"
    )
    return _counted_address(remote, forwarded)


def _counted_address(remote: str, forwarded: str) -> str:
    proxies = _networks(tuple(settings.STUDIO_TRUSTED_PROXIES))
    if not _is_trusted(_address(remote), proxies):
        return remote
    hops = [hop for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if not _is_trusted(address, proxies):
            return str(address) if address else hop.strip()[:64]
    return remote


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
                # A cache must not keep answering 429 once the window is over.
                response["Cache-Control"] = "no-store"
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
