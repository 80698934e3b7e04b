"""The local stack's queues, tables and consumers, read from template.yaml so they cannot drift.

``read_template`` walks the CloudFormation model of template.yaml and its nested templates
(``bulb_workbench.cfn``, the one the template tests read too; local pseudo parameters, anything
it cannot follow left ``UNRESOLVED``). It collects:

- every ``AWS::SQS::Queue`` (FIFO, visibility timeout, delay, retention, redrive -> DLQ),
- every ``AWS::DynamoDB::Table`` (key schema, attribute definitions, indexes, TTL),
- every ``AWS::KMS::Key`` (the credentials vault's key, the tokens table's key),
- every ``AWS::Cognito::UserPool`` and ``AWS::Cognito::UserPoolClient`` (account linking; only
  when the template's conditions create them, i.e. ``AccountLinking=cognito``),
- every ``AWS::Serverless::Function`` with its handler, timeout, environment and the events
  that invoke it (SQS with batch size and ``ReportBatchItemFailures``, schedules, HTTP routes).

``create_resources`` makes the queues (DLQs first), tables, keys, user pools and their clients
in moto, and ``environment`` maps them to the variables of ``skill.config`` through explicit
tables (``QUEUE_ENV``, ``TABLE_ENV``, ``KEY_ENV``), cross-checked with what the template's own
functions are given. ``COGNITO_ISSUER``/``COGNITO_CLIENT_ID``/``COGNITO_JWKS_URL`` are the
local stack's (``bulb_workbench.local.stack``): moto's issuer and JWKS live on its own URL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulb_workbench.cfn import (
    NESTED_TYPES,
    UNRESOLVED,
    Model,
    ResourceAtt,
    ResourceRef,
    Stack,
    TemplateError,
)

__all__ = ["UNRESOLVED", "ResourceAtt", "ResourceRef", "TemplateError"]

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "bulb-skill-local"
STYLES = ("sync", "async", "optimistic", "polling")

#: Queue logical id -> the ``skill.config`` variable holding its URL. ``{STYLE}`` is the style of
#: the processor template the queue is in (the processor that consumes it).
QUEUE_ENV: dict[str, str] = {
    "DirectivesQueue": "DIRECTIVES_QUEUE_{STYLE}_URL",
    "OutboxQueue": "OUTBOX_QUEUE_URL",
    "OutboxDLQ": "OUTBOX_DLQ_URL",
    "PollQueue": "POLL_QUEUE_URL",
    "SweepQueue": "SWEEP_QUEUE_URL",
}
#: Table logical id -> the ``skill.config`` variable holding its name.
TABLE_ENV: dict[str, str] = {
    "TokensTable": "TOKENS_TABLE",
    "StateTable": "STATE_TABLE",
    "IdempotencyTable": "IDEMPOTENCY_TABLE",
    "CredentialsTable": "CREDENTIALS_TABLE",
}
#: KMS key logical id -> the ``skill.config`` variable holding its ARN.
KEY_ENV: dict[str, str] = {
    "CredentialsKey": "CREDENTIALS_KEY_ID",
}
#: Properties of a template's user pool and app client that moto is given (the rest, managed
#: login, deletion protection, tiers, OAuth callbacks, mean nothing on loopback).
_POOL_PROPERTIES = (
    "Policies",
    "UsernameAttributes",
    "UsernameConfiguration",
    "AutoVerifiedAttributes",
    "AdminCreateUserConfig",
    "AccountRecoverySetting",
    "MfaConfiguration",
)
_CLIENT_PROPERTIES = (
    "ClientName",
    "GenerateSecret",
    "ExplicitAuthFlows",
    "AccessTokenValidity",
    "IdTokenValidity",
    "RefreshTokenValidity",
    "TokenValidityUnits",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "AuthSessionValidity",
)
#: Who consumes a queue when the template does not say (an SQS event on a function) yet.
DEFAULT_CONSUMERS: dict[str, str] = {
    "DirectivesQueue": "skill.handlers.processors.{module}.handler",
    "PollQueue": "skill.handlers.poller.handler",
    "OutboxQueue": "skill.handlers.dispatcher.handler",
}


# -- the model -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Redrive:
    dlq_key: str
    max_receive_count: int


@dataclass(frozen=True, slots=True)
class QueueSpec:
    key: str  # "SyncProcessor/DirectivesQueue", or "OutboxQueue" in template.yaml itself
    logical_id: str
    stack: str  # nested path ("" for template.yaml)
    fifo: bool = False
    content_based_deduplication: bool = False
    deduplication_scope: str | None = None  # FIFO high throughput: messageGroup
    fifo_throughput_limit: str | None = None  # FIFO high throughput: perMessageGroupId
    visibility_timeout: int | None = None
    delay_seconds: int | None = None
    retention_seconds: int | None = None
    redrive: Redrive | None = None


@dataclass(frozen=True, slots=True)
class TableSpec:
    key: str
    logical_id: str
    stack: str
    key_schema: list[dict[str, str]]
    attribute_definitions: list[dict[str, str]]
    ttl_attribute: str | None = None
    global_indexes: list[dict[str, Any]] = field(default_factory=list)
    local_indexes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class KeySpec:
    key: str
    logical_id: str
    stack: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class UserPoolSpec:
    key: str
    logical_id: str
    stack: str
    properties: dict[str, Any] = field(default_factory=dict)  # resolved, the moto-relevant ones


@dataclass(frozen=True, slots=True)
class UserPoolClientSpec:
    key: str
    logical_id: str
    stack: str
    pool_key: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SqsSource:
    queue_key: str
    batch_size: int = 10
    report_batch_item_failures: bool = False


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    key: str
    logical_id: str
    stack: str
    handler: str | None
    timeout: float = 3.0
    environment: dict[str, Any] = field(default_factory=dict)
    sqs_sources: list[SqsSource] = field(default_factory=list)
    schedules: list[str] = field(default_factory=list)
    http_routes: list[tuple[str, str]] = field(default_factory=list)  # (METHOD, /path)

    @property
    def name(self) -> str:
        """A Lambda-like function name for the fake context."""
        return _sanitize(f"{STACK_NAME}-{self.key.replace('/', '-')}", 64)


@dataclass(frozen=True, slots=True)
class NestedStack:
    key: str
    location: Path
    parameters: dict[str, Any]


@dataclass
class StackModel:
    """Everything the local stack needs from the templates."""

    template: Path
    queues: dict[str, QueueSpec] = field(default_factory=dict)
    tables: dict[str, TableSpec] = field(default_factory=dict)
    keys: dict[str, KeySpec] = field(default_factory=dict)
    user_pools: dict[str, UserPoolSpec] = field(default_factory=dict)
    user_pool_clients: dict[str, UserPoolClientSpec] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    stacks: dict[str, NestedStack] = field(default_factory=dict)

    def consumer_of(self, queue_key: str) -> tuple[FunctionSpec, SqsSource] | None:
        """The function an SQS event source connects to ``queue_key``, if any."""
        for function in self.functions.values():
            for source in function.sqs_sources:
                if source.queue_key == queue_key:
                    return function, source
        return None

    def function_with_handler(self, handler: str) -> FunctionSpec | None:
        return next((f for f in self.functions.values() if f.handler == handler), None)

    def function_with_route(self, method: str, path: str) -> FunctionSpec | None:
        for function in self.functions.values():
            for route_method, route_path in function.http_routes:
                if route_path == path and route_method.upper() in (method.upper(), "ANY"):
                    return function
        return None

    def scheduled_functions(self) -> list[FunctionSpec]:
        return [f for f in self.functions.values() if f.schedules]

    def style_of(self, queue: QueueSpec) -> str | None:
        """The processor style of a directives queue: from the handler of the function that
        consumes it (``skill.handlers.processors.<style>.handler``), else from its template's name.
        """
        consumer = self.consumer_of(queue.key)
        if consumer is not None and consumer[0].handler:
            # wherever the handler modules live: "<package>.processors.<style>.handler"
            found = re.search(r"(?:^|\.)processors\.([a-z]+)_?\.handler$", consumer[0].handler)
            if found and found.group(1) in STYLES:
                return found.group(1)
        stack = self.stacks.get(queue.stack)
        names = [queue.stack] + ([stack.location.stem] if stack else [])
        names += [
            str(v) for k, v in (stack.parameters.items() if stack else ()) if k.lower() == "style"
        ]
        for name in names:
            lowered = name.lower()
            for style in ("optimistic", "polling", "async", "sync"):  # "async" contains "sync"
                if style in lowered:
                    return style
        return None


# -- reading ---------------------------------------------------------------------------------


def read_template(path: Path | str, parameters: Mapping[str, Any] | None = None) -> StackModel:
    """The queues, tables and functions of ``path`` and of every nested template it uses, for
    the given parameter values (like ``sam deploy --parameter-overrides``; defaults otherwise)."""
    path = Path(path)
    if not path.is_file():
        raise TemplateError(
            f"{path} does not exist: the local stack builds its queues and tables from the SAM "
            "template (template.yaml at the repository root, with infra/*.yaml)"
        )
    pseudo = {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": STACK_NAME,
    }
    cfn = Model(path, parameters, pseudo=pseudo)
    model = StackModel(template=path)
    _walk(cfn.root, model)
    return model


def _walk(scope: Stack, model: StackModel) -> None:
    for logical_id, resource in scope.resources.items():
        if not isinstance(resource, dict):
            continue
        if not scope.deployed(logical_id):
            continue
        kind = resource.get("Type")
        key = scope.key(logical_id)
        if kind == "AWS::SQS::Queue":
            model.queues[key] = _queue(
                scope, logical_id, scope.resolve(resource.get("Properties") or {})
            )
        elif kind == "AWS::DynamoDB::Table":
            model.tables[key] = _table(
                scope, logical_id, scope.resolve(resource.get("Properties") or {})
            )
        elif kind == "AWS::KMS::Key":
            props = scope.resolve(resource.get("Properties") or {})
            description = props.get("Description")
            model.keys[key] = KeySpec(
                key, logical_id, scope.name, description if isinstance(description, str) else ""
            )
        elif kind == "AWS::Cognito::UserPool":
            props = scope.resolve(resource.get("Properties") or {})
            model.user_pools[key] = UserPoolSpec(
                key, logical_id, scope.name, _known(props, _POOL_PROPERTIES)
            )
        elif kind == "AWS::Cognito::UserPoolClient":
            props = scope.resolve(resource.get("Properties") or {})
            pool = props.get("UserPoolId")
            if not isinstance(pool, ResourceRef):
                raise TemplateError(
                    f"{key}: UserPoolId must be !Ref of a user pool in the same template"
                )
            model.user_pool_clients[key] = UserPoolClientSpec(
                key, logical_id, scope.name, pool.key, _known(props, _CLIENT_PROPERTIES)
            )
        elif kind == "AWS::Serverless::Function":
            model.functions[key] = _function(scope, logical_id, resource)
        elif kind in NESTED_TYPES:
            child = scope.child(logical_id)
            if child is not None:
                model.stacks[child.name] = NestedStack(child.name, child.path, child.parameters())
                _walk(child, model)
    for resource in scope.resources.values():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::Lambda::EventSourceMapping":
            _attach_mapping(scope, model, resource)


def _queue(scope: Stack, logical_id: str, props: dict[str, Any]) -> QueueSpec:
    redrive = None
    policy = props.get("RedrivePolicy")
    if isinstance(policy, str):
        policy = json.loads(policy)
    if isinstance(policy, dict):
        target = policy.get("deadLetterTargetArn")
        if not isinstance(target, ResourceAtt):
            raise TemplateError(
                f"{scope.key(logical_id)}: RedrivePolicy.deadLetterTargetArn must be !GetAtt of "
                "a queue in the same template"
            )
        redrive = Redrive(target.key, int(policy.get("maxReceiveCount", 10)))
    return QueueSpec(
        key=scope.key(logical_id),
        logical_id=logical_id,
        stack=scope.name,
        fifo=_truthy(props.get("FifoQueue")),
        content_based_deduplication=_truthy(props.get("ContentBasedDeduplication")),
        deduplication_scope=_text(props.get("DeduplicationScope")),
        fifo_throughput_limit=_text(props.get("FifoThroughputLimit")),
        visibility_timeout=_int(props.get("VisibilityTimeout")),
        delay_seconds=_int(props.get("DelaySeconds")),
        retention_seconds=_int(props.get("MessageRetentionPeriod")),
        redrive=redrive,
    )


def _table(scope: Stack, logical_id: str, props: dict[str, Any]) -> TableSpec:
    key = scope.key(logical_id)
    key_schema = props.get("KeySchema")
    definitions = props.get("AttributeDefinitions")
    if not isinstance(key_schema, list) or not isinstance(definitions, list):
        raise TemplateError(f"{key}: KeySchema and AttributeDefinitions must be lists")
    ttl = props.get("TimeToLiveSpecification") or {}
    ttl_attribute = ttl.get("AttributeName") if _truthy(ttl.get("Enabled")) else None

    def indexes(name: str) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
            for index in props.get(name) or []
        ]

    return TableSpec(
        key=key,
        logical_id=logical_id,
        stack=scope.name,
        key_schema=[dict(k) for k in key_schema],
        attribute_definitions=[dict(d) for d in definitions],
        ttl_attribute=ttl_attribute,
        global_indexes=indexes("GlobalSecondaryIndexes"),
        local_indexes=indexes("LocalSecondaryIndexes"),
    )


def _function(scope: Stack, logical_id: str, resource: dict[str, Any]) -> FunctionSpec:
    props = resource.get("Properties") or {}
    globals_ = scope.globals_function

    def prop(name: str) -> Any:
        value = scope.resolve(props.get(name, globals_.get(name)))
        return None if value is UNRESOLVED else value

    environment = dict(scope.resolve((globals_.get("Environment") or {}).get("Variables") or {}))
    environment.update(scope.resolve((props.get("Environment") or {}).get("Variables") or {}))
    sqs_sources: list[SqsSource] = []
    schedules: list[str] = []
    routes: list[tuple[str, str]] = []
    for event in (props.get("Events") or {}).values():
        if not isinstance(event, dict):
            continue
        kind = event.get("Type")
        event_props = scope.resolve(event.get("Properties") or {})
        if kind == "SQS":
            queue = event_props.get("Queue")
            if isinstance(queue, ResourceAtt):
                sqs_sources.append(
                    SqsSource(
                        queue.key,
                        batch_size=min(10, _int(event_props.get("BatchSize")) or 10),
                        report_batch_item_failures="ReportBatchItemFailures"
                        in (event_props.get("FunctionResponseTypes") or []),
                    )
                )
        elif kind in ("Schedule", "ScheduleV2"):
            schedules.append(
                str(event_props.get("Schedule") or event_props.get("ScheduleExpression"))
            )
        elif kind in ("HttpApi", "Api"):
            routes.append(
                (str(event_props.get("Method", "ANY")).upper(), str(event_props.get("Path", "/")))
            )
    handler = prop("Handler")
    return FunctionSpec(
        key=scope.key(logical_id),
        logical_id=logical_id,
        stack=scope.name,
        handler=handler if isinstance(handler, str) else None,
        timeout=float(_int(prop("Timeout")) or 3),
        environment={k: v for k, v in environment.items() if v is not UNRESOLVED},
        sqs_sources=sqs_sources,
        schedules=schedules,
        http_routes=routes,
    )


def _known(props: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The listed properties that resolved to plain values (a condition left open drops one)."""
    return {n: props[n] for n in names if n in props and _plain(props[n])}


