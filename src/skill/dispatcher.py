"""Lambda handler ``skill.dispatcher.handler``: the outbox SQS queue -> the Alexa event gateway.

Wiring only: the delivery policy is in ``skill.delivery``. Each SQS record is one
``OutboxMessage``; failures are per record (Powertools ``BatchProcessor``, the event source
mapping has ``ReportBatchItemFailures``), so a record that must be retried is reported in
``batchItemFailures`` and the others are done.

The records of a batch are delivered at once, each on its own thread (at most
``MAX_CONCURRENT_SENDS``): one slow send (a gateway timeout, an LWA outage waited out) must not
make the batch's later answers late (finding L4 in docs/reliability.md). Powertools has no
thread-pool processor, so the outcomes are gathered first and then reported through the
``BatchProcessor`` in the records' order, one exception per record that must fail.

Environment: ``TOKENS_TABLE``, ``LWA_TOKEN_URL``, ``LWA_SECRET_NAME``, ``GATEWAY_URL`` (local
stack only) through ``skill.config``; ``OUTBOX_DLQ_URL``, the outbox's dead-letter queue, where
the dispatcher itself puts events the gateway refused for good (400, configuration faults,
413 that cannot be split) with the gateway's answer as message attributes.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from skill.config import settings
from skill.delivery import Dispatcher, TokenCache
from skill.observability import logger, metrics
from skill.snapstart import register as snapstart

#: Records of one batch delivered at once (the outbox event source mapping's BatchSize is 10).
MAX_CONCURRENT_SENDS = 10


@cache
def dispatcher() -> Dispatcher:
    """The container's dispatcher; its token cache lives as long as the container."""
    from skill.gateway import GatewayClient
    from skill.lwa import LwaClient, secret_credentials
    from skill.stores import DynamoCredentialVault, DynamoTokenStore

    _quiet_wire_logs()
    config = settings()
    meter = _PowertoolsMeter()
    dlq_url = os.environ.get("OUTBOX_DLQ_URL") or None
    vault = DynamoCredentialVault(config.credentials_table, config.credentials_key_id)
    grace = config.credential_grace_days * 86400

    def unlinked(user_id: str) -> None:
        vault.expire_user(user_id, time.time() + grace)

    return Dispatcher(
        TokenCache(
            DynamoTokenStore(config.tokens_table),
            LwaClient(config.lwa_token_url, secret_credentials(config.lwa_secret_name)),
            meter=meter,
            on_unlinked=unlinked,
        ),
        GatewayClient(),
        config.gateway_for,
        dead_letters=_SqsDeadLetters(dlq_url) if dlq_url else None,
        meter=meter,
    )


def _processor() -> Any:
    """A processor per invocation: it holds the batch's records and failures, which must not
    be shared by two invocations running in one process (the local stack does that)."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    # a batch whose records all failed is reported as such, like any other partial answer
    return BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import process_partial_response

    log, outbox = logger(), dispatcher()
    finish_by = _finish_by(context)

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

    done = _deliver_all(event, deliver)

    def report(record: Any) -> str:
        """The record's outcome, or its exception raised again, for the BatchProcessor."""
        correlation_id, outcome = done[record.message_id].pop(0)
        log.set_correlation_id(correlation_id)  # for the processor's own failure log
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    try:
        return dict(
            process_partial_response(
                event=event, record_handler=report, processor=_processor(), context=context
            )
        )
    finally:
        log.set_correlation_id(None)
        if metrics().metric_set:
            metrics().flush_metrics()


def _deliver_all(
    event: dict[str, Any], deliver: Callable[[str], tuple[str | None, str]]
) -> dict[Any, list[tuple[str | None, str | Exception]]]:
    """Each record's (correlation id, outcome or exception) by message id, in the records'
    order; the records delivered concurrently when there are several."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        return {}  # the BatchProcessor refuses the event itself

    def one(record: Any) -> tuple[str | None, str | Exception]:
        try:
            return deliver(record["body"])
        except Exception as exc:  # reported for this record only (RetryLater, Undeliverable...)
            return None, exc

    if len(records) <= 1:
        results = [one(record) for record in records]
    else:
        from concurrent.futures import ThreadPoolExecutor

        workers = min(len(records), MAX_CONCURRENT_SENDS)
        with ThreadPoolExecutor(workers, thread_name_prefix="dispatcher") as pool:
            results = list(pool.map(one, records))
    done: dict[Any, list[tuple[str | None, str | Exception]]] = {}
    for record, result in zip(records, results, strict=True):
        message_id = record.get("messageId") if isinstance(record, dict) else None
        done.setdefault(message_id, []).append(result)
    return done


def _quiet_wire_logs() -> None:
    """botocore's DEBUG records hold request and response bodies: the token items of DynamoDB
    and the LWA secret. Keep them out of the logs even when a log level is set to DEBUG."""
    wire = logging.getLogger("botocore")
    if wire.getEffectiveLevel() < logging.INFO:
        wire.setLevel(logging.INFO)


def _finish_by(context: Any) -> float | None:
    """When this invocation must be done (2 s before Lambda's timeout), or None outside Lambda."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return time.time() + remaining() / 1000 - 2.0


class _PowertoolsMeter:
    """``skill.delivery.Meter`` on Powertools Metrics (EMF). A metric with a dimension
    (``GatewayAnswers{status}``) is its own EMF document, so it does not give its dimension to
    the others. One thread at a time: the records of a batch are delivered concurrently, and
    Powertools' metric set is a plain dict (two first values of one metric: one is lost)."""

    _lock = threading.Lock()

    def count(self, name: str, dimensions: Mapping[str, str] | None = None) -> None:
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with self._lock:
            if not dimensions:
                metrics().add_metric(name=name, unit=MetricUnit.Count, value=1)
                return
            with single_metric(
                name=name, unit=MetricUnit.Count, value=1, namespace=metrics().namespace
            ) as metric:
                metric.add_dimension(name="service", value=str(metrics().service))
                for key, value in dimensions.items():
                    metric.add_dimension(name=key, value=value)

    def milliseconds(self, name: str, value: float) -> None:
        from aws_lambda_powertools.metrics import MetricUnit

        with self._lock:
            metrics().add_metric(name=name, unit=MetricUnit.Milliseconds, value=value)


class _SqsDeadLetters:
    """The outbox DLQ: the message body unchanged (SQS "redrive to source" can send it back),
    why it is there as string attributes."""

    def __init__(self, queue_url: str, sqs: Any = None) -> None:
        self._url = queue_url
        self._sqs = sqs

    def put(self, body: str, attributes: Mapping[str, str]) -> None:
        from skill.aws import client

        sqs = self._sqs or client("sqs")
        sqs.send_message(
            QueueUrl=self._url,
            MessageBody=body,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value[:1024]}
                for name, value in list(attributes.items())[:10]
                if value
            },
        )


snapstart(dispatcher, clients=("dynamodb", "secretsmanager", "sqs"))
