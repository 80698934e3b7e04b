"""The simulator's HTTP transport: stdlib server in, one ``SimRequest -> SimResponse`` call out.

Everything the simulator decides happens in that one call, so a fault-injection layer can wrap
it (delay, drop, corrupt, throttle) without touching HTTP parsing.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bulb_workbench.local._http import ClosingHTTPServer

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

    @classmethod
    def html(cls, status: int, text: str) -> SimResponse:
        """A browser page (the OAuth vendors' authorize page), sent with headers that allow no
        script and no framing."""
        headers = {"Content-Type": "text/html; charset=utf-8", **PAGE_HEADERS}
        return cls(status, text.encode(), headers)

    @classmethod
    def redirect(cls, location: str) -> SimResponse:
        """303 to ``location`` (the authorize page's answer, back to the client's site)."""
        return cls(303, b"", {"Location": location, **PAGE_HEADERS})


#: Sent with every page and redirect of the authorize flow. No ``form-action``: the consent
#: form's answer is a redirect to the client's site, which that directive would block.
PAGE_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;padding:1rem;line-height:1.5;color:#111}"
    "main{max-width:32rem;margin:0 auto}"
    ".standin{background:#fff3c4;border:2px dashed #8a6d00;padding:.5rem .75rem;"
    "font-weight:bold}"
    "label{display:block;font-weight:bold;margin-top:1rem}"
    "input{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box}"
    ".actions{display:flex;gap:.75rem;margin-top:1.25rem}"
    "button{font-size:1rem;padding:.6rem 1.2rem}"
    ".error{color:#a00000;font-weight:bold}"
    ":focus{outline:3px solid #1a5fb4;outline-offset:2px}"
)


def consent_page(
    vendor: str,
    title: str,
    fields: Mapping[str, str],
    *,
    username: str,
    error: str | None = None,
) -> str:
    """A simulated OAuth vendor's authorize page: whose account (a simulator user id), Allow or
    Deny. ``fields`` are the authorization request's parameters, carried in hidden inputs."""
    e = html.escape
    client = fields.get("client_id", "")
    back_to = urlsplit(fields.get("redirect_uri", "")).netloc
    hidden = "".join(
        f'<input type="hidden" name="{e(name)}" value="{e(value)}">'
        for name, value in fields.items()
    )
    described, invalid, problem = "username-help", "", ""
    if error:
        problem = f'<p id="username-error" class="error" role="alert">{e(error)}</p>'
        described, invalid = "username-help username-error", ' aria-invalid="true"'
    body = (
        f"<h1>Allow access to your {e(title)} lights?</h1>"
        f"<p>The app <strong>{e(client)}</strong> asks to see and control the lights of your "
        f"{e(vendor)} account. If you allow it, you go back to <strong>{e(back_to)}</strong>."
        "</p>"
        f'<form method="post" action="/{e(vendor)}/oauth/authorize">{hidden}'
        '<label for="username">Simulator user id</label>'
        f'<input id="username" name="username" value="{e(username)}" autocomplete="username" '
        f'required maxlength="64" aria-describedby="{described}"{invalid}>'
        '<p id="username-help">The account to connect: <code>demo-user</code> is the demo '
        "account; any other id opens a new account with three bulbs.</p>"
        f"{problem}"
        '<div class="actions">'
        '<button type="submit" name="decision" value="allow">Allow</button>'
        '<button type="submit" name="decision" value="deny">Deny</button>'
        "</div></form>"
    )
    return _page(vendor, f"Sign in to {title}", body)


def message_page(vendor: str, heading: str, message: str) -> str:
    """A page that says why an authorization request cannot go on (no way back to the app)."""
    e = html.escape
    return _page(vendor, heading, f'<h1>{e(heading)}</h1><p class="error">{e(message)}</p>')


def _page(vendor: str, title: str, body: str) -> str:
    e = html.escape
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} (simulated {e(vendor)})</title><style>{_STYLE}</style></head>"
        f'<body><header><p class="standin" role="note">Simulated {e(vendor)} — local '
        "stand-in. This page is the vendor simulator, not a real vendor's sign-in.</p>"
        f"</header><main>{body}</main></body></html>"
    )


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
