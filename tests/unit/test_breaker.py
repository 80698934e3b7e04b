"""The per-vendor circuit breaker: states, shared state across containers, DynamoDB layout."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from skill.aws.breaker_store import DynamoBreakerStore
from skill.breaker import (
    BreakerRecord,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
    MemoryBreakerStore,
)
from skill.errors import (
    BridgeUnreachable,
    EndpointUnreachable,
    InvalidAuthorizationCredential,
    InvalidValue,
    RateLimited,
)
from tests.fakes import Clock

TABLE = "bulb-skill-state"


@pytest.fixture
def dynamodb() -> Iterator[object]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


@pytest.fixture(params=["memory", "dynamodb"])
def store(request):
    if request.param == "memory":
        return MemoryBreakerStore()
    return DynamoBreakerStore(TABLE, request.getfixturevalue("dynamodb"))


@pytest.fixture
def clock() -> Clock:
    return Clock(1000.0)


def breaker(store, clock, **options) -> CircuitBreaker:
    options = {"threshold": 3, "cooldown": 30.0, "window": 60.0, "probe_timeout": 5.0, **options}
    return CircuitBreaker(store, "lifx", clock, **options)


class Vendor:
    """A vendor call that fails with ``failure`` while it is set, and counts its calls."""

    def __init__(self) -> None:
        self.failure: Exception | None = None
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failure is not None:
            raise self.failure
        return "ok"


def fail(b: CircuitBreaker, vendor: Vendor, times: int, error: Exception | None = None) -> None:
    vendor.failure = error or EndpointUnreachable("vendor down")
    for _ in range(times):
        with pytest.raises(type(vendor.failure)):
            b.guard(vendor)


def test_it_stays_closed_below_the_threshold_and_opens_at_it(store, clock):
    b, vendor = breaker(store, clock), Vendor()
    fail(b, vendor, 2)
    assert b.state() is BreakerState.CLOSED
    fail(b, vendor, 1, BridgeUnreachable("hub down"))
    assert b.state() is BreakerState.OPEN
    assert vendor.calls == 3


def test_a_429_is_one_credential_throttled_not_the_vendor_failing(store, clock):
    b, vendor = breaker(store, clock), Vendor()
    fail(b, vendor, 10, RateLimited("slow down"))
    assert b.state() is BreakerState.CLOSED


def test_while_open_calls_fail_fast_without_reaching_the_vendor(store, clock):
    b, vendor = breaker(store, clock), Vendor()
    fail(b, vendor, 3)
    clock.now += 10
    with pytest.raises(CircuitOpen) as raised:
        b.guard(vendor)
    assert vendor.calls == 3
    error = raised.value
    assert isinstance(error, EndpointUnreachable) and error.retryable
    assert error.alexa_type == "ENDPOINT_UNREACHABLE"  # no hub to send the user looking for
    assert error.retry_after == pytest.approx(20.0)


def test_a_success_resets_the_count_so_only_consecutive_failures_open_it(store, clock):
    b, vendor = breaker(store, clock), Vendor()
    for _ in range(5):
        fail(b, vendor, 2)
        vendor.failure = None
        assert b.guard(vendor) == "ok"
    assert b.state() is BreakerState.CLOSED


def test_failures_spread_beyond_the_window_do_not_open_it(store, clock):
    b, vendor = breaker(store, clock), Vendor()
    for _ in range(6):
        fail(b, vendor, 1)
        clock.now += 40  # at most two failures ever fall in one run's 60 s window
        fail(b, vendor, 1)
        clock.now += 61
    assert b.state() is BreakerState.CLOSED


@pytest.mark.parametrize("error", [InvalidValue("bad"), InvalidAuthorizationCredential("token")])
def test_errors_the_vendor_answers_with_do_not_count(store, clock, error):
    b, vendor = breaker(store, clock), Vendor()
    fail(b, vendor, 2)
    fail(b, vendor, 5, error)  # the vendor is up: it answered, so the run of failures ends
    fail(b, vendor, 2)
    assert b.state() is BreakerState.CLOSED


def test_after_the_cooldown_one_probe_goes_through_and_its_success_closes_it(store, clock):
    b, vendor = breaker(store, clock), Vendor()
    fail(b, vendor, 3)
    clock.now += 30
    assert b.state() is BreakerState.HALF_OPEN
    permit = b.before()
    assert permit.probe
    with pytest.raises(CircuitOpen):  # one probe at a time
        b.before()
    b.success(permit)
    assert b.state() is BreakerState.CLOSED
    vendor.failure = None
    assert b.guard(vendor) == "ok"


def test_a_failed_probe_opens_it_for_another_cooldown(store, clock):
    b, vendor = breaker(store, clock), Vendor()
    fail(b, vendor, 3)
    clock.now += 31
    fail(b, vendor, 1)  # the probe
    assert b.state() is BreakerState.OPEN
    clock.now += 29
    with pytest.raises(CircuitOpen):
        b.guard(vendor)
    assert vendor.calls == 4
    clock.now += 1
    vendor.failure = None
    assert b.guard(vendor) == "ok"
    assert b.state() is BreakerState.CLOSED


def test_containers_sharing_the_store_agree_and_only_one_probes(store, clock):
    first, second = breaker(store, clock), breaker(store, clock)
    vendor = Vendor()
    fail(first, vendor, 2)
    fail(second, vendor, 1)  # the third failure, seen by another container
    with pytest.raises(CircuitOpen):
        first.before()
    clock.now += 30
    probe = second.before()
    assert probe.probe
    with pytest.raises(CircuitOpen):
        first.before()
    second.success(probe)
    assert first.before().probe is False  # closed for everyone


def test_a_probe_that_never_reports_back_is_replaced_after_its_lease(store, clock):
    first, second = breaker(store, clock), breaker(store, clock)
    fail(first, Vendor(), 3)
    clock.now += 30
    lost = first.before()  # this container's Lambda then dies mid-call
    assert lost.probe
    clock.now += 4
    with pytest.raises(CircuitOpen):
        second.before()
    clock.now += 2  # past the 5 s lease
    replacement = second.before()
    assert replacement.probe
    first.success(lost)  # a late answer from the lost probe changes nothing
    assert first.state() is BreakerState.HALF_OPEN
    second.failure(replacement, EndpointUnreachable("still down"))
    assert first.state() is BreakerState.OPEN


def test_a_call_let_through_before_it_opened_does_not_close_it(store, clock):
    b, vendor = breaker(store, clock), Vendor()
    early = b.before()  # a slow call started while closed
    fail(b, vendor, 3)
    b.success(early)
    assert b.state() is BreakerState.OPEN


def test_a_bug_in_the_call_is_not_counted_either_way(store, clock):
    b, vendor = breaker(store, clock), Vendor()
    fail(b, vendor, 2)
    fail(b, vendor, 3, KeyError("our bug"))
    fail(b, vendor, 1)
    assert b.state() is BreakerState.OPEN


class BrokenStore:
    def load(self, vendor):
        raise ConnectionError("dynamodb down")

    def save(self, vendor, record, expected_version):
        raise ConnectionError("dynamodb down")


def test_a_store_outage_never_blocks_vendor_calls(clock):
    b, vendor = breaker(BrokenStore(), clock), Vendor()
    fail(b, vendor, 10)
    vendor.failure = None
    assert b.guard(vendor) == "ok"


def test_transitions_are_reported(store, clock):
    seen = []
    b = breaker(
        store,
        clock,
        on_transition=lambda vendor, old, new: seen.append((vendor, old.value, new.value)),
    )
    vendor = Vendor()
    fail(b, vendor, 3)
    clock.now += 30
    vendor.failure = None
    b.guard(vendor)
    assert seen == [
        ("lifx", "closed", "open"),
        ("lifx", "open", "half_open"),
        ("lifx", "half_open", "closed"),
    ]


def test_a_healthy_vendor_costs_one_read_per_call_and_no_write(clock):
    class CountingStore(MemoryBreakerStore):
        loads = saves = 0

        def load(self, vendor):
            self.loads += 1
            return super().load(vendor)

        def save(self, vendor, record, expected_version):
            self.saves += 1
            return super().save(vendor, record, expected_version)

    store = CountingStore()
    b, vendor = breaker(store, clock), Vendor()
    for _ in range(10):
        b.guard(vendor)
    assert (store.loads, store.saves) == (10, 0)
    cached = breaker(store, clock, cache_seconds=1.0)
    for _ in range(10):
        cached.guard(vendor)
    assert store.loads == 11


# --- the DynamoDB store ------------------------------------------------------------------------


def test_the_state_lives_in_the_state_table_under_breaker_vendor(dynamodb, clock):
    b = breaker(DynamoBreakerStore(TABLE, dynamodb), clock)
    fail(b, Vendor(), 3)
    item = dynamodb.get_item(
        TableName=TABLE, Key={"pk": {"S": "breaker#lifx"}, "sk": {"S": "breaker"}}
    )["Item"]
    assert item["state"]["S"] == "open"
    assert item["opened_at"]["N"] == "1000.0"
    assert int(item["version"]["N"]) == 3


def test_a_stale_writer_loses_the_conditional_update(dynamodb):
    store = DynamoBreakerStore(TABLE, dynamodb)
    assert store.save("hue", BreakerRecord(failures=1), expected_version=0)
    assert not store.save("hue", BreakerRecord(failures=9), expected_version=0)  # item exists now
    assert store.save("hue", BreakerRecord(failures=2), expected_version=1)
    assert not store.save("hue", BreakerRecord(failures=9), expected_version=1)
    record = store.load("hue")
    assert (record.failures, record.version) == (2, 2)


class RacingStore:
    """Another container writes between this one's read and its conditional write, once."""

    def __init__(self, inner, rival: CircuitBreaker) -> None:
        self.inner, self.rival, self.raced = inner, rival, False

    def load(self, vendor):
        return self.inner.load(vendor)

    def save(self, vendor, record, expected_version):
        if not self.raced:
            self.raced = True
            self.rival.failure(None, EndpointUnreachable("down"))
        return self.inner.save(vendor, record, expected_version)


