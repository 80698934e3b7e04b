"""``env.json`` for ``sam local invoke --env-vars``, as ``skill serve`` writes it for its local
stack.

- Every function of the stack has an entry under its full path (how SAM CLI tells the bricks'
  several ``ProcessorFunction`` apart), with every variable its template declares (Globals
  included): SAM passes a function only declared variables, so these are all it can get.
- What a function would see under ``sam local invoke`` is computed by SAM CLI's own code (its
  function provider and environment resolution, no Docker) from ``.tools/sam``.
- Every value resolves against the running stack: URLs answer, tables, queues, secrets, the KMS
  key, the user pool and its clients exist in moto.
- Run with exactly that environment in a fresh interpreter, the entrypoint answers Discover with
  the demo user's bulbs and the sync processor sends its answer to the outbox.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cfnlint.decode import cfn_yaml

from bulb_workbench.local.stack import LocalStack, write_sam_local_env
from tests.infra._composition import ROOT
from tests.infra._tools import require_sam

#: SAM CLI's view: per function (full path), the declared variables and the environment the
#: container would get with --env-vars (AWS credentials left out of what is printed).
SAM_VIEW = r"""
import json, sys
from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
template, env_file, overrides = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
stacks, _ = SamLocalStackProvider.get_stacks(
    template, parameter_overrides=overrides,
    global_parameter_overrides={"AWS::Region": "us-east-1"})
provider = SamFunctionProvider(stacks, ignore_code_extraction_warnings=True)
with open(env_file) as f:
    values = json.load(f)
runner = LocalLambdaRunner(local_runtime=None, function_provider=provider, cwd=".", real_path=".",
                           aws_region="us-east-1", env_vars_values=values)
hidden = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
seen = {}
for function in provider.get_all():
    declared = sorted(((function.environment or {}).get("Variables") or {}))
    resolved = runner._make_env_vars(function).resolve()
    seen[function.full_path] = {"handler": function.handler, "declared": declared,
                                "resolved": {k: v for k, v in resolved.items() if k not in hidden}}
print("CAPTURED " + json.dumps(seen))
"""


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(latency=0.01, transition=0.2, pollers=False) as running:
        running.link_demo_user()
        yield running


@pytest.fixture(scope="module")
def env_json(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sam_local_env(stack, tmp_path_factory.mktemp("sam-local") / "env.json")


def declared_by_template(stack: LocalStack) -> dict[str, set[str]]:
    """Each function's declared variables, read from the templates here (Globals included)."""
    found: dict[str, set[str]] = {}
    for key, function in stack.model.functions.items():
        path = (
            stack.model.stacks[function.stack].location if function.stack else stack.model.template
        )
        template = cfn_yaml.load(str(path))
        names = set(
            (template.get("Globals", {}).get("Function", {}).get("Environment", {}) or {}).get(
                "Variables", {}
            )
        )
        props = template["Resources"][function.logical_id]["Properties"]
        names |= set(props.get("Environment", {}).get("Variables", {}))
        found[key] = names
    return found


def sam_view(stack: LocalStack, env_json: Path) -> dict[str, Any]:
    result = subprocess.run(
        [
            str(require_sam()),
            "-c",
            SAM_VIEW,
            str(stack.template),
            str(env_json),
            json.dumps(stack.parameters),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "SAM_CLI_TELEMETRY": "0",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        },
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("CAPTURED "))
    return json.loads(line.removeprefix("CAPTURED "))


def test_every_function_has_every_variable_its_template_declares(stack, env_json):
    written = json.loads(env_json.read_text())
    declared = declared_by_template(stack)
    assert set(written) == set(declared) == set(stack.model.functions)
    for key, names in declared.items():
        missing = names - set(written[key])
        assert not missing, f"{key}: {sorted(missing)}"
        blank = {n for n, v in written[key].items() if not v}
        assert blank <= {"LINKING_VENDOR"}, (key, blank)  # vendor linking mode only
    for key in ("AWS_ENDPOINT_URL", "SIMULATOR_URL"):  # declared for sam local invoke only
        assert all(key in written[k] for k in written if "Dispatcher" not in k), key
    assert written["Dispatcher/DispatcherFunction"]["GATEWAY_URL"] == stack.gateway.events_url


def test_every_variable_the_code_needs_is_written(stack, env_json):
    from tests.infra.test_templates import POWERTOOLS_ENV, REQUIRED_ENV

    written = json.loads(env_json.read_text())
    for key, function in stack.model.functions.items():
        needed = REQUIRED_ENV[function.handler] | POWERTOOLS_ENV | {"AWS_ENDPOINT_URL"}
        assert needed <= set(written[key]), f"{key}: {sorted(needed - set(written[key]))}"


def test_sam_cli_gives_each_function_these_values_and_nothing_blank(stack, env_json):
    view = sam_view(stack, env_json)
    written = json.loads(env_json.read_text())
    assert set(view) == set(written)
    for path, function in view.items():
        for name in function["declared"]:
            assert function["resolved"][name] == written[path][name], (path, name)
        assert function["resolved"]["AWS_ENDPOINT_URL"] == stack.env["AWS_ENDPOINT_URL"], path


