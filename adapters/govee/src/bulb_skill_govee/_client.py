"""HTTP to the Govee OpenAPI (``https://openapi.api.govee.com/router/api/v1``) and its errors.

Authentication is the ``Govee-API-Key`` header. Answers carry their own status::

    GET  /user/devices   -> {"code": 200, "message": "success", "data": [...]}
    POST /device/state   -> {"requestId": "...", "msg": "success", "code": 200, "payload": {...}}
    POST /device/control -> {"requestId": "...", "msg": "success", "code": 200, "capability": {...}}

A failed call may come back as HTTP 200 with another ``code``, e.g.
``{"requestId": "uuid", "msg": "devices not exist", "code": 400, "payload": {...}}``; throttling
is HTTP 429 with ``Retry-After`` and ``API-RateLimit-*`` / ``X-RateLimit-*`` headers
(developer.govee.com reference; Govee's rate-limiting page). All of it is mapped here.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from skill.errors import (
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidValue,
    NoSuchEndpoint,
    RateLimited,
    SkillError,
)
from skill.plugins import AnyCredential, ApiKey

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://openapi.api.govee.com/router/api/v1"

#: Phrases of Govee's ``msg`` that mean "this account has no such device".
_UNKNOWN_DEVICE = ("not exist", "not belong", "not found")


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


class GoveeClient:
    """One ``requests.Session`` per adapter; typed errors; time-boxed calls."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self._clock = clock

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
        timeout = self.timeout
        if deadline is not None:
            timeout = min(timeout, deadline - time.monotonic())
            if timeout <= 0.05:
                raise EndpointUnreachable("no time left to reach Govee")
        try:
            response = self.session.request(
                method,
                f"{self.base_url}{path}",
                headers={"Govee-API-Key": api_key, "Content-Type": "application/json"},
                json=json,
                timeout=timeout,
            )
        except requests.Timeout as exc:
            raise EndpointUnreachable(f"Govee did not answer within {timeout:.1f} s") from exc
        except requests.RequestException as exc:
            raise EndpointUnreachable(f"cannot reach Govee: {type(exc).__name__}") from exc
        return self._result(response)

    def _result(self, response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        if status in (401, 403):
            raise InvalidAuthorizationCredential(f"Govee refused the API key (HTTP {status})")
        if status == 404:
            raise NoSuchEndpoint("Govee does not know this device or path (HTTP 404)")
        if status == 429:
            raise self._rate_limited(response.headers)
        if status >= 500:
            raise EndpointUnreachable(f"Govee is unavailable (HTTP {status})")
        try:
            payload = response.json()
        except ValueError as exc:
            if status >= 400:
                raise InternalError(f"Govee rejected the request (HTTP {status})") from exc
            raise EndpointUnreachable("Govee answered with malformed JSON") from exc
        if not isinstance(payload, dict):
            raise EndpointUnreachable("Govee answered with something other than an object")
        code = payload.get("code", status)
        if code == 200 and status < 400:
            return payload
        message = str(payload.get("msg") or payload.get("message") or "")
        raise self.code_error(code if isinstance(code, int) else status, message, response.headers)

    def code_error(self, code: int, message: str, headers: Mapping[str, str]) -> SkillError:
        """The typed error for Govee's answer ``code`` (or HTTP status) and ``msg``."""
        detail = f"Govee code {code}" + (f": {message}" if message else "")
        lowered = message.lower()
        if code in (401, 403):
            return InvalidAuthorizationCredential(detail)
        if code == 429:
            return self._rate_limited(headers)
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
    value = (headers.get("Retry-After") or "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now())
            except (TypeError, ValueError):
                pass
    for prefix in ("API-RateLimit", "X-RateLimit"):
        remaining, reset = headers.get(f"{prefix}-Remaining"), headers.get(f"{prefix}-Reset")
        try:
            if reset and (remaining is None or float(remaining) <= 0):
                return max(0.0, float(reset) - now())
        except ValueError:
            continue
    return None
