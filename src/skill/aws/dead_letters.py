"""The outbox's dead-letter queue on SQS (``skill.ports.DeadLetters``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SqsDeadLetters:
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
