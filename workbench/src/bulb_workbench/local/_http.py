"""The one loopback HTTP server of the workbench: one ``Request -> Reply`` call per request.

The fake LWA, the fake event gateway, the webhook bridge, the managed-login stand-in, the vendor
simulator and the kit's local vendors are each a function of a request; this module is the
stdlib plumbing around it (threaded, keep-alive, bodies bounded, closes its connections when it
stops so a pooled ``requests.Session`` never talks to a stopped server).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

_log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
#: Up to this much of a refused body is read and dropped so the client sees the 413, not a reset.
_MAX_DRAIN_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""
    client: str = "127.0.0.1"

    @property
    def query_params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer: ``headers`` once each; ``repeated`` for a header sent several times, one line
    each, after them (``[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]``)."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    repeated: Sequence[tuple[str, str]] = ()

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Reply:
        return cls(
            status,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )


App = Callable[[Request], Reply]
#: The answer to a body refused by its length: 413 (too large) or 400 (bad ``Content-Length``).
Refusal = Callable[[int], Reply]


def _refused(status: int) -> Reply:
    return Reply.json(status, {"message": "bad body length"})


class LoopbackServer:
    """Serves ``app`` on ``127.0.0.1`` on a free port, in a daemon thread.

    Example::

        >>> import requests
        >>> def app(request):
        ...     return Reply.json(200, {"path": request.path, "query": request.query_params})
        >>> server = LoopbackServer(app, name="fake")
        >>> server.start().url
        'http://127.0.0.1:...'
        >>> answer = requests.get(f"{server.url}/lights?on=1", timeout=5)
        >>> answer.status_code, answer.headers["Content-Type"], answer.json()
        (200, 'application/json', {'path': '/lights', 'query': {'on': '1'}})
        >>> server.stop()
        >>> server.url
        Traceback (most recent call last):
          ...
        RuntimeError: fake is not started
    """

    def __init__(
        self,
        app: App,
        *,
        name: str,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body: int = MAX_BODY_BYTES,
        refuse: Refusal = _refused,
    ) -> None:
        self._app = app
        self.name = name
        self.host = host
        self.port = port
        self._limits = (max_body, refuse)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LoopbackServer:
        if self._server is None:
            self._server = _Server((self.host, self.port), self._app, *self._limits)
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=self.name,
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{self.name} is not started")
        return f"http://{self.host}:{self.port}"


class LoopbackFake:
    """A fake service on its own loopback server. Every request goes through ``self.app``, which
    a fault layer may wrap (``self.app = faulty(self.app)``, ``bulb_workbench.local.faults``).
    A subclass answers in ``_app`` and calls ``super().__init__(name)`` once its state is set."""

    def __init__(self, name: str) -> None:
        self.app: App = self._app
        self._server = LoopbackServer(lambda request: self.app(request), name=name)

    def _app(self, request: Request) -> Reply:
        raise NotImplementedError

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    """A threading server that also closes kept-alive connections when it stops: without that,
    a pooled ``requests.Session`` keeps talking to a handler thread of a stopped server."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: App, max_body: int, refuse: Refusal) -> None:
        self.app, self.max_body, self.refuse = app, max_body, refuse
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the peer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each small answer waits ~40 ms for a delayed ACK
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= self.server.max_body:
            self.close_connection = True
            if length > 0:
                self._drain(length)
            self._send(self.server.refuse(413 if length > 0 else 400))
            return
        url = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=url.path,
            query=url.query,
            headers=_joined(self.headers.items()),
            body=self.rfile.read(length) if length else b"",
            client=self.client_address[0],
        )
        try:
            reply = self.server.app(request)
        except Exception:  # an app's crash is a 500, the server stays up
            _log.exception("loopback server failed on %s %s", request.method, request.path)
            reply = Reply.json(500, {"message": "Internal Server Error"})
        self._send(reply)

    def _drain(self, length: int) -> None:
        remaining = min(length, _MAX_DRAIN_BYTES)
        while remaining > 0 and (chunk := self.rfile.read(min(remaining, 64 * 1024))):
            remaining -= len(chunk)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        for name, value in reply.repeated:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.body:
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s " + format, self.client_address[0], *args)


def _joined(items: Any) -> dict[str, str]:
    """Header names lower-cased; a header sent more than once joined into one value, as API
    Gateway does (``, ``; ``; `` for ``Cookie``, whose pairs are ``;``-separated)."""
    found: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        if key in found:
            found[key] += ("; " if key == "cookie" else ", ") + value
        else:
            found[key] = value
    return found
