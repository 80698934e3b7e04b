"""``DynamoPendingStore.add_owners`` (Discover's owner records) on moto's DynamoDB."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from skill.bulbs import BulbState, Features
from skill.records import DeviceOwner
from skill.stores import DynamoPendingStore

TABLE = "bulb-skill-pending"


@pytest.fixture
def store():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield DynamoPendingStore(TABLE, dynamodb=client)


def owner(n: int, state: BulbState | None = None) -> DeviceOwner:
    return DeviceOwner(endpoint_id=f"lifx:bulb-{n}", user_id="user-1", vendor="lifx",
                       features=Features(dimmable=True), state=state)


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
    assert store.add_owners([owner(n) for n in range(3)]) == 3
    assert len(calls) == 2 and len(store.owners()) == 3
