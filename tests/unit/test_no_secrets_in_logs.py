"""No token or secret ever reaches a log line, at DEBUG, through a whole run.

One run of the skill's functions with every logger at DEBUG: the entrypoint (AcceptGrant with a
real ``LwaClient`` over ``responses``, the failure paths of AcceptGrant, Discover, ReportState,
control directives good and bad), the processors' pipeline (sync, and async with a vendor
adapter over HTTP and a signed webhook push through the notifications function, plus a vendor
outage), and the dispatcher (expired access token refreshed with LWA, a 401, a 400 that is
dead-lettered). Everything logged is captured three ways -- pytest's ``caplog``, a handler of our
own on every logger (formatted with tracebacks and the records' extra fields), and the
Powertools logger's JSON on stdout (``capsys``) -- and searched for each secret: the skill
user's access token (what Alexa sends), a stranger's token, the user's vendor credentials (an
OAuth token, and a key and secret sent to ``sim-async``), the grant code, the LWA access and
refresh tokens (first and refreshed), the LWA client secret, the webhook signing secret.

The webhook *path* secret is checked on its own: Powertools' HTTP resolver logs route arguments
at DEBUG (fixed: the secret segment is no longer a route argument); kept as a regression test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
import responses

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

from bulb_workbench.local.sim_adapters import create_async
from skill.alexa import features_to_cookie
from skill.aws.lwa import LwaClient
from skill.composition import Composition, using
from skill.errors import EndpointUnreachable
from skill.handlers import entrypoint, notifications
from skill.observability import logger as powertools_logger
from skill.pipeline import Pipeline, PipelineServices, PushHandler
from skill.plugins import AdapterRegistry, KeyAndSecret, OAuthToken
from skill.records import QueuedDirective, TokenRecord
from skill.routing import EntrypointServices, build_router
from tests.fakes import (
    COLOR,
    FakeAdapter,
    FakeIdentity,
    MemoryOutbox,
    MemoryPollQueue,
    MemoryQueue,
    MemoryStateStore,
    MemoryTokenStore,
    credentials_of,
    vault_with,
)

SKILL_TOKEN = "skill-access-tok-6e2b"  # what Alexa sends: identifies the skill user
USER = "user-1"
VENDOR_TOKEN = "vendor-tok-7f3a9cQ1"  # the user's credential at the fake vendor (in the vault)
VENDOR_REFRESH = "vendor-refresh-5b5bQ9"
SIM_KEY = "sim-key-0a1b2c"
SIM_SECRET = "sim-secret-9z8y7x"
STRANGER_TOKEN = "stranger-tok-0d0d0d"
GRANT_CODE = "grant-code-51be0dZ2"
BAD_GRANT_CODE = "grant-code-dead-8c8c"
ACCESS_TOKEN = "Atza|access-93kdLx"
REFRESH_TOKEN = "Atzr|refresh-x81mPq"
ACCESS_TOKEN_2 = "Atza|access-refreshed-44aa"
CLIENT_SECRET = "lwa-client-secret-zz91"
SIGNING_SECRET = "webhook-signing-secret-ab12"
PATH_SECRET = "webhook-path-secret-cd34"

SECRETS = {
    "skill access token": SKILL_TOKEN,
    "vendor token": VENDOR_TOKEN,
    "vendor refresh token": VENDOR_REFRESH,
    "sim-async key": SIM_KEY,
    "sim-async secret": SIM_SECRET,
    "another vendor token": STRANGER_TOKEN,
    "grant code": GRANT_CODE,
    "rejected grant code": BAD_GRANT_CODE,
    "LWA access token": ACCESS_TOKEN,
    "LWA refresh token": REFRESH_TOKEN,
    "refreshed LWA access token": ACCESS_TOKEN_2,
    "LWA client secret": CLIENT_SECRET,
    "webhook signing secret": SIGNING_SECRET,
}

LWA_URL = "https://api.amazon.com/auth/o2/token"
GATEWAY_URL = "https://api.amazonalexa.com/v3/events"
SIM = "http://127.0.0.1:8765/sim-async/v1"


# --- capture everything -------------------------------------------------------------------------


class _Everything(logging.Handler):
    """Every record, formatted with its traceback, stack and extra fields."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception as exc:  # a record that cannot be formatted is still searched
            text = f"{record.msg!r} {record.args!r} ({exc!r})"
        extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        self.lines.append(f"{text} {extras!r} args={record.args!r}")


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


