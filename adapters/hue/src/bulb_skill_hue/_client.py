"""HTTP to the Hue Remote API (CLIP v2), credentials, and the one place failures become errors.

Every CLIP v2 answer is ``{"errors": [{"description": ...}], "data": [...]}`` (Hue CLIP API v2
reference). The remote route (``https://api.meethue.com/route/clip/v2/...``) needs two headers:
``Authorization: Bearer <OAuth access token>`` and ``hue-application-key: <application key>``,
the whitelist "username" created on the user's bridge at link time. Both come from the user's
``OAuthToken`` (``access_token``, ``application_key``); a credential of another kind (another
vendor's) is refused with ``InvalidAuthorizationCredential`` before any request.

Failures:

- 401: the cloud's token check; ``{"fault": {"faultstring": ..., "detail": {"errorcode":
  "keymanagement.service.access_token_expired"}}}`` -> ``ExpiredAuthorizationCredential``,
  any other 401 and 403 (application key not known to the bridge) ->
  ``InvalidAuthorizationCredential``
- 404 -> ``NoSuchEndpoint``; 400 -> ``InvalidValue``; 429 -> ``RateLimited(retry_after)``
- 503 / 504: the cloud could not reach the bridge (bridge offline, or too busy) ->
  ``BridgeUnreachable``; other 5xx, timeouts, connection errors, bodies that are not the
  documented JSON -> ``EndpointUnreachable``

The plumbing (session, timeouts, user agent, ``Retry-After``, redirects) is
``skill.plugins.VendorTransport``'s; ``hue-application-key`` is marked secret there, so neither
it nor the Bearer token ever follows a redirect to another host.

Creating the application key when a user connects (``create_application_key``) is the one call
to the remote route's v1 API (CLIP v2 has no equivalent of ``POST /api``): press the bridge's
link button remotely, then register, both with the Bearer token only::

    PUT  https://api.meethue.com/route/api/0/config   {"linkbutton": true}
         -> [{"success": {"/config/linkbutton": true}}]
    POST https://api.meethue.com/route/api            {"devicetype": "bulb-skill"}
         -> [{"success": {"username": "<application key>"}}]

as Philips Hue's *Remote Authentication* page describes it, and as Q42.HueApi
(``RemoteHueClient.RegisterAsync``), node-hue-api (``RemoteApi.createRemoteUsername``) and other
public remote-API clients do it. A v1 answer that is a list of ``{"error": {"type",
"address", "description"}}`` (e.g. type 101 "link button not pressed") is a refusal:
``InvalidAuthorizationCredential`` with Hue's description (the user connects again).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from skill.errors import (
    BridgeUnreachable,
    EndpointUnreachable,
    ExpiredAuthorizationCredential,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidValue,
    NoSuchEndpoint,
    RateLimited,
    SkillError,
)
from skill.plugins import AnyCredential, OAuthToken, TransportBacked, VendorTransport

DEFAULT_BASE_URL = "https://api.meethue.com/route"
#: The application key header: a credential the transport must never carry to another host.
APPLICATION_KEY_HEADER = "hue-application-key"
APPLICATION_KEY_SECRET = "HUE_APPLICATION_KEY"
#: What the bridge's whitelist shows for the key this skill creates (v1 ``devicetype``).
DEVICE_TYPE = "bulb-skill"


def oauth_token(credential: AnyCredential) -> OAuthToken:
    """``credential`` if it is an ``OAuthToken``; anything else is another vendor's credential,
    refused with ``InvalidAuthorizationCredential`` so that it is never sent to Hue."""
    if not isinstance(credential, OAuthToken):
        kind = getattr(credential, "kind", type(credential).__name__)
        raise InvalidAuthorizationCredential(
            f"Hue takes an OAuth access token, not a {kind} credential"
        )
    return credential


@dataclass(frozen=True, slots=True)
class ClipAnswer:
    """A successful CLIP v2 answer: its ``data`` and any per-resource ``errors`` (207)."""

    data: list[dict[str, Any]]
    errors: list[str]


class HueClient(TransportBacked):
    """One ``requests.Session`` (connection reuse across warm invocations) and the error mapping.

    ``application_key`` is called (once, then cached) when a credential does not carry its own
    key; see ``credentials``.

    Example::

        client = HueClient(DEFAULT_BASE_URL, timeout=(2.0, 3.0), application_key=lambda: None)
        credential = OAuthToken.bearer("<access token>", application_key="<application key>")
        lights = client.request("GET", "light", credential).data
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: tuple[float, float],
        application_key: Callable[[], str | None],
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.transport = VendorTransport(
            "Hue",
            base_url,
            timeout=timeout,
            session=session,
            clock=clock,
            secret_headers=[APPLICATION_KEY_HEADER],
            errors=self._error,
        )
        self._load_application_key = application_key
        self._application_key: str | None = None

    def credentials(self, credential: AnyCredential) -> tuple[str, str]:
        """``(access token, application key)`` of the user's Hue credential.

        The key is the credential's own ``application_key`` (created on the user's bridge when
        they connected Hue); a credential without one uses the deployment's
        ``HUE_APPLICATION_KEY`` secret (single-bridge deployments, the local stack, a token
        Alexa relayed in ``vendor`` linking mode). Anything but an ``OAuthToken`` is another
        vendor's credential and is refused.
        """
        credential = oauth_token(credential)
        access = credential.access_token.get_secret_value()
        if not access:
            raise InvalidAuthorizationCredential("no Hue access token")
        own = credential.application_key.get_secret_value() if credential.application_key else ""
        if own:
            return access, own
        if self._application_key is None:
            try:
                self._application_key = self._load_application_key() or None
            except KeyError:
                self._application_key = None
        if not self._application_key:
            raise InvalidAuthorizationCredential(
                "the credential carries no Hue application key and HUE_APPLICATION_KEY is not set"
            )
        return access, self._application_key

    def request(
        self,
        method: str,
        resource: str,
        credential: AnyCredential,
        *,
        json: dict[str, Any] | None = None,
    ) -> ClipAnswer:
        """``method`` on ``/clip/v2/resource/<resource>`` (``resource`` empty: every resource,
        ``/clip/v2/resource``); a ``SkillError`` for any failure."""
        access, key = self.credentials(credential)
        response = self.transport.request(
            method,
            f"/clip/v2/resource/{resource}" if resource else "/clip/v2/resource",
            json=json,
            headers={
                "Authorization": f"Bearer {access}",
                APPLICATION_KEY_HEADER: key,
                "Accept": "application/json",
            },
        )
        return _answer(response)

    def create_application_key(self, access_token: str, *, devicetype: str = DEVICE_TYPE) -> str:
        """A new application key on the bridge of the account ``access_token`` belongs to: the
        remote link button (``PUT /api/0/config``), then ``POST /api``; see the module.

        ``InvalidAuthorizationCredential`` when the bridge or the cloud refuses (a v1 ``error``
        entry, 401, 403); ``BridgeUnreachable`` when the cloud cannot reach the bridge;
        ``EndpointUnreachable`` for an answer in another shape or Hue down.
        """
        if not access_token:
            raise InvalidAuthorizationCredential("no Hue access token")
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        pressed = self.transport.json(
            "PUT", "/api/0/config", json={"linkbutton": True}, headers=headers
        )
        _v1_success(pressed, "press the bridge's link button")
        created = self.transport.json(
            "POST", "/api", json={"devicetype": devicetype}, headers=headers
        )
        username = _v1_success(created, "create an application key").get("username")
        if not isinstance(username, str) or not username:
            raise EndpointUnreachable("Hue created an application key but did not say which")
        return username

    # -- errors --------------------------------------------------------------------------------

    def _error(self, response: requests.Response) -> SkillError:
        """Hue's bodies for the transport's status mapping."""
        status = response.status_code
        message, errorcode = _describe(response)
        if status == 401:
            if "expired" in errorcode.lower() or "expired" in message.lower():
                return ExpiredAuthorizationCredential(f"Hue access token expired: {message}")
            return InvalidAuthorizationCredential(f"Hue rejected the token: {message}")
        if status == 403:
            return InvalidAuthorizationCredential(f"Hue refused the application key: {message}")
        if status == 404:
            return NoSuchEndpoint(f"Hue has no such resource: {message}")
        if status == 429:
            return RateLimited(
                f"Hue rate limit: {message}", retry_after=self._retry_after(response)
            )
        if status == 400:
            return InvalidValue(f"Hue rejected the request: {message}")
        if status in (503, 504):
            return BridgeUnreachable(f"the Hue cloud cannot reach the bridge ({status}): {message}")
        if status >= 500:
            return EndpointUnreachable(f"Hue server error {status}: {message}")
        return InternalError(f"unexpected Hue answer {status}: {message}")

    def _retry_after(self, response: requests.Response) -> float | None:
        return self.transport.retry_after(response.headers)


