"""A fake Alexa event gateway (``POST /v3/events``) that checks what it receives like the real one.

- ``Authorization: Bearer <token>`` must be an unexpired access token the fake LWA issued,
  else 401 ``INVALID_ACCESS_TOKEN_EXCEPTION``;
- the body must validate against the official Smart Home message schema, else 400
  ``INVALID_REQUEST_EXCEPTION`` with the first error as description;
- accepted events are recorded with their arrival time and answered 202.

Error bodies are the gateway's: ``{"header": {"namespace": "System", "name": "Exception",
"messageId"}, "payload": {"code", "description"}}``. Tests script answers with ``answer_next``
(e.g. the next 2 requests answer 503) and wait for events with ``wait_for``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bulb_workbench.local._http import LoopbackFake, Reply, Request

EVENTS_PATH = "/v3/events"

#: The gateway's exception code for each HTTP status it answers with (Alexa "send events" docs).
CODES = {
    400: "INVALID_REQUEST_EXCEPTION",
    401: "INVALID_ACCESS_TOKEN_EXCEPTION",
    403: "SKILL_DISABLED_EXCEPTION",
    404: "SKILL_NOT_FOUND_EXCEPTION",
    413: "REQUEST_ENTITY_TOO_LARGE_EXCEPTION",
    429: "THROTTLING_EXCEPTION",
    500: "INTERNAL_SERVICE_EXCEPTION",
    503: "SERVICE_UNAVAILABLE_EXCEPTION",
}

#: Names of the events that end a deferred directive.
FINAL_NAMES = frozenset({"Response", "ErrorResponse"})


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    """One request the gateway answered: the event, when it arrived, what it was answered."""

    message: Any
    received_at: float  # epoch seconds
    status: int
    code: str | None = None
    description: str | None = None
    token: str | None = field(default=None, repr=False)

    @property
    def name(self) -> str | None:
        try:
            return str(self.message["event"]["header"]["name"])
        except (TypeError, KeyError):
            return None

    @property
    def correlation_token(self) -> str | None:
        try:
            return self.message["event"]["header"].get("correlationToken")
        except (TypeError, KeyError, AttributeError):
            return None


@dataclass(frozen=True, slots=True)
class _Scripted:
    status: int
    code: str
    description: str


class FakeGateway(LoopbackFake):
    """The event gateway on loopback; ``events_url`` is what ``GATEWAY_URL`` should be.

    Example (with the fake LWA, whose tokens it accepts)::

        >>> import requests
        >>> from bulb_workbench.local._fake_lwa import FakeLwa
        >>> from skill.alexa.capabilities import state_properties
        >>> from skill.alexa.events import response
        >>> from skill.bulbs import BulbState, Features
        >>> with FakeLwa("client", "secret") as lwa, FakeGateway(lwa.is_valid) as gateway:
        ...     token = requests.post(lwa.token_url, timeout=5, data={
        ...         "grant_type": "authorization_code", "code": "grant-1",
        ...         "client_id": "client", "client_secret": "secret"}).json()["access_token"]
        ...     properties = state_properties(Features(), BulbState(on=True), sampled_at=0.0)
        ...     event = response("corr-1", "sim-sync:white-1", properties, scope_token=token)
        ...     def post(bearer):
        ...         return requests.post(gateway.events_url, json=event, timeout=5,
        ...                              headers={"Authorization": f"Bearer {bearer}"})
        ...     gateway.answer_next(2, 503)  # the next two posts fail, the third is accepted
        ...     statuses = [post(token).status_code for _ in range(3)]
        ...     refused = post("Atza|forged").json()["payload"]["code"]
        ...     events = gateway.wait_for("corr-1", timeout=10)
        >>> statuses, refused
        ([503, 503, 202], 'INVALID_ACCESS_TOKEN_EXCEPTION')
        >>> [event["event"]["header"]["name"] for event in events]
        ['Response']
        >>> [(entry.status, entry.name) for entry in gateway.requests()]
        [(503, 'Response'), (503, 'Response'), (202, 'Response'), (401, 'Response')]
    """

    def __init__(
        self,
        token_is_valid: Callable[[str], bool],
        *,
        validate: Callable[[Any], list[str]] | None = None,
    ) -> None:
        if validate is None:
            from bulb_workbench.local.schema import schema_errors as validate
        self._token_is_valid = token_is_valid
        self._validate = validate
        self._cv = threading.Condition()
        self._log: list[GatewayEvent] = []
        self._script: list[_Scripted] = []
        super().__init__("fake-event-gateway")

    @property
    def events_url(self) -> str:
        return self._server.url + EVENTS_PATH

    # -- test hooks ----------------------------------------------------------------------------

    def answer_next(self, count: int, status: int, code: str | None = None) -> None:
        """The next ``count`` requests answer ``status`` (``code`` defaults per status)."""
        code = code or CODES.get(status, "INTERNAL_SERVICE_EXCEPTION")
        with self._cv:
            self._script.extend(_Scripted(status, code, "scripted answer") for _ in range(count))

    def requests(self) -> list[GatewayEvent]:
        """Every request received, accepted or not, oldest first."""
        with self._cv:
            return list(self._log)

    def accepted(self, correlation_token: str | None = None) -> list[dict[str, Any]]:
        """The events accepted (202), oldest first; only a directive's when a token is given."""
        with self._cv:
            return [e.message for e in self._accepted(correlation_token)]

    def accepted_with_times(self, correlation_token: str | None = None) -> list[GatewayEvent]:
        with self._cv:
            return self._accepted(correlation_token)

    def rejected(self) -> list[GatewayEvent]:
        with self._cv:
            return [e for e in self._log if e.status != 202]

    def clear(self) -> None:
        with self._cv:
            self._log.clear()
            self._script.clear()

    def wait_for(self, correlation_token: str, timeout: float) -> list[dict[str, Any]]:
        """The accepted events of one directive, once its final one (Response or ErrorResponse)
        arrived or ``timeout`` passed (then possibly none)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                events = self._accepted(correlation_token)
                if any(e.name in FINAL_NAMES for e in events):
                    return [e.message for e in events]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return [e.message for e in events]
                self._cv.wait(remaining)

    def wait_for_count(self, count: int, timeout: float) -> list[dict[str, Any]]:
        """Wait until at least ``count`` events were accepted (or ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while len(self._accepted(None)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cv.wait(remaining)
            return [e.message for e in self._accepted(None)]

    def _accepted(self, correlation_token: str | None) -> list[GatewayEvent]:
        return [
            e
            for e in self._log
            if e.status == 202
            and (correlation_token is None or e.correlation_token == correlation_token)
        ]

    # -- the endpoint --------------------------------------------------------------------------

    def _app(self, request: Request) -> Reply:
        if request.path != EVENTS_PATH:
            return _exception(404, "NOT_FOUND", "no such path")
        if request.method != "POST":
            return _exception(405, "INVALID_REQUEST_EXCEPTION", "use POST")
        received_at = time.time()
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        try:
            message: Any = json.loads(request.body)
        except ValueError:
            message = request.body.decode("utf-8", "replace")
        with self._cv:
            scripted = self._script.pop(0) if self._script else None
        if scripted is not None:
            status, code, description = scripted.status, scripted.code, scripted.description
        elif scheme.lower() != "bearer" or not self._token_is_valid(token):
            status, code = 401, CODES[401]
            description = "The access token is missing, invalid or expired"
        else:
            errors = self._validate(message) if isinstance(message, dict) else ["body: not JSON"]
            if errors:
                status, code, description = 400, CODES[400], errors[0]
            else:
                status, code, description = 202, None, None
        entry = GatewayEvent(message, received_at, status, code, description, token or None)
        with self._cv:
            self._log.append(entry)
            self._cv.notify_all()
        if status == 202:
            return Reply(202)
        return _exception(status, code or "INTERNAL_SERVICE_EXCEPTION", description or "")


def _exception(status: int, code: str, description: str) -> Reply:
    return Reply.json(
        status,
        {
            "header": {"namespace": "System", "name": "Exception", "messageId": str(uuid.uuid4())},
            "payload": {"code": code, "description": description},
        },
    )
