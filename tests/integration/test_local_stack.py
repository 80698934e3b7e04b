"""The local stack on loopback: moto over HTTP, the vendor simulator, the fake LWA and event
gateway, the pollers, and the skill's own handlers, as ``skill invoke`` and ``make demo`` use it.

One stack serves the module (starting one takes a second or two). The sample directives carry
the placeholder ``demo-token``; ``event`` replaces it with the demo user's access token from the
stack's user pool (``use_stack``), as ``skill invoke`` does.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bulb_workbench.local._pollers import HandlerMissing, QueuePoller
from bulb_workbench.local.schema import schema_errors
from bulb_workbench.local.stack import LocalStack, accept_grant

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[2] / "events"
STYLES = ("sync", "async", "optimistic", "polling")

#: The stack whose demo user the sample directives are played for (set by the module's fixture).
_PLAYING: dict[str, LocalStack] = {}


def use_stack(stack: LocalStack) -> LocalStack:
    """Play the sample directives of ``event`` for this stack's demo user."""
    _PLAYING["stack"] = stack
    return stack


def event(name: str) -> dict[str, Any]:
    """A sample directive from events/ with a fresh messageId and correlationToken (the FIFO
    queues drop a messageId they saw in the last five minutes, as SQS does), and the demo user's
    token in place of ``demo-token``."""
    directive = copy.deepcopy(json.loads((EVENTS / name).read_text()))
    if "stack" in _PLAYING:
        directive = _PLAYING["stack"].with_demo_token(directive)
    header = directive["directive"]["header"]
    header["messageId"] = str(uuid.uuid4())
    if "correlationToken" in header:
        header["correlationToken"] = f"test-{uuid.uuid4()}"
    return directive


def token_of(message: dict[str, Any]) -> str:
    return message["directive"]["header"]["correlationToken"]


def name_of(message: dict[str, Any]) -> str:
    return message["event"]["header"]["name"]


def valid(message: dict[str, Any]) -> dict[str, Any]:
    errors = schema_errors(message)
    assert not errors, f"not a valid Alexa message: {errors[:3]}"
    return message


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(latency=0.01, transition=0.2) as running:
        running.link_demo_user()
        yield use_stack(running)


@pytest.fixture
def sqs(stack: LocalStack) -> Any:
    return stack.client("sqs")


# -- AcceptGrant, Discover, ReportState ------------------------------------------------------------


def test_accept_grant_stores_the_users_tokens_in_dynamodb(stack: LocalStack) -> None:
    calls = stack.lwa.calls_of("authorization_code")

    answer = stack.invoke(accept_grant(stack.demo_access_token(), f"code-{uuid.uuid4()}"))

    assert name_of(valid(answer)) == "AcceptGrant.Response"
    assert stack.lwa.calls_of("authorization_code") == calls + 1
    item = stack.client("dynamodb").get_item(  # keyed by the skill user: the token's sub
        TableName=stack.table_name("TOKENS_TABLE"), Key={"user_id": {"S": stack.demo_user_id}}
    )["Item"]
    assert item["access_token"]["S"].startswith("Atza|")
    assert stack.lwa.is_valid(item["access_token"]["S"])
    assert item["refresh_token"]["S"].startswith("Atzr|")
    assert "grant_code" not in item  # exchanged at once


def test_accept_grant_with_a_code_lwa_refuses_is_accept_grant_failed(stack: LocalStack) -> None:
    table = stack.table_name("TOKENS_TABLE")
    key = {"user_id": {"S": stack.demo_user_id}}
    before = stack.client("dynamodb").get_item(TableName=table, Key=key)["Item"]

    answer = stack.invoke(accept_grant(stack.demo_access_token(), "bad-code"))

    after = stack.client("dynamodb").get_item(TableName=table, Key=key)["Item"]
    assert after == before  # a failed re-link leaves the working link alone
    valid(answer)
    assert answer["event"]["header"]["namespace"] == "Alexa.Authorization"
    assert name_of(answer) == "ErrorResponse"
    assert answer["event"]["payload"]["type"] == "ACCEPT_GRANT_FAILED"


