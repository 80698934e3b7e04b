"""Vendor pushes already seen, in the state table: a replayed push changes nothing.

One item per push: pk ``push#<vendor>``, sk the push's digest (``skill.pipeline._push``: a hash
of its body and its own timestamp), ``expires_at`` (N, the table's TTL attribute) set past the
end of the push's freshness window, and ``seen_at``. Once the window is over a replay is refused
as stale, so the record is no longer needed. Only ``PutItem`` is used (the notifications
function's role needs nothing else on this key space): a conditional put claims a push,
an unconditional put with ``expires_at`` 0 gives the claim back when processing failed.
"""

from __future__ import annotations

from skill.aws.stores._dynamo import DynamoTable


class DynamoPushLog(DynamoTable):
    def first_sighting(self, vendor: str, digest: str, expires_at: float, now: float) -> bool:
        """Record the push; False when it was recorded before and its record has not expired
        (DynamoDB's TTL deletes expired items late, so expiry is checked here too)."""
        errors = self._db.exceptions
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    **self._key(vendor, digest),
                    "expires_at": {"N": str(int(expires_at))},
                    "seen_at": {"N": str(int(now))},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
            )
        except errors.ConditionalCheckFailedException:
            return False
        return True

    def release(self, vendor: str, digest: str) -> None:
        """Give the claim back (the push could not be processed): the vendor's retry of it is
        then processed, not taken for a replay."""
        self._db.put_item(
            TableName=self._table,
            Item={**self._key(vendor, digest), "expires_at": {"N": "0"}},
        )

    @staticmethod
    def _key(vendor: str, digest: str) -> dict[str, dict[str, str]]:
        return {"pk": {"S": f"push#{vendor}"}, "sk": {"S": digest}}
