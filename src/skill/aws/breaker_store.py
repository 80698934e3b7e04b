"""The circuit breakers' shared state in DynamoDB (``skill.breaker.BreakerStore``)."""

from __future__ import annotations

import time
from typing import Any

from skill.aws.stores._dynamo import DynamoTable
from skill.breaker import BreakerRecord, BreakerState

__all__ = ["DynamoBreakerStore"]


class DynamoBreakerStore(DynamoTable):
    """Breaker records in the state table: item ``pk = breaker#<vendor>``, ``sk = breaker``.

    ``save`` is an ``UpdateItem`` conditioned on the stored ``version`` (or on the item not
    existing for version 0), so two containers can never both move the same state forward.
    Reads are strongly consistent. The item has no TTL: a breaker's state outlives any
    directive.
    """

    SORT_KEY = "breaker"

    @staticmethod
    def _key(vendor: str) -> dict[str, Any]:
        return {"pk": {"S": f"breaker#{vendor}"}, "sk": {"S": DynamoBreakerStore.SORT_KEY}}

    def load(self, vendor: str) -> BreakerRecord:
        item = self._db.get_item(
            TableName=self._table, Key=self._key(vendor), ConsistentRead=True
        ).get("Item")
        if not item:
            return BreakerRecord()
        return BreakerRecord(
            state=BreakerState(item["state"]["S"]),
            failures=int(item["failures"]["N"]),
            window_start=float(item["window_start"]["N"]),
            opened_at=float(item["opened_at"]["N"]),
            probe_until=float(item["probe_until"]["N"]),
            version=int(item["version"]["N"]),
        )

    def save(self, vendor: str, record: BreakerRecord, expected_version: int) -> bool:
        if expected_version == 0:
            condition = "attribute_not_exists(pk)"
            values: dict[str, Any] = {}
        else:
            condition = "#version = :expected"
            values = {":expected": {"N": str(expected_version)}}
        values.update(
            {
                ":state": {"S": record.state.value},
                ":failures": {"N": str(record.failures)},
                ":window_start": {"N": repr(float(record.window_start))},
                ":opened_at": {"N": repr(float(record.opened_at))},
                ":probe_until": {"N": repr(float(record.probe_until))},
                ":version": {"N": str(expected_version + 1)},
                ":updated_at": {"N": repr(float(time.time()))},
            }
        )
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._key(vendor),
                UpdateExpression=(
                    "SET #state = :state, failures = :failures, window_start = :window_start, "
                    "opened_at = :opened_at, probe_until = :probe_until, #version = :version, "
                    "updated_at = :updated_at"
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#state": "state", "#version": "version"},
                ExpressionAttributeValues=values,
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True
