"""The vendor webhooks app behind an HTTP API (``skill.handlers.notifications``).

Route ``POST /webhooks/{vendor}/{secret}``: the path secret keeps strangers out even for vendors
that do not sign their pushes. Each vendor has its own, rotatable
(``skill.aws.secrets.PathSecrets``: ``WEBHOOK_PATH_SECRET_<VENDOR>`` current, ``..._PREVIOUS`` still
accepted; cached with a TTL), compared in constant time with each accepted one. A wrong, rotated-out
or missing secret, or a vendor name no adapter could have, is a 404 before anything is read. The
adapter then verifies the vendor's own signature or key, and ``skill.pipeline.PushHandler`` refuses
a stale push, ignores a replayed one (a de-duplication record in the state table) and one tied to no
skill user (see its module). Bad requests get a 4xx and nothing is processed. The secret segment is
matched by a plain regex, not a route argument, because Powertools logs route arguments at DEBUG.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from skill.aws.secrets import matches_any
from skill.errors import InvalidNotification
from skill.observability import logger
from skill.plugins import WebhookRequest

MAX_BODY_BYTES = 64 * 1024
#: An adapter name (``skill.plugins`` endpoint ids): anything else has no path secret.
_VENDOR = re.compile(r"^[a-z0-9_\-]{1,32}$")


class PathSecretReader(Protocol):
    def accepted(self, vendor: str) -> tuple[str, ...]:
        """``vendor``'s accepted path secrets (current, then previous); ``KeyError`` if none."""
        ...


class PushReceiver(Protocol):
    def handle(self, vendor: str, request: WebhookRequest) -> int: ...


def build_app(
    push_handler: Callable[[], PushReceiver], path_secrets: Callable[[], PathSecretReader]
) -> APIGatewayHttpResolver:
    """The webhook route over ``push_handler()`` (``skill.pipeline.PushHandler``) and
    ``path_secrets()`` (``skill.aws.secrets.PathSecrets``), built at the first request."""
    app = APIGatewayHttpResolver()

    @app.post("/webhooks/<vendor>/[^/]+")
    def webhook(vendor: str) -> Response[dict[str, str]]:
        event = app.current_event
        secret = event.path.rstrip("/").rsplit("/", 1)[-1]
        refused = _secret_accepted(path_secrets, vendor, secret)
        if refused is not None:
            return refused
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
            produced = push_handler().handle(vendor, request)
        except InvalidNotification as error:
            logger().info("webhook rejected: %s", error)
            return _json(error.status, "rejected")
        return _json(200, f"accepted {produced}")

    return app


def _secret_accepted(
    path_secrets: Callable[[], PathSecretReader], vendor: str, secret: str
) -> Response[dict[str, str]] | None:
    """None when ``secret`` is one of ``vendor``'s path secrets, else the answer to give."""
    if not _VENDOR.fullmatch(vendor):
        return _json(404, "not found")
    try:
        accepted = path_secrets().accepted(vendor)
    except KeyError:
        logger().info("webhook for a vendor without a path secret refused")
        return _json(404, "not found")
    except Exception as error:  # noqa: BLE001 - the secret store is down: let the vendor retry
        logger().error("webhook path secrets unavailable (%s)", type(error).__name__)
        return _json(503, "unavailable")
    return None if matches_any(secret, accepted) else _json(404, "not found")


def _json(status: int, message: str) -> Response[dict[str, str]]:
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
