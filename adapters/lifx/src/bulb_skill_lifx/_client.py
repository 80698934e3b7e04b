"""HTTP to the LIFX HTTP API, and the one place its failures become ``skill.errors``.

Status codes and bodies follow https://api.developer.lifx.com/docs/errors and
https://api.developer.lifx.com/docs/rate-limits:

- 401 (bad access token) and 403 (bad OAuth scope) -> ``InvalidAuthorizationCredential``; so is a
  credential that is no LIFX OAuth token (another vendor's), refused before any request
- 404 (selector did not match any lights) -> ``NoSuchEndpoint``
- 400 / 422 (invalid or malformed parameters) -> ``InvalidValue`` with LIFX's ``error`` message
- 429 -> ``RateLimited``, ``retry_after`` from ``Retry-After`` or ``X-RateLimit-Reset``
- 5xx (500, 502, 503, 523), timeouts, connection errors, bodies that are not the JSON LIFX
  documents -> ``EndpointUnreachable``

The plumbing (session, connect/read timeouts, user agent, redirects that never carry the token to
another host, ``Retry-After`` as seconds or HTTP-date) is ``skill.plugins.VendorTransport``'s;
this module maps LIFX's bodies. The client also honours the documented rule "if
X-RateLimit-Remaining is less than or equal to zero you should not make another request until the
time specified in X-RateLimit-Reset": once a token has used its window, calls for it fail fast
with ``RateLimited`` instead of reaching LIFX.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
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
from skill.plugins import (
    AnyCredential,
    OAuthToken,
    TransportBacked,
    VendorTransport,
    parse_retry_after,
)

DEFAULT_BASE_URL = "https://api.lifx.com/v1"


def access_token_of(credential: AnyCredential) -> str:
    """The LIFX access token (sent as ``Authorization: Bearer``) of the user's credential.

    Anything but an ``OAuthToken`` is another vendor's credential: refused here, before any
    request, so it never leaves the process.
    """
    if not isinstance(credential, OAuthToken):
        kind = getattr(credential, "kind", type(credential).__name__)
        raise InvalidAuthorizationCredential(
            f"LIFX takes an OAuth access token, not a {kind} credential"
        )
    token = credential.access_token.get_secret_value()
    if not token:
        raise InvalidAuthorizationCredential("no LIFX access token")
    return token


class LifxClient(TransportBacked):
    """The LIFX side of one ``skill.plugins.VendorTransport`` (session, timeouts, user agent,
    redirects): the rate-limit memory and LIFX's error bodies.

    Example::

        client = LifxClient("https://api.lifx.com/v1", timeout=(2.0, 3.0))
        lights = client.request("GET", "/lights/all", OAuthToken.bearer("<access token>"))
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: tuple[float, float],
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.transport = VendorTransport(
            "LIFX", base_url, timeout=timeout, session=session, clock=clock, errors=self._error
        )
        #: token fingerprint -> unix time at which its exhausted rate-limit window ends
        self._exhausted_until: dict[str, float] = {}

    def request(
        self,
        method: str,
        path: str,
        credential: AnyCredential,
        *,
        json: dict[str, Any] | None = None,
    ) -> Any:
        """The decoded JSON body of a successful call; a ``SkillError`` for anything else."""
        token = access_token_of(credential)
        fingerprint = _fingerprint(token)
        self._refuse_if_exhausted(fingerprint)
        response = self.transport.send(
            method,
            path,
            json=json,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        self._remember_window(fingerprint, response)
        if response.status_code >= 400:
            raise self.transport.error_for(response)
        try:
            return response.json()
        except ValueError as exc:
            raise EndpointUnreachable("LIFX answered with a body that is not JSON") from exc

    # -- rate limits ---------------------------------------------------------------------------

    def _refuse_if_exhausted(self, fingerprint: str) -> None:
        until = self._exhausted_until.get(fingerprint)
        if until is None:
            return
        wait = until - self._clock()
        if wait <= 0:
            del self._exhausted_until[fingerprint]
            return
        raise RateLimited(
            "LIFX rate limit used up for this window (X-RateLimit-Remaining was 0)",
            retry_after=round(wait, 3),
        )

    def _remember_window(self, fingerprint: str, response: requests.Response) -> None:
        remaining = _number(response.headers.get("X-RateLimit-Remaining"))
        reset = _number(response.headers.get("X-RateLimit-Reset"))
        if remaining is not None and remaining <= 0 and reset is not None:
            self._exhausted_until[fingerprint] = reset
        else:
            self._exhausted_until.pop(fingerprint, None)

    def _retry_after(self, response: requests.Response) -> float | None:
        seconds = parse_retry_after(response.headers.get("Retry-After"), now=self._clock())
        if seconds is not None:
            return seconds
        reset = _number(response.headers.get("X-RateLimit-Reset"))
        if reset is not None:
            return max(0.0, round(reset - self._clock(), 3))
        return None

    # -- errors --------------------------------------------------------------------------------

    def _error(self, response: requests.Response) -> SkillError:
        """LIFX's bodies for the transport's status mapping (it decides nothing else)."""
        status = response.status_code
        message = _lifx_message(response)
        if status in (401, 403):
            return InvalidAuthorizationCredential(f"LIFX rejected the token: {message}")
        if status == 404:
            return NoSuchEndpoint(f"LIFX knows no such light: {message}")
        if status == 429:
            return RateLimited(
                f"LIFX rate limit exceeded: {message}", retry_after=self._retry_after(response)
            )
        if status in (400, 422):
            return InvalidValue(f"LIFX rejected the request: {message}")
        if status >= 500:
            return EndpointUnreachable(f"LIFX server error {status}: {message}")
        return InternalError(f"unexpected LIFX answer {status}: {message}")


def _lifx_message(response: requests.Response) -> str:
    """LIFX's ``error`` text (``{"error": "color is missing", "errors": [...]}``) if any."""
    try:
        body = response.json()
    except ValueError:
        return response.reason or str(response.status_code)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"][:200]
    return response.reason or str(response.status_code)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _fingerprint(token: str) -> str:
    """Tokens are kept in memory only as a hash (the rate-limit memory is keyed by it)."""
    return hashlib.sha256(token.encode()).hexdigest()
