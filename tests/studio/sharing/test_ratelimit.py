"""Whose address a rate limit counts: a trusted proxy's forwarded client, or
the connection's own address, never a header an arbitrary client wrote."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client, RequestFactory

from studio.sharing.ratelimit import client_address
from tests.studio.test_settings import run_manage


def _guesses(client: Client, forwarded: list[str]) -> list[int]:
    return [
        client.get(f"/s/{uuid.uuid4().hex}/", HTTP_X_FORWARDED_FOR=hop).status_code
        for hop in forwarded
    ]


def _address(remote: str, forwarded: str | None = None) -> str:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **headers))


@pytest.mark.django_db
def test_a_visitor_cannot_escape_its_limit_by_writing_x_forwarded_for(settings):
    settings.STUDIO_SHARE_RATE_LIMIT = 2
    settings.STUDIO_TRUSTED_PROXIES = ["10.0.0.1"]
    visitor = Client(REMOTE_ADDR="203.0.113.9")
    codes = _guesses(visitor, ["198.51.100.1", "198.51.100.2", "198.51.100.3"])
    assert codes == [404, 404, 429]


@pytest.mark.django_db
def test_visitors_behind_a_trusted_proxy_are_counted_apart(settings):
    settings.STUDIO_SHARE_RATE_LIMIT = 2
    settings.STUDIO_TRUSTED_PROXIES = ["10.0.0.1"]
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    assert _guesses(proxy, ["198.51.100.1"] * 3) == [404, 404, 429]
    assert _guesses(proxy, ["198.51.100.2"]) == [404]


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.STUDIO_TRUSTED_PROXIES = []
    assert _address("127.0.0.1", "198.51.100.1") == "127.0.0.1"


def test_the_right_most_address_no_trusted_proxy_wrote_is_the_client(settings):
    settings.STUDIO_TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8:ffff::/48"]
    # The visitor wrote 192.0.2.1 itself; the proxies appended the rest.
    chain = "192.0.2.1, 198.51.100.7, 10.1.2.3"
    assert _address("10.0.0.1", chain) == "198.51.100.7"
    assert _address("2001:db8:ffff::1", chain) == "198.51.100.7"
    assert _address("::ffff:10.0.0.1", chain) == "198.51.100.7"


def test_a_forwarded_port_does_not_make_a_new_visitor(settings):
    settings.STUDIO_TRUSTED_PROXIES = ["10.0.0.1"]
    assert _address("10.0.0.1", "198.51.100.7:5123") == "198.51.100.7"
    assert _address("10.0.0.1", "[2001:db8::7]:5123") == "2001:db8::7"


def test_a_request_from_the_proxy_itself_counts_under_the_proxy(settings):
    settings.STUDIO_TRUSTED_PROXIES = ["10.0.0.1"]
    assert _address("10.0.0.1") == "10.0.0.1"
    assert _address("10.0.0.1", "10.0.0.1") == "10.0.0.1"


def test_a_trusted_proxy_that_is_not_an_address_is_refused_at_start():
    result = run_manage("check", STUDIO_TRUSTED_PROXIES="proxy.example")
    assert result.returncode != 0
    assert "STUDIO_TRUSTED_PROXIES" in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("scope", ["page", "media"])
def test_the_too_many_requests_answer_is_never_cached(settings, scope):
    settings.STUDIO_SHARE_RATE_LIMIT = 1
    settings.STUDIO_SHARE_MEDIA_RATE_LIMIT = 1
    token = uuid.uuid4().hex
    url = f"/s/{token}/" if scope == "page" else f"/s/{token}/cut/render.mp4"
    visitor = Client(REMOTE_ADDR="203.0.113.77")
    visitor.get(url)
    refused = visitor.get(url)
    assert refused.status_code == 429
    assert refused["Cache-Control"] == "no-store"
    assert refused["Retry-After"] == "60"