@contextmanager
def everything_logged_at_debug() -> Iterator[_Everything]:
    handler = _Everything()
    loggers = [logging.getLogger()] + [
        logging.getLogger(name)
        for name in list(logging.Logger.manager.loggerDict)
        if isinstance(logging.Logger.manager.loggerDict[name], logging.Logger)
    ]
    saved = [(log, log.level, log.disabled) for log in loggers]
    powertools = powertools_logger()
    stream_handler = getattr(powertools, "registered_handler", None)
    old_stream = getattr(stream_handler, "stream", None)
    if old_stream is sys.stdout or getattr(old_stream, "closed", False):
        old_stream = sys.__stdout__  # created under this test's capsys: do not keep that stream
    if stream_handler is not None:
        stream_handler.stream = sys.stdout  # capsys's, so the JSON lines are captured
    old_powertools_level = powertools.log_level
    powertools.setLevel(logging.DEBUG)
    for log in loggers:
        log.setLevel(logging.DEBUG)
        log.disabled = False
        log.addHandler(handler)
    try:
        yield handler
    finally:
        for log, level, disabled in saved:
            log.removeHandler(handler)
            log.setLevel(level)
            log.disabled = disabled
        powertools.setLevel(old_powertools_level)
        if stream_handler is not None:
            stream_handler.stream = old_stream


def leaks(text: str, secrets: dict[str, str]) -> dict[str, list[str]]:
    """Which secrets appear in ``text``, with a little context for each."""
    found: dict[str, list[str]] = {}
    for what, secret in secrets.items():
        start = text.find(secret)
        while start != -1 and len(found.get(what, [])) < 3:
            found.setdefault(what, []).append(text[max(0, start - 160) : start + len(secret) + 40])
            start = text.find(secret, start + 1)
    return found


# --- the run -------------------------------------------------------------------------------------


def header(namespace: str, name: str, correlation: bool = True) -> dict[str, Any]:
    value = {
        "namespace": namespace,
        "name": name,
        "payloadVersion": "3",
        "messageId": str(uuid.uuid4()),
    }
    if correlation:
        value["correlationToken"] = "corr-" + uuid.uuid4().hex
    return value


def accept_grant(code: str, token: str = SKILL_TOKEN) -> dict[str, Any]:
    return {
        "directive": {
            "header": header("Alexa.Authorization", "AcceptGrant", False),
            "payload": {
                "grant": {"type": "OAuth2.AuthorizationCode", "code": code},
                "grantee": {"type": "BearerToken", "token": token},
            },
        }
    }


def discover(token: str = SKILL_TOKEN) -> dict[str, Any]:
    return {
        "directive": {
            "header": header("Alexa.Discovery", "Discover", False),
            "payload": {"scope": {"type": "BearerToken", "token": token}},
        }
    }


def to_endpoint(
    namespace: str,
    name: str,
    payload=None,
    endpoint_id="fake:color-1",
    token=SKILL_TOKEN,
    **changes,
) -> dict[str, Any]:
    directive = {
        "header": header(namespace, name),
        "payload": payload or {},
        "endpoint": {
            "endpointId": endpoint_id,
            "scope": {"type": "BearerToken", "token": token},
            "cookie": features_to_cookie(COLOR),
        },
    }
    directive["header"].update(changes)
    return {"directive": directive}


def lwa_answers(calls: list[dict[str, str]]):
    def answer(request):
        form = dict(pair.split("=", 1) for pair in request.body.split("&"))
        calls.append(form)
        if form.get("code") == BAD_GRANT_CODE:
            return (
                400,
                {},
                json.dumps(
                    {
                        "error": "invalid_grant",
                        "error_description": "The request has an invalid grant parameter : code",
                    }
                ),
            )
        if form["grant_type"] == "refresh_token":
            return (
                200,
                {},
                json.dumps(
                    {
                        "access_token": ACCESS_TOKEN_2,
                        "refresh_token": REFRESH_TOKEN,
                        "token_type": "bearer",
                        "expires_in": 3600,
                    }
                ),
            )
        return (
            200,
            {},
            json.dumps(
                {
                    "access_token": ACCESS_TOKEN,
                    "refresh_token": REFRESH_TOKEN,
                    "token_type": "bearer",
                    "expires_in": 3600,
                }
            ),
        )

    return answer


def vendor_adapter() -> FakeAdapter:
    return FakeAdapter(credential=OAuthToken.bearer(VENDOR_TOKEN, refresh_token=VENDOR_REFRESH))


