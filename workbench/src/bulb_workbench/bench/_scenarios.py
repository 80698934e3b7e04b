"""Events, environment and stored data for invoking each Lambda handler as AWS would.

Shared by the cold-start benchmark (the event is handed to a fresh interpreter) and the cost
driver (handlers chained in one process). Everything points at the stub cloud
(``bulb_workbench.bench._stubs``) and the vendor simulator (``bulb_workbench.local.simulator``,
latency 0).

Accounts as deployed (``AccountLinking=cognito``): the token in each directive is an access
token of the skill's user pool, signed here with a key of the bench's own whose public half the
stub serves as the pool's JWKS (``access_token``, ``jwks``); the user's credential for each
simulated vendor rests in the stub's credentials table, sealed by the stub's KMS with the
``{user_id, vendor}`` context (``credential_item``).
"""

from __future__ import annotations

import json
import time
import uuid
from functools import cache
from typing import Any

from bulb_workbench.local.simulator import DEFAULT_WEBHOOK_SECRET, sign
from skill.alexa import features_to_cookie
from skill.bulbs import BulbState, Change, Features, KelvinRange
from skill.plugins import encode_endpoint_id
from skill.records import (
    DeviceOwner,
    OutboxMessage,
    PendingCommand,
    PollTicket,
    QueuedDirective,
    SweepAccount,
)

USER = "demo-user"  # the skill user: the access token's sub
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench"
CLIENT_ID = "bench-alexa-client"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/bench"
CREDENTIALS_TABLE = "bulb-skill-credentials"
DEVICE = "color-1"
PATH_SECRET = "bench-path-secret-0123456789"
STYLES = ("sync", "async", "optimistic", "polling")
MODULE_OF_STYLE = {
    "sync": "sync",
    "async": "async_",
    "optimistic": "optimistic",
    "polling": "polling",
}
COLOR = Features(
    dimmable=True, color=True, color_temperature=KelvinRange(minimum=2000, maximum=9000)
)
CORRELATION = "dFMb0z+PgpgdDmluhJ1LddFvSqZ/jCc8ptlAKulUj90jSqg=="
SECRETS = {
    "client_id": "amzn1.application-oa2-client.bench",
    "client_secret": "bench-secret",
    "WEBHOOK_PATH_SECRET": PATH_SECRET,
    "SIM_WEBHOOK_SECRET": DEFAULT_WEBHOOK_SECRET,
}


@cache
def _signing_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks() -> dict[str, Any]:
    """The bench user pool's signing keys, as Cognito serves them."""
    from jwt.algorithms import RSAAlgorithm

    key = json.loads(RSAAlgorithm.to_jwk(_signing_key().public_key()))
    return {"keys": [{**key, "kid": "bench", "alg": "RS256", "use": "sig"}]}


@cache
def access_token() -> str:
    """An access token the bench user pool issued to ``USER`` for Alexa's client (a day long)."""
    import jwt

    now = int(time.time())
    claims = {
        "sub": USER,
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "token_use": "access",
        "scope": "openid email",
        "auth_time": now,
        "iat": now,
        "exp": now + 86400,
        "jti": str(uuid.uuid4()),
        "username": USER,
    }
    return jwt.encode(claims, _signing_key(), algorithm="RS256", headers={"kid": "bench"})


def credential_item(cloud: Any, vendor: str, credential: Any, user: str = USER) -> dict[str, Any]:
    """The vault's item for ``user``'s ``credential`` at ``vendor`` (sealed by the stub KMS)."""
    from skill.plugins import credential_to_json

    blob = cloud.seal(credential_to_json(credential), {"user_id": user, "vendor": vendor})
    return {
        "user_id": {"S": user},
        "vendor": {"S": vendor},
        "ciphertext": {"B": _b64(blob)},
        "account_id": {"S": "demo-user"},
        "version": {"N": "1"},
        "updated_at": {"N": str(int(time.time()))},
    }


