"""The records of one outbox batch delivered at once, each on its own thread.

One slow send (a gateway timeout, an LWA outage waited out) must not make the batch's later
answers late. Powertools has no thread-pool processor, so the handler gathers the outcomes here
first and then reports them through its ``BatchProcessor`` in the records' order.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

#: Records of one batch delivered at once (the outbox event source mapping's BatchSize is 10).
MAX_CONCURRENT_SENDS = 10

#: (correlation id, outcome or the exception to report) of one record.
Delivered = tuple[str | None, str | Exception]


def deliver_all(
    event: dict[str, Any],
    deliver: Callable[[str], tuple[str | None, str]],
    *,
    max_workers: int = MAX_CONCURRENT_SENDS,
) -> dict[Any, list[Delivered]]:
    """Each record's (correlation id, outcome or exception) by message id, in the records'
    order; the records delivered concurrently when there are several."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        return {}  # the BatchProcessor refuses the event itself

    def one(record: Any) -> Delivered:
        try:
            return deliver(record["body"])
        except Exception as exc:  # noqa: BLE001 - reported for this record only (RetryLater...)
            return None, exc

    if len(records) <= 1:
        results = [one(record) for record in records]
    else:
        workers = min(len(records), max_workers)
        with ThreadPoolExecutor(workers, thread_name_prefix="dispatcher") as pool:
            results = list(pool.map(one, records))
    done: dict[Any, list[Delivered]] = {}
    for record, result in zip(records, results, strict=True):
        message_id = record.get("messageId") if isinstance(record, dict) else None
        done.setdefault(message_id, []).append(result)
    return done