def test_discover_lists_the_simulators_bulbs_with_their_capabilities(stack: LocalStack) -> None:
    answer = valid(stack.invoke(event("Discover.json")))

    endpoints = {e["endpointId"]: e for e in answer["event"]["payload"]["endpoints"]}
    assert len(endpoints) == 12  # three bulbs behind each of the four simulated vendors

    def interfaces(endpoint_id: str) -> set[str]:
        return {c["interface"] for c in endpoints[endpoint_id]["capabilities"]}

    for style in STYLES:
        assert "Alexa.ColorController" in interfaces(f"sim-{style}:color-1")
        assert "Alexa.ColorController" not in interfaces(f"sim-{style}:white-1")
        assert "Alexa.ColorTemperatureController" not in interfaces(f"sim-{style}:white-1")
        assert "Alexa.ColorTemperatureController" in interfaces(f"sim-{style}:white-tunable-1")
        assert "Alexa.BrightnessController" in interfaces(f"sim-{style}:white-1")
        assert "Alexa.EndpointHealth" in interfaces(f"sim-{style}:white-1")


def test_the_sample_directives_carry_the_cookies_discovery_hands_out(stack: LocalStack) -> None:
    answer = stack.invoke(event("Discover.json"))
    cookies = {e["endpointId"]: e["cookie"] for e in answer["event"]["payload"]["endpoints"]}

    for path in sorted(EVENTS.glob("*.json")):
        sample = json.loads(path.read_text())
        endpoint = sample.get("directive", {}).get("endpoint")
        if endpoint:
            assert endpoint["cookie"] == cookies[endpoint["endpointId"]], path.name


def test_report_state_reads_the_bulb_from_the_vendor(stack: LocalStack) -> None:
    stack.simulator.set_state("sim-sync", "color-1", on=True, brightness=30)

    answer = valid(stack.invoke(event("ReportState.json")))

    assert name_of(answer) == "StateReport"
    values = {p["name"]: p["value"] for p in answer["context"]["properties"]}
    assert values["powerState"] == "ON"
    assert values["brightness"] == 30
    assert values["connectivity"] == {"value": "OK"}


# -- the deferred path -----------------------------------------------------------------------------


def test_a_control_directive_is_stored_on_its_styles_fifo_queue_then_deferred(
    stack: LocalStack, sqs: Any
) -> None:
    directive = event("TurnOn.polling.json")
    with stack.paused():
        answer = valid(stack.invoke(directive))

        assert name_of(answer) == "DeferredResponse"
        assert answer["event"]["header"]["correlationToken"] == token_of(directive)
        received = sqs.receive_message(
            QueueUrl=stack.queue_url("DIRECTIVES_QUEUE_POLLING_URL"),
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["All"],
        )["Messages"]
        for message in received:  # the test consumes it: no processor sees it
            sqs.delete_message(
                QueueUrl=stack.queue_url("DIRECTIVES_QUEUE_POLLING_URL"),
                ReceiptHandle=message["ReceiptHandle"],
            )
        for other in ("SYNC", "ASYNC", "OPTIMISTIC"):
            counts = stack.messages_on(f"DIRECTIVES_QUEUE_{other}_URL")
            assert counts["visible"] == 0, other

    assert len(received) == 1
    assert received[0]["Attributes"]["MessageGroupId"] == "sim-polling:color-1"
    assert (
        received[0]["Attributes"]["MessageDeduplicationId"]
        == directive["directive"]["header"]["messageId"]
    )
    stored = json.loads(received[0]["Body"])
    sent = copy.deepcopy(directive["directive"])
    del sent["endpoint"]["scope"]["token"]  # the queue carries the user id, no credential
    assert stored["directive"] == sent
    assert stored["user_id"] == stack.demo_user_id
    assert stored["deadline"] - stored["received_at"] == pytest.approx(8)


