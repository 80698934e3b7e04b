"""The SAM templates, checked as deployed: template.yaml composed with its infra/ bricks for each
combination of vendor API styles (see tests/infra/_composition.py), plus cfn-lint on every file."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.infra._composition import (
    ROOT,
    STYLES,
    Composition,
    Function,
    Res,
    Statement,
    Sub,
    load,
    statements_of,
)

INFRA = sorted((ROOT / "infra").glob("*.yaml"))
TEMPLATES = [ROOT / "template.yaml", *INFRA]
COMBINATIONS = [c for n in range(len(STYLES) + 1) for c in itertools.combinations(STYLES, n)]
ALL = Composition.with_styles(*STYLES)

ENTRYPOINT = "skill.handlers.entrypoint.handler"
DISPATCHER = "skill.handlers.dispatcher.handler"
#: The linking pages: deployed in cognito mode (the default), whatever the styles.
LINKING = "skill.handlers.linking_pages.handler"
#: The functions each style's processor network adds (the sweep serves both styles without push).
SWEEP = {"skill.handlers.sweep.handler", "skill.handlers.sweep_scheduler.handler"}
NETWORK = {
    "Sync": {"skill.handlers.processors.sync.handler"},
    # the sweep reads the accounts whose users kept another webhook URL (read by polling); the
    # polling brick's poller is each command's watchdog (its processor idles without polling)
    "Async": {
        "skill.handlers.processors.async_.handler",
        "skill.handlers.notifications.handler",
        "skill.handlers.processors.polling.handler",
        "skill.handlers.poller.handler",
        *SWEEP,
    },
    "Optimistic": {"skill.handlers.processors.optimistic.handler", *SWEEP},
    "Polling": {
        "skill.handlers.processors.polling.handler",
        "skill.handlers.poller.handler",
        *SWEEP,
    },
}
#: Environment each function must get (beyond the Powertools settings), by handler.
REQUIRED_ENV = {
    ENTRYPOINT: {
        "TOKENS_TABLE",
        "LWA_TOKEN_URL",
        "LWA_SECRET_NAME",
        "DEADLINE_SECONDS",
        "VENDOR_SECRETS_NAME",
        "COGNITO_ISSUER",
        "COGNITO_CLIENT_ID",  # AccountLinking=cognito, the default
    },
    DISPATCHER: {
        "TOKENS_TABLE",
        "LWA_TOKEN_URL",
        "LWA_SECRET_NAME",
        "OUTBOX_DLQ_URL",
        "CREDENTIALS_TABLE",
        "CREDENTIAL_GRACE_DAYS",
    },
    "skill.handlers.processors.sync.handler": {
        "OUTBOX_QUEUE_URL",
        "STATE_TABLE",
        "IDEMPOTENCY_TABLE",
        "DEADLINE_SECONDS",
    },
    "skill.handlers.processors.async_.handler": {
        "OUTBOX_QUEUE_URL",
        "STATE_TABLE",
        "IDEMPOTENCY_TABLE",
        "DEADLINE_SECONDS",
        "POLL_QUEUE_URL",  # the watchdog
    },
    "skill.handlers.processors.optimistic.handler": {
        "OUTBOX_QUEUE_URL",
        "STATE_TABLE",
        "IDEMPOTENCY_TABLE",
        "DEADLINE_SECONDS",
    },
    "skill.handlers.processors.polling.handler": {
        "OUTBOX_QUEUE_URL",
        "STATE_TABLE",
        "IDEMPOTENCY_TABLE",
        "DEADLINE_SECONDS",
        "POLL_QUEUE_URL",
    },
    "skill.handlers.notifications.handler": {
        "STATE_TABLE",
        "OUTBOX_QUEUE_URL",
        "WEBHOOK_SECRET_NAME",
    },
    "skill.handlers.poller.handler": {
        "POLL_QUEUE_URL",
        "OUTBOX_QUEUE_URL",
        "STATE_TABLE",
        "DEADLINE_SECONDS",
    },
    "skill.handlers.sweep.handler": {
        "STATE_TABLE",
        "OUTBOX_QUEUE_URL",
        "SWEEP_QUOTA_SHARE",
        "SWEEP_CONCURRENCY",
    },
    "skill.handlers.sweep_scheduler.handler": {"STATE_TABLE", "SWEEP_QUEUE_URL"},
    LINKING: {
        "LINKING_BASE_URL",
        "COGNITO_DOMAIN",
        "COGNITO_ISSUER",
        "LINKING_CLIENT_SECRET_NAME",
        "SESSION_SECRET_NAME",
        "USER_POOL_ID",
        "STATE_TABLE",
        "TOKENS_TABLE",
        "OUTBOX_QUEUE_URL",
        "VENDOR_SECRETS_NAME",
    },
}
POWERTOOLS_ENV = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
#: What every function that calls vendors gets: the vault and the linking mode.
VAULT_ENV = {"ACCOUNT_LINKING", "CREDENTIALS_TABLE", "CREDENTIALS_KEY_ID"}
VENDOR_CALLERS = {ENTRYPOINT, LINKING, *(h for handlers in NETWORK.values() for h in handlers)}
VENDOR_CALLERS.discard("skill.handlers.sweep_scheduler.handler")  # reads an index, sends messages
#: What every function that runs adapters gets: the deployment's adapter settings (the stack
#: parameter AdapterSettings; see tests/infra/test_adapter_settings.py).
ADAPTER_ENV = {"ADAPTER_SETTINGS"}
for _handler in VENDOR_CALLERS:
    REQUIRED_ENV[_handler] = REQUIRED_ENV[_handler] | VAULT_ENV | ADAPTER_ENV
#: What a function needs on a resource whose name/URL/ARN its environment carries.
#: What a function may do, at least one of, with a resource its environment names.
USE_ACTION = {
    "AWS::SQS::Queue": ("sqs:SendMessage",),
    # DeleteItem: the linking pages only delete a user's LWA tokens
    "AWS::DynamoDB::Table": (
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:DeleteItem",
    ),
    "AWS::SecretsManager::Secret": ("secretsmanager:GetSecretValue",),
    "AWS::KMS::Key": ("kms:Decrypt",),
    "AWS::Cognito::UserPool": (
        "cognito-idp:AdminDeleteUser",
    ),  # the linking pages' account deletion
}
#: Resources a function's environment names without calling them: the Alexa app client's id is
#: compared with the access token's client_id claim (the pool's JWKS is public).
NAMED_ONLY = {"AWS::Cognito::UserPoolClient"}
CRYPTO = {
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
}
#: Actions with no resource-level permissions (Resource "*" is the only form).
RESOURCELESS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


CFN_LINT = "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())"


def style_params(styles: tuple[str, ...]) -> str:
    return "+".join(styles) or "none"


def composed(styles: tuple[str, ...]) -> Composition:
    return Composition.with_styles(*styles)


def env_resources(comp: Composition, fn: Function) -> dict[str, Res]:
    """The environment variables of ``fn`` that name a resource of the composition."""
    return {name: value for name, value in fn.environment.items() if isinstance(value, Res)}


# -- lint ------------------------------------------------------------------------------------------


def test_cfn_lint_finds_no_error_in_any_template():
    result = subprocess.run(
        [sys.executable, "-c", CFN_LINT, "--format", "parseable", *map(str, TEMPLATES)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    # exit status is a bit mask: 2 errors, 4 warnings, 8 informational
    assert result.returncode & ~(4 | 8) == 0, result.stdout + result.stderr
    if result.stdout.strip():
        print(result.stdout)  # warnings: shown, not fatal


# -- composition -----------------------------------------------------------------------------------


@pytest.mark.parametrize("styles", COMBINATIONS, ids=style_params)
def test_each_style_combination_composes_and_deploys_only_its_networks(styles):
    comp = composed(styles)  # raises on a missing parameter, output or resource
    handlers = sorted(f.handler for f in comp.functions())
    expected = {ENTRYPOINT, DISPATCHER, LINKING}.union(*(NETWORK[s] for s in styles))
    assert sorted(expected) == handlers  # one function per handler (the sweep once)
    apis = [res for res, _ in comp.resources("AWS::Serverless::HttpApi")]
    assert [a.logical_id for a in apis] == (["WebhookApi"] if "Async" in styles else []), (
        "the webhook exists exactly when the async style does"
    )
    poll_queues = [
        res for res, _ in comp.resources("AWS::SQS::Queue") if res.logical_id == "PollQueue"
    ]
    assert bool(poll_queues) == ("Polling" in styles or "Async" in styles)
    entrypoint = comp.function(ENTRYPOINT)
    queues = {n for n in entrypoint.environment if n.startswith("DIRECTIVES_QUEUE_")}
    assert queues == {f"DIRECTIVES_QUEUE_{s.upper()}_URL" for s in styles}
    for style in styles:
        queue = entrypoint.environment[f"DIRECTIVES_QUEUE_{style.upper()}_URL"]
        assert queue == Res(f"{style}Processor", "DirectivesQueue")
        consumer = comp.function(
            f"skill.handlers.processors.{'async_' if style == 'Async' else style.lower()}.handler"
        )
        assert consumer.res.stack == queue.stack


def test_only_sync_deploys_no_webhook_no_poller_no_sweep():
    comp = composed(("Sync",))
    kinds = {comp.type_of(res) for res, _ in comp.resources()}
    assert "AWS::Serverless::HttpApi" not in kinds
    assert not [res for res, _ in comp.resources() if res.logical_id == "WebhookApi"]
    assert {f.handler for f in comp.functions()} == {
        ENTRYPOINT,
        DISPATCHER,
        LINKING,
        "skill.handlers.processors.sync.handler",
    }


def test_the_async_style_deploys_the_poller_as_its_watchdog():
    """A push that never arrives is answered by the poller just before the deadline
    (``AsyncStrategy``): only if the async processor is given the poll queue and may send to it.
    Without polling vendors the polling brick deploys for its poller; no directive is routed to
    its processor."""
    comp = composed(("Async",))
    processor = comp.function("skill.handlers.processors.async_.handler")
    poller = comp.function("skill.handlers.poller.handler")
    queue = processor.environment["POLL_QUEUE_URL"]
    assert queue == Res("PollingProcessor", "PollQueue")
    assert poller.environment["POLL_QUEUE_URL"] == queue
    assert any(
        "sqs:SendMessage" in s.actions and any(str(r) == str(queue) for r in s.resources)
        for s in processor.statements()
    ), "the async processor may not send its watchdog tickets"
    entrypoint = comp.function(ENTRYPOINT)
    assert "DIRECTIVES_QUEUE_POLLING_URL" not in entrypoint.environment


def test_every_brick_is_composed_by_template_yaml():
    locations = {
        (ROOT / r["Properties"]["Location"]).resolve()
        for r in load(ROOT / "template.yaml")["Resources"].values()
        if r["Type"] == "AWS::Serverless::Application"
    }
    assert locations == {p.resolve() for p in INFRA}


def test_handlers_are_modules_of_the_skill_package():
    for fn in ALL.functions():
        module, _, function = fn.handler.rpartition(".")
        path = ROOT / "src" / Path(*module.split("."))
        source = (
            path.with_suffix(".py") if path.with_suffix(".py").exists() else path / "__init__.py"
        )
        assert source.exists(), f"{fn.res}: handler {fn.handler} has no module {path}"
        text = source.read_text()
        assert re.search(rf"^(def {function}\b|{function}\s*=)", text, re.MULTILINE), (
            f"{fn.handler} not defined"
        )


# -- SQS -------------------------------------------------------------------------------------------


def test_every_sqs_event_source_reports_batch_item_failures_and_caps_concurrency():
    sources = [(fn, event) for fn in ALL.functions() for event in fn.sqs_events()]
    assert len(sources) == 7  # four processors, the poller, the dispatcher, the sweep
    for fn, event in sources:
        assert event.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], fn.res
        concurrency = int(event["ScalingConfig"]["MaximumConcurrency"])
        assert 2 <= concurrency <= 1000, fn.res


def test_the_state_table_indexes_are_the_ones_the_stores_query():
    """``skill.aws.stores._state``: the owners of one user (per vendor by ``owner_sort`` prefix) and
    the accounts of one sweep slot, with every attribute the scheduler's messages carry."""
    from skill.aws.stores._state import OWNERS_BY_USER, SWEEP_SLOTS

    [table] = [
        ALL.props(res)
        for res, _ in ALL.resources("AWS::DynamoDB::Table")
        if res.logical_id == "StateTable"
    ]
    indexes = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {OWNERS_BY_USER, SWEEP_SLOTS}
    owners = indexes[OWNERS_BY_USER]
    assert {k["AttributeName"]: k["KeyType"] for k in owners["KeySchema"]} == {
        "owner_user": "HASH",
        "owner_sort": "RANGE",
    }
    assert owners["Projection"] == {"ProjectionType": "ALL"}  # the owner's body
    slots = indexes[SWEEP_SLOTS]
    assert {k["AttributeName"]: k["KeyType"] for k in slots["KeySchema"]} == {"slot": "HASH"}
    from skill.records import SweepAccount

    assert set(slots["Projection"]["NonKeyAttributes"]) == set(SweepAccount.model_fields)


