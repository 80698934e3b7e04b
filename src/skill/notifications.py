"""Lambda handler ``skill.notifications.handler``: vendor webhooks behind an HTTP API.

Route ``POST /webhooks/{vendor}/{secret}``: the path secret (an unguessable per-deployment
value, compared in constant time) keeps strangers out even for vendors that do not sign their
pushes; the adapter then verifies the vendor's own signature. Bad requests get a 4xx and
nothing is processed.
"""

from __future__ import annotations

import hmac
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from skill.errors import InvalidNotification
from skill.observability import logger, metrics

MAX_BODY_BYTES = 64 * 1024

app = APIGatewayHttpResolver()


@cache
def _path_secret() -> str:
    from skill.secrets import secret_source

    return secret_source()("WEBHOOK_PATH_SECRET")


@cache
def _push_handler() -> Any:
    from skill.pipeline import PushHandler
    from skill.wiring import pipeline_services

    return PushHandler(pipeline_services())


def _json(status: int, message: str) -> Response:
    return Response(status_code=status, content_type="application/json", body={"message": message})


@app.post("/webhooks/<vendor>/<secret>")
def webhook(vendor: str, secret: str) -> Response:
    from skill.plugins import WebhookRequest

    if not hmac.compare_digest(secret.encode(), _path_secret().encode()):
        return _json(404, "not found")
    event = app.current_event
    body = event.decoded_body or ""
    raw = body.encode() if isinstance(body, str) else body
    if len(raw) > MAX_BODY_BYTES:
        return _json(413, "body too large")
    request = WebhookRequest(
        headers={k.lower(): v for k, v in (event.headers or {}).items()},
        body=raw,
        query=dict(event.query_string_parameters or {}),
        path=event.path,
    )
    try:
        produced = _push_handler().handle(vendor, request)
    except InvalidNotification as error:
        logger().info("webhook rejected: %s", error)
        return _json(error.status, "rejected")
    return _json(200, f"accepted {produced}")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return app.resolve(event, context)
    finally:
        metrics().flush_metrics()
