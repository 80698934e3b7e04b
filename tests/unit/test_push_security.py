"""Who a vendor push may change (issue 13, "Webhooks"): ``PushHandler`` over in-memory stores,
and the de-duplication record in DynamoDB (moto).

A push changes something only when it is fresh (its own timestamp within
``FRESHNESS_WINDOW_SECONDS``), new (no de-duplication record) and tied to a skill user: by the
vendor account it names (``DeviceOwner.account_id``) or by a pending command it confirms.
Everything else changes nothing: no outbox message, no owner or pending record touched.
"""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from skill.aws.stores import DynamoPushLog
from skill.bulbs import BulbState, Change
from skill.errors import InvalidNotification
from skill.pipeline import PipelineServices, PushHandler
from skill.pipeline._push import (
    DEDUPE_MARGIN_SECONDS,
    FRESHNESS_WINDOW_SECONDS,
    MAX_CLOCK_SKEW_SECONDS,
    MemoryPushLog,
    push_digest,
)
from skill.plugins import Notification, Style, WebhookRequest
from skill.records import DeviceOwner, PendingCommand
from tests.fakes import (
    COLOR,
    Clock,
    FakeAdapter,
    MemoryOutbox,
    MemoryStateStore,
    MemoryVault,
    credentials_of,
    registry_of,
)

ENDPOINT = "fake:color-1"
ACCOUNT = "acct-1"  # user-1 and user-2 linked this vendor account (one Hue bridge, two Alexas)
OTHER_ACCOUNT = "acct-9"  # user-3's account, whose bulb happens to have the same device id
SIGNING = "s3cret"


class SigningPushAdapter(FakeAdapter):
    """A push vendor that signs with a shared header, names the account (``account``) and
    stamps each push (``sent_at``), as the adapters must; either may be left out."""

    def parse_notification(self, request: WebhookRequest) -> list[Notification]:
        if request.headers.get("x-secret") != SIGNING:
            raise InvalidNotification("bad signature")
        body = json.loads(request.body)
        return [
            Notification(
                body["device"],
                BulbState.model_validate(body["state"]),
                body.get("ref"),
                user_id=body.get("account"),
                sent_at=body.get("sent_at"),
            )
        ]


def push(
    device: str = "color-1",
    state: dict | None = None,
    *,
    ref: str | None = None,
    account: str | None = ACCOUNT,
    sent_at: float | None = 1000.0,
    secret: str = SIGNING,
    omit: tuple[str, ...] = (),
) -> WebhookRequest:
    body = {
        "device": device,
        "state": state or {"on": True, "brightness": 60},
        "ref": ref,
        "account": account,
        "sent_at": sent_at,
    }
    body = {k: v for k, v in body.items() if k not in omit}
    return WebhookRequest(headers={"x-secret": secret}, body=json.dumps(body).encode())


class World:
    """One bulb id owned by four skill users: two on ACCOUNT, one on another account whose bulb
    has the same id, one whose account was never recorded; user-1 has a command pending."""

    def __init__(self) -> None:
        self.clock = Clock(1000.0)
        self.adapter = SigningPushAdapter(style=Style.ASYNC)
        self.outbox = MemoryOutbox()
        self.pending = MemoryStateStore()
        self.counted: list[tuple[str, float]] = []
        self.services = PipelineServices(
            adapters=registry_of(self.adapter),
            credentials=credentials_of(MemoryVault()),
            outbox=self.outbox,
            pending=self.pending,
            clock=self.clock,
            count=lambda name, value: self.counted.append((name, value)),
        )
        self.log = MemoryPushLog()
        self.handler = PushHandler(self.services, seen=self.log)
        off = BulbState(on=False, brightness=60)
        for user, account in (
            ("user-1", ACCOUNT),
            ("user-2", ACCOUNT),
            ("user-3", OTHER_ACCOUNT),
            ("user-4", None),
        ):
            self.pending.put_owner(
                DeviceOwner(
                    endpoint_id=ENDPOINT,
                    user_id=user,
                    vendor="fake",
                    features=COLOR,
                    state=off,
                    account_id=account,
                )
            )
        self.command("user-1", "m-1", "req-1")

    def command(self, user: str, message_id: str, reference: str | None) -> None:
        self.pending.put_pending(
            PendingCommand(
                endpoint_id=ENDPOINT,
                message_id=message_id,
                correlation_token=f"corr-{message_id}",
                user_id=user,
                reference=reference,
                change=Change(on=True),
                expected=BulbState(on=True, brightness=60),
                features=COLOR,
                received_at=self.clock.now,
                deadline=self.clock.now + 8,
            )
        )

    def snapshot(self) -> tuple:
        return (
            sorted((str(k), v.model_dump_json()) for k, v in self.pending.pending.items()),
            sorted((str(k), v.model_dump_json()) for k, v in self.pending.owners_by_key.items()),
            list(self.outbox.messages),
        )

    def state_of(self, user: str) -> BulbState | None:
        return self.pending.owner_of(ENDPOINT, user).state

    def counts(self, name: str) -> float:
        return sum(value for counted, value in self.counted if counted == name)