def test_the_sweep_scheduler_may_only_query_slots_and_send_to_its_queue():
    scheduler = ALL.function("skill.handlers.sweep_scheduler.handler")
    actions = {a for s in scheduler.statements() for a in s.actions}
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "dynamodb:Query",
        "sqs:SendMessage",
    }
    [query] = [s for s in scheduler.statements() if s.actions == ["dynamodb:Query"]]
    assert [r.text for r in query.resources] == ["${StateTableArn}/index/SweepSlots"]


def test_the_sweep_may_write_owner_records_in_batches_but_not_scan_the_state_table():
    sweep = ALL.function("skill.handlers.sweep.handler")
    state = {
        a
        for s in sweep.statements()
        for a in s.actions
        if any(str(r).endswith("StateTable") for r in s.resources)  # not its indexes
    }
    # SweepWorker.read_account: DynamoStateStore.put_owners, reschedule_sweep_account,
    # pending_for, delete_owner, delete_sweep_account
    assert {"dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:Query"} <= state
    assert "dynamodb:DeleteItem" in state
    assert "dynamodb:Scan" not in state


def test_processors_concurrency_follows_the_parameter():
    comp = Composition.with_styles(*STYLES, ProcessorMaxConcurrency="7")
    for fn in comp.functions():
        if (
            fn.handler.startswith("skill.handlers.processors.")
            or fn.handler == "skill.handlers.poller.handler"
        ):
            assert [e["ScalingConfig"]["MaximumConcurrency"] for e in fn.sqs_events()] == ["7"]


