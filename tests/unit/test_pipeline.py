"""The deferred path's core per style: processor, push, poller, sweep (fakes, no I/O)."""

from __future__ import annotations

import pytest

from skill.bulbs import BulbState
from skill.errors import EndpointUnreachable, RateLimited
from skill.pipeline import Pipeline, PipelineServices, PollHandler, PushHandler
from skill.plugins import Notification, Style, WebhookRequest
from skill.records import QueuedDirective
from tests.fakes import (
    COLOR,
    USER,
    WHITE,
    Clock,
    FakeAdapter,
    MemoryOutbox,
    MemoryPollQueue,
    MemoryStateStore,
    credentials_of,
    registry_of,
    sweep_tick,
    vault_with,
)
from tests.unit.test_entrypoint import CORRELATION, directive


class PushingFakeAdapter(FakeAdapter):
    """A FakeAdapter whose pushes are JSON bodies with a shared secret header; each names its
    vendor account (``account``, default the vault's) and is stamped with the fake clock."""

    clock = staticmethod(Clock())  # build() gives it the services' clock

    def parse_notification(self, request: WebhookRequest):
        import json

        from skill.errors import InvalidNotification

        if request.headers.get("x-secret") != "s3cret":
            raise InvalidNotification("bad signature")
        body = json.loads(request.body)
        return [
            Notification(
                body["device"],
                BulbState.model_validate(body["state"]),
                body.get("ref"),
                user_id=body.get("account", "fake-account-1"),
                sent_at=body.get("sent_at", self.clock()),
            )
        ]


def build(style: Style, adapter_class=FakeAdapter):
    adapter = adapter_class(style=style)
    clock = Clock()
    services = PipelineServices(
        adapters=registry_of(adapter),
        credentials=credentials_of(vault_with(adapter)),
        outbox=MemoryOutbox(),
        pending=MemoryStateStore(),
        poll_queue=MemoryPollQueue(),
        clock=clock,
        sleep=clock.sleep,
    )
    services.vault = services.credentials.vault
    adapter.clock = clock
    return adapter, services, clock


def queued(
    namespace="Alexa.PowerController",
    name="TurnOn",
    payload=None,
    endpoint="fake:color-1",
    features=COLOR,
    received=1000.0,
    user=USER,
):
    event = directive(namespace, name, payload, endpoint_id=endpoint, features=features)
    return QueuedDirective.without_token(
        event["directive"],
        user_id=user,
        received_at=received,
        deadline=received + 8,
        features=features,
    )


def properties(message):
    return {p["name"]: p["value"] for p in message.message["context"]["properties"]}


def test_sync_answers_with_the_vendor_state(assert_alexa_valid):
    adapter, services, _ = build(Style.SYNC)
    assert Pipeline(services).process(queued()) == "answered"
    [answer] = services.outbox.messages
    assert_alexa_valid(answer.message)
    assert answer.message["event"]["header"]["correlationToken"] == CORRELATION
    assert properties(answer)["powerState"] == "ON"
    assert properties(answer)["brightness"] == 60  # TurnOn keeps the previous brightness
    assert answer.user_id == "user-1" and answer.deadline == 1008
    assert [c for c in adapter.calls if c[0] == "execute"] == [("execute", "color-1")]


def test_optimistic_answers_from_the_expected_state_and_remembers_it(assert_alexa_valid):
    _adapter, services, _ = build(Style.OPTIMISTIC)
    Pipeline(services).process(
        queued("Alexa.BrightnessController", "AdjustBrightness", {"brightnessDelta": 25})
    )
    [answer] = services.outbox.messages
    assert_alexa_valid(answer.message)
    assert properties(answer)["powerState"] == "ON" and properties(answer)["brightness"] == 25
    assert services.pending.owner_of("fake:color-1", USER).state.brightness == 25


