"""Shared wiring of the processors: FIFO partial batches, idempotency, metrics, logging."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from skill.config import settings
from skill.observability import logger, metrics
from skill.plugins import Style
from skill.snapstart import register as snapstart
from skill.wiring import count

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@cache
def _runtime() -> Any:
    """Built once per container, at the first invocation."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    from skill.aws import client
    from skill.pipeline import Pipeline
    from skill.records import QueuedDirective
    from skill.wiring import pipeline_services

    config = settings()
    pipeline = Pipeline(pipeline_services())
    idempotency = IdempotencyConfig(
        event_key_jmespath="directive.header.messageId",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=3600,
    )
    persistence = DynamoDBPersistenceLayer(
        table_name=config.idempotency_table, boto3_client=client("dynamodb")
    )

    @idempotent_function(
        data_keyword_argument="queued", persistence_store=persistence, config=idempotency
    )
    def process_once(queued: dict[str, Any]) -> str:
        """A redelivered directive (same messageId) neither calls the vendor nor answers twice."""
        return pipeline.process(QueuedDirective.model_validate(queued))

    return idempotency, process_once


def make_handler(style: Style) -> Handler:
    """The Lambda handler of ``style``'s processor (its services built before a SnapStart
    snapshot, ``skill.snapstart``)."""
    snapstart(_runtime)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.batch import (
            SqsFifoPartialProcessor,
            process_partial_response,
        )

        idempotency, process_once = _runtime()
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
