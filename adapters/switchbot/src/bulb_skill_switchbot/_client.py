"""HTTP to SwitchBot API v1.1: the credential, request signing, vendor errors -> ``skill.errors``.

Every request carries ``Authorization: <token>``, ``t`` (13-digit ms timestamp), ``nonce`` (a
random UUID) and ``sign`` = upper-case base64(HMAC-SHA256(secret, token + t + nonce)), following
"How to Sign?" in https://github.com/OpenWonderLabs/SwitchBotAPI (README, v1.1). The plumbing
(session, timeouts, user agent, ``Retry-After``, redirects) is ``skill.plugins.VendorTransport``'s;
``sign``, ``t`` and ``nonce`` are marked secret there with ``Authorization``, so no redirect
carries them to another host.

Answers are ``{"statusCode": <int>, "body": ..., "message": "..."}``; 100 is success. The
documented failure codes (README, "Send device control commands" > Errors) are mapped here and
nowhere else. ``statusCode`` 190 means several things, told apart by ``message``:

- the README's "Device internal error due to device states not synchronized with server" (its
  device-list table gives the message "System error"): a device error -> ``EndpointUnreachable``,
  the only retryable 190;
- "... Or command format is invalid" (seen as "parameters error", SwitchBotAPI#303) ->
  ``InvalidValue``;
- "webhook is exist" (SwitchBotAPI#393, #196) -> ``WebhookExists`` (an ``InternalError``);
- "Requests reached the daily limit" (SwitchBotAPI#365, #291; homebridge-switchbot#1108): the
  daily quota is spent -> ``RateLimited`` until the next day; "Too many Request"
  (SwitchBotAPI#213) -> ``RateLimited``;
- any other message -> ``InternalError`` (not retried: nothing says a retry would help).

The quota: the README says "The amount of API calls per day is limited to 10000 times. Going
over that limit will return 'Unauthorized.'", and users of the v1.1 API see both that HTTP 401
``{"message": "Unauthorized"}`` and the 190 above. A 401 cannot be told from a revoked token by
its body, so the client remembers, per credential (as a hash), what tells them apart: a spent
quota (190 "daily limit") makes every call of that credential ``RateLimited`` until the next UTC
day without reaching SwitchBot, and a 401 for a credential SwitchBot accepted earlier the same
UTC day is taken for the quota, not for a bad token. Only a 401 with neither is
``InvalidAuthorizationCredential``. SwitchBot documents no reset time; the next UTC midnight is
the hint when nothing better is known.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import requests

from skill.errors import (
    BridgeUnreachable,
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
    KeyAndSecret,
    TransportBacked,
    VendorTransport,
    parse_retry_after,
)

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

#: Headers of a signed request that must never reach another host (with ``Authorization``).
SIGNATURE_HEADERS = ("sign", "t", "nonce")

#: How many credentials' quota memory one container keeps (hashes, a few hundred KB at most).
_MEMORY = 4096
_DAY = 86_400.0


class WebhookExists(InternalError):
    """statusCode 190 "webhook is exist": the account already has a webhook configuration."""


class QuotaSpent(RateLimited):
    """The account's daily call quota is used up; ``retry_after`` runs to the next day."""


def seconds_to_next_day(now: float) -> float:
    """Seconds from ``now`` (unix time) to the next UTC midnight (at least one second)."""
    return max(1.0, round(_DAY - (now % _DAY), 3))


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


