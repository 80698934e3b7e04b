"""The Alexa event gateway's HTTP client: POST an event, read its answer.

One ``requests.Session`` per container, keep-alive to the regional gateway. What an answer
means (``GatewayAnswer.verdict``, ``skill.ports.classify``) is the core's, in ``skill.ports``.

``GatewayClient().send(url, message, token, timeout=...)`` posts the message (already scoped
with the user's token, ``skill.alexa.events.with_scope``) to the region's gateway URL
(``Settings.gateway_for``) and returns a ``GatewayAnswer``; the dispatcher acts on its
``verdict`` (``Verdict.REFRESH_TOKEN`` after a 401, for one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skill.ports import GatewayAnswer, GatewayUnreachable

if TYPE_CHECKING:
    import requests


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
