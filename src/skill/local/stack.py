"""The local stack: the whole skill on loopback, in one process, without Docker or AWS.

``LocalStack`` starts

- moto's server (SQS, DynamoDB, Secrets Manager over HTTP) with the queues and tables that
  template.yaml and its nested templates declare (so they cannot drift),
- the vendor simulator (``skill.local.simulator``) pushing webhooks to a local HTTP API that
  calls the notifications function,
- a fake Login with Amazon token endpoint and a fake Alexa event gateway that validates every
  event against the official schema,
- pollers that feed each queue to the handler the template connects to it, as Lambda does,

and points the process's environment at them (restored on exit). Handlers run in-process.

Example (a pytest fixture; one stack per module, starting one takes about a second)::

    @pytest.fixture(scope="module")
    def stack():
        with LocalStack(latency=0.01, transition=0.2) as running:
            running.link_demo_user()       # AcceptGrant: the dispatcher needs the LWA tokens
            yield running

    def test_turn_on(stack):
        directive = json.loads(Path("events/TurnOn.sync.json").read_text())
        answer = stack.invoke(directive)   # what Alexa gets at once: DeferredResponse
        token = directive["directive"]["header"]["correlationToken"]
        events = stack.wait_for_answer(token)  # what the event gateway accepted later
        assert events[-1]["event"]["header"]["name"] == "Response"

One stack at a time per process: it owns ``os.environ`` while it runs, and moto's server is
shared by the stacks of a process (emptied when a stack starts).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from skill.local._fake_gateway import FakeGateway
from skill.local._fake_lwa import FakeLwa
from skill.local._pollers import LambdaContext, QueuePoller, handler_available, load_handler
from skill.local._resources import (
    ACCOUNT_ID,
    REGION,
    Consumer,
    Resources,
    StackModel,
    TemplateError,
    consumers,
    create_resources,
    environment,
    handler_or,
    read_template,
)
from skill.local._webhook import ROUTE_KEY, WebhookBridge
from skill.local.faults import FaultProfile, Faults, install, profile_of

__all__ = [
    "DEFAULT_ADAPTERS",
    "DEMO_TOKEN",
    "LocalStack",
    "TemplateError",
    "accept_grant",
    "default_template",
    "discover",
    "set_brightness",
]

_log = logging.getLogger(__name__)

DEMO_TOKEN = "demo-token"
DEFAULT_ADAPTERS = "sim-sync,sim-async,sim-optimistic,sim-polling"
LWA_SECRET_NAME = "bulb-skill/lwa"
VENDOR_SECRETS_NAME = "bulb-skill/vendor-secrets"
LWA_CLIENT_ID = "amzn1.application-oa2-client.local"

#: Parameter overrides for template.yaml: every processor style is deployed locally.
TEMPLATE_PARAMETERS = {
    "SkillId": "amzn1.ask.skill.00000000-0000-0000-0000-000000000000",
    "EnableSync": "true",
    "EnableAsync": "true",
    "EnableOptimistic": "true",
    "EnablePolling": "true",
}

#: Variables a developer's shell may hold that would send boto3 elsewhere than moto.
_AWS_NOISE = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")

#: Modules whose caches are process plumbing, not container state.
_KEEP_CACHES = frozenset({"skill.observability", "skill.local.schema"})


def default_template() -> Path:
    """template.yaml at the repository root (``SKILL_TEMPLATE`` overrides)."""
    override = os.environ.get("SKILL_TEMPLATE")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "template.yaml"


class LocalStack:
    """Everything the skill talks to, on 127.0.0.1; a context manager.

    ``latency``/``transition`` are the simulator's (vendor answer time, time for a 202 command
    to land); ``retry_after`` is how soon a failed SQS message is redelivered; ``env`` adds or
    overrides environment variables (e.g. ``{"ADAPTERS": "sim-sync"}``); ``pollers=False``
    leaves every queue alone (tests that drive handlers themselves). ``faults`` makes the
    simulator, the gateway and LWA fail a share of calls (``"vendor=0.2,gateway=0.1,lwa=0.3"``
    or a ``FaultProfile``; see ``skill.local.faults``); they are then in ``self.faults``.
    """

    def __init__(
        self,
        *,
        template: Path | str | None = None,
        parameters: Mapping[str, str] | None = None,
        latency: float = 0.05,
        transition: float = 0.6,
        deadline_seconds: float = 8.0,
        adapters: str = DEFAULT_ADAPTERS,
        token_lifetime: float = 3600,
        retry_after: int = 1,
        pollers: bool = True,
        poller_concurrency: int = 4,
        metrics: bool = False,
        env: Mapping[str, str] | None = None,
        faults: FaultProfile | str | Mapping[str, float] | None = None,
    ) -> None:
        self.template = Path(template) if template else default_template()
        self.parameters = {**TEMPLATE_PARAMETERS, **(parameters or {})}
        self.latency = latency
        self.transition = transition
        self.deadline_seconds = deadline_seconds
        self.adapters = adapters
        self.token_lifetime = token_lifetime
        self.retry_after = retry_after
        self.run_pollers = pollers
        self.poller_concurrency = poller_concurrency
        self.metrics = metrics
        self.extra_env = dict(env or {})
        self.fault_profile = profile_of(faults)
        self.faults: Faults | None = None
        self.env: dict[str, str] = {}
        self.warnings: list[str] = []
        self.startup_seconds: float | None = None
        self.model: StackModel | None = None
        self.resources: Resources | None = None
        self.consumers: list[Consumer] = []
        self.pollers: dict[str, QueuePoller] = {}
        self._exit: ExitStack | None = None
        self._saved_env: dict[str, str] | None = None
        self._clients: dict[str, Any] = {}
        self._sqs: Any = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> LocalStack:
        if self._exit is not None:
            return self
        began = time.perf_counter()
        model = read_template(self.template, self.parameters)  # fails before touching anything
        exit_stack = ExitStack()
        self._saved_env = dict(os.environ)
        exit_stack.callback(self._restore_env)
        try:
            self._start(model, exit_stack)
        except BaseException:
            exit_stack.close()
            raise
        self._exit = exit_stack
        self.startup_seconds = time.perf_counter() - began
        _log.info("local stack up in %.0f ms", self.startup_seconds * 1000)
        return self

    def _start(self, model: StackModel, exit_stack: ExitStack) -> None:
        from skill.local._moto import JsonClient, moto_url
        from skill.local.simulator import VendorSimulator

        self.model = model
        url = moto_url()
        aws = _aws_environment(url)
        _apply(aws)
        self._clients.clear()
        self._sqs = JsonClient(url, "sqs", REGION)
        self.resources = create_resources(model, self._sqs, JsonClient(url, "dynamodb", REGION))
        wiring = environment(model, self.resources)
        self.warnings = list(wiring.warnings)
        self.consumers, consumer_warnings = consumers(model)
        self.warnings += consumer_warnings
        for warning in self.warnings:
            print(f"local stack: {warning}", file=sys.stderr)

        client_secret = secrets.token_urlsafe(24)
        sim_secret = secrets.token_urlsafe(24)
        path_secret = secrets.token_urlsafe(24)
        sm = JsonClient(url, "secretsmanager", REGION)
        sm.create_secret(
            Name=LWA_SECRET_NAME,
            SecretString=json.dumps({"client_id": LWA_CLIENT_ID, "client_secret": client_secret}),
        )
        sm.create_secret(
            Name=VENDOR_SECRETS_NAME,
            SecretString=json.dumps(
                {"SIM_WEBHOOK_SECRET": sim_secret, "WEBHOOK_PATH_SECRET": path_secret}
            ),
        )

        self.lwa = FakeLwa(LWA_CLIENT_ID, client_secret, token_lifetime=self.token_lifetime)
        self.lwa.start()
        exit_stack.callback(self.lwa.stop)
        self.gateway = FakeGateway(self.lwa.is_valid)
        self.gateway.start()
        exit_stack.callback(self.gateway.stop)

        handler, name, timeout, route_key = self._notifications_function()
        self.webhook = WebhookBridge(handler, name, route_key=route_key, timeout=timeout)
        self.webhook.start()
        exit_stack.callback(self.webhook.stop)
        vendor_param, secret_param = (self.webhook.route_parameters + ["vendor", "secret"])[:2]
        webhook_url = self.webhook.url_for(**{vendor_param: "sim-async", secret_param: path_secret})

        self.simulator = VendorSimulator(
            latency=self.latency,
            transition=self.transition,
            webhook_url=webhook_url,
            webhook_secret=sim_secret,
        )
        self.simulator.start()
        exit_stack.callback(self.simulator.stop)
        self._install_faults(exit_stack)

        self.env = {
            **aws,
            **wiring.environment,
            "LWA_SECRET_NAME": LWA_SECRET_NAME,
            # the same JSON object of vendor secrets under both names skill.secrets reads
            "VENDOR_SECRETS_NAME": VENDOR_SECRETS_NAME,
            "WEBHOOK_SECRET_NAME": VENDOR_SECRETS_NAME,
            "LOCAL_SECRETS_FROM_ENV": "1",
            "SIM_WEBHOOK_SECRET": sim_secret,
            "WEBHOOK_PATH_SECRET": path_secret,
            "SIMULATOR_URL": self.simulator.url,
            "LWA_TOKEN_URL": self.lwa.token_url,
            "GATEWAY_URL": self.gateway.events_url,
            "ADAPTERS": self.adapters,
            "DEADLINE_SECONDS": _number(self.deadline_seconds),
            "POWERTOOLS_SERVICE_NAME": "bulb-skill",
            "POWERTOOLS_METRICS_NAMESPACE": "BulbSkill",
            "POWERTOOLS_METRICS_DISABLED": "false" if self.metrics else "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            **self.extra_env,
        }
        _apply(self.env)
        cold_start()
        exit_stack.callback(cold_start)  # runs before the environment is restored
        self._init_handlers()

        if self.run_pollers:
            self._start_pollers(exit_stack)

    def _install_faults(self, exit_stack: ExitStack) -> None:
        self.faults = None
        if self.fault_profile is None:
            return
        self.faults = install(
            self.fault_profile, simulator=self.simulator, gateway=self.gateway, lwa=self.lwa
        )
        exit_stack.callback(self.faults.stop)  # before the servers stop: held requests end

    def _start_pollers(self, exit_stack: ExitStack) -> None:
        assert self.resources is not None
        sqs = self._sqs
        for consumer in self.consumers:
            queue = self.resources.queues[consumer.queue_key]
            self.pollers[consumer.queue_key] = QueuePoller(
                sqs=sqs,
                queue_url=queue.url,
                queue_arn=queue.arn,
                handler=consumer.handler,
                function_name=consumer.function_name,
                timeout=consumer.timeout,
                batch_size=consumer.batch_size,
                report_batch_item_failures=consumer.report_batch_item_failures,
                retry_after=self.retry_after,
                concurrency=self.poller_concurrency,
                fifo=queue.spec.fifo,
                delayed=consumer.queue_key.endswith("PollQueue"),  # tickets carry DelaySeconds
            )

        def stop_all() -> None:
            for poller in self.pollers.values():
                poller.signal_stop()
            for poller in self.pollers.values():
                poller.join()
            self.pollers.clear()

        exit_stack.callback(stop_all)
        for poller in self.pollers.values():
            poller.start()

    def _init_handlers(self) -> None:
        """Import every handler module now, one after the other, as Lambda's init phase would:
        first imports from several poller threads at once can deadlock on modules that import
        each other. A module that is missing or fails here is reported by its poller."""
        assert self.model is not None
        paths = [self._entrypoint()[0], self.webhook.handler]
        paths += [c.handler for c in self.consumers]
        paths += [f.handler for f in self.model.scheduled_functions() if f.handler]
        for path in dict.fromkeys(paths):
            try:
                load_handler(path)
            except Exception:  # HandlerMissing or a broken module: its poller says so
                pass

    def stop(self) -> None:
        exit_stack, self._exit = self._exit, None
        if exit_stack is not None:
            exit_stack.close()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _restore_env(self) -> None:
        saved, self._saved_env = self._saved_env, None
        if saved is not None:
            os.environ.clear()
            os.environ.update(saved)

    # -- AWS clients (the stack's own, for tests and inspection) ---------------------------------

    def client(self, service: str) -> Any:
        """A boto3 client for moto, made at first use (not shared with the handlers' cached
        ones): for tests and inspection."""
        if service not in self._clients:
            import boto3
            from botocore.config import Config

            self._clients[service] = boto3.session.Session().client(
                service,
                region_name=REGION,
                endpoint_url=self.env.get("AWS_ENDPOINT_URL") or os.environ["AWS_ENDPOINT_URL"],
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=Config(max_pool_connections=20),
            )
        return self._clients[service]

    def queue_url(self, key: str) -> str:
        """URL of a queue by template key (``OutboxQueue``, ``SyncProcessor/DirectivesQueue``)
        or by environment variable (``DIRECTIVES_QUEUE_SYNC_URL``)."""
        assert self.resources is not None, "start the stack first"
        if key in self.env:
            return self.env[key]
        return self.resources.queues[key].url

    def table_name(self, key: str) -> str:
        assert self.resources is not None, "start the stack first"
        if key in self.env:
            return self.env[key]
        return self.resources.tables[key].name

    def messages_on(self, key: str) -> dict[str, int]:
        """Approximate visible / in-flight / delayed counts of a queue."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.queue_url(key), AttributeNames=["All"]
        )["Attributes"]
        return {
            "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
            "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        }

    # -- driving the skill -------------------------------------------------------------------------

    def invoke(self, event: Any) -> dict[str, Any]:
        """Alexa invokes the entrypoint with ``event``; its answer, JSON round-tripped as Lambda
        would (a value Lambda cannot serialise fails here too)."""
        handler, name, timeout = self._entrypoint()
        payload = json.loads(json.dumps(event))
        result = load_handler(handler)(payload, LambdaContext(name, timeout=timeout))
        return json.loads(json.dumps(result))

    def link_demo_user(self, token: str = DEMO_TOKEN) -> dict[str, Any]:
        """AcceptGrant for the demo account through the entrypoint: the user's LWA tokens are
        then in the tokens table, so the dispatcher can post to the gateway. Setup: injected
        faults are off meanwhile."""
        with self.faults.suspended() if self.faults else ExitStack():
            answer = self.invoke(accept_grant(token, f"local-grant-{uuid.uuid4().hex[:12]}"))
        if answer.get("event", {}).get("header", {}).get("name") != "AcceptGrant.Response":
            raise RuntimeError(f"linking the demo user failed: {json.dumps(answer)[:500]}")
        return answer

    def wait_for_answer(
        self, correlation_token: str, timeout: float | None = None
    ) -> list[dict[str, Any]]:
        """The events the gateway accepted for one directive, once the final one (Response or
        ErrorResponse) arrived, or after ``timeout`` (default: the deadline + 2 s)."""
        if timeout is None:
            timeout = self.deadline_seconds + 2
        return self.gateway.wait_for(correlation_token, timeout)

    def deferred_path_missing(self, endpoint_id: str) -> list[str]:
        """The handlers that do not exist yet on the deferred path of ``endpoint_id`` (empty when
        its final answer can reach the gateway)."""
        style = self.style_of(endpoint_id)
        if style is None:
            return []
        needed = [c.handler for c in self.consumers if c.queue_key.endswith("OutboxQueue")]
        for consumer in self.consumers:
            queue = self.model.queues[consumer.queue_key] if self.model else None
            if queue is None or self.model is None:
                continue
            if queue.logical_id == "DirectivesQueue" and self.model.style_of(queue) == style:
                needed.append(consumer.handler)
            if queue.logical_id == "PollQueue" and style == "polling":
                needed.append(consumer.handler)
        if style == "async":
            needed.append(self.webhook.handler)
        return [h for h in needed if not handler_available(h)]

    def style_of(self, endpoint_id: str) -> str | None:
        """The API style of the adapter an endpoint id routes to (None if none does)."""
        from skill.plugins import AdapterRegistry, decode_endpoint_id

        try:
            vendor, _ = decode_endpoint_id(endpoint_id)
            return AdapterRegistry.from_environment().get(vendor).style.value
        except Exception:
            return None

    def tick_sweep(self) -> Any:
        """Run the scheduled sweep once, with the EventBridge event its schedule would send."""
        assert self.model is not None
        handler, name, timeout = handler_or(
            self.model, lambda f: bool(f.schedules), "skill.sweep.handler"
        )
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT_ID,
            "time": now,
            "region": REGION,
            "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{name}-schedule"],
            "detail": {},
        }
        return load_handler(handler)(event, LambdaContext(name, timeout=timeout))

    @contextmanager
    def paused(self) -> Iterator[LocalStack]:
        """Within the block no poller hands messages to a handler: queued messages stay where
        they are, for a test to look at. Batches already in a handler finish first, and pollers
        waiting on ``ReceiveMessage`` give back what they get (entering takes up to ~1 s)."""
        for poller in self.pollers.values():
            poller.pause()
        try:
            deadline = time.monotonic() + 30
            while any(p.holding for p in self.pollers.values()) and time.monotonic() < deadline:
                time.sleep(0.02)
            yield self
        finally:
            for poller in self.pollers.values():
                poller.pause(False)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every consumed queue is empty, no handler runs and the simulator has nothing
        in flight (queues whose handler is missing are ignored); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._idle():
                return True
            time.sleep(0.1)
        return False

    def _idle(self) -> bool:
        if any(p.busy for p in self.pollers.values()):
            return False
        for key, poller in self.pollers.items():
            if poller.missing:
                continue
            if any(self.messages_on(key).values()):
                return False
        return self.simulator.wait_idle(0)

    # -- template lookups -------------------------------------------------------------------------

    def _entrypoint(self) -> tuple[str, str, float]:
        assert self.model is not None, "start the stack first"
        return handler_or(
            self.model, lambda f: f.handler == "skill.entrypoint.handler", "skill.entrypoint.handler"
        )

    def _notifications_function(self) -> tuple[str, str, float, str]:
        assert self.model is not None
        for function in self.model.functions.values():
            for method, path in function.http_routes:
                if path.startswith("/webhooks/") and function.handler:
                    return function.handler, function.name, function.timeout, f"{method} {path}"
        handler, name, timeout = handler_or(self.model, lambda f: False, "skill.notifications.handler")
        return handler, name, timeout, ROUTE_KEY


