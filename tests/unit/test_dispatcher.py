"""The dispatcher: outbox messages to the Alexa event gateway, and what it does with each answer.

The gateway is faked over HTTP (``responses``): it validates every POST against the official
schema, checks that the bearer token is the one in the event's scope, and answers from a
script. Time is a fake clock; nothing sleeps.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import logging
import time
import uuid
from pathlib import Path

import boto3
import pytest
import requests
import responses
from moto import mock_aws

from bulb_workbench.local.schema import schema_errors
from skill.alexa import capabilities_for, events, state_properties
from skill.aws.gateway import GatewayClient
from skill.bulbs import BulbState
from skill.config import GATEWAY_URLS, settings_from
from skill.delivery import (
    CONFIG_FAULT_MESSAGE,
    Dispatcher,
    Outcome,
    RetryLater,
    TokenCache,
    Undeliverable,
)
from skill.errors import EndpointUnreachable
from skill.ports import LwaError
from skill.records import OutboxMessage, TokenRecord
from tests.fakes import COLOR
from tests.unit.test_token_cache import (
    T0,
    Clock,
    ClockedLwa,
    CountingStore,
    Meter,
    linked,
    logs,  # noqa: F401 - a fixture, used as a parameter
)

ROOT = Path(__file__).resolve().parents[2]
CORRELATION = "dFMb0z+PgpgdDmluhJ1LddFvSqZ/jCc8ptlAKulUj90jSqg=="
LOCAL_GATEWAY = "http://127.0.0.1:9999/v3/events"


# -- the fake gateway -------------------------------------------------------------------------


def error_body(code: str, description: str = "explained by the gateway") -> dict:
    return {
        "header": {"namespace": "System", "name": "Exception", "messageId": str(uuid.uuid4())},
        "payload": {"code": code, "description": description},
    }


class FakeGateway:
    """Alexa's event gateway on ``responses``. ``script`` holds the next answers (status,
    error code or None, headers) or exceptions to raise; once empty it answers 202.
    ``answer_to(token, ...)`` scripts the answers to one bearer token (the dispatcher sends a
    batch's events concurrently, so their order is not known)."""

    def __init__(self, mock: responses.RequestsMock, clock, on_request=None) -> None:
        self.script: list = []
        self.scripts: dict[str, list] = {}
        self.holds: dict[str, object] = {}  # token -> called before answering it
        self.received: list[dict] = []  # url, message, token, at, timeout
        self.problems: list[str] = []
        self._clock = clock
        self._on_request = on_request
        for url in {*GATEWAY_URLS.values(), LOCAL_GATEWAY}:
            mock.add_callback(responses.POST, url, callback=self._answer)

    def answer(self, *answers) -> None:
        for item in answers:
            self.script.append(item if isinstance(item, (tuple, Exception)) else (item, None, {}))

    def answer_to(self, token: str, *answers) -> None:
        script = self.scripts.setdefault(token, [])
        for item in answers:
            script.append(item if isinstance(item, (tuple, Exception)) else (item, None, {}))

    def _answer(self, request):
        message = json.loads(request.body)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token in self.holds:
            self.holds[token]()
        event = message.get("event", {})
        scope = event.get("endpoint", {}).get("scope") or event.get("payload", {}).get("scope")
        self.problems += schema_errors(message)
        if scope != {"type": "BearerToken", "token": token}:
            self.problems.append(f"scope {scope!r} is not the bearer token")
        if request.headers.get("Content-Type") != "application/json":
            self.problems.append("not sent as JSON")
        self.received.append(
            {
                "url": request.url,
                "message": message,
                "token": token,
                "at": self._clock(),
                "timeout": request.req_kwargs.get("timeout"),
                "context": self._on_request() if self._on_request else None,
            }
        )
        status, code, headers = (202, None, {})
        script = self.scripts.get(token) or self.script
        if script:
            item = script.pop(0)
            if isinstance(item, Exception):
                raise item
            status, code, headers = item
        return status, headers, json.dumps(error_body(code)) if code else ""

    @property
    def tokens(self) -> list[str]:
        return [r["token"] for r in self.received]


class MemoryDeadLetters:
    def __init__(self) -> None:
        self.items: list[tuple[str, dict]] = []

    def put(self, body, attributes):
        self.items.append((body, dict(attributes)))


# -- messages ---------------------------------------------------------------------------------


def alexa_response(endpoint_id: str = "fake:color-1") -> dict:
    props = state_properties(COLOR, BulbState(on=True, brightness=40), T0 - 0.5)
    return events.response(CORRELATION, endpoint_id, props)


def change_report() -> dict:
    props = state_properties(COLOR, BulbState(on=True, brightness=40), T0 - 0.5)
    return events.change_report("fake:color-1", props[:1], props[1:])


def endpoint(n: int) -> dict:
    return events.discovery_endpoint(
        f"fake:bulb-{n}",
        friendly_name=f"Bulb {n}",
        description="Light",
        manufacturer="Fake",
        cookie={},
        capabilities=[c.describe() for c in capabilities_for(COLOR)],
    )


def add_or_update(count: int) -> dict:
    return events.add_or_update_report([endpoint(n) for n in range(count)])


def outbox(message=None, *, user="user-1", deadline=T0 + 8, received_at=T0 - 1.5, kind="Response"):
    return OutboxMessage(
        user_id=user,
        message=message if message is not None else alexa_response(),
        deadline=deadline,
        received_at=received_at,
        correlation_id="corr-1",
        kind=kind,
    )


def proactive(message=None, *, kind="ChangeReport", **kwargs):
    return outbox(
        message if message is not None else change_report(), deadline=None, kind=kind, **kwargs
    )


# -- the world --------------------------------------------------------------------------------


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def gateway(http, clock):
    fake = FakeGateway(http, clock)
    yield fake
    assert not fake.problems, "the gateway received invalid events:\n" + "\n".join(
        fake.problems[:5]
    )


class World:
    def __init__(self, clock, gateway, *, gateway_url=None, dead_letters=True):
        self.clock = clock
        self.gateway = gateway
        self.store = CountingStore()
        self.lwa = ClockedLwa(clock)
        self.meter = Meter()
        self.dlq = MemoryDeadLetters()
        self.cache = TokenCache(self.store, self.lwa, clock=clock, meter=self.meter)
        config = settings_from({"GATEWAY_URL": gateway_url} if gateway_url else {})
        self.dispatcher = Dispatcher(
            self.cache,
            GatewayClient(),
            config.gateway_for,
            dead_letters=self.dlq if dead_letters else None,
            meter=self.meter,
            clock=clock,
            sleep=clock.sleep,
        )
        self.store.put(linked())

    def deliver(self, message):
        return self.dispatcher.deliver(message)


@pytest.fixture
def world(clock, gateway):
    return World(clock, gateway)


# -- 202 --------------------------------------------------------------------------------------


def test_a_response_reaches_the_gateway_with_the_users_token(world, gateway, assert_alexa_valid):
    message = outbox()
    assert world.deliver(message) is Outcome.DELIVERED

    [sent] = gateway.received
    assert sent["url"] == GATEWAY_URLS["NA"]
    assert sent["token"] == "at-stored"
    assert_alexa_valid(sent["message"])
    assert sent["message"]["event"]["endpoint"]["scope"] == {
        "type": "BearerToken",
        "token": "at-stored",
    }
    assert events.without_scope(sent["message"]) == message.message
    assert world.meter.total("GatewayAnswers", status="202") == 1
    assert world.meter.values == [("DeferredLatencyMs", 1500.0)]
    assert world.lwa.calls == 0


def test_the_send_timeout_ends_inside_the_deadline(world, gateway):
    world.deliver(outbox(deadline=T0 + 0.8))
    assert gateway.received[0]["timeout"] == pytest.approx((0.8, 0.8))
    world.deliver(proactive())
    assert gateway.received[1]["timeout"] == (1.0, 1.0)


def test_a_discovery_report_carries_the_token_in_its_payload(world, gateway):
    assert world.deliver(proactive(add_or_update(2), kind="AddOrUpdateReport")) is Outcome.DELIVERED
    assert (
        world.deliver(proactive(events.delete_report(["fake:bulb-1"]), kind="DeleteReport"))
        is Outcome.DELIVERED
    )
    assert [r["message"]["event"]["payload"]["scope"]["token"] for r in gateway.received] == [
        "at-stored"
    ] * 2


@pytest.mark.parametrize("region", ["NA", "EU", "FE"])
def test_each_user_is_sent_to_the_gateway_of_their_region(world, gateway, region):
    world.store.put(linked("user-r", region=region))
    world.deliver(outbox(user="user-r"))
    assert gateway.received[0]["url"] == GATEWAY_URLS[region]


def test_the_gateway_override_serves_every_region(clock, gateway):
    world = World(clock, gateway, gateway_url=LOCAL_GATEWAY)
    for region in ("NA", "EU", "FE"):
        world.store.put(linked(f"user-{region}", region=region))
        world.deliver(outbox(user=f"user-{region}"))
    assert {r["url"] for r in gateway.received} == {LOCAL_GATEWAY}


def test_every_message_kind_validates_at_the_gateway(world, gateway):
    for message in (
        outbox(),
        outbox(
            events.error_response(EndpointUnreachable("bulb offline"), CORRELATION, "fake:color-1"),
            kind="ErrorResponse",
        ),
        proactive(),
        proactive(add_or_update(3), kind="AddOrUpdateReport"),
        proactive(events.delete_report(["fake:bulb-1", "fake:bulb-2"]), kind="DeleteReport"),
    ):
        assert world.deliver(message) is Outcome.DELIVERED
    assert len(gateway.received) == 5


# -- tokens -----------------------------------------------------------------------------------


def test_fifty_events_for_a_new_user_cost_one_lwa_call(world, gateway):
    world.store.put(TokenRecord(user_id="user-new", grant_code="code-1"))
    outcomes = [world.deliver(outbox(user="user-new")) for _ in range(50)]

    assert set(outcomes) == {Outcome.DELIVERED}
    assert world.lwa.exchanged == ["code-1"] and world.lwa.refreshed == []
    assert set(gateway.tokens) == {"at-code-1"} and len(gateway.tokens) == 50
    assert world.store.records["user-new"].grant_code is None
    assert world.meter.total("LwaCalls") == 1


def test_crossing_the_token_expiry_costs_exactly_one_refresh(world, gateway, clock):
    for _ in range(10):
        world.deliver(proactive())
    clock.now = T0 + 3600 - 30
    for _ in range(10):
        world.deliver(proactive())

    assert world.lwa.refreshed == ["rt-stored"]
    assert gateway.tokens == ["at-stored"] * 10 + ["at-r1"] * 10


def test_a_user_without_tokens_is_dropped_and_counted(world, gateway):
    assert world.deliver(outbox(user="never-linked")) is Outcome.NO_TOKENS
    assert gateway.received == []
    assert world.meter.total("DroppedEvents", reason="no_tokens") == 1


def test_lwa_invalid_grant_forgets_the_user_and_drops_the_event(world, gateway, logs):
    world.store.put(linked(expires_at=T0 - 10))
    world.lwa.failure = LwaError("LWA refused: invalid_grant", invalid_grant=True)

    assert world.deliver(outbox()) is Outcome.RELINK
    assert "user-1" not in world.store.records
    assert gateway.received == []
    assert "user must re-link the skill" in logs.at(logging.WARNING)
    assert world.meter.total("DroppedEvents", reason="relink") == 1


LWA_PASSING = [
    LwaError("LWA unreachable: ReadTimeout", transient=True),
    LwaError("LWA refused: http 503", transient=True),
    LwaError("LWA answered 200 without a readable token", transient=True),
]


def lwa_failing(world, *failures):
    """LWA refreshes fail with ``failures`` in turn, then work; each call is timed."""
    script, refresh, world.lwa.tried_at = list(failures), world.lwa.refresh, []

    def failing(refresh_token):
        world.lwa.tried_at.append(world.clock())
        if script:
            world.lwa.refreshed.append(refresh_token)
            raise script.pop(0)
        return refresh(refresh_token)

    world.lwa.refresh = failing


@pytest.mark.parametrize("failure", LWA_PASSING, ids=["timeout", "5xx", "unreadable"])
def test_lwa_failing_for_a_moment_fails_a_record_without_deadline_for_a_retry(
    world, gateway, failure
):
    world.store.put(linked(expires_at=T0 - 10))
    world.lwa.failure = failure
    with pytest.raises(RetryLater):
        world.deliver(proactive())
    assert "user-1" in world.store.records
    assert gateway.received == [] and world.clock.sleeps == []


@pytest.mark.parametrize("failure", LWA_PASSING, ids=["timeout", "5xx", "unreadable"])
def test_lwa_failing_for_a_moment_is_asked_again_here_within_the_deadline(
    world, gateway, clock, failure
):
    """L7: the answer went back to SQS (RetryLater); in AWS it came back after the outbox's
    180 s visibility timeout, long after Alexa stopped waiting."""
    world.store.put(linked(expires_at=T0 - 10))
    lwa_failing(world, failure, failure)

    assert world.deliver(outbox()) is Outcome.DELIVERED
    assert world.lwa.tried_at == [T0, T0 + 0.25, T0 + 0.75]
    assert gateway.tokens == ["at-r3"] and gateway.received[0]["at"] == T0 + 0.75


def test_lwa_down_until_the_deadline_is_asked_again_backing_off_then_a_late_drop(
    world, gateway, clock
):
    world.store.put(linked(expires_at=T0 - 10))
    world.lwa.failure = LWA_PASSING[1]
    lwa_failing(world)

    assert world.deliver(outbox(deadline=T0 + 8)) is Outcome.LATE
    assert world.lwa.tried_at == [
        T0,
        T0 + 0.25,
        T0 + 0.75,
        T0 + 1.75,
        T0 + 3.75,
        T0 + 5.75,
    ]  # then no wait fits
    assert gateway.received == []
    assert world.meter.total("LateDrops") == 1


def test_lwa_failing_waits_only_while_the_lambda_has_time(world, gateway, clock):
    world.store.put(linked(expires_at=T0 - 10))
    world.lwa.failure = LWA_PASSING[0]
    with pytest.raises(RetryLater):
        world.dispatcher.deliver(outbox(deadline=T0 + 8), finish_by=T0 + 1.5)
    assert clock.sleeps == [0.25, 0.5]  # a third wait would end past finish_by


def test_lwa_refusing_the_client_is_not_asked_again_here(world, gateway, clock):
    world.store.put(linked(expires_at=T0 - 10))
    world.lwa.failure = LwaError("LWA refused: invalid_client")
    with pytest.raises(RetryLater):
        world.deliver(outbox())
    assert clock.sleeps == [] and len(world.lwa.refreshed) == 1


def test_a_token_that_arrives_after_the_deadline_is_not_sent(world, gateway, clock):
    world.store.put(linked(expires_at=T0 - 10))
    refresh = world.lwa.refresh

    def slow(refresh_token):
        clock.now += 8.5  # LWA answered, but too late
        return refresh(refresh_token)

    world.lwa.refresh = slow
    assert world.deliver(outbox(deadline=T0 + 8)) is Outcome.LATE
    assert gateway.received == []


def test_lwa_failing_past_the_deadline_drops_the_event(world, gateway, clock):
    world.store.put(linked(expires_at=T0 - 10))

    def slow_refresh(refresh_token):
        clock.now += 9  # the timeout took the rest of the deadline
        raise LwaError("LWA unreachable: ReadTimeout", transient=True)

    world.lwa.refresh = slow_refresh
    assert world.deliver(outbox(deadline=T0 + 8)) is Outcome.LATE
    assert world.meter.total("LateDrops") == 1


# -- deadline ---------------------------------------------------------------------------------


def test_an_event_past_its_deadline_is_dropped_not_sent_late(world, gateway):
    assert world.deliver(outbox(deadline=T0 - 0.001)) is Outcome.LATE
    assert gateway.received == []
    assert world.meter.total("LateDrops") == 1
    assert world.lwa.calls == 0 and world.store.reads == 0


def test_an_event_without_deadline_is_never_late(world, gateway, clock):
    clock.now = T0 + 10 * 365 * 86400
    world.store.put(linked(expires_at=clock.now + 3600))
    assert world.deliver(proactive()) is Outcome.DELIVERED


# -- 401 --------------------------------------------------------------------------------------


def test_a_401_refreshes_the_token_once_and_sends_again(world, gateway):
    gateway.answer((401, "INVALID_ACCESS_TOKEN_EXCEPTION", {}))
    assert world.deliver(outbox()) is Outcome.DELIVERED
    assert gateway.tokens == ["at-stored", "at-r1"]
    assert world.lwa.refreshed == ["rt-stored"]
    world.deliver(outbox())
    assert gateway.tokens[-1] == "at-r1" and world.lwa.calls == 1  # the new token is cached


UNAUTHORIZED = (401, "INVALID_ACCESS_TOKEN_EXCEPTION", {})


def test_a_refused_stored_token_is_followed_by_one_refreshed_by_lwa(world, gateway):
    """L5: the renewed token came from the store (another container had stored it), was
    refused as well, and the answer was dead-lettered without ever asking LWA."""
    world.deliver(outbox())  # at-stored is cached
    world.store.put(linked(access="at-elsewhere"))  # stored meanwhile, and revoked as well
    gateway.answer(UNAUTHORIZED, UNAUTHORIZED)

    assert world.deliver(outbox()) is Outcome.DELIVERED
    assert gateway.tokens[1:] == ["at-stored", "at-elsewhere", "at-r1"]
    assert world.lwa.refreshed == ["rt-stored"]
    assert world.dlq.items == []


def test_a_token_revoked_right_after_its_refresh_gets_another_refresh(world, gateway):
    gateway.answer(UNAUTHORIZED, UNAUTHORIZED)
    assert world.deliver(outbox()) is Outcome.DELIVERED
    assert gateway.tokens == ["at-stored", "at-r1", "at-r2"]


def test_an_answer_whose_renewed_tokens_are_all_refused_is_dropped_and_counted(
    world, gateway, logs
):
    """A deadline-bound answer was dead-lettered; a redrive comes after Alexa stopped waiting."""
    gateway.answer(*[UNAUTHORIZED] * 4)
    assert world.deliver(outbox()) is Outcome.UNAUTHORIZED
    assert gateway.tokens == ["at-stored", "at-r1", "at-r2", "at-r3"]
    assert world.meter.total("DroppedEvents", reason="unauthorized") == 1
    assert world.dlq.items == []
    assert "3 renewed tokens" in logs.at(logging.ERROR)


def test_a_change_report_whose_renewed_tokens_are_all_refused_is_dead_lettered(world, gateway):
    gateway.answer(*[UNAUTHORIZED] * 4)
    assert world.deliver(proactive()) is Outcome.DEAD_LETTERED
    assert len(gateway.received) == 4 and len(world.lwa.refreshed) == 3
    [(_, attributes)] = world.dlq.items
    assert attributes["Reason"] == "unauthorized" and attributes["GatewayStatus"] == "401"


def test_lwa_failing_after_a_401_is_asked_again_within_the_deadline(world, gateway, clock):
    gateway.answer(UNAUTHORIZED)
    lwa_failing(world, LWA_PASSING[1])
    assert world.deliver(outbox()) is Outcome.DELIVERED
    assert gateway.tokens == ["at-stored", "at-r2"] and clock.sleeps == [0.25]


def test_a_401_with_a_dead_refresh_token_forgets_the_user(world, gateway):
    gateway.answer((401, "INVALID_ACCESS_TOKEN_EXCEPTION", {}))
    world.lwa.failure = LwaError("LWA refused: invalid_grant", invalid_grant=True)
    assert world.deliver(outbox()) is Outcome.RELINK
    assert "user-1" not in world.store.records


# -- 403 / 404 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (403, "SKILL_DISABLED_EXCEPTION"),
        (404, "ACCOUNT_NOT_FOUND_EXCEPTION"),
        (404, "SKILL_NOT_FOUND_EXCEPTION"),
    ],
)
def test_a_disabled_skill_or_unknown_account_forgets_the_user(world, gateway, status, code):
    gateway.answer((status, code, {}))
    assert world.deliver(outbox()) is Outcome.FORGOTTEN
    assert "user-1" not in world.store.records
    assert world.meter.total("DroppedEvents", reason="forgotten") == 1

    assert world.deliver(outbox()) is Outcome.NO_TOKENS  # nothing more is sent for them
    assert len(gateway.received) == 1
    assert world.dlq.items == []


