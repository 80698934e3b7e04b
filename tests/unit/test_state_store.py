"""``DynamoStateStore.add_owners`` (Discover's owner records) on moto's DynamoDB."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from skill.aws.stores import DynamoStateStore
from skill.bulbs import BulbState, Features
from skill.records import DeviceOwner

TABLE = "bulb-skill-state"


@pytest.fixture
def store():
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
        yield DynamoStateStore(TABLE, dynamodb=client)


def owner(n: int, state: BulbState | None = None) -> DeviceOwner:
    return DeviceOwner(
        endpoint_id=f"lifx:bulb-{n}",
        user_id="user-1",
        vendor="lifx",
        features=Features(dimmable=True),
        state=state,
    )


def test_add_owners_records_only_the_bulbs_not_known_yet_across_batches(store):
    used = owner(7, BulbState(on=True, brightness=40))
    store.put_owner(used)
    # 300 bulbs (Alexa's most per Discover), one repeated: 3 reads of 100 keys, 12 writes of 25
    added = store.add_owners([owner(n) for n in range(300)] + [owner(3)])

    assert added == 299
    assert len(store.owners()) == 300
    assert store.owner_of("lifx:bulb-7", "user-1") == used, "a known bulb lost its last state"
    assert store.owner_of("lifx:bulb-299", "user-1") == owner(299)
    assert store.add_owners([owner(n) for n in range(10)]) == 0


def test_two_users_own_one_bulb_each_with_their_own_record(store):
    first, second = owner(1), owner(1).model_copy(update={"user_id": "user-2"})
    assert store.add_owners([first, second]) == 2
    assert sorted(o.user_id for o in store.owners_of("lifx:bulb-1")) == ["user-1", "user-2"]
    store.delete_owner("lifx:bulb-1", "user-1")
    assert [o.user_id for o in store.owners_of("lifx:bulb-1")] == ["user-2"]
    assert store.owner_of("lifx:bulb-1", "user-1") is None


def test_add_owners_sends_unprocessed_writes_again(store, monkeypatch):
    real = store._db.batch_write_item
    calls = []

    def throttled(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:  # DynamoDB takes the first item only
            items = kwargs["RequestItems"][TABLE]
            real(RequestItems={TABLE: items[:1]})
            return {"UnprocessedItems": {TABLE: items[1:]}}
        return real(**kwargs)

    monkeypatch.setattr(store._db, "batch_write_item", throttled)
    waits: list[float] = []
    monkeypatch.setattr("skill.aws.stores._state.time.sleep", waits.append)
    assert store.add_owners([owner(n) for n in range(3)]) == 3
    assert len(calls) == 2 and len(store.owners()) == 3
    assert waits == [0.05], "unprocessed items went again without backing off"


def test_put_owners_writes_over_known_records_in_batches_of_25(store, monkeypatch):
    store.put_owner(owner(7, BulbState(on=True, brightness=40)))
    real, calls = store._db.batch_write_item, []

    def counted(**kwargs):
        calls.append(len(kwargs["RequestItems"][TABLE]))
        return real(**kwargs)

    monkeypatch.setattr(store._db, "batch_write_item", counted)
    changed = [owner(n, BulbState(on=True, brightness=n)) for n in range(30)]
    store.put_owners([*changed, changed[3]])  # a repeated record is written once

    assert calls == [25, 5]
    assert store.owner_of("lifx:bulb-7", "user-1") == changed[7], "the stored state stayed"
    assert len(store.owners()) == 30
    store.put_owners([])
    assert calls == [25, 5], "nothing to write made a call"


# -- the indexes (the table as template.yaml defines it) --------------------------------------


@pytest.fixture
def indexed():
    from tests.infra._composition import ROOT, load

    table = load(ROOT / "template.yaml")["Resources"]["StateTable"]["Properties"]
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=table["KeySchema"],
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=table["AttributeDefinitions"],
            GlobalSecondaryIndexes=table["GlobalSecondaryIndexes"],
        )
        yield DynamoStateStore(TABLE, dynamodb=client)


def test_a_users_bulbs_come_from_the_index_per_vendor(indexed):
    indexed.add_owners([owner(1), owner(2), owner(3).model_copy(update={"user_id": "user-2"})])
    indexed.put_owner(
        DeviceOwner(
            endpoint_id="hue:lamp", user_id="user-1", vendor="hue", features=Features(dimmable=True)
        )
    )
    assert sorted(o.endpoint_id for o in indexed.owners_of_user("user-1", "lifx")) == [
        "lifx:bulb-1",
        "lifx:bulb-2",
    ]
    assert len(indexed.owners_of_user("user-1")) == 3
    assert [o.user_id for o in indexed.owners_of_user("user-2")] == ["user-2"]


def test_due_accounts_come_from_their_slot_and_only_swept_ones(indexed):
    from skill import cadence
    from skill.records import SweepAccount

    swept = SweepAccount(
        vendor="lifx", user_id="user-1", cadence=5, last_activity=12.5, devices=3, floor=2
    )
    assert indexed.add_sweep_account(swept)
    assert not indexed.add_sweep_account(swept.model_copy(update={"cadence": 1}))  # kept as it is
    indexed.put_sweep_account(SweepAccount(vendor="hue", user_id="user-1"), swept=False)
    slot = cadence.slot_of("lifx", "user-1", 5)
    assert indexed.due_accounts(slot) == [swept]
    assert all(indexed.due_accounts(s) == [] for s in {cadence.slot_of("hue", "user-1", 1)})
    assert indexed.add_sweep_account(SweepAccount(vendor="hue", user_id="user-1"))  # Discover again
    assert [a.vendor for a in indexed.due_accounts(cadence.slot_of("hue", "user-1", 1))] == ["hue"]


def test_a_command_moves_a_swept_account_to_its_floor_and_leaves_others_alone(indexed):
    from skill import cadence
    from skill.records import SweepAccount

    indexed.put_sweep_account(SweepAccount(vendor="lifx", user_id="user-1", cadence=60, floor=2))
    indexed.record_activity("lifx", "user-1", 5000.0)
    [moved] = indexed.due_accounts(cadence.slot_of("lifx", "user-1", 2))
    assert moved.cadence == 2 and moved.last_activity == 5000.0
    assert indexed.due_accounts(cadence.slot_of("lifx", "user-1", 60)) == []
    indexed.put_sweep_account(SweepAccount(vendor="hue", user_id="user-1"), swept=False)
    indexed.record_activity("hue", "user-1", 5000.0)  # pushes: stays out of every slot
    indexed.record_activity("govee", "user-1", 5000.0)  # unknown: nothing created
    assert (
        indexed._db.get_item(TableName=TABLE, Key=indexed._account_key("govee", "user-1")).get(
            "Item"
        )
        is None
    )
    item = indexed._db.get_item(TableName=TABLE, Key=indexed._account_key("hue", "user-1"))["Item"]
    assert "slot" not in item
    indexed.delete_sweep_account("lifx", "user-1")
    assert indexed.due_accounts(cadence.slot_of("lifx", "user-1", 2)) == []


def test_the_sweep_reschedules_only_what_it_read(indexed):
    """A command's activity or a disconnect landing while the sweep reads the account wins
    over the sweep's rewrite of the schedule."""
    from skill import cadence
    from skill.records import SweepAccount

    seen = SweepAccount(vendor="lifx", user_id="user-1", cadence=5, last_activity=100.0, floor=1)
    indexed.put_sweep_account(seen)
    slower = seen.model_copy(update={"cadence": 15})
    indexed.record_activity("lifx", "user-1", 5000.0)  # a command during the read
    assert not indexed.reschedule_sweep_account(slower, seen=seen)
    [kept] = indexed.due_accounts(cadence.slot_of("lifx", "user-1", 1))
    assert kept.last_activity == 5000.0 and kept.cadence == 1
    assert indexed.reschedule_sweep_account(slower, seen=kept.model_copy(update={}))
    assert indexed.due_accounts(cadence.slot_of("lifx", "user-1", 15)) == [slower]
    indexed.delete_sweep_account("lifx", "user-1")  # disconnected during a read
    assert not indexed.reschedule_sweep_account(slower, seen=slower)
    assert indexed.due_accounts(cadence.slot_of("lifx", "user-1", 15)) == []


def test_queries_follow_every_page():
    """DynamoDB answers at most 1 MB a page: each query goes on from ``LastEvaluatedKey``."""

    class Pages:
        def __init__(self) -> None:
            self.requests: list[dict] = []

        def query(self, **request):
            self.requests.append(request)
            n = len(self.requests)
            item = {"body": {"S": owner(n).model_dump_json()}}
            return {
                "Items": [item],
                **({"LastEvaluatedKey": {"pk": {"S": "p1"}}} if n == 1 else {}),
            }

    db = Pages()
    owners = DynamoStateStore(TABLE, dynamodb=db).owners_of_user("user-1", "lifx")
    assert [o.endpoint_id for o in owners] == ["lifx:bulb-1", "lifx:bulb-2"]
    assert "ExclusiveStartKey" not in db.requests[0]
    assert db.requests[1]["ExclusiveStartKey"] == {"pk": {"S": "p1"}}
    assert db.requests[1]["IndexName"] == db.requests[0]["IndexName"]
