"""Pending commands, device owners and last known states, in one DynamoDB table (pk, sk).

- ``pending#<endpoint id>`` / ``<message id>``: a command the vendor accepted, until answered
  (TTL ``expires_at`` cleans up what nobody answered).
- ``owner#<endpoint id>`` / ``user#<user id>``: a skill user who owns a bulb, its features and
  last known state as that user was told; written by Discover for every bulb it lists (no state
  yet), then by each command, push and sweep. Two users linked to one vendor account each have
  their own item for the bulb.
"""

from __future__ import annotations

import time
from typing import Any

from skill import cadence
from skill.aws.stores._dynamo import DynamoTable
from skill.records import DeviceOwner, PendingCommand, SweepAccount
from skill.retry import Backoff

#: Pending commands outlive their deadline by an hour (for investigation), then TTL removes them.
PENDING_TTL_SECONDS = 3600
#: Calls per batch while DynamoDB answers with unprocessed items (boto3 retries throttling
#: itself; unprocessed items are ours to send again).
_BATCH_PASSES = 5
#: Waits before a batch's unprocessed items go again: DynamoDB leaves items unprocessed mostly
#: when throttled, and sending them at once would meet the same throttle (its guidance:
#: exponential back-off).
_UNPROCESSED_BACKOFF = Backoff(delays=(0.05, 0.1, 0.2, 0.4), max_tries=_BATCH_PASSES)
OWNERS_BY_USER = "OwnersByUser"
SWEEP_SLOTS = "SweepSlots"
_SWEEP_SK = "sweep"
#: Commands within this many seconds of the last recorded activity write nothing more: the
#: back-off counts hours, so minutes of precision are enough.
ACTIVITY_WRITE_SECONDS = 300


