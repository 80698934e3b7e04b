"""Lambda handler ``skill.handlers.sweep.handler``: read the vendor accounts of a batch of
sweep-queue messages (one per account, from ``skill.handlers.sweep_scheduler``) with a bounded
pool, and report changes made outside Alexa. A message whose events could not be stored is a
batch item failure (SQS delivers it again); one the vendor failed is read at the account's next
slot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from skill.coldstart import resumes_after_first_call
from skill.observability import logger, metrics


@resumes_after_first_call
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from pydantic import ValidationError

    from skill.composition import current
    from skill.records import SweepAccount

    logger().set_correlation_id(getattr(context, "aws_request_id", None))
    records = event.get("Records", []) if isinstance(event, dict) else []
    tickets: list[SweepAccount] = []
    ids: list[str] = []
    for record in records:
        try:
            tickets.append(SweepAccount.model_validate_json(record["body"]))
            ids.append(record["messageId"])
        except (KeyError, TypeError, ValidationError):
            # not an account: delivering it again cannot help; the DLQ is for what can
            logger().error("sweep message is not an account; dropped")
    time_left: Callable[[], float] | None = None
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):

        def remaining() -> float:
            return float(context.get_remaining_time_in_millis()) / 1000

        time_left = remaining
    worker = current().sweep_worker(time_left)
    try:
        result = worker.read(tickets)
    finally:
        metrics().flush_metrics()
    return {"batchItemFailures": [{"itemIdentifier": ids[i]} for i in result.failed]}
