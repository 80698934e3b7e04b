"""Pending commands, device owners and last known states, in one DynamoDB table (pk, sk).

- ``pending#<endpoint id>`` / ``<message id>``: a command the vendor accepted, until answered
  (TTL ``expires_at`` cleans up what nobody answered).
- ``owner#<endpoint id>`` / ``owner``: who owns a bulb, its features and last known state.
"""

from __future__ import annotations

import time

from skill.stores._dynamo import DynamoTable
from skill.records import DeviceOwner, PendingCommand

#: Pending commands outlive their deadline by an hour (for investigation), then TTL removes them.
PENDING_TTL_SECONDS = 3600


class DynamoPendingStore(DynamoTable):
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
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"owner#{owner.endpoint_id}"},
                "sk": {"S": "owner"},
                "body": {"S": owner.model_dump_json()},
                "updated_at": {"N": str(int(owner.updated_at or time.time()))},
            },
        )

    def owner_of(self, endpoint_id: str) -> DeviceOwner | None:
        item = self._db.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"owner#{endpoint_id}"}, "sk": {"S": "owner"}},
        ).get("Item")
        return DeviceOwner.model_validate_json(item["body"]["S"]) if item else None

    def owners(self) -> list[DeviceOwner]:
        """Every known bulb owner (the sweep's work list). A scan: fine for thousands of bulbs;
        a GSI per vendor is the next step past that (see docs/reliability.md)."""
        owners: list[DeviceOwner] = []
        paginator = self._db.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self._table,
            FilterExpression="sk = :owner",
            ExpressionAttributeValues={":owner": {"S": "owner"}},
        ):
            owners += [DeviceOwner.model_validate_json(i["body"]["S"]) for i in page["Items"]]
        return owners

    def delete_owner(self, endpoint_id: str) -> None:
        self._db.delete_item(
            TableName=self._table, Key={"pk": {"S": f"owner#{endpoint_id}"}, "sk": {"S": "owner"}}
        )
