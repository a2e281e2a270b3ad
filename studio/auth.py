"""Websocket authentication by API token, and the Origin check around it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser

from studio.accounts.services import api_token_user


def _query_token(scope: dict[str, Any]) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    tokens = query.get("token")
    return tokens[0] if tokens else None


def _has_origin(scope: dict[str, Any]) -> bool:
    return any(name == b"origin" for name, _ in scope.get("headers", []))


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
    """Browsers must come from an allowed host; a script with a token and
    no Origin header is no cross-site risk and may connect."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.checked = AllowedHostsOriginValidator(app)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        if _query_token(scope) is not None and not _has_origin(scope):
            return await self.app(scope, receive, send)
        return await self.checked(scope, receive, send)
