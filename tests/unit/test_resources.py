"""The local stack's template reader, resource maker and Lambda event shapes (no sockets).

The reader is tested on a small template written here (root + one nested template), so its
rules are pinned whatever template.yaml says today; one test reads the repository's template.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bulb_workbench.local._http import Request
from bulb_workbench.local._pollers import LambdaContext, sqs_event
from bulb_workbench.local._resources import (
    ResourceAtt,
    ResourceRef,
    TemplateError,
    consumers,
    create_resources,
    environment,
    read_template,
)
from bulb_workbench.local._webhook import http_api_event, lambda_reply, route_pattern

ROOT = textwrap.dedent(
    """\
    AWSTemplateFormatVersion: '2010-09-09'
    Transform: AWS::Serverless-2016-10-31
    Parameters:
      EnableFast:
        Type: String
        Default: 'false'
      Retries:
        Type: Number
        Default: 4
    Conditions:
      FastEnabled: !Equals [!Ref EnableFast, 'true']
    Globals:
      Function:
        Timeout: 9
    Resources:
      OutboxQueue:
        Type: AWS::SQS::Queue
        Properties:
          VisibilityTimeout: 30
          RedrivePolicy:
            deadLetterTargetArn: !GetAtt OutboxDLQ.Arn
            maxReceiveCount: !Ref Retries
      OutboxDLQ:
        Type: AWS::SQS::Queue
      TokensTable:
        Type: AWS::DynamoDB::Table
        Properties:
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: user_id, AttributeType: S}]
          KeySchema: [{AttributeName: user_id, KeyType: HASH}]
      StateTable:
        Type: AWS::DynamoDB::Table
        Properties:
          AttributeDefinitions:
            - {AttributeName: pk, AttributeType: S}
            - {AttributeName: sk, AttributeType: S}
          KeySchema:
            - {AttributeName: pk, KeyType: HASH}
            - {AttributeName: sk, KeyType: RANGE}
          TimeToLiveSpecification: {AttributeName: expires_at, Enabled: true}
      Worker:
        Type: AWS::Serverless::Application
        Properties:
          Location: infra/worker.yaml
          Parameters:
            OutboxQueueUrl: !Ref OutboxQueue
      Fast:
        Type: AWS::Serverless::Application
        Condition: FastEnabled
        Properties:
          Location: infra/worker.yaml
          Parameters:
            OutboxQueueUrl: !Ref OutboxQueue
      DispatcherFunction:
        Type: AWS::Serverless::Function
        Properties:
          Handler: skill.handlers.dispatcher.handler
          Events:
            Outbox:
              Type: SQS
              Properties:
                Queue: !GetAtt OutboxQueue.Arn
                BatchSize: 25
                FunctionResponseTypes: [ReportBatchItemFailures]
      SweepFunction:
        Type: AWS::Serverless::Function
        Properties:
          Handler: skill.handlers.sweep.handler
          Timeout: 55
          Events:
            Every:
              Type: Schedule
              Properties: {Schedule: rate(1 minute)}
    Outputs:
      Url:
        Value: !GetAtt Worker.Outputs.DirectivesQueueUrl
    """
)

WORKER = textwrap.dedent(
    """\
    Transform: AWS::Serverless-2016-10-31
    Parameters:
      OutboxQueueUrl: {Type: String}
    Resources:
      DirectivesQueue:
        Type: AWS::SQS::Queue
        Properties:
          FifoQueue: true
          ContentBasedDeduplication: true
          VisibilityTimeout: 60
          RedrivePolicy:
            deadLetterTargetArn: !GetAtt DirectivesDLQ.Arn
            maxReceiveCount: 5
      DirectivesDLQ:
        Type: AWS::SQS::Queue
        Properties: {FifoQueue: true}
      ProcessorFunction:
        Type: AWS::Serverless::Function
        Properties:
          Handler: skill.handlers.processors.async_.handler
          Environment:
            Variables:
              OUTBOX_QUEUE_URL: !Ref OutboxQueueUrl
              DIRECTIVES_URL: !Sub "${DirectivesQueue}"
              NAME: !Sub "${AWS::StackName}-worker"
          Events:
            Directives:
              Type: SQS
              Properties:
                Queue: !GetAtt DirectivesQueue.Arn
                BatchSize: 1
                FunctionResponseTypes: [ReportBatchItemFailures]
      WebhookFunction:
        Type: AWS::Serverless::Function
        Properties:
          Handler: skill.handlers.notifications.handler
          Events:
            Push:
              Type: HttpApi
              Properties: {Method: post, Path: '/webhooks/{vendor}/{secret}'}
    Outputs:
      DirectivesQueueUrl:
        Value: !Ref DirectivesQueue
    """
)


@pytest.fixture
def template(tmp_path: Path) -> Path:
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "worker.yaml").write_text(WORKER)
    root = tmp_path / "template.yaml"
    root.write_text(ROOT)
    return root


class FakeAws:
    """Records the create calls the resource maker makes (stands in for moto)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def create_queue(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("create_queue", request))
        return {"QueueUrl": f"http://moto/123456789012/{request['QueueName']}"}

    def create_table(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("create_table", request))
        return {"TableDescription": {"TableArn": f"arn:table/{request['TableName']}"}}

    def update_time_to_live(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("update_time_to_live", request))
        return {}

    def create_key(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("create_key", request))
        number = sum(1 for name, _ in self.calls if name == "create_key")
        return {
            "KeyMetadata": {
                "KeyId": f"key-{number}",
                "Arn": f"arn:aws:kms:us-east-1:123456789012:key/key-{number}",
            }
        }

    def create_user_pool(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("create_user_pool", request))
        return {"UserPool": {"Id": "us-east-1_pool", "Arn": "arn:pool"}}

    def create_user_pool_client(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("create_user_pool_client", request))
        return {"UserPoolClient": {"ClientId": "client-1", "ClientSecret": "s3cret"}}