def connect_all(cloud: Any, simulator: Any, user: str = USER) -> None:
    """``user`` has connected every simulated vendor (its demo credential at each)."""
    for style in STYLES:
        vendor = f"sim-{style}"
        cloud.put(
            "credentials", credential_item(cloud, vendor, simulator.demo_credential(vendor), user)
        )


def _b64(blob: bytes) -> str:
    import base64

    return base64.b64encode(blob).decode()


def quick_simulator_sockets() -> None:
    """TCP_NODELAY on the vendor simulator's sockets (see the findings in docs/benchmarks.md):
    without it every simulated vendor call stalls ~40 ms on a delayed ACK, which is an artefact
    of the simulator, not of the code under test."""
    from bulb_workbench.local import _http

    _http._Handler.disable_nagle_algorithm = True


def environment(cloud: Any, simulator_url: str) -> dict[str, str]:
    """What template.yaml gives the functions, pointed at the stubs."""
    env = {
        "AWS_ENDPOINT_URL": cloud.url,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "OUTBOX_QUEUE_URL": cloud.queue_url("outbox"),
        "OUTBOX_DLQ_URL": cloud.queue_url("outbox-dlq"),
        "POLL_QUEUE_URL": cloud.queue_url("poll"),
        "SWEEP_QUEUE_URL": cloud.queue_url("sweep"),
        "TOKENS_TABLE": "bulb-skill-tokens",
        "CREDENTIALS_TABLE": CREDENTIALS_TABLE,
        "CREDENTIALS_KEY_ID": KEY_ARN,
        "ACCOUNT_LINKING": "cognito",
        "COGNITO_ISSUER": ISSUER,
        "COGNITO_CLIENT_ID": CLIENT_ID,
        "COGNITO_JWKS_URL": f"{cloud.url}/jwks",
        "STATE_TABLE": "bulb-skill-state",
        "IDEMPOTENCY_TABLE": "bulb-skill-idempotency",
        "LWA_TOKEN_URL": f"{cloud.url}/auth/o2/token",
        "LWA_SECRET_NAME": "bulb-skill/lwa",
        "VENDOR_SECRETS_NAME": "bulb-skill/vendors",
        "WEBHOOK_SECRET_NAME": "bulb-skill/vendors",
        "GATEWAY_URL": f"{cloud.url}/v3/events",
        "SIMULATOR_URL": simulator_url,
        "DEADLINE_SECONDS": "8",
        "ADAPTERS": ",".join(f"sim-{style}" for style in STYLES),
        "POWERTOOLS_SERVICE_NAME": "bulb-skill",
        "POWERTOOLS_METRICS_NAMESPACE": "BulbSkill",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONHASHSEED": "0",
    }
    for style in STYLES:
        env[f"DIRECTIVES_QUEUE_{style.upper()}_URL"] = cloud.queue_url(f"directives-{style}.fifo")
    return env


def endpoint_id(style: str, device: str = DEVICE) -> str:
    return encode_endpoint_id(f"sim-{style}", device)


def directive(
    namespace: str,
    name: str,
    payload: dict[str, Any] | None = None,
    endpoint: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    token = token or access_token()
    body: dict[str, Any] = {
        "header": {
            "namespace": namespace,
            "name": name,
            "payloadVersion": "3",
            "messageId": str(uuid.uuid4()),
            "correlationToken": CORRELATION,
        },
        "payload": payload or {},
    }
    if endpoint is not None:
        body["endpoint"] = {
            "scope": {"type": "BearerToken", "token": token},
            "endpointId": endpoint,
            "cookie": features_to_cookie(COLOR),
        }
    return {"directive": body}


def control(style: str, brightness: int = 55) -> dict[str, Any]:
    return directive(
        "Alexa.BrightnessController",
        "SetBrightness",
        {"brightness": brightness},
        endpoint_id(style),
    )


def report_state(style: str) -> dict[str, Any]:
    return directive("Alexa", "ReportState", None, endpoint_id(style))


def discover() -> dict[str, Any]:
    event = directive(
        "Alexa.Discovery", "Discover", {"scope": {"type": "BearerToken", "token": access_token()}}
    )
    event["directive"]["header"].pop("correlationToken")
    return event


def _sqs_record(body: str, fifo_group: str | None = None) -> dict[str, Any]:
    attributes = {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": str(int(time.time() * 1000)),
        "SenderId": "AIDAEXAMPLE",
        "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
    }
    if fifo_group is not None:
        attributes.update(
            MessageGroupId=fifo_group,
            MessageDeduplicationId=str(uuid.uuid4()),
            SequenceNumber="18849496460467696128",
        )
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "AQEB" + uuid.uuid4().hex,
        "body": body,
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench"
        + (".fifo" if fifo_group else ""),
        "awsRegion": "us-east-1",
    }


