"""Lambda handler ``skill.handlers.linking_pages.handler``: the linking pages behind an HTTP API.

The pages are ``skill.linking``'s app; their services (``Composition.linking_services``) are
built at the first request from the environment template.yaml sets.
"""

from __future__ import annotations

from typing import Any

from skill.coldstart import resumes_after_first_call
from skill.composition import current
from skill.linking import build_app
from skill.observability import logger

app = build_app(lambda: current().linking_services)


@resumes_after_first_call
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger()  # JSON logs; the pages log no form body, cookie or query string
    return app.resolve(event, context)
