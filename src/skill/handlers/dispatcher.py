"""Lambda handler ``skill.handlers.dispatcher.handler``: the outbox queue -> the event gateway.

Each SQS record is one ``OutboxMessage``, delivered by ``skill.delivery`` (all at once,
``deliver_all``); failures are reported per record, in order, through a ``BatchProcessor``.
"""

from __future__ import annotations

import time
from typing import Any

from skill.composition import current
from skill.delivery import deliver_all
from skill.observability import logger, metrics
from skill.snapstart import register as snapstart


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools.utilities import batch

    log, outbox = logger(), current().dispatcher
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    # done 2 s before Lambda's timeout; no limit outside Lambda
    finish_by = None if remaining is None else time.time() + remaining() / 1000 - 2.0

    def deliver(body: str) -> tuple[str | None, str]:
        """(correlation id, outcome) of one record; runs on a worker thread."""
        message = outbox.parse(body)
        if message is None:
            return None, "unreadable"
        log.thread_safe_append_keys(correlation_id=message.correlation_id)
        try:
            return message.correlation_id, outbox.deliver(message, finish_by=finish_by).value
        finally:
            log.thread_safe_remove_keys(["correlation_id"])

    done = deliver_all(event, deliver)

    def report(record: Any) -> str:
        """The record's outcome, or its exception raised again, for the BatchProcessor."""
        correlation_id, outcome = done[record.message_id].pop(0)
        log.set_correlation_id(correlation_id)  # for the processor's own failure log
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    # one per invocation (the local stack runs two in one process); all failed is partial too
    processor = batch.BatchProcessor(batch.EventType.SQS, raise_on_entire_batch_failure=False)
    try:
        return dict(batch.process_partial_response(event, report, processor, context))
    finally:
        log.set_correlation_id(None)
        if metrics().metric_set:
            metrics().flush_metrics()


snapstart(lambda: current().dispatcher, clients=("dynamodb", "secretsmanager", "sqs"))