def test_concurrent_failures_are_all_counted_despite_the_race(store, clock):
    rival = breaker(store, clock)
    b = breaker(RacingStore(store, rival), clock)
    b.failure(None, EndpointUnreachable("down"))  # its first write loses, re-reads, counts again
    assert store.load("lifx").failures == 2


def test_of_many_threads_after_the_cooldown_exactly_one_probes(clock):
    store = MemoryBreakerStore()
    fail(breaker(store, clock), Vendor(), 3)
    clock.now += 30
    probes, refused = [], []
    barrier = threading.Barrier(16)

    def container():
        b = breaker(store, clock)
        barrier.wait()
        try:
            probes.append(b.before())
        except CircuitOpen:
            refused.append(1)

    threads = [threading.Thread(target=container) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.probe for p in probes] == [True] and len(refused) == 15


# --- a property: whatever the interleaving, at most one live probe and fail-fast while open ---

steps = st.lists(
    st.tuples(
        st.integers(0, 2),  # which container
        st.sampled_from(["ok", "down", "answered-error", "wait"]),
        st.floats(0, 20),  # seconds passing before the step
    ),
    max_size=60,
)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps=steps)
def test_any_interleaving_keeps_the_breaker_rules(steps):
    clock = Clock(1000.0)
    store = MemoryBreakerStore()
    containers = [breaker(store, clock) for _ in range(3)]
    live_probes: dict[int, tuple[object, float]] = {}
    for index, outcome, pause in steps:
        clock.now += pause
        b = containers[index]
        record = store.load("lifx")
        try:
            permit = b.before()
        except CircuitOpen as refused:
            assert record.state is not BreakerState.CLOSED
            assert refused.retry_after > 0
            continue
        if record.state is BreakerState.OPEN:
            assert clock.now >= record.opened_at + b.cooldown, "a call went through while open"
        if permit.probe:
            others = [
                i for i, (_, until) in live_probes.items() if until > clock.now and i != index
            ]
            assert not others, "two probes at once"
            live_probes[index] = (permit, clock.now + b.probe_timeout)
        if outcome == "ok":
            b.success(permit)
        elif outcome == "down":
            b.failure(permit, EndpointUnreachable("down"))
        elif outcome == "answered-error":
            b.failure(permit, InvalidValue("bad"))
        # "wait": the call never reports back (a Lambda that died)
        if outcome != "wait" and permit.probe:
            live_probes.pop(index, None)
        after = store.load("lifx")
        if permit.probe and outcome in ("ok", "answered-error"):
            assert after.state is BreakerState.CLOSED
        if permit.probe and outcome == "down":
            assert after.state is BreakerState.OPEN and after.opened_at == clock.now


