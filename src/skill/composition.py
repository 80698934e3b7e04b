"""The composition root: every function's services, built from the environment, once per container.

Each handler module (``skill.handlers``) asks ``current()`` for its service and does nothing
else: parse the event, call the service, answer. A service is built at its first use (the
SnapStart hooks, ``skill.snapstart``, call the same property before the snapshot) and kept for
the container's lifetime. The AWS and HTTP adapters (``skill.aws``) are chosen here and given to
the core as its ports (``skill.ports``).

Tests build a ``Composition`` from their own environment and replace any service by name, then
install it for the handlers::

    with using(Composition(environ={"STATE_TABLE": "t"}, pipeline_services=fake)):
        handler(event, None)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from skill.aws.metrics import count
from skill.config import Settings, settings, settings_from

if TYPE_CHECKING:
    from skill.aws.secrets import PathSecrets
    from skill.breaker import CircuitBreaker
    from skill.credentials import Credentials
    from skill.delivery import Dispatcher
    from skill.flags import Flags
    from skill.linking import LinkingServices
    from skill.pipeline import (
        PipelineServices,
        PollHandler,
        PushHandler,
        SweepScheduler,
        SweepWorker,
    )
    from skill.plugins import AdapterRegistry
    from skill.ports import Identity
    from skill.routing._router import Router

__all__ = [
    "BREAKER_THRESHOLD",
    "Composition",
    "Processor",
    "count",
    "current",
    "identity_for",
    "use",
    "using",
    "webhook_urls",
]

#: Consecutive failed vendor calls that open a vendor's breaker. A pipeline retries each call
#: up to 4 times, so a vendor that is down opens it within 3 directives; 5 also opened it on a
#: vendor failing 1 call in 5 (the load run: 96 directives answered ENDPOINT_UNREACHABLE that
#: retries would have carried), where 10 in a row has odds of about 1 in 10 million per call.
BREAKER_THRESHOLD = 10


class Processor(NamedTuple):
    """A processor's idempotency configuration and its once-per-directive pipeline call."""

    idempotency: Any
    process_once: Callable[..., str]


