"""The sample trigger events in events/ are what their functions read."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest

from skill.alexa import parse_envelope, spec_for
from skill.alexa.events import with_scope
from skill.records import OutboxMessage, PollTicket, QueuedDirective

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name):
    return json.loads((EVENTS / name).read_text())


@pytest.mark.parametrize("style", ["sync", "async", "optimistic", "polling"])
def test_processor_batches_hold_stored_directives_grouped_by_endpoint(style):
    [record] = load(f"processor-{style}.sqs.json")["Records"]
    queued = QueuedDirective.model_validate_json(record["body"])
    assert "token" not in queued.directive["endpoint"]["scope"]  # queues carry no credential
    assert queued.user_id == "demo-user"
    assert hashlib.md5(record["body"].encode()).hexdigest() == record["md5OfBody"]  # noqa: S324 - SQS's checksum, not security
    directive = parse_envelope({"directive": queued.directive}).directive
    spec_for(directive).command(directive)
    assert record["attributes"]["MessageGroupId"] == queued.endpoint_id
    assert queued.endpoint_id.startswith(f"sim-{style}:")
    assert queued.deadline > time.time()


def test_the_poller_batch_holds_a_ticket_for_a_polling_bulb():
    [record] = load("poller.sqs.json")["Records"]
    assert PollTicket.model_validate_json(record["body"]).endpoint_id.startswith("sim-polling:")


def test_the_dispatcher_batch_holds_a_schema_valid_event(assert_alexa_valid):
    [record] = load("dispatcher.sqs.json")["Records"]
    outbox = OutboxMessage.model_validate_json(record["body"])
    assert_alexa_valid(with_scope(outbox.message, "lwa-access-token"))


def test_the_sweep_event_is_an_eventbridge_schedule():
    event = load("sweep.schedule.json")
    assert event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"


def test_the_sweep_batch_holds_one_account():
    from skill.records import SweepAccount

    [record] = load("sweep.sqs.json")["Records"]
    assert SweepAccount.model_validate_json(record["body"]).vendor == "sim-polling"


def test_the_webhook_event_is_accepted_once_its_placeholders_are_filled(monkeypatch):
    from types import SimpleNamespace

    from skill.composition import Composition, using
    from skill.handlers import notifications

    event = load("notifications.webhook.json")
    secret, signing = "path-secret-for-test", "local-webhook-secret"
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/webhooks/sim-async/{secret}"
    event["pathParameters"]["secret"] = secret
    stamp = str(int(time.time()))
    digest = hmac.new(
        signing.encode(), f"{stamp}.{event['body']}".encode(), hashlib.sha256
    ).hexdigest()
    event["headers"].update({"x-sim-timestamp": stamp, "x-sim-signature": f"sha256={digest}"})
    handled = []

    class Recorder:
        def handle(self, vendor, request):
            from bulb_workbench.local.sim_adapters import create_async
            from skill.plugins import AdapterContext

            adapter = create_async(
                AdapterContext(vendor="sim-async", environ={"SIM_WEBHOOK_SECRET": signing})
            )
            handled.append(adapter.parse_notification(request))
            return 0

    secrets = SimpleNamespace(accepted=lambda vendor: (secret,))
    with using(Composition(push_handler=Recorder(), path_secrets=secrets)):
        answer = notifications.handler(event, None)
    assert answer["statusCode"] == 200, answer
    [[notification]] = handled
    assert notification.device_id == "color-1" and notification.state.brightness == 40
