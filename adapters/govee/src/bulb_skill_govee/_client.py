"""HTTP to the Govee OpenAPI (``https://openapi.api.govee.com/router/api/v1``) and its errors.

Authentication is the ``Govee-API-Key`` header. Answers carry their own status::

    GET  /user/devices   -> {"code": 200, "message": "success", "data": [...]}
    POST /device/state   -> {"requestId": "...", "msg": "success", "code": 200, "payload": {...}}
    POST /device/control -> {"requestId": "...", "msg": "success", "code": 200, "capability": {...}}

A failed call may come back as HTTP 200 with another ``code``, e.g.
``{"requestId": "uuid", "msg": "devices not exist", "code": 400, "payload": {...}}``; throttling
is HTTP 429 with ``Retry-After`` and ``API-RateLimit-*`` / ``X-RateLimit-*`` headers
(developer.govee.com reference; Govee's rate-limiting page). All of it is mapped here.

A 404 (HTTP or ``code``) says one of two things, told apart by ``msg``: the account has no such
device ("devices not exist", "device not found") -> ``NoSuchEndpoint``; or the device has no
such capability ("instance not found", an unsupported capability) -> ``InvalidDirective``, not
retried, and the device is *not* reported gone.

The plumbing (session, timeouts, user agent, ``Retry-After``, redirects) is
``skill.plugins.VendorTransport``'s; ``Govee-API-Key`` is marked secret there, so no redirect
carries it to another host.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from skill.errors import (
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidDirective,
    InvalidValue,
    NoSuchEndpoint,
    RateLimited,
    SkillError,
)
from skill.plugins import (
    AnyCredential,
    ApiKey,
    TransportBacked,
    VendorTransport,
    parse_retry_after,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://openapi.api.govee.com/router/api/v1"

#: The header that carries the user's key (marked secret on the transport).
API_KEY_HEADER = "Govee-API-Key"

#: Phrases of Govee's ``msg`` that mean "this account has no such device".
_UNKNOWN_DEVICE = ("not exist", "not belong", "not found")
#: Phrases that mean "this device has no such capability" (checked first: "instance not found"
#: also says "not found").
_UNSUPPORTED = ("instance", "capabilit", "not support", "unsupported")


def api_key_of(credential: object) -> str:
    """The user's Govee API key (what the Govee app's "Apply for API Key" mails them).

    Anything else (another kind of credential: another vendor's) raises
    ``InvalidAuthorizationCredential`` before any request is built, so it is never sent.
    """
    if not isinstance(credential, ApiKey):
        kind = getattr(credential, "kind", type(credential).__name__)
        raise InvalidAuthorizationCredential(f"Govee takes an API key credential, not {kind!s}")
    api_key = credential.api_key.get_secret_value().strip()
    if not api_key or any(c.isspace() for c in api_key):
        raise InvalidAuthorizationCredential("the Govee API key is empty or malformed")
    return api_key


class GoveeClient(TransportBacked):
    """Govee's bodies over one ``VendorTransport``; typed errors; time-boxed calls."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.transport = VendorTransport(
            "Govee",
            base_url,
            timeout=timeout,
            session=session,
            clock=clock,
            secret_headers=[API_KEY_HEADER],
            errors=self._http_error,
        )

    @property
    def timeout(self) -> float:  # type: ignore[override]
        """The read timeout, in seconds."""
        return self.transport.timeout[1]

    def request(
        self,
        credential: AnyCredential,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """The decoded answer of a successful call (``code`` 200); a ``SkillError`` otherwise."""
        api_key = api_key_of(credential)  # refuses any other kind before anything is sent
        response = self.transport.request(
            method,
            path,
            headers={API_KEY_HEADER: api_key, "Content-Type": "application/json"},
            json=dict(json) if json is not None else None,
            deadline=deadline,
        )
        try:
            payload = response.json()
        except ValueError as exc:
            raise EndpointUnreachable("Govee answered with malformed JSON") from exc
        if not isinstance(payload, dict):
            raise EndpointUnreachable("Govee answered with something other than an object")
        code = payload.get("code", response.status_code)
        if code == 200:
            return payload
        message = str(payload.get("msg") or payload.get("message") or "")
        status = code if isinstance(code, int) and not isinstance(code, bool) else 500
        raise self.code_error(status, message, response.headers)

    def _http_error(self, response: requests.Response) -> SkillError:
        """HTTP status >= 400 (the transport asks): Govee's bodies where they say more."""
        status = response.status_code
        if status in (401, 403):
            return InvalidAuthorizationCredential(f"Govee refused the API key (HTTP {status})")
        if status == 429:
            return self._rate_limited(response.headers)
        if status >= 500:
            return EndpointUnreachable(f"Govee is unavailable (HTTP {status})")
        try:
            payload = response.json()
        except ValueError:
            payload = None
        message = ""
        code: Any = status
        if isinstance(payload, dict):
            message = str(payload.get("msg") or payload.get("message") or "")
            code = payload.get("code", status)
            if not isinstance(code, int) or isinstance(code, bool) or code == 200:
                code = status
        if status == 404 or code == 404:
            return self.code_error(404, message, response.headers)
        if payload is None:
            return InternalError(f"Govee rejected the request (HTTP {status})")
        return self.code_error(code, message, response.headers)

    def code_error(self, code: int, message: str, headers: Mapping[str, str]) -> SkillError:
        """The typed error for Govee's answer ``code`` (or HTTP status) and ``msg``."""
        detail = f"Govee code {code}" + (f": {message}" if message else "")
        lowered = message.lower()
        if code in (401, 403):
            return InvalidAuthorizationCredential(detail)
        if code == 429:
            return self._rate_limited(headers)
        if (code == 404 or code == 400) and any(p in lowered for p in _UNSUPPORTED):
            return InvalidDirective(f"this Govee device has no such capability ({detail})")
        if code == 404 or any(phrase in lowered for phrase in _UNKNOWN_DEVICE):
            return NoSuchEndpoint(detail)
        if code >= 500 or "offline" in lowered:
            return EndpointUnreachable(detail)
        if code == 400:
            return InvalidValue(detail)
        return InternalError(f"unexpected answer ({detail})")

    def _rate_limited(self, headers: Mapping[str, str]) -> RateLimited:
        return RateLimited(
            "Govee is throttling requests (10 per minute per device, 10,000 per day)",
            retry_after=retry_after_seconds(headers, self._clock),
        )


def retry_after_seconds(
    headers: Mapping[str, str], now: Callable[[], float] = time.time
) -> float | None:
    """Seconds to wait: ``Retry-After`` (delta-seconds or HTTP-date), else the nearest
    ``API-RateLimit-Reset`` (per minute) or ``X-RateLimit-Reset`` (per day, epoch seconds)
    of a window that is used up."""
    seconds = parse_retry_after(headers.get("Retry-After"), now=now())
    if seconds is not None:
        return seconds
    for prefix in ("API-RateLimit", "X-RateLimit"):
        remaining, reset = headers.get(f"{prefix}-Remaining"), headers.get(f"{prefix}-Reset")
        try:
            if reset and (remaining is None or float(remaining) <= 0):
                return max(0.0, float(reset) - now())
        except ValueError:
            continue
    return None