def consumed_queues(comp: Composition) -> list[tuple[Function, dict[str, Any], Res]]:
    return [(fn, event, event["Queue"]) for fn in comp.functions() for event in fn.sqs_events()]


def test_every_consumed_queue_has_a_dead_letter_queue_and_tolerates_throttling():
    for fn, _, queue in consumed_queues(ALL):
        props = ALL.props(queue)
        redrive = props.get("RedrivePolicy")
        assert redrive, f"{queue} (consumed by {fn.handler}) has no DLQ"
        dlq = redrive["deadLetterTargetArn"]
        assert (
            isinstance(dlq, Res)
            and ALL.type_of(dlq) == "AWS::SQS::Queue"
            and dlq.stack == queue.stack
        )
        assert int(redrive["maxReceiveCount"]) >= 5, f"{queue}: throttling alone would dead-letter"
        dlq_props = ALL.props(dlq)
        assert dlq_props.get("FifoQueue", "false") == props.get("FifoQueue", "false"), (
            f"{dlq} fifo-ness"
        )
        assert int(dlq_props["MessageRetentionPeriod"]) > int(props["MessageRetentionPeriod"])
        assert "RedrivePolicy" not in dlq_props


def test_visibility_timeout_is_six_times_the_consumer_timeout_plus_batching_window():
    for fn, event, queue in consumed_queues(ALL):
        window = int(event.get("MaximumBatchingWindowInSeconds", 0))
        visibility = int(ALL.props(queue)["VisibilityTimeout"])
        assert visibility >= 6 * fn.timeout + window, f"{queue}: {visibility} s for {fn.handler}"