def _plain(value: Any) -> bool:
    if value is UNRESOLVED or isinstance(value, ResourceRef | ResourceAtt):
        return False
    if isinstance(value, dict):
        return all(_plain(v) for v in value.values())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return True


def _attach_mapping(scope: Stack, model: StackModel, resource: dict[str, Any]) -> None:
    props = scope.resolve(resource.get("Properties") or {})
    source, function = props.get("EventSourceArn"), props.get("FunctionName")
    if not (isinstance(source, ResourceAtt) and source.key in model.queues):
        return
    if isinstance(function, ResourceRef | ResourceAtt) and function.key in model.functions:
        spec = model.functions[function.key]
        spec.sqs_sources.append(
            SqsSource(
                source.key,
                batch_size=min(10, _int(props.get("BatchSize")) or 10),
                report_batch_item_failures="ReportBatchItemFailures"
                in (props.get("FunctionResponseTypes") or []),
            )
        )


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value is not UNRESOLVED else None
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _sanitize(name: str, limit: int) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", name)[:limit]


# -- making them in moto ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreatedQueue:
    spec: QueueSpec
    name: str
    url: str
    arn: str


@dataclass(frozen=True, slots=True)
class CreatedTable:
    spec: TableSpec
    name: str
    arn: str


@dataclass(frozen=True, slots=True)
class CreatedKey:
    spec: KeySpec
    key_id: str
    arn: str


