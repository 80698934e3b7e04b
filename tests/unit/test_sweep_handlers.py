"""The sweep's two Lambda handlers: what they take from their events and what they answer."""

from __future__ import annotations

import json

import pytest

from skill.records import SweepAccount
from tests.fakes import MemorySweepQueue
from tests.unit.test_sweep import world


class Context:
    aws_request_id = "req-1"

    def __init__(self, left_ms: int = 60_000) -> None:
        self.left_ms = left_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.left_ms


def record(message_id: str, body: str) -> dict:
    return {"messageId": message_id, "body": body, "eventSource": "aws:sqs"}


@pytest.fixture
def swept(monkeypatch):
    from skill.composition import Composition, using

    adapter, services, _clock = world()
    with using(Composition(pipeline_services=services)):
        yield adapter, services


def test_the_sweep_reads_each_account_of_its_batch_and_drops_what_is_not_one(swept, caplog):
    from skill.handlers import sweep

    adapter, _services = swept
    good = SweepAccount(vendor="fake", user_id="user-1").model_dump_json()
    answer = sweep.handler(
        {
            "Records": [
                record("m1", good),
                record("m2", "not json"),
                record("m3", json.dumps({"vendor": 1})),
            ]
        },
        Context(),
    )
    assert answer == {"batchItemFailures": []}
    assert [c for c, _ in adapter.calls][:1] == ["list"]
    assert "not an account" in caplog.text


def test_a_read_whose_events_cannot_be_stored_is_a_batch_item_failure(swept):
    from skill.handlers import sweep

    _adapter, services = swept
    services.outbox.failure = RuntimeError("SQS down")  # the first read reports the new bulbs
    good = SweepAccount(vendor="fake", user_id="user-1").model_dump_json()
    answer = sweep.handler({"Records": [record("m1", good)]}, Context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_the_sweep_near_its_timeout_reads_nothing_more_and_fails_nothing(swept):
    from skill.handlers import sweep

    adapter, _services = swept
    good = SweepAccount(vendor="fake", user_id="user-1").model_dump_json()
    assert sweep.handler({"Records": [record("m1", good)]}, Context(left_ms=3_000)) == {
        "batchItemFailures": []
    }
    assert adapter.calls == []


def test_the_scheduler_sends_the_due_accounts_to_its_queue(monkeypatch, swept):
    from skill.composition import Composition, count, using
    from skill.handlers import sweep_scheduler
    from skill.pipeline import SweepScheduler

    _adapter, services = swept
    queue = MemorySweepQueue()
    scheduler = SweepScheduler(services.pending, queue, count=count)
    with using(Composition(sweep_scheduler=scheduler)):
        assert sweep_scheduler.handler({"id": "tick"}, Context()) == {"accounts": 1}
    assert [a.user_id for a in queue.sent] == ["user-1"]


def test_the_sweep_queue_sends_one_message_per_account_in_batches_of_ten():
    import boto3
    from moto import mock_aws

    from skill.aws.stores import SqsSweepQueue

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="sweep")["QueueUrl"]
        calls = []
        real = sqs.send_message_batch
        sqs.send_message_batch = lambda **kw: (calls.append(len(kw["Entries"])), real(**kw))[1]
        accounts = [SweepAccount(vendor="lifx", user_id=f"user-{i}") for i in range(23)]
        SqsSweepQueue(url, sqs=sqs).send(accounts)
        assert calls == [10, 10, 3]
        got = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            got += [SweepAccount.model_validate_json(m["Body"]) for m in batch]
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
                ],
            )
        assert sorted(a.user_id for a in got) == sorted(a.user_id for a in accounts)
