"""The four simulator adapters against the real simulator on loopback, and against ``responses``
where a vendor must misbehave (5xx, timeouts, malformed bodies)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from typing import Any

import pytest
import requests
import responses

from skill.bulbs import BulbState, Change, Color, Features, KelvinRange, TurnOn, apply_command
from skill.bulbs import changes_for, converged
from skill.errors import (
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidNotification,
    InvalidValue,
    NoSuchEndpoint,
    RateLimited,
    SkillError,
)
from skill.local.sim_adapters import (
    SimulatorAdapter,
    SimulatorPushAdapter,
    create_async,
    create_optimistic,
    create_polling,
    create_sync,
)
from skill.local.simulator import VendorSimulator, sign
from skill.plugins import (
    Accepted,
    Adapter,
    AdapterContext,
    AdapterRegistry,
    PushAdapter,
    Style,
    WebhookRequest,
)

TOKEN = "demo-token"
SECRET = "adapter-test-secret"
FACTORIES: dict[str, tuple[Callable[[AdapterContext], Any], Style]] = {
    "sim-sync": (create_sync, Style.SYNC),
    "sim-async": (create_async, Style.ASYNC),
    "sim-optimistic": (create_optimistic, Style.OPTIMISTIC),
    "sim-polling": (create_polling, Style.POLLING),
}
DEFERRED = ["sim-async", "sim-optimistic", "sim-polling"]


@pytest.fixture(scope="module")
def sim() -> Iterator[VendorSimulator]:
    with VendorSimulator(latency=0, transition=0.05) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def fresh(sim: VendorSimulator) -> Iterator[None]:
    sim.reset()
    yield
    sim.wait_idle()


def adapter_for(vendor: str, sim: VendorSimulator, **environ: str) -> Any:
    factory, _ = FACTORIES[vendor]
    return factory(AdapterContext(vendor=vendor, environ={"SIMULATOR_URL": sim.url, **environ}))


@pytest.fixture
def sync(sim: VendorSimulator) -> SimulatorAdapter:
    return adapter_for("sim-sync", sim)


# -- plugin wiring -----------------------------------------------------------------------------


@pytest.mark.parametrize("vendor", FACTORIES)
def test_each_factory_names_its_vendor_and_declares_its_style(
    sim: VendorSimulator, vendor: str
) -> None:
    adapter = adapter_for(vendor, sim)
    assert adapter.name == vendor and adapter.style is FACTORIES[vendor][1]
    assert isinstance(adapter, Adapter)
    assert isinstance(adapter, PushAdapter) == (vendor == "sim-async")


def test_the_registry_finds_all_four_through_their_entry_points(sim: VendorSimulator) -> None:
    environ = {"ADAPTERS": ",".join(FACTORIES), "SIMULATOR_URL": sim.url}
    registry = AdapterRegistry.from_environment(environ)
    assert {a.name: a.style for a in registry.all()} == {v: s for v, (_, s) in FACTORIES.items()}
    assert registry.get("sim-sync").identify_user(TOKEN) == "demo-user"


def test_without_simulator_url_the_adapters_use_port_8765() -> None:
    adapter = create_polling(AdapterContext(vendor="sim-polling", environ={}))
    assert adapter.base_url == "http://127.0.0.1:8765/sim-polling/v1"


# -- the five operations -----------------------------------------------------------------------


@pytest.mark.parametrize("vendor", FACTORIES)
def test_identify_user_returns_the_vendor_account_id(sim: VendorSimulator, vendor: str) -> None:
    assert adapter_for(vendor, sim).identify_user(TOKEN) == "demo-user"


@pytest.mark.parametrize("vendor", FACTORIES)
def test_listed_devices_carry_their_real_features(sim: VendorSimulator, vendor: str) -> None:
    devices = {d.id: d for d in adapter_for(vendor, sim).list_devices(TOKEN)}
    assert devices["color-1"].features == Features(
        dimmable=True, color=True, color_temperature=KelvinRange(minimum=2000, maximum=9000)
    )
    assert devices["white-tunable-1"].features == Features(
        dimmable=True, color_temperature=KelvinRange(minimum=2700, maximum=6500)
    )
    white = devices["white-1"].features
    assert white.dimmable and not white.color and white.color_temperature is None
    assert devices["color-1"].name.endswith("Colour Bulb") and devices["color-1"].manufacturer


def test_read_state_maps_the_vendor_state(sync: SimulatorAdapter) -> None:
    assert sync.read_state(TOKEN, "color-1") == BulbState(
        on=False, brightness=80, color_temperature=2700, color_mode="temperature"
    )


def test_an_offline_bulb_reads_as_unreachable_not_as_an_error(
    sim: VendorSimulator, sync: SimulatorAdapter
) -> None:
    sim.set_online("sim-sync", "white-1", False)
    assert sync.read_state(TOKEN, "white-1").reachable is False


def test_sync_execute_returns_the_state_the_vendor_reports(sync: SimulatorAdapter) -> None:
    red = Color(hue=0, saturation=1, brightness=1)
    state = sync.execute(TOKEN, "color-1", Change(on=True, color=red))
    assert state == BulbState(on=True, brightness=80, color=red, color_mode="color")


@pytest.mark.parametrize("vendor", DEFERRED)
def test_deferred_styles_return_the_vendors_request_id_after_one_call(
    sim: VendorSimulator, vendor: str
) -> None:
    result = adapter_for(vendor, sim).execute(TOKEN, "white-1", Change(on=True, brightness=30))
    assert isinstance(result, Accepted)
    [command] = sim.commands(vendor)
    assert result.reference == command["request_id"]
    assert command["body"] == {"on": True, "brightness": 30}


def test_polling_reads_the_expected_state_once_the_bulb_converges(sim: VendorSimulator) -> None:
    adapter = adapter_for("sim-polling", sim)
    features = Features(dimmable=True)
    before = adapter.read_state(TOKEN, "white-1")
    expected = apply_command(before, TurnOn(), features)
    change = changes_for(before, expected)
    sim.transition = 1.0  # long enough that the read below comes first even on a busy machine
    try:
        adapter.execute(TOKEN, "white-1", change)
        assert not converged(adapter.read_state(TOKEN, "white-1"), expected, change)
    finally:
        sim.transition = 0.05
    sim.wait_idle(3)
    assert converged(adapter.read_state(TOKEN, "white-1"), expected, change)


@pytest.mark.parametrize("vendor", FACTORIES)
def test_executing_on_an_offline_bulb_is_endpoint_unreachable(
    sim: VendorSimulator, vendor: str
) -> None:
    sim.set_online(vendor, "color-1", False)
    with pytest.raises(EndpointUnreachable, match="offline"):
        adapter_for(vendor, sim).execute(TOKEN, "color-1", Change(on=True))


def test_device_ids_are_percent_encoded_in_paths(
    sim: VendorSimulator, sync: SimulatorAdapter
) -> None:
    sim.add_device("sim-sync", {"id": "hub/7 a", "name": "Odd Id"})
    assert sync.execute(TOKEN, "hub/7 a", Change(on=True)).on is True


# -- errors from the real simulator ------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda a: a.identify_user("wrong"),
        lambda a: a.list_devices("wrong"),
        lambda a: a.read_state("wrong", "color-1"),
        lambda a: a.execute("wrong", "color-1", Change(on=True)),
    ],
    ids=["identify", "list", "read", "execute"],
)
def test_a_token_the_vendor_rejects_is_invalid_authorization_credential(
    sync: SimulatorAdapter, call: Callable[[SimulatorAdapter], Any]
) -> None:
    with pytest.raises(InvalidAuthorizationCredential):
        call(sync)


@pytest.mark.parametrize("vendor", FACTORIES)
def test_an_unknown_device_is_no_such_endpoint(sim: VendorSimulator, vendor: str) -> None:
    adapter = adapter_for(vendor, sim)
    with pytest.raises(NoSuchEndpoint):
        adapter.read_state(TOKEN, "gone")
    with pytest.raises(NoSuchEndpoint):
        adapter.execute(TOKEN, "gone", Change(on=True))


def test_a_value_the_vendor_refuses_is_invalid_value(sync: SimulatorAdapter) -> None:
    with pytest.raises(InvalidValue, match="no colour"):
        sync.execute(TOKEN, "white-1", Change(color=Color(hue=1, saturation=1, brightness=1)))


def test_a_vendor_nobody_answers_for_is_endpoint_unreachable() -> None:
    adapter = create_sync(AdapterContext(vendor="sim-sync",
                                         environ={"SIMULATOR_URL": "http://127.0.0.1:9"}))
    with pytest.raises(EndpointUnreachable) as caught:
        adapter.identify_user(TOKEN)
    assert caught.value.retryable


# -- errors a vendor can produce that the simulator does not (yet): ``responses`` --------------

BASE = "http://vendor.test"


@pytest.fixture
def mocked() -> Iterator[tuple[responses.RequestsMock, SimulatorAdapter]]:
    adapter = create_sync(AdapterContext(vendor="sim-sync", environ={"SIMULATOR_URL": BASE}))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock, adapter


STATE_URL = f"{BASE}/sim-sync/v1/devices/color-1/state"


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"status": 500, "json": {"error": "boom"}}, EndpointUnreachable),
        ({"status": 502, "body": "<html>bad gateway</html>"}, EndpointUnreachable),
        ({"status": 503}, EndpointUnreachable),
        ({"status": 403, "json": {"message": "scope"}}, InvalidAuthorizationCredential),
        ({"status": 418}, InternalError),
        ({"status": 200, "body": "<html>not json</html>"}, EndpointUnreachable),
        ({"status": 200, "json": {"on": "maybe", "brightness": 5}}, EndpointUnreachable),
        ({"status": 200, "json": {"on": True, "brightness": 500}}, EndpointUnreachable),
        ({"status": 200, "json": [1, 2]}, EndpointUnreachable),
        ({"status": 200, "json": {"on": True, "brightness": 5, "color_temperature": 50}},
         EndpointUnreachable),
        ({"body": requests.Timeout("slow")}, EndpointUnreachable),
        ({"body": requests.ConnectionError("reset")}, EndpointUnreachable),
    ],
    ids=["500", "502", "503", "403", "418", "not-json", "bad-type", "out-of-range", "list",
         "kelvin-outside-alexa", "timeout", "connection-reset"],
)
def test_vendor_failures_map_to_typed_errors(
    mocked: tuple[responses.RequestsMock, SimulatorAdapter],
    reply: dict[str, Any],
    error: type[SkillError],
) -> None:
    mock, adapter = mocked
    mock.add(responses.GET, STATE_URL, **reply)
    with pytest.raises(error):
        adapter.read_state(TOKEN, "color-1")


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("7", 7.0), (None, None), ("soon", None), ("http-date-in-30-s", 30.0)],
)
def test_throttling_is_rate_limited_with_the_vendors_hint(
    mocked: tuple[responses.RequestsMock, SimulatorAdapter],
    retry_after: str | None,
    expected: float | None,
) -> None:
    mock, adapter = mocked
    if retry_after == "http-date-in-30-s":
        retry_after = formatdate(time.time() + 30, usegmt=True)
    headers = {"Retry-After": retry_after} if retry_after else {}
    mock.add(responses.GET, STATE_URL, status=429, headers=headers)
    with pytest.raises(RateLimited) as caught:
        adapter.read_state(TOKEN, "color-1")
    if expected is None:
        assert caught.value.retry_after is None
    else:
        assert caught.value.retry_after == pytest.approx(expected, abs=2)


def test_a_malformed_device_list_is_endpoint_unreachable(
    mocked: tuple[responses.RequestsMock, SimulatorAdapter],
) -> None:
    mock, adapter = mocked
    mock.add(responses.GET, f"{BASE}/sim-sync/v1/devices", json=[{"id": "x"}])
    with pytest.raises(EndpointUnreachable):
        adapter.list_devices(TOKEN)


def test_every_call_has_a_timeout(mocked: tuple[responses.RequestsMock, SimulatorAdapter]) -> None:
    mock, adapter = mocked
    mock.add(responses.GET, f"{BASE}/sim-sync/v1/me", json={"user_id": "u"})
    adapter.identify_user(TOKEN)
    assert mock.calls[0].request.req_kwargs["timeout"] == 2.0


def test_a_receipt_without_request_id_is_endpoint_unreachable(sim: VendorSimulator) -> None:
    adapter = create_polling(AdapterContext(vendor="sim-polling", environ={"SIMULATOR_URL": BASE}))
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, f"{BASE}/sim-polling/v1/devices/white-1/commands",
                 status=202, json={"queued": True})
        with pytest.raises(EndpointUnreachable):
            adapter.execute(TOKEN, "white-1", Change(on=True))


# -- webhook notifications ---------------------------------------------------------------------

PUSH = {
    "device_id": "color-1",
    "request_id": "req-1",
    "user_id": "demo-user",
    "state": {"on": True, "brightness": 42, "color": None, "color_temperature": 3000,
              "color_mode": "temperature", "online": True},
}


@pytest.fixture
def push_adapter() -> SimulatorPushAdapter:
    return create_async(AdapterContext(vendor="sim-async",
                                       environ={"SIM_WEBHOOK_SECRET": SECRET}))


def signed(body: bytes, *, secret: str = SECRET, age: float = 0) -> WebhookRequest:
    timestamp = str(int(time.time() - age))
    headers = {"x-sim-timestamp": timestamp, "x-sim-signature": sign(secret, timestamp, body)}
    return WebhookRequest(headers=headers, body=body)


def test_a_well_signed_push_becomes_a_notification(push_adapter: SimulatorPushAdapter) -> None:
    [notification] = push_adapter.parse_notification(signed(json.dumps(PUSH).encode()))
    assert notification.device_id == "color-1" and notification.reference == "req-1"
    assert notification.user_id == "demo-user"
    assert notification.state == BulbState(
        on=True, brightness=42, color_temperature=3000, color_mode="temperature"
    )


def test_a_push_for_a_change_outside_alexa_has_no_reference(
    push_adapter: SimulatorPushAdapter,
) -> None:
    body = json.dumps({**PUSH, "request_id": None}).encode()
    [notification] = push_adapter.parse_notification(signed(body))
    assert notification.reference is None


def tampered(request: WebhookRequest) -> WebhookRequest:
    return WebhookRequest(headers=request.headers, body=request.body.replace(b"42", b"43"))


def without(request: WebhookRequest, header: str) -> WebhookRequest:
    headers = {k: v for k, v in request.headers.items() if k != header}
    return WebhookRequest(headers=headers, body=request.body)


GOOD = json.dumps(PUSH).encode()


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (lambda: signed(GOOD, secret="someone-else"), 401),
        (lambda: tampered(signed(GOOD)), 401),
        (lambda: without(signed(GOOD), "x-sim-signature"), 401),
        (lambda: without(signed(GOOD), "x-sim-timestamp"), 401),
        (lambda: signed(GOOD, age=301), 401),
        (lambda: signed(GOOD, age=-61), 401),
        (lambda: signed(GOOD + b" " * (64 * 1024)), 413),
        (lambda: signed(b"{not json"), 400),
        (lambda: signed(b"[]"), 400),
        (lambda: signed(json.dumps({**PUSH, "state": {"on": "dim"}}).encode()), 400),
        (lambda: signed(json.dumps({k: v for k, v in PUSH.items() if k != "device_id"}).encode()),
         400),
        (lambda: signed(json.dumps({**PUSH, "state": {**PUSH["state"],
                                                      "color_temperature": 20}}).encode()), 400),
    ],
    ids=["wrong-secret", "tampered", "no-signature", "no-timestamp", "stale", "future",
         "oversized", "bad-json", "not-an-object", "bad-state", "no-device", "kelvin-too-low"],
)
def test_a_push_that_fails_verification_is_refused(
    push_adapter: SimulatorPushAdapter, make: Callable[[], WebhookRequest], status: int
) -> None:
    with pytest.raises(InvalidNotification) as caught:
        push_adapter.parse_notification(make())
    assert caught.value.status == status


def test_a_push_within_the_replay_window_is_accepted(push_adapter: SimulatorPushAdapter) -> None:
    assert push_adapter.parse_notification(signed(GOOD, age=290))
    assert push_adapter.parse_notification(signed(GOOD, age=-50))


def test_the_webhook_secret_comes_from_the_secret_source_first() -> None:
    fetched: list[str] = []

    def secrets(name: str) -> str:
        fetched.append(name)
        return "from-secrets-manager"

    context = AdapterContext(vendor="sim-async", environ={"SIM_WEBHOOK_SECRET": "from-env"},
                             secrets=secrets)
    adapter = create_async(context)
    assert fetched == []  # not fetched until a push arrives: Discover never needs it
    adapter.parse_notification(signed(GOOD, secret="from-secrets-manager"))
    adapter.parse_notification(signed(GOOD, secret="from-secrets-manager"))
    assert fetched == ["SIM_WEBHOOK_SECRET"]


def test_the_webhook_secret_falls_back_to_the_environment_then_the_local_default() -> None:
    from_env = create_async(AdapterContext(vendor="sim-async",
                                           environ={"SIM_WEBHOOK_SECRET": "from-env"}))
    assert from_env.parse_notification(signed(GOOD, secret="from-env"))
    default = create_async(AdapterContext(vendor="sim-async", environ={}))
    assert default.parse_notification(signed(GOOD, secret="local-webhook-secret"))