def test_directives_queues_are_fifo_and_dead_letter_to_fifo():
    for style in STYLES:
        queue = Res(f"{style}Processor", "DirectivesQueue")
        props = ALL.props(queue)
        assert props["FifoQueue"] == "true" and props["ContentBasedDeduplication"] == "true"
        assert ALL.props(Res(queue.stack, "DirectivesDLQ"))["FifoQueue"] == "true"
    assert ALL.props(Res("", "OutboxQueue")).get("FifoQueue", "false") == "false"
    assert ALL.props(Res("PollingProcessor", "PollQueue")).get("FifoQueue", "false") == "false"


def test_queues_and_tables_are_literal_and_named_by_cloudformation():
    for kind, name in (("AWS::SQS::Queue", "QueueName"), ("AWS::DynamoDB::Table", "TableName")):
        for res, raw in ALL.resources(kind):
            assert name not in raw["Properties"], f"{res} hard-codes its name"
    for res, raw in ALL.resources("AWS::SQS::Queue"):
        written = {"FifoQueue", "MessageRetentionPeriod"} | (
            set() if res.logical_id.endswith("DLQ") else {"VisibilityTimeout"}
        )
        assert written <= set(raw["Properties"]), (
            f"{res}: write out {sorted(written - set(raw['Properties']))}"
        )