# -- helpers -------------------------------------------------------------------------------------


def accept_grant(token: str, code: str) -> dict[str, Any]:
    """An ``Alexa.Authorization/AcceptGrant`` directive (what Alexa sends when a user links)."""
    return {
        "directive": {
            "header": {
                "namespace": "Alexa.Authorization",
                "name": "AcceptGrant",
                "messageId": str(uuid.uuid4()),
                "payloadVersion": "3",
            },
            "payload": {
                "grant": {"type": "OAuth2.AuthorizationCode", "code": code},
                "grantee": {"type": "BearerToken", "token": token},
            },
        }
    }


def discover(token: str) -> dict[str, Any]:
    """An ``Alexa.Discovery/Discover`` directive for the account ``token`` belongs to."""
    return {
        "directive": {
            "header": {
                "namespace": "Alexa.Discovery",
                "name": "Discover",
                "payloadVersion": "3",
                "messageId": str(uuid.uuid4()),
            },
            "payload": {"scope": {"type": "BearerToken", "token": token}},
        }
    }


def set_brightness(endpoint_id: str, brightness: int, token: str = DEMO_TOKEN) -> tuple[dict[str, Any], str]:
    """(a ``SetBrightness`` directive to a colour bulb, its correlation token)."""
    from skill.alexa import features_to_cookie
    from skill.bulbs import Features, KelvinRange

    correlation = uuid.uuid4().hex + "=="
    features = Features(dimmable=True, color=True,
                        color_temperature=KelvinRange(minimum=2000, maximum=9000))
    event = {"directive": {
        "header": {"namespace": "Alexa.BrightnessController", "name": "SetBrightness",
                   "payloadVersion": "3", "messageId": str(uuid.uuid4()),
                   "correlationToken": correlation},
        "endpoint": {"scope": {"type": "BearerToken", "token": token},
                     "endpointId": endpoint_id, "cookie": features_to_cookie(features)},
        "payload": {"brightness": brightness},
    }}
    return event, correlation


def cold_start() -> None:
    """Forget what ``skill`` modules cached at module level (settings, boto3 clients, adapters,
    routers: every ``functools.cache``) and Powertools' parameter cache, as a new Lambda
    container would; the next invocation builds them from the current environment."""
    for name, module in list(sys.modules.items()):
        if module is None or name in _KEEP_CACHES:
            continue
        if name != "skill" and not name.startswith("skill."):
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", None) == name:
                clear()
    parameters = sys.modules.get("aws_lambda_powertools.utilities.parameters")
    if parameters is not None:
        parameters.clear_caches()


def _aws_environment(endpoint: str) -> dict[str, str]:
    no_proxy = {h for h in os.environ.get("NO_PROXY", "").split(",") if h}
    no_proxy |= {"127.0.0.1", "localhost"}
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "NO_PROXY": ",".join(sorted(no_proxy)),
        "no_proxy": ",".join(sorted(no_proxy)),
    }


def _apply(variables: Mapping[str, str]) -> None:
    for name in list(os.environ):
        if name in _AWS_NOISE or name.startswith("AWS_ENDPOINT_URL_"):
            del os.environ[name]
    os.environ.update(variables)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
