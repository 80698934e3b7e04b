"""Warm per-directive CPU time of the entrypoint router, the pipeline per style and the
dispatcher, against a baseline that builds the same answers as plain dicts.

Run as a script by ``bulb_workbench.bench.run`` (``python workbench/src/bulb_workbench/bench/warm.py
OUT.json``) with ``skill`` and the repository root (``tests.fakes``) importable, under each
interpreter measured. I/O is stubbed by ``tests/fakes.py``: what is left is parsing, validation,
routing, bulb semantics, building and serialising the answer; and, as in a warm container, the
access token's RS256 signature check (``skill.identity.CognitoIdentity``, the pool's keys already
fetched) and the user's vendor credential from the in-memory cache of ``skill.credentials``. Each
case runs ``WARMUP`` times, then repeatedly for at least ``BENCH_WARM_SECONDS`` of CPU; the figure
is ``time.process_time()`` per directive.

The baseline (``_Baseline``) is the cost of doing nothing but the JSON: the same answer shapes
(checked key by key against the project's answer), no validation, no routing framework.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[4]  # the checkout (workbench/src/bulb_workbench/bench)
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from bulb_workbench.bench._scenarios import CLIENT_ID, ISSUER, USER, access_token, jwks  # noqa: E402 - after the checkout joins sys.path
from skill.alexa import features_to_cookie  # noqa: E402 - after the checkout joins sys.path
from skill.bulbs import BulbState  # noqa: E402 - after the checkout joins sys.path
from skill.credentials import Credentials  # noqa: E402 - after the checkout joins sys.path
from skill.identity import CognitoIdentity, JwksCache  # noqa: E402 - after the checkout joins sys.path
from skill.plugins import Device, Style  # noqa: E402 - after the checkout joins sys.path
from skill.records import OutboxMessage, QueuedDirective, TokenRecord  # noqa: E402 - after the checkout joins sys.path
from tests.fakes import (  # noqa: E402 - after the checkout joins sys.path
    COLOR,
    TUNABLE,
    WHITE,
    FakeAdapter,
    FakeLwa,
    MemoryOutbox,
    MemoryPollQueue,
    MemoryQueue,
    MemoryStateStore,
    MemoryTokenStore,
    registry_of,
    vault_with,
)

TOKEN = access_token()  # an access token of the (bench) user pool, for USER


def _identity() -> CognitoIdentity:
    keys = jwks()
    return CognitoIdentity(
        ISSUER, CLIENT_ID, jwks=JwksCache("https://bench/jwks", fetch=lambda _url: keys)
    )


def _credentials(adapter: FakeAdapter) -> Credentials:
    return Credentials(vault_with(adapter, user_id=USER))  # cached as in a warm container


WARMUP = 30
SECONDS = float(os.environ.get("BENCH_WARM_SECONDS", "0.6"))
CORRELATION = "dFMb0z+PgpgdDmluhJ1LddFvSqZ/jCc8ptlAKulUj90jSqg=="
POOL = 256


def _directive(
    namespace: str,
    name: str,
    payload: dict[str, Any] | None,
    endpoint: str | None,
    features=COLOR,
    brightness: int | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "header": {
            "namespace": namespace,
            "name": name,
            "payloadVersion": "3",
            "messageId": str(uuid.uuid4()),
            "correlationToken": CORRELATION,
        },
        "payload": payload or {},
    }
    if endpoint:
        body["endpoint"] = {
            "scope": {"type": "BearerToken", "token": TOKEN},
            "endpointId": endpoint,
            "cookie": features_to_cookie(features),
        }
    return {"directive": body}


def _discover_event() -> dict[str, Any]:
    event = _directive(
        "Alexa.Discovery", "Discover", {"scope": {"type": "BearerToken", "token": TOKEN}}, None
    )
    del event["directive"]["header"]["correlationToken"]
    return event


def _adapter_with(n: int, style: Style = Style.SYNC) -> FakeAdapter:
    adapter = FakeAdapter(style=style)
    adapter.devices.clear()
    adapter.states.clear()
    kinds = (COLOR, TUNABLE, WHITE)
    for i in range(n):
        device = Device(f"bulb-{i:03d}", f"Bulb {i}", kinds[i % 3], "Fake", f"M{i % 3}")
        adapter.devices[device.id] = device
        adapter.states[device.id] = BulbState(on=False, brightness=60)
    adapter.calls = _NoList()  # the fake records calls; unbounded over thousands of runs
    return adapter


class _NoList(list):
    def append(self, item: Any) -> None:
        pass


def _timed(run: Callable[[int], Any]) -> dict[str, float]:
    for i in range(WARMUP):
        run(i)
    n = 0
    start = time.process_time()
    wall = time.perf_counter()
    while True:
        for _ in range(20):
            run(n)
            n += 1
        spent = time.process_time() - start
        if spent >= SECONDS:
            break
    return {"us": spent / n * 1e6, "n": n, "wall_us": (time.perf_counter() - wall) / n * 1e6}


def _shape(value: Any) -> Any:
    """Keys and list lengths, recursively: what must match between baseline and project."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return (
        type(value).__name__
        if not isinstance(value, (int, float)) or isinstance(value, bool)
        else "number"
    )


