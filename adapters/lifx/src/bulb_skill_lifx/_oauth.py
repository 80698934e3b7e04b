"""Renewing a LIFX OAuth credential at LIFX's token endpoint (``refresh_credential``).

What LIFX documents, in its *LIFX OAuth Integration Guide* (the guide LIFX hands OAuth partners,
https://gist.github.com/smarthall/b6977ce828dd786e2802): the token URL
``https://cloud.lifx.com/oauth/token``, and that a token request is a ``POST`` to it carrying the
partner's ``client_id`` and ``client_secret`` as parameters (the authorization-code exchange).
LIFX's public pages say nothing more about renewal, so the refresh is the standard OAuth 2.0 one
(RFC 6749 section 6) at that URL, with the client authenticated the way the guide shows::

    POST https://cloud.lifx.com/oauth/token
    Content-Type: application/x-www-form-urlencoded

    grant_type=refresh_token&refresh_token=...&client_id=...&client_secret=...

and the answer read as RFC 6749 section 5.1 defines it: ``access_token`` (required),
``expires_in`` (seconds, optional), ``refresh_token`` (optional: when absent the old one stays
valid and is kept), ``token_type``, ``scope``. Errors are RFC 6749 section 5.2 bodies
(``{"error": "invalid_grant", "error_description": ...}``):

- ``invalid_grant`` (the refresh token is revoked, expired or already used), or any other
  400/401/403 that names no client problem -> ``InvalidAuthorizationCredential``: the user must
  link LIFX again;
- ``invalid_client``, ``unauthorized_client``, ``unsupported_grant_type``, ``invalid_request``,
  ``invalid_scope`` -> ``InternalError``: this deployment's OAuth client (the ``LIFX_CLIENT_ID`` /
  ``LIFX_CLIENT_SECRET`` secrets) or request is wrong, the user's credential may well be fine;
- 429 -> ``RateLimited``; 5xx, timeouts, connection errors, a body without ``access_token`` ->
  ``EndpointUnreachable`` (retry later: the refresh token was not spent).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from skill.errors import (
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    RateLimited,
    SkillError,
)
from skill.plugins import AnyCredential, OAuthToken, VendorTransport, parse_retry_after

DEFAULT_TOKEN_URL = "https://cloud.lifx.com/oauth/token"
CLIENT_ID_SECRET = "LIFX_CLIENT_ID"
CLIENT_SECRET_SECRET = "LIFX_CLIENT_SECRET"

#: RFC 6749 section 5.2 codes that blame the client or the request, not the refresh token.
_NOT_THE_USERS_FAULT = frozenset(
    {
        "invalid_client",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_request",
        "invalid_scope",
    }
)


class LifxTokenEndpoint:
    """LIFX's OAuth token endpoint, for renewing users' credentials.

    ``client_credentials`` returns ``(client id, client secret)``; it is called at each refresh
    (the factory reads the secrets through ``ctx.secret``, which caches them), never at start.

    Example::

        endpoint = LifxTokenEndpoint(
            DEFAULT_TOKEN_URL,
            client_credentials=lambda: ("<client id>", "<client secret>"),
            session=requests.Session(),
            timeout=(2.0, 3.0),
        )
        fresh = endpoint.refresh(OAuthToken.bearer("old", refresh_token="r", expires_at=0))
    """

    def __init__(
        self,
        token_url: str,
        *,
        client_credentials: Callable[[], tuple[str, str]],
        session: requests.Session,
        timeout: tuple[float, float],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token_url = token_url
        #: Shares the API client's session; errors are RFC 6749 bodies (``_error``).
        self.transport = VendorTransport(
            "LIFX's token endpoint", timeout=timeout, session=session, clock=clock, errors=_error
        )
        self._client_credentials = client_credentials

    timeout = property(lambda self: self.transport.timeout)
    session = property(lambda self: self.transport.session)

    @property
    def _clock(self) -> Callable[[], float]:
        return self.transport.clock

    @_clock.setter
    def _clock(self, clock: Callable[[], float]) -> None:
        self.transport.clock = clock

    def refresh(self, credential: AnyCredential) -> OAuthToken:
        """A fresh credential for ``credential`` (its refresh token spent); see the module."""
        if not isinstance(credential, OAuthToken):
            kind = getattr(credential, "kind", type(credential).__name__)
            raise InvalidAuthorizationCredential(
                f"LIFX renews OAuth credentials only, not a {kind} credential"
            )
        refresh_token = (
            credential.refresh_token.get_secret_value() if credential.refresh_token else ""
        )
        if not refresh_token:
            raise InvalidAuthorizationCredential(
                "this LIFX credential has no refresh token: the user must link LIFX again"
            )
        client_id, client_secret = self._client()
        body = self.transport.json(
            "POST",
            self.token_url,
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": client_id,
                "client_secret": client_secret,
            },
            headers={"Accept": "application/json"},
        )
        return renewed(credential, body, now=self._clock())

    def _client(self) -> tuple[str, str]:
        try:
            client_id, client_secret = self._client_credentials()
        except KeyError as exc:
            raise InternalError(
                f"the LIFX OAuth client is not configured: set the secrets {CLIENT_ID_SECRET} "
                f"and {CLIENT_SECRET_SECRET}"
            ) from exc
        if not client_id or not client_secret:
            raise InternalError(
                f"the LIFX OAuth client is not configured: set {CLIENT_ID_SECRET} and "
                f"{CLIENT_SECRET_SECRET}"
            )
        return client_id, client_secret


def renewed(credential: OAuthToken, body: Any, *, now: float) -> OAuthToken:
    """The credential a token answer ``body`` gives: its access token, its refresh token if it
    rotated one (else the old one), ``expires_at = now + expires_in`` (``None`` when the answer
    gives no lifetime), and every other field of ``credential`` kept."""
    if not isinstance(body, dict):
        raise EndpointUnreachable("LIFX's token endpoint answered JSON that is not an object")
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise EndpointUnreachable("LIFX's token endpoint answered without an access_token")
    rotated = body.get("refresh_token")
    refresh: Any = rotated if isinstance(rotated, str) and rotated else credential.refresh_token
    lifetime = _seconds(body.get("expires_in"))
    return OAuthToken.model_validate(
        {
            "access_token": access,
            "refresh_token": refresh,
            "expires_at": None if lifetime is None else now + lifetime,
            "application_key": credential.application_key,
        }
    )


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def _error(response: requests.Response) -> SkillError:
    status = response.status_code
    code, description = _oauth_error(response)
    detail = f"{code or status}: {description}" if description else str(code or status)
    if status in (400, 401, 403):
        if code in _NOT_THE_USERS_FAULT:
            return InternalError(
                f"LIFX refused this deployment's token request ({detail}); check "
                f"{CLIENT_ID_SECRET} and {CLIENT_SECRET_SECRET}"
            )
        return InvalidAuthorizationCredential(
            f"LIFX refused the refresh token ({detail}): the user must link LIFX again"
        )
    if status == 429:
        return RateLimited(
            f"LIFX's token endpoint throttled the refresh ({detail})",
            retry_after=_retry_after(response),
        )
    if status >= 500:
        return EndpointUnreachable(f"LIFX's token endpoint failed ({status})")
    return InternalError(f"unexpected answer from LIFX's token endpoint: {detail}")


def _oauth_error(response: requests.Response) -> tuple[str, str]:
    """``(error, error_description)`` of an RFC 6749 section 5.2 body, or ``("", "")``."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    code = body.get("error")
    description = body.get("error_description")
    return (
        code if isinstance(code, str) else "",
        description[:200] if isinstance(description, str) else "",
    )


def _retry_after(response: requests.Response) -> float | None:
    return parse_retry_after(response.headers.get("Retry-After"))
