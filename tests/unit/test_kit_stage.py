"""The kit's local stage: an author's ``VendorStub`` served on loopback (``LocalVendor``), the
whole conformance kit run against an adapter over real HTTP to it, the local stack's fault
injection put in front of it unchanged, and ``python -m bulb_skill_kit serve``."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
import requests

from bulb_skill_kit import LocalVendor, StubAnswer, StubRequest, VendorStub, run_checks
from bulb_skill_kit.__main__ import load_stub, serve
from skill.errors import EndpointUnreachable, InvalidAuthorizationCredential, RateLimited
from skill.plugins import AdapterContext
from tests.unit import kit_acme

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def adapter_at(url: str, timeout: float = 2.0) -> kit_acme.AcmeAdapter:
    return kit_acme.create(
        AdapterContext(vendor="acme", environ={"ACME_BASE_URL": url}, timeout_seconds=timeout)
    )


def test_an_adapter_runs_end_to_end_against_its_stub_on_loopback() -> None:
    stub = kit_acme.acme_stub()
    with LocalVendor(stub) as local:
        adapter = adapter_at(local.url)
        credential = stub.demo_credential
        assert adapter.identify_user(credential) == "acme-acc_42"
        assert [d.id for d in adapter.list_devices(credential)] == ["lamp-1", "lamp-2", "lamp-3"]
        from skill.bulbs import Change

        adapter.execute(credential, "lamp-2", Change(on=True, brightness=30))
        state = adapter.read_state(credential, "lamp-2")
        assert state.on and state.brightness == 30
        with pytest.raises(InvalidAuthorizationCredential):
            adapter.identify_user(kit_acme.INVALID)
    exchanges = [e.describe() for e in stub.exchanges]
    assert exchanges[0] == 'GET /me -> 200 {"account": "acc_42"}'
    assert any(e.startswith("POST /lamps/lamp-2/commands") for e in exchanges)


def test_the_whole_kit_passes_over_real_http_to_the_local_stage() -> None:
    """Every check, the adapter talking HTTP to the stub on loopback (the kit's failures staged
    by the same ``fail`` hook; a timeout is a held answer)."""
    timeout = 0.3

    def scenario() -> Any:
        stub = kit_acme.acme_stub()
        local = LocalVendor(stub, hold_seconds=timeout * 3).start()
        started.append(local)
        return kit_acme.scenario(
            adapter_at(local.url, timeout), stub=stub, vendor=local.stage(kit_acme.fail)
        )

    started: list[LocalVendor] = []
    try:
        report = run_checks(scenario)
    finally:
        for local in started:
            local.stop()
    assert report.failed == [], str(report)
    assert len(report.passed) >= 45


def test_a_request_the_stub_has_no_route_for_fails_the_check_that_made_it() -> None:
    stub = VendorStub("acme")
    stub.add("GET", "/me", json={"account": "a"})
    with LocalVendor(stub) as local:
        stage = local.stage()
        from bulb_skill_kit import Operation, VendorCall

        with (
            pytest.raises(
                AssertionError, match="sent GET /lamps, which the acme stub has no route for"
            ),
            stage(VendorCall(Operation.LIST_DEVICES)),
        ):
            answer = requests.get(f"{local.url}/lamps", timeout=2)
            assert answer.status_code == 501


def test_routes_fixed_answers_and_callbacks_answer_as_responses_would() -> None:
    stub = VendorStub("acme", base_url="https://acme.test/v1")
    stub.add("GET", "https://acme.test/v1/status", json={"ok": True}, headers={"X-Req": "1"})
    stub.add("GET", "/text", body="plain", content_type="text/plain")
    stub.add_callback("POST", "/echo", lambda r: (201, {"X-Echo": "y"}, r.body))
    seen: list[StubRequest] = []

    @stub.route("GET", "/bulbs/{bulb}/parts/{rest:path}")
    def part(request: StubRequest, bulb: str, rest: str) -> Any:
        seen.append(request)
        return {"bulb": bulb, "rest": rest, "q": dict(request.query)}

    @stub.route("GET", "/bulbs/special/parts/x")  # registered later: answers first
    def special(request: StubRequest) -> StubAnswer:
        return StubAnswer.json(418, {"special": True})

    with LocalVendor(stub) as local:
        ok = requests.get(f"{local.url}/status", timeout=2)
        assert ok.json() == {"ok": True} and ok.headers["X-Req"] == "1"
        assert requests.get(f"{local.url}/text", timeout=2).text == "plain"
        echo = requests.post(f"{local.url}/echo", data=b"hi", timeout=2)
        assert (echo.status_code, echo.content, echo.headers["X-Echo"]) == (201, b"hi", "y")
        found = requests.get(f"{local.url}/bulbs/a%20b/parts/x/y?z=1", timeout=2).json()
        assert found == {"bulb": "a b", "rest": "x/y", "q": {"z": "1"}}
        assert requests.get(f"{local.url}/bulbs/special/parts/x", timeout=2).status_code == 418
    assert seen[0].params == {"bulb": "a b", "rest": "x/y"}


def test_a_held_answer_is_a_timeout_for_the_adapter() -> None:
    stub = VendorStub("acme")
    stub.add_callback("GET", "/me", lambda r: (200, {}, b"{}"))
    stub.route("GET", "/me")(lambda request: StubAnswer.hang())
    with LocalVendor(stub, hold_seconds=1.0) as local:
        began = time.monotonic()
        with pytest.raises(EndpointUnreachable, match="did not answer"):
            adapter_at(local.url, timeout=0.2).identify_user(kit_acme.CREDENTIAL)
        assert time.monotonic() - began < 0.9


def test_the_local_stacks_faults_go_in_front_of_the_stub_unchanged() -> None:
    """The kit side of ``--faults`` for any adapter: ``LocalVendor.dispatch`` is the simulator's
    seam, so ``bulb_workbench.local.faults.install(profile, simulator=local)`` injects into it."""
    from bulb_workbench.local.faults import FaultProfile, install

    stub = kit_acme.acme_stub()
    with LocalVendor(stub) as local:
        faults = install(FaultProfile.parse("vendor=0", seed=3), simulator=local)
        adapter = adapter_at(local.url, timeout=0.5)
        try:
            faults.fail_next("vendor", 1, "5xx")
            with pytest.raises(EndpointUnreachable):
                adapter.list_devices(kit_acme.CREDENTIAL)
            faults.fail_next("vendor", 1, "429")
            with pytest.raises(RateLimited) as throttled:
                adapter.list_devices(kit_acme.CREDENTIAL)
            assert throttled.value.retry_after == 1
            faults.fail_next("vendor", 1, "malformed", processed=True)
            with pytest.raises(EndpointUnreachable):
                adapter.read_state(kit_acme.CREDENTIAL, "lamp-1")
            faults.fail_next("vendor", 1, "reset")
            with pytest.raises(EndpointUnreachable):
                adapter.identify_user(kit_acme.CREDENTIAL)
            assert adapter.identify_user(kit_acme.CREDENTIAL) == "acme-acc_42"  # faults over
            assert [f.kind for f in faults.log("vendor")] == ["5xx", "429", "malformed", "reset"]
        finally:
            faults.stop()


def test_serve_prints_where_the_stub_is_and_which_setting_points_the_adapter_there() -> None:
    lines: list[str] = []

    class Out:
        def write(self, text: str) -> None:
            lines.append(text)

        def flush(self) -> None:
            pass

    stop = threading.Event()
    thread = threading.Thread(
        target=serve,
        args=("tests.unit.kit_acme:acme_stub",),
        kwargs={"out": Out(), "stop": stop},
        daemon=True,
    )
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not lines and time.monotonic() < deadline:
            time.sleep(0.02)
        announced = json.loads(lines[0])
        assert announced["vendor"] == "acme" and announced["credential_kind"] == "api_key"
        assert announced["setting"] == f"ACME_BASE_URL={announced['url']}"
        adapter = adapter_at(announced["url"])
        assert adapter.identify_user(kit_acme.CREDENTIAL) == "acme-acc_42"
    finally:
        stop.set()
        thread.join(5)


def test_python_m_skill_testing_serve_runs_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bulb_skill_kit", "serve", "tests.unit.kit_acme:acme_stub"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        announced = json.loads(process.stdout.readline())
        assert requests.get(f"{announced['url']}/me", timeout=2).status_code == 401  # no key
    finally:
        process.terminate()
        process.wait(10)
    assert process.returncode == 0


def test_load_stub_says_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="MODULE:STUB"):
        load_stub("tests.unit.kit_acme")
    with pytest.raises(ValueError, match=r"not a bulb_skill_kit\.VendorStub"):
        load_stub("tests.unit.kit_acme:BASE")
    assert load_stub("tests.unit.kit_acme:acme_stub").name == "acme"


def test_a_forwarding_stage_puts_faults_in_front_of_a_real_vendor() -> None:
    """``--faults`` for an adapter of a real cloud: a forwarding stub on loopback hands each
    request on (here to another local server standing for the vendor) and the fault injection
    sits in front of it."""
    from bulb_workbench.local.faults import FaultProfile, install

    real = kit_acme.acme_stub()
    with (
        LocalVendor(real) as vendor,
        LocalVendor(
            VendorStub.forwarding("acme", vendor.url, credential=kit_acme.CREDENTIAL)
        ) as front,
    ):
        adapter = adapter_at(front.url, timeout=0.5)
        assert adapter.identify_user(kit_acme.CREDENTIAL) == "acme-acc_42"
        with pytest.raises(InvalidAuthorizationCredential):  # the real vendor's own 401
            adapter.identify_user(kit_acme.INVALID)
        faults = install(FaultProfile.parse("vendor=0"), simulator=front)
        try:
            faults.fail_next("vendor", 1, "5xx")
            with pytest.raises(EndpointUnreachable):
                adapter.read_state(kit_acme.CREDENTIAL, "lamp-1")
            assert adapter.read_state(kit_acme.CREDENTIAL, "lamp-1").on
        finally:
            faults.stop()
    assert [e.request.path for e in real.exchanges] == ["/me", "/me", "/lamps/lamp-1"]
