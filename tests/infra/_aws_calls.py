"""What a handler asked of AWS, and whether its function's IAM policy lets it.

``RecordingCloud`` is the bench's ``StubCloud`` (``bulb_workbench.bench._stubs``) that also keeps
every request it is sent, body included; ``aws_calls`` turns those requests into ``Call``s (one per
IAM authorisation: a BatchWriteItem over two tables is two); ``Grants.refusals`` says which calls
the function's policy does not allow, evaluated as IAM would: an Allow statement whose action,
resource (a table's index is a resource of its own) and conditions all match, and no Deny.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from bulb_workbench.bench._stubs import StubCloud
from tests.infra._composition import Composition, Function, Res, Statement, Sub, statements_of

#: Requests that reach the stub cloud but are no AWS API call, so no IAM action governs them. A
#: request to any other path fails the check until it is named here. (Never seen at all, and not
#: IAM's either: the Lambda runtime API (the bench passes a context object), CloudWatch Logs and
#: metrics (stdout, shipped by the runtime under logs:PutLogEvents, which
#: test_templates.py checks), and the vendors (the simulator, a server of its own).)
NOT_IAM_GOVERNED = {
    "/jwks": "the user pool's public signing keys (Cognito JWKS, unauthenticated)",
    "/auth/o2/token": "Login with Amazon's token endpoint (authorised by the client secret)",
    "/v3/events": "the Alexa event gateway (authorised by an LWA bearer token)",
    "/webhook": "the vendor simulator's pushes (made by the simulator, not the handler)",
}

#: X-Amz-Target prefix -> IAM service prefix.
SERVICES = {
    "DynamoDB_20120810": "dynamodb",
    "AmazonSQS": "sqs",
    "TrentService": "kms",
    "secretsmanager": "secretsmanager",
}

#: SDK operations whose IAM action is another's: SQS authorises each batch API with its
#: single-message action (DynamoDB's BatchGetItem/BatchWriteItem are actions of their own).
ACTION_OF = {
    "sqs.SendMessageBatch": "sqs:SendMessage",
    "sqs.DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs.ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}

#: The request parameter that names the resource, by service.
RESOURCE_PARAMETER = {
    "dynamodb": "TableName",
    "sqs": "QueueUrl",
    "kms": "KeyId",
    "secretsmanager": "SecretId",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    target: str | None  # X-Amz-Target: "DynamoDB_20120810.Query"
    body: bytes


class RecordingCloud(StubCloud):
    """The bench's stub cloud, keeping every request it is sent (``take_requests``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._requests: list[Request] = []
        self._requests_lock = threading.Lock()

    def __enter__(self) -> Self:
        super().__enter__()
        assert self._server is not None
        cloud, served = self, self._server.RequestHandlerClass

        class Recorded(served):  # type: ignore[misc, valid-type]
            # POSTs are kept by ``answer``; the stub serves GET outside it (the JWKS)
            def do_GET(self) -> None:
                cloud._keep(Request("GET", self.path, None, b""))
                super().do_GET()

        self._server.RequestHandlerClass = Recorded
        return self

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any, str]:
        target = {k.lower(): v for k, v in headers.items()}.get("x-amz-target")
        self._keep(Request("POST", path, target, body))
        return super().answer(path, headers, body)

    def _keep(self, request: Request) -> None:
        with self._requests_lock:
            self._requests.append(request)

    def take_requests(self) -> list[Request]:
        with self._requests_lock:
            taken, self._requests = self._requests, []
        return taken


@dataclass
class Call:
    """One AWS authorisation a request needs."""

    operation: str  # as the SDK names it: "dynamodb.Query"
    name: str  # the table name, queue URL, key id or secret id the code passed
    index: str | None = None  # a DynamoDB index queried
    #: DynamoDB: the string key attributes of each item addressed (a Query: its equality terms)
    keys: list[dict[str, str]] = field(default_factory=list)
    #: request condition keys the call sets itself (KMS: the encryption context)
    context: dict[str, list[str]] = field(default_factory=dict)

    @property
    def action(self) -> str:
        service, _, operation = self.operation.partition(".")
        return ACTION_OF.get(self.operation, f"{service}:{operation}")

    def __str__(self) -> str:
        index = f"[{self.index}]" if self.index else ""
        return f"{self.operation}{index} {self.name}"