@pytest.mark.parametrize("style", STYLES)
def test_turn_on_of_every_style_ends_with_a_response_at_the_gateway(
    stack: LocalStack, style: str
) -> None:
    endpoint_id = f"sim-{style}:color-1"
    stack.simulator.set_state(f"sim-{style}", "color-1", on=False, brightness=55)
    directive = event(f"TurnOn.{style}.json")

    answer = valid(stack.invoke(directive))
    events = stack.wait_for_answer(token_of(directive), timeout=stack.deadline_seconds + 2)

    assert name_of(answer) == "DeferredResponse"
    assert events, "nothing reached the gateway"
    final = valid(events[-1])
    assert name_of(final) == "Response"
    assert final["event"]["endpoint"]["endpointId"] == endpoint_id
    assert final["event"]["endpoint"]["scope"]["type"] == "BearerToken"
    assert stack.lwa.is_valid(final["event"]["endpoint"]["scope"]["token"])
    values = {p["name"]: p["value"] for p in final["context"]["properties"]}
    assert values["powerState"] == "ON"
    assert values["brightness"] == 55  # TurnOn keeps the brightness the bulb had
    stack.simulator.wait_idle(2)  # optimistic answers before the bulb has changed
    assert stack.simulator.state(f"sim-{style}", "color-1")["on"] is True


def test_a_bad_directive_is_answered_at_once_and_never_queued(stack: LocalStack) -> None:
    with stack.paused():
        answer = valid(stack.invoke(event("bad/SetColorTemperature.out-of-range.json")))
        queued = stack.messages_on("DIRECTIVES_QUEUE_SYNC_URL")

    assert answer["event"]["payload"]["type"] == "VALUE_OUT_OF_RANGE"
    assert answer["event"]["payload"]["validRange"] == {  # Alexa's range (a bulb's is clamped to)
        "minimumValue": 1000,
        "maximumValue": 10000,
    }
    assert queued == {"visible": 0, "in_flight": 0, "delayed": 0}


def test_the_sweep_can_be_ticked(stack: LocalStack) -> None:
    stack.tick_sweep()
    stack.wait_idle(5)

    assert all(not schema_errors(m) for m in stack.gateway.accepted())


# -- the pollers, on their own queues --------------------------------------------------------------


def _poller(stack: LocalStack, queue: str, handler: Any, **options: Any) -> QueuePoller:
    url = stack.client("sqs").create_queue(
        QueueName=queue, Attributes=options.pop("attributes", {})
    )["QueueUrl"]
    return QueuePoller(
        sqs=stack.client("sqs"),
        queue_url=url,
        queue_arn=f"arn:aws:sqs:us-east-1:123456789012:{queue}",
        handler="tests.handler",
        function_name=queue,
        loader=lambda _path: handler,
        concurrency=1,
        **options,
    )