def test_async_records_a_pending_command_and_answers_nothing_yet():
    _adapter, services, _ = build(Style.ASYNC)
    assert Pipeline(services).process(queued()) == "pending"
    assert services.outbox.messages == []
    [pending] = services.pending.pending_for("fake:color-1")
    assert pending.expected.on and pending.change.on is True


def test_a_push_that_beats_the_vendors_own_answer_still_answers_the_command(assert_alexa_valid):
    adapter, services, _ = build(Style.ASYNC, PushingFakeAdapter)
    execute = adapter.execute

    def execute_then_push_at_once(token, device_id, change):
        accepted = execute(token, device_id, change)
        state = adapter.states[device_id].model_dump(mode="json")  # the push lands first
        PushHandler(services).handle("fake", push({"device": device_id, "state": state}))
        return accepted

    adapter.execute = execute_then_push_at_once
    Pipeline(services).process(queued())
    [answer] = services.outbox.messages
    assert_alexa_valid(answer.message)
    assert answer.message["event"]["header"]["name"] == "Response"  # not a ChangeReport
    assert services.pending.pending_for("fake:color-1") == []


def test_a_vendor_refusal_leaves_no_pending_command_behind(assert_alexa_valid):
    adapter, services, _ = build(Style.POLLING)
    Pipeline(services).process(queued())  # owner known
    services.outbox.messages.clear()
    services.poll_queue.tickets.clear()
    services.pending.pending.clear()
    original = adapter.execute

    def refuse(token, device_id, change):
        raise EndpointUnreachable("offline")

    adapter.execute = refuse
    Pipeline(services).process(queued("Alexa.PowerController", "TurnOff"))
    [answer] = services.outbox.messages
    assert answer.message["event"]["payload"]["type"] == "ENDPOINT_UNREACHABLE"
    assert services.pending.pending == {} and services.poll_queue.tickets == []
    adapter.execute = original


def test_async_sets_a_watchdog_that_answers_when_the_push_never_comes(assert_alexa_valid):
    adapter, services, clock = build(Style.ASYNC)
    Pipeline(services).process(queued())
    [(ticket, delay)] = services.poll_queue.tickets
    assert 4 <= delay <= 6
    adapter.states["color-1"] = BulbState(on=False)  # the vendor never applied it
    clock.now += delay
    outcomes = []
    while not outcomes or outcomes[-1] == "waiting":
        outcomes.append(PollHandler(services).handle(ticket))
        clock.now += 1
    assert outcomes[-1] == "answered" and len(outcomes) <= 2 and clock.now <= 1008
    [answer] = services.outbox.messages
    assert_alexa_valid(answer.message)
    assert answer.message["event"]["payload"]["type"] == "ENDPOINT_UNREACHABLE"


def test_polling_records_a_pending_command_and_a_delayed_ticket():
    _adapter, services, _ = build(Style.POLLING)
    Pipeline(services).process(queued())
    [(ticket, delay)] = services.poll_queue.tickets
    assert ticket.endpoint_id == "fake:color-1" and 1 <= delay <= 2


def test_a_vendor_error_becomes_the_error_response(assert_alexa_valid):
    adapter, services, _ = build(Style.SYNC)
    Pipeline(services).process(queued())  # the bulb's owner is known from now on
    services.outbox.messages.clear()
    adapter.failure = EndpointUnreachable("offline")
    Pipeline(services).process(queued())  # a cold container: no identity cached
    [answer] = services.outbox.messages
    assert_alexa_valid(answer.message)
    assert answer.message["event"]["payload"]["type"] == "ENDPOINT_UNREACHABLE"


def test_a_vendor_down_for_a_user_never_seen_is_still_answered(assert_alexa_valid):
    adapter, services, _ = build(Style.SYNC)
    adapter.failure = EndpointUnreachable("offline")
    assert Pipeline(services).process(queued()) == "answered"  # the directive says whose it is
    [answer] = services.outbox.messages
    assert_alexa_valid(answer.message)
    assert answer.user_id == USER
    assert answer.message["event"]["payload"]["type"] == "ENDPOINT_UNREACHABLE"


