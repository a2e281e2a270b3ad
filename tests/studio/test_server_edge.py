"""The server's edge, spoken to as an attacker would: raw HTTP and websocket
frames over real sockets, against the studio's two server commands.

``production`` is the README's command (``python -m studio.server``) and
``runserver`` is what ``./studio.sh start`` serves; both run in their own
process, on their own SQLite file, and their memory is read from /proc.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from studio.generations.api import MAX_MULTIPART_BYTES
from tests.browser.conftest import ROOT, free_port, live_manage, wait_until_up

MB = 2**20
# How far above idle the server may grow while an oversized body streams in.
MEMORY_HEADROOM = 100 * MB
COMMANDS = {
    "production": [
        "-m",
        "studio.server",
        "-b",
        "127.0.0.1",
        "-p",
        "{port}",
        "studio.asgi:application",
    ],
    "runserver": ["manage.py", "runserver", "--noreload", "127.0.0.1:{port}"],
}


@dataclass
class Studio:
    port: int
    pid: int
    token: str

    def rss(self) -> int:
        """The server process's resident memory, in bytes."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port))

    def exchange(self, request: bytes) -> Response:
        """Send ``request`` and read the answer until the server closes."""
        with self.connect() as sock:
            sock.sendall(request)
            return read_response(sock)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        assert self.headers["content-type"] == "application/json"
        return json.loads(self.body)


def read_response(sock: socket.socket) -> Response:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        # A server that refuses a body closes with the rest of it unread,
        # which resets the connection once the answer is out.
        if not data:
            raise
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Response(int(status_line.split()[1]), headers, body)


def head(method: str, path: str, *headers: str) -> bytes:
    # One request a connection: the answer ends where the connection does.
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += headers
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def multipart(fields: dict[str, str], boundary: str = "edge-boundary") -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        f"{value}\r\n"
        for name, value in fields.items()
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


def chunked(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


def start(command: str, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    args = [arg.format(port=port) for arg in COMMANDS[command]]
    folder = Path(env["STUDIO_MEDIA_ROOT"]).parent
    log = (folder / f"{command}.log").open("w")
    server = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    try:
        wait_until_up(f"http://127.0.0.1:{port}/accounts/login/", server)
    except Exception:
        server.kill()
        raise
    return server, port


@pytest.fixture(scope="module")
def edge_env(tmp_path_factory) -> dict[str, str]:
    """A studio of its own, without a worker: queued clips stay queued.
    Requests from this machine come through a trusted proxy."""
    folder = tmp_path_factory.mktemp("edge")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "STUDIO_MEDIA_ROOT": str(folder / "media"),
        "STUDIO_DATA_DIR": str(folder / "data"),
        "DJANGO_DEBUG": "1",
        "STUDIO_SERVICE_AUTOSTART": "0",
        "STUDIO_TRUSTED_PROXIES": "127.0.0.1",
        "STUDIO_SHARE_RATE_LIMIT": "2",
        "PYTHONUNBUFFERED": "1",
    }
    live_manage(env, "migrate", "--noinput", "-v", "0")
    live_manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User;"
        "User.objects.create_user('alice', password='a-long-enough-passphrase')",
    )
    return env


@pytest.fixture(scope="module")
def alice_token(edge_env) -> str:
    return live_manage(edge_env, "apitoken", "alice").strip().splitlines()[-1]


def _serve(command: str, env: dict[str, str], token: str) -> Iterator[Studio]:
    server, port = start(command, env)
    try:
        yield Studio(port=port, pid=server.pid, token=token)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module", params=["production", "runserver"])
def either_server(request, edge_env, alice_token) -> Iterator[Studio]:
    yield from _serve(request.param, edge_env, alice_token)


@pytest.fixture(scope="module")
def production_server(edge_env, alice_token) -> Iterator[Studio]:
    yield from _serve("production", edge_env, alice_token)


def api_post(studio: Studio, *headers: str) -> bytes:
    return head(
        "POST",
        "/api/generations",
        f"Authorization: Bearer {studio.token}",
        *headers,
    )


# Oversized bodies


def test_a_body_over_the_largest_upload_is_refused_before_it_is_sent(
    either_server,
):
    # Only the head goes out: the answer can only come from its Content-Length.
    answer = either_server.exchange(
        head(
            "POST",
            "/accounts/login/",
            "Content-Type: multipart/form-data; boundary=x",
            f"Content-Length: {200 * MB}",
        )
    )
    assert answer.status == 413
    assert answer.headers["content-type"].startswith("text/plain")
    assert b"too large" in answer.body


def test_an_api_body_over_the_largest_upload_is_refused_in_json(either_server):
    answer = either_server.exchange(
        head(
            "POST",
            "/api/generations",
            "Content-Type: multipart/form-data; boundary=x",
            f"Content-Length: {MAX_MULTIPART_BYTES + 1}",
            "Expect: 100-continue",
        )
    )
    assert answer.status == 413
    assert "too large" in answer.json()["error"]


def test_a_chunked_body_is_cut_off_at_the_largest_upload_in_little_memory(
    either_server,
):
    studio = either_server
    assert studio.exchange(head("GET", "/accounts/login/")).status == 200
    idle = studio.rss()
    peak = idle
    chunk = b"%x\r\n%s\r\n" % (MB, b"x" * MB)
    sent = 0
    with studio.connect() as sock:
        sock.sendall(
            head(
                "POST",
                "/accounts/login/",
                "Content-Type: multipart/form-data; boundary=x",
                "Transfer-Encoding: chunked",
            )
        )
        try:
            while sent < 3 * MAX_MULTIPART_BYTES:
                sock.sendall(chunk)
                sent += MB
                if sent % (4 * MB) == 0:
                    peak = max(peak, studio.rss())
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_response(sock)
    assert answer.status == 413
    assert sent < 3 * MAX_MULTIPART_BYTES, "the server read the whole body"
    assert peak - idle < MEMORY_HEADROOM, f"{(peak - idle) / MB:.0f} MB over idle"


