"""Lambda handler ``skill.handlers.dispatcher.handler``: the outbox queue -> the event gateway.

Each SQS record is one ``OutboxMessage``, delivered by ``skill.delivery``; the records of a
batch at once (``AsyncBatchProcessor``, each send on a thread: ``threaded_sends``), failures
reported per record.
"""

from __future__ import annotations

import time
from typing import Any

from skill.coldstart import resumes_after_first_call
from skill.composition import current
from skill.delivery import threaded_sends
from skill.observability import logger, metrics
from skill.snapstart import register as snapstart


@resumes_after_first_call
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

    # one per invocation (the local stack runs two in one process); all failed is partial too
    processor = batch.AsyncBatchProcessor(batch.EventType.SQS, raise_on_entire_batch_failure=False)
    try:
        with threaded_sends(deliver) as send:

            async def report(record: Any) -> str:
                """The record's outcome, or its exception raised again, for the processor."""
                correlation_id, outcome = await send(record.body)
                log.set_correlation_id(correlation_id)  # for the processor's own failure log
                if isinstance(outcome, Exception):
                    raise outcome
                return outcome

            return dict(batch.async_process_partial_response(event, report, processor, context))
    finally:
        log.set_correlation_id(None)
        if metrics().metric_set:
            metrics().flush_metrics()


snapstart(lambda: current().dispatcher, clients=("dynamodb", "secretsmanager", "sqs"))
