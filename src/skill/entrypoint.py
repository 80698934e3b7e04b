"""Lambda handler ``skill.entrypoint.handler``: the directive Alexa invokes the skill with.

AcceptGrant, Discover and ReportState are answered at once; every control directive is checked,
stored on its style's queue, and answered with a DeferredResponse. Wiring only: the routing is
in ``skill.routing``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from skill.config import settings
from skill.observability import correlation_id_of, logger
from skill.routing import EntrypointServices, build_router
from skill.routing._dispatch import Router


@cache
def router() -> Router:
    """The container's router, built at the first invocation."""
    from skill.lwa import LwaClient, secret_credentials
    from skill.plugins import AdapterRegistry
    from skill.secrets import secret_source
    from skill.stores import DynamoTokenStore, SqsDirectiveQueue

    config = settings()
    services = EntrypointServices(
        adapters=AdapterRegistry.from_environment(secrets=secret_source()),
        tokens=DynamoTokenStore(config.tokens_table),
        lwa=LwaClient(config.lwa_token_url, secret_credentials(config.lwa_secret_name)),
        queue=SqsDirectiveQueue(config.directives_queue_urls),
        region=config.alexa_region,
        deadline_seconds=config.deadline_seconds,
    )
    return build_router(services)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    log = logger()
    directive = event.get("directive") if isinstance(event, dict) else None
    log.set_correlation_id(correlation_id_of(directive))
    return router().answer(event)