@dataclass(frozen=True, slots=True)
class CreatedUserPool:
    spec: UserPoolSpec
    pool_id: str
    arn: str

    @property
    def issuer(self) -> str:
        """The ``iss`` of the pool's tokens (moto writes the AWS one, whatever its own URL)."""
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.pool_id}"

    def jwks_url(self, endpoint: str) -> str:
        """Where moto's server serves the pool's signing keys."""
        return f"{endpoint.rstrip('/')}/{self.pool_id}/.well-known/jwks.json"


@dataclass(frozen=True, slots=True)
class CreatedUserPoolClient:
    spec: UserPoolClientSpec
    pool_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)


@dataclass
class Resources:
    """What ``create_resources`` made, by template key."""

    queues: dict[str, CreatedQueue] = field(default_factory=dict)
    tables: dict[str, CreatedTable] = field(default_factory=dict)
    keys: dict[str, CreatedKey] = field(default_factory=dict)
    user_pools: dict[str, CreatedUserPool] = field(default_factory=dict)
    user_pool_clients: dict[str, CreatedUserPoolClient] = field(default_factory=dict)

    def value_of(self, marker: Any) -> str | None:
        """The local value of ``!Ref``/``!GetAtt`` of a queue, table, key, user pool or app
        client, else None."""
        if isinstance(marker, ResourceRef):
            if marker.key in self.queues:
                return self.queues[marker.key].url
            if marker.key in self.tables:
                return self.tables[marker.key].name
            if marker.key in self.keys:
                return self.keys[marker.key].key_id
            if marker.key in self.user_pools:
                return self.user_pools[marker.key].pool_id
            if marker.key in self.user_pool_clients:
                return self.user_pool_clients[marker.key].client_id
        if isinstance(marker, ResourceAtt):
            queue, table = self.queues.get(marker.key), self.tables.get(marker.key)
            if queue is not None:
                return {"Arn": queue.arn, "QueueName": queue.name, "QueueUrl": queue.url}.get(
                    marker.attr
                )
            if table is not None:
                return {"Arn": table.arn}.get(marker.attr)
            key, pool = self.keys.get(marker.key), self.user_pools.get(marker.key)
            if key is not None:
                return {"Arn": key.arn, "KeyId": key.key_id}.get(marker.attr)
            if pool is not None:
                return {"Arn": pool.arn, "ProviderURL": pool.issuer}.get(marker.attr)
        return None


