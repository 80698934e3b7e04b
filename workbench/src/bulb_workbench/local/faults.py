"""Fault injection for the local stack: the vendor simulator, the fake event gateway and the fake
LWA fail a share of calls, the way real services fail.

A profile says which share of calls fails at each of the three (``vendor=0.2,gateway=0.1,lwa=0.3``)
and a seed; each faulted call fails in one of these ways, picked at random (seeded):

- ``timeout``: nothing, until the caller's own timeout passes: the server holds the request for
  the client's timeout + 0.5 s (bounded), then closes the connection. Not processed.
- ``reset``: the connection is closed at once (RST) without an answer. Not processed.
- ``5xx``: 500, 502 or 503 with the service's own error body. Not processed.
- ``429``: 429 with ``Retry-After: 1`` and the service's throttling body. Not processed.
- ``malformed``: half the time the real answer with its JSON body cut in half (the call *was*
  processed: a vendor command ran, an LWA token was issued), else an HTML error page from a
  "proxy" (502/503, not processed). The gateway's 202 has no body to spoil: there it is a 500
  with a cut-off error body or an HTML page.

Only the services' own endpoints fail: the simulator's vendor API (not its ``/_sim/`` test
hooks), the gateway's ``POST /v3/events``, LWA's ``POST /auth/o2/token``. Faulted calls never
reach the service's log (``gateway.requests()``, ``sim.log()``) unless they were processed; the
injector keeps its own (``Faults.log()``).

Example, on a simulator of its own (seeded: the same calls fail the same ways on every run)::

    >>> import requests
    >>> from bulb_workbench.local.simulator import VendorSimulator
    >>> profile = FaultProfile.parse("vendor=0.5,kinds=5xx+429", seed=7)
    >>> with VendorSimulator(latency=0) as sim:
    ...     faults = install(profile, simulator=sim)
    ...     url = f"{sim.url}/sim-polling/v1/devices"
    ...     key = {"X-Api-Key": "demo-sim-polling-credential"}
    ...     statuses = [requests.get(url, headers=key, timeout=5).status_code for _ in range(6)]
    ...     with faults.suspended():  # setup without faults
    ...         calm = requests.get(url, headers=key, timeout=5).status_code
    ...     faults.stop()  # before the server stops, so that no held request outlives it
    >>> statuses, calm
    ([200, 502, 200, 429, 200, 503], 200)
    >>> faults.counts()["vendor"]
    {'timeout': 0, 'reset': 0, '5xx': 2, '429': 1, 'malformed': 0}
    >>> faults.summary()
    'vendor 3 of 6 calls (5xx 2, 429 1)'
    >>> len(sim.log("sim-polling"))  # the faulted calls never reached the vendor
    4

On a local stack, ``LocalStack(faults="vendor=0.2,gateway=0.2,lwa=0.5")`` installs the profile
on its simulator, gateway, LWA and staged vendors as ``stack.faults``, suspended during its own
setup (``link_demo_user``...); tests/integration/test_faults.py runs the skill that way.

How a fault is put in front of a service: the simulator decides every request in one
``dispatch(SimRequest) -> SimResponse`` call and the fakes in one ``app(Request) -> Reply``
call; ``install`` wraps those (``sim.dispatch = faulty(sim.dispatch)``). To close a connection
without an answer, the wrapper finds the ``BaseHTTPRequestHandler`` serving the request (the
caller of the app, up the stack), points its output at a sink and marks the connection to be
closed: the server "sends" its reply into the sink and closes the socket (with ``SO_LINGER`` 0
for a reset, so the peer gets an RST), and no exception crosses any thread. Called outside a
server (a test calling ``dispatch`` itself), the fault is a 504 instead.
"""

from __future__ import annotations

import io
import random
import socket
import struct
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler
from typing import Any

__all__ = [
    "KINDS",
    "TARGETS",
    "FaultInjector",
    "FaultProfile",
    "Faults",
    "InjectedFault",
    "install",
    "profile_of",
]

#: The ways a call fails.
KINDS: tuple[str, ...] = ("timeout", "reset", "5xx", "429", "malformed")
#: What can fail: the vendor simulator, the fake event gateway, the fake LWA.
TARGETS: tuple[str, ...] = ("vendor", "gateway", "lwa")

#: No fault holds a request longer than this, whatever the client's timeout.
MAX_HOLD_SECONDS = 10.0
#: The fault log keeps this many entries.
LOG_LIMIT = 10_000

_HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>\n"
    "<body><h1>{status} {reason}</h1><p>The upstream server is temporarily unable to "
    "service your request.</p><hr><address>proxy</address></body></html>\n"
)
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def client_timeouts() -> dict[str, float]:
    """Each target's client timeout, read from the clients themselves: the simulator adapters'
    request timeout, the dispatcher's per-send read timeout, the LWA client's timeout."""
    import inspect

    from bulb_workbench.local.sim_adapters import REQUEST_TIMEOUT_SECONDS
    from skill.aws.lwa import LwaClient
    from skill.delivery import RetryPolicy

    lwa = inspect.signature(LwaClient.__init__).parameters["timeout"].default
    return {
        "vendor": float(REQUEST_TIMEOUT_SECONDS),
        "gateway": float(RetryPolicy().read_timeout),
        "lwa": float(lwa),
    }


def _hang_up(*, reset: bool) -> bool:
    """Make the server close this request's connection without answering (see the module
    docstring); False when no HTTP handler is serving the calling thread."""
    frame = sys._getframe(1)
    while frame is not None:
        handler = frame.f_locals.get("self")
        if isinstance(handler, BaseHTTPRequestHandler):
            handler.close_connection = True
            handler.wfile = _Sink()  # type: ignore[assignment]
            if reset:
                try:
                    handler.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                except OSError:
                    pass
            return True
        frame = frame.f_back
    return False