# --- the wiring proposed for Pipeline.call (a subclass here: the pipeline is not ours) ---------


def test_wired_into_the_pipeline_an_open_breaker_answers_at_once_without_calling_the_vendor(
    assert_alexa_valid,
):
    from skill.pipeline import Pipeline, PipelineServices
    from skill.plugins import Style
    from tests.fakes import (
        FakeAdapter,
        MemoryOutbox,
        MemoryStateStore,
        credentials_of,
        registry_of,
        vault_with,
    )
    from tests.unit.test_pipeline import queued

    clock = Clock(1000.0)
    store = MemoryBreakerStore()
    breakers: dict[str, CircuitBreaker] = {}

    def breaker_for(vendor):
        return breakers.setdefault(vendor, CircuitBreaker(store, vendor, clock, 3, 30.0))

    adapter = FakeAdapter(style=Style.SYNC)
    services = PipelineServices(
        adapters=registry_of(adapter),
        credentials=credentials_of(vault_with(adapter)),
        outbox=MemoryOutbox(),
        pending=MemoryStateStore(),
        clock=clock,
        sleep=clock.sleep,
        breaker_for=breaker_for,
    )
    pipeline = Pipeline(services)
    pipeline.process(queued(received=clock.now))  # healthy: the bulb's owner is known
    adapter.failure = EndpointUnreachable("vendor down")
    pipeline.process(queued(received=clock.now))  # retries trip the breaker on the 3rd failure
    assert breakers["fake"].state() is BreakerState.OPEN
    calls, started = len(adapter.calls), clock.now
    assert pipeline.process(queued(received=clock.now)) == "answered"
    assert len(adapter.calls) == calls, "the vendor was called while the breaker was open"
    assert clock.now == started, "the retry loop slept through a cool-down longer than the deadline"
    answer = services.outbox.messages[-1]
    assert_alexa_valid(answer.message)
    assert answer.message["event"]["payload"]["type"] == "ENDPOINT_UNREACHABLE"
