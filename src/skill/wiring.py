"""The deferred path's services built from the environment, once per container."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from skill.config import settings

if TYPE_CHECKING:
    from skill.breaker import CircuitBreaker
    from skill.config import Settings
    from skill.credentials import Credentials
    from skill.pipeline import PipelineServices
    from skill.plugins import AdapterRegistry
    from skill.ports import Identity


def count(name: str, value: float) -> None:
    """Add to a Powertools (EMF) metric; flushed at the end of each invocation."""
    from aws_lambda_powertools.metrics import MetricUnit

    from skill.observability import metrics

    metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


@cache
def credentials() -> Credentials:
    """The container's view of the credentials vault (decrypted credentials cached briefly)."""
    from skill.credentials import Credentials
    from skill.stores import DynamoCredentialVault

    config = settings()
    return Credentials(DynamoCredentialVault(config.credentials_table, config.credentials_key_id))


def identity_for(config: Settings, adapters: AdapterRegistry) -> Identity:
    """``ACCOUNT_LINKING``: ``cognito`` verifies the user pool's access tokens; ``vendor``
    passes the one enabled vendor's token through, and refuses to start with more or fewer
    adapters (one vendor's token must never be shown to another)."""
    if config.account_linking == "cognito":
        from skill.identity import CognitoIdentity

        return CognitoIdentity(
            config.cognito_issuer, config.cognito_client_id, jwks_url=config.cognito_jwks_url or None
        )
    if config.account_linking != "vendor":
        raise RuntimeError(f"ACCOUNT_LINKING must be cognito or vendor, not {config.account_linking!r}")
    if len(adapters.names) != 1 or adapters.names != [config.linking_vendor]:
        raise RuntimeError(
            "vendor linking needs exactly one enabled adapter, named by LINKING_VENDOR; "
            f"enabled: {adapters.names}, LINKING_VENDOR={config.linking_vendor!r}"
        )
    from skill.identity import VendorIdentity

    return VendorIdentity(adapters.get(config.linking_vendor))


@cache
def pipeline_services() -> PipelineServices:
    """Built once per container. The feature flags and the circuit breakers load on their first
    use: a vendor push (``skill.notifications``) calls no vendor and never needs them."""
    from skill.pipeline import PipelineServices
    from skill.plugins import AdapterRegistry
    from skill.secrets import secret_source
    from skill.stores import DynamoPendingStore, SqsOutbox, SqsPollQueue

    config = settings()
    breakers = _breakers(config.pending_table)
    return PipelineServices(
        adapters=AdapterRegistry.from_environment(secrets=secret_source()),
        credentials=credentials(),
        outbox=SqsOutbox(config.outbox_queue_url),
        pending=DynamoPendingStore(config.pending_table),
        poll_queue=SqsPollQueue(config.poll_queue_url) if config.poll_queue_url else None,
        count=count,
        style_override=lambda vendor: _flags().style_for(vendor),
        paused=lambda vendor: _flags().paused(vendor),
        breaker_for=breakers,
    )


#: Consecutive failed vendor calls that open a vendor's breaker. A pipeline retries each call
#: up to 4 times, so a vendor that is down opens it within 3 directives; 5 also opened it on a
#: vendor failing 1 call in 5 (the load run: 96 directives answered ENDPOINT_UNREACHABLE that
#: retries would have carried), where 10 in a row has odds of about 1 in 10 million per call.
BREAKER_THRESHOLD = 10


def _flags() -> Any:
    from skill.flags import flags

    return flags()


def _breakers(table: str) -> Callable[[str], CircuitBreaker]:
    """One circuit breaker per vendor per container, its state shared in DynamoDB; built at a
    vendor's first call."""
    built: dict[str, CircuitBreaker] = {}

    @cache
    def store() -> Any:
        from skill.breaker import DynamoBreakerStore

        return DynamoBreakerStore(table)

    def breaker_for(vendor: str) -> CircuitBreaker:
        if vendor not in built:
            from skill.breaker import CircuitBreaker

            built[vendor] = CircuitBreaker(
                store(), vendor, time.time, threshold=BREAKER_THRESHOLD, cooldown=30.0,
                cache_seconds=1.0,
            )
        return built[vendor]

    return breaker_for