@pytest.fixture
def world() -> World:
    return World()


# --- tied by the account the vendor vouches for --------------------------------------------------


def test_a_push_reaches_only_the_owners_on_the_account_it_names(world):
    produced = world.handler.handle("fake", push(ref="req-1"))
    kinds = sorted((m.kind, m.user_id) for m in world.outbox.messages)
    assert produced == 2 and kinds == [("ChangeReport", "user-2"), ("Response", "user-1")]
    assert world.state_of("user-1").on and world.state_of("user-2").on
    assert not world.state_of("user-3").on, "another account's bulb with the same id changed"
    assert not world.state_of("user-4").on, "an owner of unknown account was reached"


def test_a_push_for_a_foreign_account_changes_nothing(world):
    before = world.snapshot()
    # it even carries the reference of user-1's pending command
    assert world.handler.handle("fake", push(ref="req-1", account="acct-stranger")) == 0
    assert world.snapshot() == before
    assert world.counts("PushesForeign") == 1


def test_a_push_for_the_other_account_of_a_shared_device_id_reaches_only_that_account(world):
    assert world.handler.handle("fake", push(account=OTHER_ACCOUNT)) == 1
    [report] = world.outbox.messages
    assert report.kind == "ChangeReport" and report.user_id == "user-3"
    assert len(world.pending.pending) == 1, (
        "user-1's pending command was answered by another account"
    )
    assert not world.state_of("user-1").on


def test_an_owner_whose_account_is_unknown_is_not_reached_by_a_push_naming_one(world):
    world.pending.delete_owner(ENDPOINT, "user-1")
    world.pending.delete_owner(ENDPOINT, "user-2")
    world.pending.delete_owner(ENDPOINT, "user-3")
    before = world.snapshot()
    assert world.handler.handle("fake", push()) == 0
    assert world.snapshot() == before and world.counts("PushesForeign") == 1


# --- tied by a pending command, or by nothing ---------------------------------------------------


def test_a_push_with_no_account_and_no_pending_command_changes_nothing(world):
    world.pending.pending.clear()
    before = world.snapshot()
    assert world.handler.handle("fake", push(account=None)) == 0
    assert world.snapshot() == before
    assert world.counts("PushesUntied") == 1


def test_a_push_with_no_account_that_matches_no_pending_command_changes_nothing(world):
    before = world.snapshot()
    assert world.handler.handle("fake", push(ref="req-other", account=None)) == 0
    assert world.snapshot() == before and world.counts("PushesUntied") == 1


def test_a_push_with_no_account_answers_the_pending_command_it_confirms_and_nothing_else(world):
    assert world.handler.handle("fake", push(ref="req-1", account=None, omit=("account",))) == 1
    [answer] = world.outbox.messages
    assert answer.kind == "Response" and answer.user_id == "user-1"
    assert answer.message["event"]["header"]["correlationToken"] == "corr-m-1"
    assert world.pending.pending == {}
    assert world.state_of("user-1").on
    assert [world.state_of(u).on for u in ("user-2", "user-3", "user-4")] == [False] * 3


def test_a_push_with_no_account_confirms_a_pending_command_by_state_too(world):
    assert world.handler.handle("fake", push(account=None)) == 1
    [answer] = world.outbox.messages
    assert answer.kind == "Response" and answer.user_id == "user-1"


def test_a_late_match_with_no_account_reports_only_to_the_commands_user(world):
    world.clock.now += 9  # past the command's deadline, within the push's freshness window
    assert (
        world.handler.handle("fake", push(ref="req-1", account=None, sent_at=world.clock.now)) == 1
    )
    [report] = world.outbox.messages
    assert report.kind == "ChangeReport" and report.user_id == "user-1"
    assert world.counts("LateDrops") == 1


# --- replays -----------------------------------------------------------------------------------


def test_a_replayed_push_changes_nothing(world):
    request = push(ref="req-1")
    assert world.handler.handle("fake", request) == 2
    world.command("user-1", "m-2", None)  # a new command the replayed state would "confirm"
    world.clock.now += 5
    before = world.snapshot()
    assert world.handler.handle("fake", request) == 0
    assert world.snapshot() == before
    assert world.counts("PushesReplayed") == 1


