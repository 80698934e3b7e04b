"""HTTP to SwitchBot API v1.1: the credential, request signing, vendor errors -> ``skill.errors``.

Every request carries ``Authorization: <token>``, ``t`` (13-digit ms timestamp), ``nonce`` (a
random UUID) and ``sign`` = upper-case base64(HMAC-SHA256(secret, token + t + nonce)), following
"How to Sign?" in https://github.com/OpenWonderLabs/SwitchBotAPI (README, v1.1).

Answers are ``{"statusCode": <int>, "body": ..., "message": "..."}``; 100 is success. The
documented failure codes (README, "Send device control commands" > Errors) are mapped here and
nowhere else.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import requests

from skill.errors import (
    BridgeUnreachable,
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidDirective,
    NoSuchEndpoint,
    RateLimited,
    SkillError,
)
from skill.plugins import AnyCredential, KeyAndSecret

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.switch-bot.com/v1.1"

#: statusCode values from the SwitchBot docs (README, "Errors" tables).
SUCCESS = 100
DEVICE_TYPE_ERROR = 151
DEVICE_NOT_FOUND = 152
COMMAND_NOT_SUPPORTED = 160
DEVICE_OFFLINE = 161
HUB_OFFLINE = 171
SYSTEM_ERROR = 190


def key_and_secret(credential: object) -> KeyAndSecret:
    """The user's SwitchBot credential: the open token (``key``) and secret key (``secret``) the
    SwitchBot app shows under Developer Options.

    Anything else (another kind of credential: another vendor's) raises
    ``InvalidAuthorizationCredential`` before any request is built, so it is never sent.
    """
    if not isinstance(credential, KeyAndSecret):
        kind = getattr(credential, "kind", type(credential).__name__)
        raise InvalidAuthorizationCredential(
            f"SwitchBot takes a key-and-secret credential, not {kind!s}"
        )
    token, secret = credential.key.get_secret_value(), credential.secret.get_secret_value()
    if not token or not secret or any(c.isspace() for c in token + secret):
        raise InvalidAuthorizationCredential("the SwitchBot open token or secret key is malformed")
    return credential


def account_id(credential: KeyAndSecret) -> str:
    """A stable, non-reversible id for the account: SHA-256 of the open token, 32 hex chars.

    SwitchBot API v1.1 has no "who am I" call; the open token belongs to one account and only
    changes when the user resets it in the app (then the account is connected afresh).
    """
    return hashlib.sha256(credential.key.get_secret_value().encode()).hexdigest()[:32]


def sign(token: str, secret: str, t: str, nonce: str) -> str:
    """``sign`` header: upper-case base64 of HMAC-SHA256(secret, token + t + nonce).

    The docs' written procedure ends with "Convert the signature to upper case" (so do their Go
    and PHP samples; the Python sample skips that step).
    """
    digest = hmac.new(secret.encode(), f"{token}{t}{nonce}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode().upper()


class SwitchBotClient:
    """One ``requests.Session`` per adapter; signed requests; typed errors.

    ``clock`` (seconds) and ``nonces`` are injectable so tests can check a signature exactly.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        nonces: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self._clock = clock
        self._nonces = nonces

    def headers(self, credential: AnyCredential) -> dict[str, str]:
        pair = key_and_secret(credential)
        token = pair.key.get_secret_value()
        t = str(int(round(self._clock() * 1000)))
        nonce = self._nonces()
        return {
            "Authorization": token,
            "sign": sign(token, pair.secret.get_secret_value(), t, nonce),
            "t": t,
            "nonce": nonce,
            "Content-Type": "application/json; charset=utf8",
        }

    def request(
        self,
        credential: AnyCredential,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        deadline: float | None = None,
    ) -> Any:
        """The ``body`` of a successful (statusCode 100) answer; a ``SkillError`` otherwise.

        ``deadline`` (``time.monotonic()`` seconds) caps the timeout so that several calls of
        one command stay inside one budget.
        """
        headers = self.headers(credential)  # refuses any other kind before anything is sent
        timeout = self.timeout
        if deadline is not None:
            timeout = min(timeout, deadline - time.monotonic())
            if timeout <= 0.05:
                raise EndpointUnreachable("no time left to reach SwitchBot")
        try:
            response = self.session.request(
                method,
                f"{self.base_url}{path}",
                headers=headers,
                json=json,
                timeout=timeout,
            )
        except requests.Timeout as exc:
            raise EndpointUnreachable(f"SwitchBot did not answer within {timeout:.1f} s") from exc
        except requests.RequestException as exc:
            raise EndpointUnreachable(f"cannot reach SwitchBot: {type(exc).__name__}") from exc
        return _result(response)


def _result(response: requests.Response) -> Any:
    status = response.status_code
    if status in (401, 403):
        # The docs: 401 "invalid token"; also what SwitchBot answers once the 10,000 calls of the
        # day are used up ("Going over that limit will return Unauthorized").
        raise InvalidAuthorizationCredential(f"SwitchBot refused the credential (HTTP {status})")
    if status == 404:
        raise NoSuchEndpoint("SwitchBot does not know this device or path (HTTP 404)")
    if status == 429:
        raise RateLimited(
            "SwitchBot is throttling requests (HTTP 429)",
            retry_after=retry_after_seconds(response.headers),
        )
    if status >= 500:
        raise EndpointUnreachable(f"SwitchBot is unavailable (HTTP {status})")
    if status >= 400:
        raise InternalError(f"SwitchBot rejected the request (HTTP {status})")
    try:
        payload = response.json()
    except ValueError as exc:
        raise EndpointUnreachable("SwitchBot answered with malformed JSON") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("statusCode"), int):
        raise EndpointUnreachable("SwitchBot answered without a statusCode")
    code = payload["statusCode"]
    if code == SUCCESS:
        return payload.get("body")
    raise status_error(code, str(payload.get("message") or ""))


def status_error(code: int, message: str = "") -> SkillError:
    """The typed error for a SwitchBot ``statusCode`` other than 100."""
    detail = f"SwitchBot statusCode {code}" + (f": {message}" if message else "")
    match code:
        case 152:
            return NoSuchEndpoint(f"device not found ({detail})")
        case 161:
            return EndpointUnreachable(f"the device is offline ({detail})")
        case 171:
            return BridgeUnreachable(f"the device's hub is offline ({detail})")
        case 151 | 160:
            return InvalidDirective(f"this device does not take that command ({detail})")
        case 190:
            return EndpointUnreachable(f"device state not synchronised with the cloud ({detail})")
    return InternalError(f"unexpected answer ({detail})")


def retry_after_seconds(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> (
    float | None
):
    """``Retry-After`` as seconds (delta-seconds or HTTP-date), ``None`` when absent or bad."""
    value = headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())
