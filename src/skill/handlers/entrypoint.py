"""Lambda handler ``skill.handlers.entrypoint.handler``: the directive Alexa invokes the skill with.

AcceptGrant, Discover and ReportState are answered at once; every control directive is checked,
stored on its style's queue, and answered with a DeferredResponse. The routing is in
``skill.routing``, the router built by ``skill.composition``.
"""

from __future__ import annotations

from typing import Any

from skill import bulbs
from skill.coldstart import resumes_after_first_call
from skill.composition import current
from skill.observability import correlation_id_of, logger
from skill.snapstart import register as snapstart


@resumes_after_first_call
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    log = logger()
    directive = event.get("directive") if isinstance(event, dict) else None
    log.set_correlation_id(correlation_id_of(directive))
    return current().router.answer(event)


# the command models load at first use (skill.bulbs): load them into the snapshot too
snapstart(lambda: (current().router, bulbs.apply_command))
