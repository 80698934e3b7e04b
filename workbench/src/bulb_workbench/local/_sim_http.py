"""The simulator's requests and answers: one ``SimRequest -> SimResponse`` call per request,
served by the workbench's one loopback server (``loopback``).

Everything the simulator decides happens in that one call, so a fault-injection layer can wrap
it (delay, drop, corrupt, throttle) without touching HTTP parsing.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bulb_workbench.local._http import LoopbackServer, Reply, Request

#: Larger bodies are refused (413): no simulated vendor takes more.
MAX_BODY_BYTES = 1024 * 1024


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


def loopback(app: App, *, name: str, host: str = "127.0.0.1", port: int = 0) -> LoopbackServer:
    """``app`` served on the loopback server (not started), refusing bodies over
    ``MAX_BODY_BYTES`` with the simulator's error shape."""

    def serve(request: Request) -> Reply:
        answer = app(
            SimRequest(
                method=request.method,
                path=request.path,
                query=dict(parse_qsl(request.query)),
                headers=request.headers,
                body=request.body,
                client=request.client,
            )
        )
        return Reply(answer.status, answer.content, answer.headers)

    return LoopbackServer(
        serve, name=name, host=host, port=port, max_body=MAX_BODY_BYTES, refuse=_refused
    )


def _refused(status: int) -> Reply:
    answer = (
        SimResponse.error(413, "too_large", "body too large")
        if status == 413
        else SimResponse.error(400, "bad_request", "bad Content-Length")
    )
    return Reply(answer.status, answer.content, answer.headers)
