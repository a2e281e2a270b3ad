"""The websocket Origin check: only the studio's own pages, and the origins
the operator trusts, may open a socket with a creator's session."""

from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path

import pytest
from channels.db import database_sync_to_async

import studio
from studio.accounts.services import api_token_create
from studio.asgi import application
from tests.studio.sockets import PatientCommunicator

pytestmark = pytest.mark.django_db(transaction=True)

PROXY = ("HTTP_X_FORWARDED_PROTO", "https")


async def opens(path: str, *headers: tuple[bytes, bytes], scheme: str = "ws") -> bool:
    """Whether the socket is accepted; a refusal closes before the accept."""
    ws = PatientCommunicator(application, path, headers=list(headers))
    ws.scope["scheme"] = scheme
    connected, _ = await ws.connect()
    if connected:
        await ws.disconnect()
    return connected


def header(name: str, value: str) -> tuple[bytes, bytes]:
    return (name.encode(), value.encode())


@pytest.fixture
def url(generation) -> str:
    return f"/ws/generations/{generation.pk}"


async def test_a_page_of_the_studio_itself_opens_the_socket(url, alice_cookie):
    assert await opens(
        url,
        header("host", "127.0.0.1:8000"),
        header("origin", "http://127.0.0.1:8000"),
        alice_cookie,
    )


async def test_a_page_on_another_port_of_the_same_host_is_refused(url, alice_cookie):
    assert not await opens(
        url,
        header("host", "127.0.0.1:8000"),
        header("origin", "http://127.0.0.1:9999"),
        alice_cookie,
    )


async def test_a_page_on_the_default_port_is_not_the_studio_on_another(
    url, alice_cookie
):
    assert not await opens(
        url,
        header("host", "localhost:8000"),
        header("origin", "http://localhost"),
        alice_cookie,
    )


async def test_a_page_over_another_scheme_is_refused(url, alice_cookie):
    assert not await opens(
        url,
        header("host", "localhost"),
        header("origin", "https://localhost"),
        alice_cookie,
    )


async def test_a_secure_socket_wants_a_secure_page(url, alice_cookie):
    host = header("host", "localhost")
    assert not await opens(
        url, host, header("origin", "http://localhost"), alice_cookie, scheme="wss"
    )
    assert await opens(
        url, host, header("origin", "https://localhost"), alice_cookie, scheme="wss"
    )


async def test_a_page_of_another_host_is_refused(url, alice_cookie):
    assert not await opens(
        url,
        header("host", "localhost"),
        header("origin", "http://evil.example"),
        alice_cookie,
    )


async def test_a_host_outside_allowed_hosts_is_refused_even_from_itself(
    url, alice_cookie
):
    assert not await opens(
        url,
        header("host", "evil.example"),
        header("origin", "http://evil.example"),
        alice_cookie,
    )


async def test_a_browser_without_a_host_header_is_refused(url, alice_cookie):
    assert not await opens(url, header("origin", "http://localhost"), alice_cookie)


async def test_an_opaque_origin_is_refused(url, alice_cookie):
    assert not await opens(
        url, header("host", "localhost"), header("origin", "null"), alice_cookie
    )


async def test_two_origin_headers_are_refused(url, alice_cookie):
    assert not await opens(
        url,
        header("host", "localhost"),
        header("origin", "http://localhost"),
        header("origin", "http://evil.example"),
        alice_cookie,
    )


async def test_the_forwarded_scheme_counts_only_when_the_proxy_is_trusted(
    url, alice_cookie, settings
):
    headers = [
        header("host", "studio.example.com"),
        header("x-forwarded-proto", "https"),
        header("origin", "https://studio.example.com"),
        alice_cookie,
    ]
    settings.ALLOWED_HOSTS = ["studio.example.com"]
    settings.SECURE_PROXY_SSL_HEADER = None
    assert not await opens(url, *headers)
    settings.SECURE_PROXY_SSL_HEADER = PROXY
    assert await opens(url, *headers)


async def test_a_plain_page_is_refused_behind_a_proxy_that_says_https(
    url, alice_cookie, settings
):
    settings.SECURE_PROXY_SSL_HEADER = PROXY
    assert not await opens(
        url,
        header("host", "localhost"),
        header("x-forwarded-proto", "https"),
        header("origin", "http://localhost"),
        alice_cookie,
    )


async def test_an_origin_the_operator_trusts_opens_the_socket(
    url, alice_cookie, settings
):
    settings.CSRF_TRUSTED_ORIGINS = ["https://studio.example.com"]
    host = header("host", "localhost:8000")
    assert await opens(
        url, host, header("origin", "https://studio.example.com"), alice_cookie
    )
    assert not await opens(
        url, host, header("origin", "http://studio.example.com"), alice_cookie
    )


async def test_a_trusted_wildcard_covers_its_subdomains_only(
    url, alice_cookie, settings
):
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com"]
    host = header("host", "localhost")
    assert await opens(
        url, host, header("origin", "https://studio.example.com"), alice_cookie
    )
    assert not await opens(
        url, host, header("origin", "https://example.org"), alice_cookie
    )


async def test_a_trusted_origin_still_needs_an_allowed_host(
    url, alice_cookie, settings
):
    settings.CSRF_TRUSTED_ORIGINS = ["https://studio.example.com"]
    assert not await opens(
        url,
        header("host", "evil.example"),
        header("origin", "https://studio.example.com"),
        alice_cookie,
    )


async def test_a_script_with_a_token_and_no_origin_connects(url, alice):
    _, token = await database_sync_to_async(api_token_create)(user=alice, name="t")
    assert await opens(f"{url}?token={token}")


async def test_a_token_does_not_excuse_a_foreign_origin(url, alice):
    _, token = await database_sync_to_async(api_token_create)(user=alice, name="t")
    assert not await opens(
        f"{url}?token={token}",
        header("host", "localhost"),
        header("origin", "http://127.0.0.1:9999"),
    )


def websocket_routes() -> list[str]:
    """Every route of every routing.py under studio/, with its parameters filled."""
    root = Path(studio.__file__).parent
    routes = []
    for module_path in sorted(root.rglob("routing.py")):
        parts = module_path.relative_to(root.parent).with_suffix("").parts
        for pattern in import_module(".".join(parts)).websocket_urlpatterns:
            routes.append("/" + re.sub(r"<[^>]+>", "x", str(pattern.pattern)))
    return routes


@pytest.mark.parametrize("route", websocket_routes())
async def test_every_websocket_route_refuses_a_foreign_origin(route, alice_cookie):
    assert not await opens(
        route,
        header("host", "localhost"),
        header("origin", "http://localhost:9999"),
        alice_cookie,
    )