@pytest.mark.parametrize(
    "code", ["SKILL_NEVER_ENABLED_EXCEPTION", "INSUFFICIENT_PERMISSION_EXCEPTION"]
)
def test_a_configuration_fault_is_logged_loudly_and_dead_lettered(world, gateway, logs, code):
    gateway.answer((403, code, {}))
    assert world.deliver(outbox()) is Outcome.DEAD_LETTERED

    errors = logs.at(logging.ERROR)
    assert CONFIG_FAULT_MESSAGE in errors and code in errors
    assert "configuration fault: wrong region or missing Send Alexa Events permission" in errors
    [(_body, attributes)] = world.dlq.items
    assert attributes["Reason"] == "config_fault" and attributes["GatewayCode"] == code
    assert "user-1" in world.store.records  # not the user's fault: tokens kept
    assert len(gateway.received) == 1


# -- 400 and other refusals -------------------------------------------------------------------


def test_a_400_is_a_bug_dead_lettered_with_the_gateways_message(world, gateway):
    gateway.answer((400, "INVALID_REQUEST_EXCEPTION", {}))
    message = outbox()
    assert world.deliver(message) is Outcome.DEAD_LETTERED

    [(body, attributes)] = world.dlq.items
    assert attributes == {
        "Reason": "invalid_request",
        "GatewayStatus": "400",
        "GatewayCode": "INVALID_REQUEST_EXCEPTION",
        "GatewayDescription": "explained by the gateway",
        "UserId": "user-1",
        "CorrelationId": "corr-1",
        "Region": "NA",
    }
    assert OutboxMessage.model_validate_json(body) == message
    assert "at-stored" not in body  # the dead letter holds no token
    assert len(gateway.received) == 1
    assert world.meter.total("DeadLettered", reason="invalid_request") == 1


