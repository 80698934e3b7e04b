"""Injected faults (``bulb_workbench.local.faults``): the vendor simulator, the fake event gateway
and the fake LWA fail the way real services fail, and under any of it each directive ends with
exactly one final answer at the gateway within its deadline, or is dropped and counted as late.

The first part checks each kind of fault at each service over loopback; the second runs the
skill under faults on one local stack; the last part holds what the faults found in code outside
the local stack (findings L1, L1b, L2, L3, L4, L6 and L7 in docs/reliability.md, section 6; L5 is
tested in tests/unit/test_dispatcher.py), fixed since: each of these tests failed before its fix.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from bulb_workbench.local._fake_gateway import FakeGateway
from bulb_workbench.local._fake_lwa import FakeLwa
from bulb_workbench.local._faults_tally import TERMINAL, Outcomes
from bulb_workbench.local._pollers import LambdaContext, sqs_event
from bulb_workbench.local.faults import KINDS, FaultInjector, FaultProfile, install, profile_of
from bulb_workbench.local.schema import schema_errors
from bulb_workbench.local.simulator import VendorSimulator
from bulb_workbench.local.stack import LocalStack, cold_start

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[2] / "events"
HOLD = 0.4  # how long a timeout holds a request in the HTTP tests (the clients wait 0.2 s)
CLIENT_TIMEOUT = 0.2


# -- the profile -----------------------------------------------------------------------------------


def test_a_fault_profile_reads_shares_kinds_and_seed() -> None:
    profile = FaultProfile.parse("vendor=0.2, gateway=0.1,lwa=1,kinds=timeout+429,seed=7")

    assert (profile.vendor, profile.gateway, profile.lwa) == (0.2, 0.1, 1.0)
    assert profile.kinds == ("timeout", "429") and profile.seed == 7
    assert str(profile) == "vendor=0.2,gateway=0.1,lwa=1,kinds=timeout+429"
    assert FaultProfile.parse("vendor=0.2", seed=3).seed == 3
    assert not FaultProfile.parse("none").active
    assert profile_of({"gateway": 0.5, "kinds": "reset"}) == FaultProfile(
        gateway=0.5, kinds=("reset",)
    )


@pytest.mark.parametrize(
    "spec",
    ["vendor=1.5", "vendor=-0.1", "vendor", "bulbs=0.2", "vendor=abc", "kinds=fire", "seed=x"],
)
def test_a_bad_fault_profile_is_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        FaultProfile.parse(spec)


def test_the_same_seed_fails_the_same_calls_in_the_same_ways() -> None:
    def decisions(seed: int) -> list[Any]:
        injector = FaultInjector("vendor", 0.3, seed=seed)
        return [injector.decide() for _ in range(200)]

    first, again, other = decisions(5), decisions(5), decisions(6)

    assert first == again != other
    share = sum(d is not None for d in first) / len(first)
    assert 0.2 < share < 0.4
    assert {d[0] for d in first if d} == set(KINDS)  # every kind comes up


# -- each kind of fault, at each service, over HTTP ------------------------------------------------


@pytest.fixture(scope="module")
def services() -> Iterator[dict[str, Any]]:
    """A simulator, a gateway and an LWA, each behind its own injector (scripted per test)."""
    sim = VendorSimulator(latency=0, transition=0.05).start()
    lwa = FakeLwa("client", "secret").start()
    gateway = FakeGateway(lwa.is_valid).start()
    faults = install(
        FaultProfile(seed=1),
        simulator=sim,
        gateway=gateway,
        lwa=lwa,
        hold={"vendor": HOLD, "gateway": HOLD, "lwa": HOLD},
    )
    try:
        yield {"sim": sim, "lwa": lwa, "gateway": gateway, "faults": faults}
    finally:
        faults.stop()
        gateway.stop()
        lwa.stop()
        sim.stop()


def _call(services: dict[str, Any], target: str) -> requests.Response:
    """One call to ``target``'s real endpoint, as its client would make it."""
    if target == "vendor":
        return requests.post(
            f"{services['sim'].url}/sim-sync/v1/devices/white-1/commands",
            json={"on": True},
            headers={"Authorization": "Bearer demo-sim-sync-credential"},  # sim-sync's own
            timeout=CLIENT_TIMEOUT,
        )
    if target == "lwa":
        return requests.post(
            services["lwa"].token_url,
            data={
                "grant_type": "authorization_code",
                "code": f"c-{uuid.uuid4()}",
                "client_id": "client",
                "client_secret": "secret",
            },
            timeout=CLIENT_TIMEOUT,
        )
    return requests.post(
        services["gateway"].events_url,
        json={"event": {}},
        headers={"Authorization": "Bearer x"},
        timeout=CLIENT_TIMEOUT,
    )