def local_name(key: str, *, fifo: bool = False, prefix: str = "") -> str:
    """A readable resource name for a template key: ``SyncProcessor-DirectivesQueue.fifo``."""
    base = _sanitize(prefix + key.replace("/", "-"), 75 if fifo else 80)
    return base + ".fifo" if fifo else base


def create_resources(
    model: StackModel,
    sqs: Any,
    dynamodb: Any,
    *,
    kms: Any = None,
    cognito: Any = None,
    client_auth_flows: tuple[str, ...] = (),
    prefix: str = "",
) -> Resources:
    """Create every queue (dead-letter targets first) and table of ``model``, a few at a time;
    with ``kms`` its keys, with ``cognito`` its user pools and app clients (each client also
    allowing ``client_auth_flows``, e.g. ``ALLOW_ADMIN_USER_PASSWORD_AUTH`` for the local demo
    user's sign-in)."""
    from concurrent.futures import ThreadPoolExecutor

    made = Resources()
    if model.keys and kms is None:
        raise TemplateError("the template has KMS keys: create_resources needs a kms client")
    if model.user_pools and cognito is None:
        raise TemplateError(
            "the template has Cognito user pools: create_resources needs a cognito client"
        )
    dlq_keys = {q.redrive.dlq_key for q in model.queues.values() if q.redrive is not None}
    dlqs = [q for q in model.queues.values() if q.key in dlq_keys]
    others = [q for q in model.queues.values() if q.key not in dlq_keys]
    with ThreadPoolExecutor(max_workers=8) as pool:
        tables = [
            pool.submit(_create_table, spec, dynamodb, prefix) for spec in model.tables.values()
        ]
        for queue in pool.map(lambda spec: _create_queue(spec, sqs, prefix, made), dlqs):
            made.queues[queue.spec.key] = queue
        for queue in pool.map(lambda spec: _create_queue(spec, sqs, prefix, made), others):
            made.queues[queue.spec.key] = queue
        keys = [pool.submit(_create_key, spec, kms) for spec in model.keys.values()]
        pools = [
            pool.submit(_create_user_pool, spec, cognito, prefix)
            for spec in model.user_pools.values()
        ]
        for future in tables:
            table = future.result()
            made.tables[table.spec.key] = table
        for future in keys:
            key = future.result()
            made.keys[key.spec.key] = key
        for future in pools:
            user_pool = future.result()
            made.user_pools[user_pool.spec.key] = user_pool
    for spec in model.user_pool_clients.values():
        owner = made.user_pools.get(spec.pool_key)
        if owner is None:
            raise TemplateError(f"{spec.key}: its user pool {spec.pool_key} is not created")
        made.user_pool_clients[spec.key] = _create_user_pool_client(
            spec, owner, cognito, client_auth_flows
        )
    # template order, whatever order the threads finished in
    made.queues = {key: made.queues[key] for key in model.queues}
    made.tables = {key: made.tables[key] for key in model.tables}
    made.keys = {key: made.keys[key] for key in model.keys}
    return made