def _answer(response: requests.Response) -> ClipAnswer:
    try:
        body = response.json()
    except ValueError as exc:
        raise EndpointUnreachable("Hue answered with a body that is not JSON") from exc
    if not isinstance(body, dict):
        raise EndpointUnreachable("Hue answered with JSON that is not a CLIP v2 response")
    data, errors = body.get("data", []), body.get("errors", [])
    if not isinstance(data, list) or not isinstance(errors, list):
        raise EndpointUnreachable("Hue answered with JSON that is not a CLIP v2 response")
    if not all(isinstance(item, dict) for item in data):
        raise EndpointUnreachable("Hue listed resources in an unexpected shape")
    return ClipAnswer(data=data, errors=[_error_text(e) for e in errors])


def _v1_success(body: Any, what: str) -> dict[str, Any]:
    """The first ``success`` object of a v1 answer (``[{"success": {...}}]``); a refusal
    (``[{"error": {"type": 101, "description": "link button not pressed"}}]``) is
    ``InvalidAuthorizationCredential``, another shape ``EndpointUnreachable``."""
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise EndpointUnreachable(f"Hue answered the request to {what} in an unexpected shape")
    for item in body:
        error = item.get("error")
        if error is not None:
            description = error.get("description") if isinstance(error, dict) else None
            kind = error.get("type") if isinstance(error, dict) else None
            reason = str(description or "no reason given")[:200]
            raise InvalidAuthorizationCredential(
                f"the Hue bridge refused to {what} ({reason}"
                + (f", error {kind}" if isinstance(kind, int) else "")
                + "): please connect Hue again"
            )
    for item in body:
        success = item.get("success")
        if isinstance(success, dict):
            return success
    raise EndpointUnreachable(f"Hue answered the request to {what} without success or error")


def _error_text(error: Any) -> str:
    if isinstance(error, dict) and isinstance(error.get("description"), str):
        return error["description"]
    return str(error)


def _describe(response: requests.Response) -> tuple[str, str]:
    """``(message, errorcode)`` from a CLIP ``errors`` body or the cloud's ``fault`` body."""
    fallback = response.reason or str(response.status_code)
    try:
        body = response.json()
    except ValueError:
        return fallback, ""
    if isinstance(body, dict):
        fault = body.get("fault")
        if isinstance(fault, dict):
            detail = fault.get("detail")
            detail = detail if isinstance(detail, dict) else {}
            return str(fault.get("faultstring") or fallback)[:200], str(detail.get("errorcode", ""))
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(_error_text(e) for e in errors)[:200], ""
    return fallback, ""
