"""The deferred path's services built from the environment, once per container."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from skill.config import settings

if TYPE_CHECKING:
    from skill.flags import flags
    from skill.pipeline import PipelineServices


def count(name: str, value: float) -> None:
    """Add to a Powertools (EMF) metric; flushed at the end of each invocation."""
    from aws_lambda_powertools.metrics import MetricUnit

    from skill.observability import metrics

    metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


@cache
def pipeline_services() -> PipelineServices:
    from skill.flags import flags
    from skill.pipeline import PipelineServices
    from skill.plugins import AdapterRegistry
    from skill.secrets import secret_source
    from skill.stores import DynamoPendingStore, SqsOutbox, SqsPollQueue

    config = settings()
    return PipelineServices(
        adapters=AdapterRegistry.from_environment(secrets=secret_source()),
        outbox=SqsOutbox(config.outbox_queue_url),
        pending=DynamoPendingStore(config.pending_table),
        poll_queue=SqsPollQueue(config.poll_queue_url) if config.poll_queue_url else None,
        count=count,
        style_override=lambda vendor: flags().style_for(vendor),
        paused=lambda vendor: flags().paused(vendor),
    )