@pytest.mark.parametrize("target", ["vendor", "gateway", "lwa"])
def test_a_timeout_holds_the_call_past_the_clients_timeout(
    services: dict[str, Any], target: str
) -> None:
    services["faults"].fail_next(target, 1, "timeout")
    began = time.monotonic()

    with pytest.raises(requests.Timeout):
        _call(services, target)

    assert time.monotonic() - began >= CLIENT_TIMEOUT
    assert services["faults"].log(target)[-1].kind == "timeout"
    time.sleep(HOLD)  # the held request ends (and closes its connection) by itself
    assert _call(services, target).status_code < 500  # the next call is served


@pytest.mark.parametrize("target", ["vendor", "gateway", "lwa"])
def test_a_reset_closes_the_connection_without_an_answer(
    services: dict[str, Any], target: str
) -> None:
    services["faults"].fail_next(target, 1, "reset")

    with pytest.raises(requests.ConnectionError):
        _call(services, target)
    assert services["faults"].log(target)[-1].status is None


@pytest.mark.parametrize("target", ["vendor", "gateway", "lwa"])
def test_5xx_and_429_carry_the_services_own_error_body(
    services: dict[str, Any], target: str
) -> None:
    services["faults"].fail_next(target, 3, "5xx")
    services["faults"].fail_next(target, 1, "429")

    failed = [_call(services, target) for _ in range(3)]
    throttled = _call(services, target)

    assert {a.status_code for a in failed} <= {500, 502, 503}
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    for answer in [*failed, throttled]:
        body = answer.json()
        if target == "vendor":
            assert set(body) == {"error", "message"}
        elif target == "lwa":
            assert set(body) == {"error", "error_description"}
        else:
            assert body["header"]["name"] == "Exception" and body["payload"]["code"]


@pytest.mark.parametrize("target", ["vendor", "gateway", "lwa"])
def test_a_malformed_answer_is_cut_off_json_or_an_html_page(
    services: dict[str, Any], target: str
) -> None:
    services["faults"].fail_next(target, 12, "malformed")

    answers = [_call(services, target) for _ in range(12)]

    for answer in answers:
        with pytest.raises(ValueError):
            answer.json()
    pages = [a for a in answers if a.headers.get("Content-Type", "").startswith("text/html")]
    assert pages and all(a.status_code in (502, 503) and b"<html>" in a.content for a in pages)
    cut = [a for a in answers if a not in pages]
    assert cut, "the seed gave no cut-off answer in 12 tries"
    processed = [f for f in services["faults"].log(target)[-12:] if f.processed]
    if target == "gateway":  # a 202 has no body to spoil: its malformed answers are 500s
        assert all(a.status_code == 500 for a in cut) and not processed
    else:  # a processed success, answered with half its JSON
        assert all(a.status_code < 300 for a in cut) and len(processed) == len(cut)


def test_test_hooks_and_other_paths_never_fail(services: dict[str, Any]) -> None:
    services["faults"].injectors["vendor"].rate = 1.0
    try:
        hooks = [requests.get(f"{services['sim'].url}/_sim/health", timeout=2) for _ in range(5)]
    finally:
        services["faults"].injectors["vendor"].rate = 0.0

    assert all(h.status_code == 200 for h in hooks)


# -- the skill under faults ------------------------------------------------------------------------


_PLAYING: dict[str, LocalStack] = {}


