"""SQS queues: the per-style FIFO directives queues and the outbox."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from skill.aws import client
from skill.errors import InternalError
from skill.plugins import Style
from skill.records import OutboxMessage, PollTicket, QueuedDirective, SweepAccount


class SqsDirectiveQueue:
    """FIFO per style: ``MessageGroupId`` = endpoint id keeps one bulb's commands in order;
    ``MessageDeduplicationId`` = the directive's messageId drops Alexa's retries."""

    def __init__(self, queue_urls: Mapping[str, str], sqs: Any = None) -> None:
        self._urls = dict(queue_urls)
        self._sqs = sqs

    def enqueue(self, style: Style, directive: QueuedDirective) -> None:
        url = self._urls.get(style.value)
        if not url:
            raise InternalError(f"no processor is deployed for the {style.value} style")
        sqs = self._sqs or client("sqs")
        sqs.send_message(
            QueueUrl=url,
            MessageBody=directive.to_message(),
            MessageGroupId=_sqs_id(directive.endpoint_id),
            MessageDeduplicationId=_sqs_id(directive.message_id),
        )


def _sqs_id(value: str) -> str:
    """The value itself when SQS accepts it as a group/deduplication id (<= 128 characters of
    its alphabet), else its SHA-256: the same input always maps to the same id."""
    if len(value) <= 128 and value.isascii() and value.isprintable() and " " not in value:
        return value
    return hashlib.sha256(value.encode()).hexdigest()


class SqsOutbox:
    """Events for the dispatcher. Sent in batches of up to 10."""

    def __init__(self, queue_url: str, sqs: Any = None) -> None:
        self._url = queue_url
        self._sqs = sqs

    def put(self, messages: list[OutboxMessage]) -> None:
        sqs = self._sqs or client("sqs")
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            result = sqs.send_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(i), "MessageBody": m.model_dump_json()} for i, m in enumerate(chunk)
                ],
            )
            if result.get("Failed"):
                raise RuntimeError(f"outbox rejected {len(result['Failed'])} events")


class SqsPollQueue:
    """Poll tickets; the SQS delay is the poller's clock (a schedule is too coarse)."""

    def __init__(self, queue_url: str, sqs: Any = None) -> None:
        self._url = queue_url
        self._sqs = sqs

    def schedule(self, ticket: PollTicket, delay_seconds: int) -> None:
        sqs = self._sqs or client("sqs")
        sqs.send_message(
            QueueUrl=self._url,
            MessageBody=ticket.model_dump_json(),
            DelaySeconds=max(0, min(900, int(delay_seconds))),
        )


class SqsSweepQueue:
    """The sweep's work: one message per due account (a standard queue: order does not matter,
    and a rare duplicate only reads an account twice). Sent in batches of 10."""

    def __init__(self, queue_url: str, sqs: Any = None) -> None:
        self._url = queue_url
        self._sqs = sqs

    def send(self, accounts: list[SweepAccount]) -> None:
        sqs = self._sqs or client("sqs")
        for start in range(0, len(accounts), 10):
            chunk = accounts[start : start + 10]
            entries = [
                {"Id": str(i), "MessageBody": a.model_dump_json()} for i, a in enumerate(chunk)
            ]
            for _ in range(3):  # SQS may refuse some entries of a batch: send those again
                failed = {
                    f["Id"]
                    for f in sqs.send_message_batch(QueueUrl=self._url, Entries=entries).get(
                        "Failed", []
                    )
                }
                entries = [e for e in entries if e["Id"] in failed]
                if not entries:
                    break
            else:
                raise InternalError(f"SQS refused {len(entries)} sweep messages")
