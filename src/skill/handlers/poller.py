"""Lambda handler ``skill.handlers.poller.handler``: poll tickets of the polling style."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skill.coldstart import resumes_after_first_call
from skill.composition import current
from skill.observability import logger, metrics
from skill.snapstart import register as snapstart

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse


@resumes_after_first_call
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    from skill.records import PollTicket

    poll = current().poll_handler
    log = logger()

    def record_handler(record: Any) -> str:
        ticket = PollTicket.model_validate_json(record.body)
        log.set_correlation_id(ticket.message_id)
        return poll.handle(ticket)

    try:
        return process_partial_response(
            event=event,
            record_handler=record_handler,
            processor=BatchProcessor(event_type=EventType.SQS),
            context=context,
        )
    finally:
        metrics().flush_metrics()


snapstart(lambda: current().poll_handler)