# -- reading --------------------------------------------------------------------------------------


def test_reader_collects_queues_of_the_template_and_its_nested_templates(template: Path) -> None:
    model = read_template(template)

    assert set(model.queues) == {
        "OutboxQueue",
        "OutboxDLQ",
        "Worker/DirectivesQueue",
        "Worker/DirectivesDLQ",
    }
    directives = model.queues["Worker/DirectivesQueue"]
    assert directives.fifo and directives.content_based_deduplication
    assert directives.visibility_timeout == 60
    assert directives.redrive is not None
    assert (directives.redrive.dlq_key, directives.redrive.max_receive_count) == (
        "Worker/DirectivesDLQ",
        5,
    )
    outbox = model.queues["OutboxQueue"]
    assert not outbox.fifo
    assert outbox.redrive is not None and outbox.redrive.max_receive_count == 4  # from !Ref


def test_reader_skips_resources_whose_condition_is_false_and_takes_parameter_overrides(
    template: Path,
) -> None:
    assert not any(key.startswith("Fast/") for key in read_template(template).queues)

    model = read_template(template, {"EnableFast": "true"})

    assert "Fast/DirectivesQueue" in model.queues


def test_reader_keeps_table_keys_and_ttl(template: Path) -> None:
    model = read_template(template)

    pending = model.tables["StateTable"]
    assert [k["AttributeName"] for k in pending.key_schema] == ["pk", "sk"]
    assert pending.ttl_attribute == "expires_at"
    assert model.tables["TokensTable"].ttl_attribute is None


def test_reader_resolves_functions_through_parameters_globals_and_outputs(template: Path) -> None:
    model = read_template(template)

    processor = model.functions["Worker/ProcessorFunction"]
    assert processor.handler == "skill.handlers.processors.async_.handler"
    assert processor.timeout == 3  # Globals apply to their own template only
    assert processor.environment["OUTBOX_QUEUE_URL"] == ResourceRef("OutboxQueue")
    assert processor.environment["DIRECTIVES_URL"] == ResourceRef("Worker/DirectivesQueue")
    assert processor.environment["NAME"] == "bulb-skill-local-Worker-worker"
    assert [s.queue_key for s in processor.sqs_sources] == ["Worker/DirectivesQueue"]
    assert model.functions["SweepFunction"].schedules == ["rate(1 minute)"]
    assert model.functions["SweepFunction"].timeout == 55
    assert model.functions["DispatcherFunction"].timeout == 9  # Globals of template.yaml
    assert model.functions["Worker/WebhookFunction"].http_routes == [
        ("POST", "/webhooks/{vendor}/{secret}")
    ]


