"""The Alexa event gateway: POST an event, and say what its answer means.

``GatewayClient`` is the HTTP side (one ``requests.Session`` per container, keep-alive to the
regional gateway); ``classify`` turns a status and the error body's ``payload.code`` into a
``Verdict`` the dispatcher reacts to. ``requests`` is imported only when a client is built, so
the core (``skill.delivery``) can use the answer types without pulling in an HTTP library.

Example::

    client = GatewayClient()
    answer = client.send(settings().gateway_for("EU"), events.with_scope(message, token), token,
                         timeout=2.5)
    if answer.verdict is Verdict.REFRESH_TOKEN: ...
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests


class Verdict(enum.Enum):
    """What the dispatcher should do after the gateway answered."""

    ACCEPTED = "accepted"  # 2xx (202): done
    REFRESH_TOKEN = "refresh_token"  # 401: the access token is expired or revoked
    FORGET_USER = "forget_user"  # 403 SKILL_DISABLED, 404 ACCOUNT/SKILL_NOT_FOUND
    CONFIG_FAULT = "config_fault"  # 403 SKILL_NEVER_ENABLED / INSUFFICIENT_PERMISSION
    TOO_LARGE = "too_large"  # 413
    RETRY = "retry"  # 429, 5xx: try again later
    REJECTED = "rejected"  # 400 and any other answer: the event itself is wrong


#: 403/404 codes after which the user's tokens are worthless (the user disabled the skill, or
#: Alexa no longer knows the account or skill).
FORGET_CODES = frozenset(
    {"SKILL_DISABLED_EXCEPTION", "ACCOUNT_NOT_FOUND_EXCEPTION", "SKILL_NOT_FOUND_EXCEPTION"}
)
#: 403 codes that mean the skill is misconfigured (wrong region or no "Send Alexa Events"
#: permission), not that this user did anything.
CONFIG_FAULT_CODES = frozenset(
    {"SKILL_NEVER_ENABLED_EXCEPTION", "INSUFFICIENT_PERMISSION_EXCEPTION"}
)


def classify(status: int, code: str | None) -> Verdict:
    """The verdict for a gateway answer.

    Only the documented codes delete a user's tokens: a 404 without ``ACCOUNT_NOT_FOUND`` or
    ``SKILL_NOT_FOUND`` (a wrong ``GATEWAY_URL``, a proxy's page) is ``REJECTED``, not a reason
    to forget anyone.
    """
    if 200 <= status < 300:
        return Verdict.ACCEPTED
    if status == 401:
        return Verdict.REFRESH_TOKEN
    if status in (403, 404) and code in FORGET_CODES:
        return Verdict.FORGET_USER
    if status == 403 and code in CONFIG_FAULT_CODES:
        return Verdict.CONFIG_FAULT
    if status == 413:
        return Verdict.TOO_LARGE
    if status == 429 or status >= 500:
        return Verdict.RETRY
    return Verdict.REJECTED


@dataclass(frozen=True, slots=True)
class GatewayAnswer:
    """The gateway's status and, for errors, its ``payload.code`` and ``payload.description``."""

    status: int
    code: str | None = None
    description: str | None = None
    retry_after: float | None = None  # seconds, from a Retry-After header

    @property
    def verdict(self) -> Verdict:
        return classify(self.status, self.code)

    def describe(self) -> str:
        """``"400 INVALID_REQUEST_EXCEPTION: <description>"``, for logs and dead letters."""
        text = str(self.status)
        if self.code:
            text += f" {self.code}"
        if self.description:
            text += f": {self.description}"
        return text


class GatewayUnreachable(Exception):
    """No answer: connection refused, DNS, TLS, or the timeout passed. Worth retrying."""


class GatewayClient:
    """POSTs events to the Alexa event gateway.

    ``connect_timeout`` is short (the gateway is in the same AWS region); the read timeout is
    given per call by the dispatcher so that it ends well inside the event's deadline.
    """

    def __init__(
        self, session: requests.Session | None = None, *, connect_timeout: float = 2.0
    ) -> None:
        if session is None:
            import requests

            session = requests.Session()
        self._session = session
        self._connect_timeout = connect_timeout

    def send(
        self, url: str, message: dict[str, Any], token: str, *, timeout: float
    ) -> GatewayAnswer:
        """POST ``message`` (already carrying ``token`` in its scope) with the bearer token."""
        import requests

        try:
            answer = self._session.post(
                url,
                json=message,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                },
                timeout=(min(self._connect_timeout, timeout), timeout),
            )
        except requests.RequestException as exc:
            # the exception text may hold the URL, never the headers: the type is enough
            raise GatewayUnreachable(f"event gateway unreachable: {type(exc).__name__}") from None
        return _answer(answer.status_code, _json(answer), answer.headers.get("Retry-After"))


def _answer(status: int, body: dict[str, Any], retry_after: str | None) -> GatewayAnswer:
    payload = body.get("payload")
    payload = payload if isinstance(payload, dict) else {}
    code = payload.get("code")
    description = payload.get("description")
    return GatewayAnswer(
        status=status,
        code=str(code) if code is not None else None,
        description=str(description)[:1000] if description is not None else None,
        retry_after=_seconds(retry_after),
    )


def _seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:  # an HTTP date: not worth parsing, the default backoff applies
        return None
    return seconds if seconds >= 0 else None


def _json(answer: Any) -> dict[str, Any]:
    if not answer.content:
        return {}
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