def test_without_a_dlq_a_permanent_refusal_fails_the_record(clock, gateway):
    world = World(clock, gateway, dead_letters=False)
    gateway.answer((400, "INVALID_REQUEST_EXCEPTION", {}))
    with pytest.raises(Undeliverable):
        world.deliver(outbox())


@pytest.mark.parametrize(
    "body",
    ['{"user_id": 42}', "not json", '{"user_id": "user-1", "message": {"event": {"payload": {}}}}'],
    ids=["wrong-fields", "not-json", "no-event-header"],
)
def test_an_unreadable_outbox_message_is_dead_lettered(world, gateway, body):
    assert world.dispatcher.parse(body) is None
    assert world.dlq.items == [(body, {"Reason": "unreadable"})]
    assert gateway.received == []


# -- 413 --------------------------------------------------------------------------------------


def test_a_discovery_report_too_large_is_sent_in_halves(world, gateway):
    gateway.answer(413)
    assert world.deliver(proactive(add_or_update(5), kind="AddOrUpdateReport")) is Outcome.DELIVERED

    sizes = [len(r["message"]["event"]["payload"]["endpoints"]) for r in gateway.received]
    assert sizes == [5, 2, 3]
    ids = [r["message"]["event"]["header"]["messageId"] for r in gateway.received]
    assert len(set(ids)) == 3
    sent = [
        e["endpointId"]
        for r in gateway.received[1:]
        for e in r["message"]["event"]["payload"]["endpoints"]
    ]
    assert sent == [f"fake:bulb-{n}" for n in range(5)]


