"""The vendor simulator, over real HTTP on loopback: API, per-vendor credentials and foreign
credential counting, OAuth expiry and refresh, 202 convergence, signed pushes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import queue
import re
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from bulb_workbench.local.sim_adapters import create_async
from bulb_workbench.local.simulator import (
    APP_KEY_VENDORS,
    AUTHORIZATION_CODE_LIFETIME,
    CREDENTIAL_KINDS,
    OAUTH_CLIENT_ID,
    OAUTH_CLIENT_SECRET,
    VENDORS,
    SimRequest,
    VendorSimulator,
    demo_credential,
    request_signature,
)
from skill.plugins import (
    AdapterContext,
    AnyCredential,
    ApiKey,
    CredentialKind,
    KeyAndSecret,
    OAuthToken,
    WebhookRequest,
)

SECRET = "test-secret"
AUTH = {"Authorization": "Bearer demo-sim-sync-credential"}
TRANSITION = 0.05
OAUTH = [v for v, kind in CREDENTIAL_KINDS.items() if kind is CredentialKind.OAUTH]
#: A Cognito-style access token: what the skill's users hold, never a vendor's.
SKILL_JWT = ".".join(
    base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
    for part in ({"kid": "k1", "alg": "RS256"}, {"sub": "u-1", "token_use": "access"}, "sig")
)
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


def shown(vendor: str, credential: AnyCredential | None = None) -> dict[str, str]:
    """Headers that show ``credential`` (default: the demo user's) the way ``vendor`` takes
    its kind; built here, independently of the sim adapters."""
    credential = credential or demo_credential(vendor)
    if isinstance(credential, OAuthToken):
        return {"Authorization": f"Bearer {credential.access_token.get_secret_value()}"}
    if isinstance(credential, ApiKey):
        return {"X-Api-Key": credential.api_key.get_secret_value()}
    key, secret = credential.key.get_secret_value(), credential.secret.get_secret_value()
    t, nonce = str(int(time.time() * 1000)), str(uuid.uuid4())
    return {
        "Authorization": key,
        "t": t,
        "nonce": nonce,
        "sign": request_signature(key, secret, t, nonce),
    }


def _auth(path: str) -> dict[str, str]:
    vendor = path.lstrip("/").partition("/")[0]
    return shown(vendor) if vendor in VENDORS else {}


def get(sim: VendorSimulator, path: str, **kwargs: Any) -> requests.Response:
    headers = kwargs.pop("headers", None)
    headers = _auth(path) if headers is None else headers
    return requests.get(sim.url + path, headers=headers, timeout=5, **kwargs)


def post(sim: VendorSimulator, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
    headers = kwargs.pop("headers", None)
    headers = _auth(path) if headers is None else headers
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
        "dimmable": True,
        "color": True,
        "ct_min": 2000,
        "ct_max": 9000,
    }
    assert devices["white-tunable-1"]["features"] == {
        "dimmable": True,
        "color": False,
        "ct_min": 2700,
        "ct_max": 6500,
    }
    assert devices["white-1"]["features"] == {
        "dimmable": True,
        "color": False,
        "ct_min": None,
        "ct_max": None,
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
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic demo-sim-sync-credential"}],
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
    response = post(
        sim,
        "/sim-sync/v1/devices/color-1/commands",
        {"on": True},
        headers={"Authorization": "Bearer nope"},
    )
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
        (
            "color-1",
            (b'{"color": {"hue": 1, "saturation": 1, "brightness": 1}, "color_temperature": 3000}'),
        ),
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
        headers={**shown(vendor), "Content-Type": "application/json"},
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


# -- credentials: each vendor its own kind, sent its own way ---------------------------------


def other_vendors(vendor: str) -> list[str]:
    return [v for v in VENDORS if v != vendor]


def test_each_vendor_takes_the_kind_of_credential_of_the_vendor_it_plays() -> None:
    assert CREDENTIAL_KINDS == {
        "sim-sync": CredentialKind.OAUTH,
        "sim-async": CredentialKind.KEY_AND_SECRET,
        "sim-optimistic": CredentialKind.OAUTH,
        "sim-polling": CredentialKind.API_KEY,
    }


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_demo_credential_is_of_the_vendors_kind_and_named_after_it(
    sim: VendorSimulator, vendor: str
) -> None:
    credential = sim.demo_credential(vendor)
    assert credential.kind == CREDENTIAL_KINDS[vendor]
    value = f"demo-{vendor}-credential"
    if isinstance(credential, OAuthToken):
        assert credential.access_token.get_secret_value() == value
        assert credential.refresh_token.get_secret_value() == f"demo-{vendor}-refresh"
        assert credential.expires_at == pytest.approx(time.time() + 3600, abs=600)
    elif isinstance(credential, ApiKey):
        assert credential.api_key.get_secret_value() == value
    else:
        assert credential.key.get_secret_value() == value
        assert credential.secret.get_secret_value() == "demo-sim-async-secret"
    assert dict(sim.accounts[vendor]) == {value: "demo-user"}
    assert demo_credential(vendor).model_copy(update={"expires_at": None}) == demo_credential(
        vendor
    )


@pytest.mark.parametrize("vendor", VENDORS)
def test_each_vendor_accepts_its_own_credential_sent_its_own_way(
    sim: VendorSimulator, vendor: str
) -> None:
    response = get(sim, f"/{vendor}/v1/me", headers=shown(vendor))
    assert response.status_code == 200 and response.json() == {"user_id": "demo-user"}
    assert sim.foreign_credentials() == dict.fromkeys(VENDORS, 0)


@pytest.mark.parametrize(
    ("vendor", "headers"),
    [
        ("sim-sync", {"X-Api-Key": "demo-sim-sync-credential"}),
        ("sim-sync", {"Authorization": "demo-sim-sync-credential"}),
        ("sim-polling", {"Authorization": "Bearer demo-sim-polling-credential"}),
        ("sim-polling", {"Authorization": "demo-sim-polling-credential"}),
        ("sim-async", {"Authorization": "Bearer demo-sim-async-credential"}),
        ("sim-async", {"Authorization": "demo-sim-async-credential"}),  # not signed
        ("sim-async", {"X-Api-Key": "demo-sim-async-credential"}),
    ],
    ids=[
        "oauth-as-api-key",
        "oauth-without-scheme",
        "api-key-as-bearer",
        "api-key-as-authorization",
        "key-as-bearer",
        "key-unsigned",
        "key-as-api-key",
    ],
)
def test_a_vendors_own_credential_sent_another_way_is_refused(
    sim: VendorSimulator, vendor: str, headers: dict[str, str]
) -> None:
    assert get(sim, f"/{vendor}/v1/me", headers=headers).status_code == 401
    assert sim.foreign_credentials() == dict.fromkeys(VENDORS, 0)


@pytest.mark.parametrize(
    ("vendor", "owner"), [(vendor, owner) for vendor in VENDORS for owner in other_vendors(vendor)]
)
def test_another_vendors_credential_is_refused_and_counted_as_foreign(
    sim: VendorSimulator, vendor: str, owner: str
) -> None:
    foreign = demo_credential(owner)
    value = (
        foreign.access_token
        if isinstance(foreign, OAuthToken)
        else foreign.api_key
        if isinstance(foreign, ApiKey)
        else foreign.key
    ).get_secret_value()
    # shown the way this vendor takes its own kind
    kind = CREDENTIAL_KINDS[vendor]
    if kind is CredentialKind.OAUTH:
        credential: AnyCredential = OAuthToken.bearer(value)
    elif kind is CredentialKind.API_KEY:
        credential = ApiKey.of(value)
    else:
        credential = KeyAndSecret.of(value, "whatever")
    response = get(sim, f"/{vendor}/v1/devices", headers=shown(vendor, credential))
    assert response.status_code == 401
    assert sim.foreign_credentials() == {**dict.fromkeys(VENDORS, 0), vendor: 1}
    [sighting] = sim.foreign_sightings()
    assert sighting["vendor"] == vendor and sighting["owner"] == owner
    assert value not in json.dumps(sighting)


def test_the_sync_credential_shown_to_the_polling_vendor_is_one_foreign_credential(
    sim: VendorSimulator,
) -> None:
    """The check the integration tests rely on fails when a credential goes astray."""
    assert sim.foreign_credentials()["sim-polling"] == 0
    response = get(sim, "/sim-polling/v1/me", headers={"X-Api-Key": "demo-sim-sync-credential"})
    assert response.status_code == 401
    assert sim.foreign_credentials() == {
        "sim-sync": 0,
        "sim-async": 0,
        "sim-optimistic": 0,
        "sim-polling": 1,
    }
    assert requests.get(f"{sim.url}/_sim/foreign", timeout=5).json() == sim.foreign_credentials()


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {SKILL_JWT}"},
        {"Authorization": SKILL_JWT},
        {"X-Api-Key": SKILL_JWT},
        {"X-Anything": f"token {SKILL_JWT}, other"},
    ],
    ids=["bearer", "bare", "api-key", "any-header"],
)
def test_a_skill_access_token_is_foreign_everywhere(
    sim: VendorSimulator, vendor: str, headers: dict[str, str]
) -> None:
    assert get(sim, f"/{vendor}/v1/me", headers=headers).status_code == 401
    assert sim.foreign_credentials()[vendor] == 1
    assert sim.foreign_sightings()[0]["owner"] == "jwt"


def test_a_foreign_credential_in_the_query_or_beside_a_good_one_is_counted(
    sim: VendorSimulator,
) -> None:
    assert get(sim, "/sim-sync/v1/me", params={"key": "demo-sim-polling-credential"}).ok
    headers = {**shown("sim-polling"), "X-Extra": "demo-sim-async-secret"}
    assert get(sim, "/sim-polling/v1/me", headers=headers).ok
    assert sim.foreign_credentials() == {
        **dict.fromkeys(VENDORS, 0),
        "sim-sync": 1,
        "sim-polling": 1,
    }
    assert [s["where"] for s in sim.foreign_sightings()] == ["query key", "header x-extra"]


def test_a_foreign_credential_in_a_cookie_or_a_json_body_is_counted(sim: VendorSimulator) -> None:
    cookie = {**shown("sim-sync"), "Cookie": "session=demo-sim-polling-credential; x=1"}
    assert get(sim, "/sim-sync/v1/me", headers=cookie).ok
    body = {"on": True, "note": {"leak": ["demo-sim-optimistic-credential"]}}
    post(sim, "/sim-async/v1/devices/white-1/commands", body)
    assert sim.foreign_credentials() == {**dict.fromkeys(VENDORS, 0), "sim-sync": 1, "sim-async": 1}
    assert [s["where"] for s in sim.foreign_sightings()] == ["header cookie", "body"]


@pytest.mark.parametrize(
    "value",
    ["nope", "1.2.3", "a.b.c", "eyJub3QganNvbg.x.y", "Atza|IwEB.abc.def", "demo-token"],
)
def test_unknown_values_that_are_nobodys_credential_are_refused_but_not_counted(
    sim: VendorSimulator, value: str
) -> None:
    response = get(sim, "/sim-sync/v1/me", headers={"Authorization": f"Bearer {value}"})
    assert response.status_code == 401
    assert sim.foreign_credentials() == dict.fromkeys(VENDORS, 0)


def test_the_foreign_count_is_per_request_and_reset_clears_it(sim: VendorSimulator) -> None:
    headers = {"X-Api-Key": "demo-sim-sync-credential", "X-Copy": "demo-sim-sync-credential"}
    for _ in range(3):
        get(sim, "/sim-polling/v1/me", headers=headers)
    assert sim.foreign_credentials()["sim-polling"] == 3
    assert requests.post(f"{sim.url}/_sim/reset", timeout=5).ok
    assert sim.foreign_credentials() == dict.fromkeys(VENDORS, 0)
    assert sim.foreign_sightings() == []


def test_a_foreign_credential_is_counted_even_when_a_fault_layer_answers(
    sim: VendorSimulator,
) -> None:
    from bulb_workbench.local.simulator import SimResponse

    down = SimResponse.error(503, "down", "down")
    sim.dispatch = lambda request: down  # type: ignore[method-assign]
    try:
        assert get(sim, "/sim-polling/v1/me", headers=shown("sim-sync")).status_code == 503
    finally:
        del sim.dispatch
    assert sim.foreign_credentials()["sim-polling"] == 1


# -- sim-async: SwitchBot-style signed requests ------------------------------------------------


def signed_headers(
    *,
    key: str = "demo-sim-async-credential",
    secret: str = "demo-sim-async-secret",
    t: str | None = None,
    nonce: str = "n-1",
    sign: str | None = None,
) -> dict[str, str]:
    t = t if t is not None else str(int(time.time() * 1000))
    return {
        "Authorization": key,
        "t": t,
        "nonce": nonce,
        "sign": sign if sign is not None else request_signature(key, secret, t, nonce),
    }


def test_the_async_vendor_verifies_the_request_signature(sim: VendorSimulator) -> None:
    assert get(sim, "/sim-async/v1/me", headers=signed_headers()).status_code == 200
    lower = signed_headers()
    lower["sign"] = lower["sign"].lower()  # SwitchBot's own Python sample does not upper-case
    assert get(sim, "/sim-async/v1/me", headers=lower).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        lambda: signed_headers(secret="not-the-secret"),
        lambda: {**signed_headers(), "nonce": "n-2"},
        lambda: {**signed_headers(), "t": str(int(time.time() * 1000) + 1)},
        lambda: signed_headers(t=str(int(time.time()))),  # seconds, not milliseconds
        lambda: signed_headers(t=str(int((time.time() - 600) * 1000))),
        lambda: signed_headers(t="soon"),
        lambda: {k: v for k, v in signed_headers().items() if k != "sign"},
        lambda: {k: v for k, v in signed_headers().items() if k != "nonce"},
        lambda: signed_headers(key="unknown-key", secret="demo-sim-async-secret"),
    ],
    ids=[
        "wrong-secret",
        "other-nonce",
        "other-t",
        "seconds",
        "stale",
        "not-a-number",
        "no-sign",
        "no-nonce",
        "unknown-key",
    ],
)
def test_a_badly_signed_request_is_refused(sim: VendorSimulator, headers: Any) -> None:
    response = get(sim, "/sim-async/v1/devices", headers=headers())
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    assert sim.foreign_credentials() == dict.fromkeys(VENDORS, 0)


# -- OAuth: expiry and the token endpoint --------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def refresh(
    sim: VendorSimulator, vendor: str, refresh_token: str, **form: str
) -> requests.Response:
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": OAUTH_CLIENT_ID,
        "client_secret": OAUTH_CLIENT_SECRET,
        **form,
    }
    return requests.post(f"{sim.url}/{vendor}/oauth/token", data=data, timeout=5)


@pytest.mark.parametrize("vendor", OAUTH)
def test_access_tokens_expire_and_a_refresh_gives_a_working_one(vendor: str) -> None:
    clock = Clock()
    with VendorSimulator(latency=0, token_lifetime=60, clock=clock) as oauth:
        credential = oauth.demo_credential(vendor)
        assert credential.expires_at == pytest.approx(clock.now + 60)
        assert get(oauth, f"/{vendor}/v1/me").status_code == 200
        clock.now += 61
        expired = get(oauth, f"/{vendor}/v1/me")
        assert expired.status_code == 401 and "expired" in expired.json()["message"]
        assert expired.headers["WWW-Authenticate"].startswith("Bearer")

        answer = refresh(oauth, vendor, f"demo-{vendor}-refresh")
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
        body = answer.json()
        assert set(body) == {"access_token", "refresh_token", "expires_in", "token_type"}
        assert body["token_type"] == "bearer" and body["expires_in"] == 60
        fresh = {"Authorization": f"Bearer {body['access_token']}"}
        assert get(oauth, f"/{vendor}/v1/me", headers=fresh).json() == {"user_id": "demo-user"}
        assert oauth.refreshes() == {**dict.fromkeys(VENDORS, 0), vendor: 1}
        assert requests.get(f"{oauth.url}/_sim/refreshes", timeout=5).json() == oauth.refreshes()
        # the refresh token was spent (rotated): using it again is invalid_grant
        again = refresh(oauth, vendor, f"demo-{vendor}-refresh")
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        assert refresh(oauth, vendor, body["refresh_token"]).status_code == 200
        assert oauth.refreshes()[vendor] == 2
        # renewed tokens are this vendor's own: shown to another vendor they are foreign
        get(oauth, "/sim-polling/v1/me", headers={"X-Api-Key": body["access_token"]})
        assert oauth.foreign_credentials()["sim-polling"] == 1


def test_without_a_lifetime_access_tokens_never_expire() -> None:
    with VendorSimulator(latency=0, token_lifetime=None) as forever:
        assert forever.demo_credential("sim-sync").expires_at is None
        body = refresh(forever, "sim-sync", "demo-sim-sync-refresh").json()
        assert "expires_in" not in body


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"refresh_token": "unknown"}, 400, "invalid_grant"),
        ({"refresh_token": "demo-sim-optimistic-refresh"}, 400, "invalid_grant"),  # not ours
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "someone"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
        ({"grant_type": ""}, 400, "invalid_request"),
        ({"refresh_token": ""}, 400, "invalid_request"),
    ],
    ids=[
        "unknown",
        "another-vendors",
        "client-secret",
        "client-id",
        "grant-type",
        "no-grant",
        "no-refresh-token",
    ],
)
def test_the_token_endpoint_refuses_as_an_oauth_server_does(
    sim: VendorSimulator, form: dict[str, str], status: int, error: str
) -> None:
    refresh_token = form.pop("refresh_token", "demo-sim-sync-refresh")
    response = refresh(sim, "sim-sync", refresh_token, **form)
    assert response.status_code == status and response.json()["error"] == error
    assert sim.refreshes()["sim-sync"] == 0


def test_the_token_endpoint_takes_forms_only_and_only_at_oauth_vendors(
    sim: VendorSimulator,
) -> None:
    as_json = requests.post(
        f"{sim.url}/sim-sync/oauth/token",
        timeout=5,
        json={
            "grant_type": "refresh_token",
            "refresh_token": "demo-sim-sync-refresh",
            "client_id": OAUTH_CLIENT_ID,
            "client_secret": OAUTH_CLIENT_SECRET,
        },
    )
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    for vendor in ("sim-async", "sim-polling"):
        assert refresh(sim, vendor, "x").status_code == 404


def test_a_token_request_is_logged_without_its_secrets(sim: VendorSimulator) -> None:
    assert refresh(sim, "sim-sync", "demo-sim-sync-refresh").ok
    [entry] = sim.log("sim-sync", "token")
    assert entry["body"] == {"grant_type": "refresh_token"} and entry["status"] == 200
    assert "demo-sim-sync-refresh" not in json.dumps(sim.log())
    assert OAUTH_CLIENT_SECRET not in json.dumps(sim.log())


def test_a_refresh_token_shown_to_another_vendor_is_foreign(sim: VendorSimulator) -> None:
    assert refresh(sim, "sim-optimistic", "demo-sim-sync-refresh").status_code == 400
    assert sim.foreign_credentials()["sim-optimistic"] == 1
    assert sim.foreign_sightings()[0]["where"] == "form refresh_token"


# -- accounts --------------------------------------------------------------------------------


def test_accounts_given_by_key_get_their_secret_and_refresh_token_by_rule() -> None:
    accounts = {"sim-async": {"acme-credential": "acme"}, "sim-sync": {"tok-credential": "t"}}
    with VendorSimulator(latency=0, accounts=accounts) as custom:
        key = KeyAndSecret.of("acme-credential", "acme-secret")
        assert get(custom, "/sim-async/v1/me", headers=shown("sim-async", key)).json() == {
            "user_id": "acme"
        }
        assert refresh(custom, "sim-sync", "tok-refresh").status_code == 200


@pytest.mark.parametrize(
    ("vendor", "credential"),
    [
        ("sim-sync", OAuthToken.bearer("new-access", refresh_token="new-refresh")),
        ("sim-async", KeyAndSecret.of("new-key", "new-secret")),
        ("sim-optimistic", OAuthToken.bearer("new-access-2")),
        ("sim-polling", ApiKey.of("new-api-key")),
    ],
)
def test_an_added_account_is_accepted_with_its_own_devices_and_revoked(
    vendor: str, credential: AnyCredential
) -> None:
    with VendorSimulator(latency=0) as more:
        more.add_account(vendor, "alice", credential, devices=[{"id": "lamp", "name": "Lamp"}])
        headers = shown(vendor, credential)
        assert get(more, f"/{vendor}/v1/me", headers=headers).json() == {"user_id": "alice"}
        assert [d["id"] for d in get(more, f"/{vendor}/v1/devices", headers=headers).json()] == [
            "lamp"
        ]
        more.reset()  # keeps accounts, restores their first devices
        listed = get(more, f"/{vendor}/v1/devices", headers=shown(vendor, credential)).json()
        assert len(listed) == 1
        more.revoke(vendor, credential)
        assert get(more, f"/{vendor}/v1/me", headers=shown(vendor, credential)).status_code == 401
        assert more.state(vendor, "lamp", user="alice")["on"] is False  # the account stays


def test_two_credentials_can_open_one_account() -> None:
    with VendorSimulator(latency=0) as shared:
        shared.add_account("sim-polling", "demo-user", ApiKey.of("second-key"), devices=[])
        second = {"X-Api-Key": "second-key"}
        assert len(get(shared, "/sim-polling/v1/devices", headers=second).json()) == 3


@pytest.mark.parametrize(
    ("vendor", "credential"),
    [
        ("sim-sync", ApiKey.of("k")),
        ("sim-polling", OAuthToken.bearer("t")),
        ("sim-async", ApiKey.of("k")),
        ("sim-optimistic", KeyAndSecret.of("k", "s")),
    ],
)
def test_an_account_of_another_kind_cannot_be_added(
    sim: VendorSimulator, vendor: str, credential: AnyCredential
) -> None:
    with pytest.raises(ValueError, match="takes"):
        sim.add_account(vendor, "someone", credential)


def test_the_accounts_view_is_read_only(sim: VendorSimulator) -> None:
    with pytest.raises(TypeError):
        sim.accounts["sim-sync"]["stolen"] = "demo-user"  # type: ignore[index]


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
    assert (
        requests.patch(f"{hooks}/lamp-9", json={"color_temperature": 3000}, timeout=5).status_code
        == 400
    )

    assert requests.delete(f"{hooks}/lamp-9", timeout=5).status_code == 200
    assert get(sim, "/sim-sync/v1/devices/lamp-9/state").status_code == 404
    assert requests.delete(f"{hooks}/lamp-9", timeout=5).status_code == 404


def test_a_device_that_does_not_fit_its_features_cannot_be_added(sim: VendorSimulator) -> None:
    bad = {
        "id": "x",
        "name": "X",
        "features": {"ct_min": 3000},
        "state": {"color_temperature": 3000},
    }
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
    accounts = {"sim-sync": {"demo-sim-sync-credential": "demo-user", "other-token": "other-user"}}
    with VendorSimulator(latency=0, accounts=accounts) as two:
        two.add_device("sim-sync", {"id": "mine", "name": "Mine"}, user="other-user")
        other = {"Authorization": "Bearer other-token"}
        assert get(two, "/sim-sync/v1/me", headers=other).json() == {"user_id": "other-user"}
        assert len(get(two, "/sim-sync/v1/devices", headers=other).json()) == 4
        assert get(two, "/sim-sync/v1/devices/mine/state").status_code == 404
        # a vendor left out of ``accounts`` has none
        assert get(two, "/sim-polling/v1/me").status_code == 401


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


# -- OAuth: the authorize page and the authorization-code grant ------------------------------

CALLBACK = "https://skill.example/connect/sim-sync/callback?from=sim"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def authorize_params(**overrides: str | None) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": OAUTH_CLIENT_ID,
        "redirect_uri": CALLBACK,
        "state": "st-1",
        **overrides,
    }
    return {k: v for k, v in params.items() if v is not None}


def consent(sim: VendorSimulator, vendor: str, **overrides: str | None) -> requests.Response:
    return requests.get(
        f"{sim.url}/{vendor}/oauth/authorize",
        params=authorize_params(**overrides),
        timeout=5,
        allow_redirects=False,
    )


def answer_consent(
    sim: VendorSimulator,
    vendor: str,
    decision: str = "allow",
    username: str = "demo-user",
    **overrides: str | None,
) -> requests.Response:
    """What a browser sends when the user presses a button of the consent form."""
    page = consent(sim, vendor, **overrides)
    fields = (
        dict(HIDDEN.findall(page.text))
        if page.status_code == 200
        else authorize_params(**overrides)
    )
    fields = {k: html.unescape(v) for k, v in fields.items()}
    return requests.post(
        f"{sim.url}/{vendor}/oauth/authorize",
        timeout=5,
        allow_redirects=False,
        data={**fields, "username": username, "decision": decision},
    )


def redirected(response: requests.Response) -> tuple[str, dict[str, str]]:
    """Where a 303 goes (without its query) and its query parameters."""
    assert response.status_code == 303, response.text
    parts = urllib.parse.urlsplit(response.headers["Location"])
    return (
        urllib.parse.urlunsplit(parts._replace(query="")),
        dict(urllib.parse.parse_qsl(parts.query)),
    )


def code_for(
    sim: VendorSimulator, vendor: str, username: str = "demo-user", redirect_uri: str = CALLBACK
) -> str:
    return redirected(answer_consent(sim, vendor, username=username, redirect_uri=redirect_uri))[1][
        "code"
    ]


def exchange(
    sim: VendorSimulator, vendor: str, code: str, redirect_uri: str = CALLBACK, **form: str
) -> requests.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": OAUTH_CLIENT_ID,
        "client_secret": OAUTH_CLIENT_SECRET,
        **form,
    }
    return requests.post(f"{sim.url}/{vendor}/oauth/token", data=data, timeout=5)


def bearer(token: str, app_key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **({"X-App-Key": app_key} if app_key else {})}


@pytest.mark.parametrize("vendor", OAUTH)
def test_the_authorize_page_is_a_labelled_consent_form_marked_as_a_local_stand_in(
    sim: VendorSimulator, vendor: str
) -> None:
    page = consent(sim, vendor, state='st"<&>')
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script" not in policy and "<script" not in page.text.lower()
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
    assert f"Simulated {vendor} — local stand-in" in page.text
    assert '<html lang="en">' in page.text and 'name="viewport"' in page.text
    assert "<h1>" in page.text
    assert '<label for="username">Simulator user id</label>' in page.text
    assert re.search(r'<input id="username" name="username" value="demo-user"', page.text)
    assert f'<form method="post" action="/{vendor}/oauth/authorize">' in page.text
    assert 'name="decision" value="allow">Allow</button>' in page.text
    assert 'name="decision" value="deny">Deny</button>' in page.text
    hidden = {k: html.unescape(v) for k, v in HIDDEN.findall(page.text)}
    assert hidden == authorize_params(state='st"<&>')  # carried, escaped in the HTML
    assert 'st"<&>' not in page.text


@pytest.mark.parametrize("vendor", OAUTH)
def test_allow_redirects_back_with_a_code_and_the_state(sim: VendorSimulator, vendor: str) -> None:
    target, query = redirected(answer_consent(sim, vendor))
    assert target == "https://skill.example/connect/sim-sync/callback"
    assert query["from"] == "sim" and query["state"] == "st-1"  # its own query is kept
    assert query["code"].startswith(f"{vendor}-code-")
    [entry] = sim.log(vendor, "authorize")[-1:]
    assert entry["body"] == {"decision": "allow"} and entry["status"] == 303


def test_deny_redirects_back_with_access_denied_and_no_code(sim: VendorSimulator) -> None:
    _target, query = redirected(answer_consent(sim, "sim-sync", decision="deny"))
    assert query == {"from": "sim", "error": "access_denied", "state": "st-1"}


def test_without_state_the_answer_carries_none(sim: VendorSimulator) -> None:
    _, query = redirected(answer_consent(sim, "sim-sync", state=None))
    assert "state" not in query and query["code"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "someone-else"},
        {"client_id": None},
        {"redirect_uri": None},
        {"redirect_uri": "/relative/callback"},
        {"redirect_uri": "ftp://skill.example/callback"},
        {"redirect_uri": "javascript:alert(1)"},
        {"redirect_uri": "https://skill.example/callback#fragment"},
        {"redirect_uri": "https:///no-host"},
        {"redirect_uri": "https://skill.example/a b"},
    ],
    ids=[
        "wrong-client",
        "no-client",
        "no-redirect",
        "relative",
        "ftp",
        "javascript",
        "fragment",
        "no-host",
        "space",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_wrong_client_or_redirect_uri_gets_a_page_and_never_a_redirect(
    sim: VendorSimulator, overrides: dict[str, str | None], method: str
) -> None:
    if method == "GET":
        response = consent(sim, "sim-sync", **overrides)
    else:
        response = requests.post(
            f"{sim.url}/sim-sync/oauth/authorize",
            timeout=5,
            allow_redirects=False,
            data={**authorize_params(**overrides), "username": "demo-user", "decision": "allow"},
        )
    assert response.status_code == 400 and "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert "local stand-in" in response.text and "Nothing was shared" in response.text


def test_another_response_type_is_sent_back_as_unsupported(sim: VendorSimulator) -> None:
    _, query = redirected(consent(sim, "sim-sync", response_type="token"))
    assert query["error"] == "unsupported_response_type" and query["state"] == "st-1"


@pytest.mark.parametrize("vendor", ["sim-async", "sim-polling"])
def test_only_oauth_vendors_have_an_authorize_page(sim: VendorSimulator, vendor: str) -> None:
    assert consent(sim, vendor).status_code == 404


@pytest.mark.parametrize(
    ("username", "decision"),
    [
        ("", "allow"),
        ("two words", "allow"),
        ("x" * 65, "allow"),
        ("-lead", "allow"),
        ("demo-user", "maybe"),
        ("demo-user", ""),
    ],
    ids=["empty", "space", "too-long", "leading-dash", "no-such-decision", "no-decision"],
)
def test_a_bad_answer_shows_the_form_again_with_the_problem(
    sim: VendorSimulator, username: str, decision: str
) -> None:
    response = answer_consent(sim, "sim-sync", decision=decision, username=username)
    assert response.status_code == 400 and "Location" not in response.headers
    assert 'role="alert"' in response.text and 'aria-invalid="true"' in response.text
    assert dict(HIDDEN.findall(response.text))["state"] == "st-1"  # can be answered again


def test_the_consent_form_must_be_a_form(sim: VendorSimulator) -> None:
    response = requests.post(
        f"{sim.url}/sim-sync/oauth/authorize",
        json=authorize_params(),
        timeout=5,
        allow_redirects=False,
    )
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize("vendor", OAUTH)
def test_a_code_gives_a_fresh_credential_for_the_chosen_account(
    sim: VendorSimulator, vendor: str
) -> None:
    sim.set_state(vendor, "white-1", on=True, brightness=7)  # the demo account's own devices
    answer = exchange(sim, vendor, code_for(sim, vendor))
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert set(body) == {"access_token", "refresh_token", "expires_in", "token_type"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["access_token"] != f"demo-{vendor}-credential"
    app_key = None
    if vendor in APP_KEY_VENDORS:
        app_key = post(
            sim, f"/{vendor}/v1/appkey", {}, headers=bearer(body["access_token"])
        ).json()["application_key"]
    headers = bearer(body["access_token"], app_key)
    assert get(sim, f"/{vendor}/v1/me", headers=headers).json() == {"user_id": "demo-user"}
    state = get(sim, f"/{vendor}/v1/devices/white-1/state", headers=headers).json()
    assert state["on"] is True and state["brightness"] == 7  # the account kept its devices
    assert get(sim, f"/{vendor}/v1/me").status_code == 200  # the demo credential still works
    refreshed = refresh(sim, vendor, body["refresh_token"])
    assert refreshed.status_code == 200
    assert [e["body"] for e in sim.log(vendor, "token")] == [
        {"grant_type": "authorization_code"},
        {"grant_type": "refresh_token"},
    ]


def test_a_new_user_id_opens_an_account_with_the_catalogue(sim: VendorSimulator) -> None:
    code = code_for(sim, "sim-sync", username="new.person@example")
    token = exchange(sim, "sim-sync", code).json()["access_token"]
    assert get(sim, "/sim-sync/v1/me", headers=bearer(token)).json() == {
        "user_id": "new.person@example"
    }
    devices = get(sim, "/sim-sync/v1/devices", headers=bearer(token)).json()
    assert sorted(d["id"] for d in devices) == ["color-1", "white-1", "white-tunable-1"]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"redirect_uri": "https://skill.example/elsewhere"}, "invalid_grant"),
        ({"code": "sim-sync-code-made-up"}, "invalid_grant"),
        ({"code": ""}, "invalid_request"),
        ({"redirect_uri": ""}, "invalid_request"),
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"client_id": "someone"}, "invalid_client"),
    ],
    ids=["other-redirect", "unknown-code", "no-code", "no-redirect", "client-secret", "client-id"],
)
def test_a_code_is_bound_to_its_redirect_uri_and_client(
    sim: VendorSimulator, change: dict[str, str], error: str
) -> None:
    code = code_for(sim, "sim-sync")
    refused = exchange(sim, "sim-sync", **{"code": code, **change})
    assert refused.status_code in (400, 401) and refused.json()["error"] == error
    assert exchange(sim, "sim-sync", code).status_code == 200  # still usable by the right one


def test_a_code_is_single_use(sim: VendorSimulator) -> None:
    code = code_for(sim, "sim-sync")
    assert exchange(sim, "sim-sync", code).status_code == 200
    again = exchange(sim, "sim-sync", code)
    assert again.status_code == 400 and again.json() == {
        "error": "invalid_grant",
        "error_description": "the authorization code was already used",
    }


def test_a_code_is_short_lived() -> None:
    clock = Clock()
    with VendorSimulator(latency=0, clock=clock) as own:
        code = code_for(own, "sim-sync")
        clock.now += AUTHORIZATION_CODE_LIFETIME + 1
        late = exchange(own, "sim-sync", code)
        assert late.status_code == 400 and "expired" in late.json()["error_description"]


def test_a_code_is_bound_to_the_client_it_was_issued_to() -> None:
    from bulb_workbench.local._sim_model import Accounts, OAuthError

    accounts = Accounts()
    code = accounts.issue_code("sim-sync", "demo-user", "client-a", CALLBACK)
    with pytest.raises(OAuthError, match="another client"):
        accounts.redeem_code("sim-sync", code, "client-b", CALLBACK)
    assert accounts.redeem_code("sim-sync", code, "client-a", CALLBACK)[0] == "demo-user"


def test_a_code_is_its_vendors_own_and_foreign_elsewhere(sim: VendorSimulator) -> None:
    code = code_for(sim, "sim-sync")
    refused = exchange(sim, "sim-optimistic", code)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert sim.foreign_credentials()["sim-optimistic"] == 1
    assert sim.foreign_sightings()[0]["where"] == "form code"
    assert exchange(sim, "sim-sync", code).status_code == 200


def test_codes_states_and_tokens_are_never_logged(sim: VendorSimulator) -> None:
    code = code_for(sim, "sim-sync")
    body = exchange(sim, "sim-sync", code).json()
    logged = json.dumps(sim.log())
    for value in (code, "st-1", body["access_token"], body["refresh_token"], OAUTH_CLIENT_SECRET):
        assert value not in logged


# -- sim-optimistic: the application key (Hue's) ------------------------------------------------


def coded_token(
    sim: VendorSimulator, vendor: str = "sim-optimistic", username: str = "demo-user"
) -> dict[str, Any]:
    return exchange(sim, vendor, code_for(sim, vendor, username=username)).json()


def test_a_token_from_the_authorize_page_needs_the_application_key() -> None:
    with VendorSimulator(latency=0) as own:
        body = coded_token(own)
        token = body["access_token"]
        without = get(own, "/sim-optimistic/v1/me", headers=bearer(token))
        assert without.status_code == 401 and "X-App-Key" in without.json()["message"]
        created = post(
            own, "/sim-optimistic/v1/appkey", {"devicetype": "test"}, headers=bearer(token)
        )
        assert created.status_code == 201
        key = created.json()["application_key"]
        assert get(own, "/sim-optimistic/v1/me", headers=bearer(token, key)).json() == {
            "user_id": "demo-user"
        }
        assert command(own, "sim-optimistic", "color-1", {"on": True}).status_code == 202
        wrong_key = get(own, "/sim-optimistic/v1/me", headers=bearer(token, "made-up"))
        assert wrong_key.status_code == 401
        # its renewals need it too
        renewed = refresh(own, "sim-optimistic", body["refresh_token"]).json()["access_token"]
        assert get(own, "/sim-optimistic/v1/me", headers=bearer(renewed)).status_code == 401
        assert get(own, "/sim-optimistic/v1/me", headers=bearer(renewed, key)).status_code == 200
        # another account's key is refused
        other = coded_token(own, username="someone")["access_token"]
        assert get(own, "/sim-optimistic/v1/me", headers=bearer(other, key)).status_code == 401
        assert own.foreign_credentials() == dict.fromkeys(VENDORS, 0)


def test_a_token_added_with_an_application_key_needs_it_and_the_demo_token_does_not() -> None:
    with VendorSimulator(latency=0) as own:
        added = OAuthToken.bearer("added-token", application_key="added-app-key")
        own.add_account("sim-optimistic", "added", added)
        assert get(own, "/sim-optimistic/v1/me", headers=bearer("added-token")).status_code == 401
        assert get(
            own, "/sim-optimistic/v1/me", headers=bearer("added-token", "added-app-key")
        ).json() == {"user_id": "added"}
        assert get(own, "/sim-optimistic/v1/me").status_code == 200  # the demo token: no key


def test_the_sync_vendor_has_no_application_keys(sim: VendorSimulator) -> None:
    token = coded_token(sim, "sim-sync")["access_token"]
    assert get(sim, "/sim-sync/v1/me", headers=bearer(token)).status_code == 200
    assert post(sim, "/sim-sync/v1/appkey", {}, headers=bearer(token)).status_code == 404


def test_creating_an_application_key_needs_a_good_token(sim: VendorSimulator) -> None:
    assert post(sim, "/sim-optimistic/v1/appkey", {}, headers=bearer("nope")).status_code == 401


# -- sim-async: one webhook URL per account (SwitchBot's) -------------------------------------


def webhook(
    sim: VendorSimulator,
    body: Any,
    credential: AnyCredential | None = None,
    vendor: str = "sim-async",
) -> requests.Response:
    return post(sim, f"/{vendor}/v1/webhook", body, headers=shown(vendor, credential))


def test_the_account_webhook_is_queried_set_up_and_deleted_over_the_vendor_api(
    sim: VendorSimulator,
) -> None:
    assert webhook(sim, {"action": "query"}).json() == {"urls": []}
    mine = "https://skill.example/webhooks/sim-async/secret"
    assert webhook(sim, {"action": "setup", "url": mine}).json() == {"urls": [mine]}
    assert webhook(sim, {"action": "setup", "url": mine}).status_code == 200  # idempotent
    assert webhook(sim, {"action": "query"}).json() == {"urls": [mine]}
    assert sim.account_webhook("sim-async") == mine
    other = webhook(sim, {"action": "setup", "url": "https://other.example/hook"})
    assert other.status_code == 409 and "delete it first" in other.json()["message"]
    not_ours = webhook(sim, {"action": "delete", "url": "https://other.example/hook"})
    assert not_ours.status_code == 404
    assert webhook(sim, {"action": "delete", "url": mine}).json() == {"urls": []}
    assert sim.account_webhook("sim-async") is None
    assert [e["body"]["action"] for e in sim.log("sim-async", "webhook")] == [
        "query",
        "setup",
        "setup",
        "query",
        "setup",
        "delete",
        "delete",
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"action": "enable"},
        {},
        [],
        {"action": "setup"},
        {"action": "setup", "url": 5},
        {"action": "setup", "url": "ftp://x/hook"},
        {"action": "setup", "url": "/hook"},
        {"action": "delete"},
    ],
    ids=[
        "unknown-action",
        "no-action",
        "not-an-object",
        "no-url",
        "url-not-string",
        "ftp",
        "relative",
        "delete-no-url",
    ],
)
def test_a_bad_webhook_request_is_400(sim: VendorSimulator, body: Any) -> None:
    assert webhook(sim, body).status_code == 400
    assert sim.account_webhook("sim-async") is None


def test_the_webhook_api_is_signed_and_only_at_push_vendors(sim: VendorSimulator) -> None:
    unsigned = requests.post(
        f"{sim.url}/sim-async/v1/webhook",
        json={"action": "query"},
        headers={"Authorization": "demo-sim-async-credential"},
        timeout=5,
    )
    assert unsigned.status_code == 401
    for vendor in ("sim-sync", "sim-polling"):
        assert webhook(sim, {"action": "query"}, vendor=vendor).status_code == 404


def test_each_account_has_its_own_webhook_url() -> None:
    other = KeyAndSecret.of("other-key", "other-secret")
    with VendorSimulator(latency=0) as own:
        own.add_account("sim-async", "other", other)
        webhook(own, {"action": "setup", "url": "https://a.example/hook"})
        assert webhook(own, {"action": "query"}, other).json() == {"urls": []}
        assert own.account_webhook("sim-async", user="other") is None


def test_the_test_hook_presets_an_accounts_webhook_url(sim: VendorSimulator) -> None:
    hook = f"{sim.url}/_sim/sim-async/webhook"
    other = "https://other-home-system.example/hook"
    assert requests.get(hook, timeout=5).json() == {"url": None}
    assert requests.post(hook, json={"url": other}, timeout=5).json() == {"url": other}
    assert requests.get(hook, timeout=5).json() == {"url": other}
    assert webhook(sim, {"action": "query"}).json() == {"urls": [other]}
    assert requests.get(hook, params={"user": "someone"}, timeout=5).json() == {"url": None}
    assert requests.post(hook, json={"url": None}, timeout=5).json() == {"url": None}
    assert sim.account_webhook("sim-async") is None
    assert requests.post(hook, json={"url": "not a url"}, timeout=5).status_code == 400
    assert requests.post(hook, json={"url": 3}, timeout=5).status_code == 400
    assert (
        requests.post(
            f"{sim.url}/_sim/sim-sync/webhook", json={"url": other}, timeout=5
        ).status_code
        == 404
    )


def test_reset_clears_the_accounts_webhook_urls(sim: VendorSimulator) -> None:
    sim.set_account_webhook("sim-async", "https://other.example/hook")
    sim.reset()
    assert sim.account_webhook("sim-async") is None


def test_an_accounts_changes_go_to_its_own_url_else_to_the_global_one(
    sim: VendorSimulator, receiver: Receiver
) -> None:
    own_hook = Receiver()
    try:
        sim.set_account_webhook("sim-async", own_hook.url)
        sim.set_state("sim-async", "color-1", on=True)
        headers, body = own_hook.next()
        assert_signed(headers, body)
        assert json.loads(body)["user_id"] == "demo-user"
        assert sim.wait_idle(2) and receiver.received.empty()
        assert [d["url"] for d in sim.deliveries()] == [own_hook.url]

        stranger = KeyAndSecret.of("push-stranger-key", "push-stranger-secret")
        sim.add_account("sim-async", "stranger", stranger)
        sim.set_state("sim-async", "color-1", user="stranger", on=True)
        assert json.loads(receiver.next()[1])["user_id"] == "stranger"  # no URL of its own

        sim.set_account_webhook("sim-async", None)
        sim.set_state("sim-async", "white-1", on=True)
        assert json.loads(receiver.next()[1])["device_id"] == "white-1"
        assert sim.wait_idle(2) and own_hook.received.empty()
    finally:
        own_hook.close()


def test_a_failed_push_to_an_accounts_url_is_retried_there(
    sim: VendorSimulator, receiver: Receiver
) -> None:
    own_hook = Receiver()
    try:
        own_hook.statuses = [500]
        sim.set_account_webhook("sim-async", own_hook.url)
        sim.set_state("sim-async", "color-1", on=True)
        own_hook.next(), own_hook.next()
        assert sim.wait_idle(3)
        assert [(d["url"], d["status"]) for d in sim.deliveries()] == [
            (own_hook.url, 500),
            (own_hook.url, 200),
        ]
        assert receiver.received.empty()
    finally:
        own_hook.close()


def test_at_the_authorize_page_only_the_authorization_request_is_searched_for_credentials(
    sim: VendorSimulator,
) -> None:
    # the browser sends the cookies it keeps for this host (the local pages' signed session)
    cookie = {"Cookie": f"session={SKILL_JWT}"}
    page = requests.get(
        f"{sim.url}/sim-sync/oauth/authorize", params=authorize_params(), headers=cookie, timeout=5
    )
    assert page.status_code == 200
    typed = requests.post(
        f"{sim.url}/sim-sync/oauth/authorize",
        headers=cookie,
        timeout=5,
        allow_redirects=False,
        data={**authorize_params(), "username": "demo-sim-polling-credential", "decision": "allow"},
    )
    assert typed.status_code == 303
    assert sim.foreign_credentials() == dict.fromkeys(VENDORS, 0)
    # what the skill put in the request is its doing
    consent(sim, "sim-sync", state="demo-sim-polling-credential")
    assert sim.foreign_credentials()["sim-sync"] == 1
    assert sim.foreign_sightings()[0]["where"] == "query state"
