"""A vendor stub from the author's own handlers: for the conformance kit (through ``responses``)
and, unchanged, on loopback as a local stage for the adapter (``LocalVendor``).

An adapter author writes the vendor once, as routes over a dict of devices, from the vendor's
documentation::

    acme = VendorStub("acme", credential=OAuthToken.bearer("demo-acme-token"))
    lamps = {"lamp-1": {"id": "lamp-1", "power": False, "level": 80, ...}}

    @acme.route("GET", "/lamps/{lamp_id}")
    def lamp(request, lamp_id):
        if lamp_id not in lamps:
            return 404, {"error": "no such lamp"}
        return lamps[lamp_id]

    @acme.route("PATCH", "/lamps/{lamp_id}")
    def patch(request, lamp_id):
        lamps[lamp_id].update(request.json())
        return lamps[lamp_id]

    acme.add("GET", "/me", json={"account": "acc_42"})   # a fixed answer, responses-style

Then:

- in the kit: ``AdapterScenario(vendor=acme.responses_vendor(BASE, fail=fail), stateful=True)``
  where ``fail(call, request)`` answers the ``VendorCall``'s failure (or returns None);
- on loopback: ``with LocalVendor(acme) as local: ...`` and point the adapter at ``local.url``
  (``ACME_BASE_URL``), or from a shell: ``python -m bulb_skill_kit serve module:acme``.

A handler gets a ``StubRequest`` (and the path's ``{parameters}``) and returns a dict or list
(200 JSON), ``(status, json)``, ``(status, json, headers)``, a ``StubAnswer`` (any body,
``StubAnswer.timeout()`` for no answer in time) or None (204).

``LocalVendor.dispatch(SimRequest) -> SimResponse`` is its one decision point, the same seam as
the vendor simulator's, so ``bulb_workbench.local.faults`` injects timeouts, resets, 5xx, 429 and
malformed bodies into it unchanged (``install(profile, simulator=local)``).
"""

from __future__ import annotations

import json as jsonlib
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from bulb_skill_kit._scenario import VendorCall, VendorStage
from skill.plugins import AnyCredential

