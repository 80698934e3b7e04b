"""A fake Login with Amazon token endpoint (``POST /auth/o2/token``), as the LWA docs describe it.

- ``grant_type=authorization_code``: any non-empty ``code`` is accepted once, except codes that
  start with ``bad`` (``invalid_grant``, as an expired or forged code would be).
- ``grant_type=refresh_token``: a refresh token this fake issued gets a new access token.
- The client is authenticated by ``client_id``/``client_secret`` in the form (or HTTP Basic).

Answers ``{"access_token", "refresh_token", "token_type": "bearer", "expires_in"}`` or an OAuth
error ``{"error", "error_description"}``. Tests script failures with ``fail_next`` and read
``calls``; the fake event gateway asks ``is_valid`` whether a bearer token was issued here.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from bulb_workbench.local._http import LoopbackFake, Reply, Request

TOKEN_PATH = "/auth/o2/token"


@dataclass(frozen=True, slots=True)
class _Scripted:
    status: int
    error: str
    delay: float


class FakeLwa(LoopbackFake):
    """The token endpoint on loopback; ``token_url`` is what ``LWA_TOKEN_URL`` should be.

    Example::

        >>> import requests
        >>> def token(lwa, **form):
        ...     form.update(client_id="client", client_secret="secret")
        ...     return requests.post(lwa.token_url, data=form, timeout=5)
        >>> with FakeLwa("client", "secret", token_lifetime=60) as lwa:
        ...     lwa.fail_next(1, status=503, error="ServerError")
        ...     failed = token(lwa, grant_type="authorization_code", code="grant-1")
        ...     issued = token(lwa, grant_type="authorization_code", code="grant-1").json()
        ...     again = token(lwa, grant_type="authorization_code", code="grant-1")  # used once
        ...     refreshed = token(lwa, grant_type="refresh_token",
        ...                       refresh_token=issued["refresh_token"]).json()
        ...     valid = lwa.is_valid(issued["access_token"]), lwa.is_valid("Atza|forged")
        >>> failed.status_code, failed.json()["error"]
        (503, 'ServerError')
        >>> issued["token_type"], issued["expires_in"], issued["access_token"]
        ('bearer', 60, 'Atza|local-...')
        >>> again.status_code, again.json()["error"]
        (400, 'invalid_grant')
        >>> refreshed["refresh_token"] == issued["refresh_token"], valid
        (True, (True, False))
        >>> lwa.calls, lwa.calls_of("refresh_token")
        (4, 1)
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        token_lifetime: float = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime = token_lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._used_codes: set[str] = set()
        self._access: dict[str, float] = {}  # access token -> expiry (epoch seconds)
        self._refresh: set[str] = set()
        self._script: list[_Scripted] = []
        self.requests: list[dict[str, Any]] = []  # every call: at, grant_type, status
        super().__init__("fake-lwa")

    @property
    def token_url(self) -> str:
        return self._server.url + TOKEN_PATH

    # -- test hooks ----------------------------------------------------------------------------

    @property
    def calls(self) -> int:
        """Token requests received (the dispatcher promises at most one per user per lifetime)."""
        with self._lock:
            return len(self.requests)

    def calls_of(self, grant_type: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r["grant_type"] == grant_type)

    def fail_next(
        self, count: int = 1, *, status: int = 400, error: str = "invalid_grant", delay: float = 0
    ) -> None:
        """The next ``count`` requests answer ``status`` with OAuth ``error`` (after ``delay``
        seconds: a delay beyond the client's timeout is an LWA timeout)."""
        with self._lock:
            self._script.extend(_Scripted(status, error, delay) for _ in range(count))

    def is_valid(self, access_token: str) -> bool:
        """Whether ``access_token`` was issued here and has not expired."""
        with self._lock:
            expiry = self._access.get(access_token)
        return expiry is not None and self._clock() < expiry

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (refresh tokens stay valid)."""
        with self._lock:
            self._access = dict.fromkeys(self._access, 0.0)

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token becomes invalid (``invalid_grant``), as when a user unlinks."""
        with self._lock:
            self._refresh.clear()

    # -- the endpoint --------------------------------------------------------------------------

    def _app(self, request: Request) -> Reply:
        if request.path != TOKEN_PATH:
            return Reply.json(404, {"error": "not_found", "error_description": "no such path"})
        if request.method != "POST":
            return Reply.json(405, {"error": "invalid_request", "error_description": "use POST"})
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        grant_type = form.get("grant_type", "")
        with self._lock:
            self.requests.append({"at": time.time(), "grant_type": grant_type, "status": None})
            entry = self.requests[-1]
            scripted = self._script.pop(0) if self._script else None
        if scripted is not None:
            if scripted.delay:
                time.sleep(scripted.delay)
            reply = _error(scripted.status, scripted.error, "scripted failure")
        else:
            reply = self._answer(form, request.headers.get("authorization", ""))
        entry["status"] = reply.status
        return reply

    def _answer(self, form: dict[str, str], authorization: str) -> Reply:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if client_id is None and authorization.lower().startswith("basic "):
            client_id, client_secret = _basic(authorization)
        if client_id != self.client_id or client_secret != self.client_secret:
            return _error(401, "invalid_client", "Client authentication failed")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            code = form.get("code", "")
            if not code:
                return _error(400, "invalid_request", "The request is missing the code parameter")
            with self._lock:
                if code.startswith("bad") or code in self._used_codes:
                    return _error(400, "invalid_grant", "The authorization code is invalid")
                self._used_codes.add(code)
            return self._issue(refresh_token=None)
        if grant_type == "refresh_token":
            refresh_token = form.get("refresh_token", "")
            with self._lock:
                known = refresh_token in self._refresh
            if not known:
                return _error(400, "invalid_grant", "The refresh token is invalid")
            return self._issue(refresh_token=refresh_token)
        return _error(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")

    def _issue(self, refresh_token: str | None) -> Reply:
        access_token = "Atza|local-" + secrets.token_urlsafe(24)
        refresh_token = refresh_token or "Atzr|local-" + secrets.token_urlsafe(24)
        with self._lock:
            self._access[access_token] = self._clock() + self.token_lifetime
            self._refresh.add(refresh_token)
        return Reply.json(
            200,
            {
                "access_token": access_token,
                "refresh_token": refresh_token,
                "token_type": "bearer",
                "expires_in": int(self.token_lifetime),
            },
            {"Cache-Control": "no-store", "Pragma": "no-cache"},
        )


def _error(status: int, error: str, description: str) -> Reply:
    return Reply.json(status, {"error": error, "error_description": description})


def _basic(authorization: str) -> tuple[str | None, str | None]:
    try:
        decoded = base64.b64decode(authorization.split(" ", 1)[1]).decode()
    except (ValueError, IndexError):
        return None, None
    client_id, _, client_secret = decoded.partition(":")
    return unquote(client_id), unquote(client_secret)