def test_halves_still_too_large_are_halved_again(world, gateway):
    gateway.answer(413, 413)
    assert (
        world.deliver(
            proactive(events.delete_report([f"fake:b{n}" for n in range(4)]), kind="DeleteReport")
        )
        is Outcome.DELIVERED
    )
    assert [len(r["message"]["event"]["payload"]["endpoints"]) for r in gateway.received] == [
        4,
        2,
        1,
        1,
        2,
    ]


@pytest.mark.parametrize(
    "message",
    [outbox(), proactive(add_or_update(1), kind="AddOrUpdateReport")],
    ids=["response", "one-endpoint"],
)
def test_a_413_that_cannot_be_split_is_dead_lettered(world, gateway, message):
    gateway.answer(413)
    assert world.deliver(message) is Outcome.DEAD_LETTERED
    assert world.dlq.items[0][1]["Reason"] == "too_large"


# -- 429 / 5xx --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_busy_gateway_is_tried_again_soon_within_the_deadline(world, gateway, clock, status):
    gateway.answer(status)
    assert world.deliver(outbox()) is Outcome.DELIVERED
    assert clock.sleeps == [0.25]
    assert [r["at"] for r in gateway.received] == [T0, T0 + 0.25]
    assert world.meter.total("GatewayAnswers", status=str(status)) == 1