def test_the_style_of_a_directives_queue_is_the_style_of_the_processor_consuming_it(
    template: Path,
) -> None:
    model = read_template(template)

    assert model.style_of(model.queues["Worker/DirectivesQueue"]) == "async"


def test_a_missing_template_fails_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"template\.yaml"):
        read_template(tmp_path / "template.yaml")


def test_a_missing_nested_template_fails_with_a_clear_message(template: Path) -> None:
    (template.parent / "infra" / "worker.yaml").unlink()

    with pytest.raises(TemplateError, match=r"worker\.yaml"):
        read_template(template)


def test_a_redrive_policy_must_name_a_queue_of_its_template(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n"
        "      RedrivePolicy: {deadLetterTargetArn: 'arn:aws:sqs:us-east-1:1:elsewhere'}\n"
    )

    with pytest.raises(TemplateError, match="deadLetterTargetArn"):
        read_template(path)


# -- making resources and the environment --------------------------------------------------------


def test_dead_letter_queues_are_made_before_the_queues_that_redrive_to_them(template: Path) -> None:
    aws = FakeAws()

    made = create_resources(read_template(template), aws, aws)

    names = [r["QueueName"] for call, r in aws.calls if call == "create_queue"]
    assert names.index("OutboxDLQ") < names.index("OutboxQueue")
    assert names.index("Worker-DirectivesDLQ.fifo") < names.index("Worker-DirectivesQueue.fifo")
    directives = next(
        r
        for call, r in aws.calls
        if call == "create_queue" and r["QueueName"] == "Worker-DirectivesQueue.fifo"
    )
    assert directives["Attributes"]["FifoQueue"] == "true"
    assert directives["Attributes"]["VisibilityTimeout"] == "60"
    assert json.loads(directives["Attributes"]["RedrivePolicy"]) == {
        "deadLetterTargetArn": made.queues["Worker/DirectivesDLQ"].arn,
        "maxReceiveCount": 5,
    }


def test_tables_are_made_with_their_keys_and_ttl(template: Path) -> None:
    aws = FakeAws()

    create_resources(read_template(template), aws, aws)

    tables = {r["TableName"]: r for call, r in aws.calls if call == "create_table"}
    assert tables["StateTable"]["KeySchema"][1] == {"AttributeName": "sk", "KeyType": "RANGE"}
    ttl = [r for call, r in aws.calls if call == "update_time_to_live"]
    assert ttl == [
        {
            "TableName": "StateTable",
            "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires_at"},
        }
    ]


def test_resources_map_to_the_configuration_variables(template: Path) -> None:
    model = read_template(template)
    made = create_resources(model, FakeAws(), FakeAws())

    wiring = environment(model, made)

    env = wiring.environment
    assert env["DIRECTIVES_QUEUE_ASYNC_URL"] == made.queues["Worker/DirectivesQueue"].url
    assert env["OUTBOX_QUEUE_URL"] == made.queues["OutboxQueue"].url
    assert env["OUTBOX_DLQ_URL"] == made.queues["OutboxDLQ"].url
    assert env["TOKENS_TABLE"] == "TokensTable"
    assert env["STATE_TABLE"] == "StateTable"
    assert env["DIRECTIVES_URL"] == made.queues["Worker/DirectivesQueue"].url  # from the template
    assert any("POLL_QUEUE_URL" in w for w in wiring.warnings)
    assert any("IDEMPOTENCY_TABLE" in w for w in wiring.warnings)


def test_a_function_given_another_resource_than_the_mapping_is_reported(
    template: Path, tmp_path: Path
) -> None:
    worker = tmp_path / "infra" / "worker.yaml"
    worker.write_text(
        WORKER.replace(
            "OUTBOX_QUEUE_URL: !Ref OutboxQueueUrl", "OUTBOX_QUEUE_URL: !Ref DirectivesDLQ"
        )
    )
    model = read_template(template)

    wiring = environment(model, create_resources(model, FakeAws(), FakeAws()))

    assert any("OUTBOX_QUEUE_URL" in w and "Worker/DirectivesDLQ" in w for w in wiring.warnings)