def aws_calls(requests: Iterable[Request]) -> list[Call]:
    """The IAM-governed calls among ``requests``; anything neither AWS nor named in
    ``NOT_IAM_GOVERNED`` raises (a new kind of outbound request must be classified)."""
    calls: list[Call] = []
    for request in requests:
        if request.target is None:
            path = request.path.split("?")[0]
            if path not in NOT_IAM_GOVERNED:
                raise AssertionError(
                    f"{request.method} {request.path}: neither an AWS API call nor a request "
                    "named in NOT_IAM_GOVERNED"
                )
            continue
        prefix, _, operation = request.target.partition(".")
        if prefix not in SERVICES:
            raise AssertionError(f"{request.target}: an AWS service this check does not know")
        calls.extend(_calls_of(SERVICES[prefix], operation, json.loads(request.body or b"{}")))
    return calls


def _string(value: dict[str, Any]) -> str | None:
    ((kind, raw),) = value.items()
    return str(raw) if kind in ("S", "N") else None


def _key_strings(item: dict[str, Any]) -> dict[str, str]:
    return {k: s for k, v in item.items() if (s := _string(v)) is not None}


def _equality_terms(body: dict[str, Any]) -> dict[str, str]:
    """``name = :value`` terms of a Query's KeyConditionExpression (names and values resolved)."""
    names = body.get("ExpressionAttributeNames") or {}
    values = body.get("ExpressionAttributeValues") or {}
    terms = {}
    for clause in re.split(
        r"\s+AND\s+", body.get("KeyConditionExpression", ""), flags=re.IGNORECASE
    ):
        if m := re.fullmatch(r"\s*([#\w]+)\s*=\s*(:\w+)\s*", clause):
            value = _string(values[m.group(2)])
            if value is not None:
                terms[names.get(m.group(1), m.group(1))] = value
    return terms


def _calls_of(service: str, operation: str, body: dict[str, Any]) -> list[Call]:
    op = f"{service}.{operation}"
    if op == "dynamodb.BatchWriteItem":
        return [
            Call(
                op,
                table,
                keys=[
                    _key_strings(
                        w["PutRequest"]["Item"] if "PutRequest" in w else w["DeleteRequest"]["Key"]
                    )
                    for w in writes
                ],
            )
            for table, writes in body["RequestItems"].items()
        ]
    if op == "dynamodb.BatchGetItem":
        return [
            Call(op, table, keys=[_key_strings(k) for k in wanted["Keys"]])
            for table, wanted in body["RequestItems"].items()
        ]
    parameter = RESOURCE_PARAMETER[service]
    if parameter not in body:
        raise AssertionError(f"{op}: no {parameter}, so no resource to authorise it on")
    call = Call(op, body[parameter])
    if service == "dynamodb":
        call.index = body.get("IndexName")
        item = body.get("Key") or body.get("Item")
        if item:
            call.keys = [_key_strings(item)]
        elif "KeyConditionExpression" in body:
            call.keys = [_equality_terms(body)]
    if service == "kms":
        context = body.get("EncryptionContext") or {}
        call.context = {"kms:EncryptionContextKeys": sorted(context)} if context else {}
        call.context |= {f"kms:EncryptionContext:{k}": [v] for k, v in context.items()}
    return [call]


# -- policy evaluation ----------------------------------------------------------------------------


class UnknownCondition(Exception):
    """A condition operator this evaluator does not implement: never assumed to hold."""


def _like(value: str, pattern: str) -> bool:
    # IAM's StringLike: * and ? are the only wildcards
    regex = ".*".join(".".join(map(re.escape, part.split("?"))) for part in pattern.split("*"))
    return re.fullmatch(regex, value) is not None


MATCHERS = {
    "StringEquals": lambda value, wanted: value == wanted,
    "StringLike": _like,
}


def condition_holds(condition: Mapping[str, Any], context: Mapping[str, list[str]]) -> bool:
    """IAM's evaluation of a statement's Condition block against the request's keys (a key
    missing from ``context`` is absent from the request)."""
    for operator, tests in condition.items():
        qualifier, _, base = operator.rpartition(":")
        for key, allowed in tests.items():
            wanted = [str(w) for w in (allowed if isinstance(allowed, list) else [allowed])]
            values = context.get(key)
            if base == "Null" and not qualifier:
                holds = (values is None) == (wanted == ["true"])
            elif base in MATCHERS and qualifier in ("", "ForAllValues", "ForAnyValue"):
                match = MATCHERS[base]
                matched = [any(match(v, w) for w in wanted) for v in values or []]
                # ForAllValues holds for an absent key (hence the Null tests beside it)
                holds = all(matched) if qualifier == "ForAllValues" else any(matched)
            else:
                raise UnknownCondition(operator)
            if not holds:
                return False
    return True


