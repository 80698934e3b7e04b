"""The local stack: the whole skill on loopback, in one process, without Docker or AWS.

``LocalStack`` starts

- moto's server (SQS, DynamoDB, Secrets Manager, KMS, Cognito over HTTP) with the queues,
  tables, KMS keys, user pool and app client that template.yaml and its nested templates
  declare (so they cannot drift),
- the skill's users: in ``cognito`` linking mode (the default) a demo user in the local user
  pool (``demo``, signing in as ``demo@example.com`` when the pool takes e-mail addresses as
  usernames; password ``Demo-password-1``; Alexa's token is an access token the pool issues
  to that user, verified against the JWKS moto serves), who has connected every enabled
  simulator vendor with that vendor's own credential (``demo-<vendor>-credential``, kept
  encrypted in the credentials vault through ``skill.accounts.Accounts.connect``); in ``vendor``
  mode (one adapter) the token Alexa sends is that vendor's credential itself,
- the vendor simulator (``bulb_workbench.local.simulator``) pushing webhooks to a local HTTP API
  that calls the notifications function,
- a fake Login with Amazon token endpoint and a fake Alexa event gateway that validates every
  event against the official schema,
- pollers that feed each queue to the handler the template connects to it, as Lambda does,
- in ``cognito`` mode the linking pages (``bulb_workbench.local._pages``: ``linking_url``) with a
  local stand-in for the Cognito managed login (``login_url``), and in every mode a Lambda function
  URL-like endpoint for the entrypoint (``entrypoint_url``: POST a directive, get its answer),

and points the process's environment at them (restored on exit). Handlers run in-process.

Example (a pytest fixture; one stack per module, starting one takes about a second)::

    @pytest.fixture(scope="module")
    def stack():
        with LocalStack(latency=0.01, transition=0.2) as running:
            running.link_demo_user()       # AcceptGrant: the dispatcher needs the LWA tokens
            yield running

    def test_turn_on(stack):
        directive = stack.with_demo_token(json.loads(Path("events/TurnOn.sync.json").read_text()))
        answer = stack.invoke(directive)   # what Alexa gets at once: DeferredResponse
        token = directive["directive"]["header"]["correlationToken"]
        events = stack.wait_for_answer(token)  # what the event gateway accepted later
        assert events[-1]["event"]["header"]["name"] == "Response"

One stack at a time per process: it owns ``os.environ`` while it runs, and moto's server is
shared by the stacks of a process (emptied when a stack starts).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from bulb_workbench.local._fake_gateway import FakeGateway
from bulb_workbench.local._fake_lwa import FakeLwa
from bulb_workbench.local._pollers import (
    LambdaContext,
    QueuePoller,
    handler_available,
    load_handler,
)
from bulb_workbench.local._resources import (
    ACCOUNT_ID,
    REGION,
    Consumer,
    CreatedUserPool,
    CreatedUserPoolClient,
    Resources,
    StackModel,
    TemplateError,
    consumers,
    create_resources,
    environment,
    handler_or,
    read_template,
)
from bulb_workbench.local._webhook import ROUTE_KEY, InvokeBridge, WebhookBridge
from bulb_workbench.local.faults import FaultProfile, Faults, faulty_simulator, install, profile_of

__all__ = [
    "DEFAULT_ADAPTERS",
    "DEMO_PASSWORD",
    "DEMO_TOKEN",
    "DEMO_USERNAME",
    "LINKING_MODES",
    "SAM_LOCAL_DIR",
    "LocalStack",
    "TemplateError",
    "accept_grant",
    "default_template",
    "discover",
    "set_brightness",
    "write_sam_local_env",
]

_log = logging.getLogger(__name__)

#: The placeholder token of the sample directives in events/; ``with_demo_token`` replaces it.
DEMO_TOKEN = "demo-token"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "Demo-password-1"
LINKING_MODES = ("cognito", "vendor")
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
_KEEP_CACHES = frozenset({"skill.observability"})


def default_template() -> Path:
    """template.yaml at the repository root (``SKILL_TEMPLATE`` overrides)."""
    override = os.environ.get("SKILL_TEMPLATE")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[4] / "template.yaml"


class LocalStack:
    """Everything the skill talks to, on 127.0.0.1; a context manager.

    ``latency``/``transition`` are the simulator's (vendor answer time, time for a 202 command
    to land); ``retry_after`` is how soon a failed SQS message is redelivered; ``env`` adds or
    overrides environment variables (e.g. ``{"ADAPTERS": "sim-sync"}``); ``pollers=False``
    leaves every queue alone (tests that drive handlers themselves). ``faults`` makes the
    simulator, the gateway and LWA fail a share of calls (``"vendor=0.2,gateway=0.1,lwa=0.3"``
    or a ``FaultProfile``; see ``bulb_workbench.local.faults``); they are then in ``self.faults``.

    ``linking`` is the account-linking mode (``ACCOUNT_LINKING``): ``cognito`` (the default)
    makes the template's user pool and app client, the demo user, and connects the demo user's
    simulator accounts (``demo_user_id``, ``demo_access_token()``, ``accounts``); ``vendor``
    needs exactly one adapter, whose own credential is then the token Alexa sends.

    ``demo_vendors`` (cognito mode): the simulator vendors the demo user has connected when the
    stack starts (names, or a comma-separated string; ``""`` none); default every enabled one.
    ``pages`` (cognito mode, default True): serve the linking pages and their sign-in stand-in.
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
        linking: str = "cognito",
        demo_vendors: str | Iterable[str] | None = None,
        pages: bool = True,
        stages: Mapping[str, Any] | None = None,
    ) -> None:
        if linking not in LINKING_MODES:
            raise ValueError(f"linking must be one of {LINKING_MODES}, not {linking!r}")
        names = [n.strip() for n in adapters.split(",") if n.strip()]
        if linking == "vendor" and len(names) != 1:
            raise ValueError(
                "vendor linking passes one vendor's own token through, so it needs exactly one "
                f"adapter (e.g. adapters='sim-sync'), not {names}"
            )
        self.linking = linking
        self.linking_vendor = names[0] if linking == "vendor" else ""
        if isinstance(demo_vendors, str):
            demo_vendors = [n.strip() for n in demo_vendors.split(",") if n.strip()]
        self.demo_vendors: list[str] | None = None if demo_vendors is None else list(demo_vendors)
        unknown = sorted(set(self.demo_vendors or ()) - set(names))
        if unknown:
            raise ValueError(f"demo_vendors {unknown} are not among the enabled adapters {names}")
        self.serve_pages = pages
        self.template = Path(template) if template else default_template()
        self.parameters = {
            **TEMPLATE_PARAMETERS,
            "AccountLinking": linking,
            "LinkingVendor": self.linking_vendor,
            "Adapters": ",".join(names),
            **(parameters or {}),
        }
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
        #: Vendors served by an adapter author's stub (``bulb_skill_kit.LocalVendor``, by vendor
        #: name) instead of the simulator: their adapter is pointed at the stub, the demo user
        #: links the stub's credential, and vendor faults are injected there too.
        self.stages: dict[str, Any] = dict(stages or {})
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
        self._cognito: Any = None
        self.user_pool: CreatedUserPool | None = None
        self.app_client: CreatedUserPoolClient | None = None
        self.accounts: Any = None  # skill.accounts.Accounts, once started
        self.demo_user_id: str = ""
        self.users: dict[str, str] = {}  # username -> user id (sub), the local pool's users
        self._users_lock = threading.Lock()
        self.pages: Any = None  # bulb_workbench.local._pages.LocalPages (cognito mode, pages=True)
        self.entrypoint_bridge: InvokeBridge | None = None

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
        from bulb_workbench.local._moto import JsonClient, moto_url
        from bulb_workbench.local.simulator import VendorSimulator

        self.model = model
        url = moto_url()
        aws = _aws_environment(url)
        _apply(aws)
        self._clients.clear()
        self._sqs = JsonClient(url, "sqs", REGION)
        self._cognito = JsonClient(url, "cognito-idp", REGION)
        self.resources = create_resources(
            model,
            self._sqs,
            JsonClient(url, "dynamodb", REGION),
            kms=JsonClient(url, "kms", REGION),
            cognito=self._cognito,
            # the demo user signs in with its password (Alexa's users go through managed login)
            client_auth_flows=("ALLOW_ADMIN_USER_PASSWORD_AUTH",),
        )
        wiring = environment(model, self.resources)
        linking_env = self._linking_environment(url)
        stage_env = self._start_stages(exit_stack)
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
        vendor_param, secret_param = ([*self.webhook.route_parameters, "vendor", "secret"])[:2]
        webhook_url = self.webhook.url_for(**{vendor_param: "sim-async", secret_param: path_secret})
        webhook_base = (
            webhook_url[: -len(f"sim-async/{path_secret}")]
            if webhook_url.endswith(f"/sim-async/{path_secret}")
            else ""
        )

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
            # the same JSON object of vendor secrets under both names skill.aws.secrets reads
            "VENDOR_SECRETS_NAME": VENDOR_SECRETS_NAME,
            "WEBHOOK_SECRET_NAME": VENDOR_SECRETS_NAME,
            "LOCAL_SECRETS_FROM_ENV": "1",
            "SIM_WEBHOOK_SECRET": sim_secret,
            "WEBHOOK_PATH_SECRET": path_secret,
            "SIMULATOR_URL": self.simulator.url,
            "LWA_TOKEN_URL": self.lwa.token_url,
            "GATEWAY_URL": self.gateway.events_url,
            "ADAPTERS": self.adapters,
            # The sweep may spend each simulated vendor's whole quota here, so that every
            # tick_sweep reads every account of a few bulbs (at the deployed 20 %, a three-bulb
            # Govee-like account is read every third minute: docs/scale.md). The cadence
            # itself is unit-tested.
            "SWEEP_QUOTA_SHARE": "1",
            **linking_env,
            **({"WEBHOOK_BASE_URL": webhook_base} if webhook_base else {}),
            "DEADLINE_SECONDS": _number(self.deadline_seconds),
            "POWERTOOLS_SERVICE_NAME": "bulb-skill",
            "POWERTOOLS_METRICS_NAMESPACE": "BulbSkill",
            "POWERTOOLS_METRICS_DISABLED": "false" if self.metrics else "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            **stage_env,
            **self.extra_env,
        }
        _apply(self.env)
        cold_start()
        exit_stack.callback(cold_start)  # runs before the environment is restored
        self._init_handlers()
        self._init_accounts()
        self._serve(exit_stack)

        if self.run_pollers:
            self._start_pollers(exit_stack)

    def _serve(self, exit_stack: ExitStack) -> None:
        """The entrypoint's URL, and (cognito mode) the linking pages with their sign-in."""
        self.entrypoint_bridge = InvokeBridge(self.invoke, prepare=self._with_demo_token_if_any)
        self.entrypoint_bridge.start()
        exit_stack.callback(self.entrypoint_bridge.stop)
        self.pages = None
        if self.linking == "cognito" and self.serve_pages:
            from bulb_workbench.local._pages import LocalPages

            pages = LocalPages(self)
            exit_stack.callback(pages.stop)
            self.pages = pages.start()

    def _with_demo_token_if_any(self, event: Any) -> Any:
        return self.with_demo_token(event) if _contains(event, DEMO_TOKEN) else event

    @property
    def linking_url(self) -> str | None:
        """The linking pages, ``http://127.0.0.1:<port>/``; None in vendor mode or without pages."""
        return self.pages.url if self.pages is not None else None

    @property
    def login_url(self) -> str | None:
        """The local stand-in for the Cognito managed login (None without pages)."""
        return self.pages.login_url if self.pages is not None else None

    @property
    def entrypoint_url(self) -> str:
        """POST a directive (JSON) here and get the entrypoint's answer; ``demo-token`` in it is
        replaced by the demo user's token, as ``skill invoke`` does."""
        if self.entrypoint_bridge is None:
            raise RuntimeError("start the stack first")
        return self.entrypoint_bridge.url

    def urls(self) -> dict[str, Any]:
        """Where everything a person can use is: the linking pages, the entrypoint's URL, the
        sign-in stand-in, the vendor simulator, the fake event gateway, and the demo user."""
        demo: dict[str, str] | None = None
        if self.linking == "cognito" and self.user_pool is not None:
            demo = {"username": self.sign_in_name(DEMO_USERNAME), "password": DEMO_PASSWORD}
        return {
            "linking_pages": self.linking_url,
            "entrypoint": self.entrypoint_url,
            "login": self.login_url,
            "simulator": self.simulator.url,
            "gateway": self.gateway.events_url,
            "demo_user": demo,
        }

    def _start_stages(self, exit_stack: ExitStack) -> dict[str, str]:
        """Start each staged vendor; the ``<VENDOR>_BASE_URL`` that points its adapter there."""
        from skill.plugins._contract import setting_prefix

        variables: dict[str, str] = {}
        for vendor, local in self.stages.items():
            if local.demo_credential is None:
                raise ValueError(
                    f"the stub staged for {vendor!r} has no credential for the demo user "
                    "(VendorStub(credential=...))"
                )
            local.start()
            exit_stack.callback(local.stop)
            variables[f"{setting_prefix(vendor)}_BASE_URL"] = local.url
        return variables

    def _install_faults(self, exit_stack: ExitStack) -> None:
        self.faults = None
        if self.fault_profile is None:
            return
        self.faults = install(
            self.fault_profile, simulator=self.simulator, gateway=self.gateway, lwa=self.lwa
        )
        for local in self.stages.values():  # an author's vendor fails like the simulated ones
            local.dispatch = faulty_simulator(local.dispatch, self.faults.injectors["vendor"])
        exit_stack.callback(self.faults.stop)  # before the servers stop: held requests end

    def _poller_for(self, consumer: Consumer) -> QueuePoller:
        """The event source mapping of ``consumer``'s queue, as a poller (not started)."""
        assert self.resources is not None
        queue = self.resources.queues[consumer.queue_key]
        return QueuePoller(
            sqs=self._sqs,
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

    def _start_pollers(self, exit_stack: ExitStack) -> None:
        for consumer in self.consumers:
            self.pollers[consumer.queue_key] = self._poller_for(consumer)

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
            except Exception:  # noqa: S110 - HandlerMissing or a broken module: its poller says so
                pass

    def stop(self) -> None:
        exit_stack, self._exit = self._exit, None
        if exit_stack is not None:
            exit_stack.close()

    def __enter__(self) -> Self:
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

    def link_demo_user(self, token: str | None = None) -> dict[str, Any]:
        """AcceptGrant for the demo user through the entrypoint (with ``token``, default the
        demo user's linking token: a fresh access token, or the vendor's credential in
        ``vendor`` mode): the user's LWA tokens are then in the tokens table, so the dispatcher
        can post to the gateway. Setup: injected faults are off meanwhile."""
        if token is None or token == DEMO_TOKEN:
            token = self.demo_token()
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

    def tick_sweep(self, timeout: float = 30.0) -> Any:
        """One sweep minute: the scheduler once, with the EventBridge event its schedule would
        send, then the sweep function over every account it queued (through its poller, or
        here when the stack runs without pollers). The scheduler's answer."""
        answer = self._run_scheduler()
        key = next(
            (c.queue_key for c in self.consumers if c.queue_key.endswith("SweepQueue")), None
        )
        if key is None:
            return answer
        poller = self.pollers.get(key)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if poller is None:
                self._sweep_here(key)
            counts = self.messages_on(key)
            if not counts["visible"] and not counts["in_flight"] and not (poller and poller.busy):
                break
            time.sleep(0.05)
        return answer

    def _sweep_here(self, key: str) -> None:
        consumer = next(c for c in self.consumers if c.queue_key == key)
        self._poller_for(consumer).deliver_one_batch()

    def _run_scheduler(self) -> Any:
        assert self.model is not None
        handler, name, timeout = handler_or(
            self.model, lambda f: bool(f.schedules), "skill.handlers.sweep_scheduler.handler"
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

    # -- skill users ------------------------------------------------------------------------------

    def _linking_environment(self, endpoint: str) -> dict[str, str]:
        """``ACCOUNT_LINKING`` and what it needs: the template's user pool and app client
        (cognito), or the one vendor (vendor)."""
        assert self.resources is not None
        self.user_pool = self.app_client = None
        if self.linking == "vendor":
            return {"ACCOUNT_LINKING": "vendor", "LINKING_VENDOR": self.linking_vendor}
        client = self._alexa_client()
        pools = self.resources.user_pools.values()
        pool = next((p for p in pools if client is not None and p.pool_id == client.pool_id), None)
        if client is None or pool is None:
            raise TemplateError(
                "cognito account linking needs the template's user pool and its app client for "
                f"Alexa (AWS::Cognito::UserPool: {len(self.resources.user_pools)}, UserPoolClient: "
                f"{len(self.resources.user_pool_clients)}, none given to the entrypoint as "
                "COGNITO_CLIENT_ID): is AccountLinking=cognito's condition true?"
            )
        self.user_pool, self.app_client = pool, client
        return {
            "ACCOUNT_LINKING": "cognito",
            "COGNITO_ISSUER": self.user_pool.issuer,
            "COGNITO_CLIENT_ID": self.app_client.client_id,
            "COGNITO_JWKS_URL": self.user_pool.jwks_url(endpoint),
        }

    def _alexa_client(self) -> CreatedUserPoolClient | None:
        """The app client whose tokens Alexa sends: the one the template gives the entrypoint
        as ``COGNITO_CLIENT_ID`` (other clients, such as the linking pages', are not Alexa's);
        else the only one there is."""
        assert self.resources is not None and self.model is not None
        clients = self.resources.user_pool_clients
        entrypoint = self.model.function_with_handler("skill.handlers.entrypoint.handler")
        marker = entrypoint.environment.get("COGNITO_CLIENT_ID") if entrypoint else None
        key = getattr(marker, "key", None)
        if key in clients:
            return clients[key]
        named = [c for c in clients.values() if c.spec.logical_id == "AlexaClient"]
        if len(named) == 1:
            return named[0]
        return next(iter(clients.values())) if len(clients) == 1 else None

    def _init_accounts(self) -> None:
        """``self.accounts`` (the operator's view, as ``skill users`` builds it: stores of its
        own, not the handlers' cached ones), then the demo user and its vendor connections."""
        from skill.accounts import Accounts
        from skill.aws.secrets import secret_source
        from skill.aws.stores import (
            DynamoCredentialVault,
            DynamoStateStore,
            DynamoTokenStore,
            SqsOutbox,
        )
        from skill.config import settings_from
        from skill.credentials import Credentials
        from skill.plugins import AdapterRegistry

        config = settings_from(os.environ)
        dynamodb = self.client("dynamodb")
        base = config.webhook_base_url.rstrip("/")
        path_secret = self.env.get("WEBHOOK_PATH_SECRET", "")
        adapters = AdapterRegistry.from_environment(secrets=secret_source())
        self.accounts = Accounts(
            Credentials(
                DynamoCredentialVault(
                    config.credentials_table,
                    config.credentials_key_id,
                    dynamodb,
                    self.client("kms"),
                )
            ),
            adapters,
            DynamoStateStore(config.state_table, dynamodb),
            SqsOutbox(config.outbox_queue_url, self.client("sqs")),
            DynamoTokenStore(config.tokens_table, dynamodb),
            webhook_url_for=(lambda vendor: f"{base}/{vendor}/{path_secret}") if base else None,
        )
        with self.faults.suspended() if self.faults else ExitStack():
            if self.linking == "cognito":
                self.demo_user_id = self.add_user(DEMO_USERNAME, DEMO_PASSWORD)
                wanted = adapters.names if self.demo_vendors is None else self.demo_vendors
                for vendor in [n for n in adapters.names if n in wanted]:
                    self.accounts.connect(self.demo_user_id, vendor, self.vendor_credential(vendor))
            else:
                adapter = adapters.get(self.linking_vendor)
                self.demo_user_id = adapter.identify_user(
                    self.vendor_credential(self.linking_vendor)
                )

    def vendor_credential(self, vendor: str) -> Any:
        """The demo account's credential at ``vendor``: a staged stub's own, else the
        simulator's (``demo-<vendor>-credential``), of the kind that vendor takes."""
        if vendor in self.stages:
            return self.stages[vendor].demo_credential
        return self.simulator.demo_credential(vendor)

    def add_vendor_account(self, vendor: str, sim_user: str, key: str, **options: Any) -> Any:
        """A new account at the simulated ``vendor`` whose credential's key is ``key`` (its
        secret or refresh token derived from it, as the simulator does); the credential."""
        credential = simulator_credential(vendor, key)
        self.simulator.add_account(vendor, sim_user, credential, **options)
        return credential

    def sign_in_name(self, username: str) -> str:
        """What ``username`` signs in with: itself, or an address at example.com when the
        template's pool takes e-mail addresses as usernames (``UsernameAttributes``)."""
        pool = self._pool()
        if (
            "email" in (pool.spec.properties.get("UsernameAttributes") or [])
            and "@" not in username
        ):
            return f"{username}@example.com"
        return username

    def add_user(self, username: str, password: str = DEMO_PASSWORD) -> str:
        """A user of the local user pool, with a permanent password; its user id (``sub``)."""
        pool = self._pool()
        name = self.sign_in_name(username)
        attributes = [
            {"Name": "email", "Value": name if "@" in name else f"{name}@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ]
        self._cognito.admin_create_user(
            UserPoolId=pool.pool_id,
            Username=name,
            MessageAction="SUPPRESS",
            UserAttributes=attributes,
        )
        self._cognito.admin_set_user_password(
            UserPoolId=pool.pool_id, Username=name, Password=password, Permanent=True
        )
        user = self._cognito.admin_get_user(UserPoolId=pool.pool_id, Username=name)
        found = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        user_id = found.get("sub") or _claims(self.access_token(username, password))["sub"]
        with self._users_lock:
            self.users[username] = user_id
        return user_id

    def access_token(self, username: str, password: str = DEMO_PASSWORD) -> str:
        """A fresh access token the local pool issues to the user (``ADMIN_USER_PASSWORD_AUTH``
        with the app client's secret hash, as Cognito requires of a client with a secret)."""
        pool, client = self._pool(), self.app_client
        assert client is not None
        name = self.sign_in_name(username)
        parameters = {"USERNAME": name, "PASSWORD": password}
        if client.client_secret:
            digest = hmac.new(
                client.client_secret.encode(), (name + client.client_id).encode(), hashlib.sha256
            ).digest()
            parameters["SECRET_HASH"] = base64.b64encode(digest).decode()
        answer = self._cognito.admin_initiate_auth(
            UserPoolId=pool.pool_id,
            ClientId=client.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters=parameters,
        )
        result = answer.get("AuthenticationResult")
        if not result:
            raise RuntimeError(f"{username} could not sign in: {answer.get('ChallengeName')}")
        return str(result["AccessToken"])

    def demo_access_token(self) -> str:
        return self.access_token(DEMO_USERNAME, DEMO_PASSWORD)

    def demo_token(self) -> str:
        """What Alexa sends for the demo user: a fresh access token of the local pool
        (``cognito``), or the one vendor's credential itself (``vendor``)."""
        if self.linking == "cognito":
            return self.demo_access_token()
        return linking_token_of(self.vendor_credential(self.linking_vendor))

    def with_demo_token(self, event: Any, token: str | None = None) -> Any:
        """A copy of ``event`` with every placeholder ``demo-token`` replaced by ``token``
        (default ``demo_token()``): how the sample directives in events/ are played."""
        if not _contains(event, DEMO_TOKEN):
            return json.loads(json.dumps(event))
        return _replaced(event, DEMO_TOKEN, token or self.demo_token())

    def _pool(self) -> CreatedUserPool:
        if self.user_pool is None:
            raise RuntimeError("the stack has no user pool (linking='vendor', or not started)")
        return self.user_pool

    # -- what rests where --------------------------------------------------------------------------

    def dump_state(self, directory: Path | str, *, settle: bool = True) -> dict[str, Any]:
        """Every table's items, every queue's and DLQ's messages (left on their queues) and
        the simulator's counters, as JSON files in ``directory``: ``tables/<table>.json``,
        ``queues/<queue>.json``, ``simulator.json``, and ``index.json`` (what is where, how
        many). With ``settle`` (the default) the stack first goes idle (up to 5 s) and its
        pollers are paused meanwhile; without, the caller holds them (``with stack.paused()``)
        to see messages on their way. Returns the index."""
        assert self.resources is not None, "start the stack first"
        folder = Path(directory)
        (folder / "tables").mkdir(parents=True, exist_ok=True)
        (folder / "queues").mkdir(parents=True, exist_ok=True)
        index: dict[str, Any] = {"tables": {}, "queues": {}}
        if settle:
            self.wait_idle(5)
        with self.paused() if settle else ExitStack():
            for table in self.resources.tables.values():
                items = [_plain_item(i) for i in self._scan(table.name)]
                _write_json(folder / "tables" / f"{table.name}.json", items)
                index["tables"][table.name] = len(items)
            for queue in self.resources.queues.values():
                messages = self._peek_all(queue.url)
                _write_json(folder / "queues" / f"{queue.name}.json", messages)
                index["queues"][queue.name] = len(messages)
        counters = self.simulator_counters()
        _write_json(folder / "simulator.json", counters)
        index["simulator"] = counters
        _write_json(folder / "index.json", index)
        return index

    def simulator_counters(self) -> dict[str, Any]:
        """Foreign credentials the simulator was shown (per vendor), its OAuth refreshes, and
        its request counts per vendor and kind."""
        sim = self.simulator
        counts: dict[str, int] = {}
        for entry in sim.log():
            key = f"{entry.get('vendor')} {entry.get('kind')}"
            counts[key] = counts.get(key, 0) + 1
        return {
            "foreign_credentials": dict(sim.foreign_credentials()),
            "refreshes": _jsonable(sim.refreshes()),
            "requests": dict(sorted(counts.items())),
            "webhook_deliveries": len(sim.deliveries()),
        }

    def _scan(self, table: str) -> list[dict[str, Any]]:
        paginator = self.client("dynamodb").get_paginator("scan")
        return [
            item for page in paginator.paginate(TableName=table) for item in page.get("Items", [])
        ]

    def _peek_all(self, queue_url: str, visibility: int = 30) -> list[dict[str, Any]]:
        """Every message on the queue, left there: received hidden (so that the next receive
        shows others), then made visible again at once."""
        sqs = self.client("sqs")
        seen: dict[str, dict[str, Any]] = {}
        handles: list[str] = []
        for _ in range(100):
            batch = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=visibility,
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                break
            for message in batch:
                handles.append(message["ReceiptHandle"])
                body: Any = message["Body"]
                try:
                    body = json.loads(body)
                except ValueError:
                    pass
                seen[message["MessageId"]] = {
                    "MessageId": message["MessageId"],
                    "Attributes": message.get("Attributes", {}),
                    "MessageAttributes": message.get("MessageAttributes", {}),
                    "Body": body,
                }
        for handle in handles:
            try:
                sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0
                )
            except Exception:  # noqa: S110 - gone meanwhile (deleted by nobody: pollers paused)
                pass
        return list(seen.values())

    # -- template lookups -------------------------------------------------------------------------

    def _entrypoint(self) -> tuple[str, str, float]:
        assert self.model is not None, "start the stack first"
        return handler_or(
            self.model,
            lambda f: f.handler == "skill.handlers.entrypoint.handler",
            "skill.handlers.entrypoint.handler",
        )

    def _notifications_function(self) -> tuple[str, str, float, str]:
        assert self.model is not None
        for function in self.model.functions.values():
            for method, path in function.http_routes:
                if path.startswith("/webhooks/") and function.handler:
                    return function.handler, function.name, function.timeout, f"{method} {path}"
        handler, name, timeout = handler_or(
            self.model, lambda f: False, "skill.handlers.notifications.handler"
        )
        return handler, name, timeout, ROUTE_KEY


# -- sam local invoke against the local stack ------------------------------------------------------

#: Where ``skill serve`` writes ``env.json`` and the events for ``sam local invoke`` (in the
#: template's directory, under the git-ignored .aws-sam/); ``SKILL_ENV_JSON`` overrides the file.
SAM_LOCAL_DIR = Path(".aws-sam") / "local"
#: The secrets the linking function reads in AWS; the local pages are built without them.
_LINKING_CLIENT_SECRET = "bulb-skill/linking-client"
_SESSION_SECRET = "bulb-skill/session"


def write_sam_local_env(stack: LocalStack, path: Path | str | None = None) -> Path:
    """Write ``env.json`` for ``sam local invoke <Function> --env-vars env.json``: for each
    function of the running local stack (keyed by its full path, ``Entrypoint/EntrypointFunction``,
    as SAM CLI looks it up: several bricks have a ``ProcessorFunction``), every environment variable
    its template declares, pointed at this stack: moto's endpoint (``AWS_ENDPOINT_URL``, which the
    bricks declare for this, and which CloudFormation drops), its tables, queues, secrets, KMS key
    and user pool, the fake LWA and event gateway, the simulator. SAM passes a function only the
    variables its template declares, so nothing else is written. Also writes, in ``events/`` next
    to it, the sample events with the demo user's token and user id filled in (what ``skill
    invoke`` does as it plays them). Returns the file's path."""
    if stack.model is None:
        raise RuntimeError("start the stack first")
    target = Path(
        path
        or os.environ.get("SKILL_ENV_JSON")
        or stack.template.parent / SAM_LOCAL_DIR / "env.json"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    special = _linking_function_values(stack)
    document: dict[str, dict[str, str]] = {}
    for key, function in stack.model.functions.items():
        values: dict[str, str] = {}
        for name in _declared_variables(stack.model, function):
            value = (
                special.get(name)
                if function.handler == "skill.handlers.linking_pages.handler"
                else None
            )
            if value is None:
                value = stack.env.get(name)
            if value is None and _plain(function.environment.get(name)):
                value = str(function.environment[name])
            if value is None and name == "ALEXA_REGION":
                value = "NA"  # the stack's region, us-east-1
            if value is None and name == "LINKING_VENDOR":
                value = stack.linking_vendor  # empty in cognito mode, as the template leaves it
            if value is not None:
                values[name] = value
        document[key] = values
    _write_json(target, document)
    _write_sam_local_events(stack, target.parent / "events")
    return target


def _declared_variables(model: StackModel, function: Any) -> list[str]:
    """The variables a function's template declares, its Globals' included, as SAM CLI sees them
    (conditions not evaluated: a variable behind ``!If`` is declared)."""
    from bulb_workbench.cfn import load as _load

    location = model.stacks[function.stack].location if function.stack else model.template
    template = _load(Path(location))
    globals_ = ((template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}
    resource = (template.get("Resources") or {}).get(function.logical_id) or {}
    own = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
    return list(dict.fromkeys([*(globals_.get("Variables") or {}), *own]))


def _plain(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _linking_function_values(stack: LocalStack) -> dict[str, str]:
    """What the linking function reads that the in-process pages are given directly: its app
    client's id and secret and the cookie key (made as secrets in moto, as the template makes
    them in AWS), the pages' and the sign-in stand-in's URLs, the user pool."""
    if stack.pages is None or stack.user_pool is None:
        return {}
    client = stack.pages.client
    sm = stack.client("secretsmanager")
    wanted = {
        _LINKING_CLIENT_SECRET: json.dumps(
            {"client_id": client.client_id, "client_secret": client.client_secret}
        ),
        _SESSION_SECRET: secrets.token_urlsafe(32),
    }
    for name, value in wanted.items():
        try:
            sm.create_secret(Name=name, SecretString=value)
        except sm.exceptions.ResourceExistsException:
            pass
    return {
        "LINKING_BASE_URL": str(stack.linking_url).rstrip("/"),
        "COGNITO_DOMAIN": str(stack.login_url).rstrip("/"),
        "LINKING_CLIENT_SECRET_NAME": _LINKING_CLIENT_SECRET,
        "SESSION_SECRET_NAME": _SESSION_SECRET,
        "USER_POOL_ID": stack.user_pool.pool_id,
    }


def _write_sam_local_events(stack: LocalStack, directory: Path) -> None:
    """events/*.json with ``demo-token`` -> the demo user's token (valid an hour: serve again
    for fresh ones) and, in the SQS bodies, ``demo-user`` -> the demo user's id."""
    source = stack.template.parent / "events"
    if not source.is_dir():
        return
    directory.mkdir(parents=True, exist_ok=True)
    token = stack.demo_token()
    for path in sorted(source.glob("*.json")):
        text = path.read_text().replace(DEMO_TOKEN, token)
        if stack.demo_user_id:
            text = text.replace('\\"demo-user\\"', json.dumps(json.dumps(stack.demo_user_id))[1:-1])
            text = text.replace('"demo-user"', json.dumps(stack.demo_user_id))
        (directory / path.name).write_text(text)


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


def set_brightness(
    endpoint_id: str, brightness: int, token: str = DEMO_TOKEN
) -> tuple[dict[str, Any], str]:
    """(a ``SetBrightness`` directive to a colour bulb, its correlation token)."""
    from skill.alexa import features_to_cookie
    from skill.bulbs import Features, KelvinRange

    correlation = uuid.uuid4().hex + "=="
    features = Features(
        dimmable=True, color=True, color_temperature=KelvinRange(minimum=2000, maximum=9000)
    )
    event = {
        "directive": {
            "header": {
                "namespace": "Alexa.BrightnessController",
                "name": "SetBrightness",
                "payloadVersion": "3",
                "messageId": str(uuid.uuid4()),
                "correlationToken": correlation,
            },
            "endpoint": {
                "scope": {"type": "BearerToken", "token": token},
                "endpointId": endpoint_id,
                "cookie": features_to_cookie(features),
            },
            "payload": {"brightness": brightness},
        }
    }
    return event, correlation


def simulator_credential(vendor: str, key: str) -> Any:
    """A credential of the kind the simulated ``vendor`` takes, known by ``key``: the access
    token (with its refresh token), the API key, or the key (with its secret)."""
    from bulb_workbench.local._sim_model import CREDENTIAL_KINDS, DEFAULT_TOKEN_LIFETIME, companion
    from skill.plugins import ApiKey, CredentialKind, KeyAndSecret, OAuthToken

    kind = CREDENTIAL_KINDS[vendor]
    if kind is CredentialKind.OAUTH:  # the simulator's access tokens expire: say when
        return OAuthToken.bearer(
            key,
            refresh_token=companion(key, "refresh"),
            expires_at=time.time() + DEFAULT_TOKEN_LIFETIME,
        )
    if kind is CredentialKind.API_KEY:
        return ApiKey.of(key)
    return KeyAndSecret.of(key, companion(key, "secret"))


def linking_token_of(credential: Any) -> str:
    """A vendor credential as ``vendor`` linking mode carries it in the token Alexa sends (the
    inverse of ``skill.plugins.credential_from_linking_token``)."""
    from skill.plugins import ApiKey, KeyAndSecret, OAuthToken

    if isinstance(credential, OAuthToken):
        return credential.access_token.get_secret_value()
    if isinstance(credential, ApiKey):
        return credential.api_key.get_secret_value()
    if isinstance(credential, KeyAndSecret):
        return f"{credential.key.get_secret_value()}:{credential.secret.get_secret_value()}"
    raise TypeError(f"not a vendor credential: {type(credential).__name__}")


def _contains(value: Any, text: str) -> bool:
    if isinstance(value, dict):
        return any(_contains(v, text) for v in value.values())
    if isinstance(value, list):
        return any(_contains(v, text) for v in value)
    return value == text


def _replaced(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {k: _replaced(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, old, new) for v in value]
    return new if value == old else value


def _claims(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified (the stack reads its own pool's token)."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _plain_item(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain JSON (binary values as ``{"base64": ...}``)."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: _jsonable(deserializer.deserialize(v)) for k, v in item.items()}


def _jsonable(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    if hasattr(value, "value") and isinstance(value.value, bytes | bytearray):
        return {"base64": base64.b64encode(bytes(value.value)).decode()}  # boto3's Binary
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")


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
