"""The HTTP API in front of the notifications function, on loopback.

A vendor's push (``POST /webhooks/{vendor}/{secret}``) becomes the API Gateway HTTP API event
(payload format 2.0) the function gets in AWS; its answer (``statusCode``, ``headers``, ``body``,
``isBase64Encoded``, or any other JSON value, which HTTP APIs send as a 200 body) goes back to
the vendor. Other paths get HTTP API's own 404.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from skill.local._http import LoopbackServer, Reply, Request
from skill.local._pollers import HandlerMissing, LambdaContext, load_handler
from skill.local._resources import ACCOUNT_ID

ROUTE_KEY = "POST /webhooks/{vendor}/{secret}"
_TEXT_TYPES = re.compile(r"^(text/|application/(json|xml|x-www-form-urlencoded)|.*\+json)")


def route_pattern(route_key: str) -> tuple[str, re.Pattern[str]]:
    """``POST /webhooks/{vendor}/{secret}`` -> ("POST", regex with named groups); a greedy
    ``{proxy+}`` takes the rest of the path, slashes included, as in API Gateway."""
    method, _, path = route_key.partition(" ")
    regex = ""
    for part in re.split(r"(\{\w+\+?\})", path):
        found = re.fullmatch(r"\{(\w+)(\+?)\}", part)
        if found is None:
            regex += re.escape(part)
        else:
            regex += f"(?P<{found.group(1)}>{'.+' if found.group(2) else '[^/]+'})"
    return method.upper(), re.compile(f"^{regex}$")


def http_api_event(request: Request, route_key: str, path_parameters: dict[str, str]) -> dict[str, Any]:
    """API Gateway HTTP API payload format 2.0 for ``request``."""
    content_type = request.headers.get("content-type", "")
    text = bool(_TEXT_TYPES.match(content_type)) if content_type else True
    try:
        body = request.body.decode("utf-8") if text else None
    except UnicodeDecodeError:
        body = None
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": dict(request.headers),
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": request.headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.client,
                "userAgent": request.headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "pathParameters": path_parameters,
        "isBase64Encoded": body is None,
    }
    if request.query:
        event["queryStringParameters"] = request.query_params
    if request.body:
        event["body"] = body if body is not None else base64.b64encode(request.body).decode()
    return event


def lambda_reply(result: Any) -> Reply:
    """What API Gateway sends back for a Lambda proxy result (payload format 2.0)."""
    if isinstance(result, dict) and "statusCode" in result:
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        return Reply(int(result["statusCode"]), raw, headers)
    payload = result if isinstance(result, str) else json.dumps(result)
    return Reply(200, payload.encode(), {"Content-Type": "application/json"})


class WebhookBridge:
    """HTTP server -> ``handler`` (``skill.notifications.handler`` unless the template says)."""

    def __init__(
        self,
        handler: str,
        function_name: str,
        *,
        route_key: str = ROUTE_KEY,
        timeout: float = 10.0,
        loader: Callable[[str], Any] = load_handler,
    ) -> None:
        self.handler = handler
        self.function_name = function_name
        self.route_key = route_key
        self.timeout = timeout
        self._method, self._pattern = route_pattern(route_key)
        self._loader = loader
        self._missing_reported = False
        self.calls: list[dict[str, Any]] = []  # at, path, status (the secret is not kept)
        self._server = LoopbackServer(self._app, name="webhook-http-api")

    def start(self) -> WebhookBridge:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def route_parameters(self) -> list[str]:
        """Path parameter names of the route, in order (``["vendor", "secret"]``)."""
        return re.findall(r"\{(\w+)\+?\}", self.route_key)

    def url_for(self, **path_parameters: str) -> str:
        """The public URL of the route, e.g. ``url_for(vendor="sim-async", secret="s3")``."""
        path = self.route_key.partition(" ")[2]
        for name, value in path_parameters.items():
            path = path.replace("{" + name + "}", value).replace("{" + name + "+}", value)
        if "{" in path:
            raise ValueError(f"missing path parameters for {self.route_key}")
        return self.url + path

    def _app(self, request: Request) -> Reply:
        found = self._pattern.match(request.path)
        if found is None or request.method.upper() != self._method:
            return Reply.json(404, {"message": "Not Found"})
        reply = self._invoke(request, found.groupdict())
        self.calls.append({"at": time.time(), "vendor": found.groupdict().get("vendor"), "status": reply.status})
        return reply

    def _invoke(self, request: Request, parameters: dict[str, str]) -> Reply:
        try:
            handler = self._loader(self.handler)
        except HandlerMissing as exc:
            if not self._missing_reported:
                self._missing_reported = True
                print(f"local stack: {self.handler} is not there yet ({exc}); webhook answers 500",
                      file=sys.stderr)
            return Reply.json(500, {"message": "Internal Server Error"})
        event = http_api_event(request, self.route_key, parameters)
        try:
            result = handler(event, LambdaContext(self.function_name, timeout=self.timeout))
        except Exception:
            print(f"local stack: {self.handler} raised:\n{traceback.format_exc()}", file=sys.stderr)
            return Reply.json(500, {"message": "Internal Server Error"})
        return lambda_reply(result)
