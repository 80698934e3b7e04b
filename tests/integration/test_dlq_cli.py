"""`skill dlq` against the local stack's moto server: list, show (tokens masked), redrive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from bulb_workbench.local.stack import LocalStack

pytestmark = pytest.mark.integration


def skill(*args: str, endpoint: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint}
    return subprocess.run(
        [sys.executable, "-m", "bulb_workbench.cli", "dlq", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_a_dead_letter_can_be_listed_shown_and_redriven_with_one_command() -> None:
    with LocalStack(pollers=False) as stack:
        sqs = stack.client("sqs")
        dlq_url = stack.queue_url("OUTBOX_DLQ_URL")
        outbox_url = stack.queue_url("OUTBOX_QUEUE_URL")
        body = {
            "user_id": "demo-user",
            "message": {"event": {"endpoint": {"scope": {"token": "secret-token"}}}},
        }
        sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps(body))
        endpoint = os.environ["AWS_ENDPOINT_URL"]

        listed = skill("list", endpoint=endpoint)
        assert listed.returncode == 0, listed.stderr
        assert dlq_url.rsplit("/", 1)[-1] in listed.stdout

        shown = skill("show", dlq_url, endpoint=endpoint)
        assert shown.returncode == 0, shown.stderr
        assert "secret-token" not in shown.stdout and "demo-user" in shown.stdout

        redriven = skill("redrive", dlq_url, endpoint=endpoint)
        assert redriven.returncode == 0, redriven.stderr
        time.sleep(0.2)
        received = sqs.receive_message(QueueUrl=outbox_url, WaitTimeSeconds=1).get("Messages", [])
        assert [json.loads(m["Body"])["user_id"] for m in received] == ["demo-user"]