def test_the_vendor_gets_the_users_vault_credential_never_the_alexa_token():
    adapter, services, _ = build(Style.SYNC)
    seen = []
    original = adapter.execute
    adapter.execute = lambda credential, device_id, change: (
        seen.append(credential),
        original(credential, device_id, change),
    )[1]
    Pipeline(services).process(queued())
    assert seen == [adapter.credential]


def test_a_directive_for_a_vendor_the_user_disconnected_is_no_such_endpoint(assert_alexa_valid):
    adapter, services, _ = build(Style.SYNC)
    services.vault.delete(USER, "fake")
    assert Pipeline(services).process(queued()) == "answered"
    [answer] = services.outbox.messages
    assert_alexa_valid(answer.message)
    assert answer.message["event"]["payload"]["type"] == "NO_SUCH_ENDPOINT"
    assert adapter.calls == []


def test_a_vault_read_failure_is_endpoint_unreachable_never_silence(assert_alexa_valid):
    adapter, services, _ = build(Style.POLLING)
    services.vault.failure = ConnectionError("dynamodb down")
    assert Pipeline(services).process(queued()) == "answered"
    [answer] = services.outbox.messages
    assert_alexa_valid(answer.message)
    assert answer.message["event"]["payload"]["type"] == "ENDPOINT_UNREACHABLE"
    assert adapter.calls == []


def test_a_rate_limited_vendor_is_retried_within_the_deadline(assert_alexa_valid):
    adapter, services, clock = build(Style.SYNC)
    failures = iter([RateLimited(retry_after=0.5)])
    original = adapter.read_state

    def flaky(token, device_id):
        for failure in failures:
            raise failure
        return original(token, device_id)

    adapter.read_state = flaky
    Pipeline(services).process(queued())
    [answer] = services.outbox.messages
    assert answer.message["event"]["header"]["name"] == "Response"
    assert clock.now == pytest.approx(1000.5)


def test_a_directive_past_its_deadline_is_dropped_without_calling_the_vendor():
    adapter, services, clock = build(Style.SYNC)
    clock.now = 1009
    assert Pipeline(services).process(queued()) == "late"
    assert services.outbox.messages == [] and adapter.calls == []


def test_an_out_of_range_value_for_the_device_is_value_out_of_range(assert_alexa_valid):
    _adapter, services, _ = build(Style.SYNC)
    Pipeline(services).process(
        queued(
            "Alexa.ColorController",
            "SetColor",
            {"color": {"hue": 1, "saturation": 1, "brightness": 1}},
            endpoint="fake:white-1",
            features=None,
        )
    )
    [answer] = services.outbox.messages
    assert_alexa_valid(answer.message)
    assert answer.message["event"]["payload"]["type"] == "INVALID_DIRECTIVE"


def test_an_outbox_failure_raises_so_sqs_delivers_again():
    _adapter, services, _ = build(Style.SYNC)
    services.outbox.failure = ConnectionError("sqs down")
    with pytest.raises(ConnectionError):
        Pipeline(services).process(queued())


def push(body, secret="s3cret"):
    import json

    return WebhookRequest(headers={"x-secret": secret}, body=json.dumps(body).encode())


def test_a_matching_push_answers_the_pending_command(assert_alexa_valid):
    adapter, services, _ = build(Style.ASYNC, PushingFakeAdapter)
    Pipeline(services).process(queued())
    state = adapter.states["color-1"].model_dump(mode="json")
    assert (
        PushHandler(services).handle(
            "fake", push({"device": "color-1", "state": state, "ref": "ref-0"})
        )
        == 1
    )
    [answer] = services.outbox.messages
    assert_alexa_valid(answer.message)
    assert answer.message["event"]["header"]["correlationToken"] == CORRELATION
    assert services.pending.pending_for("fake:color-1") == []


