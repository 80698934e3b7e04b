"""The simulator's HTTP transport: stdlib server in, one ``SimRequest -> SimResponse`` call out.

Everything the simulator decides happens in that one call, so a fault-injection layer can wrap
it (delay, drop, corrupt, throttle) without touching HTTP parsing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from skill.local._http import ClosingHTTPServer

_log = logging.getLogger(__name__)

#: Larger bodies are refused (413): no simulated vendor takes more.
MAX_BODY_BYTES = 1024 * 1024
#: Up to this much of a refused body is read and dropped so the client sees the 413, not a reset.
_MAX_DRAIN_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SimRequest:
    method: str
    path: str  # still percent-encoded, so an encoded "/" in a device id stays one segment
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""
    client: str = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class SimResponse:
    status: int
    content: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, status: int, payload: Any, headers: Mapping[str, str] | None = None
    ) -> SimResponse:
        return cls(
            status,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    @classmethod
    def error(
        cls, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> SimResponse:
        return cls.json(status, {"error": code, "message": message}, headers)


App = Callable[[SimRequest], SimResponse]


class SimServer(ClosingHTTPServer):
    """The simulator's server: one ``SimRequest -> SimResponse`` call per request."""

    def __init__(self, address: tuple[str, int], app: App) -> None:
        super().__init__(address, app, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as vendor clouds and requests.Session expect
    disable_nagle_algorithm = True  # else each small answer waits ~40 ms for a delayed ACK
    server: SimServer

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            if length > 0:
                self._drain(length)
                self._send(SimResponse.error(413, "too_large", "body too large"))
            else:
                self._send(SimResponse.error(400, "bad_request", "bad Content-Length"))
            return
        url = urlsplit(self.path)
        request = SimRequest(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length),
            client=self.client_address[0],
        )
        self._send(self.server.app(request))

    def _drain(self, length: int) -> None:
        remaining = min(length, _MAX_DRAIN_BYTES)
        while remaining > 0 and (chunk := self.rfile.read(min(remaining, 64 * 1024))):
            remaining -= len(chunk)

    def _send(self, response: SimResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.content)))
        self.end_headers()
        self.wfile.write(response.content)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's signature
        _log.debug("%s " + format, self.client_address[0], *args)