def _wait(condition: Any, timeout: float = 8.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_pollers_build_lambdas_sqs_event_and_redeliver_reported_failures(stack: LocalStack) -> None:
    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        assert context.get_remaining_time_in_millis() > 0
        first = [r for r in event["Records"] if r["body"] == "fails once"]
        if first and first[0]["attributes"]["ApproximateReceiveCount"] == "1":
            return {"batchItemFailures": [{"itemIdentifier": first[0]["messageId"]}]}
        return {"batchItemFailures": []}

    poller = _poller(
        stack,
        f"t-{uuid.uuid4().hex[:8]}.fifo",
        handler,
        attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )
    sqs = stack.client("sqs")
    for body in ("fails once", "fine"):
        sqs.send_message(
            QueueUrl=poller.queue_url, MessageBody=body, MessageGroupId=body.replace(" ", "-")
        )
    poller.start()
    try:
        assert _wait(lambda: sum(len(e["Records"]) for e in seen) >= 3)
    finally:
        poller.signal_stop()
        poller.join()

    record = seen[0]["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == poller.queue_arn
    assert record["awsRegion"] == "us-east-1"
    assert {
        "MessageGroupId",
        "MessageDeduplicationId",
        "ApproximateReceiveCount",
        "SentTimestamp",
    } <= set(record["attributes"])
    bodies = [r["body"] for e in seen for r in e["Records"]]
    assert bodies.count("fails once") == 2 and bodies.count("fine") == 1
    retried = [r for e in seen for r in e["Records"] if r["body"] == "fails once"][-1]
    assert retried["attributes"]["ApproximateReceiveCount"] == "2"
    assert _wait(
        lambda: (
            not any(
                stack.client("sqs").get_queue_attributes(
                    QueueUrl=poller.queue_url,
                    AttributeNames=[
                        "ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesNotVisible",
                    ],
                )["Attributes"][k]
                != "0"
                for k in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
            )
        ),
        3,
    )


def test_fifo_groups_run_in_order_and_different_groups_in_parallel(stack: LocalStack) -> None:
    spans: dict[str, tuple[float, float]] = {}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        started = time.monotonic()
        time.sleep(0.3)
        for record in event["Records"]:
            spans[record["body"]] = (started, time.monotonic())
        return {"batchItemFailures": []}

    poller = _poller(
        stack,
        f"t-{uuid.uuid4().hex[:8]}.fifo",
        handler,
        attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )
    poller.batch_size, poller.concurrency = 1, 4  # as the processors: one directive a batch
    sqs = stack.client("sqs")
    for group, body in (
        ("bulb-1", "on-1"),
        ("bulb-2", "on-2"),
        ("bulb-1", "dim-1"),
        ("bulb-2", "dim-2"),
    ):
        sqs.send_message(QueueUrl=poller.queue_url, MessageBody=body, MessageGroupId=group)
    poller.start()
    try:
        assert _wait(lambda: len(spans) == 4)
    finally:
        poller.signal_stop()
        poller.join()

    assert spans["on-1"][1] <= spans["dim-1"][0]  # one bulb: in order, never overlapping
    assert spans["on-2"][1] <= spans["dim-2"][0]
    assert spans["on-2"][0] < spans["on-1"][1]  # two bulbs: side by side


def test_a_handler_that_raises_leaves_its_batch_on_the_queue(stack: LocalStack) -> None:
    calls: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        calls.append(event["Records"][0]["attributes"]["ApproximateReceiveCount"])
        if len(calls) == 1:
            raise RuntimeError("boom (expected by the test)")

    poller = _poller(stack, f"t-{uuid.uuid4().hex[:8]}", handler)
    stack.client("sqs").send_message(QueueUrl=poller.queue_url, MessageBody="x")
    poller.start()
    try:
        assert _wait(lambda: len(calls) >= 2)
    finally:
        poller.signal_stop()
        poller.join()

    assert calls[:2] == ["1", "2"]
    assert poller.stats.errors == 1


def test_sqs_delay_seconds_holds_a_message_back(stack: LocalStack) -> None:
    arrived: list[float] = []
    poller = _poller(
        stack, f"t-{uuid.uuid4().hex[:8]}", lambda e, c: arrived.append(time.monotonic())
    )
    poller.start()
    try:
        sent = time.monotonic()
        stack.client("sqs").send_message(
            QueueUrl=poller.queue_url, MessageBody="later", DelaySeconds=2
        )
        assert _wait(lambda: bool(arrived), 6)
    finally:
        poller.signal_stop()
        poller.join()

    assert arrived[0] - sent >= 1.9


def test_a_missing_handler_module_leaves_messages_queued(stack: LocalStack) -> None:
    def missing(path: str) -> Any:
        raise HandlerMissing(f"{path} does not exist yet")

    poller = _poller(stack, f"t-{uuid.uuid4().hex[:8]}", None)
    poller._loader = missing  # the test plays a module that is not written yet
    stack.client("sqs").send_message(QueueUrl=poller.queue_url, MessageBody="waits")
    poller.start()
    time.sleep(1.0)
    poller.signal_stop()
    poller.join()

    assert poller.missing
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=poller.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1"


# -- the fake LWA and event gateway over HTTP -----------------------------------------------------


def _lwa_client(stack: LocalStack) -> dict[str, str]:
    secret = stack.client("secretsmanager").get_secret_value(SecretId=stack.env["LWA_SECRET_NAME"])
    return json.loads(secret["SecretString"])


def _token(stack: LocalStack, **form: str) -> requests.Response:
    return requests.post(stack.lwa.token_url, data={**_lwa_client(stack), **form}, timeout=5)


def test_lwa_redeems_a_grant_code_once_and_refreshes(stack: LocalStack) -> None:
    code = f"code-{uuid.uuid4()}"

    first = _token(stack, grant_type="authorization_code", code=code)
    again = _token(stack, grant_type="authorization_code", code=code)
    refreshed = _token(
        stack, grant_type="refresh_token", refresh_token=first.json()["refresh_token"]
    )

    assert first.status_code == 200
    assert first.json()["token_type"] == "bearer" and first.json()["expires_in"] == 3600
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert refreshed.status_code == 200
    assert refreshed.json()["access_token"] != first.json()["access_token"]


def test_lwa_refuses_bad_codes_and_wrong_clients(stack: LocalStack) -> None:
    bad = _token(stack, grant_type="authorization_code", code="bad-one")
    stranger = requests.post(
        stack.lwa.token_url,
        data={
            "grant_type": "authorization_code",
            "code": "x",
            "client_id": "who",
            "client_secret": "?",
        },
        timeout=5,
    )

    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_grant")
    assert (stranger.status_code, stranger.json()["error"]) == (401, "invalid_client")


def test_the_gateway_checks_the_token_and_the_schema(stack: LocalStack) -> None:
    access = _token(stack, grant_type="authorization_code", code=f"c-{uuid.uuid4()}").json()[
        "access_token"
    ]
    response = {
        "event": {
            "header": {
                "namespace": "Alexa",
                "name": "Response",
                "messageId": str(uuid.uuid4()),
                "correlationToken": f"gw-{uuid.uuid4()}",
                "payloadVersion": "3",
            },
            "endpoint": {
                "scope": {"type": "BearerToken", "token": access},
                "endpointId": "sim-sync:white-1",
            },
            "payload": {},
        }
    }

    def post(body: Any, token: str | None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.post(stack.gateway.events_url, json=body, headers=headers, timeout=5)

    anonymous = post(response, None)
    broken = post({"event": {"header": {"name": "Response"}}}, access)
    accepted = post(response, access)
    stack.gateway.answer_next(1, 503)
    throttled = post(response, access)

    assert anonymous.status_code == 401
    header = anonymous.json()["header"]
    assert (header["namespace"], header["name"]) == ("System", "Exception") and header["messageId"]
    assert anonymous.json()["payload"]["code"] == "INVALID_ACCESS_TOKEN_EXCEPTION"
    assert broken.status_code == 400
    assert broken.json()["payload"]["code"] == "INVALID_REQUEST_EXCEPTION"
    assert broken.json()["payload"]["description"]
    assert accepted.status_code == 202
    assert throttled.status_code == 503
    assert throttled.json()["payload"]["code"] == "SERVICE_UNAVAILABLE_EXCEPTION"
    token = response["event"]["header"]["correlationToken"]
    assert stack.gateway.accepted(token) == [response]


def test_an_expired_access_token_is_refused_by_the_gateway(stack: LocalStack) -> None:
    access = _token(stack, grant_type="authorization_code", code=f"c-{uuid.uuid4()}").json()[
        "access_token"
    ]
    lifetime = stack.lwa.token_lifetime
    stack.lwa.expire_access_tokens()
    try:
        answer = requests.post(
            stack.gateway.events_url,
            json={},
            headers={"Authorization": f"Bearer {access}"},
            timeout=5,
        )
    finally:
        stack.lwa.token_lifetime = lifetime
        stack.link_demo_user()  # fresh tokens for the tests that follow

    assert answer.status_code == 401


def test_the_webhook_api_answers_404_off_its_route(stack: LocalStack) -> None:
    answer = requests.post(stack.webhook.url + "/elsewhere", data=b"{}", timeout=5)

    assert answer.status_code == 404
    assert answer.json() == {"message": "Not Found"}


def test_without_pollers_the_sweep_is_driven_by_the_stack_itself() -> None:
    with LocalStack(pollers=False) as stack:
        stack.link_demo_user()
        discover = json.loads((EVENTS / "Discover.json").read_text())
        stack.invoke(stack.with_demo_token(discover))  # schedules the linked accounts
        answer = stack.tick_sweep()
        key = next(c.queue_key for c in stack.consumers if c.queue_key.endswith("SweepQueue"))
        assert answer["accounts"] > 0, answer
        assert stack.messages_on(key) == {"visible": 0, "in_flight": 0, "delayed": 0}
        assert stack.simulator.log(), "the sweep read no vendor"