def event(name: str) -> dict[str, Any]:
    directive = copy.deepcopy(json.loads((EVENTS / name).read_text()))
    if "stack" in _PLAYING:  # the demo user's access token in place of demo-token
        directive = _PLAYING["stack"].with_demo_token(directive)
    header = directive["directive"]["header"]
    header["messageId"] = str(uuid.uuid4())
    header["correlationToken"] = f"fault-{uuid.uuid4()}"
    return directive


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(latency=0.01, transition=0.2, faults="none") as running:
        running.link_demo_user()
        _PLAYING["stack"] = running
        yield running
        _PLAYING.clear()


@pytest.fixture
def outcomes(stack: LocalStack) -> Iterator[Outcomes]:
    assert stack.faults is not None
    with Outcomes().tapped() as tally:
        yield tally
    for injector in stack.faults.injectors.values():  # each test sets its own
        injector.rate = 0.0
        injector.kinds = KINDS
        injector.clear_script()  # what a failed test left scripted


@dataclass
class Verdict:
    token: str
    finals: list[Any]  # GatewayEvent of each accepted Response / ErrorResponse
    outcomes: list[str]  # the dispatcher's
    sent_at: float
    deadline: float

    @property
    def answered(self) -> bool:
        return len(self.finals) >= 1

    @property
    def late_drop(self) -> bool:
        return not self.finals and bool(self.outcomes) and self.outcomes[-1] == "late"


def play(
    stack: LocalStack, outcomes: Outcomes, names: list[str], grace: float = 2.0
) -> list[Verdict]:
    """Send the directives at once; wait until each has a final answer at the gateway or a final
    outcome at the dispatcher, at most its deadline + ``grace``; then until the stack is idle."""
    sent = []
    for name in names:
        directive = event(name)
        began = time.time()
        answer = stack.invoke(directive)
        assert answer["event"]["header"]["name"] == "DeferredResponse", answer
        sent.append((directive["directive"]["header"]["correlationToken"], began))

    def settled(token: str) -> bool:
        finals = [
            e
            for e in stack.gateway.accepted_with_times(token)
            if e.name in ("Response", "ErrorResponse")
        ]
        return bool(finals) or any(o in TERMINAL for o in outcomes.of(token))

    last = max(began for _, began in sent)
    outcomes.wait(
        lambda: all(settled(t) for t, _ in sent),
        last + stack.deadline_seconds + grace - time.time(),
    )
    stack.wait_idle(5)
    time.sleep(0.3)
    return [
        Verdict(
            token,
            [
                e
                for e in stack.gateway.accepted_with_times(token)
                if e.name in ("Response", "ErrorResponse")
            ],
            outcomes.of(token),
            began,
            began + stack.deadline_seconds,
        )
        for token, began in sent
    ]


def assert_the_promise(
    verdicts: list[Verdict], outcomes: Outcomes, pipeline_late_before: float
) -> None:
    """Each directive: one final answer, on time, schema-valid; or a late drop the skill counted."""
    unattributed = []
    for verdict in verdicts:
        assert len(verdict.finals) <= 1, f"{verdict.token} answered {len(verdict.finals)} times"
        for final in verdict.finals:
            assert not schema_errors(final.message)
            assert final.received_at <= verdict.deadline + 0.1, f"{verdict.token} answered late"
        if not verdict.answered and not verdict.late_drop:
            unattributed.append(verdict)
    late_in_pipeline = outcomes.count("LateDrops") - pipeline_late_before
    assert len(unattributed) <= late_in_pipeline, (
        f"lost: {[(v.token, v.outcomes) for v in unattributed]}; "
        f"pipeline counters {dict(outcomes.counts)}"
    )


def test_vendor_faults_still_end_every_directive_once(
    stack: LocalStack, outcomes: Outcomes
) -> None:
    mix = [
        "TurnOn.sync.json",
        "SetBrightness.sync.json",
        "TurnOn.async.json",
        "SetColorTemperature.async.json",
        "TurnOn.optimistic.json",
        "SetBrightness.optimistic.json",
        "TurnOn.polling.json",
        "AdjustBrightness.polling.json",
    ]
    stack.faults.injectors["vendor"].rate = 0.3  # a cold stack: identity lookups fail too

    verdicts = play(stack, outcomes, mix)

    assert_the_promise(verdicts, outcomes, 0)
    assert stack.faults.counts()["vendor"], "no vendor fault was injected"
    assert sum(v.answered for v in verdicts) >= len(mix) // 2


