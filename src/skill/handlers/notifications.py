"""Lambda handler ``skill.handlers.notifications.handler``: vendor webhooks behind an HTTP API.

The route and its checks are ``skill.webhooks``' app, over the push handler and the path
secrets ``skill.composition`` builds.
"""

from __future__ import annotations

import logging
from typing import Any

from skill.coldstart import resumes_after_first_call
from skill.composition import current
from skill.observability import metrics
from skill.snapstart import register as snapstart
from skill.webhooks import build_app

app = build_app(lambda: current().push_handler, lambda: current().path_secrets)


@resumes_after_first_call
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Powertools' router logs request paths at DEBUG, and our paths hold the secret.
    logging.getLogger("aws_lambda_powertools.event_handler").setLevel(logging.INFO)
    try:
        return app.resolve(event, context)
    finally:
        metrics().flush_metrics()


snapstart(lambda: (current().push_handler, current().path_secrets))