__all__ = ["LocalVendor", "StubAnswer", "StubExchange", "StubRequest", "VendorStub"]

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
#: Not handed on by a forwarding stub (RFC 9110 section 7.6.1, and what the server sets itself).
_HOP_BY_HOP = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-encoding",
    }
)
_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(:path)?\}")
_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class StubRequest:
    """One request to the stub. ``path`` is relative to the vendor's base URL, still
    percent-encoded; ``params`` holds the route's ``{parameters}``, decoded."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""
    params: Mapping[str, str] = field(default_factory=dict)
    #: The ``requests`` keyword arguments (``timeout``...) when it came through ``responses``
    #: (the kit checks every request had a timeout); None on loopback.
    req_kwargs: Mapping[str, Any] | None = None

    @property
    def url(self) -> str:
        return self.path

    def json(self) -> Any:
        """The body as JSON (None when empty)."""
        return jsonlib.loads(self.body) if self.body else None


@dataclass(frozen=True, slots=True)
class StubAnswer:
    """What the stub answers. ``timeout``: nothing in time (``responses``: a ``ReadTimeout``;
    on loopback the request is held past the client's timeout, then the connection closes)."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: bool = False

    @classmethod
    def json(
        cls, status: int, payload: Any, headers: Mapping[str, str] | None = None
    ) -> StubAnswer:
        return cls(
            status,
            jsonlib.dumps(payload).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    @classmethod
    def hang(cls) -> StubAnswer:
        """No answer in time."""
        return cls(504, timeout=True)


@dataclass(frozen=True, slots=True)
class StubExchange:
    """A request the stub answered (``unmatched``: no route took it)."""

    request: StubRequest
    answer: StubAnswer
    unmatched: bool = False

    def describe(self) -> str:
        line = f"{self.request.method} {self.request.path}"
        if self.request.query:
            line += "?" + "&".join(f"{k}={v}" for k, v in self.request.query.items())
        if self.request.body:
            line += f" {_excerpt(self.request.body)}"
        if self.answer.timeout:
            return f"{line} -> no answer (timeout)"
        return f"{line} -> {self.answer.status} {_excerpt(self.answer.body)}"


Handler = Callable[..., Any]
#: ``fail(call, request)``: the answer for the ``VendorCall``'s failure (anything a handler may
#: return), or None to let the routes answer.
FailHook = Callable[[VendorCall, StubRequest], Any]


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    template: str


class VendorStub:
    """A vendor API made of the author's handlers (see the module). ``credential`` is the demo
    account's credential a local run links (``demo_credential``); ``name`` the vendor key;
    ``base_url`` the vendor's real base URL, when routes are given as full URLs
    (``responses``-style) and the default of ``responses_vendor``.

    Routes are paths under the vendor's base URL (``/lamps/{id}`` for
    ``https://api.acme.example/v1/lamps/{id}``). The most recently registered route that
    matches a request answers it, so a test can put a special answer over a general one.
    """

    def __init__(
        self,
        name: str = "vendor",
        *,
        credential: AnyCredential | None = None,
        base_url: str | None = None,
    ) -> None:
        self.name = name
        self.demo_credential = credential
        self.base_url = base_url.rstrip("/") if base_url else None
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        #: The kit's call in progress (set by the stages), for the fail hook and ``spoil``.
        self._call: VendorCall | None = None
        self._fail: FailHook | None = None
        self._exchanges: list[StubExchange] = []

    @classmethod
    def forwarding(
        cls,
        name: str,
        upstream: str,
        *,
        credential: AnyCredential | None = None,
        timeout: float = 10.0,
    ) -> VendorStub:
        """A stub that hands every request on to the real vendor at ``upstream`` (its base URL)
        and its answer back: served by ``LocalVendor``, it puts the local fault injection in
        front of a real vendor (the adapter's base URL pointed at the local one). Headers go as
        they came but ``Host``, ``Content-Length`` and hop-by-hop ones."""
        import requests

        stub = cls(name, credential=credential)
        base = upstream.rstrip("/")
        session = requests.Session()
        session.trust_env = False

        def forward(request: StubRequest, rest: str = "") -> StubAnswer:
            headers = {k: v for k, v in request.headers.items() if k not in _HOP_BY_HOP}
            try:
                answer = session.request(
                    request.method,
                    f"{base}{request.path}",
                    params=dict(request.query),
                    data=request.body or None,
                    headers=headers,
                    timeout=timeout,
                    allow_redirects=False,
                )
            except requests.Timeout:
                return StubAnswer.hang()
            except requests.RequestException as exc:
                return StubAnswer.json(
                    502, {"error": f"{name} upstream unreachable: {type(exc).__name__}"}
                )
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
            return StubAnswer(answer.status_code, answer.content, kept)

        for method in _METHODS:
            stub.route(method, "/{rest:path}")(forward)
            stub.route(method, "/")(forward)
        return stub

    # -- building -----------------------------------------------------------------------------

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        """Decorator: ``handler(request, **params)`` answers ``method path``. ``{name}`` in the
        path matches one segment, ``{name:path}`` the rest of the path."""

        def register(handler: Handler) -> Handler:
            relative = self._relative(path)
            self._routes.append(_Route(method.upper(), _compile(relative), handler, relative))
            return handler

        return register

    def add(
        self,
        method: str,
        path: str,
        *,
        json: Any = _MISSING,
        body: bytes | str | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
    ) -> None:
        """A fixed answer, with ``responses.add``'s arguments (``path`` may be a full URL: its
        path is used)."""
        if json is not _MISSING:
            answer = StubAnswer.json(status, json, headers)
        else:
            raw = body.encode() if isinstance(body, str) else (body or b"")
            answer = StubAnswer(
                status,
                raw,
                {**({"Content-Type": content_type} if content_type else {}), **(headers or {})},
            )
        self.route(method, path)(lambda request, **_: answer)

    def add_callback(self, method: str, path: str, callback: Callable[[StubRequest], Any]) -> None:
        """``callback(request) -> (status, headers, body)``, as ``responses.add_callback``."""

        def handler(request: StubRequest, **_: str) -> StubAnswer:
            status, headers, body = callback(request)
            return StubAnswer(status, body.encode() if isinstance(body, str) else body, headers)

        self.route(method, path)(handler)

    def _relative(self, path: str) -> str:
        """A route's path: a full URL under ``base_url`` made relative to it."""
        if "://" not in path:
            return path
        if self.base_url and path.startswith(self.base_url):
            return path[len(self.base_url) :] or "/"
        return urlsplit(path).path

    # -- answering ------------------------------------------------------------------------------

    def answer(self, request: StubRequest) -> StubAnswer:
        """The stub's answer to ``request`` (the fail hook first, during a kit call), spoiled by
        the call's ``spoil`` when it has one; every exchange is recorded."""
        call, fail = self._call, self._fail
        unmatched = False
        answer: StubAnswer | None = None
        if call is not None and fail is not None:
            staged = fail(call, request)
            if staged is not None:
                answer = _to_answer(staged)
        if answer is None:
            for route in reversed(self._routes):
                if route.method != request.method:
                    continue
                match = route.pattern.fullmatch(request.path)
                if match is None:
                    continue
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                request = StubRequest(
                    request.method,
                    request.path,
                    request.query,
                    request.headers,
                    request.body,
                    params,
                    request.req_kwargs,
                )
                answer = _to_answer(route.handler(request, **params))
                break
            else:
                unmatched = True
                answer = StubAnswer.json(
                    501,
                    {
                        "error": f"the {self.name} stub has no route for {request.method} "
                        f"{request.path}"
                    },
                )
        if call is not None and call.spoil is not None and not answer.timeout:
            label = f"{request.method} {request.path} -> {answer.status}"
            answer = StubAnswer(answer.status, call.spoil(answer.body, label), answer.headers)
        with self._lock:
            self._exchanges.append(StubExchange(request, answer, unmatched))
        return answer

    @property
    def exchanges(self) -> list[StubExchange]:
        """Every request answered so far, in order."""
        with self._lock:
            return list(self._exchanges)

    @contextmanager
    def _serving(self, call: VendorCall, fail: FailHook | None) -> Iterator[_Calls]:
        with self._lock:
            self._call, self._fail = call, fail
            start = len(self._exchanges)
        calls = _Calls(self, start)
        try:
            yield calls
        finally:
            with self._lock:
                self._call, self._fail = None, None
        missed = [e for e in calls.calls if e.unmatched]
        if missed:
            raise AssertionError(
                f"{call.operation}: the adapter sent {missed[0].request.method} "
                f"{missed[0].request.path}, which the {self.name} stub has no route for"
            )

    # -- the kit's stages -----------------------------------------------------------------------

    def responses_vendor(
        self, base_url: str | None = None, *, fail: FailHook | None = None
    ) -> VendorStage:
        """A ``VendorStage`` that answers every request under ``base_url`` (default: the stub's)
        from this stub through ``responses`` (no socket); ``fail(call, request)`` stages the
        call's failure.

        A request that no route takes fails the check that made it."""
        base = (base_url or self.base_url or "").rstrip("/")
        if not base:
            raise ValueError("responses_vendor needs the vendor's base URL")

        @contextmanager
        def vendor(call: VendorCall) -> Iterator[_Calls]:
            import responses

            with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
                self.mount(mock, base)
                with self._serving(call, fail) as calls:
                    yield calls

        return vendor

    def mount(self, mock: Any, base_url: str) -> None:
        """Answer every request under ``base_url`` on a ``responses.RequestsMock`` from this stub
        (for tests that use ``responses`` themselves)."""
        base = base_url.rstrip("/")
        prefix = urlsplit(base).path
        pattern = re.compile(re.escape(base) + r"(?:[/?].*)?$")

        def callback(prepared: Any) -> Any:
            import requests

            url = urlsplit(prepared.url)
            body = prepared.body or b""
            request = StubRequest(
                method=prepared.method.upper(),
                path=url.path[len(prefix) :] or "/",
                query=dict(parse_qsl(url.query)),
                headers={k.lower(): v for k, v in prepared.headers.items()},
                body=body.encode() if isinstance(body, str) else body,
                req_kwargs=dict(getattr(prepared, "req_kwargs", None) or {}),
            )
            answer = self.answer(request)
            if answer.timeout:
                return requests.exceptions.ReadTimeout(f"the {self.name} stub held the answer")
            return answer.status, dict(answer.headers), answer.body

        for method in _METHODS:
            mock.add_callback(method, pattern, callback=callback)


class _Calls:
    """What a stub stage yields: the exchanges of one adapter call (the kit reads ``calls``)."""

    def __init__(self, stub: VendorStub, start: int) -> None:
        self._stub, self._start = stub, start

    @property
    def calls(self) -> list[StubExchange]:
        return self._stub.exchanges[self._start :]


class LocalVendor:
    """A ``VendorStub`` served on loopback (a thread; ``url`` is its base URL), so an adapter
    can be tried end to end without a server of the author's own.

    ``dispatch`` is the one decision per request (``SimRequest -> SimResponse``, the vendor
    simulator's seam): ``bulb_workbench.local.faults.install(profile, simulator=local)`` puts
    injected faults in front of it. ``hold_seconds`` is how long a ``StubAnswer.timeout()`` holds
    the request (make it longer than the adapter's timeout).

    Example, the repository's Govee adapter against a stub of Govee's device list::

        >>> from bulb_skill_govee import create
        >>> from skill.plugins import AdapterContext, ApiKey
        >>> govee = VendorStub("govee", credential=ApiKey.of("demo-govee-key"))
        >>> power = {"type": "devices.capabilities.on_off", "instance": "powerSwitch"}
        >>> lamp = {"sku": "H6008", "device": "AA:01", "deviceName": "Desk",
        ...         "type": "devices.types.light", "capabilities": [power]}
        >>> govee.add("GET", "/user/devices", json={"code": 200, "data": [lamp]})
        >>> with LocalVendor(govee) as local:
        ...     adapter = create(AdapterContext(vendor="govee",
        ...                                     environ={"GOVEE_BASE_URL": local.url}))
        ...     devices = adapter.list_devices(local.demo_credential)
        >>> [(device.id, device.name) for device in devices]
        [('H6008@AA:01', 'Desk')]
        >>> [exchange.describe() for exchange in govee.exchanges]  # what came over loopback
        ['GET /user/devices -> 200 {"code": 200, "data": [{"sku": "H6008", ...}]}']
        >>> govee.exchanges[0].request.headers["govee-api-key"]
        'demo-govee-key'
    """

    def __init__(
        self, stub: VendorStub, *, host: str = "127.0.0.1", port: int = 0, hold_seconds: float = 3.0
    ) -> None:
        self.stub = stub
        self.host, self.port = host, port
        self.hold_seconds = hold_seconds
        self._stopping = threading.Event()
        self._server: Any = None  # the workbench's loopback server

    @property
    def name(self) -> str:
        return self.stub.name

    @property
    def demo_credential(self) -> AnyCredential | None:
        """The credential a local run links for the demo user (the stub's ``credential``)."""
        return self.stub.demo_credential

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the local vendor is not started")
        return str(self._server.url)

    def start(self) -> LocalVendor:
        from bulb_workbench.local._sim_http import loopback

        self._stopping.clear()
        # Late-bound: fault injection replaces ``self.dispatch``.
        self._server = loopback(
            lambda request: self.dispatch(request),
            name=f"local-{self.name}",
            host=self.host,
            port=self.port,
        ).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def dispatch(self, request: Any) -> Any:
        """One request (``bulb_workbench.local._sim_http.SimRequest``) -> its ``SimResponse``."""
        from bulb_workbench.local._sim_http import SimResponse

        answer = self.stub.answer(
            StubRequest(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers=dict(request.headers),
                body=request.body,
            )
        )
        if answer.timeout:
            self._stopping.wait(self.hold_seconds)
            return SimResponse(504, b"", {})
        return SimResponse(answer.status, answer.body, dict(answer.headers))

    def stage(self, fail: FailHook | None = None) -> VendorStage:
        """A ``VendorStage`` for the kit over real HTTP: the adapter must point at ``url``."""

        def vendor(call: VendorCall) -> Any:
            return self.stub._serving(call, fail)

        return vendor


# -- helpers ---------------------------------------------------------------------------------


def _compile(path: str) -> re.Pattern[str]:
    pattern, last = "", 0
    for match in _PARAMETER.finditer(path):
        pattern += re.escape(path[last : match.start()])
        name, rest = match.group(1), match.group(2)
        pattern += f"(?P<{name}>.+)" if rest else f"(?P<{name}>[^/]+)"
        last = match.end()
    pattern += re.escape(path[last:])
    return re.compile(pattern)


def _to_answer(value: Any) -> StubAnswer:
    if isinstance(value, StubAnswer):
        return value
    if value is None:
        return StubAnswer(204)
    if isinstance(value, tuple):
        if len(value) == 2:
            return StubAnswer.json(value[0], value[1])
        if len(value) == 3:
            return StubAnswer.json(value[0], value[1], value[2])
        raise TypeError(
            f"a handler's tuple is (status, json) or (status, json, headers): {value!r}"
        )
    if isinstance(value, bytes):
        return StubAnswer(200, value)
    return StubAnswer.json(200, value)


def _excerpt(body: bytes, limit: int = 300) -> str:
    text = body.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + f"... ({len(body)} bytes)"
