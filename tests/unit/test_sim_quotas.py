"""The simulated vendors keep the quotas of the real vendors they stand for, on the simulator's
(injectable) clock: counted always, refused as the vendor refuses when ``enforce_quotas``.

The limits and the over-quota answers are the vendors' documented ones (``_sim_quotas``):
LIFX https://api.developer.lifx.com/docs/rate-limits, SwitchBot
https://github.com/OpenWonderLabs/SwitchBotAPI#request-limit, Hue
https://developers.meethue.com/things-you-need-know, Govee
https://govee.readme.io/reference/rate-limiting.
"""

from __future__ import annotations

import json

import pytest

from bulb_workbench.local._sim_http import SimRequest
from bulb_workbench.local._sim_inproc import IN_PROCESS_URL, in_process_session
from bulb_workbench.local._sim_quotas import PROFILES
from bulb_workbench.local.sim_adapters import (
    SIM_QUOTAS,
    SimulatorAdapter,
    SimulatorListerAdapter,
    request_signature,
)
from bulb_workbench.local.simulator import VendorSimulator
from skill.errors import RateLimited
from skill.plugins import CredentialKind, StateLister, Style

DAY = 86_400.0


class Clock:
    def __init__(self, now: float = 20_000 * DAY) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _get(sim: VendorSimulator, vendor: str, path: str, **headers: str) -> tuple[int, dict, dict]:
    answer = sim.dispatch(SimRequest("GET", f"/{vendor}/v1{path}", headers=headers))
    return answer.status, json.loads(answer.content or b"null"), dict(answer.headers)


def _bearer(vendor: str) -> dict[str, str]:
    return {"authorization": f"Bearer demo-{vendor}-credential"}


def _polling() -> dict[str, str]:
    return {"x-api-key": "demo-sim-polling-credential"}


def _signed(clock: Clock) -> dict[str, str]:
    key, secret, t, nonce = "demo-sim-async-credential", "demo-sim-async-secret", "", "n"
    t = str(int(clock() * 1000))
    return {
        "authorization": key,
        "t": t,
        "nonce": nonce,
        "sign": request_signature(key, secret, t, nonce),
    }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> VendorSimulator:
    return VendorSimulator(latency=0, clock=clock, token_lifetime=None, enforce_quotas=True)


def test_the_adapters_declare_the_quotas_their_vendor_keeps() -> None:
    sync, switchbot = PROFILES["sim-sync"], PROFILES["sim-async"]
    assert SIM_QUOTAS["sim-sync"].calls_per_minute_per_account == sync.per_minute_per_account
    assert SIM_QUOTAS["sim-async"].calls_per_day_per_account == switchbot.per_day_per_account
    assert (
        SIM_QUOTAS["sim-optimistic"].calls_per_minute_per_account
        == 60 * PROFILES["sim-optimistic"].per_second_per_account
    )
    assert (
        SIM_QUOTAS["sim-polling"].calls_per_minute_per_device
        == PROFILES["sim-polling"].per_minute_per_device
    )
    assert all(q.source.startswith("https://") for q in SIM_QUOTAS.values())


def test_sim_sync_allows_120_calls_a_minute_then_answers_as_lifx(sim, clock) -> None:
    clock.now = 20_000 * DAY + 5
    for _ in range(120):
        assert _get(sim, "sim-sync", "/devices", **_bearer("sim-sync"))[0] == 200
    status, _body, headers = _get(sim, "sim-sync", "/devices", **_bearer("sim-sync"))
    assert status == 429 and "Retry-After" not in headers
    assert headers["X-RateLimit-Remaining"] == "0"
    assert headers["X-RateLimit-Reset"] == str(int(20_000 * DAY + 60))
    clock.now += 60  # the next window
    assert _get(sim, "sim-sync", "/devices", **_bearer("sim-sync"))[0] == 200
    assert sim.quotas.throttled()["sim-sync"] == 1
    assert sim.quotas.peak_per_minute("sim-sync") == {"demo-user": 120}
    assert sim.quotas.calls_per_day("sim-sync") == {"demo-user": {20_000: 121}}


def test_sim_polling_limits_each_device_to_ten_reads_a_minute_as_govee(sim, clock) -> None:
    for _ in range(10):
        assert _get(sim, "sim-polling", "/devices/color-1/state", **_polling())[0] == 200
    status, body, headers = _get(sim, "sim-polling", "/devices/color-1/state", **_polling())
    assert status == 429 and body["code"] == 429
    assert headers["API-RateLimit-Remaining"] == "0" and int(headers["Retry-After"]) > 0
    # another device of the same account still has its own ten
    assert _get(sim, "sim-polling", "/devices/white-1/state", **_polling())[0] == 200


