"""Lambda handler ``skill.notifications.handler``: vendor webhooks behind an HTTP API.

Route ``POST /webhooks/{vendor}/{secret}``: the path secret (an unguessable per-deployment
value, compared in constant time) keeps strangers out even for vendors that do not sign their
pushes; the adapter then verifies the vendor's own signature. Bad requests get a 4xx and
nothing is processed. The secret segment is matched by a plain regex, not a route argument,
because Powertools logs route arguments at DEBUG.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
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


def _raw_body(event: Any) -> bytes | None:
    """The request body as bytes (API Gateway base64-encodes binary bodies); None if invalid."""
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode("utf-8", "surrogatepass")
    if len(body) > MAX_BODY_BYTES * 4 // 3 + 4:
        return b"\0" * (MAX_BODY_BYTES + 1)  # too large, whatever it decodes to
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None


@app.post("/webhooks/<vendor>/[^/]+")
def webhook(vendor: str) -> Response:
    from skill.plugins import WebhookRequest

    event = app.current_event
    secret = event.path.rstrip("/").rsplit("/", 1)[-1]
    if not hmac.compare_digest(secret.encode(), _path_secret().encode()):
        return _json(404, "not found")
    raw = _raw_body(event)
    if raw is None:
        return _json(400, "body is not valid base64")
    if len(raw) > MAX_BODY_BYTES:
        return _json(413, "body too large")
    try:
        raw.decode("utf-8")  # every vendor pushes JSON, which is UTF-8 text
    except UnicodeDecodeError:
        return _json(400, "body is not UTF-8")
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
    # Powertools' router logs request paths at DEBUG, and our paths hold the secret.
    logging.getLogger("aws_lambda_powertools.event_handler").setLevel(logging.INFO)
    try:
        return app.resolve(event, context)
    finally:
        metrics().flush_metrics()
