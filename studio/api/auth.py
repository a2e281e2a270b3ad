"""Who is asking: an API token, or a logged-in session with its CSRF token.

The two are tried in this order on every route (they are the API's default
auth). A request that carries an ``Authorization`` header is judged by it
alone: a bad token is refused even from a browser that is logged in, so a
script never runs as whoever happens to be logged in. Session requests keep
Django's CSRF check for every method that changes something; token requests
carry no cookie a third-party page could ride on, so they skip it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from ninja.security.base import AuthBase

from studio.accounts.services import api_token_user
from studio.api.errors import ApiError

SAFE_METHODS = ("GET", "HEAD")


class ApiToken(AuthBase):
    """``Authorization: Bearer <token>``; tokens are made on the account page
    or with ``manage.py apitoken``."""

    scheme_name = "bearer"
    openapi_type = "http"
    openapi_scheme = "bearer"
    openapi_description = (
        "An API token from the account page or `manage.py apitoken`, sent as "
        "`Authorization: Bearer <token>`."
    )

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        user = api_token_user(token.strip()) if scheme == "Bearer" else None
        if user is None:
            raise ApiError(401, "Invalid API token.")
        request.user = user
        return user


class Session(AuthBase):
    """The studio's own pages: the session cookie, plus ``X-CSRFToken`` on
    every request that changes something."""

    scheme_name = "session"
    openapi_type = "apiKey"
    openapi_in = "cookie"
    openapi_description = (
        "The session of a logged-in browser; requests other than GET also "
        "send the CSRF token as `X-CSRFToken`."
    )
    # ninja's docs page sends the CSRF token when an auth asks for it.
    csrf = True

    def __init__(self) -> None:
        self.openapi_name = settings.SESSION_COOKIE_NAME
        super().__init__()

    def __call__(self, request: HttpRequest) -> Any:
        if request.headers.get("Authorization") or not request.user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and _csrf_refused(request):
            raise ApiError(403, "CSRF check failed.")
        return request.user


def _csrf_refused(request: HttpRequest) -> bool:
    check = CsrfViewMiddleware(lambda r: HttpResponse())
    check.process_request(request)
    return check.process_view(request, lambda r: HttpResponse(), (), {}) is not None


def default_auth() -> list[AuthBase]:
    return [ApiToken(), Session()]