def test_tables_have_the_keys_and_ttl_the_code_uses():
    expected = {
        "TokensTable": ({"user_id": "HASH"}, None),
        "StateTable": ({"pk": "HASH", "sk": "RANGE"}, "expires_at"),
        "IdempotencyTable": ({"id": "HASH"}, "expiration"),  # Powertools' defaults
        "CredentialsTable": ({"user_id": "HASH", "vendor": "RANGE"}, "expires_at"),
    }
    tables = {res.logical_id: ALL.props(res) for res, _ in ALL.resources("AWS::DynamoDB::Table")}
    assert set(tables) == set(expected)
    for name, (keys, ttl) in expected.items():
        props = tables[name]
        assert {k["AttributeName"]: k["KeyType"] for k in props["KeySchema"]} == keys
        index_keys = {
            k["AttributeName"]
            for i in props.get("GlobalSecondaryIndexes", [])
            for k in i["KeySchema"]
        }
        assert {
            d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]
        } == dict.fromkeys([*keys, *sorted(index_keys)], "S")
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        spec = props.get("TimeToLiveSpecification")
        if ttl is None:
            assert spec is None, name
        else:
            assert spec == {"AttributeName": ttl, "Enabled": "true"}, name


# -- IAM -------------------------------------------------------------------------------------------


def test_no_policy_grants_a_wildcard_action():
    for where, document in ALL.policy_documents():
        for statement in document["Statement"]:
            for action in (
                statement.get("Action", [])
                if isinstance(statement.get("Action"), list)
                else [statement.get("Action", "")]
            ):
                assert "*" not in str(action), f"{where}: wildcard action {action}"
            assert "NotAction" not in statement, where


def test_function_policies_name_resources_not_wildcards():
    for fn in ALL.functions():
        for statement in fn.statements():
            for resource in statement.resources:
                if resource == "*":
                    assert set(statement.actions) <= RESOURCELESS, (
                        f"{statement.origin}: Resource * for {statement.actions}"
                    )
                else:
                    assert isinstance(resource, Res | Sub), f"{statement.origin}: {resource!r}"


def test_one_role_per_function():
    roles = [fn.role for fn in ALL.functions()]
    assert len(set(roles)) == len(roles)
    for role in roles:
        assert ALL.type_of(role) == "AWS::IAM::Role"
        trust = ALL.props(role)["AssumeRolePolicyDocument"]["Statement"]
        assert trust == [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]
        assert "ManagedPolicyArns" not in ALL.props(role)


def test_each_function_environment_names_only_resources_its_policies_allow():
    for fn in ALL.functions():
        statements = fn.statements()
        for name, res in env_resources(ALL, fn).items():
            kind = ALL.type_of(res)
            if kind in NAMED_ONLY:
                continue
            assert kind in USE_ACTION, f"{fn.handler}: {name} names a {kind}"
            actions = USE_ACTION[kind]
            assert any(s.allows(a, res) for s in statements for a in actions), (
                f"{fn.handler}: {name} names {res} but its role may not {' or '.join(actions)} on "
                "it"
            )


def test_each_function_policy_names_only_resources_its_environment_or_events_use():
    for fn in ALL.functions():
        used = set(env_resources(ALL, fn).values()) | {e["Queue"] for e in fn.sqs_events()}
        used |= {fn.props["LoggingConfig"]["LogGroup"]}
        keys = {r for r in used if ALL.type_of(r) == "AWS::DynamoDB::Table"}
        for res in keys:
            sse = ALL.props(res).get("SSESpecification", {})
            if isinstance(sse.get("KMSMasterKeyId"), Res):
                used.add(sse["KMSMasterKeyId"])
        for statement in fn.statements():
            for resource in statement.resources:
                if isinstance(resource, Res):
                    assert resource in used, (
                        f"{statement.origin}: {resource} is not used by {fn.handler}"
                    )


