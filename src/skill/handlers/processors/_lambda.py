"""The processors' shared handler: FIFO partial batches, idempotency, metrics, logging."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from skill import bulbs
from skill.coldstart import resumes_after_first_call
from skill.composition import count, current
from skill.observability import logger, metrics
from skill.plugins import Style
from skill.snapstart import register as snapstart

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

Handler = Callable[[dict[str, Any], Any], "PartialItemFailureResponse"]


def make_handler(style: Style) -> Handler:
    """The Lambda handler of ``style``'s processor (its services built before a SnapStart
    snapshot, ``skill.snapstart``)."""
    # the command models load at first use (skill.bulbs): load them into the snapshot too
    snapstart(lambda: (current().processor, bulbs.apply_command))

    @resumes_after_first_call
    def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
        from aws_lambda_powertools.utilities.batch import (
            SqsFifoPartialProcessor,
            process_partial_response,
        )

        idempotency, process_once = current().processor
        idempotency.register_lambda_context(context)
        log = logger()

        def record_handler(record: Any) -> str:
            queued = record.json_body
            log.set_correlation_id(queued.get("directive", {}).get("header", {}).get("messageId"))
            outcome = process_once(queued=queued)
            count(f"Directives_{outcome}", 1)
            return outcome

        metrics().add_dimension(name="style", value=style.value)
        try:
            return process_partial_response(
                event=event,
                record_handler=record_handler,
                processor=SqsFifoPartialProcessor(skip_group_on_error=True),
                context=context,
            )
        finally:
            metrics().flush_metrics()

    handler.__name__ = f"{style.value}_processor_handler"
    return handler