def test_an_unmatched_push_is_a_change_report(assert_alexa_valid):
    adapter, services, _ = build(Style.ASYNC, PushingFakeAdapter)
    Pipeline(services).process(queued())
    PushHandler(services).handle(
        "fake",
        push(
            {
                "device": "color-1",
                "state": adapter.states["color-1"].model_dump(mode="json"),
                "ref": "ref-0",
            }
        ),
    )
    services.outbox.messages.clear()
    dimmed = adapter.states["color-1"].model_copy(update={"brightness": 10}).model_dump(mode="json")
    PushHandler(services).handle("fake", push({"device": "color-1", "state": dimmed}))
    [report] = services.outbox.messages
    assert_alexa_valid(report.message)
    assert report.message["event"]["header"]["name"] == "ChangeReport"
    assert report.message["event"]["payload"]["change"]["cause"]["type"] == "PHYSICAL_INTERACTION"
    assert [p["name"] for p in report.message["event"]["payload"]["change"]["properties"]] == [
        "brightness"
    ]


def test_a_push_with_a_bad_signature_is_rejected_and_nothing_is_sent():
    from skill.errors import InvalidNotification

    _adapter, services, _ = build(Style.ASYNC, PushingFakeAdapter)
    Pipeline(services).process(queued())
    with pytest.raises(InvalidNotification):
        PushHandler(services).handle(
            "fake", push({"device": "color-1", "state": {}}, secret="guess")
        )
    assert services.outbox.messages == [] and len(services.pending.pending) == 1


def test_the_poller_answers_when_the_bulb_converged(assert_alexa_valid):
    _adapter, services, clock = build(Style.POLLING)
    Pipeline(services).process(queued())
    [(ticket, _)] = services.poll_queue.tickets
    clock.now += 1
    assert PollHandler(services).handle(ticket) == "answered"
    [answer] = services.outbox.messages
    assert_alexa_valid(answer.message)
    assert properties(answer)["powerState"] == "ON"
    assert PollHandler(services).handle(ticket) == "gone"  # a duplicate ticket answers nothing


def test_the_poller_waits_while_the_bulb_has_not_converged_then_gives_up(assert_alexa_valid):
    adapter, services, clock = build(Style.POLLING)
    Pipeline(services).process(queued())
    adapter.states["color-1"] = BulbState(on=False)  # the vendor has not applied it yet
    ticket = services.poll_queue.tickets[-1][0]
    clock.now += 1
    assert PollHandler(services).handle(ticket) == "waiting"
    assert len(services.poll_queue.tickets) == 2
    clock.now = 1007.5
    assert PollHandler(services).handle(ticket) == "answered"
    [answer] = services.outbox.messages
    assert_alexa_valid(answer.message)
    assert answer.message["event"]["payload"]["type"] == "ENDPOINT_UNREACHABLE"


def test_the_sweep_reports_changes_made_outside_alexa_and_device_list_changes(assert_alexa_valid):
    from skill.plugins import Device

    adapter, services, _clock = build(Style.POLLING)
    Pipeline(services).process(queued())
    [(ticket, _)] = services.poll_queue.tickets
    PollHandler(services).handle(ticket)
    services.outbox.messages.clear()
    adapter.states["color-1"] = adapter.states["color-1"].model_copy(update={"on": False})
    adapter.devices["new-1"] = Device("new-1", "New Bulb", WHITE)
    adapter.states["new-1"] = BulbState()
    sweep_tick(services)
    kinds = sorted(m.kind for m in services.outbox.messages)
    assert kinds == ["AddOrUpdateReport", "ChangeReport"]
    for message in services.outbox.messages:
        from skill.alexa.events import with_scope

        assert_alexa_valid(with_scope(message.message, "lwa-token"))
    services.outbox.messages.clear()
    del adapter.devices["new-1"]
    sweep_tick(services)
    [delete] = services.outbox.messages
    assert delete.kind == "DeleteReport"
    from skill.alexa.events import with_scope

    assert_alexa_valid(with_scope(delete.message, "lwa-token"))


