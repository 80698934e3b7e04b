"""What every DynamoDB-backed store shares: its table name and a client made at first use."""

from __future__ import annotations

from typing import Any


class DynamoTable:
    """Base of the stores: ``dynamodb`` is injected by tests, else the container's client."""

    def __init__(self, table_name: str, dynamodb: Any = None) -> None:
        self._table = table_name
        self._dynamodb = dynamodb

    @property
    def _db(self) -> Any:
        if self._dynamodb is None:
            from skill.aws import client

            self._dynamodb = client("dynamodb")
        return self._dynamodb
