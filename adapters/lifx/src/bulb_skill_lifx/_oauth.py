"""LIFX's OAuth endpoints: connecting a user (``authorization_url``, ``exchange_code``) and
renewing their credential (``refresh_credential``).

What LIFX documents, in its *LIFX OAuth Integration Guide* (the guide LIFX hands OAuth partners,
https://gist.github.com/smarthall/b6977ce828dd786e2802):

1. the authorize page ``https://cloud.lifx.com/oauth/authorize``, opened with ``client_id``,
   ``scope`` (e.g. ``remote_control:all``), ``state`` and ``response_type=code``; LIFX sends the
   user back to the partner's registered ``redirect_uri`` with ``code`` and ``state``;
2. the token URL ``https://cloud.lifx.com/oauth/token``: a ``POST`` carrying ``client_id``,
   ``client_secret`` and the ``code`` exchanges the code for the user's access token. LIFX's own
   SmartThings integration (SmartThingsCommunity/SmartThingsPublic,
   ``smartapps/smartthings/lifx-connect.src/lifx-connect.groovy``, "Copyright 2015 LIFX") sends
   exactly ``client_id``, ``client_secret``, ``grant_type=authorization_code`` and ``code``.

The authorize URL also names ``redirect_uri`` (RFC 6749 section 4.1.1: the page's own callback,
which must be the one registered with LIFX), and the code exchange repeats it, as RFC 6749
section 4.1.3 requires when the authorization request carried one.

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

A code exchange fails the same way: a refused code (``invalid_grant``: unknown, spent, expired,
or issued for another ``redirect_uri``) is ``InvalidAuthorizationCredential`` ("connect LIFX
again"), a refused client is ``InternalError``, LIFX down is ``EndpointUnreachable``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

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
DEFAULT_AUTHORIZE_URL = "https://cloud.lifx.com/oauth/authorize"
#: The scope LIFX's guide names: control of every light of the account.
SCOPE = "remote_control:all"
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
    """LIFX's OAuth endpoints: the authorize page, and the token endpoint that exchanges codes
    and renews users' credentials.

    ``client_credentials`` returns ``(client id, client secret)``; it is called when a URL or a
    request needs it (the factory reads the secrets through ``ctx.secret``, which caches them),
    never at start.

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
        authorize_url: str = DEFAULT_AUTHORIZE_URL,
    ) -> None:
        self.token_url = token_url
        self.authorize_url = authorize_url
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

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """LIFX's authorize page for this deployment's client: ``client_id``, ``scope``,
        ``state``, ``response_type=code`` (the guide's four) and ``redirect_uri``."""
        client_id, _ = self._client()
        query = urlencode(
            {
                "client_id": client_id,
                "scope": SCOPE,
                "state": state,
                "response_type": "code",
                "redirect_uri": redirect_uri,
            }
        )
        return f"{self.authorize_url}?{query}"

    def exchange(self, code: str, redirect_uri: str) -> OAuthToken:
        """The user's credential for an authorization code (RFC 6749 section 4.1.3): the access
        token, the refresh token, ``expires_at = now + expires_in``; see the module for errors.
        A code that cannot be one (empty, spaces, control characters) is refused unsent."""
        if not code or len(code) > 2048 or any(c.isspace() or not c.isprintable() for c in code):
            raise InvalidAuthorizationCredential("LIFX sent back no usable authorization code")
        client_id, client_secret = self._client()
        response = self.transport.send(
            "POST",
            self.token_url,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "client_secret": client_secret,
            },
            headers={"Accept": "application/json"},
        )
        if response.status_code >= 400:
            raise _error(response, grant=_CODE)
        try:
            body = response.json()
        except ValueError as exc:
            raise EndpointUnreachable(
                "LIFX's token endpoint answered with a body that is not JSON"
            ) from exc
        return issued(body, now=self._clock())

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


def issued(body: Any, *, now: float) -> OAuthToken:
    """The new credential a code exchange answer ``body`` gives (no application key: LIFX has
    none)."""
    return renewed(OAuthToken.bearer("-"), body, now=now)


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


#: Which grant a token request carried: what a refusal condemns, and what the user must do.
_REFRESH = ("the refresh token", "the refresh", "the user must link LIFX again")
_CODE = ("the authorization code", "the sign-in", "please connect LIFX again")


def _error(response: requests.Response, grant: tuple[str, str, str] = _REFRESH) -> SkillError:
    status = response.status_code
    code, description = _oauth_error(response)
    detail = f"{code or status}: {description}" if description else str(code or status)
    refused, request, remedy = grant
    if status in (400, 401, 403):
        if code in _NOT_THE_USERS_FAULT:
            return InternalError(
                f"LIFX refused this deployment's token request ({detail}); check "
                f"{CLIENT_ID_SECRET} and {CLIENT_SECRET_SECRET}"
            )
        return InvalidAuthorizationCredential(f"LIFX refused {refused} ({detail}): {remedy}")
    if status == 429:
        return RateLimited(
            f"LIFX's token endpoint throttled {request} ({detail})",
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