def resolves(stack: LocalStack, name: str, value: str) -> None:
    """The value names something the running stack has, or is a usable setting."""
    if name.endswith("_TABLE"):
        stack.client("dynamodb").describe_table(TableName=value)
    elif name.endswith(("QUEUE_URL", "DLQ_URL")):
        stack.client("sqs").get_queue_attributes(QueueUrl=value, AttributeNames=["QueueArn"])
    elif name.endswith("SECRET_NAME") or name == "VENDOR_SECRETS_NAME":
        stack.client("secretsmanager").describe_secret(SecretId=value)
    elif name == "CREDENTIALS_KEY_ID":
        stack.client("kms").describe_key(KeyId=value)
    elif name == "USER_POOL_ID":
        stack.client("cognito-idp").describe_user_pool(UserPoolId=value)
    elif name == "COGNITO_ISSUER":  # an identifier (the tokens' iss), not fetched: its pool exists
        stack.client("cognito-idp").describe_user_pool(UserPoolId=value.rsplit("/", 1)[1])
    elif name == "COGNITO_CLIENT_ID":
        stack.client("cognito-idp").describe_user_pool_client(
            UserPoolId=stack.user_pool.pool_id, ClientId=value
        )
    elif value.startswith("http"):
        requests.get(value, timeout=5)  # any answer: something listens there
    elif name == "ADAPTER_SETTINGS":
        assert isinstance(json.loads(value), dict)
    elif name == "ADAPTERS":
        from skill.plugins import AdapterRegistry

        AdapterRegistry.from_environment({"ADAPTERS": value})
    elif name in ("DEADLINE_SECONDS", "CREDENTIAL_GRACE_DAYS", "SWEEP_QUOTA_SHARE"):
        float(value)
    elif name == "SWEEP_CONCURRENCY":
        assert int(value) >= 1
    elif name == "ACCOUNT_LINKING":
        assert value in ("cognito", "vendor")
    elif name == "LINKING_VENDOR":
        assert value == stack.linking_vendor
    elif name == "ALEXA_REGION":
        assert value in ("NA", "EU", "FE")
    else:
        assert name.startswith("POWERTOOLS_"), f"no check for {name}"


def test_every_value_resolves_against_the_running_stack(stack, env_json):
    written = json.loads(env_json.read_text())
    checked = set()
    for key, values in written.items():
        for name, value in values.items():
            try:
                resolves(stack, name, value)
            except Exception as error:
                pytest.fail(f"{key}: {name}={value!r} does not resolve: {error}")
            checked.add(name)
    assert {
        "AWS_ENDPOINT_URL",
        "LWA_TOKEN_URL",
        "GATEWAY_URL",
        "SIMULATOR_URL",
        "COGNITO_JWKS_URL",
        "LINKING_CLIENT_SECRET_NAME",
        "SESSION_SECRET_NAME",
        "CREDENTIALS_KEY_ID",
    } <= checked


HANDLER_RUN = r"""
import json, sys
from importlib import import_module
module, name = sys.argv[1].rsplit(".", 1)
event = json.load(open(sys.argv[2]))
class Context:
    function_name = "local"; memory_limit_in_mb = 256; aws_request_id = "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:local"
    def get_remaining_time_in_millis(self): return 30_000
result = getattr(import_module(module), name)(event, Context())
print("RESULT " + json.dumps(result))
"""


def run_as_sam_would(stack: LocalStack, env_json: Path, function: str, event: Path) -> Any:
    """The function's handler in a fresh interpreter with only the environment SAM would give
    it (SAM CLI's resolution when present, else the env.json entry and the AWS variables SAM
    adds)."""
    view = sam_view(stack, env_json)
    if view is not None:
        environment = dict(view[function]["resolved"])
    else:
        environment = {
            **json.loads(env_json.read_text())[function],
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    environment.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT / "src"),
            "NO_PROXY": "127.0.0.1",
        }
    )
    handler = stack.model.functions[function].handler
    result = subprocess.run(
        [sys.executable, "-c", HANDLER_RUN, handler, str(event)],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def test_the_entrypoint_run_with_that_environment_discovers_the_demo_users_bulbs(stack, env_json):
    answer = run_as_sam_would(
        stack,
        env_json,
        "Entrypoint/EntrypointFunction",
        env_json.parent / "events" / "Discover.json",
    )
    assert answer["event"]["header"]["name"] == "Discover.Response", answer
    assert {e["endpointId"].split(":")[0] for e in answer["event"]["payload"]["endpoints"]} >= {
        "sim-sync"
    }


def test_the_sync_processor_run_with_that_environment_answers_to_the_outbox(stack, env_json):
    outbox = stack.queue_url("OUTBOX_QUEUE_URL")
    sqs = stack.client("sqs")
    sqs.purge_queue(QueueUrl=outbox)
    answer = run_as_sam_would(
        stack,
        env_json,
        "SyncProcessor/ProcessorFunction",
        env_json.parent / "events" / "processor-sync.sqs.json",
    )
    assert answer == {"batchItemFailures": []}
    messages = sqs.receive_message(QueueUrl=outbox, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", []
    )
    bodies = [json.loads(m["Body"]) for m in messages]
    assert [b["user_id"] for b in bodies] == [stack.demo_user_id]
    assert bodies[0]["message"]["event"]["header"]["name"] == "Response"


def test_the_events_carry_the_demo_users_token_and_id(stack, env_json):
    events = env_json.parent / "events"
    assert sorted(p.name for p in events.glob("*.json")) == sorted(
        p.name for p in (ROOT / "events").glob("*.json")
    )
    for path in events.glob("*.json"):
        text = path.read_text()
        assert (
            "demo-token" not in text and '"demo-user' not in text and '\\"demo-user' not in text
        ), path.name
    body = json.loads(
        json.loads((events / "processor-sync.sqs.json").read_text())["Records"][0]["body"]
    )
    assert body["user_id"] == stack.demo_user_id
