"""One HTTP transport for vendor adapters: timeouts, a user agent, typed errors, safe redirects.

Every adapter speaks HTTP to its vendor's cloud the same way, so the plumbing lives here and an
adapter maps only its vendor's *bodies*:

- one pooled ``requests.Session`` per transport (connection reuse across warm invocations);
- a connect and a read timeout on every call, both capped by an optional ``deadline``
  (``time.monotonic()`` seconds) so several calls of one command stay inside one budget;
- ``User-Agent: bulb-skill/<version>``;
- failures as ``skill.errors`` types: timeouts, resets, refused connections and 5xx ->
  ``EndpointUnreachable``; 401/403 -> ``InvalidAuthorizationCredential``; 404 ->
  ``NoSuchEndpoint``; 429 -> ``RateLimited`` with ``retry_after`` read from ``Retry-After`` as
  delta-seconds *or* an HTTP-date (RFC 9110 section 10.2.3); 400/422 -> ``InvalidValue``; any
  other 4xx -> ``InternalError``. An adapter changes any of these for its vendor with
  ``errors=``: a function that returns the error for a response, or ``None`` to keep the default;
- redirects are followed by the transport itself (never by ``requests``): to the same origin
  (scheme, host, port) with the request as it was; to another origin only when the request
  carries no credential. ``requests`` drops ``Authorization`` when a redirect changes host but
  keeps every other header, so a vendor key in a custom header (``hue-application-key``,
  ``Govee-API-Key``, SwitchBot's ``sign``) would follow a redirect anywhere. Here a request that
  has ``Authorization``, ``Proxy-Authorization``, ``Cookie``, an ``auth=``, a header the adapter
  marks secret (``secret_headers=``), any header the transport does not know to be harmless, or
  a body it would have to send again, is *not* followed to another origin: the call fails with
  ``EndpointUnreachable`` and the other host receives nothing.

An adapter builds one ``VendorTransport("acme", "https://api.acme.example/v1", timeout=(2.0,
3.0), secret_headers=["X-Acme-Key"], errors=...)``, where ``errors(response)`` maps a vendor's
own answers to typed errors (410 -> ``NoSuchEndpoint``, say) before the generic mapping, and
calls ``transport.json("GET", "/bulbs", headers={"X-Acme-Key": key})``. Every adapter in
``adapters/`` is a complete example.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from skill import __version__
from skill.errors import (
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidValue,
    NoSuchEndpoint,
    RateLimited,
    SkillError,
)
from skill.plugins._deadline import CALL_DEADLINE

log = logging.getLogger(__name__)

#: What every vendor sees in ``User-Agent``.
USER_AGENT = f"bulb-skill/{__version__}"

#: Connect timeout when the caller gives one number (the read timeout).
DEFAULT_CONNECT_TIMEOUT = 2.0

#: Below this many seconds left before a deadline, a call is not started.
MIN_CALL_SECONDS = 0.05

#: Redirect hops followed before giving up.
MAX_REDIRECTS = 3

#: Headers that always carry a credential, whatever the adapter marks.
ALWAYS_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})

#: Headers known to carry nothing secret: only a request made of these may follow a redirect to
#: another origin. Anything else (a vendor's key header the adapter forgot to mark) stays home.
HARMLESS_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "connection",
        "content-type",
        "pragma",
        "user-agent",
    }
)

#: ``errors=``: the typed error for a failed response, or ``None`` to keep the default mapping.
ErrorMapper = Callable[[requests.Response], SkillError | None]

Timeout = float | tuple[float, float]


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds from now: delta-seconds (``"120"``) or an HTTP-date
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``); never negative; ``None`` when absent or unreadable.

    ``now`` is the current unix time (``time.time()`` when omitted); it matters for dates only.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN, inf
            return None
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):  # unreadable: an error since python 3.10
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive one is read the same way
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, round(when.timestamp() - current, 3))


def default_error(
    vendor: str, response: requests.Response, *, retry_after: float | None = None
) -> SkillError:
    """The typed error for a failed (>= 400) response when the adapter says nothing else."""
    status = response.status_code
    detail = f"{vendor} answered HTTP {status}" + (f" {response.reason}" if response.reason else "")
    if status in (401, 403):
        return InvalidAuthorizationCredential(f"{detail}: the credential was refused")
    if status == 404:
        return NoSuchEndpoint(f"{detail}: no such device or resource")
    if status == 429:
        return RateLimited(f"{detail}: throttled", retry_after=retry_after)
    if status == 408 or status >= 500:
        return EndpointUnreachable(detail)
    if status in (400, 422):
        return InvalidValue(f"{detail}: the request was refused")
    return InternalError(f"unexpected answer: {detail}")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    default = {"https": 443, "http": 80}.get(scheme)
    try:
        port = parts.port or default
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


class VendorTransport:
    """HTTP to one vendor: see the module. Adapters keep one per container (per factory call).

    ``base_url`` is prefixed to relative paths; a path that is a full ``http(s)://`` URL is used
    as it is (an OAuth token endpoint on another host). ``clock`` (unix seconds) reads HTTP-dates,
    ``monotonic`` measures deadlines; both are injectable for tests.
    """

    def __init__(
        self,
        vendor: str,
        base_url: str = "",
        *,
        timeout: Timeout = 3.0,
        secret_headers: Iterable[str] = (),
        errors: ErrorMapper | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        user_agent: str = USER_AGENT,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.secret_headers = frozenset(h.lower() for h in secret_headers) | ALWAYS_SECRET_HEADERS
        self.errors = errors
        self.session = session if session is not None else requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.clock = clock
        self.monotonic = monotonic
        self.max_redirects = max_redirects

    # -- configuration --------------------------------------------------------------------------

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` seconds."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: Timeout) -> None:
        if isinstance(value, tuple):
            connect, read = (float(v) for v in value)
        else:
            read = float(value)
            connect = min(DEFAULT_CONNECT_TIMEOUT, read)
        if connect <= 0 or read <= 0:
            raise ValueError("timeouts must be positive")
        self._timeout = (connect, read)

    def url(self, path: str) -> str:
        if path.startswith(("https://", "http://")):
            return path
        return f"{self.base_url}{path}"

    # -- calls ------------------------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Any = None,
        params: Mapping[str, Any] | None = None,
        auth: Any = None,
        deadline: float | None = None,
    ) -> requests.Response:
        """The vendor's response, whatever its status (redirects resolved as the module says);
        ``EndpointUnreachable`` when no response came (timeout, reset, DNS, TLS, no time left)
        or a redirect was refused."""
        method = method.upper()
        url = self.url(path)
        headers = dict(headers or {})
        for _hop in range(self.max_redirects + 1):
            timeout = self._timeout_until(deadline)
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    json=json,
                    data=data,
                    params=params,
                    auth=auth,
                    timeout=timeout,
                    allow_redirects=False,
                )
            except requests.Timeout as exc:
                raise EndpointUnreachable(
                    f"{self.vendor} did not answer within {timeout[1]:.1f} s"
                ) from exc
            except requests.RequestException as exc:  # reset, refused, DNS, TLS, bad URL...
                raise EndpointUnreachable(
                    f"{self.vendor} cannot be reached: {type(exc).__name__}"
                ) from exc
            if not response.is_redirect:
                return response
            target = urljoin(response.url or url, response.headers.get("location", ""))
            response.close()
            method, json, data = _after_redirect(response.status_code, method, json, data)
            if _origin(target) != _origin(url) and self._carries_credential(
                headers, auth, json, data
            ):
                log.warning(
                    "%s redirected a credentialed request to another origin (%s); not followed",
                    self.vendor,
                    _origin(target)[1] or "?",
                )
                raise EndpointUnreachable(
                    f"{self.vendor} redirected to another host; the request carries a credential "
                    "and was not sent there"
                )
            url, params = target, None  # the Location carries its own query
        raise EndpointUnreachable(f"{self.vendor} redirected more than {self.max_redirects} times")

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """``send``, and the typed error (``error_for``) for any status >= 400."""
        response = self.send(method, path, **kwargs)
        if response.status_code >= 400:
            raise self.error_for(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """``request``'s decoded JSON body; a body that is not JSON is ``EndpointUnreachable``
        (the vendor, or something in front of it, is not answering as documented)."""
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise EndpointUnreachable(
                f"{self.vendor} answered with a body that is not JSON"
            ) from exc

    # -- errors -----------------------------------------------------------------------------------

    def error_for(self, response: requests.Response) -> SkillError:
        """The adapter's mapping (``errors=``) for this response, else the default one."""
        if self.errors is not None:
            mapped = self.errors(response)
            if mapped is not None:
                return mapped
        return default_error(self.vendor, response, retry_after=self.retry_after(response.headers))

    def retry_after(self, headers: Mapping[str, str]) -> float | None:
        """``Retry-After`` of ``headers`` in seconds (see ``parse_retry_after``)."""
        return parse_retry_after(headers.get("Retry-After"), now=self.clock())

    # -- helpers ----------------------------------------------------------------------------------

    def _timeout_until(self, deadline: float | None) -> tuple[float, float]:
        connect, read = self._timeout
        lefts = []
        if deadline is not None:
            lefts.append(deadline - self.monotonic())
        ambient = CALL_DEADLINE.get()
        if ambient is not None:
            lefts.append(ambient - time.time())
        if not lefts:
            return connect, read
        left = min(lefts)
        if left <= MIN_CALL_SECONDS:
            raise EndpointUnreachable(f"no time left to reach {self.vendor}")
        return min(connect, left), min(read, left)

    def _carries_credential(
        self, headers: Mapping[str, str], auth: Any, json: Any, data: Any
    ) -> bool:
        if auth is not None or self.session.auth is not None:
            return True
        if json is not None or data is not None:  # a body sent again may hold a secret
            return True
        names = {name.lower() for name in headers} | {name.lower() for name in self.session.headers}
        if self.session.cookies:
            return True
        return bool(names & self.secret_headers) or not names <= HARMLESS_HEADERS


class TransportBacked:
    """For a class that keeps its ``VendorTransport`` in ``self.transport`` (a vendor client, a
    token endpoint): its base URL, session and ``(connect, read)`` timeout as attributes, and
    its clock as ``_clock`` (tests set it). A client that shows another ``timeout`` overrides it.
    """

    transport: VendorTransport

    base_url = property(lambda self: self.transport.base_url)
    timeout = property(lambda self: self.transport.timeout)
    session = property(lambda self: self.transport.session)

    @property
    def _clock(self) -> Callable[[], float]:
        return self.transport.clock

    @_clock.setter
    def _clock(self, clock: Callable[[], float]) -> None:
        self.transport.clock = clock


def _after_redirect(status: int, method: str, json: Any, data: Any) -> tuple[str, Any, Any]:
    """The request a redirect asks for (RFC 9110 section 15.4, as browsers and ``requests`` do):
    303 turns anything but HEAD into a GET without body, 301/302 turn a POST into one; 307/308
    repeat the request as it was."""
    if status == 303 and method != "HEAD":
        return "GET", None, None
    if status in (301, 302) and method == "POST":
        return "GET", None, None
    return method, json, data