def test_an_open_circuit_breaker_answers_at_once_without_calling_the_vendor(assert_alexa_valid):
    from skill.breaker import CircuitBreaker, MemoryBreakerStore

    adapter, services, clock = build(Style.SYNC)
    Pipeline(services).process(queued())  # the owner is known
    breaker = CircuitBreaker(MemoryBreakerStore(), "fake", clock, threshold=2, cooldown=30)
    services.breaker_for = lambda vendor: breaker
    adapter.failure = EndpointUnreachable("down")
    for _ in range(2):
        Pipeline(services).process(queued("Alexa.PowerController", "TurnOff"))
    services.outbox.messages.clear()
    adapter.calls.clear()
    started = clock.now
    Pipeline(services).process(queued("Alexa.PowerController", "TurnOff", received=clock.now))
    [answer] = services.outbox.messages
    assert_alexa_valid(answer.message)
    assert answer.message["event"]["payload"]["type"] == "ENDPOINT_UNREACHABLE"
    assert adapter.calls == [] and clock.now == started


def test_a_sweep_that_finds_nothing_changed_writes_nothing():
    _adapter, services, _clock = build(Style.OPTIMISTIC)
    Pipeline(services).process(queued())
    sweep_tick(services)  # learns the other bulbs
    services.outbox.messages.clear()
    writes = []
    put_owner = services.pending.put_owner
    services.pending.put_owner = lambda owner: (writes.append(owner), put_owner(owner))
    assert sweep_tick(services) == 0
    assert writes == [] and services.outbox.messages == []


def test_a_push_that_answers_before_the_vendor_call_fails_is_the_only_answer(assert_alexa_valid):
    adapter, services, _ = build(Style.ASYNC, PushingFakeAdapter)
    execute = adapter.execute

    def push_then_fail(token, device_id, change):
        execute(token, device_id, change)
        state = adapter.states[device_id].model_dump(mode="json")
        PushHandler(services).handle("fake", push({"device": device_id, "state": state}))
        raise EndpointUnreachable("the answer to the command was lost")

    adapter.execute = push_then_fail
    Pipeline(services).process(queued())
    [answer] = services.outbox.messages
    assert_alexa_valid(answer.message)
    assert answer.message["event"]["header"]["name"] == "Response"


def test_two_skill_users_on_one_vendor_account_both_get_the_change_report(assert_alexa_valid):
    """Two Alexa accounts linked to one vendor account (one Hue bridge): a change made outside
    Alexa reaches each as its own ChangeReport, for its own LWA tokens."""
    adapter, services, _ = build(Style.ASYNC, PushingFakeAdapter)
    services.vault.connect("user-2", "fake", adapter.credential, account_id="fake-account-1")
    for user in (USER, "user-2"):
        Pipeline(services).process(queued(user=user))
    state = adapter.states["color-1"].model_dump(mode="json")
    PushHandler(services).handle(
        "fake", push({"device": "color-1", "state": state, "ref": "ref-0"})
    )
    PushHandler(services).handle(
        "fake", push({"device": "color-1", "state": state, "ref": "ref-1"})
    )
    services.outbox.messages.clear()
    dimmed = adapter.states["color-1"].model_copy(update={"brightness": 10}).model_dump(mode="json")
    assert PushHandler(services).handle("fake", push({"device": "color-1", "state": dimmed})) == 2
    reports = services.outbox.messages
    assert sorted(r.user_id for r in reports) == [USER, "user-2"]
    for report in reports:
        assert_alexa_valid(report.message)
        assert report.message["event"]["header"]["name"] == "ChangeReport"