def test_consumers_may_read_their_queues():
    for fn, _, queue in consumed_queues(ALL):
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            assert any(s.allows(action, queue) for s in fn.statements()), f"{fn.handler}: {action}"


def test_functions_get_the_environment_the_code_reads():
    for fn in ALL.functions():
        names = set(fn.environment)
        missing = (REQUIRED_ENV[fn.handler] | POWERTOOLS_ENV) - names
        assert not missing, f"{fn.handler} lacks {sorted(missing)}"


def known_variables() -> set[str]:
    """Every environment variable the package or an adapter reads (or config.py documents)."""
    names: set[str] = set()
    for path in [
        *(ROOT / "src" / "skill").rglob("*.py"),
        *(ROOT / "adapters").glob("*/src/**/*.py"),
    ]:
        text = path.read_text()
        names |= set(re.findall(r"""environ(?:\.get\(|\[)\s*f?["']([A-Z][A-Z0-9_{}]+)["']""", text))
        names |= set(re.findall(r"``([A-Z][A-Z0-9_<>]+)``", text))
        for call in re.findall(r"""(?:_env\(|validation_alias=)([^\n]*)""", text):  # Settings
            names |= set(re.findall(r"""["']([A-Z][A-Z0-9_]+)["']""", call))
    names = {n.replace("{style.upper()}", "<STYLE>") for n in names}
    styles = {n.replace("<STYLE>", s.upper()) for n in names if "<STYLE>" in n for s in STYLES}
    return names | styles


def test_environment_variables_are_ones_the_code_reads():
    known = known_variables() | POWERTOOLS_ENV | {"POWERTOOLS_TRACE_DISABLED"}
    for fn in ALL.functions():
        unknown = set(fn.environment) - known
        assert not unknown, f"{fn.handler}: {sorted(unknown)} are read by no code"


def test_secrets_reach_functions_as_names_never_as_values():
    for fn in ALL.functions():
        for name, value in fn.environment.items():
            assert "{{resolve:" not in str(value), f"{fn.handler}: {name} is a dynamic reference"
            if "SECRET" in name:
                assert (
                    isinstance(value, Res) and ALL.type_of(value) == "AWS::SecretsManager::Secret"
                ), name


def test_secrets_are_generated_not_written_in_the_template():
    for res, raw in ALL.resources("AWS::SecretsManager::Secret"):
        if "SecretString" in raw["Properties"]:
            # only a value CloudFormation knows and the template does not: an app client's id and
            # generated secret (Alexa's, the linking pages')
            client = {"AlexaClientSecret": "AlexaClient", "LinkingClientSecret": "LinkingClient"}[
                res.logical_id
            ]
            value = ALL.props(res)["SecretString"]
            assert isinstance(value, Sub) and set(value.refs) == {Res(res.stack, client)}, res
            assert f"${{{client}.ClientSecret}}" in value.text, res
        else:
            assert "GenerateSecretString" in raw["Properties"], res


# -- the Alexa trigger -----------------------------------------------------------------------------


def test_only_alexa_smart_home_may_invoke_the_entrypoint_and_only_for_the_skill():
    entrypoint = ALL.function(ENTRYPOINT)
    permissions = [ALL.props(res) for res, _ in ALL.resources("AWS::Lambda::Permission")]
    on_entrypoint = [p for p in permissions if p["FunctionName"] == entrypoint.res]
    assert on_entrypoint == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": entrypoint.res,
            "Principal": "alexa-connectedhome.amazon.com",
            "EventSourceToken": ALL.parameters["SkillId"],
        }
    ]
    for fn in ALL.functions():
        assert all(e["Type"] != "AlexaSkill" for e in fn.events.values()), fn.res
    assert not entrypoint.events, "the entrypoint has no other trigger"


def test_entrypoint_may_touch_only_owner_items_of_the_state_table():
    """Discover records bulb owners and schedules their accounts for the sweep; the entrypoint
    must not read or write pending commands or breaker state in that table."""
    entrypoint = ALL.function("skill.handlers.entrypoint.handler")
    pending = [
        s
        for s in entrypoint.statements()
        if any("dynamodb:" in a for a in s.actions)
        and any("StateTable" in str(r) for r in s.resources)
    ]
    assert pending, "the entrypoint has no access to the state table"
    for statement in pending:
        assert set(statement.actions) <= {
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
        }, statement  # PutItem: account schedules
        assert statement.condition == {
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["owner#*", "account#*"]}
        }, statement