# -- the baseline: the same answers, plain dicts ---------------------------------------------


def _now_iso(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _cap(interface: str, prop: str | None) -> dict[str, Any]:
    if prop is None:
        return {"type": "AlexaInterface", "interface": interface, "version": "3"}
    return {
        "type": "AlexaInterface",
        "interface": interface,
        "version": "3",
        "properties": {
            "supported": [{"name": prop}],
            "proactivelyReported": True,
            "retrievable": True,
        },
    }


class _Baseline:
    @staticmethod
    def discover(
        event: dict[str, Any], devices: list[dict[str, Any]], vendor: str
    ) -> dict[str, Any]:
        endpoints = []
        for d in devices:
            caps = [_cap("Alexa", None), _cap("Alexa.PowerController", "powerState")]
            if d["dimmable"]:
                caps.append(_cap("Alexa.BrightnessController", "brightness"))
            if d["color"]:
                caps.append(_cap("Alexa.ColorController", "color"))
            if d["ct"]:
                caps.append(_cap("Alexa.ColorTemperatureController", "colorTemperatureInKelvin"))
            caps.append(_cap("Alexa.EndpointHealth", "connectivity"))
            endpoints.append(
                {
                    "endpointId": f"{vendor}:{d['id']}",
                    "manufacturerName": d["manufacturer"],
                    "friendlyName": d["name"],
                    "description": d["description"],
                    "displayCategories": ["LIGHT"],
                    "cookie": d["cookie"],
                    "capabilities": caps,
                }
            )
        return {
            "event": {
                "header": {
                    "namespace": "Alexa.Discovery",
                    "name": "Discover.Response",
                    "payloadVersion": "3",
                    "messageId": str(uuid.uuid4()),
                },
                "payload": {"endpoints": endpoints},
            }
        }

    @staticmethod
    def properties(state: dict[str, Any], now: float) -> list[dict[str, Any]]:
        t = _now_iso(now)

        def p(ns: str, name: str, value: Any) -> dict[str, Any]:
            return {
                "namespace": ns,
                "name": name,
                "value": value,
                "timeOfSample": t,
                "uncertaintyInMilliseconds": 500,
            }

        return [
            p("Alexa.PowerController", "powerState", "ON" if state["on"] else "OFF"),
            p("Alexa.BrightnessController", "brightness", state["brightness"]),
            p("Alexa.ColorController", "color", state["color"]),
            p("Alexa.ColorTemperatureController", "colorTemperatureInKelvin", state["ct"]),
            p("Alexa.EndpointHealth", "connectivity", {"value": "OK"}),
        ]

    @classmethod
    def report_state(cls, event: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        d = event["directive"]
        return {
            "context": {"properties": cls.properties(state, time.time())},
            "event": {
                "header": {
                    "namespace": "Alexa",
                    "name": "StateReport",
                    "payloadVersion": "3",
                    "messageId": str(uuid.uuid4()),
                    "correlationToken": d["header"]["correlationToken"],
                },
                "endpoint": {"endpointId": d["endpoint"]["endpointId"]},
                "payload": {},
            },
        }

    @staticmethod
    def control(event: dict[str, Any], queue: list[Any]) -> dict[str, Any]:
        d = event["directive"]
        now = time.time()
        queue.append(
            {
                "directive": d,
                "received_at": now,
                "deadline": now + 8,
                "features": {
                    "dimmable": True,
                    "color": True,
                    "color_temperature": {"minimum": 2000, "maximum": 9000},
                    "color_temperature_step": 500,
                },
            }
        )
        return {
            "event": {
                "header": {
                    "namespace": "Alexa",
                    "name": "DeferredResponse",
                    "payloadVersion": "3",
                    "messageId": str(uuid.uuid4()),
                    "correlationToken": d["header"]["correlationToken"],
                },
                "payload": {"estimatedDeferralInSeconds": 2},
            }
        }

    @classmethod
    def process(cls, body: str, style: str, out: list[Any]) -> None:
        queued = json.loads(body)
        d = queued["directive"]
        state = {
            "on": True,
            "brightness": d["payload"]["brightness"],
            "color": {"hue": 0.0, "saturation": 0.0, "brightness": 1.0},
            "ct": 5500,
        }
        endpoint_id = d["endpoint"]["endpointId"]
        out.append(
            {
                "endpoint_id": endpoint_id,
                "user_id": "user-1",
                "vendor": "fake",
                "features": queued["features"],
                "state": state,
                "updated_at": time.time(),
            }
        )
        if style in ("async", "polling"):
            out.append(
                {
                    "endpoint_id": endpoint_id,
                    "message_id": d["header"]["messageId"],
                    "expected": state,
                    "deadline": queued["deadline"],
                }
            )
            if style == "polling":
                out.append(
                    {
                        "endpoint_id": endpoint_id,
                        "message_id": d["header"]["messageId"],
                        "attempt": 0,
                    }
                )
            return
        message = {
            "event": {
                "header": {
                    "namespace": "Alexa",
                    "name": "Response",
                    "payloadVersion": "3",
                    "messageId": str(uuid.uuid4()),
                    "correlationToken": d["header"]["correlationToken"],
                },
                "endpoint": {"endpointId": endpoint_id},
                "payload": {},
            },
            "context": {"properties": cls.properties(state, time.time())},
        }
        out.append(
            {
                "user_id": "user-1",
                "message": message,
                "deadline": queued["deadline"],
                "received_at": queued["received_at"],
                "correlation_id": d["header"]["messageId"],
                "kind": "Response",
            }
        )

    @staticmethod
    def deliver(body: str, token: str, sent: list[Any]) -> str:
        message = json.loads(body)
        event = dict(message["message"]["event"])
        event["endpoint"] = {**event["endpoint"], "scope": {"type": "BearerToken", "token": token}}
        sent.append({**message["message"], "event": event})
        return "delivered"


# -- the cases ---------------------------------------------------------------------------------


def entrypoint_cases() -> dict[str, dict[str, Any]]:
    import skill.handlers.entrypoint as entrypoint
    from skill.composition import Composition, use
    from skill.routing import EntrypointServices, build_router

    results: dict[str, dict[str, Any]] = {}
    adapter = _adapter_with(300)
    services = EntrypointServices(
        adapters=registry_of(adapter),
        tokens=MemoryTokenStore(),
        lwa=FakeLwa(),
        queue=MemoryQueue(),
        clock=time.time,
        identity=_identity(),
        credentials=_credentials(adapter),
    )
    router = build_router(services)
    use(Composition(router=router))  # the Lambda handler, wired to the fakes
    handler = entrypoint.handler

    plain_devices = [
        {
            "id": d.id,
            "name": d.name,
            "manufacturer": d.manufacturer,
            "description": d.description,
            "dimmable": d.features.dimmable,
            "color": d.features.color,
            "ct": d.features.color_temperature is not None,
            "cookie": features_to_cookie(d.features),
        }
        for d in adapter.devices.values()
    ]
    discover_events = [_discover_event() for _ in range(POOL)]
    state_events = [_directive("Alexa", "ReportState", None, "fake:bulb-000") for _ in range(POOL)]
    control_events = [
        _directive(
            "Alexa.BrightnessController",
            "SetBrightness",
            {"brightness": 40 + i % 50},
            "fake:bulb-000",
        )
        for i in range(POOL)
    ]
    state = {
        "on": False,
        "brightness": 60,
        "color": {"hue": 0.0, "saturation": 0.0, "brightness": 1.0},
        "ct": 5500,
    }
    queue: list[Any] = []

    def bounded(run):
        def go(i):
            if i % 512 == 0:
                services.queue.messages.clear()
                queue.clear()
            return run(i)

        return go

    cases = {
        "Discover (300 endpoints)": (
            lambda i: handler(discover_events[i % POOL], None),
            lambda i: _Baseline.discover(discover_events[i % POOL], plain_devices, "fake"),
        ),
        "ReportState": (
            lambda i: handler(state_events[i % POOL], None),
            lambda i: _Baseline.report_state(state_events[i % POOL], state),
        ),
        "control (SetBrightness -> queue)": (
            bounded(lambda i: handler(control_events[i % POOL], None)),
            bounded(lambda i: _Baseline.control(control_events[i % POOL], queue)),
        ),
    }
    for name, (project, baseline) in cases.items():
        same = _shape(project(0)) == _shape(baseline(0))
        results[name] = {
            "project": _timed(project),
            "baseline": _timed(baseline),
            "same_shape": same,
        }
    return results


def pipeline_cases() -> dict[str, dict[str, Any]]:
    from skill.pipeline import Pipeline, PipelineServices

    results: dict[str, dict[str, Any]] = {}
    for style in Style:
        adapter = FakeAdapter(style=style)
        adapter.calls = _NoList()
        services = PipelineServices(
            adapters=registry_of(adapter),
            credentials=_credentials(adapter),
            outbox=MemoryOutbox(),
            pending=MemoryStateStore(),
            poll_queue=MemoryPollQueue(),
            clock=time.time,
        )
        pipeline = Pipeline(services)
        now = time.time()
        bodies = []
        for i in range(POOL):
            event = _directive(
                "Alexa.BrightnessController",
                "SetBrightness",
                {"brightness": 40 + i % 2},
                "fake:color-1",
            )
            bodies.append(
                QueuedDirective.without_token(
                    event["directive"],
                    user_id=USER,
                    received_at=now,
                    deadline=now + 36000,
                    features=COLOR,
                ).model_dump_json()
            )
        sink: list[Any] = []

        def project(i: int, bodies=bodies, pipeline=pipeline, services=services) -> Any:
            if i % 512 == 0:
                services.outbox.messages.clear()
                services.pending.pending.clear()
                services.poll_queue.tickets.clear()
            return pipeline.process(QueuedDirective.model_validate_json(bodies[i % POOL]))

        def baseline(i: int, bodies=bodies, style=style.value, sink=sink) -> Any:
            if i % 512 == 0:
                sink.clear()
            return _Baseline.process(bodies[i % POOL], style, sink)

        project(0)
        results[f"pipeline {style.value}"] = {
            "project": _timed(project),
            "baseline": _timed(baseline),
            "same_shape": None,
        }
    return results


def dispatcher_cases() -> dict[str, dict[str, Any]]:
    try:
        from skill.delivery import Dispatcher, TokenCache
        from skill.ports import GatewayAnswer
    except ImportError as error:  # the dispatcher has not landed
        return {"dispatcher": {"skipped": f"not importable: {error}"}}
    from skill.alexa import events, state_properties

    class Gateway:
        def __init__(self) -> None:
            self.sent = 0

        def send(self, url: str, message: dict[str, Any], token: str, *, timeout: float) -> Any:
            self.sent += 1
            return GatewayAnswer(status=202)

    store = MemoryTokenStore()
    store.put(
        TokenRecord(
            user_id="user-1",
            region="NA",
            access_token="Atza|x",
            refresh_token="Atzr|x",
            expires_at=time.time() + 36000,
        )
    )
    lwa = FakeLwa()
    dispatcher = Dispatcher(
        TokenCache(store, lwa), Gateway(), lambda region: "https://gateway.invalid/v3/events"
    )
    now = time.time()
    bodies = [
        OutboxMessage(
            user_id="user-1",
            message=events.response(
                CORRELATION,
                "fake:color-1",
                state_properties(COLOR, BulbState(on=True, brightness=55), now),
            ),
            deadline=now + 36000,
            received_at=now,
            correlation_id=str(uuid.uuid4()),
        ).model_dump_json()
        for _ in range(POOL)
    ]
    sent: list[Any] = []

    def project(i: int) -> Any:
        message = dispatcher.parse(bodies[i % POOL])
        return dispatcher.deliver(message)

    def baseline(i: int) -> Any:
        if i % 512 == 0:
            sent.clear()
        return _Baseline.deliver(bodies[i % POOL], "Atza|x", sent)

    result = {
        "project": _timed(project),
        "baseline": _timed(baseline),
        "same_shape": None,
        "lwa_calls": len(lwa.refreshed) + len(lwa.exchanged),
    }
    return {"dispatcher (outbox Response -> gateway)": result}


def main() -> None:
    # the handler's JSON logs are produced, then dropped (open for the whole run)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - open for the whole run
    results = {"python": "{}.{}.{}".format(*sys.version_info[:3]), "seconds": SECONDS}
    results["cases"] = {**entrypoint_cases(), **pipeline_cases(), **dispatcher_cases()}
    from bulb_workbench.bench import emit_results

    emit_results(results, stdout=sys.__stdout__)


if __name__ == "__main__":
    main()
