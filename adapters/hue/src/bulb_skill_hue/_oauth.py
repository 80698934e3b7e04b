"""The Hue Remote API's OAuth endpoints: connecting a user (``authorization_url``,
``exchange_code``) and renewing their credential (``refresh_credential``).

Connecting (Philips Hue's *Remote Authentication* page, and what Q42.HueApi's
``RemoteAuthenticationClient`` and node-hue-api's ``RemoteApi`` implement): the user is sent to::

    https://api.meethue.com/v2/oauth2/authorize?client_id=<client id>&response_type=code&state=...

signs in with their Hue account, grants access, and Hue redirects to the **callback URL
registered with the app** on the Hue developer portal, with ``code`` and ``state``. Neither
Q42.HueApi (``BuildAuthorizeUri``: ``client_id``, ``response_type``, ``state``, ``appid``,
``deviceid``, ``devicename``) nor node-hue-api sends a ``redirect_uri``, so none is sent here:
the deployment registers its linking pages' ``/connect/hue/callback`` as the app's callback URL.
The code is exchanged at the token endpoint with the client authenticated as for a refresh::

    POST https://api.meethue.com/v2/oauth2/token
    Authorization: Basic base64(<client id>:<client secret>)

    grant_type=authorization_code&code=<code>

(Q42.HueApi's ``GetToken`` sends the same form with Digest authentication; Basic is the
page's alternative, as for the refresh below.) The application key is then created on the
user's bridge through the remote API (``HueClient.create_application_key``).

Renewing, as Philips Hue documents it on its developer portal (*Remote Authentication*,
https://developers.meethue.com/develop/hue-api/remote-authentication-oauth/, behind a developer
login; the same flow is what the maintained Hue client libraries implement, e.g. Q42.HueApi's
``RemoteAuthenticationClient``): the access token lives about 7 days, the refresh token longer,
and both are renewed with::

    POST https://api.meethue.com/v2/oauth2/token
    Authorization: Basic base64(<client id>:<client secret>)
    Content-Type: application/x-www-form-urlencoded

    grant_type=refresh_token&refresh_token=<refresh token>

answered with ``{"access_token": ..., "expires_in": <seconds>, "refresh_token": ...,
"token_type": "bearer"}``. The client (the app registered on the Hue developer portal)
authenticates with HTTP Basic, which the page documents beside Digest; Basic costs one request
instead of the Digest challenge round trip and travels over TLS. The application key is not an
OAuth field: it was created on the bridge when the user connected and is kept as it is.

Failures (the remote API answers errors either as RFC 6749 ``{"error": ...}`` bodies or as its
gateway's ``{"fault": {"faultstring", "detail": {"errorcode"}}}``):

- a refused refresh token (``invalid_grant``, ``...invalid_refresh_token``, any other 400/401/403
  that names no client problem) -> ``InvalidAuthorizationCredential``: the user must link Hue
  again;
- a refused client (``invalid_client``, ``unauthorized_client``, ``unsupported_grant_type``,
  ``invalid_request``, an ``errorcode`` naming the client) -> ``InternalError``: the
  ``HUE_CLIENT_ID`` / ``HUE_CLIENT_SECRET`` secrets are wrong, not the user's credential;
- 429 -> ``RateLimited``; 5xx, timeouts, connection errors, an answer without ``access_token``
  -> ``EndpointUnreachable`` (retry later: the refresh token was not spent).

A code exchange fails the same way, a refused code (``invalid_grant``) being
``InvalidAuthorizationCredential`` ("connect Hue again").
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

DEFAULT_TOKEN_URL = "https://api.meethue.com/v2/oauth2/token"
DEFAULT_AUTHORIZE_URL = "https://api.meethue.com/v2/oauth2/authorize"
CLIENT_ID_SECRET = "HUE_CLIENT_ID"
CLIENT_SECRET_SECRET = "HUE_CLIENT_SECRET"

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


class HueTokenEndpoint:
    """The Hue Remote API's OAuth endpoints: the authorize page, and the token endpoint that
    exchanges codes and renews users' credentials.

    ``client_credentials`` returns ``(client id, client secret)``; it is called when a URL or a
    request needs it (the factory reads the secrets through ``ctx.secret``, which caches them),
    never at start.

    Example::

        endpoint = HueTokenEndpoint(
            DEFAULT_TOKEN_URL,
            client_credentials=lambda: ("<client id>", "<client secret>"),
            session=requests.Session(),
            timeout=(2.0, 3.0),
        )
        fresh = endpoint.refresh(
            OAuthToken.bearer("old", refresh_token="r", application_key="k", expires_at=0)
        )
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
        #: Shares the API client's session; errors are RFC 6749 / gateway bodies (``_error``).
        self.transport = VendorTransport(
            "Hue's token endpoint", timeout=timeout, session=session, clock=clock, errors=_error
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

    def authorization_url(self, state: str) -> str:
        """Hue's authorize page for this deployment's client: ``client_id``,
        ``response_type=code``, ``state`` (Hue redirects to the app's registered callback)."""
        client_id, _ = self._client()
        query = urlencode({"client_id": client_id, "response_type": "code", "state": state})
        return f"{self.authorize_url}?{query}"

    def exchange(self, code: str) -> OAuthToken:
        """The user's tokens for an authorization code (no application key yet): access token,
        refresh token, ``expires_at = now + expires_in``. A refused code ->
        ``InvalidAuthorizationCredential``, a refused client -> ``InternalError``, Hue down ->
        ``EndpointUnreachable``. A code that cannot be one is refused unsent."""
        if not code or len(code) > 2048 or any(c.isspace() or not c.isprintable() for c in code):
            raise InvalidAuthorizationCredential("Hue sent back no usable authorization code")
        client_id, client_secret = self._client()
        response = self.transport.send(
            "POST",
            self.token_url,
            data={"grant_type": "authorization_code", "code": code},
            auth=(client_id, client_secret),
            headers={"Accept": "application/json"},
        )
        if response.status_code >= 400:
            raise _error(response, grant=_CODE)
        try:
            body = response.json()
        except ValueError as exc:
            raise EndpointUnreachable(
                "Hue's token endpoint answered with a body that is not JSON"
            ) from exc
        return renewed(OAuthToken.bearer("-"), body, now=self._clock())

    def refresh(self, credential: AnyCredential) -> OAuthToken:
        """A fresh credential for ``credential`` (its refresh token spent); see the module."""
        if not isinstance(credential, OAuthToken):
            kind = getattr(credential, "kind", type(credential).__name__)
            raise InvalidAuthorizationCredential(
                f"Hue renews OAuth credentials only, not a {kind} credential"
            )
        refresh_token = (
            credential.refresh_token.get_secret_value() if credential.refresh_token else ""
        )
        if not refresh_token:
            raise InvalidAuthorizationCredential(
                "this Hue credential has no refresh token: the user must link Hue again"
            )
        client_id, client_secret = self._client()
        body = self.transport.json(
            "POST",
            self.token_url,
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=(client_id, client_secret),
            headers={"Accept": "application/json"},
        )
        return renewed(credential, body, now=self._clock())

    def _client(self) -> tuple[str, str]:
        try:
            client_id, client_secret = self._client_credentials()
        except KeyError as exc:
            raise InternalError(
                f"the Hue OAuth client is not configured: set the secrets {CLIENT_ID_SECRET} "
                f"and {CLIENT_SECRET_SECRET}"
            ) from exc
        if not client_id or not client_secret:
            raise InternalError(
                f"the Hue OAuth client is not configured: set {CLIENT_ID_SECRET} and "
                f"{CLIENT_SECRET_SECRET}"
            )
        return client_id, client_secret


def renewed(credential: OAuthToken, body: Any, *, now: float) -> OAuthToken:
    """The credential a token answer ``body`` gives: its access token, its refresh token (the
    old one if the answer has none), ``expires_at = now + expires_in`` (``None`` when the answer
    gives no lifetime), and the application key (every field Hue does not return) kept."""
    if not isinstance(body, dict):
        raise EndpointUnreachable("Hue's token endpoint answered JSON that is not an object")
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise EndpointUnreachable("Hue's token endpoint answered without an access_token")
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
_REFRESH = ("the refresh token", "the refresh", "the user must link Hue again")
_CODE = ("the authorization code", "the sign-in", "please connect Hue again")


def _error(response: requests.Response, grant: tuple[str, str, str] = _REFRESH) -> SkillError:
    status = response.status_code
    code, description = _describe(response)
    detail = f"{code or status}: {description}" if description else str(code or status)
    refused, request, remedy = grant
    if status in (400, 401, 403):
        if code in _NOT_THE_USERS_FAULT or "client" in code.lower():
            return InternalError(
                f"Hue refused this deployment's token request ({detail}); check "
                f"{CLIENT_ID_SECRET} and {CLIENT_SECRET_SECRET}"
            )
        return InvalidAuthorizationCredential(f"Hue refused {refused} ({detail}): {remedy}")
    if status == 429:
        return RateLimited(
            f"Hue's token endpoint throttled {request} ({detail})",
            retry_after=_retry_after(response),
        )
    if status >= 500:
        return EndpointUnreachable(f"Hue's token endpoint failed ({status})")
    return InternalError(f"unexpected answer from Hue's token endpoint: {detail}")


def _describe(response: requests.Response) -> tuple[str, str]:
    """``(code, description)`` from an RFC 6749 error body or the gateway's ``fault`` body."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    fault = body.get("fault")
    if isinstance(fault, dict):
        detail = fault.get("detail")
        code = detail.get("errorcode") if isinstance(detail, dict) else None
        text = fault.get("faultstring")
        return (
            code if isinstance(code, str) else "",
            text[:200] if isinstance(text, str) else "",
        )
    code = body.get("error")
    text = body.get("error_description")
    return code if isinstance(code, str) else "", text[:200] if isinstance(text, str) else ""


def _retry_after(response: requests.Response) -> float | None:
    return parse_retry_after(response.headers.get("Retry-After"))
