"""Websocket authentication by API token, and the Origin check around it."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.utils.http import is_same_domain

from studio.accounts.services import api_token_user


def _query_token(scope: dict[str, Any]) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    tokens = query.get("token")
    return tokens[0] if tokens else None


def _has_origin(scope: dict[str, Any]) -> bool:
    return any(name == b"origin" for name, _ in scope.get("headers", []))


def _handshake_request(scope: dict[str, Any]) -> ASGIRequest:
    """The opening handshake as Django sees an HTTP request, so that the host
    and scheme follow ALLOWED_HOSTS, USE_X_FORWARDED_HOST and
    SECURE_PROXY_SSL_HEADER exactly as they do for the studio's pages."""
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    http_scope = {**scope, "type": "http", "method": "GET", "scheme": scheme}
    return ASGIRequest(http_scope, io.BytesIO())


def origin_allowed(scope: dict[str, Any]) -> bool:
    """The Origin is the page that opened the socket: it must be the studio
    itself (scheme, host and port of the handshake) or one of
    CSRF_TRUSTED_ORIGINS, the same rule Django's CSRF check applies to forms.
    A page on another port or scheme of the same host is another site."""
    request = _handshake_request(scope)
    origin = request.headers.get("origin")
    if not origin:
        return False
    try:
        host = request.get_host()
    except DisallowedHost:
        return False
    if origin == f"{request.scheme}://{host}":
        return True
    trusted = settings.CSRF_TRUSTED_ORIGINS
    if origin in trusted:
        return True
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    return any(
        is_same_domain(parsed.netloc, pattern.netloc.lstrip("*"))
        for pattern in map(urlsplit, trusted)
        if "*" in pattern.netloc and pattern.scheme == parsed.scheme
    )


class TokenAuthMiddleware:
    """``?token=`` replaces the session's user; a bad token means nobody."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        token = _query_token(scope)
        if token is not None:
            user = await database_sync_to_async(api_token_user)(token)
            scope = {**scope, "user": user or AnonymousUser()}
        return await self.app(scope, receive, send)


class OriginCheck:
    """Browsers must come from one of the studio's own origins; a script with
    a token and no Origin header is no cross-site risk and may connect."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        if _query_token(scope) is not None and not _has_origin(scope):
            return await self.app(scope, receive, send)
        if not origin_allowed(scope):
            # Closing before the accept makes the server answer the
            # handshake with 403.
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)