def test_sim_polling_allows_ten_thousand_calls_a_day(sim, clock) -> None:
    for minute in range(1000):
        clock.now = 20_000 * DAY + 60 * minute
        for device in ("color-1", "white-1", "white-tunable-1"):
            _get(sim, "sim-polling", f"/devices/{device}/state", **_polling())
        _get(sim, "sim-polling", "/devices", **_polling())
        for _ in range(6):  # ten calls a minute in all
            _get(sim, "sim-polling", "/me", **_polling())
    assert sim.quotas.calls_per_day("sim-polling")["demo-user"][20_000] == 10_000
    status, _, headers = _get(sim, "sim-polling", "/me", **_polling())
    assert status == 429 and headers["X-RateLimit-Limit"] == "10000"
    clock.now = 20_001 * DAY  # a new UTC day
    assert _get(sim, "sim-polling", "/me", **_polling())[0] == 200


def test_sim_async_answers_the_daily_limit_in_switchbots_words(sim, clock) -> None:
    sim.quotas._days[("sim-async", "demo-user")][20_000] = 10_000
    status, body, _ = _get(sim, "sim-async", "/devices", **_signed(clock))
    assert status == 429 and body == {
        "statusCode": 190,
        "message": "Requests reached the daily limit",
    }


def test_sim_optimistic_allows_ten_calls_a_second_as_a_hue_bridge(sim, clock) -> None:
    for _ in range(10):
        assert _get(sim, "sim-optimistic", "/devices", **_bearer("sim-optimistic"))[0] == 200
    assert _get(sim, "sim-optimistic", "/devices", **_bearer("sim-optimistic"))[0] == 429
    clock.now += 1
    assert _get(sim, "sim-optimistic", "/devices", **_bearer("sim-optimistic"))[0] == 200


def test_quotas_are_counted_but_not_enforced_by_default(clock) -> None:
    sim = VendorSimulator(latency=0, clock=clock, token_lifetime=None)
    for _ in range(200):
        assert _get(sim, "sim-sync", "/me", **_bearer("sim-sync"))[0] == 200
    assert sim.quotas.calls_per_day("sim-sync") == {"demo-user": {20_000: 200}}
    assert sim.quotas.throttled()["sim-sync"] == 0


def test_only_state_listers_list_states(sim) -> None:
    status, listed, _ = _get(sim, "sim-sync", "/states", **_bearer("sim-sync"))
    assert status == 200 and {d["id"] for d in listed} == {"color-1", "white-tunable-1", "white-1"}
    assert all("state" in d and "features" in d for d in listed)
    assert _get(sim, "sim-polling", "/states", **_polling())[0] == 404


def _lister(sim: VendorSimulator) -> SimulatorListerAdapter:
    return SimulatorListerAdapter(
        "sim-sync",
        Style.SYNC,
        IN_PROCESS_URL,
        client=lambda: ("sim-client", "sim-client-secret"),
        session=in_process_session(sim),
    )


def test_read_all_is_one_call_and_an_offline_bulb_has_no_state(sim) -> None:
    adapter = _lister(sim)
    credential = sim.demo_credential("sim-sync")
    sim.set_online("sim-sync", "white-1", False)
    readings = {r.device.id: r for r in adapter.read_all(credential)}
    assert len(sim.log("sim-sync")) == 1
    assert readings["white-1"].state is None
    assert readings["color-1"].state == adapter.read_state(credential, "color-1")
    assert readings["color-1"].device in adapter.list_devices(credential)
    assert isinstance(adapter, StateLister)


def test_an_adapter_over_quota_raises_rate_limited(sim, clock) -> None:
    adapter = SimulatorAdapter(
        "sim-polling",
        Style.POLLING,
        IN_PROCESS_URL,
        credential_kind=CredentialKind.API_KEY,
        session=in_process_session(sim),
    )
    credential = sim.demo_credential("sim-polling")
    for _ in range(10):
        adapter.read_state(credential, "color-1")
    with pytest.raises(RateLimited) as raised:
        adapter.read_state(credential, "color-1")
    assert raised.value.retry_after is not None and raised.value.retry_after > 0
