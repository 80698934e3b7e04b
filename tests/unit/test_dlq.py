"""``bulb_workbench.dlq`` against moto's SQS: list DLQs, peek without consuming, redrive (FIFO and
standard)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from bulb_workbench import dlq

PREFIX = "bulb-skill"
VENDOR_TOKEN = "vendor-token-SECRET-1"
ACCESS_TOKEN = "Atza|access-SECRET-2"


class Stack:
    def __init__(self, sqs) -> None:
        self.sqs = sqs
        self.directives_dlq = self.queue(f"{PREFIX}-directives-sync-dlq.fifo", fifo=True)
        self.directives = self.queue(
            f"{PREFIX}-directives-sync.fifo", fifo=True, dlq=self.directives_dlq
        )
        self.outbox_dlq = self.queue(f"{PREFIX}-outbox-dlq")
        self.outbox = self.queue(f"{PREFIX}-outbox", dlq=self.outbox_dlq)
        self.poll = self.queue(f"{PREFIX}-poll")  # no DLQ
        self.other_dlq = self.queue("someone-else-dlq")

    def queue(self, name: str, *, fifo: bool = False, dlq: str | None = None) -> str:
        attributes = {"VisibilityTimeout": "0"}
        if fifo:
            attributes["FifoQueue"] = "true"
        if dlq:
            arn = self.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": arn, "maxReceiveCount": 1}
            )
        return self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]

    def dead_letter(
        self, source: str, bodies: list[str], *, group: str = "fake:color-1", attributes=None
    ) -> None:
        """Send ``bodies`` to ``source`` and fail them until its redrive policy moves them."""
        for i, body in enumerate(bodies):
            request = {"QueueUrl": source, "MessageBody": body}
            if source.endswith(".fifo"):
                request.update(MessageGroupId=group, MessageDeduplicationId=f"m-{group}-{i}")
            if attributes:
                request["MessageAttributes"] = attributes
            self.sqs.send_message(**request)
        for _ in range(len(bodies) + 3):  # receive without deleting: each receive is a failure
            self.sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, VisibilityTimeout=0)

    def count(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def drain(self, url: str) -> list[dict]:
        messages: list[dict] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=30,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                return messages
            messages += batch
            for m in batch:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture
def stack() -> Iterator[Stack]:
    with mock_aws():
        yield Stack(boto3.client("sqs", region_name="eu-west-1"))


def directive_body(n: int) -> str:
    return json.dumps(
        {
            "directive": {
                "header": {
                    "namespace": "Alexa.PowerController",
                    "name": "TurnOn",
                    "payloadVersion": "3",
                    "messageId": f"msg-{n}",
                },
                "endpoint": {
                    "endpointId": "fake:color-1",
                    "scope": {"type": "BearerToken", "token": VENDOR_TOKEN},
                },
                "payload": {},
            },
            "received_at": 1000.0 + n,
            "deadline": 1008.0 + n,
        }
    )


def outbox_body(n: int) -> str:
    return json.dumps(
        {
            "user_id": "user-1",
            "kind": "Response",
            "correlation_id": f"c-{n}",
            "message": {
                "event": {
                    "header": {"name": "Response"},
                    "endpoint": {"scope": {"type": "BearerToken", "token": ACCESS_TOKEN}},
                }
            },
        }
    )


# --- listing -----------------------------------------------------------------------------------


def test_lists_the_dead_letter_queues_of_the_prefix_with_their_sources_and_counts(stack):
    stack.dead_letter(stack.directives, [directive_body(1), directive_body(2)])
    stack.dead_letter(stack.outbox, [outbox_body(1)])
    queues = {q.name: q for q in dlq.dead_letter_queues(PREFIX, sqs=stack.sqs)}
    assert set(queues) == {f"{PREFIX}-directives-sync-dlq.fifo", f"{PREFIX}-outbox-dlq"}
    fifo = queues[f"{PREFIX}-directives-sync-dlq.fifo"]
    assert fifo.fifo and fifo.messages == 2 and fifo.sources == (stack.directives,)
    standard = queues[f"{PREFIX}-outbox-dlq"]
    assert not standard.fifo and standard.messages == 1 and standard.sources == (stack.outbox,)
    assert json.dumps(standard.to_dict())  # printable as it is


def test_a_queue_named_like_a_dlq_is_listed_even_without_a_source(stack):
    names = [q.name for q in dlq.dead_letter_queues("someone", sqs=stack.sqs)]
    assert names == ["someone-else-dlq"]


def test_a_queue_is_found_by_name_or_url(stack):
    assert dlq.queue_url(f"{PREFIX}-outbox-dlq", sqs=stack.sqs) == stack.outbox_dlq
    assert dlq.queue_url(stack.outbox_dlq, sqs=stack.sqs) == stack.outbox_dlq
    with pytest.raises(dlq.DlqError):
        dlq.queue_url("no-such-queue", sqs=stack.sqs)


# --- peeking ------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["fifo", "standard"])
def test_peek_shows_messages_with_tokens_masked_and_leaves_them_in_place(stack, which):
    if which == "fifo":
        source, target, bodies = (
            stack.directives,
            stack.directives_dlq,
            [directive_body(n) for n in range(3)],
        )
    else:
        source, target, bodies = stack.outbox, stack.outbox_dlq, [outbox_body(n) for n in range(3)]
    stack.dead_letter(source, bodies)
    letters = dlq.peek(target, 10, sqs=stack.sqs)
    assert len(letters) == 3
    shown = json.dumps([letter.to_dict() for letter in letters])
    assert VENDOR_TOKEN not in shown and ACCESS_TOKEN not in shown
    assert dlq.MASK in shown
    assert "SentTimestamp" in letters[0].attributes
    if which == "fifo":
        assert letters[0].attributes["MessageGroupId"] == "fake:color-1"
    assert stack.count(target) == 3  # nothing consumed
    again = {m.message_id for m in dlq.peek(target, 10, sqs=stack.sqs)}
    # a second look shows them again (moto's FIFO queues show only a group's head by then)
    assert again and again <= {m.message_id for m in letters}


def test_peek_stops_at_max(stack):
    stack.dead_letter(stack.outbox, [outbox_body(n) for n in range(7)])
    assert len(dlq.peek(stack.outbox_dlq, 4, sqs=stack.sqs)) == 4
    assert dlq.peek(stack.poll, 5, sqs=stack.sqs) == []


def test_mask_hides_secret_keys_at_any_depth_and_inside_json_strings():
    value = {
        "token": "t",
        "code": "c",
        "keep": "k",
        "nested": [{"access_token": "a", "refresh_token": "r", "other": {"token": "t2", "n": 1}}],
        "text": json.dumps({"endpoint": {"scope": {"token": "t3"}}}),
        "empty": {"token": ""},
    }
    masked = dlq.mask(value)
    assert masked["token"] == masked["code"] == dlq.MASK
    for secret in ('"t"', '"c"', '"a"', '"r"', '"t2"', "t3"):
        assert secret not in json.dumps(masked)
    assert masked["keep"] == "k" and masked["nested"][0]["other"]["n"] == 1
    assert masked["text"]["endpoint"]["scope"]["token"] == dlq.MASK
    assert masked["empty"]["token"] == ""  # nothing to hide
    assert value["token"] == "t"  # the original is untouched


# --- redriving ----------------------------------------------------------------------------------


def test_redrive_of_a_fifo_dlq_sends_every_message_back_in_its_group_unchanged(stack):
    bodies = [directive_body(n) for n in range(4)]
    stack.dead_letter(stack.directives, bodies[:2], group="fake:color-1")
    stack.dead_letter(stack.directives, bodies[2:], group="fake:white-1")
    letters = {m.message_id: m for m in dlq.peek(stack.directives_dlq, 10, sqs=stack.sqs)}
    result = dlq.redrive(stack.directives_dlq, sqs=stack.sqs)  # moto: no move task -> manual
    assert result.method == "manual" and result.source_url == stack.directives
    assert sorted(result.moved) == sorted(letters) and not result.failed
    assert stack.count(stack.directives_dlq) == 0
    back = stack.drain(stack.directives)
    assert sorted(m["Body"] for m in back) == sorted(bodies)  # tokens intact: only display masks
    for message in back:
        group = message["Attributes"]["MessageGroupId"]
        body = json.loads(message["Body"])
        assert group == ("fake:color-1" if body["received_at"] < 1002 else "fake:white-1")
        assert message["Attributes"]["MessageDeduplicationId"].startswith("redrive-")


def test_redrive_of_chosen_messages_moves_only_those_and_keeps_the_rest_visible(stack):
    attributes = {
        "Reason": {"DataType": "String", "StringValue": "invalid_request"},
        "GatewayStatus": {"DataType": "String", "StringValue": "400"},
    }
    stack.dead_letter(stack.outbox, [outbox_body(n) for n in range(5)], attributes=attributes)
    letters = dlq.peek(stack.outbox_dlq, 10, sqs=stack.sqs)
    chosen = [letters[0].message_id, letters[3].message_id]
    result = dlq.redrive(stack.outbox_dlq, message_ids=[*chosen, "no-such-id"], sqs=stack.sqs)
    assert sorted(result.moved) == sorted(chosen)
    assert result.not_found == ["no-such-id"]
    assert stack.count(stack.outbox_dlq) == 3  # the others were released at once, not hidden
    back = stack.drain(stack.outbox)
    assert len(back) == 2
    assert back[0]["MessageAttributes"]["Reason"]["StringValue"] == "invalid_request"


def test_redrive_needs_a_destination_when_no_single_source_is_known(stack):
    with pytest.raises(dlq.DlqError, match="name the queue"):
        dlq.redrive(stack.other_dlq, sqs=stack.sqs)
    stack.sqs.send_message(QueueUrl=stack.other_dlq, MessageBody="x")
    result = dlq.redrive(stack.other_dlq, source_url=stack.poll, sqs=stack.sqs)
    assert len(result.moved) == 1 and [m["Body"] for m in stack.drain(stack.poll)] == ["x"]


def test_a_failing_send_leaves_the_message_in_the_dlq_and_the_redrive_ends(stack):
    stack.dead_letter(stack.outbox, [outbox_body(n) for n in range(3)])
    poisoned = dlq.peek(stack.outbox_dlq, 10, sqs=stack.sqs)[1].message_id

    class FlakySqs:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def send_message(self, **request):
            if json.loads(request["MessageBody"])["correlation_id"] == poisoned_body:
                raise ConnectionError("sqs down")
            return self.inner.send_message(**request)

    poisoned_body = next(
        json.loads(m["Body"])["correlation_id"]
        for m in stack.sqs.receive_message(
            QueueUrl=stack.outbox_dlq, MaxNumberOfMessages=10, VisibilityTimeout=0
        )["Messages"]
        if m["MessageId"] == poisoned
    )
    result = dlq.redrive(stack.outbox_dlq, sqs=FlakySqs(stack.sqs))
    assert list(result.failed) == [poisoned] and len(result.moved) == 2
    assert [m.message_id for m in dlq.peek(stack.outbox_dlq, 10, sqs=stack.sqs)] == [poisoned]


def test_a_whole_queue_is_moved_by_an_sqs_move_task_where_the_endpoint_has_one(stack):
    stack.dead_letter(stack.outbox, [outbox_body(n) for n in range(2)])
    calls = []

    class AwsLikeSqs:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def start_message_move_task(self, **request):
            calls.append(request)
            return {"TaskHandle": "handle-1"}

    result = dlq.redrive(stack.outbox_dlq, sqs=AwsLikeSqs(stack.sqs))
    assert (result.method, result.task_handle, result.approximate) == ("move-task", "handle-1", 2)
    arn = stack.sqs.get_queue_attributes(QueueUrl=stack.outbox, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    assert calls[0]["DestinationArn"] == arn and calls[0]["SourceArn"].endswith(
        f"{PREFIX}-outbox-dlq"
    )
    with pytest.raises(NotImplementedError):  # moto has none: asking for one says so
        dlq.redrive(stack.outbox_dlq, sqs=stack.sqs, method="move-task")
    with pytest.raises(dlq.DlqError):
        dlq.redrive(stack.outbox_dlq, message_ids=["x"], sqs=stack.sqs, method="move-task")