def test_consumers_come_from_the_template_event_sources(template: Path) -> None:
    found, warnings = consumers(read_template(template))

    by_queue = {c.queue_key: c for c in found}
    assert by_queue["OutboxQueue"].handler == "skill.handlers.dispatcher.handler"
    assert by_queue["OutboxQueue"].batch_size == 10  # SQS receives at most 10
    assert by_queue["OutboxQueue"].report_batch_item_failures
    assert by_queue["Worker/DirectivesQueue"].handler == "skill.handlers.processors.async_.handler"
    assert by_queue["Worker/DirectivesQueue"].batch_size == 1
    assert "OutboxDLQ" not in by_queue
    assert warnings == []


def test_a_queue_the_design_names_without_consumer_gets_the_default_handler(tmp_path: Path) -> None:
    (tmp_path / "polling.yaml").write_text(
        "Resources:\n  DirectivesQueue:\n    Type: AWS::SQS::Queue\n    Properties: {FifoQueue: "
        "true}\n  PollQueue:\n    Type: AWS::SQS::Queue\n"
    )
    root = tmp_path / "template.yaml"
    root.write_text(
        "Resources:\n  PollingProcessor:\n    Type: AWS::Serverless::Application\n"
        "    Properties: {Location: polling.yaml}\n"
    )

    found, warnings = consumers(read_template(root))

    assert {c.queue_key: c.handler for c in found} == {
        "PollingProcessor/DirectivesQueue": "skill.handlers.processors.polling.handler",
        "PollingProcessor/PollQueue": "skill.handlers.poller.handler",
    }
    assert len(warnings) == 2


def test_the_repository_template_gives_every_style_its_queue_and_consumer() -> None:
    from bulb_workbench.local.stack import TEMPLATE_PARAMETERS, default_template

    path = default_template()
    model = read_template(path, TEMPLATE_PARAMETERS)
    cognito = FakeAws()
    made = create_resources(
        model,
        FakeAws(),
        FakeAws(),
        kms=FakeAws(),
        cognito=cognito,
        client_auth_flows=("ALLOW_ADMIN_USER_PASSWORD_AUTH",),
    )

    wiring = environment(model, made)
    found, _ = consumers(model)

    for style in ("SYNC", "ASYNC", "OPTIMISTIC", "POLLING"):
        assert f"DIRECTIVES_QUEUE_{style}_URL" in wiring.environment
    for variable in (
        "OUTBOX_QUEUE_URL",
        "OUTBOX_DLQ_URL",
        "POLL_QUEUE_URL",
        "TOKENS_TABLE",
        "STATE_TABLE",
        "IDEMPOTENCY_TABLE",
        "CREDENTIALS_TABLE",
        "CREDENTIALS_KEY_ID",
    ):
        assert variable in wiring.environment
    assert wiring.environment["CREDENTIALS_KEY_ID"] == made.keys["CredentialsKey"].arn
    # cognito linking (the default): the pool and Alexa's client, which the entrypoint is given
    assert list(made.user_pools) == ["UserPool"] and "AlexaClient" in made.user_pool_clients
    assert wiring.environment["COGNITO_CLIENT_ID"] == "client-1"
    alexa = model.user_pool_clients["AlexaClient"].properties["ClientName"]
    [(_, client)] = [
        c
        for c in cognito.calls
        if c[0] == "create_user_pool_client" and c[1]["ClientName"] == alexa
    ]
    assert client["GenerateSecret"] is True
    assert "ALLOW_ADMIN_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    vendor_mode = read_template(path, {**TEMPLATE_PARAMETERS, "AccountLinking": "vendor"})
    assert not vendor_mode.user_pools and not vendor_mode.user_pool_clients
    assert not [w for w in wiring.warnings if "maps" in w or "already" in w]
    handlers = {c.handler for c in found}
    assert {"skill.handlers.dispatcher.handler", "skill.handlers.poller.handler"} <= handlers
    assert all(made.queues[c.queue_key].spec.fifo for c in found if "Directives" in c.queue_key)


# -- Lambda event shapes ---------------------------------------------------------------------------