def test_retries_back_off_until_the_deadline(world, gateway, clock):
    """Three sends within the pipeline's 2.5 s delivery margin, then longer waits."""
    gateway.answer(500, 503, 429, 500, 503)
    assert world.deliver(outbox(deadline=T0 + 5)) is Outcome.LATE
    times = [r["at"] for r in gateway.received]
    assert times == [T0, T0 + 0.25, T0 + 0.75, T0 + 1.75, T0 + 3.75]
    assert all(b - a >= 0.25 for a, b in itertools.pairwise(times))
    assert world.meter.total("LateDrops") == 1


def test_a_gateway_failing_three_times_still_gets_the_answer_within_the_deadline(
    world, gateway, clock
):
    gateway.answer(503, 503, 503)
    assert world.deliver(outbox(deadline=T0 + 8)) is Outcome.DELIVERED
    assert len(gateway.received) == 4


def test_retries_stop_after_six_sends(world, gateway, clock):
    gateway.answer(500, 503, 429, 500, 503, 500)
    assert world.deliver(outbox(deadline=T0 + 60)) is Outcome.GAVE_UP
    assert len(gateway.received) == 6
    assert world.meter.total("DroppedEvents", reason="gave_up") == 1


def test_retry_after_is_honoured(world, gateway, clock):
    gateway.answer((429, "THROTTLING_EXCEPTION", {"Retry-After": "2"}))
    assert world.deliver(outbox()) is Outcome.DELIVERED
    assert clock.sleeps == [2.0]


