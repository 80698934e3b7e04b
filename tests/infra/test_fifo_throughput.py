"""The directives queues at scale: FIFO high-throughput mode, and sends that stay correct in it.

High throughput (``DeduplicationScope: messageGroup``, ``FifoThroughputLimit:
perMessageGroupId``) counts throughput per message group and deduplicates within a group only.
That is right for the directives because the entrypoint sends each directive with its bulb as
the group (``endpointId``) and Alexa's ``messageId`` as the deduplication id: a retried
directive has the same bulb, so it lands in the same group and is dropped there.
"""

from __future__ import annotations

from typing import Any

import pytest

from bulb_workbench.local._resources import create_resources, read_template
from skill.aws.stores import SqsDirectiveQueue
from skill.plugins import Style
from skill.records import QueuedDirective
from tests.infra._composition import STYLES, TEMPLATE, Composition, Res

ALL = Composition.with_styles(*STYLES)
HIGH_THROUGHPUT = {"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}


@pytest.mark.parametrize("style", STYLES)
def test_each_directives_queue_and_its_dead_letter_queue_are_high_throughput_fifo(style):
    queue = ALL.props(Res(f"{style}Processor", "DirectivesQueue"))
    dlq_res = Res(f"{style}Processor", "DirectivesDLQ")
    dlq = ALL.props(dlq_res)
    assert queue["FifoQueue"] == "true" and queue["ContentBasedDeduplication"] == "true"
    assert {k: queue.get(k) for k in HIGH_THROUGHPUT} == HIGH_THROUGHPUT
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == dlq_res
    assert dlq["FifoQueue"] == "true", "a FIFO queue dead-letters to a FIFO queue only"
    assert {k: dlq.get(k) for k in HIGH_THROUGHPUT} == HIGH_THROUGHPUT


def test_standard_queues_carry_no_fifo_settings():
    for res, raw in ALL.resources("AWS::SQS::Queue"):
        if ALL.props(res).get("FifoQueue", "false") == "false":
            assert not set(HIGH_THROUGHPUT) & set(raw.get("Properties", {})), res


def test_the_local_stack_makes_its_directives_queues_high_throughput_too():
    import boto3
    from moto import mock_aws

    params = {f"Enable{s}": "true" for s in STYLES} | {"SkillId": "amzn1.ask.skill.0"}
    model = read_template(TEMPLATE, params)
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        made = create_resources(
            model,
            sqs,
            dynamodb,
            kms=boto3.client("kms", region_name="us-east-1"),
            cognito=boto3.client("cognito-idp", region_name="us-east-1"),
        )
        fifo = [q for q in made.queues.values() if q.spec.fifo]
        assert len(fifo) == 2 * len(STYLES)  # a directives queue and its DLQ per style
        for queue in fifo:
            attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])[
                "Attributes"
            ]
            assert {k: attributes[k] for k in HIGH_THROUGHPUT} == HIGH_THROUGHPUT, queue.spec.key


class RecordingSqs:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_message(self, **request: Any) -> dict[str, Any]:
        self.sent.append(request)
        return {"MessageId": str(len(self.sent))}


def queued(message_id: str, endpoint_id: str) -> QueuedDirective:
    directive = {
        "header": {
            "namespace": "Alexa.PowerController",
            "name": "TurnOn",
            "messageId": message_id,
            "payloadVersion": "3",
        },
        "endpoint": {"endpointId": endpoint_id, "scope": {"type": "BearerToken"}},
        "payload": {},
    }
    return QueuedDirective(directive=directive, user_id="user-1", received_at=0.0, deadline=8.0)


def test_a_directive_is_grouped_by_its_bulb_and_deduplicated_by_its_message_id():
    sqs = RecordingSqs()
    queue = SqsDirectiveQueue({Style.SYNC.value: "https://sqs.example/sync.fifo"}, sqs=sqs)
    queue.enqueue(Style.SYNC, queued("msg-1", "lifx:bulb-a"))
    queue.enqueue(Style.SYNC, queued("msg-1", "lifx:bulb-a"))  # Alexa's retry of the same directive
    queue.enqueue(Style.SYNC, queued("msg-2", "lifx:bulb-b"))  # a group command's other bulb
    first, retry, other = sqs.sent
    assert (first["MessageGroupId"], first["MessageDeduplicationId"]) == ("lifx:bulb-a", "msg-1")
    # the retry falls in the same group with the same id: deduplicated under messageGroup scope
    assert (retry["MessageGroupId"], retry["MessageDeduplicationId"]) == ("lifx:bulb-a", "msg-1")
    assert other["MessageGroupId"] == "lifx:bulb-b"  # its own group: its own throughput


def test_ids_sqs_would_refuse_map_to_the_same_hash_every_time():
    sqs = RecordingSqs()
    queue = SqsDirectiveQueue({Style.SYNC.value: "https://sqs.example/sync.fifo"}, sqs=sqs)
    long_endpoint = "vendor:" + "x" * 200
    queue.enqueue(Style.SYNC, queued("msg 1", long_endpoint))
    queue.enqueue(Style.SYNC, queued("msg 1", long_endpoint))
    first, retry = sqs.sent
    assert first["MessageGroupId"] == retry["MessageGroupId"] and len(first["MessageGroupId"]) == 64
    assert first["MessageDeduplicationId"] == retry["MessageDeduplicationId"] != "msg 1"
