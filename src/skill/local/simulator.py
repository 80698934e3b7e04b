"""A bulb-vendor cloud simulator: one real HTTP server hosting a cloud per API style.

Adapters and the local stack talk to it over loopback exactly as they would to a vendor, so the
whole path (auth, latency, 202 then convergence, signed webhook pushes) is exercised for real.

Vendors (path prefix ``/<vendor>/v1``) and how they answer a command:

- ``sim-sync``        200 with the new state
- ``sim-async``       202 ``{"request_id"}``, then a signed POST to ``webhook_url`` once it lands
- ``sim-optimistic``  202 ``{"request_id"}``, nothing more
- ``sim-polling``     202 ``{"request_id"}``, nothing more (read the state until it changes)

Example::

    with VendorSimulator(latency=0, transition=0.1) as sim:
        requests.get(f"{sim.url}/sim-sync/v1/devices",
                     headers={"Authorization": "Bearer demo-token"}).json()
        sim.set_state("sim-async", "color-1", on=True)  # a change made outside Alexa
        sim.commands("sim-polling")                     # what the vendor was asked to do

Vendor API (``Authorization: Bearer <token>``; latency applies):
``GET /<vendor>/v1/me``, ``GET /<vendor>/v1/devices``, ``GET /<vendor>/v1/devices/{id}/state``,
``POST /<vendor>/v1/devices/{id}/commands`` (body: any of on, brightness, color,
color_temperature). An offline bulb answers a command with 200 ``{"status": "offline"}``.

Test hooks (no auth, no latency, loopback clients only), mirroring the Python methods:
``GET /_sim/health``, ``POST /_sim/reset``, ``POST /_sim/webhook`` ``{"url", "secret"?}``,
``POST /_sim/wait-idle?timeout=s``, ``GET /_sim/log?vendor=&kind=&device_id=``,
``GET /_sim/deliveries``, ``POST /_sim/<vendor>/devices`` (a device), and on
``/_sim/<vendor>/devices/{id}``: ``GET`` (state), ``PATCH`` (a physical change: attributes
and/or ``online``), ``DELETE``. Hooks act on ``demo-user`` unless ``?user=<id>``.

``dispatch`` is the single place a request is decided; a fault-injection layer wraps it
(``sim.dispatch = faulty(sim.dispatch)``) without touching HTTP.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import ipaddress
import json
import logging
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Any

from skill.local._sim_http import SimRequest, SimResponse, SimServer
from skill.local._sim_model import (
    DEMO_TOKEN,
    DEMO_USER,
    VENDORS,
    Attributes,
    BadRequest,
    Conflict,
    NotFound,
    PhysicalChange,
    SimDevice,
    applied,
    check_supported,
    default_catalogue,
    parse,
)
from skill.local._sim_scheduler import Lane

__all__ = [
    "DEFAULT_WEBHOOK_SECRET",
    "DEMO_TOKEN",
    "DEMO_USER",
    "VENDORS",
    "SimRequest",
    "SimResponse",
    "VendorSimulator",
    "sign",
]

_log = logging.getLogger(__name__)

DEFAULT_WEBHOOK_SECRET = "local-webhook-secret"  # the sim adapters' default too
PUSH_TIMEOUT_SECONDS = 2.0
#: The request and delivery logs keep this many entries, so a long demo run stays small.
LOG_LIMIT = 10_000
#: A failed push (connection error or 5xx) is tried again after these delays, as vendors do.
PUSH_RETRY_DELAYS = (0.2, 1.0)

def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``X-Sim-Signature`` value: ``sha256=`` HMAC-SHA256 of ``"{timestamp}.{body}"``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    kind: str  # log name for vendor API routes ("me", "devices", "state", "command"), else hook
    handler: str  # method name on VendorSimulator
    api: bool = False  # vendor API (bearer auth, latency, logged) rather than a test hook


def _route(method: str, path: str, kind: str, handler: str, api: bool = False) -> _Route:
    return _Route(method, re.compile(f"^{path}$"), kind, handler, api)


_VENDOR = r"/(?P<vendor>[a-z0-9_-]+)"
_DEVICE = r"/devices/(?P<device_id>[^/]+)"

_ROUTES = (
    _route("GET", "/_sim/health", "hook", "_hook_health"),
    _route("POST", "/_sim/reset", "hook", "_hook_reset"),
    _route("POST", "/_sim/webhook", "hook", "_hook_webhook"),
    _route("POST", "/_sim/wait-idle", "hook", "_hook_wait_idle"),
    _route("GET", "/_sim/log", "hook", "_hook_log"),
    _route("GET", "/_sim/deliveries", "hook", "_hook_deliveries"),
    _route("POST", f"/_sim{_VENDOR}/devices", "hook", "_hook_add_device"),
    _route("GET", f"/_sim{_VENDOR}{_DEVICE}", "hook", "_hook_read_device"),
    _route("PATCH", f"/_sim{_VENDOR}{_DEVICE}", "hook", "_hook_change_device"),
    _route("DELETE", f"/_sim{_VENDOR}{_DEVICE}", "hook", "_hook_remove_device"),
    _route("GET", f"{_VENDOR}/v1/me", "me", "_api_me", api=True),
    _route("GET", f"{_VENDOR}/v1/devices", "devices", "_api_devices", api=True),
    _route("GET", f"{_VENDOR}/v1{_DEVICE}/state", "state", "_api_state", api=True),
    _route("POST", f"{_VENDOR}/v1{_DEVICE}/commands", "command", "_api_command", api=True),
)


class VendorSimulator:
    """The simulated vendor clouds, on a real HTTP server on loopback.

    ``latency`` is the mean answer time of the vendor API (jittered, from a seeded RNG so runs
    repeat); ``transition`` is how long a 202-command takes to reach the bulb.
    ``accounts`` maps bearer tokens to user ids; each account starts with ``default_catalogue``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.05,
        transition: float = 0.6,
        webhook_url: str | None = None,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        accounts: Mapping[str, str] | None = None,
        seed: int = 0,
    ) -> None:
        self.host = host
        self.port = port
        self.latency = latency
        self.transition = transition
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.accounts = dict(accounts or {DEMO_TOKEN: DEMO_USER})
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._devices: dict[str, dict[str, dict[str, SimDevice]]] = {}
        self._log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
        self._deliveries: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
        self._transitions = Lane("sim-transitions")
        self._pushes = Lane("sim-pushes")
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> VendorSimulator:
        """Bind and serve in a daemon thread; ``url`` is valid from here on."""
        if self._server is not None:
            return self
        self._server = SimServer((self.host, self.port), self._serve)
        self.port = self._server.server_address[1]
        self._transitions.start()
        self._pushes.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="vendor-simulator",
            daemon=True,
        )
        self._thread.start()
        _log.info("vendor simulator on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, close open connections, drop pending transitions and pushes."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        self._transitions.stop()
        self._pushes.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> VendorSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- test hooks (Python) -----------------------------------------------------------------

    def reset(self) -> None:
        """Back to the default catalogue; clears logs and what is in flight (keeps the webhook)."""
        self._transitions.cancel_all()
        self._pushes.cancel_all()
        with self._lock:
            self._devices = {
                vendor: {user: _by_id(default_catalogue(vendor)) for user in self.accounts.values()}
                for vendor in VENDORS
            }
            self._log.clear()
            self._deliveries.clear()

    def state(self, vendor: str, device_id: str, *, user: str = DEMO_USER) -> dict[str, Any]:
        """The bulb's physical state (what the vendor API would report), without logging a call."""
        with self._lock:
            return self._device(vendor, user, device_id).state_json()

    def set_state(
        self, vendor: str, device_id: str, *, user: str = DEMO_USER, **attributes: Any
    ) -> dict[str, Any]:
        """Change a bulb by hand (wall switch, vendor app); push vendors notify the webhook.

        Takes the command attributes plus ``online``; returns the new state.
        """
        return self._change(vendor, user, device_id, parse(PhysicalChange, attributes))

    def set_online(
        self, vendor: str, device_id: str, online: bool, *, user: str = DEMO_USER
    ) -> dict[str, Any]:
        return self.set_state(vendor, device_id, user=user, online=online)

    def add_device(
        self, vendor: str, device: SimDevice | Mapping[str, Any], *, user: str = DEMO_USER
    ) -> SimDevice:
        """Add a bulb to an account (``Conflict`` if the id is taken)."""
        new = device if isinstance(device, SimDevice) else parse(SimDevice, device)
        with self._lock:
            devices = self._account(vendor, user)
            if new.id in devices:
                raise Conflict(f"device {new.id!r} already exists")
            devices[new.id] = new.model_copy(deep=True)
        return new

    def remove_device(self, vendor: str, device_id: str, *, user: str = DEMO_USER) -> None:
        with self._lock:
            self._device(vendor, user, device_id)
            del self._account(vendor, user)[device_id]

    def log(
        self, vendor: str | None = None, kind: str | None = None, device_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Vendor API calls received, oldest first: ``at, vendor, kind, method, path, user_id,
        device_id, body, status, request_id``; ``kind`` is me/devices/state/command."""
        wanted = {"vendor": vendor, "kind": kind, "device_id": device_id}
        with self._lock:
            return [
                dict(entry)
                for entry in self._log
                if all(value is None or entry[key] == value for key, value in wanted.items())
            ]

    def commands(
        self, vendor: str | None = None, device_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The commands a vendor received (to assert it was called exactly once)."""
        return self.log(vendor, "command", device_id)

    def deliveries(self) -> list[dict[str, Any]]:
        """Every webhook push attempt: ``at, url, attempt, status, error, body``."""
        with self._lock:
            return [dict(entry) for entry in self._deliveries]

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no transition or push is pending; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        while self._transitions.busy() or self._pushes.busy():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._transitions.wait_idle(remaining)
            self._pushes.wait_idle(max(0.0, deadline - time.monotonic()))
        return True

    # -- the one decision point --------------------------------------------------------------

    def dispatch(self, request: SimRequest) -> SimResponse:
        """Decide a request: route, authorise, run the handler, log vendor API calls."""
        match = _match(request)
        if isinstance(match, SimResponse):
            return match
        route, params = match
        if not route.api and not _is_loopback(request.client):
            return SimResponse.error(403, "forbidden", "test hooks answer loopback clients only")
        user: str | None = None
        try:
            if route.api:
                self._cloud(params["vendor"])
                user = self._authenticate(request)
                params["user"] = user
            response = getattr(self, route.handler)(request, **params)
        except _Unauthorized as exc:
            response = SimResponse.error(
                401, "unauthorized", str(exc), {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        except NotFound as exc:
            response = SimResponse.error(404, "not_found", str(exc))
        except BadRequest as exc:
            response = SimResponse.error(400, "bad_request", str(exc))
        except Conflict as exc:
            response = SimResponse.error(409, "conflict", str(exc))
        if route.api:
            self._record(request, route, params, user, response)
        return response

    def _serve(self, request: SimRequest) -> SimResponse:
        """What the HTTP server calls: vendor latency, then ``dispatch``; a crash is a 500."""
        if not request.path.startswith("/_sim/"):
            time.sleep(self._latency())
        try:
            return self.dispatch(request)
        except Exception:
            _log.exception("simulator failed on %s %s", request.method, request.path)
            return SimResponse.error(500, "internal", "simulator error")

    # -- vendor API ----------------------------------------------------------------------------

    def _api_me(self, request: SimRequest, vendor: str, user: str) -> SimResponse:
        return SimResponse.json(200, {"user_id": user})

    def _api_devices(self, request: SimRequest, vendor: str, user: str) -> SimResponse:
        with self._lock:
            devices = self._account(vendor, user).values()
            return SimResponse.json(200, [device.listing() for device in devices])

    def _api_state(
        self, request: SimRequest, vendor: str, user: str, device_id: str
    ) -> SimResponse:
        with self._lock:
            return SimResponse.json(200, self._device(vendor, user, device_id).state_json())

    def _api_command(
        self, request: SimRequest, vendor: str, user: str, device_id: str
    ) -> SimResponse:
        with self._lock:
            device = self._device(vendor, user, device_id)
            attributes = parse(Attributes, request.body)
            check_supported(attributes, device.features)
            if not device.online:
                return SimResponse.json(200, {"status": "offline"})
            request_id = str(uuid.uuid4())
            headers = {"X-Request-Id": request_id}
            if VENDORS[vendor] == "sync":
                device.state = applied(device.state, attributes)
                return SimResponse.json(200, device.state_json(), headers)
            land = partial(self._land, vendor, user, device_id, attributes, request_id)
            self._transitions.call_later(self.transition, land)
        return SimResponse.json(202, {"request_id": request_id}, headers)

    def _land(
        self, vendor: str, user: str, device_id: str, attributes: Attributes, request_id: str
    ) -> None:
        """A 202-command reaches the bulb; one that went offline or away meanwhile is lost."""
        with self._lock:
            device = self._account(vendor, user).get(device_id)
            if device is None or not device.online:
                return
            device.state = applied(device.state, attributes)
            state = device.state_json()
        self._notify(vendor, user, device_id, state, request_id)

    # -- test hooks (HTTP) ---------------------------------------------------------------------

    def _hook_health(self, request: SimRequest) -> SimResponse:
        return SimResponse.json(200, {"ok": True, "vendors": VENDORS})

    def _hook_reset(self, request: SimRequest) -> SimResponse:
        self.reset()
        return SimResponse.json(200, {"ok": True})

    def _hook_webhook(self, request: SimRequest) -> SimResponse:
        config = _json_object(request.body)
        url, secret = config.get("url"), config.get("secret", self.webhook_secret)
        if not (url is None or isinstance(url, str)) or not isinstance(secret, str):
            raise BadRequest("expected {\"url\": str | null, \"secret\"?: str}")
        self.webhook_url, self.webhook_secret = url, secret
        return SimResponse.json(200, {"url": url})

    def _hook_wait_idle(self, request: SimRequest) -> SimResponse:
        try:
            timeout = min(float(request.query.get("timeout", "5")), 30.0)
        except ValueError as exc:
            raise BadRequest("timeout must be a number of seconds") from exc
        return SimResponse.json(200, {"idle": self.wait_idle(timeout)})

    def _hook_log(self, request: SimRequest) -> SimResponse:
        query = request.query
        return SimResponse.json(
            200, self.log(query.get("vendor"), query.get("kind"), query.get("device_id"))
        )

    def _hook_deliveries(self, request: SimRequest) -> SimResponse:
        return SimResponse.json(200, self.deliveries())

    def _hook_add_device(self, request: SimRequest, vendor: str) -> SimResponse:
        device = self.add_device(vendor, parse(SimDevice, request.body), user=_user(request))
        return SimResponse.json(201, device.listing())

    def _hook_read_device(self, request: SimRequest, vendor: str, device_id: str) -> SimResponse:
        return SimResponse.json(200, self.state(vendor, device_id, user=_user(request)))

    def _hook_change_device(
        self, request: SimRequest, vendor: str, device_id: str
    ) -> SimResponse:
        change = parse(PhysicalChange, request.body)
        return SimResponse.json(200, self._change(vendor, _user(request), device_id, change))

    def _hook_remove_device(
        self, request: SimRequest, vendor: str, device_id: str
    ) -> SimResponse:
        self.remove_device(vendor, device_id, user=_user(request))
        return SimResponse.json(200, {"removed": device_id})

    # -- internals -----------------------------------------------------------------------------

    def _change(
        self, vendor: str, user: str, device_id: str, change: PhysicalChange
    ) -> dict[str, Any]:
        with self._lock:
            device = self._device(vendor, user, device_id)
            check_supported(change, device.features)
            device.state = applied(device.state, change)
            if change.online is not None:
                device.online = change.online
            state = device.state_json()
        self._notify(vendor, user, device_id, state, None)
        return state

    def _cloud(self, vendor: str) -> dict[str, dict[str, SimDevice]]:
        cloud = self._devices.get(vendor)
        if cloud is None:
            raise NotFound(f"no vendor {vendor!r}")
        return cloud

    def _account(self, vendor: str, user: str) -> dict[str, SimDevice]:
        return self._cloud(vendor).setdefault(user, {})

    def _device(self, vendor: str, user: str, device_id: str) -> SimDevice:
        device = self._account(vendor, user).get(device_id)
        if device is None:
            raise NotFound(f"no device {device_id!r}")
        return device

    def _authenticate(self, request: SimRequest) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        user = self.accounts.get(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise _Unauthorized("missing or invalid bearer token")
        return user

    def _latency(self) -> float:
        if self.latency <= 0:
            return 0.0
        with self._lock:
            jittered = self._rng.gauss(self.latency, self.latency / 4)
        return min(max(jittered, self.latency / 2), self.latency * 3)

    def _record(
        self,
        request: SimRequest,
        route: _Route,
        params: Mapping[str, str],
        user: str | None,
        response: SimResponse,
    ) -> None:
        entry = {
            "at": time.time(),
            "vendor": params.get("vendor"),
            "kind": route.kind,
            "method": request.method,
            "path": request.path,
            "user_id": user,
            "device_id": params.get("device_id"),
            "body": _readable(request.body),
            "status": response.status,
            "request_id": response.headers.get("X-Request-Id"),
        }
        with self._lock:
            self._log.append(entry)

    # -- webhook push --------------------------------------------------------------------------

    def _notify(
        self, vendor: str, user: str, device_id: str, state: dict[str, Any], request_id: str | None
    ) -> None:
        if VENDORS[vendor] != "push":
            return
        payload = {
            "device_id": device_id,
            "request_id": request_id,
            "user_id": user,
            "state": state,
        }
        self._pushes.call_later(0, partial(self._deliver, json.dumps(payload).encode(), 1))

    def _deliver(self, body: bytes, attempt: int) -> None:
        """POST one signed notification; retry connection errors and 5xx a couple of times."""
        url, secret = self.webhook_url, self.webhook_secret
        status, error = None, None
        if url is None:
            error = "no webhook_url configured"
        else:
            status, error = self._post_signed(url, secret, body)
        with self._lock:
            self._deliveries.append(
                {
                    "at": time.time(),
                    "url": url,
                    "attempt": attempt,
                    "status": status,
                    "error": error,
                    "body": json.loads(body),
                }
            )
        failed = url is not None and (status is None or status >= 500)
        if failed and attempt <= len(PUSH_RETRY_DELAYS):
            retry = partial(self._deliver, body, attempt + 1)
            self._pushes.call_later(PUSH_RETRY_DELAYS[attempt - 1], retry)

    def _post_signed(self, url: str, secret: str, body: bytes) -> tuple[int | None, str | None]:
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Sim-Timestamp": timestamp,
                "X-Sim-Signature": sign(secret, timestamp, body),
            },
        )
        try:
            with self._opener.open(request, timeout=PUSH_TIMEOUT_SECONDS) as response:
                return response.status, None
        except urllib.error.HTTPError as exc:
            return exc.code, None
        except (urllib.error.URLError, OSError) as exc:
            return None, str(exc)


class _Unauthorized(Exception):
    pass


def _match(request: SimRequest) -> tuple[_Route, dict[str, str]] | SimResponse:
    """The route for a request, or the 404/405 answer; path parameters are percent-decoded."""
    allowed = []
    for route in _ROUTES:
        found = route.pattern.match(request.path)
        if found is None:
            continue
        if route.method == request.method:
            params = {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
            return route, params
        allowed.append(route.method)
    if allowed:
        return SimResponse.error(
            405, "method_not_allowed", "method not allowed", {"Allow": ", ".join(allowed)}
        )
    return SimResponse.error(404, "not_found", f"no route {request.path[:100]}")


def _is_loopback(client: str) -> bool:
    try:
        return ipaddress.ip_address(client).is_loopback
    except ValueError:
        return False


def _user(request: SimRequest) -> str:
    return request.query.get("user", DEMO_USER)


def _by_id(devices: list[SimDevice]) -> dict[str, SimDevice]:
    return {device.id: device for device in devices}


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"null")
    except ValueError as exc:
        raise BadRequest("body is not JSON") from exc
    if not isinstance(value, dict):
        raise BadRequest("body must be a JSON object")
    return value


def _readable(body: bytes) -> Any:
    """A logged body: its JSON when it parses, else its text (to see what a 400 was about)."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode(errors="replace")


def main(argv: list[str] | None = None) -> None:
    """``python -m skill.local.simulator --port 8765``: run the simulator until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Run the bulb-vendor simulator on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--transition", type=float, default=0.6)
    parser.add_argument("--webhook-url")
    parser.add_argument("--webhook-secret", default=DEFAULT_WEBHOOK_SECRET)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    simulator = VendorSimulator(
        host=args.host,
        port=args.port,
        latency=args.latency,
        transition=args.transition,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
    )
    with simulator:
        print(f"vendor simulator on {simulator.url} (Ctrl-C to stop)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
