"""Signed cookies for the linking pages: the session, and the short-lived state of a sign-in or
a vendor's OAuth redirect.

Each cookie is a JWT (HS256, PyJWT) signed with the deployment's session secret, so a tampered
or forged cookie fails verification; it expires on its own, and the session's CSRF token lives
inside it (a form is accepted only with the token of the session that rendered it).

Example::

    >>> clock = [1_000.0]
    >>> cookies = CookieSigner("s" * 32, clock=lambda: clock[0])
    >>> value = cookies.seal("session", {"sub": "u1", "csrf": "c"}, lifetime=SESSION_SECONDS)
    >>> cookies.open("session", value)["sub"]
    'u1'
    >>> cookies.open("flow", value) is None            # sealed for another purpose
    True
    >>> cookies.open("session", value[:-2]) is None    # tampered
    True
    >>> clock[0] += SESSION_SECONDS
    >>> cookies.open("session", value) is None         # expired
    True
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

SESSION_COOKIE = "bulb_skill_session"
FLOW_COOKIE = "bulb_skill_flow"
#: A signed-in session lasts this long, then the user signs in again.
SESSION_SECONDS = 8 * 3600
#: A sign-in or OAuth redirect must come back within this time.
FLOW_SECONDS = 600


class CookieSigner:
    def __init__(self, secret: str, *, clock: Callable[[], float] = time.time) -> None:
        if len(secret) < 32:
            raise RuntimeError("the linking pages' session secret must be at least 32 characters")
        self._secret = secret
        self._clock = clock

    def seal(self, purpose: str, claims: dict[str, Any], *, lifetime: int) -> str:
        now = int(self._clock())
        body = {**claims, "purpose": purpose, "iat": now, "exp": now + lifetime}
        return jwt.encode(body, self._secret, algorithm="HS256")

    def open(self, purpose: str, value: str | None) -> dict[str, Any] | None:
        if not value:
            return None
        try:
            claims = jwt.decode(
                value,
                self._secret,
                algorithms=["HS256"],
                # expiry is checked below against our clock (the one the cookie was sealed by)
                options={
                    "require": ["exp", "iat", "purpose"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidTokenError:
            return None
        if (
            claims.get("purpose") != purpose
            or not isinstance(claims["exp"], int | float)
            or claims["exp"] <= self._clock()
        ):
            return None
        return claims


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in user of the linking pages."""

    user_id: str
    username: str
    csrf: str

    @classmethod
    def new(cls, user_id: str, username: str) -> Session:
        return cls(user_id=user_id, username=username, csrf=secrets.token_urlsafe(24))

    def claims(self) -> dict[str, Any]:
        return {"sub": self.user_id, "name": self.username, "csrf": self.csrf}

    @classmethod
    def from_claims(cls, claims: dict[str, Any] | None) -> Session | None:
        if not claims:
            return None
        sub, name, csrf = claims.get("sub"), claims.get("name"), claims.get("csrf")
        if not (isinstance(sub, str) and isinstance(name, str) and isinstance(csrf, str)):
            return None
        return cls(user_id=sub, username=name, csrf=csrf)

    def accepts(self, token: str | None) -> bool:
        """Whether a form's CSRF token is this session's (constant-time)."""
        return bool(token) and hmac.compare_digest(str(token).encode(), self.csrf.encode())