def _create_queue(spec: QueueSpec, sqs: Any, prefix: str, made: Resources) -> CreatedQueue:
    name = local_name(spec.key, fifo=spec.fifo, prefix=prefix)
    attributes: dict[str, str] = {}
    if spec.fifo:
        attributes["FifoQueue"] = "true"
        if spec.content_based_deduplication:
            attributes["ContentBasedDeduplication"] = "true"
        if spec.deduplication_scope:
            attributes["DeduplicationScope"] = spec.deduplication_scope
        if spec.fifo_throughput_limit:
            attributes["FifoThroughputLimit"] = spec.fifo_throughput_limit
    for attribute, value in (
        ("VisibilityTimeout", spec.visibility_timeout),
        ("DelaySeconds", spec.delay_seconds),
        ("MessageRetentionPeriod", spec.retention_seconds),
    ):
        if value is not None:
            attributes[attribute] = str(value)
    if spec.redrive is not None:
        dlq = made.queues.get(spec.redrive.dlq_key)
        if dlq is None:
            raise TemplateError(f"{spec.key}: its DLQ {spec.redrive.dlq_key} is not a queue")
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": spec.redrive.max_receive_count}
        )
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return CreatedQueue(spec, name, url, f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}")


def _create_table(spec: TableSpec, dynamodb: Any, prefix: str) -> CreatedTable:
    name = local_name(spec.key, prefix=prefix)
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": spec.key_schema,
        "AttributeDefinitions": spec.attribute_definitions,
        "BillingMode": "PAY_PER_REQUEST",
    }
    if spec.global_indexes:
        request["GlobalSecondaryIndexes"] = spec.global_indexes
    if spec.local_indexes:
        request["LocalSecondaryIndexes"] = spec.local_indexes
    arn = dynamodb.create_table(**request)["TableDescription"].get(
        "TableArn", f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
    )
    if spec.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
        )
    return CreatedTable(spec, name, arn)