class Composition:
    """Every function's services. ``config`` defaults to the settings of ``environ``, else of
    the process environment; ``overrides`` replace services by name (tests)."""

    def __init__(
        self,
        config: Settings | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> None:
        if config is None:
            config = settings() if environ is None else settings_from(environ)
        self.config = config
        for name, value in overrides.items():
            if not isinstance(getattr(type(self), name, None), cached_property):
                raise TypeError(f"Composition has no service {name!r}")
            self.__dict__[name] = value  # what cached_property would have stored

    # -- shared by several functions --------------------------------------------------------

    @cached_property
    def adapters(self) -> AdapterRegistry:
        from skill.aws.secrets import secret_source
        from skill.plugins import AdapterRegistry

        return AdapterRegistry.from_environment(secrets=secret_source(self.config))

    @cached_property
    def credentials(self) -> Credentials:
        """The container's view of the credentials vault (decrypted credentials cached briefly)."""
        from skill.aws.stores import DynamoCredentialVault
        from skill.credentials import Credentials

        config = self.config
        return Credentials(
            DynamoCredentialVault(config.credentials_table, config.credentials_key_id)
        )

    @cached_property
    def flags(self) -> Flags:
        """The feature flags (``skill.flags``); their store caches and refreshes the rules."""
        from skill.flags import flags_for

        return flags_for(self.config)

    @cached_property
    def webhook_url_for(self) -> Callable[[str], str | None] | None:
        return webhook_urls(self.config.webhook_base_url)

    @cached_property
    def pipeline_services(self) -> PipelineServices:
        """The deferred path's services. The feature flags and the circuit breakers load on their
        first use: a vendor push (the notifications function) calls no vendor and never needs
        them."""
        from skill.aws.stores import DynamoStateStore, SqsOutbox, SqsPollQueue
        from skill.pipeline import PipelineServices

        config = self.config
        return PipelineServices(
            adapters=self.adapters,
            credentials=self.credentials,
            outbox=SqsOutbox(config.outbox_queue_url),
            pending=DynamoStateStore(config.state_table),
            poll_queue=SqsPollQueue(config.poll_queue_url) if config.poll_queue_url else None,
            count=count,
            style_override=lambda vendor: self.flags.style_for(vendor),
            paused=lambda vendor: self.flags.paused(vendor),
            breaker_for=_breakers(config.state_table),
        )

    # -- one function each ------------------------------------------------------------------

    @cached_property
    def router(self) -> Router:
        """The entrypoint's router."""
        from skill.aws.lwa import LwaClient, secret_credentials
        from skill.aws.stores import DynamoStateStore, DynamoTokenStore, SqsDirectiveQueue
        from skill.routing import EntrypointServices, build_router

        config = self.config
        services = EntrypointServices(
            adapters=self.adapters,
            identity=identity_for(config, self.adapters),
            credentials=self.credentials,
            linking_vendor=config.linking_vendor if config.account_linking == "vendor" else None,
            tokens=DynamoTokenStore(config.tokens_table),
            lwa=LwaClient(config.lwa_token_url, secret_credentials(config.lwa_secret_name)),
            queue=SqsDirectiveQueue(config.directives_queue_urls),
            region=config.alexa_region,
            deadline_seconds=config.deadline_seconds,
            webhook_url_for=self.webhook_url_for,
            owners=DynamoStateStore(config.state_table),
        )
        return build_router(services)

    @cached_property
    def processor(self) -> Processor:
        """The processors' idempotent pipeline (Powertools idempotency on its DynamoDB table)."""
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        from skill.aws import client
        from skill.pipeline import Pipeline
        from skill.records import QueuedDirective

        pipeline = Pipeline(self.pipeline_services)
        idempotency = IdempotencyConfig(
            event_key_jmespath="directive.header.messageId",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=3600,
        )
        persistence = DynamoDBPersistenceLayer(
            table_name=self.config.idempotency_table, boto3_client=client("dynamodb")
        )

        def process_once(queued: dict[str, Any]) -> str:
            """A redelivery (same messageId) neither calls the vendor nor answers twice."""
            return pipeline.process(QueuedDirective.model_validate(queued))

        # Powertools' decorator is untyped: applied as a call, its result typed here
        once: Callable[..., str] = idempotent_function(
            data_keyword_argument="queued", persistence_store=persistence, config=idempotency
        )(process_once)
        return Processor(idempotency, once)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        """The dispatcher; its token cache lives as long as the container. ``OUTBOX_DLQ_URL`` is
        where it puts events the gateway refused for good."""
        from skill.aws.dead_letters import SqsDeadLetters
        from skill.aws.gateway import GatewayClient
        from skill.aws.lwa import LwaClient, secret_credentials
        from skill.aws.metrics import PowertoolsMeter
        from skill.aws.stores import DynamoCredentialVault, DynamoTokenStore
        from skill.delivery import Dispatcher, TokenCache

        _quiet_wire_logs()
        config = self.config
        meter = PowertoolsMeter()
        dlq_url = config.outbox_dlq_url
        vault = DynamoCredentialVault(config.credentials_table, config.credentials_key_id)
        grace = config.credential_grace_days * 86400

        def unlinked(user_id: str) -> None:
            vault.expire_user(user_id, time.time() + grace)

        return Dispatcher(
            TokenCache(
                DynamoTokenStore(config.tokens_table),
                LwaClient(config.lwa_token_url, secret_credentials(config.lwa_secret_name)),
                meter=meter,
                on_unlinked=unlinked,
            ),
            GatewayClient(),
            config.gateway_for,
            dead_letters=SqsDeadLetters(dlq_url) if dlq_url else None,
            meter=meter,
        )

    @cached_property
    def push_handler(self) -> PushHandler:
        from skill.aws.stores import DynamoPushLog
        from skill.pipeline import PushHandler

        return PushHandler(self.pipeline_services, seen=DynamoPushLog(self.config.state_table))

    @cached_property
    def path_secrets(self) -> PathSecrets:
        """Each vendor's webhook path secrets (``skill.aws.secrets.PathSecrets``)."""
        from skill.aws.secrets import PathSecrets, secret_source

        return PathSecrets(secret_source(self.config))

    @cached_property
    def poll_handler(self) -> PollHandler:
        from skill.pipeline import PollHandler

        return PollHandler(self.pipeline_services)

    @cached_property
    def sweep_scheduler(self) -> SweepScheduler:
        from skill.aws.stores import DynamoStateStore, SqsSweepQueue
        from skill.pipeline import SweepScheduler

        config = self.config
        return SweepScheduler(
            DynamoStateStore(config.state_table), SqsSweepQueue(config.sweep_queue_url), count=count
        )

    def sweep_worker(self, time_left: Callable[[], float] | None = None) -> SweepWorker:
        """A sweep worker for one invocation (``time_left``: what the invocation has left)."""
        from skill.pipeline import SweepWorker

        config = self.config
        return SweepWorker(
            self.pipeline_services,
            concurrency=config.sweep_concurrency,
            quota_share=config.sweep_quota_share,
            time_left=time_left,
        )

    @cached_property
    def linking_services(self) -> LinkingServices:
        """The linking pages' services. ``LINKING_BASE_URL`` (the pages' public URL),
        ``COGNITO_DOMAIN`` (the managed login), ``LINKING_CLIENT_SECRET_NAME`` (a JSON secret
        ``{"client_id", "client_secret"}`` of the pages' own app client),
        ``SESSION_SECRET_NAME`` (the cookie signing key), ``USER_POOL_ID`` (account deletion)."""
        from skill.accounts import Accounts
        from skill.aws import get_json_secret, secrets_provider
        from skill.aws.cognito import CognitoUsers
        from skill.aws.http import get_json
        from skill.aws.stores import DynamoStateStore, DynamoTokenStore, SqsOutbox
        from skill.identity import CognitoIdentity
        from skill.linking import CognitoLogin, CookieSigner, LinkingServices

        config = self.config
        app_client = get_json_secret(
            _required(config.linking_client_secret_name, "LINKING_CLIENT_SECRET_NAME")
        )
        session_secret = secrets_provider().get(
            _required(config.session_secret_name, "SESSION_SECRET_NAME"), max_age=300
        )
        identity = CognitoIdentity(
            config.cognito_issuer,
            app_client["client_id"],
            jwks_url=config.cognito_jwks_url or None,
            fetch=get_json,
        )
        accounts = Accounts(
            self.credentials,
            self.adapters,
            DynamoStateStore(config.state_table),
            SqsOutbox(config.outbox_queue_url),
            DynamoTokenStore(config.tokens_table),
            webhook_url_for=self.webhook_url_for,
        )
        pool_id = config.user_pool_id
        return LinkingServices(
            accounts=accounts,
            login=CognitoLogin(
                _required(config.cognito_domain, "COGNITO_DOMAIN"),
                app_client["client_id"],
                app_client.get("client_secret"),
                identity,
            ),
            cookies=CookieSigner(str(session_secret)),
            base_url=_required(config.linking_base_url, "LINKING_BASE_URL"),
            users=CognitoUsers(pool_id) if pool_id else None,
        )


# -- the container's composition -------------------------------------------------------------

_chosen: Composition | None = None


@cache
def current() -> Composition:
    """The container's composition: the installed one (``use``), else one built from the
    environment at the first invocation."""
    return _chosen if _chosen is not None else Composition()


def use(composition: Composition | None) -> None:
    """Make ``composition`` the container's; None: build one from the environment when next
    asked (a new container, as the local stack's cold start does)."""
    global _chosen  # noqa: PLW0603 - the container's composition, swapped by tests
    _chosen = composition
    current.cache_clear()


@contextmanager
def using(composition: Composition) -> Iterator[Composition]:
    """``composition`` is the container's for the ``with`` block (tests)."""
    previous = _chosen
    use(composition)
    try:
        yield composition
    finally:
        use(previous)


# -- builders ----------------------------------------------------------------------------------


def identity_for(config: Settings, adapters: AdapterRegistry) -> Identity:
    """``ACCOUNT_LINKING``: ``cognito`` verifies the user pool's access tokens; ``vendor``
    passes the one enabled vendor's token through, and refuses to start with more or fewer
    adapters (one vendor's token must never be shown to another)."""
    if config.account_linking == "cognito":
        from skill.aws.http import get_json
        from skill.identity import CognitoIdentity

        return CognitoIdentity(
            config.cognito_issuer,
            config.cognito_client_id,
            jwks_url=config.cognito_jwks_url or None,
            fetch=get_json,
        )
    if config.account_linking != "vendor":
        raise RuntimeError(
            f"ACCOUNT_LINKING must be cognito or vendor, not {config.account_linking!r}"
        )
    if len(adapters.names) != 1 or adapters.names != [config.linking_vendor]:
        raise RuntimeError(
            "vendor linking needs exactly one enabled adapter, named by LINKING_VENDOR; "
            f"enabled: {adapters.names}, LINKING_VENDOR={config.linking_vendor!r}"
        )
    from skill.identity import VendorIdentity

    return VendorIdentity(adapters.get(config.linking_vendor))


def _required(value: str, name: str) -> str:
    """A setting the function cannot run without: its absence fails the build at once."""
    if not value:
        raise KeyError(name)
    return value


def webhook_urls(base_url: str) -> Callable[[str], str | None] | None:
    """``<WEBHOOK_BASE_URL><vendor>/<the vendor's current path secret>``: the notifications
    function's URL for a vendor (``skill.aws.secrets.PathSecrets``:
    ``WEBHOOK_PATH_SECRET_<VENDOR>``, else the deployment-wide ``WEBHOOK_PATH_SECRET``). Read
    when a Discover needs it, cached with a TTL; a vendor with no path secret raises
    ``KeyError``."""
    if not base_url:
        return None
    from skill.aws.secrets import PathSecrets, secret_source

    secrets = PathSecrets(secret_source())
    return lambda vendor: f"{base_url.rstrip('/')}/{vendor}/{secrets.current(vendor)}"


def _breakers(table: str) -> Callable[[str], CircuitBreaker]:
    """One circuit breaker per vendor per container, its state shared in DynamoDB; built at a
    vendor's first call."""
    built: dict[str, CircuitBreaker] = {}

    @cache
    def store() -> Any:
        from skill.aws.breaker_store import DynamoBreakerStore

        return DynamoBreakerStore(table)

    def breaker_for(vendor: str) -> CircuitBreaker:
        if vendor not in built:
            from skill.breaker import CircuitBreaker

            built[vendor] = CircuitBreaker(
                store(),
                vendor,
                time.time,
                threshold=BREAKER_THRESHOLD,
                cooldown=30.0,
                cache_seconds=1.0,
            )
        return built[vendor]

    return breaker_for


def _quiet_wire_logs() -> None:
    """botocore's DEBUG records hold request and response bodies: the token items of DynamoDB
    and the LWA secret. Keep them out of the logs even when a log level is set to DEBUG."""
    wire = logging.getLogger("botocore")
    if wire.getEffectiveLevel() < logging.INFO:
        wire.setLevel(logging.INFO)