class _Sink(io.RawIOBase):
    """Where a hung-up request's answer goes."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return len(data)


# -- the profile -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FaultProfile:
    """Which share (0-1) of each target's calls fails, with which kinds, from which seed."""

    vendor: float = 0.0
    gateway: float = 0.0
    lwa: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = KINDS
    retry_after: int = 1  # seconds, on 429 answers

    def __post_init__(self) -> None:
        for target in TARGETS:
            rate = getattr(self, target)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{target}={rate}: a share of calls is between 0 and 1")
        unknown = set(self.kinds) - set(KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds are some of {', '.join(KINDS)}; got {self.kinds}")

    @classmethod
    def parse(cls, spec: str, *, seed: int | None = None) -> FaultProfile:
        """``"vendor=0.2,gateway=0.1,lwa=0.3"``; also ``kinds=timeout+5xx``, ``seed=7``,
        ``retry_after=2``. ``none`` or ``""`` is no faults. ``seed`` overrides the spec's."""
        values: dict[str, Any] = {}
        text = spec.strip()
        if text and text.lower() not in ("none", "off", "0"):
            for part in text.split(","):
                name, sep, value = part.partition("=")
                name, value = name.strip().lower(), value.strip()
                if not sep or not value:
                    raise ValueError(f"expected name=value in the fault profile, got {part!r}")
                try:
                    if name in TARGETS:
                        values[name] = float(value)
                    elif name in ("seed", "retry_after"):
                        values[name] = int(value)
                    elif name == "kinds":
                        values["kinds"] = tuple(k.strip() for k in value.split("+") if k.strip())
                    else:
                        raise ValueError(
                            f"unknown fault setting {name!r} (vendor, gateway, lwa, kinds, seed, "
                            "retry_after)"
                        )
                except ValueError as exc:
                    if "unknown fault" in str(exc):
                        raise
                    raise ValueError(f"{name}: {value!r} is not a number") from None
        if seed is not None:
            values["seed"] = seed
        return cls(**values)

    def rate(self, target: str) -> float:
        return float(getattr(self, target))

    @property
    def active(self) -> bool:
        return any(self.rate(t) > 0 for t in TARGETS)

    def __str__(self) -> str:
        shares = [f"{t}={self.rate(t):g}" for t in TARGETS if self.rate(t) > 0]
        if not shares:
            return "none"
        if self.kinds != KINDS:
            shares.append("kinds=" + "+".join(self.kinds))
        return ",".join(shares)


def profile_of(
    value: FaultProfile | str | Mapping[str, Any] | None, *, seed: int | None = None
) -> FaultProfile | None:
    """A profile from what ``LocalStack(faults=...)`` or ``--faults`` take; None for none."""
    if value is None:
        return None
    if isinstance(value, FaultProfile):
        profile = value if seed is None else replace(value, seed=seed)
    elif isinstance(value, str):
        profile = FaultProfile.parse(value, seed=seed)
    else:
        items = dict(value)
        if "kinds" in items and isinstance(items["kinds"], str):
            items["kinds"] = tuple(items["kinds"].split("+"))
        elif "kinds" in items:
            items["kinds"] = tuple(items["kinds"])
        if seed is not None:
            items["seed"] = seed
        profile = FaultProfile(**items)
    return profile


# -- deciding ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InjectedFault:
    at: float  # epoch seconds
    target: str
    kind: str
    method: str
    path: str
    status: int | None  # None: no answer (timeout, reset)
    processed: bool = False  # the service did the work before the answer was spoiled
    body: bytes = field(default=b"", repr=False)  # the request body (to see what was lost)


class FaultInjector:
    """Decides, for one target, which calls fail and how (thread-safe, seeded)."""

    def __init__(
        self,
        target: str,
        rate: float,
        *,
        seed: int,
        kinds: tuple[str, ...] = KINDS,
        hold_seconds: float = 2.5,
        retry_after: int = 1,
        stopping: threading.Event | None = None,
        log: deque[InjectedFault] | None = None,
        lock: threading.Lock | None = None,
    ) -> None:
        self.target = target
        self.rate = rate
        self.kinds = kinds
        self.hold_seconds = min(hold_seconds, MAX_HOLD_SECONDS)
        self.retry_after = retry_after
        self.enabled = True
        self.calls = 0  # calls seen while enabled
        self._script: list[tuple[str, str | None, float | None]] = []  # kind, path, variant
        self._rng = random.Random(f"{seed}:{target}")
        self._lock = lock or threading.Lock()
        self._stopping = stopping or threading.Event()
        self._log: deque[InjectedFault] = log if log is not None else deque(maxlen=LOG_LIMIT)

    def fail_next(
        self,
        count: int = 1,
        kind: str = "5xx",
        *,
        path: str | None = None,
        processed: bool | None = None,
    ) -> None:
        """The next ``count`` calls (only those whose path contains ``path``, when given) fail
        with ``kind``, whatever the rate (while enabled). ``processed`` picks the ``malformed``
        variant: True, the processed answer cut off; False, the HTML page; None, either."""
        if kind not in KINDS:
            raise ValueError(f"fault kinds are {', '.join(KINDS)}; got {kind!r}")
        variant = None if processed is None else (0.0 if processed else 0.9)
        with self._lock:
            self._script.extend([(kind, path, variant)] * count)

    def clear_script(self) -> None:
        """Forget the scripted faults not yet used."""
        with self._lock:
            self._script.clear()

    def decide(self, path: str = "") -> tuple[str, float] | None:
        """The kind of fault for the next call (and a number to pick its variant), or None."""
        with self._lock:
            if not self.enabled:
                return None
            for index, (kind, wanted, variant) in enumerate(self._script):
                if wanted is None or wanted in path:
                    del self._script[index]
                    self.calls += 1
                    return kind, self._rng.random() if variant is None else variant
            self.calls += 1
            if self.rate <= 0:
                return None
            if self._rng.random() >= self.rate:
                return None
            return self._rng.choice(self.kinds), self._rng.random()

    def hold(self) -> None:
        """A timeout: keep the caller waiting past its timeout (ends early when stopping)."""
        self._stopping.wait(self.hold_seconds)

    def record(
        self,
        kind: str,
        method: str,
        path: str,
        status: int | None,
        *,
        processed: bool = False,
        body: bytes = b"",
    ) -> None:
        fault = InjectedFault(time.time(), self.target, kind, method, path, status, processed, body)
        with self._lock:
            self._log.append(fault)


# -- one decision per request, per target ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Answer:
    """A target-neutral answer, turned into the server's own reply type."""

    status: int
    body: bytes
    headers: Mapping[str, str]


def _spoil(
    injector: FaultInjector,
    method: str,
    path: str,
    body: bytes,
    errors: Callable[[int], _Answer],
    real: Callable[[], _Answer] | None,
    *,
    processes: bool = True,
) -> _Answer | None:
    """The faulted answer to one request, or None to let the service answer. ``errors(status)``
    is the service's own error answer; ``real()`` is the answer a ``malformed`` fault cuts in
    half when it is a success (``processes``: ``real()`` runs the service)."""
    decision = injector.decide(path)
    if decision is None:
        return None
    kind, variant = decision
    if kind in ("timeout", "reset"):
        injector.record(kind, method, path, None, body=body)
        if kind == "timeout":
            injector.hold()
        _hang_up(reset=kind == "reset")
        return _Answer(504, b"", {})  # written into the sink (or, outside a server, the answer)
    if kind == "5xx":
        status = (500, 502, 503)[min(2, int(variant * 3))]
        injector.record(kind, method, path, status, body=body)
        return errors(status)
    if kind == "429":
        throttled = errors(429)
        headers = {**throttled.headers, "Retry-After": str(injector.retry_after)}
        injector.record(kind, method, path, 429, body=body)
        return _Answer(429, throttled.body, headers)
    # malformed
    if real is not None and variant < 0.5:
        answer = real()
        if answer.body and answer.status < 300:  # a success whose JSON body is cut in half
            cut = answer.body[: max(1, len(answer.body) // 2)]
            answer = _Answer(answer.status, cut, answer.headers)
        injector.record(kind, method, path, answer.status, processed=processes, body=body)
        return answer
    status = 502 if variant < 0.75 else 503
    page = _HTML_PAGE.format(status=status, reason=_REASONS[status]).encode()
    injector.record(kind, method, path, status, body=body)
    return _Answer(status, page, {"Content-Type": "text/html; charset=utf-8"})


def faulty_simulator(
    dispatch: Callable[[Any], Any], injector: FaultInjector
) -> Callable[[Any], Any]:
    """Wrap ``VendorSimulator.dispatch``: vendor API calls fail, test hooks never do."""
    from bulb_workbench.local._sim_http import SimResponse

    def errors(status: int) -> _Answer:
        code, message = {
            429: ("rate_limited", "too many requests"),
            500: ("internal", "internal error"),
            502: ("bad_gateway", "upstream error"),
            503: ("unavailable", "service unavailable"),
        }[status]
        answer = SimResponse.error(status, code, message)
        return _Answer(answer.status, answer.content, answer.headers)

    def wrapped(request: Any) -> Any:
        if request.path.startswith("/_sim/"):
            return dispatch(request)

        def real() -> _Answer:
            answer = dispatch(request)
            return _Answer(answer.status, answer.content, answer.headers)

        spoiled = _spoil(injector, request.method, request.path, request.body, errors, real)
        if spoiled is None:
            return dispatch(request)
        return SimResponse(spoiled.status, spoiled.body, dict(spoiled.headers))

    wrapped.__wrapped__ = dispatch  # type: ignore[attr-defined]
    return wrapped


def faulty_gateway(app: Callable[[Any], Any], injector: FaultInjector) -> Callable[[Any], Any]:
    """Wrap ``FakeGateway.app``: ``POST /v3/events`` fails (its 202 has no body to spoil, so
    ``malformed`` is always an HTML page or a cut-off error body, never processed)."""
    from bulb_workbench.local._fake_gateway import CODES, EVENTS_PATH, _exception
    from bulb_workbench.local._http import Reply

    def errors(status: int) -> _Answer:
        reply = _exception(
            status, CODES.get(status, "INTERNAL_SERVICE_EXCEPTION"), "injected fault"
        )
        return _Answer(reply.status, reply.body, reply.headers)

    def cut_error() -> _Answer:  # a 500 whose JSON error body is cut off
        full = errors(500)
        return _Answer(500, full.body[: len(full.body) // 2], full.headers)

    def wrapped(request: Any) -> Any:
        if request.path != EVENTS_PATH or request.method != "POST":
            return app(request)
        spoiled = _spoil(
            injector,
            request.method,
            request.path,
            request.body,
            errors,
            cut_error,
            processes=False,
        )
        if spoiled is None:
            return app(request)
        return Reply(spoiled.status, spoiled.body, dict(spoiled.headers))

    wrapped.__wrapped__ = app  # type: ignore[attr-defined]
    return wrapped


def faulty_lwa(app: Callable[[Any], Any], injector: FaultInjector) -> Callable[[Any], Any]:
    """Wrap ``FakeLwa.app``: ``POST /auth/o2/token`` fails (a cut-off 200 was processed: a grant
    code so answered is used up, as with the real service)."""
    from bulb_workbench.local._fake_lwa import TOKEN_PATH, _error
    from bulb_workbench.local._http import Reply

    def errors(status: int) -> _Answer:
        error = {429: "TooManyRequests", 503: "TemporarilyUnavailable"}.get(status, "ServerError")
        reply = _error(status, error, "injected fault")
        return _Answer(reply.status, reply.body, reply.headers)

    def wrapped(request: Any) -> Any:
        if request.path != TOKEN_PATH or request.method != "POST":
            return app(request)

        def real() -> _Answer:
            reply = app(request)
            return _Answer(reply.status, reply.body, reply.headers)

        # the form holds the client secret and codes: the fault log keeps no LWA body
        spoiled = _spoil(injector, request.method, request.path, b"", errors, real)
        if spoiled is None:
            return app(request)
        return Reply(spoiled.status, spoiled.body, dict(spoiled.headers))

    wrapped.__wrapped__ = app  # type: ignore[attr-defined]
    return wrapped


# -- installed on a stack --------------------------------------------------------------------------


class Faults:
    """The injectors installed on a stack's simulator, gateway and LWA (``LocalStack.faults``)."""

    def __init__(self, profile: FaultProfile, *, hold: Mapping[str, float] | None = None) -> None:
        self.profile = profile
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._log: deque[InjectedFault] = deque(maxlen=LOG_LIMIT)
        timeouts = client_timeouts()
        hold = dict(hold or {})
        self.injectors: dict[str, FaultInjector] = {
            target: FaultInjector(
                target,
                profile.rate(target),
                seed=profile.seed,
                kinds=profile.kinds,
                hold_seconds=hold.get(target, timeouts[target] + 0.5),
                retry_after=profile.retry_after,
                stopping=self._stopping,
                log=self._log,
                lock=self._lock,
            )
            for target in TARGETS
        }

    def fail_next(
        self,
        target: str,
        count: int = 1,
        kind: str = "5xx",
        *,
        path: str | None = None,
        processed: bool | None = None,
    ) -> None:
        """The next ``count`` calls to ``target`` (whose path contains ``path``, when given)
        fail with ``kind``, whatever the profile's share: scripted, as the fakes'
        ``fail_next``/``answer_next`` (see ``FaultInjector.fail_next``)."""
        self.injectors[target].fail_next(count, kind, path=path, processed=processed)

    def log(self, target: str | None = None) -> list[InjectedFault]:
        """Every fault injected, oldest first (only ``target``'s when given)."""
        with self._lock:
            return [f for f in self._log if target is None or f.target == target]

    def counts(self) -> dict[str, dict[str, int]]:
        """Faults injected per target and kind (every target, every kind, zeros included)."""
        tally = Counter((f.target, f.kind) for f in self.log())
        return {t: {k: tally[(t, k)] for k in KINDS} for t in TARGETS}

    def calls(self) -> dict[str, int]:
        """Calls each target saw while faults were on."""
        with self._lock:
            return {t: i.calls for t, i in self.injectors.items()}

    def set_enabled(self, enabled: bool) -> None:
        with self._lock:
            for injector in self.injectors.values():
                injector.enabled = enabled

    @contextmanager
    def suspended(self) -> Iterator[Faults]:
        """No faults within the block (setup: linking users, discovery)."""
        with self._lock:
            before = {t: i.enabled for t, i in self.injectors.items()}
        self.set_enabled(False)
        try:
            yield self
        finally:
            with self._lock:
                for target, injector in self.injectors.items():
                    injector.enabled = before[target]

    def stop(self) -> None:
        """Wake every request held by a ``timeout`` (it then closes its connection)."""
        self._stopping.set()

    def summary(self) -> str:
        """``vendor 12 of 60 calls (timeout 2, 5xx 4, ...); gateway ...`` for people."""
        counts, calls = self.counts(), self.calls()
        parts = []
        for target in TARGETS:
            if self.profile.rate(target) <= 0:
                continue
            kinds = ", ".join(f"{k} {n}" for k, n in counts[target].items() if n)
            total = sum(counts[target].values())
            parts.append(
                f"{target} {total} of {calls[target]} calls" + (f" ({kinds})" if kinds else "")
            )
        return "; ".join(parts) or "none"


def install(
    profile: FaultProfile,
    *,
    simulator: Any = None,
    gateway: Any = None,
    lwa: Any = None,
    hold: Mapping[str, float] | None = None,
) -> Faults:
    """Put ``profile``'s faults in front of the given services; ``Faults.stop()`` before the
    servers stop, so that no held request outlives them."""
    faults = Faults(profile, hold=hold)
    if simulator is not None:
        simulator.dispatch = faulty_simulator(simulator.dispatch, faults.injectors["vendor"])
    if gateway is not None:
        gateway.app = faulty_gateway(gateway.app, faults.injectors["gateway"])
    if lwa is not None:
        lwa.app = faulty_lwa(lwa.app, faults.injectors["lwa"])
    return faults
