"""The vendor simulator, over real HTTP on loopback: API, auth, 202 convergence, signed pushes."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from skill.local.sim_adapters import create_async
from skill.local.simulator import VENDORS, SimRequest, VendorSimulator
from skill.plugins import AdapterContext, WebhookRequest

SECRET = "test-secret"
AUTH = {"Authorization": "Bearer demo-token"}
TRANSITION = 0.05
PUSHING = [v for v, kind in VENDORS.items() if kind == "push"]
DEFERRED = [v for v, kind in VENDORS.items() if kind != "sync"]
NOPUSH = [v for v, kind in VENDORS.items() if kind == "nopush"]


class Receiver:
    """A tiny webhook endpoint: records each POST, answers with the queued statuses (then 200)."""

    def __init__(self) -> None:
        self.received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.put(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def next(self, timeout: float = 2.0) -> tuple[dict[str, str], bytes]:
        return self.received.get(timeout=timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def sim() -> Iterator[VendorSimulator]:
    with VendorSimulator(latency=0, transition=TRANSITION, webhook_secret=SECRET) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def fresh(sim: VendorSimulator) -> Iterator[None]:
    sim.reset()
    sim.webhook_url, sim.webhook_secret = None, SECRET
    yield
    sim.wait_idle()


@pytest.fixture
def receiver(sim: VendorSimulator) -> Iterator[Receiver]:
    hook = Receiver()
    sim.webhook_url = hook.url
    yield hook
    sim.wait_idle()
    hook.close()


def get(sim: VendorSimulator, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(sim.url + path, headers=kwargs.pop("headers", AUTH), timeout=5, **kwargs)


def post(sim: VendorSimulator, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
    headers = kwargs.pop("headers", AUTH)
    return requests.post(sim.url + path, json=body, headers=headers, timeout=5, **kwargs)


def command(sim: VendorSimulator, vendor: str, device: str, body: Any) -> requests.Response:
    return post(sim, f"/{vendor}/v1/devices/{device}/commands", body)


# -- vendor API ------------------------------------------------------------------------------


@pytest.mark.parametrize("vendor", VENDORS)
def test_me_names_the_account_behind_the_token(sim: VendorSimulator, vendor: str) -> None:
    response = get(sim, f"/{vendor}/v1/me")
    assert response.status_code == 200
    assert response.json() == {"user_id": "demo-user"}


@pytest.mark.parametrize("vendor", VENDORS)
def test_each_vendor_lists_a_colour_a_tunable_and_a_white_bulb(
    sim: VendorSimulator, vendor: str
) -> None:
    devices = {d["id"]: d for d in get(sim, f"/{vendor}/v1/devices").json()}
    assert devices["color-1"]["features"] == {
        "dimmable": True, "color": True, "ct_min": 2000, "ct_max": 9000
    }
    assert devices["white-tunable-1"]["features"] == {
        "dimmable": True, "color": False, "ct_min": 2700, "ct_max": 6500
    }
    assert devices["white-1"]["features"] == {
        "dimmable": True, "color": False, "ct_min": None, "ct_max": None
    }
    assert all(d["name"] and d["manufacturer"] and d["model"] for d in devices.values())


def test_friendly_names_are_distinct_across_vendors(sim: VendorSimulator) -> None:
    names = [d["name"] for v in VENDORS for d in get(sim, f"/{v}/v1/devices").json()]
    assert len(names) == len(set(names)) == 3 * len(VENDORS)


def test_state_reports_every_attribute_and_whether_the_bulb_is_online(
    sim: VendorSimulator,
) -> None:
    state = get(sim, "/sim-sync/v1/devices/color-1/state").json()
    assert state == {
        "on": False,
        "brightness": 80,
        "color": None,
        "color_temperature": 2700,
        "color_mode": "temperature",
        "online": True,
    }
    white = get(sim, "/sim-sync/v1/devices/white-1/state").json()
    assert white["color"] is None and white["color_temperature"] is None
    assert white["color_mode"] is None


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic demo-token"}],
    ids=["missing", "unknown-token", "wrong-scheme"],
)
@pytest.mark.parametrize("path", ["/me", "/devices", "/devices/color-1/state"])
def test_a_token_the_vendor_does_not_know_gets_a_401_json_error(
    sim: VendorSimulator, headers: dict[str, str], path: str
) -> None:
    response = get(sim, f"/sim-sync/v1{path}", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_commands_with_a_bad_token_are_refused_and_change_nothing(sim: VendorSimulator) -> None:
    response = post(sim, "/sim-sync/v1/devices/color-1/commands", {"on": True},
                    headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert sim.state("sim-sync", "color-1")["on"] is False


@pytest.mark.parametrize(
    "path",
    ["/sim-sync/v1/devices/nope/state", "/sim-nobody/v1/me", "/sim-sync/v2/me", "/"],
)
def test_unknown_devices_vendors_and_paths_are_404(sim: VendorSimulator, path: str) -> None:
    response = get(sim, path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_command_to_an_unknown_device_is_404(sim: VendorSimulator) -> None:
    assert command(sim, "sim-async", "nope", {"on": True}).status_code == 404


def test_a_wrong_method_is_405_with_allow(sim: VendorSimulator) -> None:
    response = requests.delete(f"{sim.url}/sim-sync/v1/devices", headers=AUTH, timeout=5)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"


def test_sync_vendor_answers_a_command_with_the_new_state(sim: VendorSimulator) -> None:
    response = command(sim, "sim-sync", "color-1", {"on": True, "brightness": 40})
    assert response.status_code == 200
    assert response.json()["on"] is True and response.json()["brightness"] == 40
    assert sim.state("sim-sync", "color-1") == response.json()


def test_colour_and_colour_temperature_replace_each_other(sim: VendorSimulator) -> None:
    red = {"hue": 0, "saturation": 1, "brightness": 1}
    state = command(sim, "sim-sync", "color-1", {"color": red}).json()
    assert state["color_mode"] == "color" and state["color_temperature"] is None
    assert state["color"] == {"hue": 0.0, "saturation": 1.0, "brightness": 1.0}
    state = command(sim, "sim-sync", "color-1", {"color_temperature": 5000}).json()
    assert state["color_mode"] == "temperature" and state["color"] is None
    assert state["color_temperature"] == 5000


def test_an_empty_command_is_a_valid_no_op(sim: VendorSimulator) -> None:
    before = sim.state("sim-sync", "white-1")
    response = command(sim, "sim-sync", "white-1", {})
    assert response.status_code == 200 and response.json() == before


@pytest.mark.parametrize(
    ("device", "body"),
    [
        ("color-1", b"not json"),
        ("color-1", b""),
        ("color-1", b"[]"),
        ("color-1", b'{"on": "yes"}'),
        ("color-1", b'{"on": 1}'),
        ("color-1", b'{"brightness": 101}'),
        ("color-1", b'{"brightness": 50.5}'),
        ("color-1", b'{"brightness": null}'),
        ("color-1", b'{"flash": true}'),
        ("color-1", b'{"color": {"hue": 400, "saturation": 1, "brightness": 1}}'),
        ("color-1", b'{"color": {"hue": 10}}'),
        ("color-1", b'{"color": {"hue": 1, "saturation": 1, "brightness": 1},'
                    b' "color_temperature": 3000}'),
        ("color-1", b'{"color_temperature": 9500}'),
        ("white-tunable-1", b'{"color": {"hue": 1, "saturation": 1, "brightness": 1}}'),
        ("white-1", b'{"color_temperature": 3000}'),
    ],
)
@pytest.mark.parametrize("vendor", ["sim-sync", "sim-async"])
def test_bodies_the_vendor_cannot_take_are_400_and_change_nothing(
    sim: VendorSimulator, vendor: str, device: str, body: bytes
) -> None:
    before = sim.state(vendor, device)
    response = requests.post(
        f"{sim.url}/{vendor}/v1/devices/{device}/commands",
        data=body,
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request" and response.json()["message"]
    sim.wait_idle()
    assert sim.state(vendor, device) == before


def test_a_body_larger_than_any_vendor_takes_is_413(sim: VendorSimulator) -> None:
    response = requests.post(
        f"{sim.url}/sim-sync/v1/devices/color-1/commands",
        data=b"x" * (1024 * 1024 + 1),
        headers=AUTH,
        timeout=5,
    )
    assert response.status_code == 413


@pytest.mark.parametrize("vendor", DEFERRED)
def test_deferred_vendors_answer_202_at_once_and_the_bulb_converges_later(
    sim: VendorSimulator, vendor: str
) -> None:
    response = command(sim, vendor, "white-tunable-1", {"on": True, "color_temperature": 3000})
    assert response.status_code == 202
    request_id = response.json()["request_id"]
    assert len(request_id) == 36 and response.headers["X-Request-Id"] == request_id
    assert get(sim, f"/{vendor}/v1/devices/white-tunable-1/state").json()["on"] is False
    assert sim.wait_idle(2)
    state = get(sim, f"/{vendor}/v1/devices/white-tunable-1/state").json()
    assert state["on"] is True and state["color_temperature"] == 3000


def test_commands_to_one_bulb_land_in_the_order_sent(sim: VendorSimulator) -> None:
    for brightness in (10, 20, 30, 40, 50):
        assert command(sim, "sim-polling", "white-1", {"brightness": brightness}).status_code == 202
    assert sim.wait_idle(2)
    assert sim.state("sim-polling", "white-1")["brightness"] == 50


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_offline_bulb_is_reported_offline_and_takes_no_command(
    sim: VendorSimulator, vendor: str
) -> None:
    sim.set_online(vendor, "color-1", False)
    assert get(sim, f"/{vendor}/v1/devices/color-1/state").json()["online"] is False
    response = command(sim, vendor, "color-1", {"on": True})
    assert response.status_code == 200 and response.json() == {"status": "offline"}
    assert sim.wait_idle(2)
    assert sim.state(vendor, "color-1")["on"] is False


def test_a_command_is_lost_when_the_bulb_drops_offline_before_it_lands(
    sim: VendorSimulator,
) -> None:
    assert command(sim, "sim-polling", "color-1", {"on": True}).status_code == 202
    sim.set_online("sim-polling", "color-1", False)
    assert sim.wait_idle(2)
    assert sim.state("sim-polling", "color-1")["on"] is False


def test_vendor_latency_is_felt_by_every_api_call() -> None:
    with VendorSimulator(latency=0.05) as slow:
        started = time.perf_counter()
        for _ in range(3):
            assert get(slow, "/sim-sync/v1/me").status_code == 200
        elapsed = time.perf_counter() - started
    assert 3 * 0.025 <= elapsed < 2.0  # at least half the mean each, never stuck


# -- webhook push ------------------------------------------------------------------------------


def assert_signed(headers: dict[str, str], body: bytes, secret: str = SECRET) -> None:
    timestamp = headers["x-sim-timestamp"]
    assert abs(int(timestamp) - time.time()) < 5
    mac = hmac.new(secret.encode(), f"{timestamp}.{body.decode()}".encode(), hashlib.sha256)
    assert headers["x-sim-signature"] == f"sha256={mac.hexdigest()}"


def test_push_vendor_posts_a_signed_notification_when_the_command_lands(
    sim: VendorSimulator, receiver: Receiver
) -> None:
    request_id = command(sim, "sim-async", "color-1", {"on": True}).json()["request_id"]
    headers, body = receiver.next()
    assert_signed(headers, body)
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {
        "device_id": "color-1",
        "request_id": request_id,
        "user_id": "demo-user",
        "state": sim.state("sim-async", "color-1"),
    }


def test_a_change_made_outside_alexa_is_pushed_without_a_request_id(
    sim: VendorSimulator, receiver: Receiver
) -> None:
    sim.set_state("sim-async", "white-1", on=True, brightness=33)
    headers, body = receiver.next()
    assert_signed(headers, body)
    push = json.loads(body)
    assert push["request_id"] is None and push["state"]["brightness"] == 33


def test_a_bulb_going_offline_is_pushed_too(sim: VendorSimulator, receiver: Receiver) -> None:
    sim.set_online("sim-async", "white-1", False)
    assert json.loads(receiver.next()[1])["state"]["online"] is False


@pytest.mark.parametrize("vendor", ["sim-sync", *NOPUSH])
def test_vendors_without_push_never_call_the_webhook(
    sim: VendorSimulator, receiver: Receiver, vendor: str
) -> None:
    command(sim, vendor, "color-1", {"on": True})
    sim.set_state(vendor, "white-1", on=True)
    assert sim.wait_idle(2)
    assert receiver.received.empty() and sim.deliveries() == []


def test_a_failed_push_is_retried_and_every_attempt_recorded(
    sim: VendorSimulator, receiver: Receiver
) -> None:
    receiver.statuses = [503]
    sim.set_state("sim-async", "color-1", on=True)
    first, second = receiver.next(), receiver.next()
    assert first[1] == second[1]
    assert sim.wait_idle(3)
    assert [(d["attempt"], d["status"]) for d in sim.deliveries()] == [(1, 503), (2, 200)]


def test_a_push_the_simulator_signs_passes_the_async_adapters_verification(
    sim: VendorSimulator, receiver: Receiver
) -> None:
    adapter = create_async(
        AdapterContext(vendor="sim-async", environ={"SIM_WEBHOOK_SECRET": SECRET})
    )
    request_id = command(sim, "sim-async", "color-1", {"brightness": 55}).json()["request_id"]
    headers, body = receiver.next()
    [notification] = adapter.parse_notification(WebhookRequest(headers=headers, body=body))
    assert notification.reference == request_id
    assert notification.device_id == "color-1" and notification.state.brightness == 55


def test_the_webhook_can_be_set_over_http(sim: VendorSimulator, receiver: Receiver) -> None:
    response = requests.post(
        f"{sim.url}/_sim/webhook", json={"url": receiver.url, "secret": "rotated"}, timeout=5
    )
    assert response.status_code == 200
    sim.set_state("sim-async", "color-1", on=True)
    headers, body = receiver.next()
    assert_signed(headers, body, secret="rotated")
    assert requests.post(f"{sim.url}/_sim/webhook", json=[], timeout=5).status_code == 400


# -- test hooks --------------------------------------------------------------------------------


def test_the_log_holds_each_command_once_with_its_request_id(sim: VendorSimulator) -> None:
    request_id = command(sim, "sim-polling", "color-1", {"on": True}).json()["request_id"]
    get(sim, "/sim-polling/v1/devices/color-1/state")
    [entry] = sim.commands("sim-polling")
    assert entry["request_id"] == request_id and entry["status"] == 202
    assert entry["body"] == {"on": True} and entry["user_id"] == "demo-user"
    assert [e["kind"] for e in sim.log("sim-polling")] == ["command", "state"]
    over_http = requests.get(f"{sim.url}/_sim/log?vendor=sim-polling&kind=command", timeout=5)
    assert over_http.json() == [entry]


def test_devices_can_be_added_changed_and_removed_over_http(sim: VendorSimulator) -> None:
    hooks = f"{sim.url}/_sim/sim-sync/devices"
    new = {"id": "lamp-9", "name": "Desk Lamp", "features": {"dimmable": True}}
    assert requests.post(hooks, json=new, timeout=5).status_code == 201
    assert requests.post(hooks, json=new, timeout=5).status_code == 409
    assert "lamp-9" in [d["id"] for d in get(sim, "/sim-sync/v1/devices").json()]

    changed = requests.patch(f"{hooks}/lamp-9", json={"on": True, "online": False}, timeout=5)
    assert changed.json()["on"] is True and changed.json()["online"] is False
    assert requests.get(f"{hooks}/lamp-9", timeout=5).json() == changed.json()
    assert requests.patch(f"{hooks}/lamp-9", json={"color_temperature": 3000},
                          timeout=5).status_code == 400

    assert requests.delete(f"{hooks}/lamp-9", timeout=5).status_code == 200
    assert get(sim, "/sim-sync/v1/devices/lamp-9/state").status_code == 404
    assert requests.delete(f"{hooks}/lamp-9", timeout=5).status_code == 404


def test_a_device_that_does_not_fit_its_features_cannot_be_added(sim: VendorSimulator) -> None:
    bad = {"id": "x", "name": "X", "features": {"ct_min": 3000},
           "state": {"color_temperature": 3000}}
    response = requests.post(f"{sim.url}/_sim/sim-sync/devices", json=bad, timeout=5)
    assert response.status_code == 400


def test_reset_restores_the_catalogue_and_clears_the_log(sim: VendorSimulator) -> None:
    sim.remove_device("sim-sync", "white-1")
    command(sim, "sim-sync", "color-1", {"on": True})
    assert requests.post(f"{sim.url}/_sim/reset", timeout=5).status_code == 200
    assert sim.log() == [] and sim.state("sim-sync", "color-1")["on"] is False
    assert len(get(sim, "/sim-sync/v1/devices").json()) == 3


def test_device_ids_are_path_segments_even_with_a_slash(sim: VendorSimulator) -> None:
    sim.add_device("sim-sync", {"id": "hub/7", "name": "Hub Bulb"})
    assert get(sim, "/sim-sync/v1/devices/hub%2F7/state").json()["on"] is False
    assert command(sim, "sim-sync", "hub%2F7", {"on": True}).json()["on"] is True


def test_test_hooks_refuse_clients_off_loopback(sim: VendorSimulator) -> None:
    response = sim.dispatch(SimRequest("POST", "/_sim/reset", client="10.1.2.3"))
    assert response.status == 403


def test_wait_idle_over_http_reports_when_nothing_is_in_flight(sim: VendorSimulator) -> None:
    command(sim, "sim-polling", "color-1", {"on": True})
    response = requests.post(f"{sim.url}/_sim/wait-idle?timeout=2", timeout=5)
    assert response.json() == {"idle": True}
    assert sim.state("sim-polling", "color-1")["on"] is True


def test_each_account_sees_only_its_own_devices() -> None:
    accounts = {"demo-token": "demo-user", "other-token": "other-user"}
    with VendorSimulator(latency=0, accounts=accounts) as two:
        two.add_device("sim-sync", {"id": "mine", "name": "Mine"}, user="other-user")
        other = {"Authorization": "Bearer other-token"}
        assert get(two, "/sim-sync/v1/me", headers=other).json() == {"user_id": "other-user"}
        assert len(get(two, "/sim-sync/v1/devices", headers=other).json()) == 4
        assert get(two, "/sim-sync/v1/devices/mine/state").status_code == 404


# -- lifecycle ---------------------------------------------------------------------------------


def test_stop_also_closes_kept_alive_connections() -> None:
    simulator = VendorSimulator(latency=0).start()
    session = requests.Session()
    assert session.get(f"{simulator.url}/sim-sync/v1/me", headers=AUTH, timeout=2).ok
    url = simulator.url
    simulator.stop()
    with pytest.raises(requests.ConnectionError):
        session.get(f"{url}/sim-sync/v1/me", headers=AUTH, timeout=2)


def test_url_is_known_only_while_serving() -> None:
    simulator = VendorSimulator(latency=0)
    with pytest.raises(RuntimeError):
        simulator.url  # noqa: B018 - the property raising is the behaviour under test
    with simulator:
        assert simulator.url.startswith("http://127.0.0.1:") and simulator.port > 0
