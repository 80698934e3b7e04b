"""HTTP APIs in front of Lambda handlers, on loopback.

``WebhookBridge``: a vendor's push (``POST /webhooks/{vendor}/{secret}``) becomes the API Gateway
HTTP API event (payload format 2.0) the notifications function gets in AWS; its answer
(``statusCode``, ``headers``, ``cookies``, ``body``, ``isBase64Encoded``, or any other JSON value,
which HTTP APIs send as a 200 body) goes back to the vendor. Other paths get HTTP API's own 404.

``HttpApiBridge``: the same for any handler and routes (``ANY /``, ``ANY /{proxy+}``: the
linking pages). As in HTTP API v2, the request's ``Cookie`` header arrives as the event's
``cookies`` list (not among its ``headers``), and each of the answer's ``cookies`` is sent as
a ``Set-Cookie`` header of its own.

``InvokeBridge``: a Lambda function URL-like endpoint for the entrypoint: ``POST`` a directive
(JSON) and get the entrypoint's answer (JSON), as Alexa would from a synchronous invoke.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bulb_workbench.local._http import LoopbackServer, Reply, Request
from bulb_workbench.local._pollers import HandlerMissing, LambdaContext, load_handler
from bulb_workbench.local._resources import ACCOUNT_ID

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


def http_api_event(
    request: Request, route_key: str, path_parameters: dict[str, str]
) -> dict[str, Any]:
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
        # HTTP API v2 moves the Cookie header into ``cookies``
        "headers": {k: v for k, v in request.headers.items() if k != "cookie"},
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
    cookies = [c.strip() for c in request.headers.get("cookie", "").split(";") if c.strip()]
    if cookies:
        event["cookies"] = cookies
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
        cookies = [("Set-Cookie", str(c)) for c in (result.get("cookies") or [])]
        return Reply(int(result["statusCode"]), raw, headers, cookies)
    payload = result if isinstance(result, str) else json.dumps(result)
    return Reply(200, payload.encode(), {"Content-Type": "application/json"})


def call_function(
    handler: Callable[..., Any], event: dict[str, Any], function_name: str, timeout: float
) -> Reply:
    """One proxy integration: the function's answer as HTTP, or 500 (traceback on stderr)."""
    try:
        result = handler(event, LambdaContext(function_name, timeout=timeout))
    except Exception:
        print(f"local stack: {function_name} raised:\n{traceback.format_exc()}", file=sys.stderr)
        return Reply.json(500, {"message": "Internal Server Error"})
    return lambda_reply(result)


class _Bridge:
    """A loopback HTTP server around ``self._app``."""

    _server: LoopbackServer

    def start(self) -> Any:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url


class WebhookBridge(_Bridge):
    """HTTP server -> ``handler`` (``skill.handlers.notifications.handler`` unless the template
    says)."""

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
        self.calls.append(
            {"at": time.time(), "vendor": found.groupdict().get("vendor"), "status": reply.status}
        )
        return reply

    def _invoke(self, request: Request, parameters: dict[str, str]) -> Reply:
        try:
            handler = self._loader(self.handler)
        except HandlerMissing as exc:
            if not self._missing_reported:
                self._missing_reported = True
                print(
                    f"local stack: {self.handler} is not there yet ({exc}); webhook answers 500",
                    file=sys.stderr,
                )
            return Reply.json(500, {"message": "Internal Server Error"})
        event = http_api_event(request, self.route_key, parameters)
        return call_function(handler, event, self.function_name, self.timeout)


class HttpApiBridge(_Bridge):
    """HTTP server -> ``handler(event, context)`` for the ``route_keys`` (``"ANY /"``,
    ``"ANY /{proxy+}"``, ``"GET /x/{id}"``), as an HTTP API with Lambda proxy integrations.

    ``concurrency=1`` (the default) gives the handler one request at a time, as one Lambda
    container would be given: a handler keeping per-request state on a shared object (Powertools'
    resolvers keep ``current_event``) must not see two requests at once.
    """

    def __init__(
        self,
        handler: Callable[[dict[str, Any], Any], Any],
        function_name: str,
        *,
        route_keys: tuple[str, ...] = ("ANY /", "ANY /{proxy+}"),
        timeout: float = 29.0,
        name: str = "http-api",
        concurrency: int = 1,
    ) -> None:
        self.handler = handler
        self.function_name = function_name
        self.timeout = timeout
        self._routes = [(key, *route_pattern(key)) for key in route_keys]
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
        self.calls: list[dict[str, Any]] = []  # at, method, path, status (no query, no body)
        self._server = LoopbackServer(self._app, name=name)

    def _app(self, request: Request) -> Reply:
        for route_key, method, pattern in self._routes:  # noqa: B007 - the matched route's key is read after the loop
            found = pattern.match(request.path)
            if found is not None and method in ("ANY", request.method.upper()):
                break
        else:
            return Reply.json(404, {"message": "Not Found"})
        event = http_api_event(request, route_key, found.groupdict())
        if not event["pathParameters"]:
            del event["pathParameters"]  # HTTP API leaves it out for a route without parameters
        with self._slots:
            reply = call_function(self.handler, event, self.function_name, self.timeout)
        self.calls.append(
            {
                "at": time.time(),
                "method": request.method,
                "path": request.path,
                "status": reply.status,
            }
        )
        return reply


class InvokeBridge(_Bridge):
    """``POST /`` with a JSON event -> ``invoke(event)`` -> its answer as JSON (200), like a
    Lambda function URL whose function answers with what it returns; ``prepare`` may rewrite
    the event first (the local stack replaces the ``demo-token`` placeholder). Not JSON: 400;
    another method: 405; the function raised: 500 (the traceback on stderr)."""

    def __init__(
        self,
        invoke: Callable[[Any], Any],
        *,
        prepare: Callable[[Any], Any] | None = None,
        name: str = "entrypoint-url",
    ) -> None:
        self._invoke = invoke
        self._prepare = prepare
        self._server = LoopbackServer(self._app, name=name)

    @property
    def url(self) -> str:
        return self._server.url + "/"

    def _app(self, request: Request) -> Reply:
        if request.path not in ("/", ""):
            return Reply.json(404, {"message": "Not Found"})
        if request.method.upper() != "POST":
            return Reply.json(405, {"message": "POST a directive (JSON)"}, {"Allow": "POST"})
        try:
            event = json.loads(request.body or b"null")
        except ValueError:
            return Reply.json(400, {"message": "the body is not JSON"})
        try:
            if self._prepare is not None:
                event = self._prepare(event)
            answer = self._invoke(event)
        except Exception:
            print(f"local stack: the entrypoint raised:\n{traceback.format_exc()}", file=sys.stderr)
            return Reply.json(500, {"message": "Internal Server Error"})
        return Reply.json(200, answer)