def test_gateway_faults_of_every_kind_still_end_every_directive_once(
    stack: LocalStack, outcomes: Outcomes
) -> None:
    before = len(stack.faults.log("gateway"))
    for kind in KINDS:
        stack.faults.fail_next("gateway", 1, kind)

    verdicts = play(
        stack,
        outcomes,
        [
            "SetBrightness.sync.json",
            "TurnOn.optimistic.json",
            "TurnOff.sync.json",
            "SetBrightness.optimistic.json",
            "TurnOff.optimistic.json",
        ],
    )

    assert_the_promise(verdicts, outcomes, 0)
    assert sorted(f.kind for f in stack.faults.log("gateway")[before:]) == sorted(KINDS)
    assert sum(v.answered for v in verdicts) >= 4  # at most the one behind the timeout is late


def test_an_lwa_failing_while_tokens_expire_delays_the_answer_but_never_doubles_it(
    stack: LocalStack, outcomes: Outcomes
) -> None:
    stack.lwa.expire_access_tokens()  # the gateway now answers 401: the dispatcher must refresh
    stack.faults.fail_next("lwa", 1, "reset")
    stack.faults.fail_next("lwa", 1, "5xx")
    calls = stack.lwa.calls_of("refresh_token")
    failed = len(stack.faults.log("lwa"))

    verdicts = play(stack, outcomes, ["TurnOn.sync.json"])

    assert_the_promise(verdicts, outcomes, 0)
    assert verdicts[0].answered and verdicts[0].finals[0].name == "Response"
    # L7: LWA is asked again within the invocation; before, the answer went back to SQS
    # (RetryLater), which in AWS delivers it again only after the outbox's 180 s visibility
    assert verdicts[0].outcomes == ["delivered"]
    tries = [f.at for f in stack.faults.log("lwa")[failed:]]
    assert len(tries) == 2 and tries[1] - tries[0] >= 0.24  # the first back-off (RetryPolicy)
    assert stack.lwa.calls_of("refresh_token") > calls  # then the refresh went through


def test_an_lwa_down_while_tokens_expire_is_a_counted_late_drop(
    stack: LocalStack, outcomes: Outcomes
) -> None:
    stack.lwa.expire_access_tokens()
    injector = stack.faults.injectors["lwa"]
    injector.rate, injector.kinds = 1.0, ("5xx", "429", "reset")
    failed = len(stack.faults.log("lwa"))
    try:
        verdicts = play(stack, outcomes, ["TurnOn.sync.json"])
        tries = [f.at for f in stack.faults.log("lwa")[failed:]]
    finally:
        injector.rate = 0.0
        stack.link_demo_user()

    assert_the_promise(verdicts, outcomes, 0)
    assert verdicts[0].late_drop and not verdicts[0].finals
    assert verdicts[0].outcomes == ["late"]  # asked LWA until the deadline, in one invocation
    assert len(tries) >= 4 and all(b - a >= 0.24 for a, b in itertools.pairwise(tries))


# -- what the faults found outside the local stack (fixed since) -----------------------------------


def test_a_cold_container_survives_a_failed_first_vendor_call(stack: LocalStack) -> None:
    """L1: ``Pipeline._user_of`` asked the vendor whose token it was once, without retry; with
    no recorded owner the directive was 'undeliverable' and got no answer at all. The directive
    now carries its user id (the entrypoint's, from the access token): a cold container with no
    owner record whose first vendor call fails still answers."""
    cold_start()  # a new processor container: nothing cached (credentials, breakers)
    directive = event("SetBrightness.sync.json")
    endpoint_id = directive["directive"]["endpoint"]["endpointId"]
    stack.client("dynamodb").delete_item(  # and no owner is recorded: the bulb's first directive
        TableName=stack.table_name("STATE_TABLE"),
        Key={"pk": {"S": f"owner#{endpoint_id}"}, "sk": {"S": f"user#{stack.demo_user_id}"}},
    )
    with Outcomes().tapped() as outcomes:
        stack.faults.fail_next("vendor", 1, "5xx")  # the first vendor call fails
        stack.invoke(directive)
        token = directive["directive"]["header"]["correlationToken"]
        outcomes.wait(
            lambda: bool(stack.gateway.accepted(token)) or outcomes.count("Undeliverable") > 0,
            stack.deadline_seconds + 2,
        )

    assert outcomes.count("Undeliverable") == 0
    assert stack.gateway.accepted(token), "no answer reached the gateway"


