"""Lambda handler ``skill.sweep.handler``: each minute (EventBridge schedule), report changes
made outside Alexa for vendors that do not push."""

from __future__ import annotations

from typing import Any

from skill.observability import logger, metrics


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    from skill.pipeline import Sweep
    from skill.wiring import pipeline_services

    logger().set_correlation_id(event.get("id") if isinstance(event, dict) else None)
    from skill.flags import flags

    if not flags().sweep_enabled():
        return {"events": 0}
    try:
        return {"events": Sweep(pipeline_services()).run()}
    finally:
        metrics().flush_metrics()
