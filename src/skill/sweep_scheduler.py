"""Lambda handler ``skill.sweep_scheduler.handler``: each minute (EventBridge schedule), put
one message per vendor account due for the sweep on the sweep queue (``skill.cadence``)."""

from __future__ import annotations

from typing import Any

from skill.observability import logger, metrics


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    from skill.flags import flags

    logger().set_correlation_id(event.get("id") if isinstance(event, dict) else None)
    if not flags().sweep_enabled():
        return {"accounts": 0}
    from skill.config import settings
    from skill.pipeline import SweepScheduler
    from skill.stores import DynamoPendingStore, SqsSweepQueue
    from skill.wiring import count

    config = settings()
    scheduler = SweepScheduler(DynamoPendingStore(config.pending_table),
                               SqsSweepQueue(config.sweep_queue_url), count=count)
    try:
        return {"accounts": scheduler.run()}
    finally:
        metrics().flush_metrics()