def test_no_retry_when_the_deadline_leaves_no_room(world, gateway, clock):
    gateway.answer(503)
    assert world.deliver(outbox(deadline=T0 + 0.3)) is Outcome.LATE
    assert clock.sleeps == [] and len(gateway.received) == 1
    assert world.meter.total("LateDrops") == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_an_event_without_deadline_is_left_to_sqs_to_retry(world, gateway, clock, status):
    gateway.answer(status)
    with pytest.raises(RetryLater):
        world.deliver(proactive())
    assert clock.sleeps == [] and len(gateway.received) == 1


def test_an_unreachable_gateway_is_retried_like_a_5xx(world, gateway, clock):
    gateway.answer(requests.ConnectionError("connection refused"))
    assert world.deliver(outbox()) is Outcome.DELIVERED
    assert clock.sleeps == [0.25]
    assert world.meter.total("GatewayAnswers", status="unreachable") == 1


# -- the Lambda handler -----------------------------------------------------------------------

LWA_URL = "https://lwa.test/auth/o2/token"
SECRET_ACCESS = ("Atza|secret-access-1", "Atza|secret-access-2", "Atza|secret-access-3")
SECRET_REFRESH = "Atzr|secret-refresh"


class LambdaContext:
    function_name = "dispatcher"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:dispatcher"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def sqs_event(*bodies: str) -> dict:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "handle",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's checksum, not security
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bulb-skill-outbox",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }


def _clear_container_caches():
    from aws_lambda_powertools.utilities.parameters import clear_caches

    import skill.aws
    import skill.composition

    skill.composition.use(None)  # a new container: its services built from this environment
    skill.aws.forget_clients()
    clear_caches()


