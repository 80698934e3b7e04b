"""A LOCAL STAND-IN for the user pool's managed login (Cognito's hosted sign-in pages).

It speaks the OAuth endpoints the linking pages use, on loopback, backed by moto's Cognito:

- ``GET /oauth2/authorize`` (code flow, PKCE S256, ``state``): a plain username and password
  form, marked as a local stand-in on the page itself;
- ``POST /oauth2/authorize``: checks the password with moto (``AdminInitiateAuth``), then
  redirects to the registered ``redirect_uri`` with a single-use code;
- ``POST /oauth2/token``: ``authorization_code`` with the client's secret and the PKCE verifier
  -> the tokens moto issued (their JWKS is moto's, as in AWS it is the pool's);
- ``GET /logout``: back to a registered ``logout_uri``.

The real managed login is Cognito's own; nothing here is deployed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlencode

from bulb_workbench.local._http import Reply, Request

CODE_SECONDS = 300
_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; "
        "frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    tokens: dict[str, Any]
    expires: float


class FakeManagedLogin:
    """``login(request) -> Reply``; ``authenticate(username, password) -> tokens`` is moto."""

    def __init__(
        self,
        clients: dict[str, str],
        redirect_uris: Collection[str],
        authenticate: Callable[[str, str, str], dict[str, Any] | None],
        *,
        logout_uris: Collection[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clients = dict(clients)  # client id -> client secret
        self.redirect_uris = set(redirect_uris)
        self.logout_uris = set(logout_uris)
        self._authenticate = authenticate
        self._clock = clock
        self._codes: dict[str, _Grant] = {}
        self._forms: dict[str, float] = {}  # the login form's CSRF nonces
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        route = (request.method.upper(), request.path.rstrip("/") or "/")
        if route == ("GET", "/oauth2/authorize"):
            return self._form(request.query_params)
        if route == ("POST", "/oauth2/authorize"):
            return self._sign_in(
                dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
            )
        if route == ("POST", "/oauth2/token"):
            return self._token(request)
        if route == ("GET", "/logout"):
            target = request.query_params.get("logout_uri", "")
            if target not in self.logout_uris:
                return _page(400, "Not allowed", "<p>That sign-out address is not registered.</p>")
            return Reply(303, b"", {"Location": target})
        return _page(404, "Not found", "<p>No such page.</p>")

    # --- the authorize form -------------------------------------------------------------------

    def _checked(self, params: dict[str, str]) -> str | None:
        if params.get("response_type") != "code":
            return "unsupported response_type"
        if params.get("client_id") not in self.clients:
            return "unknown client_id"
        if params.get("redirect_uri") not in self.redirect_uris:
            return "redirect_uri is not registered for this client"
        if params.get("code_challenge_method", "S256") != "S256" or not params.get(
            "code_challenge"
        ):
            return "PKCE (S256) is required"
        return None

    def _form(self, params: dict[str, str], error: str | None = None) -> Reply:
        problem = self._checked(params)
        if problem:
            return _page(400, "Sign-in error", f"<p>{escape(problem)}</p>")
        nonce = secrets.token_urlsafe(16)
        with self._lock:
            self._forms[nonce] = self._clock() + 900
        hidden = "".join(
            f'<input type="hidden" name="{escape(k)}" value="{escape(params.get(k, ""))}">'
            for k in (
                "response_type",
                "client_id",
                "redirect_uri",
                "state",
                "code_challenge",
                "code_challenge_method",
                "scope",
            )
        )
        alert = f'<p role="alert" class="error">{escape(error)}</p>' if error else ""
        body = (
            f"<h1>Sign in</h1>{alert}"
            f'<form method="post" action="/oauth2/authorize">{hidden}'
            f'<input type="hidden" name="form_nonce" value="{nonce}">'
            '<label for="username">Username</label>'
            '<input id="username" name="username" autocomplete="username" required>'
            '<label for="password">Password</label>'
            '<input id="password" name="password" type="password" autocomplete="current-password" '
            "required>"
            '<button type="submit">Sign in</button></form>'
        )
        return _page(200 if not error else 401, "Sign in", body)

    def _sign_in(self, form: dict[str, str]) -> Reply:
        problem = self._checked(form)
        if problem:
            return _page(400, "Sign-in error", f"<p>{escape(problem)}</p>")
        with self._lock:
            valid_until = self._forms.pop(form.get("form_nonce", ""), 0)
        if valid_until < self._clock():
            return self._form(form, "This form has expired. Please sign in again.")
        tokens = self._authenticate(
            form["client_id"], form.get("username", ""), form.get("password", "")
        )
        if tokens is None:
            return self._form(form, "Incorrect username or password.")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(
                form["client_id"],
                form["redirect_uri"],
                form["code_challenge"],
                tokens,
                self._clock() + CODE_SECONDS,
            )
        target = (
            f"{form['redirect_uri']}?{urlencode({'code': code, 'state': form.get('state', '')})}"
        )
        return Reply(303, b"", {"Location": target})

    # --- the token endpoint -------------------------------------------------------------------

    def _token(self, request: Request) -> Reply:
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, secret = _basic(request.headers.get("authorization", ""))
        client_id = client_id or form.get("client_id", "")
        secret = secret or form.get("client_secret", "")
        expected = self.clients.get(client_id)
        if expected is None or (expected and not hmac.compare_digest(expected, secret)):
            return Reply.json(401, {"error": "invalid_client"})
        if form.get("grant_type") != "authorization_code":
            return Reply.json(400, {"error": "unsupported_grant_type"})
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if (
            grant is None
            or grant.expires < self._clock()
            or grant.client_id != client_id
            or grant.redirect_uri != form.get("redirect_uri")
            or not hmac.compare_digest(grant.challenge, challenge)
        ):
            return Reply.json(400, {"error": "invalid_grant"})
        return Reply.json(200, {**grant.tokens, "token_type": "Bearer"})


def moto_authenticator(idp: Any, pool_id: str) -> Callable[[str, str, str], dict[str, Any] | None]:
    """Checks a password against moto's user pool and returns the tokens moto issues."""

    def authenticate(client_id: str, username: str, password: str) -> dict[str, Any] | None:
        try:
            result = idp.admin_initiate_auth(
                UserPoolId=pool_id,
                ClientId=client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )["AuthenticationResult"]
        except Exception:
            return None
        return {
            "access_token": result["AccessToken"],
            "id_token": result.get("IdToken"),
            "refresh_token": result.get("RefreshToken"),
            "expires_in": result.get("ExpiresIn", 3600),
        }

    return authenticate


def _basic(header: str) -> tuple[str, str]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return "", ""
    return user, password


def _page(status: int, title: str, body: str) -> Reply:
    style = (
        "body{font:1.05rem/1.5 system-ui,sans-serif;max-width:28rem;margin:0 auto;padding:1rem}"
        ".banner{background:#fff3cd;color:#5c4400;padding:.5rem;font-weight:600;text-align:center}"
        "label{display:block;margin-top:1rem;font-weight:600}input{width:100%;padding:.5rem;font-size:1rem}"
        "button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem}.error{color:#b3261e}"
    )
    text = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · LOCAL STAND-IN login</title><style>{style}</style></head><body>"
        '<div class="banner" role="note">LOCAL STAND-IN for the Cognito managed login — '
        "not the real sign-in page</div>"
        f"<main>{body}</main></body></html>"
    )
    return Reply(status, text.encode(), dict(_HEADERS))