def run_entrypoint(tokens: MemoryTokenStore, queue: MemoryQueue) -> list[dict[str, Any]]:
    lwa_calls: list[dict[str, str]] = []
    adapter = vendor_adapter()
    services = EntrypointServices(
        adapters=AdapterRegistry({"fake": lambda _ctx: adapter}, environ={}),
        tokens=tokens,
        lwa=LwaClient(LWA_URL, lambda: ("amzn1.application-oa2-client.test", CLIENT_SECRET)),
        queue=queue,
        identity=FakeIdentity({SKILL_TOKEN: USER}),
        credentials=credentials_of(vault_with(adapter)),
        owners=MemoryStateStore(),
    )
    router = build_router(services)
    answers = []
    with responses.RequestsMock() as http, using(Composition(router=router)):
        http.add_callback(responses.POST, LWA_URL, callback=lwa_answers(lwa_calls))
        for event in (
            accept_grant(GRANT_CODE),
            accept_grant(BAD_GRANT_CODE),
            accept_grant(GRANT_CODE, token=STRANGER_TOKEN),
            discover(),
            discover(STRANGER_TOKEN),
            to_endpoint("Alexa", "ReportState"),
            to_endpoint("Alexa.PowerController", "TurnOn"),
            to_endpoint("Alexa.BrightnessController", "SetBrightness", {"brightness": 40}),
            to_endpoint("Alexa.BrightnessController", "SetBrightness", {"brightness": "forty"}),
            to_endpoint("Alexa.BrightnessController", "SetBrightness", {"brightness": 400}),
            to_endpoint("Alexa.PowerController", "TurnOn", endpoint_id="nobody:1"),
            to_endpoint("Alexa.PowerController", "TurnOn", payloadVersion="2"),
            to_endpoint(
                "Alexa.PowerController", "TurnOn", token=STRANGER_TOKEN, endpoint_id="bad id!"
            ),
            {
                "directive": {
                    "endpoint": {"scope": {"token": SKILL_TOKEN}},
                    "payload": {"grant": {"code": GRANT_CODE}},
                }
            },
            to_endpoint(
                "Alexa.PowerController", "TurnOn", token=VENDOR_TOKEN
            ),  # a vendor's token as Alexa's
        ):
            answers.append(entrypoint.handler(event, None))
        tokens.failure = ConnectionError("dynamodb down")  # AcceptGrant's logger.exception path
        answers.append(entrypoint.handler(accept_grant(GRANT_CODE), None))
        tokens.failure = None
        http.replace(responses.POST, LWA_URL, body=ConnectionError("lwa unreachable"))
        answers.append(entrypoint.handler(accept_grant(GRANT_CODE), None))
    return answers


def run_pipeline(queue: MemoryQueue) -> MemoryOutbox:
    outbox = MemoryOutbox()
    adapter = vendor_adapter()
    services = PipelineServices(
        adapters=AdapterRegistry({"fake": lambda _ctx: adapter}, environ={}),
        credentials=credentials_of(vault_with(adapter)),
        outbox=outbox,
        pending=MemoryStateStore(),
        poll_queue=MemoryPollQueue(),
        sleep=lambda _s: None,
    )
    for _style, queued in queue.messages:
        Pipeline(services).process(QueuedDirective.model_validate_json(queued.model_dump_json()))
    adapter.failure = EndpointUnreachable("vendor down")  # retries, then ENDPOINT_UNREACHABLE
    for _style, queued in queue.messages:
        Pipeline(services).process(queued)
    return outbox


def run_async_with_a_push() -> MemoryOutbox:
    """sim-async over HTTP (``responses``): 202 then a signed push through the webhook."""
    environ = {"SIM_WEBHOOK_SECRET": SIGNING_SECRET}
    registry = AdapterRegistry({"sim-async": create_async}, environ=environ)
    outbox = MemoryOutbox()
    vault = vault_with()
    vault.connect(USER, "sim-async", KeyAndSecret.of(SIM_KEY, SIM_SECRET), account_id="user-1")
    services = PipelineServices(
        adapters=registry,
        credentials=credentials_of(vault),
        outbox=outbox,
        pending=MemoryStateStore(),
        sleep=lambda _s: None,
    )
    state = {"on": False, "brightness": 50, "online": True}
    with responses.RequestsMock() as http:
        http.get(f"{SIM}/devices/bulb-1/state", json=state)
        http.post(f"{SIM}/devices/bulb-1/commands", json={"request_id": "req-77"}, status=202)
        event = to_endpoint("Alexa.PowerController", "TurnOn", endpoint_id="sim-async:bulb-1")
        queued = QueuedDirective.without_token(
            event["directive"],
            user_id=USER,
            received_at=time.time(),
            deadline=time.time() + 8,
            features=COLOR,
        )
        assert Pipeline(services).process(queued) == "pending"
    body = json.dumps(
        {
            "device_id": "bulb-1",
            "request_id": "req-77",
            "user_id": "user-1",
            "state": {**state, "on": True},
        }
    ).encode()
    timestamp = str(int(time.time()))
    signature = (
        "sha256="
        + hmac.new(
            SIGNING_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
    )
    secrets = SimpleNamespace(accepted=lambda vendor: (PATH_SECRET,))
    with using(Composition(push_handler=PushHandler(services), path_secrets=secrets)):
        for sig in (signature, "sha256=" + "0" * 64):  # genuine, then forged
            answer = notifications.handler(webhook_event(body, timestamp, sig), None)
            assert answer["statusCode"] in (200, 401)
    assert [m.kind for m in outbox.messages] == ["Response"]
    return outbox


def webhook_event(body: bytes, timestamp: str, signature: str) -> dict[str, Any]:
    path = f"/webhooks/sim-async/{PATH_SECRET}"
    return {
        "version": "2.0",
        "routeKey": "POST /webhooks/{vendor}/{secret}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "x-sim-timestamp": timestamp,
            "x-sim-signature": signature,
        },
        "requestContext": {
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "sim",
            },
            "stage": "$default",
            "requestId": "r",
            "routeKey": "x",
            "accountId": "1",
            "apiId": "a",
            "domainName": "d",
            "domainPrefix": "d",
            "time": "t",
            "timeEpoch": 0,
        },
        "pathParameters": {"vendor": "sim-async", "secret": PATH_SECRET},
        "body": body.decode(),
        "isBase64Encoded": False,
    }