def _create_key(spec: KeySpec, kms: Any) -> CreatedKey:
    # The key policy names roles that do not exist locally; moto does not enforce policies, so
    # the key is made without one (what it protects is the encryption context, which moto checks).
    meta = kms.create_key(
        Description=spec.description or spec.key,
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
    )["KeyMetadata"]
    return CreatedKey(spec, meta["KeyId"], meta["Arn"])


def _create_user_pool(spec: UserPoolSpec, cognito: Any, prefix: str) -> CreatedUserPool:
    pool = cognito.create_user_pool(
        PoolName=local_name(spec.key, prefix=prefix), **spec.properties
    )["UserPool"]
    return CreatedUserPool(
        spec,
        pool["Id"],
        pool.get("Arn", f"arn:aws:cognito-idp:{REGION}:{ACCOUNT_ID}:userpool/{pool['Id']}"),
    )


def _create_user_pool_client(
    spec: UserPoolClientSpec, pool: CreatedUserPool, cognito: Any, extra_flows: tuple[str, ...]
) -> CreatedUserPoolClient:
    properties = dict(spec.properties)
    flows = list(properties.get("ExplicitAuthFlows") or [])
    properties["ExplicitAuthFlows"] = flows + [f for f in extra_flows if f not in flows]
    properties.setdefault("ClientName", spec.logical_id)
    client = cognito.create_user_pool_client(UserPoolId=pool.pool_id, **properties)[
        "UserPoolClient"
    ]
    return CreatedUserPoolClient(spec, pool.pool_id, client["ClientId"], client.get("ClientSecret"))