def test_a_gateway_failing_three_times_within_the_deadline_still_gets_the_answer(
    stack: LocalStack, outcomes: Outcomes
) -> None:
    """L2: the dispatcher gave up after three sends (``RetryPolicy.max_attempts``) with time
    left before the deadline: the answer was dropped (``gave_up``), not even counted as late."""
    stack.faults.fail_next("gateway", 3, "5xx")

    verdicts = play(stack, outcomes, ["TurnOff.sync.json"])

    assert verdicts[0].outcomes[-1] != "gave_up"
    assert verdicts[0].answered


def test_concurrent_dispatcher_invocations_report_their_own_failures(stack: LocalStack) -> None:
    """L3: ``skill.handlers.dispatcher`` cached one Powertools ``BatchProcessor``; two invocations
    in one process (the local stack's pollers) shared its records and failures, so a batch reported
    another's failed record (the poller then failed the whole batch: duplicates) or lost its own (a
    failed record deleted as done: lost). The events have no deadline, so that an LWA failure still
    fails their records (L7: an answer with a deadline waits LWA out here)."""
    from skill.handlers.dispatcher import handler

    def record(user: str) -> dict[str, Any]:
        from skill.alexa import events

        token = f"race-{uuid.uuid4()}"
        body = {
            "user_id": user,
            "message": events.response(token, "sim-sync:white-1", []),
            "deadline": None,
            "received_at": None,
            "correlation_id": str(uuid.uuid4()),
            "kind": "Response",
        }
        return {
            "MessageId": str(uuid.uuid4()),
            "ReceiptHandle": uuid.uuid4().hex,
            "Body": json.dumps(body),
            "Attributes": {"ApproximateReceiveCount": "1"},
        }

    answers: dict[str, Any] = {}

    def invoke(message: dict[str, Any]) -> None:
        event = sqs_event([message], "arn:aws:sqs:us-east-1:123456789012:outbox")
        answers[message["MessageId"]] = handler(event, LambdaContext("dispatcher", timeout=30))

    first, second = record(stack.demo_user_id), record(stack.demo_user_id)
    with stack.paused():
        stack.lwa.expire_access_tokens()  # 401, then a refresh that hangs until LWA's timeout
        stack.faults.fail_next("lwa", 2, "timeout")
        try:
            threads = [threading.Thread(target=invoke, args=(m,)) for m in (first, second)]
            threads[0].start()
            time.sleep(0.5)  # the second invocation starts while the first one waits on LWA
            threads[1].start()
            for thread in threads:
                thread.join(timeout=15)
        finally:
            stack.link_demo_user()

    for message in (first, second):  # each failed (LWA down): each reports itself, only itself
        failures = answers[message["MessageId"]]["batchItemFailures"]
        assert [f["itemIdentifier"] for f in failures] == [message["MessageId"]]


def test_a_push_that_answers_while_the_command_is_retried_is_the_only_answer(
    stack: LocalStack, outcomes: Outcomes
) -> None:
    """L6: the vendor ran the command but its answer was cut off; the pipeline retries the
    command while the vendor's push (for the first call) answers the pending command. If every
    retry then fails, the pipeline must not answer a second time with an ErrorResponse."""
    play(stack, outcomes, ["TurnOn.async.json"])
    stack.simulator.set_state("sim-async", "color-1", on=True, brightness=10)
    stack.simulator.wait_idle(2)
    commands = "/devices/color-1/commands"
    stack.faults.fail_next("vendor", 1, "malformed", path=commands, processed=True)
    stack.faults.fail_next("vendor", 3, "5xx", path=commands)

    verdicts = play(stack, outcomes, ["SetBrightness.async.json"])

    assert [f.kind for f in stack.faults.log("vendor")[-4:]] == ["malformed", "5xx", "5xx", "5xx"]
    assert len(verdicts[0].finals) == 1, [f.name for f in verdicts[0].finals]
    assert verdicts[0].finals[0].name == "Response"  # the bulb did change


