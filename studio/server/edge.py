"""Daphne with the limits a public server needs, applied before Django runs.

What Daphne (on Twisted and autobahn) leaves open, and what this adds:

- Twisted parses a whole multipart body in memory, several copies of it, before
  Daphne hands the request on: a 200 MB upload took 2.4 GB. Here Twisted never
  parses a body (Django does, streaming files to disk); a body longer than the
  largest upload the studio takes is refused with 413 from its Content-Length
  before a byte of it is read, and a chunked body is cut off at that size.
- A chunked body reached Django without a Content-Length, and Django's
  multipart parser reads a form without one as empty. Once the whole body is on
  disk it goes on with the length it turned out to have.
- A request line past Twisted's line limit dropped the connection: here it is a
  414 (a header line, 431), and Twisted's other bare 400s say what was wrong.
- autobahn drops the TCP connection on a frame past the size limit or a text
  message that is not UTF-8; here the socket closes with 1009 or 1007 first.

Refusals are JSON ``{"error": ...}`` under /api/, as every API answer is, and
one plain sentence elsewhere.
"""

from __future__ import annotations

# First: Daphne's server module installs the asyncio reactor, which has to
# happen before anything imports Twisted's default one.
import daphne.server  # isort: skip

import json
from typing import Any

import daphne.cli
from daphne.http_protocol import HTTPFactory as DaphneHTTPFactory
from daphne.http_protocol import WebRequest
from twisted.web import http

REASONS = {
    400: b"Bad Request",
    413: b"Content Too Large",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
}
MESSAGES = {
    400: "The request could not be read.",
    414: "The address is too long.",
    431: "A request header is too long.",
}


def refusal(status: int, message: str, *, api: bool) -> bytes:
    """A whole HTTP/1.1 response that ends the connection."""
    if api:
        body = json.dumps({"error": message}).encode()
        content_type = b"application/json"
    else:
        body = message.encode()
        content_type = b"text/plain; charset=utf-8"
    head = (
        b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n"
    ) % (status, REASONS[status], content_type, len(body))
    return head + body


def too_large_message(limit: int) -> str:
    return (
        "The request body is too large: the largest upload the studio takes "
        f"is {limit // 2**20} MB."
    )


class Request(WebRequest):
    """Daphne's request, which counts its body instead of trusting it."""

    def __init__(self, channel: HTTPChannel, *args: Any, **kwargs: Any) -> None:
        # Twisted's own form parsing reads the whole body into memory, several
        # times over; Django parses forms itself, spooling files to disk.
        kwargs["parsePOSTFormSubmission"] = False
        super().__init__(channel, *args, **kwargs)
        self.body_length = 0
        self.refused = False

    def handleContentChunk(self, data: bytes) -> None:
        if self.refused:
            return
        self.body_length += len(data)
        limit = self.server.max_request_bytes
        if self.body_length > limit:
            self.refused = True
            self.channel.refuse(413, too_large_message(limit))
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if self.refused:
            return
        encoding = self.requestHeaders.getRawHeaders(b"Transfer-Encoding") or []
        if any(value.lower() == b"chunked" for value in encoding):
            # The body is whole and de-chunked by now; Django finds the end of
            # a multipart form by the length, and without one reads no form.
            self.requestHeaders.removeHeader(b"Transfer-Encoding")
            self.requestHeaders.setRawHeaders(
                b"Content-Length", [b"%d" % self.body_length]
            )
        super().requestReceived(command, path, version)


class HTTPChannel(http.HTTPChannel):
    """Twisted's HTTP/1.1 connection, answering what it would drop or leave bare."""

    def refuse(self, status: int, message: str, target: bytes | None = None) -> None:
        if target is None:
            target = getattr(self, "_path", b"")
        api = target.startswith(b"/api/")
        self.transport.write(refusal(status, message, api=api))
        self.loseConnection()

    def allHeadersReceived(self) -> None:
        # Checked before Twisted answers an "Expect: 100-continue", so a client
        # that waits for it never sends the body at all.
        limit = self.factory.server.max_request_bytes
        if self.length is not None and self.length > limit:
            self.requests[-1].refused = True
            self.refuse(413, too_large_message(limit))
            return
        super().allHeadersReceived()

    def lineLengthExceeded(self, line: bytes) -> None:
        # The request object is made once its request line is read whole, so
        # without one the long line is the request line.
        if self.requests:
            self.refuse(431, MESSAGES[431])
            return
        parts = line.split(b" ", 2)
        self.refuse(414, MESSAGES[414], target=parts[1] if len(parts) > 1 else b"")

    def _respondToBadRequestAndDisconnect(self) -> None:
        self.refuse(400, MESSAGES[400])


class HTTPFactory(DaphneHTTPFactory):
    protocol = HTTPChannel

    def buildProtocol(self, addr: Any) -> HTTPChannel:
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = Request
        return protocol

    def acceptableProtocols(self) -> list[bytes]:
        # The limits live in the HTTP/1.1 channel; HTTP/2 would go around them.
        return [b"http/1.1"]


class Server(daphne.server.Server):
    """Daphne's server with the studio's HTTP factory and websocket options.

    ``max_request_bytes`` defaults to the largest request the studio accepts:
    a generation's settings with its image and video.
    """

    def __init__(
        self, *args: Any, max_request_bytes: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if max_request_bytes is None:
            # Imported here: the application, and with it Django, is loaded
            # before the server is made, not before this module is.
            from studio.generations.api import MAX_MULTIPART_BYTES

            max_request_bytes = MAX_MULTIPART_BYTES
        self.max_request_bytes = max_request_bytes

    # Daphne's run() makes both factories itself. These setters swap in the
    # studio's HTTP factory and adjust the websocket one, so that the rest of
    # run() stays Daphne's own.
    @property
    def http_factory(self) -> HTTPFactory:
        return self._http_factory

    @http_factory.setter
    def http_factory(self, _daphne_factory: DaphneHTTPFactory) -> None:
        self._http_factory = HTTPFactory(self)

    @property
    def ws_factory(self) -> Any:
        return self._ws_factory

    @ws_factory.setter
    def ws_factory(self, factory: Any) -> None:
        # autobahn's default drops the TCP connection on a protocol error; a
        # closing handshake tells the client why (1009 too big, 1007 not UTF-8).
        # Daphne's own options, set next, leave this one as it is.
        factory.setProtocolOptions(failByDrop=False)
        self._ws_factory = factory


class CommandLineInterface(daphne.cli.CommandLineInterface):
    description = "The studio's server: Daphne's options, with the studio's limits"
    server_class = Server

    def __init__(self) -> None:
        super().__init__()
        self.parser.prog = "python -m studio.server"


def main() -> None:
    CommandLineInterface.entrypoint()