def sqs_event(bodies: list[str], fifo_groups: list[str | None] | None = None) -> dict[str, Any]:
    groups = fifo_groups or [None] * len(bodies)
    return {"Records": [_sqs_record(b, g) for b, g in zip(bodies, groups, strict=True)]}


def queued_body(style: str, now: float | None = None) -> str:
    now = time.time() if now is None else now
    event = control(style)
    return QueuedDirective.without_token(
        event["directive"], user_id=USER, received_at=now, deadline=now + 8, features=COLOR
    ).model_dump_json()


def http_api_event(
    vendor: str, secret: str, headers: dict[str, str], body: bytes
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) request for the webhook route."""
    path = f"/webhooks/{vendor}/{secret}"
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "POST /webhooks/{vendor}/{secret}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **headers},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "bench",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.1",
                "userAgent": "vendor",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "POST /webhooks/{vendor}/{secret}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "pathParameters": {"vendor": vendor, "secret": secret},
        "body": body.decode(),
        "isBase64Encoded": False,
    }


def signed_push(request_id: str, state: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    body = json.dumps(
        {"device_id": DEVICE, "request_id": request_id, "user_id": USER, "state": state}
    ).encode()
    timestamp = str(int(time.time()))
    return {
        "x-sim-timestamp": timestamp,
        "x-sim-signature": sign(DEFAULT_WEBHOOK_SECRET, timestamp, body),
    }, body


# -- stored items (DynamoDB JSON, as the project's stores write them) --------------------------


def owner_item(
    style: str, state: BulbState | None = None, now: float | None = None, device: str = DEVICE
) -> dict[str, Any]:
    """A bulb's owner record, with the ``OwnersByUser`` index's keys (the sweep finds it so)."""
    now = time.time() if now is None else now
    owner = DeviceOwner(
        endpoint_id=endpoint_id(style, device),
        user_id=USER,
        vendor=f"sim-{style}",
        features=COLOR,
        state=state or BulbState(on=False, brightness=80),
        updated_at=now,
        account_id="demo-user",
    )
    from skill.aws.stores import DynamoStateStore

    return DynamoStateStore.owner_item(owner)


#: The simulator's catalogue: every account starts with these three bulbs.
SIM_DEVICES = ("color-1", "white-tunable-1", "white-1")


def sweep_account(
    style: str = "polling", now: float | None = None, active_ago: float = 7200.0
) -> SweepAccount:
    """The demo user's account at ``sim-<style>`` as the sweep schedules it: its three bulbs,
    last active ``active_ago`` seconds before ``now`` (cadence and floor as the worker would
    set them, so that a read that finds nothing writes nothing)."""
    from bulb_workbench.local.sim_adapters import SIM_QUOTAS
    from skill import cadence

    now = time.time() if now is None else now
    vendor, devices = f"sim-{style}", len(SIM_DEVICES)
    lister = style in ("sync", "optimistic")  # the simulator's OAuth vendors list states at once
    floor = cadence.quota_floor(
        SIM_QUOTAS[vendor],
        cadence.calls_per_read(lister, devices),
        devices,
        cadence.DEFAULT_QUOTA_SHARE,
    )
    every = max(cadence.on_ladder(cadence.activity_cadence(now, now - active_ago)), floor)
    return SweepAccount(
        vendor=vendor,
        user_id=USER,
        cadence=every,
        last_activity=now - active_ago,
        devices=devices,
        floor=floor,
    )


def sweep_account_item(account: SweepAccount) -> dict[str, Any]:
    """The account's schedule item, with its ``SweepSlots`` index key."""
    from skill.aws.stores import DynamoStateStore

    return DynamoStateStore.sweep_account_item(account, swept=True)


