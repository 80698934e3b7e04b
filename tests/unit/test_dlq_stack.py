"""``skill dlq list|show|redrive --stack S --region R``: a deployed stack's DLQs from its outputs
(moto), shown with tokens and secrets masked, sent back to their source."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bulb_workbench.cli import main

STACK = "bulb-skill"
REGION = "eu-west-1"
TOKEN = "Atza|a-users-lwa-access-token"


@pytest.fixture
def stack(monkeypatch) -> Iterator[dict[str, str]]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(
        "AWS_DEFAULT_REGION", "us-east-1"
    )  # the stack is elsewhere: --region finds it
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    from skill import aws

    aws.reset(session=True)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)

        def queue(name: str, dlq: str | None = None, fifo: bool = False) -> tuple[str, str]:
            attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
            if dlq:
                attributes["RedrivePolicy"] = json.dumps(
                    {"deadLetterTargetArn": dlq, "maxReceiveCount": 5}
                )
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]

        outbox_dlq, outbox_dlq_arn = queue("bulb-skill-OutboxDLQ-ABC")
        outbox, _ = queue("bulb-skill-OutboxQueue-ABC", outbox_dlq_arn)
        sync_dlq, sync_dlq_arn = queue("bulb-skill-SyncProcessor-X-DirectivesDLQ-Y.fifo", fifo=True)
        sync, _ = queue(
            "bulb-skill-SyncProcessor-X-DirectivesQueue-Y.fifo", sync_dlq_arn, fifo=True
        )
        queue("another-stack-OutboxDLQ-ZZZ")  # not this stack's: never listed
        outputs = {
            "OutboxDLQUrl": outbox_dlq,
            "SyncDirectivesDLQUrl": sync_dlq,
            "OutboxQueueUrl": outbox,
        }
        template = {
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {k: {"Value": v} for k, v in outputs.items()},
        }
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName=STACK, TemplateBody=json.dumps(template)
        )
        yield {"outbox_dlq": outbox_dlq, "outbox": outbox, "sync_dlq": sync_dlq, "sync": sync}
    aws.reset(session=True)


def dlq(capsys, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["dlq", *args])
    captured = capsys.readouterr()
    return (
        code,
        [json.loads(line) for line in captured.out.splitlines() if line.strip()],
        captured.out + captured.err,
    )


WHERE = ("--stack", STACK, "--region", REGION)


def test_list_shows_the_stacks_dlqs_from_its_outputs_with_their_sources(stack, capsys):
    code, rows, printed = dlq(capsys, "list", *WHERE)
    assert code == 0, printed
    assert {r["url"] for r in rows} == {stack["outbox_dlq"], stack["sync_dlq"]}
    sources = {r["url"]: r["sources"] for r in rows}
    assert sources[stack["outbox_dlq"]] == [stack["outbox"]] and sources[stack["sync_dlq"]] == [
        stack["sync"]
    ]
    assert "another-stack" not in printed


def test_show_takes_a_short_name_and_masks_tokens(stack, capsys):
    sqs = boto3.client("sqs", region_name=REGION)
    body = {
        "user_id": "user-1",
        "message": {"event": {"endpoint": {"scope": {"type": "BearerToken", "token": TOKEN}}}},
    }
    sqs.send_message(
        QueueUrl=stack["outbox_dlq"],
        MessageBody=json.dumps(body),
        MessageAttributes={"GatewayStatus": {"DataType": "String", "StringValue": "400"}},
    )
    code, rows, printed = dlq(capsys, "show", "outbox", *WHERE)
    assert code == 0, printed
    [letter] = rows
    assert (
        letter["body"]["user_id"] == "user-1"
        and letter["message_attributes"]["GatewayStatus"] == "400"
    )
    assert TOKEN not in printed
    again = dlq(capsys, "--stack", STACK, "--region", REGION, "show", "OutboxDLQUrl")[
        1
    ]  # output key, options first
    assert [(r["message_id"], r["body"]) for r in again] == [(letter["message_id"], letter["body"])]


def test_redrive_sends_a_directives_dlq_back_to_its_queue(stack, capsys):
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.send_message(
        QueueUrl=stack["sync_dlq"],
        MessageBody=json.dumps({"user_id": "user-1"}),
        MessageGroupId="sim-sync:color-1",
    )
    code, rows, printed = dlq(capsys, "redrive", "sync", *WHERE)
    assert code == 0, printed
    assert rows[0]["to"] == stack["sync"]
    if rows[0]["method"] == "manual":
        received = sqs.receive_message(
            QueueUrl=stack["sync"], AttributeNames=["MessageGroupId"]
        ).get("Messages", [])
        assert [m["Attributes"]["MessageGroupId"] for m in received] == ["sim-sync:color-1"]


def test_an_unknown_name_or_stack_says_what_there_is(stack, capsys):
    code, _, printed = dlq(capsys, "show", "dispatcher", *WHERE)
    assert code == 1 and "has no DLQ 'dispatcher'" in printed and "outbox, sync" in printed
    code, _, printed = dlq(capsys, "list", "--stack", STACK, "--region", "us-west-2")
    assert code == 1 and "wrong name or region" in printed
