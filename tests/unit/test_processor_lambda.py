"""The processors' Lambda wiring: FIFO partial batches and idempotency on DynamoDB (moto)."""

from __future__ import annotations

import uuid

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from moto import mock_aws

from skill.plugins import Style
from tests.fakes import (
    Clock,
    FakeAdapter,
    MemoryOutbox,
    MemoryStateStore,
    credentials_of,
    registry_of,
    vault_with,
)
from tests.unit.test_pipeline import queued


class LambdaContext:
    function_name = "processor"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:processor"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def sqs_event(*bodies, group="fake:color-1"):
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "rh",
                "body": body,
                "attributes": {
                    "MessageGroupId": group,
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1",
                    "SenderId": "x",
                    "ApproximateFirstReceiveTimestamp": "1",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:directives.fifo",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }


@pytest.fixture
def processor(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "BulbSkill")
    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName="idempotency",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        from skill.composition import Composition, using
        from skill.pipeline import PipelineServices

        adapter = FakeAdapter(style=Style.SYNC)
        clock = Clock(now=__import__("time").time())
        services = PipelineServices(
            adapters=registry_of(adapter),
            credentials=credentials_of(vault_with(adapter)),
            outbox=MemoryOutbox(),
            pending=MemoryStateStore(),
            clock=clock,
        )
        from skill.handlers.processors.sync import handler

        with using(Composition(pipeline_services=services)):
            yield handler, adapter, services


def body(received):
    return queued(received=received).model_dump_json()


def test_a_duplicate_delivery_calls_the_vendor_once_and_answers_once(processor):
    handler, adapter, services = processor
    same = body(services.clock())
    assert handler(sqs_event(same), LambdaContext()) == {"batchItemFailures": []}
    assert handler(sqs_event(same), LambdaContext()) == {"batchItemFailures": []}
    assert [c for c in adapter.calls if c[0] == "execute"] == [("execute", "color-1")]
    assert len(services.outbox.messages) == 1


def test_a_failed_record_fails_the_rest_of_its_group_in_order(processor):
    handler, _adapter, services = processor
    services.outbox.failure = ConnectionError("outbox down")
    first, second = body(services.clock()), body(services.clock())
    event = sqs_event(first, second)
    with pytest.raises(
        BatchProcessingError
    ) as raised:  # every record failed: Lambda fails the batch
        handler(event, LambdaContext())
    assert "previous record from this message group failed" in str(raised.value)
    services.outbox.failure = None
    assert handler(event, LambdaContext()) == {"batchItemFailures": []}  # the retry goes through
    assert len(services.outbox.messages) == 2


def test_a_record_that_is_not_a_directive_fails_without_losing_the_batch(processor):
    handler, _adapter, services = processor
    good = body(services.clock())
    event = sqs_event(good, group="fake:color-1")
    event["Records"] += sqs_event("not json", group="fake:white-1")["Records"]
    result = handler(event, LambdaContext())
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [
        event["Records"][1]["messageId"]
    ]
    assert len(services.outbox.messages) == 1