def test_entrypoint_answers_within_alexas_eight_seconds():
    assert ALL.function(ENTRYPOINT).timeout < 8


def test_skill_id_parameter_accepts_only_skill_ids():
    pattern = load(ROOT / "template.yaml")["Parameters"]["SkillId"]["AllowedPattern"]
    assert re.match(pattern, ALL.parameters["SkillId"])
    assert not re.match(pattern, "amzn1.echo-sdk-ams.app.123")


# -- the tokens key --------------------------------------------------------------------------------


def tokens_key() -> tuple[Res, list[Statement]]:
    """The tokens table's KMS key and its key policy's statements."""
    table = ALL.props(Res("", "TokensTable"))
    key = table["SSESpecification"]["KMSMasterKeyId"]
    assert table["SSESpecification"]["SSEType"] == "KMS" and ALL.type_of(key) == "AWS::KMS::Key"
    return key, statements_of(ALL.props(key)["KeyPolicy"], str(key))


def test_tokens_table_is_encrypted_with_its_own_customer_managed_key():
    key, _ = tokens_key()
    props = ALL.props(key)
    assert props["EnableKeyRotation"] == "true"
    users = [
        res
        for res, _ in ALL.resources("AWS::DynamoDB::Table")
        if ALL.props(res).get("SSESpecification", {}).get("KMSMasterKeyId") == key
    ]
    assert users == [Res("", "TokensTable")]


def test_tokens_key_is_usable_only_by_the_entrypoint_and_the_dispatcher():
    """... and by the linking pages (account deletion deletes a user's tokens), which may only
    Decrypt through DynamoDB."""
    key, statements = tokens_key()
    entrypoint, dispatcher = ALL.function(ENTRYPOINT).role, ALL.function(DISPATCHER).role
    linking = ALL.function(LINKING).role
    for statement in statements:
        if not CRYPTO & set(statement.actions):
            continue
        via = statement.condition.get("StringEquals", {}).get("kms:ViaService")
        assert via == "dynamodb.<AWS::Region>.amazonaws.com" or (
            isinstance(via, Sub) and via.text == "dynamodb.${AWS::Region}.amazonaws.com"
        ), f"{statement.origin}: cryptographic use outside DynamoDB"
        if set(statement.principals) <= {entrypoint, dispatcher}:
            continue
        if statement.principals == [linking]:
            assert set(statement.actions) == {"kms:Decrypt", "kms:DescribeKey"}, statement.origin
            continue
        # the account (CloudFormation creating/updating the table) only through CloudFormation
        called_via = statement.condition.get("ForAnyValue:StringEquals", {}).get("aws:CalledVia")
        assert called_via == "cloudformation.amazonaws.com", (
            f"{statement.origin} lets {statement.principals} use the key"
        )
    users = {
        s.principals[0] if len(s.principals) == 1 else tuple(s.principals)
        for s in statements
        if CRYPTO & set(s.actions)
    }
    assert (entrypoint, dispatcher) in users and linking in users
    for fn in ALL.functions():
        grants_key = [s for s in fn.statements() if key in s.resources]
        assert bool(grants_key) == (fn.handler in (ENTRYPOINT, DISPATCHER, LINKING)), fn.handler
        if fn.handler == LINKING:
            assert {a for s in grants_key for a in s.actions} == {"kms:Decrypt", "kms:DescribeKey"}
    vendor = Composition.with_styles(
        *STYLES, AccountLinking="vendor", LinkingVendor="lifx", Adapters="lifx"
    )
    vendor_statements = statements_of(vendor.props(key)["KeyPolicy"], str(key))
    assert not [s for s in vendor_statements if any("Linking" in str(p) for p in s.principals)]
    assert not any(res.logical_id == "LinkingRole" for res, _ in vendor.resources())


def test_tokens_table_is_reachable_only_by_the_entrypoint_and_the_dispatcher():
    """... and by the linking pages, which may only delete a user's item."""
    table = Res("", "TokensTable")
    for fn in ALL.functions():
        on_table = [s for s in fn.statements() if table in s.resources]
        assert bool(on_table) == (fn.handler in (ENTRYPOINT, DISPATCHER, LINKING)), fn.handler
        if fn.handler == LINKING:
            assert {a for s in on_table for a in s.actions} == {"dynamodb:DeleteItem"}