def test_the_sweep_reports_to_every_user_of_a_shared_vendor_account(assert_alexa_valid):
    adapter, services, _ = build(Style.POLLING)
    services.vault.connect("user-2", "fake", adapter.credential, account_id="fake-account-1")
    for user in (USER, "user-2"):
        Pipeline(services).process(queued(user=user))
    for ticket, _ in list(services.poll_queue.tickets):
        PollHandler(services).handle(ticket)
    sweep_tick(services)
    services.outbox.messages.clear()
    adapter.states["color-1"] = adapter.states["color-1"].model_copy(update={"on": False})
    sweep_tick(services)
    reports = [m for m in services.outbox.messages if m.kind == "ChangeReport"]
    assert sorted(r.user_id for r in reports) == [USER, "user-2"]


def test_the_sweep_skips_users_in_their_grace_period():
    adapter, services, _ = build(Style.POLLING)
    Pipeline(services).process(queued())
    services.vault.expire_user(USER, 99_999.0)
    adapter.calls.clear()
    assert sweep_tick(services) == 0
    assert adapter.calls == []


def test_a_push_naming_another_vendor_account_reaches_nobody():
    adapter, services, _ = build(Style.ASYNC, PushingFakeAdapter)
    Pipeline(services).process(queued())
    PushHandler(services).handle(
        "fake",
        push(
            {
                "device": "color-1",
                "state": adapter.states["color-1"].model_dump(mode="json"),
                "ref": "ref-0",
            }
        ),
    )
    services.outbox.messages.clear()
    from skill.pipeline._push import PushHandler as Handler

    handler = Handler(services)
    note = Notification("color-1", BulbState(on=False), None, user_id="someone-else")
    assert handler._apply("fake", note) == []


def test_a_429_storm_from_one_credential_leaves_the_other_users_served(assert_alexa_valid):
    """Ten directives of a heavy user whose token the vendor throttles: each gets its answer at
    once (ENDPOINT_UNREACHABLE, no wait past the deadline), the vendor-wide breaker stays
    closed, and another user of the same vendor is served normally."""
    from skill.breaker import BreakerState, CircuitBreaker, MemoryBreakerStore
    from skill.plugins import OAuthToken

    adapter, services, clock = build(Style.SYNC)
    breaker = CircuitBreaker(MemoryBreakerStore(), "fake", clock, threshold=3, cooldown=30)
    services.breaker_for = lambda vendor: breaker
    heavy = OAuthToken.bearer("heavy-users-token")
    services.vault.connect("heavy", "fake", heavy)
    original = adapter.read_state

    def throttled(credential, device_id):
        if credential == heavy:
            raise RateLimited("too many requests", retry_after=60)
        return original(adapter.credential, device_id)

    adapter.read_state = throttled
    vendor_calls = []
    adapter.execute = (lambda f: lambda c, d, ch: (vendor_calls.append(c), f(c, d, ch))[1])(
        adapter.execute
    )
    for n in range(10):  # noqa: B007 - the matched route's key is read after the loop
        started = clock.now
        assert Pipeline(services).process(queued(user="heavy", received=clock.now)) == "answered"
        answer = services.outbox.messages[-1]
        assert_alexa_valid(answer.message)
        assert answer.message["event"]["payload"]["type"] == "ENDPOINT_UNREACHABLE"
        assert clock.now - started < 8, "waited past Alexa's deadline"
    assert breaker.state() is BreakerState.CLOSED, "one user's 429s opened the vendor-wide breaker"
    assert Pipeline(services).process(queued(received=clock.now)) == "answered"
    answer = services.outbox.messages[-1]
    assert answer.user_id == USER and answer.message["event"]["header"]["name"] == "Response"
    assert heavy not in vendor_calls


def test_a_short_retry_after_is_waited_out_within_the_deadline(assert_alexa_valid):
    adapter, services, clock = build(Style.SYNC)
    failures = iter([RateLimited("slow down", retry_after=1.5)])
    original = adapter.read_state

    def once(credential, device_id):
        for failure in failures:
            raise failure
        return original(credential, device_id)

    adapter.read_state = once
    Pipeline(services).process(queued())
    assert services.outbox.messages[-1].message["event"]["header"]["name"] == "Response"
    assert clock.now == pytest.approx(1001.5)