def test_sqs_records_are_shaped_as_lambda_delivers_them() -> None:
    received = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "MD5OfBody": "abc",
        "Body": '{"x": 1}',
        "Attributes": {
            "ApproximateReceiveCount": "2",
            "SentTimestamp": "1700000000000",
            "MessageGroupId": "sim-sync:color-1",
            "MessageDeduplicationId": "d-1",
        },
        "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "Response"}},
        "MD5OfMessageAttributes": "def",
    }

    event = sqs_event([received], "arn:aws:sqs:us-east-1:123456789012:q.fifo")

    assert event == {
        "Records": [
            {
                "messageId": "m-1",
                "receiptHandle": "r-1",
                "body": '{"x": 1}',
                "attributes": received["Attributes"],
                "messageAttributes": {
                    "kind": {
                        "stringValue": "Response",
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": "String",
                    }
                },
                "md5OfBody": "abc",
                "md5OfMessageAttributes": "def",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q.fifo",
                "awsRegion": "us-east-1",
            }
        ]
    }


def test_the_fake_lambda_context_counts_down() -> None:
    context = LambdaContext("fn", timeout=2)

    assert 0 < context.get_remaining_time_in_millis() <= 2000
    assert context.invoked_function_arn.endswith(":function:fn")


def test_a_webhook_request_becomes_an_http_api_v2_event() -> None:
    method, pattern = route_pattern("POST /webhooks/{vendor}/{proxy+}")
    request = Request(
        method="POST",
        path="/webhooks/sim-async/s3cret/x",
        query="a=1",
        headers={"content-type": "application/json", "x-sim-signature": "sha256=00"},
        body=b'{"device_id": "color-1"}',
    )
    found = pattern.match(request.path)
    assert method == "POST" and found is not None

    event = http_api_event(request, "POST /webhooks/{vendor}/{proxy+}", found.groupdict())

    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /webhooks/{vendor}/{proxy+}"
    assert event["rawPath"] == "/webhooks/sim-async/s3cret/x"
    assert event["pathParameters"] == {"vendor": "sim-async", "proxy": "s3cret/x"}
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["queryStringParameters"] == {"a": "1"}
    assert event["body"] == '{"device_id": "color-1"}' and event["isBase64Encoded"] is False
    assert event["headers"]["x-sim-signature"] == "sha256=00"


def test_lambda_proxy_answers_become_http_answers() -> None:
    reply = lambda_reply({"statusCode": 401, "headers": {"X": "1"}, "body": "no"})
    assert (reply.status, reply.body, reply.headers) == (401, b"no", {"X": "1"})

    plain = lambda_reply({"ok": True})
    assert (plain.status, json.loads(plain.body)) == (200, {"ok": True})


def test_cookies_go_in_and_out_as_http_api_v2_passes_them() -> None:
    """The Cookie header becomes the event's ``cookies`` (and leaves ``headers``); each cookie
    of the answer becomes a Set-Cookie header of its own, sent as separate header lines."""
    import http.client

    from bulb_workbench.local._webhook import HttpApiBridge

    request = Request("GET", "/", headers={"cookie": "a=1; b=two=2", "accept": "text/html"})
    event = http_api_event(request, "ANY /", {})
    assert event["cookies"] == ["a=1", "b=two=2"] and "cookie" not in event["headers"]
    reply = lambda_reply(
        {
            "statusCode": 303,
            "headers": {"Location": "/"},
            "body": "",
            "cookies": ["a=; Max-Age=0", "c=3; Secure"],
        }
    )
    assert list(reply.repeated) == [("Set-Cookie", "a=; Max-Age=0"), ("Set-Cookie", "c=3; Secure")]

    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"statusCode": 200, "body": "ok", "cookies": ["x=1; Path=/", "y=2; Path=/"]}

    bridge = HttpApiBridge(handler, "pages").start()
    try:
        host, port = bridge.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        connection.putrequest("GET", "/connect/sim-sync?x=1")
        connection.putheader("Cookie", "s=1")
        connection.putheader("Cookie", "t=2")  # a client may split them; HTTP API joins them
        connection.endheaders()
        answer = connection.getresponse()
        assert answer.status == 200 and answer.read() == b"ok"
        assert answer.headers.get_all("Set-Cookie") == ["x=1; Path=/", "y=2; Path=/"]
        connection.close()
    finally:
        bridge.stop()
    [event] = seen
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["routeKey"] == "ANY /{proxy+}" and event["pathParameters"] == {
        "proxy": "connect/sim-sync"
    }
    assert event["rawPath"] == "/connect/sim-sync" and event["queryStringParameters"] == {"x": "1"}


