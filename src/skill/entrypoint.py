"""Lambda handler ``skill.entrypoint.handler``: the directive Alexa invokes the skill with.

AcceptGrant, Discover and ReportState are answered at once; every control directive is checked,
stored on its style's queue, and answered with a DeferredResponse. Wiring only: the routing is
in ``skill.routing``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from skill.config import settings
from skill.observability import correlation_id_of, logger
from skill.routing import EntrypointServices, build_router
from skill.routing._dispatch import Router
from skill.snapstart import register as snapstart


@cache
def router() -> Router:
    """The container's router, built at the first invocation."""
    from skill.lwa import LwaClient, secret_credentials
    from skill.plugins import AdapterRegistry
    from skill.secrets import secret_source
    from skill.stores import DynamoPendingStore, DynamoTokenStore, SqsDirectiveQueue
    from skill.wiring import credentials, identity_for

    config = settings()
    adapters = AdapterRegistry.from_environment(secrets=secret_source())
    services = EntrypointServices(
        adapters=adapters,
        identity=identity_for(config, adapters),
        credentials=credentials(),
        linking_vendor=config.linking_vendor if config.account_linking == "vendor" else None,
        tokens=DynamoTokenStore(config.tokens_table),
        lwa=LwaClient(config.lwa_token_url, secret_credentials(config.lwa_secret_name)),
        queue=SqsDirectiveQueue(config.directives_queue_urls),
        region=config.alexa_region,
        deadline_seconds=config.deadline_seconds,
        webhook_url_for=_webhook_urls(config.webhook_base_url),
        owners=DynamoPendingStore(config.pending_table),
    )
    return build_router(services)


def _webhook_urls(base_url: str) -> Callable[[str], str | None] | None:
    """``<WEBHOOK_BASE_URL><vendor>/<the vendor's current path secret>``: the notifications
    function's URL for a vendor (``skill.secrets.PathSecrets``: ``WEBHOOK_PATH_SECRET_<VENDOR>``,
    else the deployment-wide ``WEBHOOK_PATH_SECRET``). Read when a Discover needs it, cached
    with a TTL; a vendor with no path secret raises ``KeyError``."""
    if not base_url:
        return None
    from skill.secrets import PathSecrets, secret_source

    secrets = PathSecrets(secret_source())
    return lambda vendor: f"{base_url.rstrip('/')}/{vendor}/{secrets.current(vendor)}"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    log = logger()
    directive = event.get("directive") if isinstance(event, dict) else None
    log.set_correlation_id(correlation_id_of(directive))
    return router().answer(event)


snapstart(router)