def test_a_cold_container_answers_while_the_vendors_breaker_is_open(
    stack: LocalStack,
) -> None:
    """L1b: the identity lookup went through the vendor's circuit breaker. While it was open,
    the lookup failed at once, and a bulb's first directive in a cold container, with no
    recorded owner to fall back on, got no answer at all. (No lookup is left: the directive
    carries its user id; the breaker answers for the command.)"""
    from skill.aws.breaker_store import DynamoBreakerStore
    from skill.breaker import CircuitBreaker

    directive = event("SetBrightness.sync.json")
    endpoint_id = directive["directive"]["endpoint"]["endpointId"]
    vendor = endpoint_id.split(":", 1)[0]
    dynamodb, table = stack.client("dynamodb"), stack.table_name("STATE_TABLE")
    store = DynamoBreakerStore(table, dynamodb)
    CircuitBreaker(store, vendor, threshold=1, cooldown=60.0).failure()  # open for a minute
    cold_start()
    dynamodb.delete_item(
        TableName=table,
        Key={"pk": {"S": f"owner#{endpoint_id}"}, "sk": {"S": f"user#{stack.demo_user_id}"}},
    )
    try:
        with Outcomes().tapped() as outcomes:
            stack.invoke(directive)
            token = directive["directive"]["header"]["correlationToken"]
            outcomes.wait(
                lambda: bool(stack.gateway.accepted(token)) or outcomes.count("Undeliverable") > 0,
                stack.deadline_seconds + 2,
            )
    finally:
        dynamodb.delete_item(TableName=table, Key=DynamoBreakerStore._key(vendor))
        cold_start()

    assert outcomes.count("Undeliverable") == 0
    [answer] = stack.gateway.accepted(token)  # the breaker answers for the command itself
    assert answer["event"]["header"]["name"] in ("Response", "ErrorResponse")


def test_a_gateway_timeout_does_not_make_the_rest_of_its_batch_late(stack: LocalStack) -> None:
    """L4: the dispatcher delivered a batch's records one after another; one send waiting for
    the gateway's answer (then a backoff) made every later answer of the batch wait as long."""
    from skill.alexa import events
    from skill.handlers.dispatcher import handler

    def record() -> tuple[str, dict[str, Any]]:
        now = time.time()
        token = f"batch-{uuid.uuid4()}"
        body = {
            "user_id": stack.demo_user_id,
            "message": events.response(token, "sim-sync:white-1", []),
            "deadline": now + 8,
            "received_at": now,
            "correlation_id": str(uuid.uuid4()),
            "kind": "Response",
        }
        message = {
            "MessageId": str(uuid.uuid4()),
            "ReceiptHandle": uuid.uuid4().hex,
            "Body": json.dumps(body),
            "Attributes": {"ApproximateReceiveCount": "1"},
        }
        return token, message

    batch = [record() for _ in range(4)]
    with stack.paused():
        stack.faults.fail_next("gateway", 1, "timeout")  # the first send to arrive is held
        began = time.time()
        result = handler(
            sqs_event([m for _, m in batch], "arn:aws:sqs:us-east-1:123456789012:outbox"),
            LambdaContext("dispatcher", timeout=30),
        )

    assert result == {"batchItemFailures": []}
    arrived = sorted(stack.gateway.accepted_with_times(t)[0].received_at - began for t, _ in batch)
    assert arrived[2] < 1.0, f"the batch waited for the held send: {arrived}"
    assert (
        arrived[3] >= 1.2
    )  # the held one: its 1 s read timeout, the 0.25 s back-off, then accepted