def _covers(resource: Any, res: Res, suffix: str) -> bool:
    """Whether a statement's resource names ``res`` (+ ``suffix``: ``/index/Name``)."""
    if resource == "*":
        return True
    if isinstance(resource, Res):
        return resource == res and not suffix
    if isinstance(resource, Sub) and resource.refs == (res,):
        m = re.fullmatch(r"\$\{[^}]+\}(.*)", resource.text)
        return bool(m) and fnmatch.fnmatchcase(suffix, m.group(1))
    return False


@dataclass
class Grants:
    """What one function may do, and what its environment names."""

    label: str
    statements: list[Statement]  # its role's identity policies
    names: Mapping[str, Res]  # the value a variable of its environment carries -> that resource
    #: (table, index or None) -> the partition key attribute (dynamodb:LeadingKeys)
    partition_keys: Mapping[tuple[Res, str | None], str] = field(default_factory=dict)
    #: a KMS key -> its key policy, which must admit the role too (KMS reads IAM policies only
    #: where the key policy gives the action to the account)
    key_policies: Mapping[Res, list[Statement]] = field(default_factory=dict)
    role: Res | None = None

    def refusals(self, calls: Iterable[Call]) -> list[str]:
        """One line per call the function may not make, saying why."""
        found = []
        for call in calls:
            why = self.refusal(call)
            if why:
                found.append(f"{self.label}: {call.action} on {why} (call: {call})")
        return found

    def refusal(self, call: Call) -> str | None:
        res = self.names.get(call.name)
        if res is None:
            return f"{call.name!r}, which no variable of the function's environment names"
        suffix = f"/index/{call.index}" if call.index else ""
        where = f"{res}{suffix}"
        context = dict(call.context)
        key = self.partition_keys.get((res, call.index))
        if leading := sorted({k[key] for k in call.keys if key in k}):
            context["dynamodb:LeadingKeys"] = leading
        try:
            if not self._allows(self.statements, call.action, res, suffix, context):
                return f"{where}: no statement of its policy allows it"
            if res in self.key_policies and not self._allows(
                self.key_policies[res], call.action, res, suffix, context, principal=self.role
            ):
                return f"{where}: the key's policy does not admit {self.role}"
        except UnknownCondition as unknown:
            return f"{where}: a statement's condition {unknown} is not evaluated by this check"
        return None

    @staticmethod
    def _allows(
        statements: list[Statement],
        action: str,
        res: Res,
        suffix: str,
        context: Mapping[str, list[str]],
        principal: Res | None = None,
    ) -> bool:
        def applies(s: Statement) -> bool:
            return (
                action in s.actions
                and any(_covers(r, res, suffix) for r in s.resources)
                and (principal is None or _admits(s.principals, principal))
                and condition_holds(s.condition, context)
            )

        if any(s.effect == "Deny" and applies(s) for s in statements):
            return False
        return any(s.effect == "Allow" and applies(s) for s in statements)


def _admits(principals: list[Any], role: Res) -> bool:
    # the role itself, anyone, or the account (which defers to the role's IAM policy, checked too)
    return any(
        p in (role, "*") or (p.text if isinstance(p, Sub) else str(p)).endswith(":root")
        for p in principals
    )


def grants_of(comp: Composition, fn: Function, environment: Mapping[str, str]) -> Grants:
    """``fn``'s grants, its resources known by the values ``environment`` (what the handler ran
    with) gives the variables its template environment fills with a resource."""
    names: dict[str, Res] = {}
    for variable, res in fn.environment.items():
        if not isinstance(res, Res):
            continue
        value = environment[variable]
        assert names.setdefault(value, res) == res, (
            f"{fn.handler}: {value!r} names both {names[value]} and {res}: its calls are ambiguous"
        )
    partition_keys: dict[tuple[Res, str | None], str] = {}
    key_policies: dict[Res, list[Statement]] = {}
    for res in set(names.values()):
        kind, props = comp.type_of(res), comp.props(res)
        if kind == "AWS::DynamoDB::Table":
            partition_keys[(res, None)] = _hash_key(props["KeySchema"])
            for index in props.get("GlobalSecondaryIndexes", []):
                partition_keys[(res, index["IndexName"])] = _hash_key(index["KeySchema"])
        if kind == "AWS::KMS::Key":
            key_policies[res] = statements_of(props["KeyPolicy"], f"{res} KeyPolicy")
    return Grants(fn.handler, fn.statements(), names, partition_keys, key_policies, fn.role)


def _hash_key(schema: list[dict[str, str]]) -> str:
    [name] = [k["AttributeName"] for k in schema if k["KeyType"] == "HASH"]
    return name