class SwitchBotClient(TransportBacked):
    """Signed requests over one ``VendorTransport``, SwitchBot's bodies as typed errors, and the
    per-credential quota memory (see the module).

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
        self.transport = VendorTransport(
            "SwitchBot",
            base_url,
            timeout=timeout,
            session=session,
            clock=clock,
            secret_headers=SIGNATURE_HEADERS,
            errors=self._http_error,
        )
        self._nonces = nonces
        #: credential fingerprint -> unix time its spent quota is expected back
        self._quota_spent_until: OrderedDict[str, float] = OrderedDict()
        #: credential fingerprint -> UTC day number of its last accepted call
        self._accepted_on: OrderedDict[str, int] = OrderedDict()

    @property
    def timeout(self) -> float:  # type: ignore[override]
        """The read timeout, in seconds."""
        return self.transport.timeout[1]

    def headers(self, credential: AnyCredential) -> dict[str, str]:
        pair = key_and_secret(credential)
        token = pair.key.get_secret_value()
        t = str(round(self._clock() * 1000))
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
        fingerprint = _fingerprint(credential)
        self._refuse_if_quota_spent(fingerprint)
        response = self.transport.send(
            method,
            path,
            headers=headers,
            json=dict(json) if json is not None else None,
            deadline=deadline,
        )
        if response.status_code in (401, 403):
            raise self._unauthorized(fingerprint, response)
        if response.status_code >= 400:
            raise self.transport.error_for(response)
        try:
            payload = response.json()
        except ValueError as exc:
            raise EndpointUnreachable("SwitchBot answered with malformed JSON") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("statusCode"), int):
            raise EndpointUnreachable("SwitchBot answered without a statusCode")
        code = payload["statusCode"]
        self._remember_accepted(fingerprint)  # the pair passed SwitchBot's token check
        if code == SUCCESS:
            return payload.get("body")
        error = status_error(code, str(payload.get("message") or ""), now=self._clock())
        if isinstance(error, QuotaSpent):
            self._remember(
                self._quota_spent_until,
                fingerprint,
                self._clock() + (error.retry_after or seconds_to_next_day(self._clock())),
            )
        raise error

    # -- the daily quota -----------------------------------------------------------------------

    def _refuse_if_quota_spent(self, fingerprint: str) -> None:
        until = self._quota_spent_until.get(fingerprint)
        if until is None:
            return
        wait = until - self._clock()
        if wait <= 0:
            del self._quota_spent_until[fingerprint]
            return
        raise QuotaSpent(
            "this SwitchBot account used up its 10,000 calls of the day; not calling again "
            "before the next day",
            retry_after=round(wait, 3),
        )

    def _remember_accepted(self, fingerprint: str) -> None:
        self._remember(self._accepted_on, fingerprint, int(self._clock() // _DAY))

    def _remember(self, memory: OrderedDict[str, Any], fingerprint: str, value: Any) -> None:
        memory[fingerprint] = value
        memory.move_to_end(fingerprint)
        while len(memory) > _MEMORY:
            memory.popitem(last=False)

    def _unauthorized(self, fingerprint: str, response: requests.Response) -> SkillError:
        """HTTP 401/403: the quota when anything says so, else a refused credential."""
        now = self._clock()
        status = response.status_code
        message = _message(response)
        if _is_quota_message(message):
            retry = parse_retry_after(response.headers.get("Retry-After"), now=now)
            retry = retry or seconds_to_next_day(now)
            self._remember(self._quota_spent_until, fingerprint, now + retry)
            return QuotaSpent(f"SwitchBot: {message} (HTTP {status})", retry_after=retry)
        if status == 401 and self._accepted_on.get(fingerprint) == int(now // _DAY):
            retry = seconds_to_next_day(now)
            self._remember(self._quota_spent_until, fingerprint, now + retry)
            return QuotaSpent(
                "SwitchBot answered Unauthorized for a credential it accepted earlier today: "
                "taken for the spent daily quota (README, 'Request limit'), not a bad token",
                retry_after=retry,
            )
        return InvalidAuthorizationCredential(f"SwitchBot refused the credential (HTTP {status})")

    # -- HTTP status -> errors (the transport calls this for anything but 401/403) -----------

    def _http_error(self, response: requests.Response) -> SkillError:
        status = response.status_code
        if status == 404:
            return NoSuchEndpoint("SwitchBot does not know this device or path (HTTP 404)")
        if status == 429:
            return RateLimited(
                "SwitchBot is throttling requests (HTTP 429)",
                retry_after=self.transport.retry_after(response.headers),
            )
        if status >= 500:
            return EndpointUnreachable(f"SwitchBot is unavailable (HTTP {status})")
        return InternalError(f"SwitchBot rejected the request (HTTP {status})")


def status_error(code: int, message: str = "", *, now: float | None = None) -> SkillError:
    """The typed error for a SwitchBot ``statusCode`` other than 100 (and its ``message``)."""
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
            return _system_error(message, detail, time.time() if now is None else now)
    return InternalError(f"unexpected answer ({detail})")


def _system_error(message: str, detail: str, now: float) -> SkillError:
    """statusCode 190, told apart by its message (see the module)."""
    text = " ".join(message.lower().split())
    if _is_quota_message(text):
        return QuotaSpent(
            f"the account's daily call quota is spent ({detail})",
            retry_after=seconds_to_next_day(now),
        )
    if "too many" in text:
        return RateLimited(f"SwitchBot is throttling requests ({detail})")
    if "webhook" in text and "exist" in text:
        return WebhookExists(f"a webhook is already configured for this account ({detail})")
    if any(word in text for word in ("param", "format", "invalid", "wrong", "illegal")):
        return InvalidValue(f"SwitchBot refused the command's format or value ({detail})")
    if text in ("", "system error") or any(
        word in text for word in ("internal", "synchron", "device")
    ):
        return EndpointUnreachable(f"device error, state not synchronised ({detail})")
    return InternalError(f"unexpected statusCode 190 ({detail})")


def _is_quota_message(text: str) -> bool:
    text = text.lower()
    return "daily limit" in text or ("limit" in text and ("request" in text or "call" in text))


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"][:200]
    return response.reason or ""


def _fingerprint(credential: AnyCredential) -> str:
    """Credentials are remembered only as a hash of the open token."""
    pair = key_and_secret(credential)
    return hashlib.sha256(pair.key.get_secret_value().encode()).hexdigest()
