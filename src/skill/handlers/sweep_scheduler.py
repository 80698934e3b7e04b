"""Lambda handler ``skill.handlers.sweep_scheduler.handler``: each minute (EventBridge schedule),
put one message per vendor account due for the sweep on the sweep queue (``skill.cadence``)."""

from __future__ import annotations

from typing import Any

from skill.coldstart import resumes_after_first_call
from skill.observability import logger, metrics


@resumes_after_first_call
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    from skill.composition import current

    logger().set_correlation_id(event.get("id") if isinstance(event, dict) else None)
    composition = current()
    if not composition.flags.sweep_enabled():
        return {"accounts": 0}
    try:
        return {"accounts": composition.sweep_scheduler.run()}
    finally:
        metrics().flush_metrics()
