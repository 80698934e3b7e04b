"""Every AWS call of each handler's main path is one its function's IAM policy allows.

Each handler's first invocation (the cold-start bench's scenario,
``bulb_workbench.bench._scenarios.first_invocation``) runs for real in a fresh interpreter against
the bench's stub cloud over loopback, with the environment its function is deployed with (pointed
at the stubs). Every request it makes is recorded (tests/infra/_aws_calls.py) and checked against
the composed templates: the IAM action, on the resource the call named (a table, one of its
indexes, a queue, a key, a secret: known by the variable of the function's environment that
carried its name), with the statements' conditions evaluated, and the KMS key's own policy. A
permission a code change needs and the template lacks fails here, not as AccessDenied after a
deploy. One scenario per handler, with every style deployed: the rarer paths (Discover's owner
batches, AcceptGrant, a credential refresh, a bulb removed from an account, the dispatcher's dead
letters) and the linking pages are not run here.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from bulb_workbench.bench import cold_start
from bulb_workbench.bench._scenarios import first_invocation, jwks, quick_simulator_sockets
from bulb_workbench.local.simulator import VendorSimulator
from tests.infra._aws_calls import (
    Call,
    Grants,
    RecordingCloud,
    Request,
    aws_calls,
    grants_of,
)
from tests.infra._composition import Function, Res, Sub, statements_of
from tests.infra.test_templates import ALL, env_resources

#: The handler modules the bench has a first invocation for.
MODULES = cold_start.MODULES
#: Deployed handlers with no scenario to run, and why.
NOT_EXERCISED = {"skill.handlers.linking_pages": "the bench has no linking-pages scenario"}
#: Variables that carry a resource's name in some function's template environment.
RESOURCE_VARIABLES = {name for fn in ALL.functions() for name in env_resources(ALL, fn)}


def deployed_environment(fn: Function, bench: dict[str, str]) -> dict[str, str]:
    """The bench's environment as ``fn`` gets it: of the variables naming a resource, only those
    its template gives it, so that a handler takes the paths it takes deployed (a variable its
    function lacks switches a path off: without POLL_QUEUE_URL the async processor sets no
    watchdog)."""
    missing = set(env_resources(ALL, fn)) - set(bench)
    assert not missing, f"{fn.handler}: the bench's environment lacks {sorted(missing)}"
    return {k: v for k, v in bench.items() if k not in RESOURCE_VARIABLES or k in fn.environment}


@dataclass
class Run:
    module: str
    scenario: str
    result: dict[str, Any]
    requests: list[Request]
    grants: Grants

    @property
    def calls(self) -> list[Call]:
        return aws_calls(self.requests)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    quick_simulator_sockets()
    # this interpreter and its packages stand in for the Lambda tree (no python3.13 build needed:
    # which calls a handler makes does not depend on the interpreter), as test_bench_floor.py does
    tree = Path(os.pathsep.join(p for p in sys.path if p))
    work = tmp_path_factory.mktemp("policies-cover-calls")
    found = {}
    with (
        RecordingCloud(secrets=cold_start._secrets(), jwks=jwks()) as cloud,
        VendorSimulator(latency=0, transition=0.05, webhook_url=f"{cloud.url}/webhook") as sim,
    ):
        bench = cold_start.environment(cloud, sim.url)
        for module in MODULES:
            fn = ALL.function(f"{module}.handler")
            environment = deployed_environment(fn, bench)
            cloud.reset()
            sim.reset()
            event, scenario = first_invocation(module, cloud, sim)  # seeds in-process
            cloud.take_requests()  # a previous scenario's late simulator push
            # the deployed Timeout: the sweep's worker reads the time left
            spec = {"module": module, "event": event, "timeout_s": fn.timeout}
            result = cold_start._run_child(sys.executable, tree, "pyc", environment, spec, work)
            found[module] = Run(
                module, scenario, result, cloud.take_requests(), grants_of(ALL, fn, environment)
            )
    return found


def test_every_deployed_handler_is_exercised():
    deployed = {fn.handler.rpartition(".")[0] for fn in ALL.functions()}
    assert deployed == set(MODULES) | set(NOT_EXERCISED)


@pytest.mark.parametrize("module", MODULES)
def test_each_handler_calls_only_what_its_function_policy_allows(module: str, runs):
    run = runs[module]
    assert "error" not in run.result, f"{module} failed:\n{run.result['error']}"
    assert cold_start._ok(module, run.result["answer"]), (
        f"{module} did not do what its scenario ({run.scenario}) expects: {run.result['answer']}"
    )
    calls = run.calls  # raises on a request that is neither AWS nor named as not IAM-governed
    assert calls, f"{module} made no AWS call: nothing was checked"
    refused = run.grants.refusals(calls)
    assert not refused, "AccessDenied once deployed:\n" + "\n".join(refused)


def test_a_sweep_policy_without_batch_write_item_fails_the_check(runs):
    run = runs["skill.handlers.sweep"]
    assert not run.grants.refusals(run.calls)
    stripped = [
        replace(s, actions=[a for a in s.actions if a != "dynamodb:BatchWriteItem"])
        for s in run.grants.statements
    ]
    refused = replace(run.grants, statements=stripped).refusals(run.calls)
    assert len(refused) == 1, refused
    assert "dynamodb:BatchWriteItem on StateTable: no statement" in refused[0]


# -- the matching, on hand-built policies ---------------------------------------------------------

TABLE = Res("", "StateTable")
QUEUE = Res("", "OutboxQueue")
KEY = Res("", "CredentialsKey")
ROLE = Res("", "SweepRole")
OWNERS_INDEX = Sub("${StateTableArn}/index/OwnersByUser", (TABLE,))


def hand_built(*statements: dict[str, Any], key_principal: Res = ROLE) -> Grants:
    key_policy = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": [key_principal]},
            "Action": ["kms:Encrypt", "kms:Decrypt"],
            "Resource": "*",
        }
    ]
    return Grants(
        "hand-built",
        statements_of({"Statement": list(statements)}, "hand-built"),
        names={"state": TABLE, "outbox": QUEUE, "key": KEY},
        partition_keys={(TABLE, None): "pk", (TABLE, "OwnersByUser"): "owner_user"},
        key_policies={KEY: statements_of({"Statement": key_policy}, "key policy")},
        role=ROLE,
    )


def allow(actions: list[str], resource: Any, condition: dict[str, Any] | None = None):
    return {
        "Effect": "Allow",
        "Action": actions,
        "Resource": resource,
        "Condition": condition or {},
    }


OWNER_WRITE = Call("dynamodb.BatchWriteItem", "state", keys=[{"pk": "owner#sim-polling#a"}] * 3)
VAULT_CONDITION = {
    "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["user_id", "vendor"]},
    "Null": {"kms:EncryptionContext:user_id": "false", "kms:EncryptionContext:vendor": "false"},
}
VAULT_CONTEXT = {
    "kms:EncryptionContextKeys": ["user_id", "vendor"],
    "kms:EncryptionContext:user_id": ["u"],
    "kms:EncryptionContext:vendor": ["v"],
}

CASES = {
    "batch write allowed": (
        [allow(["dynamodb:PutItem", "dynamodb:BatchWriteItem"], TABLE)],
        OWNER_WRITE,
        None,
    ),
    "batch write needs its own action": (
        [allow(["dynamodb:PutItem", "dynamodb:UpdateItem"], TABLE)],
        OWNER_WRITE,
        "dynamodb:BatchWriteItem on StateTable: no statement",
    ),
    "SendMessageBatch is sqs:SendMessage": (
        [allow(["sqs:SendMessage"], QUEUE)],
        Call("sqs.SendMessageBatch", "outbox"),
        None,
    ),
    "sqs:SendMessageBatch is no action": (
        [allow(["sqs:SendMessageBatch"], QUEUE)],
        Call("sqs.SendMessageBatch", "outbox"),
        "sqs:SendMessage on OutboxQueue: no statement",
    ),
    "an index query needs the index": (
        [allow(["dynamodb:Query"], TABLE)],
        Call("dynamodb.Query", "state", index="OwnersByUser", keys=[{"owner_user": "u"}]),
        "dynamodb:Query on StateTable/index/OwnersByUser: no statement",
    ),
    "the index allows an index query": (
        [allow(["dynamodb:Query"], OWNERS_INDEX)],
        Call("dynamodb.Query", "state", index="OwnersByUser", keys=[{"owner_user": "u"}]),
        None,
    ),
    "the index does not allow a table query": (
        [allow(["dynamodb:Query"], OWNERS_INDEX)],
        Call("dynamodb.Query", "state", keys=[{"pk": "pending#e"}]),
        "dynamodb:Query on StateTable: no statement",
    ),
    "leading keys admit owners": (
        [
            allow(
                ["dynamodb:PutItem"],
                TABLE,
                {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["owner#*"]}},
            )
        ],
        Call("dynamodb.PutItem", "state", keys=[{"pk": "owner#x", "sk": "y"}]),
        None,
    ),
    "leading keys refuse pending commands": (
        [
            allow(
                ["dynamodb:PutItem"],
                TABLE,
                {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["owner#*"]}},
            )
        ],
        Call("dynamodb.PutItem", "state", keys=[{"pk": "pending#x", "sk": "y"}]),
        "dynamodb:PutItem on StateTable: no statement",
    ),
    "the vault's key with user and vendor context": (
        [allow(["kms:Decrypt"], KEY, VAULT_CONDITION)],
        Call("kms.Decrypt", "key", context=VAULT_CONTEXT),
        None,
    ),
    "the vault's key without the vendor": (
        [allow(["kms:Decrypt"], KEY, VAULT_CONDITION)],
        Call(
            "kms.Decrypt",
            "key",
            context={
                "kms:EncryptionContextKeys": ["user_id"],
                "kms:EncryptionContext:user_id": ["u"],
            },
        ),
        "kms:Decrypt on CredentialsKey: no statement",
    ),
    "a deny wins": (
        [
            allow(["sqs:SendMessage"], QUEUE),
            {"Effect": "Deny", "Action": ["sqs:SendMessage"], "Resource": "*"},
        ],
        Call("sqs.SendMessage", "outbox"),
        "sqs:SendMessage on OutboxQueue: no statement",
    ),
    "an unknown condition never holds": (
        [allow(["sqs:SendMessage"], QUEUE, {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}})],
        Call("sqs.SendMessage", "outbox"),
        "condition DateGreaterThan is not evaluated",
    ),
    "a resource the environment does not name": (
        [allow(["sqs:SendMessage"], "*")],
        Call("sqs.SendMessage", "elsewhere"),
        "'elsewhere', which no variable",
    ),
}


@pytest.mark.parametrize(("statements", "call", "refusal"), CASES.values(), ids=CASES)
def test_the_matching_of_calls_to_statements(statements, call, refusal):
    refused = hand_built(*statements).refusals([call])
    if refusal is None:
        assert refused == []
    else:
        assert len(refused) == 1 and refusal in refused[0], refused


def test_a_key_policy_must_admit_the_role():
    call = Call("kms.Decrypt", "key", context=VAULT_CONTEXT)
    grants = hand_built(allow(["kms:Decrypt"], KEY, VAULT_CONDITION), key_principal=Res("", "X"))
    [refused] = grants.refusals([call])
    assert "the key's policy does not admit SweepRole" in refused


def test_requests_are_read_as_iam_calls_or_refused_unless_named():
    body = (
        b'{"RequestItems": {"bulb-skill-state": [{"PutRequest": {"Item": {"pk": {"S": "owner#a"},'
        b' "sk": {"S": "b"}, "n": {"N": "1"}}}}, {"DeleteRequest": {"Key": {"pk": {"S": "owner#c"},'
        b' "sk": {"S": "d"}}}}]}}'
    )
    query = (
        b'{"TableName": "bulb-skill-state", "IndexName": "OwnersByUser", "KeyConditionExpression":'
        b' "#u = :u AND begins_with(owner_sort, :s)", "ExpressionAttributeNames": {"#u":'
        b' "owner_user"}, "ExpressionAttributeValues": {":u": {"S": "me"}, ":s": {"S": "sim"}}}'
    )
    [write, read, jwks_fetch] = [
        Request("POST", "/", "DynamoDB_20120810.BatchWriteItem", body),
        Request("POST", "/", "DynamoDB_20120810.Query", query),
        Request("GET", "/jwks", None, b""),
    ]
    [batch, index] = aws_calls([write, read, jwks_fetch])
    assert (batch.action, batch.name) == ("dynamodb:BatchWriteItem", "bulb-skill-state")
    assert [k["pk"] for k in batch.keys] == ["owner#a", "owner#c"]
    assert (index.action, index.index, index.keys) == (
        "dynamodb:Query",
        "OwnersByUser",
        [{"owner_user": "me"}],
    )
    with pytest.raises(AssertionError, match="NOT_IAM_GOVERNED"):
        aws_calls([Request("POST", "/somewhere", None, b"")])
    with pytest.raises(AssertionError, match="does not know"):
        aws_calls([Request("POST", "/", "AWSCognitoIdentityProviderService.AdminGetUser", b"{}")])