def test_a_replay_reaching_another_handler_instance_through_the_shared_log_changes_nothing(world):
    request = push(ref="req-1")
    world.handler.handle("fake", request)
    before = world.snapshot()
    assert PushHandler(world.services, seen=world.log).handle("fake", request) == 0
    assert world.snapshot() == before


def test_two_real_pushes_with_the_same_body_but_their_own_timestamps_are_both_processed(world):
    world.pending.pending.clear()
    on, off = {"on": True, "brightness": 60}, {"on": False, "brightness": 60}
    assert world.handler.handle("fake", push(state=on, sent_at=1000.0)) == 2
    assert world.handler.handle("fake", push(state=off, sent_at=1001.0)) == 2
    assert world.handler.handle("fake", push(state=on, sent_at=1002.0)) == 2
    assert world.state_of("user-1").on


def test_a_replay_once_its_record_could_have_expired_is_refused_as_stale(world):
    request = push()
    world.handler.handle("fake", request)
    world.log.records.clear()  # DynamoDB's TTL removed the record
    world.clock.now = 1000.0 + FRESHNESS_WINDOW_SECONDS + 1
    before = world.snapshot()
    with pytest.raises(InvalidNotification) as refused:
        world.handler.handle("fake", request)
    assert refused.value.status == 401 and world.snapshot() == before


def test_the_record_outlives_the_freshness_window_of_the_push(world):
    request = push(sent_at=1000.0 + MAX_CLOCK_SKEW_SECONDS)
    world.handler.handle("fake", request)
    [expires_at] = world.log.records.values()
    assert (
        expires_at
        == 1000.0 + MAX_CLOCK_SKEW_SECONDS + FRESHNESS_WINDOW_SECONDS + DEDUPE_MARGIN_SECONDS
    )
    world.clock.now = (
        1000.0 + MAX_CLOCK_SKEW_SECONDS + FRESHNESS_WINDOW_SECONDS
    )  # last fresh second
    assert world.handler.handle("fake", request) == 0 and world.counts("PushesReplayed") == 1


def test_a_push_that_could_not_be_processed_is_processed_when_the_vendor_retries(world):
    world.outbox.failure = RuntimeError("SQS down")
    request = push(ref="req-1")
    with pytest.raises(RuntimeError):
        world.handler.handle("fake", request)
    world.outbox.failure = None
    # the first try took the pending command and put it back when the outbox write failed:
    # the retry answers it (user-1's Response) and tells the other user on the account
    assert world.handler.handle("fake", request) == 2
    assert sorted((m.kind, m.user_id) for m in world.outbox.messages) == [
        ("ChangeReport", "user-2"),
        ("Response", "user-1"),
    ]
    assert world.state_of("user-1").on and world.state_of("user-2").on


def test_a_rejected_signature_leaves_no_record(world):
    with pytest.raises(InvalidNotification):
        world.handler.handle("fake", push(secret="guess"))
    assert world.log.records == {}


# --- freshness ---------------------------------------------------------------------------------


@pytest.mark.parametrize("age", [FRESHNESS_WINDOW_SECONDS + 1, 3600, 10**6])
def test_a_stale_push_is_refused_and_changes_nothing(world, age):
    before = world.snapshot()
    with pytest.raises(InvalidNotification) as refused:
        world.handler.handle("fake", push(ref="req-1", sent_at=world.clock.now - age))
    assert refused.value.status == 401
    assert world.snapshot() == before and world.log.records == {}
    assert world.counts("PushesStale") == 1


def test_a_push_from_the_future_beyond_the_clock_skew_is_refused(world):
    before = world.snapshot()
    with pytest.raises(InvalidNotification):
        world.handler.handle("fake", push(sent_at=world.clock.now + MAX_CLOCK_SKEW_SECONDS + 1))
    assert world.snapshot() == before


@pytest.mark.parametrize("offset", [-FRESHNESS_WINDOW_SECONDS, 0, MAX_CLOCK_SKEW_SECONDS])
def test_a_push_inside_the_window_is_accepted(world, offset):
    assert world.handler.handle("fake", push(ref="req-1", sent_at=world.clock.now + offset)) == 2


def test_a_push_without_a_timestamp_is_refused(world):
    """An adapter that does not fill ``Notification.sent_at`` fails closed."""
    before = world.snapshot()
    with pytest.raises(InvalidNotification) as refused:
        world.handler.handle("fake", push(ref="req-1", sent_at=None))
    assert refused.value.status == 401 and world.snapshot() == before