class DynamoStateStore(DynamoTable):
    def put_pending(self, command: PendingCommand) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"pending#{command.endpoint_id}"},
                "sk": {"S": command.message_id},
                "body": {"S": command.model_dump_json()},
                "expires_at": {"N": str(int(command.deadline) + PENDING_TTL_SECONDS)},
            },
        )

    def pending_for(self, endpoint_id: str) -> list[PendingCommand]:
        answer = self._db.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"pending#{endpoint_id}"}},
            ConsistentRead=True,
        )
        return [PendingCommand.model_validate_json(i["body"]["S"]) for i in answer.get("Items", [])]

    def get_pending(self, endpoint_id: str, message_id: str) -> PendingCommand | None:
        item = self._db.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"pending#{endpoint_id}"}, "sk": {"S": message_id}},
            ConsistentRead=True,
        ).get("Item")
        return PendingCommand.model_validate_json(item["body"]["S"]) if item else None

    def delete_pending(self, endpoint_id: str, message_id: str) -> bool:
        """Conditional delete: exactly one of the notifications function, the poller and the
        deadline path wins the right to answer a pending command."""
        errors = self._db.exceptions
        try:
            self._db.delete_item(
                TableName=self._table,
                Key={"pk": {"S": f"pending#{endpoint_id}"}, "sk": {"S": message_id}},
                ConditionExpression="attribute_exists(pk)",
            )
        except errors.ConditionalCheckFailedException:
            return False
        return True

    def put_owner(self, owner: DeviceOwner) -> None:
        self._db.put_item(TableName=self._table, Item=self.owner_item(owner))

    def put_owners(self, owners: list[DeviceOwner]) -> None:
        """Write each owner record over the one stored, in batches (the sweep: an account's
        changed bulbs in one call rather than one each)."""
        unique = {(o.endpoint_id, o.user_id): o for o in owners}  # a batch refuses duplicates
        self._write_batches([{"PutRequest": {"Item": self.owner_item(o)}} for o in unique.values()])

    def _write_batches(self, items: list[dict[str, Any]]) -> None:
        for start in range(0, len(items), 25):  # BatchWriteItem takes 25 items
            writes: Any = {self._table: items[start : start + 25]}
            for passes in range(_BATCH_PASSES):
                if passes:
                    time.sleep(_UNPROCESSED_BACKOFF.wait(passes))
                writes = self._db.batch_write_item(RequestItems=writes).get("UnprocessedItems")
                if not writes:
                    break
            else:
                raise RuntimeError("DynamoDB left owner writes unprocessed")

    @staticmethod
    def _owner_key(endpoint_id: str, user_id: str) -> dict[str, dict[str, str]]:
        return {"pk": {"S": f"owner#{endpoint_id}"}, "sk": {"S": f"user#{user_id}"}}

    @classmethod
    def owner_item(cls, owner: DeviceOwner) -> dict[str, dict[str, str]]:
        """A bulb owner's item, with its ``OwnersByUser`` keys (the one place of its format)."""
        return {
            **cls._owner_key(owner.endpoint_id, owner.user_id),
            "body": {"S": owner.model_dump_json()},
            "updated_at": {"N": str(int(owner.updated_at or time.time()))},
            "owner_user": {"S": owner.user_id},
            "owner_sort": {"S": f"{owner.vendor}#{owner.endpoint_id}"},
        }

    def add_owners(self, owners: list[DeviceOwner]) -> int:
        """Record the owners of bulbs not recorded yet, in batches (Discover: up to 300 bulbs);
        a known bulb keeps its record and last known state. A processor writing the same bulb
        between the read and the write loses its state to this record (the sweep then reads
        the bulb again); its owner is the same."""
        # a batch refuses duplicates
        unique = list({(o.endpoint_id, o.user_id): o for o in owners}.values())
        known: set[tuple[str, str]] = set()
        keys = [self._owner_key(o.endpoint_id, o.user_id) for o in unique]
        for start in range(0, len(keys), 100):  # BatchGetItem takes 100 keys
            request: Any = {
                self._table: {"Keys": keys[start : start + 100], "ProjectionExpression": "pk, sk"}
            }
            for passes in range(_BATCH_PASSES):
                if passes:
                    time.sleep(_UNPROCESSED_BACKOFF.wait(passes))
                answer = self._db.batch_get_item(RequestItems=request)
                known |= {
                    (i["pk"]["S"], i["sk"]["S"])
                    for i in answer.get("Responses", {}).get(self._table, [])
                }
                request = answer.get("UnprocessedKeys")
                if not request:
                    break
            else:
                raise RuntimeError("DynamoDB left owner reads unprocessed")
        new = [o for o in unique if (f"owner#{o.endpoint_id}", f"user#{o.user_id}") not in known]
        self._write_batches([{"PutRequest": {"Item": self.owner_item(o)}} for o in new])
        return len(new)

    def owner_of(self, endpoint_id: str, user_id: str) -> DeviceOwner | None:
        """Strongly consistent: ReportState right after a command's answer must see the
        expected state the processor just wrote (read-your-writes)."""
        item = self._db.get_item(
            TableName=self._table, Key=self._owner_key(endpoint_id, user_id), ConsistentRead=True
        ).get("Item")
        return DeviceOwner.model_validate_json(item["body"]["S"]) if item else None

    def owners_of(self, endpoint_id: str) -> list[DeviceOwner]:
        answer = self._db.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :user)",
            ExpressionAttributeValues={
                ":pk": {"S": f"owner#{endpoint_id}"},
                ":user": {"S": "user#"},
            },
        )
        return [DeviceOwner.model_validate_json(i["body"]["S"]) for i in answer.get("Items", [])]

    def owners(self) -> list[DeviceOwner]:
        """Every known bulb owner: a table scan, for operators' tools (``skill users``) only;
        the sweep and account removal use the indexes."""
        owners: list[DeviceOwner] = []
        for page in self._pages(
            "scan",
            TableName=self._table,
            FilterExpression="begins_with(pk, :owner) AND begins_with(sk, :user)",
            ExpressionAttributeValues={":owner": {"S": "owner#"}, ":user": {"S": "user#"}},
        ):
            owners += [DeviceOwner.model_validate_json(i["body"]["S"]) for i in page["Items"]]
        return owners

    def owners_of_user(self, user_id: str, vendor: str | None = None) -> list[DeviceOwner]:
        condition = "owner_user = :user"
        values = {":user": {"S": user_id}}
        if vendor is not None:
            condition += " AND begins_with(owner_sort, :vendor)"
            values[":vendor"] = {"S": f"{vendor}#"}
        owners: list[DeviceOwner] = []
        for page in self._pages(
            "query",
            TableName=self._table,
            IndexName=OWNERS_BY_USER,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
        ):
            owners += [DeviceOwner.model_validate_json(i["body"]["S"]) for i in page["Items"]]
        return owners

    def delete_owner(self, endpoint_id: str, user_id: str) -> None:
        self._db.delete_item(TableName=self._table, Key=self._owner_key(endpoint_id, user_id))

    # -- the sweep's schedule ---------------------------------------------------------------

    @staticmethod
    def _account_key(vendor: str, user_id: str) -> dict[str, dict[str, str]]:
        return {"pk": {"S": f"account#{vendor}#{user_id}"}, "sk": {"S": _SWEEP_SK}}

    @classmethod
    def sweep_account_item(cls, account: SweepAccount, swept: bool) -> dict[str, dict[str, str]]:
        """An account's schedule item; ``swept``: with its ``SweepSlots`` key."""
        item = {
            **cls._account_key(account.vendor, account.user_id),
            "vendor": {"S": account.vendor},
            "user_id": {"S": account.user_id},
            "cadence": {"N": str(account.cadence)},
            "last_activity": {"N": repr(float(account.last_activity))},
            "devices": {"N": str(account.devices)},
            "floor": {"N": str(account.floor)},
        }
        if swept:
            item["slot"] = {"S": cadence.slot_of(account.vendor, account.user_id, account.cadence)}
        return item

    def put_sweep_account(self, account: SweepAccount, *, swept: bool = True) -> None:
        self._db.put_item(TableName=self._table, Item=self.sweep_account_item(account, swept))

    def reschedule_sweep_account(self, account: SweepAccount, *, seen: SweepAccount) -> bool:
        try:
            self._db.put_item(
                TableName=self._table,
                Item=self.sweep_account_item(account, True),
                ConditionExpression="attribute_exists(slot) AND last_activity = :seen",
                ExpressionAttributeValues={":seen": {"N": repr(float(seen.last_activity))}},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def add_sweep_account(self, account: SweepAccount) -> bool:
        errors = self._db.exceptions
        try:
            self._db.put_item(
                TableName=self._table,
                Item=self.sweep_account_item(account, True),
                # new, or not swept (pushing, or its user had unlinked)
                ConditionExpression="attribute_not_exists(pk) OR attribute_not_exists(slot)",
            )
        except errors.ConditionalCheckFailedException:
            return False
        return True

    def due_accounts(self, slot: str) -> list[SweepAccount]:
        accounts: list[SweepAccount] = []
        for page in self._pages(
            "query",
            TableName=self._table,
            IndexName=SWEEP_SLOTS,
            KeyConditionExpression="slot = :slot",
            ExpressionAttributeValues={":slot": {"S": slot}},
        ):
            accounts += [_sweep_account(i) for i in page["Items"]]
        return accounts

    def record_activity(self, vendor: str, user_id: str, now: float) -> None:
        key = self._account_key(vendor, user_id)
        item = self._db.get_item(TableName=self._table, Key=key).get("Item")
        if item is None or "slot" not in item:
            return  # not swept (a vendor that pushes) or not known yet (Discover schedules it)
        account = _sweep_account(item)
        target = account.floor  # active: as often as the vendor's quotas allow
        if account.cadence == target and now - account.last_activity < ACTIVITY_WRITE_SECONDS:
            return  # a burst of commands: one write is enough
        try:
            self._db.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET last_activity = :now, cadence = :cadence, slot = :slot",
                ConditionExpression="attribute_exists(slot)",  # still swept
                ExpressionAttributeValues={
                    ":now": {"N": repr(float(now))},
                    ":cadence": {"N": str(target)},
                    ":slot": {"S": cadence.slot_of(vendor, user_id, target)},
                },
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            pass

    def delete_sweep_account(self, vendor: str, user_id: str) -> None:
        self._db.delete_item(TableName=self._table, Key=self._account_key(vendor, user_id))


def _sweep_account(item: dict[str, Any]) -> SweepAccount:
    return SweepAccount(
        vendor=item["vendor"]["S"],
        user_id=item["user_id"]["S"],
        cadence=int(item["cadence"]["N"]),
        last_activity=float(item["last_activity"]["N"]),
        devices=int(item["devices"]["N"]),
        floor=int(item.get("floor", {}).get("N", "1")),
    )