def test_a_chunked_upload_reaches_the_studio_whole(production_server):
    studio = production_server
    body = multipart({"settings": json.dumps({"prompt": "a red ball bouncing"})})
    answer = studio.exchange(
        api_post(
            studio,
            "Content-Type: multipart/form-data; boundary=edge-boundary",
            "Transfer-Encoding: chunked",
        )
        + chunked(body)
    )
    assert answer.status == 201, answer.body
    assert answer.json()["settings"]["prompt"] == "a red ball bouncing"


# Malformed requests


def test_a_malformed_multipart_body_is_a_400_with_a_message_in_json(
    production_server,
):
    studio = production_server
    body = b"--edge-boundary\r\nContent-Disposition: form-data\r\n\r\nno end"
    answer = studio.exchange(
        api_post(
            studio,
            "Content-Type: multipart/form-data; boundary=",
            f"Content-Length: {len(body)}",
        )
        + body
    )
    assert answer.status == 400
    # The documented shape of the route's 400s, with the reason.
    [reason] = answer.json()["errors"]["__all__"]
    assert reason.startswith("The form could not be read")


def test_a_malformed_multipart_form_is_a_400_page_with_a_message(
    production_server,
):
    studio = production_server
    csrf = "c" * 32
    body = b"--edge-boundary\r\nContent-Disposition: form-data\r\n\r\nno end"
    answer = studio.exchange(
        head(
            "POST",
            "/accounts/login/",
            f"Cookie: csrftoken={csrf}",
            f"X-CSRFToken: {csrf}",
            "Content-Type: multipart/form-data; boundary=",
            f"Content-Length: {len(body)}",
        )
        + body
    )
    assert answer.status == 400
    assert b"could not read" in answer.body


def test_a_20_kb_address_is_a_414(production_server):
    answer = production_server.exchange(head("GET", "/" + "a" * 20_000))
    assert answer.status == 414
    assert answer.body == b"The address is too long."


def test_a_20_kb_api_address_is_a_414_in_json(production_server):
    answer = production_server.exchange(head("GET", "/api/" + "a" * 20_000))
    assert answer.status == 414
    assert answer.json() == {"error": "The address is too long."}


def test_a_malformed_header_is_a_400_with_a_message(production_server):
    answer = production_server.exchange(head("GET", "/", "No colon here"))
    assert answer.status == 400
    assert answer.body == b"The request could not be read."


# Websocket frames


@pytest.fixture(scope="module")
def generation_socket(production_server) -> str:
    """The websocket address of a clip alice queued (no worker takes it)."""
    studio = production_server
    body = json.dumps({"prompt": "a red ball bouncing"}).encode()
    answer = studio.exchange(
        api_post(
            studio,
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
        )
        + body
    )
    assert answer.status == 201, answer.body
    ws_url = answer.json()["ws_url"]
    return f"ws://127.0.0.1:{studio.port}{ws_url}?token={studio.token}"


async def _close_code_after(url: str, message: bytes, *, text: bool) -> int | None:
    async with connect(url) as ws:
        assert json.loads(await ws.recv())["type"] == "state"
        with pytest.raises(ConnectionClosedError):
            await ws.send(message, text=text)
            await ws.recv()
        return ws.close_code


def test_a_16_mb_frame_closes_the_socket_with_1009(generation_socket):
    code = asyncio.run(
        _close_code_after(generation_socket, b"x" * (16 * MB), text=False)
    )
    assert code == 1009


def test_a_text_message_that_is_not_utf8_closes_the_socket_with_1007(
    generation_socket,
):
    code = asyncio.run(_close_code_after(generation_socket, b"\xff\xfe", text=True))
    assert code == 1007


# Behind a proxy


def _share_guess(studio: Studio, forwarded_for: str) -> int:
    # Guessing share tokens is rate-limited like opening a share, per client.
    path = f"/s/{uuid.uuid4().hex}/"
    return studio.exchange(
        head("GET", path, f"X-Forwarded-For: {forwarded_for}")
    ).status


@pytest.mark.backends  # the counts are kept in Redis when REDIS_URL is set
def test_visitors_behind_a_trusted_proxy_have_their_own_rate_limits(
    production_server,
):
    # Fresh addresses each run: with REDIS_URL the counts outlive the server.
    first, second = (f"2001:db8::{uuid.uuid4().hex[:4]}" for _ in range(2))
    codes = [_share_guess(production_server, first) for _ in range(3)]
    assert codes == [404, 404, 429]
    assert _share_guess(production_server, second) == 404


@pytest.mark.backends  # the counts are kept in Redis when REDIS_URL is set
def test_an_address_a_visitor_wrote_in_front_of_the_proxys_is_ignored(
    production_server,
):
    visitor = f"2001:db8::{uuid.uuid4().hex[:4]}"
    codes = [
        _share_guess(production_server, f"2001:db8::{uuid.uuid4().hex[:4]}, {visitor}")
        for _ in range(3)
    ]
    assert codes == [404, 404, 429]