@pytest.fixture
def aws(monkeypatch):
    """A fresh container against moto: tokens table, LWA secret, outbox DLQ."""
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "TOKENS_TABLE": "tokens",
        "LWA_TOKEN_URL": LWA_URL,
        "LWA_SECRET_NAME": "bulb-skill/lwa",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("GATEWAY_URL", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName="tokens",
            KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        boto3.client("secretsmanager").create_secret(
            Name="bulb-skill/lwa",
            SecretString=json.dumps({"client_id": "cid", "client_secret": "client-secret-xyz"}),
        )
        sqs = boto3.client("sqs")
        dlq_url = sqs.create_queue(QueueName="bulb-skill-outbox-dlq")["QueueUrl"]
        monkeypatch.setenv("OUTBOX_DLQ_URL", dlq_url)
        _clear_container_caches()

        class Aws:
            tokens = dynamodb
            queue = sqs
            dlq = dlq_url

            def link(self, user_id, *, access, expires_in=3600, region="NA"):
                from skill.aws.stores import DynamoTokenStore

                DynamoTokenStore("tokens", dynamodb).put(
                    TokenRecord(
                        user_id=user_id,
                        region=region,
                        access_token=access,
                        refresh_token=SECRET_REFRESH,
                        expires_at=time.time() + expires_in,
                    )
                )

        yield Aws()
        _clear_container_caches()


def run(event: dict) -> tuple[dict, str]:
    """The Lambda handler on ``event``, and what it printed (the EMF metrics)."""
    from skill.handlers.dispatcher import handler
    from skill.observability import logger

    logger()  # the Powertools logger binds its stream when created: not to our buffer
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = handler(event, LambdaContext())
    return result, printed.getvalue()


def emf(printed: str) -> list[dict]:
    docs = []
    for line in printed.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and "_aws" in doc:
            docs.append(doc)
    return docs


@pytest.fixture
def lambda_gateway(http):
    from skill.observability import logger

    fake = FakeGateway(
        http,
        time.time,
        on_request=lambda: logger().thread_safe_get_current_keys().get("correlation_id"),
    )
    yield fake
    assert not fake.problems, "the gateway received invalid events:\n" + "\n".join(
        fake.problems[:5]
    )


@pytest.fixture
def lwa_endpoint(http):
    issued = iter(SECRET_ACCESS)
    calls = []

    def token(request):
        calls.append(request.body)
        body = {
            "access_token": next(issued),
            "refresh_token": SECRET_REFRESH,
            "token_type": "bearer",
            "expires_in": 3600,
        }
        return 200, {}, json.dumps(body)

    http.add_callback(responses.POST, LWA_URL, callback=token)
    return calls


def test_the_handler_reports_only_the_records_to_retry(aws, lambda_gateway, lwa_endpoint):

    aws.link("user-1", access="at-live")
    aws.link("user-2", access="at-retry")
    now = time.time()
    delivered = outbox(deadline=now + 8, received_at=now - 0.2).model_dump_json()
    to_retry = proactive(user="user-2").model_dump_json()
    late = outbox(deadline=now - 1).model_dump_json()
    never_linked = outbox(user="stranger", deadline=now + 8).model_dump_json()
    lambda_gateway.answer_to("at-retry", 500)
    event = sqs_event(delivered, to_retry, late, never_linked)

    result, printed = run(event)

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert len(lambda_gateway.received) == 2
    assert {r["context"] for r in lambda_gateway.received} == {"corr-1"}  # the correlation id
    assert lwa_endpoint == []  # a stored, fresh token: no LWA call

    docs = emf(printed)
    assert all(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "BulbSkill" for doc in docs)
    answers = [
        (doc.get("status"), sum(doc["GatewayAnswers"])) for doc in docs if "GatewayAnswers" in doc
    ]
    assert sorted(answers) == [("202", 1.0), ("500", 1.0)]
    assert any("LateDrops" in doc for doc in docs)
    assert any("DeferredLatencyMs" in doc for doc in docs)
    assert any(doc.get("reason") == "no_tokens" for doc in docs if "DroppedEvents" in doc)


def test_a_slow_send_does_not_hold_up_the_rest_of_its_batch(aws, lambda_gateway, lwa_endpoint):
    """L4: the records of a batch were delivered one after another, so one send waiting on the
    gateway (up to its read timeout, then a backoff) made every later answer of the batch late."""
    aws.link("user-slow", access="at-slow")
    aws.link("user-1", access="at-live")
    held = []

    def hold():  # the gateway keeps this answer until the batch's other events have arrived
        began = time.monotonic()
        while len(lambda_gateway.received) < 2 and time.monotonic() - began < 3:
            time.sleep(0.01)
        held.append(len(lambda_gateway.received) >= 2)

    lambda_gateway.holds["at-slow"] = hold
    now = time.time()
    event = sqs_event(
        outbox(user="user-slow", deadline=now + 8, received_at=now).model_dump_json(),
        outbox(deadline=now + 8, received_at=now).model_dump_json(),
        proactive().model_dump_json(),
    )

    assert run(event)[0] == {"batchItemFailures": []}
    assert held == [True], "the batch's other events waited for the slow send"
    assert lambda_gateway.tokens == ["at-live", "at-live", "at-slow"]


def test_concurrent_failures_are_reported_for_their_own_records(aws, lambda_gateway, lwa_endpoint):
    for user in ("a", "b", "c", "d"):
        aws.link(f"user-{user}", access=f"at-{user}")
    lambda_gateway.answer_to("at-b", 503)
    lambda_gateway.answer_to("at-d", (400, "INVALID_REQUEST_EXCEPTION", {}))
    bodies = [proactive(user=f"user-{user}").model_dump_json() for user in ("a", "b", "c", "d")]
    bodies.append("not json")
    event = sqs_event(*bodies)

    result, _ = run(event)

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert sorted(lambda_gateway.tokens) == ["at-a", "at-b", "at-c", "at-d"]
    dead = aws.queue.receive_message(QueueUrl=aws.dlq, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"][:8] for m in dead) == ["not json", '{"user_i']


def test_the_handler_dead_letters_a_400_on_the_outbox_dlq(aws, lambda_gateway, lwa_endpoint):

    aws.link("user-1", access="at-live")
    lambda_gateway.answer((400, "INVALID_REQUEST_EXCEPTION", {}))
    body = proactive().model_dump_json()

    assert run(sqs_event(body))[0] == {"batchItemFailures": []}

    [kept] = aws.queue.receive_message(QueueUrl=aws.dlq, MessageAttributeNames=["All"])["Messages"]
    assert OutboxMessage.model_validate_json(kept["Body"]) == OutboxMessage.model_validate_json(
        body
    )
    attributes = {k: v["StringValue"] for k, v in kept["MessageAttributes"].items()}
    assert attributes["Reason"] == "invalid_request"
    assert attributes["GatewayCode"] == "INVALID_REQUEST_EXCEPTION"
    assert attributes["GatewayDescription"] == "explained by the gateway"


def test_the_handler_exchanges_a_grant_code_through_lwa_and_caches_across_invocations(
    aws, lambda_gateway, lwa_endpoint
):
    from skill.aws.stores import DynamoTokenStore

    DynamoTokenStore("tokens", aws.tokens).put(
        TokenRecord(user_id="user-1", region="EU", grant_code="code-1")
    )
    body = proactive().model_dump_json()
    for _ in range(3):  # three warm invocations
        assert run(sqs_event(body, body))[0] == {"batchItemFailures": []}

    assert len(lwa_endpoint) == 1 and "grant_type=authorization_code" in lwa_endpoint[0]
    assert {r["url"] for r in lambda_gateway.received} == {GATEWAY_URLS["EU"]}
    assert set(lambda_gateway.tokens) == {SECRET_ACCESS[0]}
    stored = aws.tokens.get_item(TableName="tokens", Key={"user_id": {"S": "user-1"}})["Item"]
    assert stored["access_token"]["S"] == SECRET_ACCESS[0] and "grant_code" not in stored


def test_no_token_is_ever_logged(aws, lambda_gateway, lwa_endpoint, logs):

    aws.link("user-1", access="Atza|secret-stored", expires_in=30)  # refreshed before use
    lambda_gateway.answer((401, "INVALID_ACCESS_TOKEN_EXCEPTION", {}))  # then refreshed again
    now = time.time()
    bodies = [
        outbox(deadline=now + 8, received_at=now).model_dump_json(),
        proactive().model_dump_json(),
    ]
    logs.records.clear()  # the test's own setup wrote the stored token through botocore

    result, printed = run(sqs_event(*bodies))
    assert result == {"batchItemFailures": []}

    assert len(lwa_endpoint) == 2 and "grant_type=refresh_token" in lwa_endpoint[0]
    # the two events are sent at once: one is refused, renewed and sent again
    assert len(lambda_gateway.tokens) == 3 and lambda_gateway.tokens[0] == SECRET_ACCESS[0]
    assert set(lambda_gateway.tokens) == set(SECRET_ACCESS[:2])
    assert any("401" in r.getMessage() for r in logs.records)  # the run was logged...
    written = logs.text + printed
    for secret in (
        *SECRET_ACCESS,
        SECRET_REFRESH,
        "Atza|secret-stored",
        "client-secret-xyz",
        "secret-access",
        "secret-refresh",
    ):
        assert secret not in written  # ...without a token


def test_the_sample_sqs_event_is_a_valid_outbox_batch(
    aws, lambda_gateway, lwa_endpoint, assert_alexa_valid
):

    event = json.loads((ROOT / "events" / "dispatcher.sqs.json").read_text())
    [record] = event["Records"]
    message = OutboxMessage.model_validate_json(record["body"])
    assert (
        message.user_id == "demo-user" and message.message["event"]["header"]["name"] == "Response"
    )
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324 - SQS's checksum, not security
    assert_alexa_valid(events.with_scope(message.message, "token"))

    aws.link("demo-user", access="at-demo")
    assert run(event)[0] == {"batchItemFailures": []}
    assert lambda_gateway.tokens == ["at-demo"]


def test_the_delivery_core_imports_no_aws_and_no_http_library():
    import subprocess
    import sys

    code = (
        "import sys, skill.delivery; print(sorted(m for m in ('boto3', 'botocore', 'requests', "
        "'aws_lambda_powertools') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