def test_the_freshness_window_is_five_minutes():
    assert FRESHNESS_WINDOW_SECONDS == 5 * 60


# --- vendors -----------------------------------------------------------------------------------


def test_an_unknown_vendor_or_one_that_does_not_push_is_not_found(world):
    for vendor in ("nobody", "sync"):
        world.services.adapters = registry_of(world.adapter, FakeAdapter(name="sync"))
        with pytest.raises(InvalidNotification) as refused:
            world.handler.handle(vendor, push())
        assert refused.value.status == 404


def test_the_digest_covers_the_body_and_the_account_and_timestamp_read_from_the_push():
    body = b'{"device": "color-1"}'
    note = Notification("color-1", BulbState(on=True), user_id="a", sent_at=1.0)
    digest = push_digest(body, [note])
    assert digest == push_digest(body, [note])
    assert digest != push_digest(body + b" ", [note])
    assert digest != push_digest(
        body, [Notification("color-1", BulbState(on=True), user_id="b", sent_at=1.0)]
    )
    assert digest != push_digest(
        body, [Notification("color-1", BulbState(on=True), user_id="a", sent_at=2.0)]
    )


# --- the DynamoDB record ----------------------------------------------------------------------

TABLE = "bulb-skill-state"


class Recording:
    """A boto3 client that records which operations are called."""

    def __init__(self, client) -> None:
        self._client = client
        self.operations: list[str] = []

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if callable(attribute) and name != "exceptions":
            self.operations.append(name)
        return attribute


@pytest.fixture
def dynamo():
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


def test_the_dynamo_record_is_claimed_once_until_it_expires(dynamo):
    recording = Recording(dynamo)
    log = DynamoPushLog(TABLE, dynamodb=recording)
    assert log.first_sighting("switchbot", "d1", expires_at=1360, now=1000) is True
    assert log.first_sighting("switchbot", "d1", expires_at=1360, now=1005) is False
    assert log.first_sighting("switchbot", "d1", expires_at=1360, now=1360) is False
    assert log.first_sighting("sim-async", "d1", expires_at=1360, now=1005) is True  # per vendor
    # expired but not yet deleted by DynamoDB's TTL: claimable again
    assert log.first_sighting("switchbot", "d1", expires_at=1800, now=1361) is True
    item = dynamo.get_item(TableName=TABLE, Key={"pk": {"S": "push#switchbot"}, "sk": {"S": "d1"}})[
        "Item"
    ]
    assert item["expires_at"] == {"N": "1800"} and item["seen_at"] == {"N": "1361"}
    log.release("switchbot", "d1")
    assert log.first_sighting("switchbot", "d1", expires_at=1800, now=1362) is True
    assert set(recording.operations) == {"put_item"}, "the notifications role grants PutItem only"


def test_the_handler_with_the_dynamo_record_ignores_a_replay(world, dynamo):
    handler = PushHandler(world.services, seen=DynamoPushLog(TABLE, dynamodb=dynamo))
    request = push(ref="req-1")
    assert handler.handle("fake", request) == 2
    before = world.snapshot()
    assert (
        PushHandler(world.services, seen=DynamoPushLog(TABLE, dynamodb=dynamo)).handle(
            "fake", request
        )
        == 0
    )
    assert world.snapshot() == before
    [item] = dynamo.scan(TableName=TABLE)["Items"]
    assert item["pk"] == {"S": "push#fake"} and item["sk"]["S"] == push_digest(
        request.body, world.adapter.parse_notification(request)
    )


def test_a_push_whose_answer_cannot_be_stored_leaves_its_pending_command_for_the_retry(
    assert_alexa_valid,
):
    """The outbox write fails after the push took the pending command: the command is put
    back, so the vendor's retry (or the poller) still answers it with a Response."""
    from skill.pipeline import Pipeline, PushHandler
    from tests.unit.test_pipeline import PushingFakeAdapter, build, push, queued

    adapter, services, _ = build(Style.ASYNC, PushingFakeAdapter)
    Pipeline(services).process(queued())
    state = adapter.states["color-1"].model_dump(mode="json")
    request = push({"device": "color-1", "state": state, "ref": "ref-0"})
    services.outbox.failure = ConnectionError("sqs down")
    with pytest.raises(ConnectionError):
        PushHandler(services).handle("fake", request)
    assert len(services.pending.pending_for("fake:color-1")) == 1, "the pending command was lost"
    services.outbox.failure = None
    assert PushHandler(services).handle("fake", request) == 1
    [answer] = services.outbox.messages
    assert answer.message["event"]["header"]["name"] == "Response"
    assert_alexa_valid(answer.message)