def test_markers_name_what_they_point_at() -> None:
    assert ResourceAtt("A/B", "Arn") != ResourceAtt("A/B", "QueueName")
    assert ResourceRef("A/B") == ResourceRef("A/B")


ACCOUNTS = textwrap.dedent(
    """\
    Parameters:
      AccountLinking: {Type: String, Default: cognito}
    Conditions:
      CognitoLinking: !Equals [!Ref AccountLinking, cognito]
    Resources:
      CredentialsKey:
        Type: AWS::KMS::Key
        Properties: {Description: the vault's key}
      CredentialsTable:
        Type: AWS::DynamoDB::Table
        Properties:
          AttributeDefinitions: [{AttributeName: user_id, AttributeType: S}]
          KeySchema: [{AttributeName: user_id, KeyType: HASH}]
      UserPool:
        Type: AWS::Cognito::UserPool
        Condition: CognitoLinking
        Properties:
          UserPoolTier: ESSENTIALS
          Policies: {PasswordPolicy: {MinimumLength: 12}}
      AlexaClient:
        Type: AWS::Cognito::UserPoolClient
        Condition: CognitoLinking
        Properties:
          UserPoolId: !Ref UserPool
          GenerateSecret: true
          ExplicitAuthFlows: [ALLOW_REFRESH_TOKEN_AUTH]
          CallbackURLs: [https://example.com]
      Entrypoint:
        Type: AWS::Serverless::Function
        Properties:
          Handler: skill.handlers.entrypoint.handler
          Environment:
            Variables:
              CREDENTIALS_KEY_ID: !GetAtt CredentialsKey.Arn
              COGNITO_CLIENT_ID: !If [CognitoLinking, !Ref AlexaClient, !Ref AWS::NoValue]
    """
)


def test_keys_user_pools_and_clients_are_made_and_wired(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(ACCOUNTS)
    model = read_template(path)
    kms, cognito = FakeAws(), FakeAws()

    made = create_resources(
        model,
        FakeAws(),
        FakeAws(),
        kms=kms,
        cognito=cognito,
        client_auth_flows=("ALLOW_ADMIN_USER_PASSWORD_AUTH",),
    )
    wiring = environment(model, made)

    assert kms.calls == [
        (
            "create_key",
            {
                "Description": "the vault's key",
                "KeyUsage": "ENCRYPT_DECRYPT",
                "KeySpec": "SYMMETRIC_DEFAULT",
            },
        )
    ]
    [(_, pool)] = [c for c in cognito.calls if c[0] == "create_user_pool"]
    assert pool["Policies"] == {"PasswordPolicy": {"MinimumLength": 12}}
    assert "UserPoolTier" not in pool  # only what moto can act on
    [(_, client)] = [c for c in cognito.calls if c[0] == "create_user_pool_client"]
    assert client["UserPoolId"] == "us-east-1_pool" and "CallbackURLs" not in client
    assert client["ExplicitAuthFlows"] == [
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    ]
    assert (
        made.user_pools["UserPool"].issuer
        == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
    )
    assert made.user_pools["UserPool"].jwks_url("http://127.0.0.1:5000/") == (
        "http://127.0.0.1:5000/us-east-1_pool/.well-known/jwks.json"
    )
    assert wiring.environment["CREDENTIALS_KEY_ID"] == made.keys["CredentialsKey"].arn
    assert wiring.environment["CREDENTIALS_TABLE"] == made.tables["CredentialsTable"].name
    assert wiring.environment["COGNITO_CLIENT_ID"] == "client-1"
    assert made.value_of(ResourceRef("CredentialsKey")) == "key-1"
    assert (
        made.value_of(ResourceAtt("UserPool", "ProviderURL")) == made.user_pools["UserPool"].issuer
    )


def test_vendor_linking_makes_no_user_pool_and_a_key_needs_a_kms_client(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(ACCOUNTS)

    vendor = read_template(path, {"AccountLinking": "vendor"})

    assert not vendor.user_pools and not vendor.user_pool_clients
    assert "COGNITO_CLIENT_ID" not in vendor.functions["Entrypoint"].environment
    with pytest.raises(TemplateError, match="kms"):
        create_resources(vendor, FakeAws(), FakeAws())
