"""LWA tokens per user in DynamoDB (the table is encrypted with a customer-managed KMS key)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from skill.aws.stores._dynamo import DynamoTable
from skill.records import TokenRecord


class DynamoTokenStore(DynamoTable):
    def get(self, user_id: str) -> TokenRecord | None:
        item = self._db.get_item(
            TableName=self._table, Key={"user_id": {"S": user_id}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        return TokenRecord(
            user_id=item["user_id"]["S"],
            region=item.get("region", {}).get("S", "NA"),
            access_token=item.get("access_token", {}).get("S"),
            refresh_token=item.get("refresh_token", {}).get("S"),
            expires_at=float(item.get("expires_at", {}).get("N", "0")),
            grant_code=item.get("grant_code", {}).get("S"),
        )

    def put(self, record: TokenRecord) -> None:
        item: dict[str, Any] = {
            "user_id": {"S": record.user_id},
            "region": {"S": record.region},
            "expires_at": {"N": str(Decimal(str(record.expires_at)))},
        }
        for name in ("access_token", "refresh_token", "grant_code"):
            value = getattr(record, name)
            if value:
                item[name] = {"S": value}
        self._db.put_item(TableName=self._table, Item=item)

    def delete(self, user_id: str, *, if_unchanged: TokenRecord | None = None) -> bool:
        """See ``skill.ports.TokenStore.delete``: a conditional delete on the credentials."""
        if if_unchanged is None:
            self._db.delete_item(TableName=self._table, Key={"user_id": {"S": user_id}})
            return True
        conditions, values = [], {}
        for name in ("access_token", "refresh_token", "grant_code"):
            value = getattr(if_unchanged, name)
            if value:
                conditions.append(f"{name} = :{name}")
                values[f":{name}"] = {"S": value}
            else:
                conditions.append(f"attribute_not_exists({name})")
        try:
            self._db.delete_item(
                TableName=self._table,
                Key={"user_id": {"S": user_id}},
                ConditionExpression=" AND ".join(conditions),
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True