def run_dispatcher(tokens: MemoryTokenStore, outbox: MemoryOutbox) -> None:
    from skill import delivery
    from skill.aws.gateway import GatewayClient

    record = tokens.get("user-1")  # the last AcceptGrant (LWA unreachable) kept only the code
    assert record is not None and record.grant_code == GRANT_CODE
    tokens.put(
        TokenRecord(
            user_id="user-1",
            access_token=ACCESS_TOKEN,
            refresh_token=REFRESH_TOKEN,
            expires_at=time.time() - 10,
        )
    )  # expired: the dispatcher refreshes first

    class DeadLetters:
        def __init__(self) -> None:
            self.bodies: list[str] = []

        def put(self, body, attributes) -> None:
            self.bodies.append(body)

    dead = DeadLetters()
    answers = iter(
        [
            (401, {}),
            (202, {}),
            (400, {"payload": {"code": "INVALID_REQUEST_EXCEPTION", "description": "bad"}}),
        ]
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
        http.add_callback(responses.POST, LWA_URL, callback=lwa_answers([]))

        def gateway(request):
            status, body = next(answers, (202, {}))
            return status, {}, json.dumps(body)

        http.add_callback(responses.POST, GATEWAY_URL, callback=gateway)
        dispatcher = delivery.Dispatcher(
            delivery.TokenCache(tokens, LwaClient(LWA_URL, lambda: ("id", CLIENT_SECRET))),
            GatewayClient(),
            lambda region: GATEWAY_URL,
            dead_letters=dead,
            sleep=lambda _s: None,
        )
        for message in outbox.messages[:2]:
            dispatcher.deliver(
                message.model_copy(update={"deadline": time.time() + 8, "user_id": "user-1"})
            )
    assert dead.bodies, "the 400 path was not exercised"


def test_no_token_or_secret_is_logged_through_a_whole_run(caplog, capsys):
    tokens, queue = MemoryTokenStore(), MemoryQueue()
    with everything_logged_at_debug() as handler:
        caplog.set_level(logging.DEBUG)
        answers = run_entrypoint(tokens, queue)
        outbox = run_pipeline(queue)
        run_async_with_a_push()
        run_dispatcher(tokens, outbox)
    out = capsys.readouterr()
    assert [a["event"]["header"]["name"] for a in answers[:2]] == [
        "AcceptGrant.Response",
        "ErrorResponse",
    ]
    assert (
        answers[4]["event"]["payload"]["type"] == "INVALID_AUTHORIZATION_CREDENTIAL"
    )  # a stranger
    assert len(queue.messages) == 2 and outbox.messages  # the run did go through every step
    assert handler.lines and out.out, "nothing was captured: the capture itself is broken"
    found = {
        "caplog": leaks(caplog.text + "\n".join(r.getMessage() for r in caplog.records), SECRETS),
        "log records": leaks("\n".join(handler.lines), SECRETS),
        "stdout": leaks(out.out, SECRETS),
        "stderr": leaks(out.err, SECRETS),
    }
    found = {where: hits for where, hits in found.items() if hits}
    assert not found, json.dumps(found, indent=2)


def test_the_webhook_path_secret_is_not_logged_at_debug(caplog, capsys):
    with everything_logged_at_debug() as handler:
        caplog.set_level(logging.DEBUG)
        run_async_with_a_push()
    text = caplog.text + "\n".join(handler.lines) + capsys.readouterr().out
    found = leaks(text, {"webhook path secret": PATH_SECRET})
    assert not found, json.dumps(found, indent=2)