# -- operations ------------------------------------------------------------------------------------


def alarms(comp: Composition) -> list[dict[str, Any]]:
    return [comp.props(res) for res, _ in comp.resources("AWS::CloudWatch::Alarm")]


@pytest.mark.parametrize("styles", [("Sync",), tuple(STYLES)], ids=style_params)
def test_every_dead_letter_queue_and_function_has_an_alarm(styles):
    comp = composed(styles)
    watched = {
        (a["Namespace"], a["MetricName"], d["Value"])
        for a in alarms(comp)
        for d in a.get("Dimensions", [])
    }
    dlqs = {
        ALL.props(q)["RedrivePolicy"]["deadLetterTargetArn"] for _, _, q in consumed_queues(comp)
    }
    for dlq in dlqs:
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", dlq) in watched, dlq
    for fn in comp.functions():
        assert ("AWS/Lambda", "Errors", fn.res) in watched, fn.handler
    topic = Res("", "AlarmTopic")
    for alarm in alarms(comp):
        assert alarm["AlarmActions"] == [topic] and alarm["TreatMissingData"] == "notBreaching"


def test_late_drops_alarm_watches_the_metrics_namespace():
    """Every dimension set LateDrops is published with (tests/unit/test_alarms_metrics.py says
    which function publishes which), in the stack's namespace and service, summed."""
    comp = Composition.with_styles("Sync", MetricsNamespace="Bulbs", ServiceName="bulbs")
    late = [
        a
        for a in alarms(comp)
        if any(
            m.get("MetricStat", {}).get("Metric", {}).get("MetricName") == "LateDrops"
            for m in a.get("Metrics", [])
        )
    ]
    assert len(late) == 1
    metrics = [m["MetricStat"]["Metric"] for m in late[0]["Metrics"] if "MetricStat" in m]
    assert {m["Namespace"] for m in metrics} == {"Bulbs"}
    dimensions = [{d["Name"]: d["Value"] for d in m["Dimensions"]} for m in metrics]
    assert {"service": "bulbs"} in dimensions
    for style in ("sync", "async", "optimistic", "polling"):
        assert {"service": "bulbs", "style": style} in dimensions
    [total] = [m for m in late[0]["Metrics"] if m.get("ReturnData", "true") == "true"]
    assert total["Expression"] == "SUM(METRICS())"
    for fn in comp.functions():
        assert fn.environment["POWERTOOLS_METRICS_NAMESPACE"] == "Bulbs"
        assert fn.environment["POWERTOOLS_SERVICE_NAME"] == "bulbs"


def test_every_function_logs_to_its_own_log_group_with_retention():
    comp = Composition.with_styles(*STYLES, LogRetentionInDays="14")
    groups = []
    for fn in comp.functions():
        group = fn.props["LoggingConfig"]["LogGroup"]
        assert comp.type_of(group) == "AWS::Logs::LogGroup"
        assert comp.props(group)["RetentionInDays"] == "14"
        assert any(s.allows("logs:PutLogEvents", group) for s in fn.statements()), fn.handler
        groups.append(group)
    assert len(set(groups)) == len(groups)


@pytest.mark.parametrize("tracing", ["true", "false"])
def test_tracing_follows_its_parameter(tracing):
    comp = Composition.with_styles(*STYLES, EnableTracing=tracing)
    for fn in comp.functions():
        assert fn.props["Tracing"] == ("Active" if tracing == "true" else "PassThrough")
        assert fn.environment["POWERTOOLS_TRACE_DISABLED"] == (
            "false" if tracing == "true" else "true"
        )
        xray = [s for s in fn.statements() if "xray:PutTraceSegments" in s.actions]
        assert bool(xray) == (tracing == "true"), fn.handler


def test_functions_run_python313_with_the_bundle_build():
    for res, raw in ALL.resources("AWS::Serverless::Function"):
        props = ALL.props(res)
        assert props["Runtime"] == "python3.13" and props["Architectures"] == ["arm64"]
        assert raw["Metadata"] == {"BuildMethod": "makefile"}
        assert props["CodeUri"] == "lambda/"


def test_infra_readme_describes_every_brick():
    readme = (ROOT / "infra" / "README.md").read_text()
    for template in INFRA:
        assert f"`{template.name}`" in readme, template.name