# -- the environment -------------------------------------------------------------------------------


@dataclass
class Wiring:
    """Environment variables for the handlers, and what did not add up."""

    environment: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def environment(model: StackModel, made: Resources) -> Wiring:
    """``skill.config`` variables for the created resources, by the explicit tables above, then
    cross-checked with the variables the template gives its own functions."""
    wiring = Wiring()
    env = wiring.environment
    for key, queue in made.queues.items():
        variable = QUEUE_ENV.get(queue.spec.logical_id)
        if variable is None:
            continue
        if "{STYLE}" in variable:
            style = model.style_of(queue.spec)
            if style is None:
                wiring.warnings.append(f"{key}: cannot tell which processor style it belongs to")
                continue
            variable = variable.replace("{STYLE}", style.upper())
        _assign(wiring, variable, queue.url, key)
    for key, table in made.tables.items():
        variable = TABLE_ENV.get(table.spec.logical_id)
        if variable is not None:
            _assign(wiring, variable, table.name, key)
    for key, kms_key in made.keys.items():
        variable = KEY_ENV.get(kms_key.spec.logical_id)
        if variable is not None:
            _assign(wiring, variable, kms_key.arn, key)
    mapped = dict(env)
    for function in model.functions.values():
        for variable, marker in function.environment.items():
            value = made.value_of(marker)
            if value is None:
                continue
            if variable in mapped and mapped[variable] != value:
                wiring.warnings.append(
                    f"{function.key} gets {variable} = {_describe(marker)}, but the local stack "
                    f"maps {variable} to another resource"
                )
            elif variable not in env:
                env[variable] = value
    expected = {v for v in QUEUE_ENV.values() if "{STYLE}" not in v} | set(TABLE_ENV.values())
    expected |= set(KEY_ENV.values())
    for variable in sorted(expected - set(env)):
        wiring.warnings.append(f"the template has no resource for {variable}")
    return wiring


def _assign(wiring: Wiring, variable: str, value: str, key: str) -> None:
    if variable in wiring.environment:
        wiring.warnings.append(f"{key}: {variable} is already set by another resource")
        return
    wiring.environment[variable] = value


def _describe(marker: Any) -> str:
    if isinstance(marker, ResourceAtt):
        return f"{marker.key}.{marker.attr}"
    if isinstance(marker, ResourceRef):
        return f"!Ref {marker.key}"
    return repr(marker)


# -- consumers -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Consumer:
    """A queue and the Lambda handler the template connects to it."""

    queue_key: str
    handler: str
    function_name: str
    timeout: float
    batch_size: int
    report_batch_item_failures: bool
    from_template: bool


def consumers(model: StackModel) -> tuple[list[Consumer], list[str]]:
    """Which handler consumes which queue: the template's SQS events, else ``DEFAULT_CONSUMERS``
    for the queues the design names (with a warning, so the template gets fixed)."""
    found: list[Consumer] = []
    warnings: list[str] = []
    for key, queue in model.queues.items():
        consumer = model.consumer_of(key)
        if consumer is not None and consumer[0].handler:
            function, source = consumer
            found.append(
                Consumer(
                    key,
                    consumer[0].handler,
                    function.name,
                    function.timeout,
                    source.batch_size,
                    source.report_batch_item_failures,
                    True,
                )
            )
            continue
        default = DEFAULT_CONSUMERS.get(queue.logical_id)
        if default is None:
            continue
        if "{module}" in default:
            style = model.style_of(queue)
            if style is None:
                continue
            default = default.replace("{module}", "async_" if style == "async" else style)
        warnings.append(f"{key}: no function consumes it in the template; using {default}")
        name = _sanitize(f"{STACK_NAME}-{key.replace('/', '-')}-consumer", 64)
        found.append(Consumer(key, default, name, 30.0, 10, True, False))
    return found, warnings


def handler_or(
    model: StackModel, predicate: Callable[[FunctionSpec], bool], default: str
) -> tuple[str, str, float]:
    """(handler, function name, timeout) of the first function matching ``predicate``."""
    for function in model.functions.values():
        if predicate(function) and function.handler:
            return function.handler, function.name, function.timeout
    name = default.rsplit(".", 1)[0].replace(".", "-")
    return default, _sanitize(f"{STACK_NAME}-{name}", 64), 30.0
