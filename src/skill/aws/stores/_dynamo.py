"""What every DynamoDB-backed store shares: its table name and a client made at first use."""

from __future__ import annotations

from collections.abc import Iterator
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

    def _pages(self, operation: str, **request: Any) -> Iterator[dict[str, Any]]:
        """Every page of a ``query`` or ``scan``, following ``LastEvaluatedKey``. botocore's
        paginators do the same but load their model on first use, listing every service
        directory of the SDK (~8 ms of each cold start that queries)."""
        call = getattr(self._db, operation)
        while True:
            page: dict[str, Any] = call(**request)
            yield page
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            request = {**request, "ExclusiveStartKey": last}