def pending_item(
    style: str, message_id: str, reference: str | None, now: float | None = None
) -> dict[str, Any]:
    now = time.time() if now is None else now
    command = PendingCommand(
        endpoint_id=endpoint_id(style),
        message_id=message_id,
        correlation_token=CORRELATION,
        user_id=USER,
        reference=reference,
        change=Change(brightness=55, on=True),
        expected=BulbState(on=True, brightness=55),
        features=COLOR,
        received_at=now,
        deadline=now + 8,
    )
    return {
        "pk": {"S": f"pending#{command.endpoint_id}"},
        "sk": {"S": message_id},
        "body": {"S": command.model_dump_json()},
        "expires_at": {"N": str(int(now) + 3608)},
    }


def token_item(now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    return {
        "user_id": {"S": USER},
        "region": {"S": "NA"},
        "access_token": {"S": "Atza|bench"},
        "refresh_token": {"S": "Atzr|bench"},
        "expires_at": {"N": str(int(now + 3600))},
    }


def outbox_body(now: float | None = None) -> str:
    from skill.alexa import events, state_properties

    now = time.time() if now is None else now
    message = events.response(
        CORRELATION,
        endpoint_id("sync"),
        state_properties(COLOR, BulbState(on=True, brightness=55), now),
    )
    return OutboxMessage(
        user_id=USER,
        message=message,
        deadline=now + 8,
        received_at=now,
        correlation_id=str(uuid.uuid4()),
    ).model_dump_json()


# -- the first invocation of each handler ------------------------------------------------------

#: handler module -> the boto3 clients it needs over its life (the cold-start floor); every
#: function that calls vendors decrypts their credentials (kms).
FLOOR_CLIENTS = {
    "skill.handlers.entrypoint": ("sqs", "dynamodb", "secretsmanager", "kms"),
    "skill.handlers.processors.sync": ("sqs", "dynamodb", "kms"),
    "skill.handlers.processors.async_": ("sqs", "dynamodb", "kms"),
    "skill.handlers.processors.optimistic": ("sqs", "dynamodb", "kms"),
    "skill.handlers.processors.polling": ("sqs", "dynamodb", "kms"),
    "skill.handlers.notifications": ("sqs", "dynamodb", "secretsmanager", "kms"),
    "skill.handlers.poller": ("sqs", "dynamodb", "kms"),
    "skill.handlers.sweep": ("sqs", "dynamodb", "kms"),
    "skill.handlers.sweep_scheduler": ("sqs", "dynamodb"),
    "skill.handlers.dispatcher": ("dynamodb", "secretsmanager"),
}

_PROCESSOR_DEPS = (
    "pydantic",
    "powertools-logger",
    "powertools-metrics",
    "powertools-batch",
    "powertools-idempotency",
    "requests",
    "cachetools",
)
#: The third-party libraries each handler's first invocation loads (read off ``sys.modules`` of a
#: cold start), all of them chosen by the project's standards: pydantic for models and the
#: configuration, Powertools for logging, metrics, batches, idempotency, the webhook's routing
#: and secrets, requests for HTTP (vendors, LWA, the gateway), cachetools for the in-memory
#: caches. SDK floor + calls + these, each imported and used once = the "dependency floor".
FLOOR_DEPENDENCIES = {
    "skill.handlers.entrypoint": (
        "pydantic",
        "powertools-logger",
        "powertools-metrics",
        "requests",
        "ask-sdk-runtime",
        "pyjwt",
        "cachetools",
    ),
    "skill.handlers.processors.sync": _PROCESSOR_DEPS,
    "skill.handlers.processors.async_": _PROCESSOR_DEPS,
    "skill.handlers.processors.optimistic": _PROCESSOR_DEPS,
    "skill.handlers.processors.polling": _PROCESSOR_DEPS,
    "skill.handlers.notifications": (
        "pydantic",
        "powertools-logger",
        "powertools-metrics",
        "powertools-event-handler",
        "powertools-parameters",
        "requests",
        "cachetools",
    ),
    "skill.handlers.poller": (
        "pydantic",
        "powertools-logger",
        "powertools-metrics",
        "powertools-batch",
        "requests",
        "cachetools",
    ),
    "skill.handlers.sweep": (
        "pydantic",
        "powertools-logger",
        "powertools-metrics",
        "requests",
        "cachetools",
    ),
    "skill.handlers.sweep_scheduler": (
        "pydantic",
        "powertools-logger",
        "powertools-metrics",
    ),
    "skill.handlers.dispatcher": (
        "pydantic",
        "powertools-logger",
        "powertools-metrics",
        "powertools-batch",
        "requests",
        "cachetools",
    ),
}


def first_invocation(module: str, cloud: Any, simulator: Any) -> tuple[dict[str, Any], str]:
    """(event, what it exercises) for ``module``'s first invocation; seeds the stubs."""
    now = time.time()
    connect_all(cloud, simulator)  # the user's vendor credentials, in the vault
    if module == "skill.handlers.entrypoint":
        return control(
            "sync"
        ), "SetBrightness: token verified (JWKS), vault read -> directives queue, DeferredResponse"
    if module.startswith("skill.handlers.processors."):
        style = next(s for s, m in MODULE_OF_STYLE.items() if module.endswith("." + m))
        return (
            sqs_event([queued_body(style, now)], [endpoint_id(style)]),
            (
                f"1 FIFO record: vendor (sim-{style}) -> "
                f"{'outbox' if style in ('sync', 'optimistic') else 'pending'}"
            ),
        )
    if module == "skill.handlers.poller":
        message_id = str(uuid.uuid4())
        cloud.put("state", pending_item("polling", message_id, "r-1", now))
        cloud.put("state", owner_item("polling", now=now))
        simulator.set_state("sim-polling", DEVICE, on=True, brightness=55)
        ticket = PollTicket(endpoint_id=endpoint_id("polling"), message_id=message_id)
        return sqs_event(
            [ticket.model_dump_json()]
        ), "1 poll ticket: vendor read, converged -> outbox"
    if module == "skill.handlers.notifications":
        cloud.put("state", pending_item("async", str(uuid.uuid4()), "req-1", now))
        cloud.put("state", owner_item("async", now=now))
        headers, body = signed_push("req-1", {"on": True, "brightness": 55, "online": True})
        return (
            http_api_event("sim-async", PATH_SECRET, headers, body),
            "signed push matching a pending command -> outbox",
        )
    if module == "skill.handlers.dispatcher":
        cloud.put("tokens", token_item(now))
        return sqs_event([outbox_body(now)]), "1 outbox Response: token read -> gateway 202"
    if module == "skill.handlers.sweep":
        # the account's three bulbs are known, each with a state the vendor no longer shows
        for device in SIM_DEVICES:
            cloud.put("state", owner_item("polling", now=now, device=device))
        account = sweep_account("polling", now)
        return (
            sqs_event([account.model_dump_json()]),
            (
                "1 SQS record, 1 account of a polling vendor with 3 bulbs: list + 3 reads, owners "
                "from OwnersByUser -> ChangeReports on the outbox, the account's cadence rewritten"
            ),
        )
    if module == "skill.handlers.sweep_scheduler":
        # active a minute ago at a vendor whose quotas allow a read each minute: due now
        cloud.put("state", sweep_account_item(sweep_account("sync", now, active_ago=60.0)))
        return (
            scheduled_event(now),
            "1 minute: the due slots queried on SweepSlots, 1 account due -> 1 SendMessageBatch",
        )
    raise KeyError(module)


def scheduled_event(now: float | None = None) -> dict[str, Any]:
    """EventBridge's scheduled event (the sweep scheduler's each minute)."""
    now = time.time() if now is None else now
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/bulb-skill-sweep"],
        "detail": {},
    }
