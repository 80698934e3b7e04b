"""The conformance kit against the four built-in simulator adapters, over the real simulator.

The vendor is the real ``VendorSimulator`` on loopback. Failures come from the simulator itself
where it can produce them (a credential it does not know or has revoked -> 401, a removed bulb
-> 404, an offline bulb), and from its fault-injection point (``sim.dispatch`` wrapped) for 5xx,
429 and a slow answer that runs into the adapter's timeout, so every failure still travels over
real HTTP. Each adapter runs with the demo user's credential of its own kind; the simulator
must have seen no foreign credential after any check (the kit's wrong-kind check included).
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from pydantic import SecretStr

from bulb_skill_kit import AdapterConformance, AdapterScenario, Failure, VendorCall
from bulb_workbench.local.sim_adapters import (
    create_async,
    create_optimistic,
    create_polling,
    create_sync,
)
from bulb_workbench.local.simulator import (
    DEMO_USER,
    VENDORS,
    SimRequest,
    SimResponse,
    VendorSimulator,
    sign,
)
from skill.errors import InvalidAuthorizationCredential
from skill.plugins import (
    AdapterContext,
    AnyCredential,
    ApiKey,
    KeyAndSecret,
    OAuthToken,
    WebhookRequest,
)
from skill.plugins._contract import OAuthLinker

SECRET = "conformance-webhook-secret"
#: The adapters' request timeout here, and how long a "timeout" answer is held back.
ADAPTER_TIMEOUT = 0.25
SLOW_ANSWER = 0.6

FACTORIES = {
    "sim-sync": create_sync,
    "sim-async": create_async,
    "sim-optimistic": create_optimistic,
    "sim-polling": create_polling,
}


@pytest.fixture(scope="module")
def sim() -> Iterator[VendorSimulator]:
    with VendorSimulator(latency=0, transition=0.02) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def fresh(sim: VendorSimulator) -> Iterator[None]:
    sim.reset()
    yield
    sim.wait_idle()
    assert sim.foreign_credentials() == dict.fromkeys(VENDORS, 0), sim.foreign_sightings()


def _invalid(credential: AnyCredential) -> AnyCredential:
    """A credential of the same kind the vendor refuses: an unknown access token or API key,
    and for the key-and-secret vendor its real key with a wrong secret (a bad signature)."""
    if isinstance(credential, OAuthToken):
        return OAuthToken.bearer("not-a-simulator-token", refresh_token="not-a-refresh-token")
    if isinstance(credential, ApiKey):
        return ApiKey.of("not-a-simulator-key")
    return KeyAndSecret.of(credential.key.get_secret_value(), "not-the-secret")


class _SimCalls:
    """What the stage yields: the vendor API calls the simulator logged during one adapter
    call (lets the kit check that ``execute`` reached the vendor)."""

    def __init__(self, sim: VendorSimulator, vendor: str) -> None:
        self._sim, self._vendor = sim, vendor
        self._before = len(sim.log(vendor))

    @property
    def calls(self) -> list[dict[str, Any]]:
        return self._sim.log(self._vendor)[self._before :]


Answer = Callable[[SimRequest, Callable[[SimRequest], SimResponse]], SimResponse]


def _faulty(sim: VendorSimulator, answer: Answer) -> Callable[[SimRequest], SimResponse]:
    """Wrap the simulator's decision point: vendor API requests get ``answer(request,
    original)``, test hooks pass through."""
    original = sim.dispatch

    def dispatch(request: SimRequest) -> SimResponse:
        if request.path.startswith("/_sim/"):
            return original(request)
        return answer(request, original)

    return dispatch


class _Slow:
    """The right answer, but later than the adapter waits: only a timeout can fail the call.

    ``settled`` waits until the held-back answer has been written (to a client long gone), so
    the server's complaint about the closed socket lands inside the test that caused it.
    """

    def __init__(self) -> None:
        self._done = threading.Event()

    def __call__(
        self, request: SimRequest, original: Callable[[SimRequest], SimResponse]
    ) -> SimResponse:
        try:
            time.sleep(SLOW_ANSWER)
            return original(request)
        finally:
            self._done.set()

    def settled(self) -> None:
        if self._done.wait(SLOW_ANSWER * 4):
            time.sleep(0.05)


def _spoiling(spoil: Callable[..., bytes]) -> Answer:
    """The simulator's real answer, its body handed through the kit's ``VendorCall.spoil`` (the
    malformed-answer checks: cut off, keys left out, wrong types), over real HTTP."""

    def answer(request: SimRequest, original: Callable[[SimRequest], SimResponse]) -> SimResponse:
        real = original(request)
        label = f"{request.method} {request.path} -> {real.status}"
        return SimResponse(real.status, spoil(real.content, label), real.headers)

    return answer


def simulator_stage(sim: VendorSimulator, vendor: str) -> Callable[[VendorCall], Any]:
    """The ``VendorStage`` for one simulated vendor."""

    @contextmanager
    def stage(call: VendorCall) -> Iterator[_SimCalls]:
        failure, device = call.failure, call.device_id
        answer: Answer | None = None
        revoked: AnyCredential | None = None
        if failure in (Failure.UNAUTHORIZED, Failure.EXPIRED):
            # the simulator forgets the credential: a real 401 (its expired tokens answer the same)
            revoked = call.credential
        elif failure is Failure.NOT_FOUND and device:
            sim.remove_device(vendor, device)  # a real 404; the next test's reset restores it
        elif failure is Failure.OFFLINE and device:
            sim.set_online(vendor, device, False)
        elif failure is Failure.SERVER_ERROR:
            answer = lambda r, _: SimResponse.error(503, "unavailable", "try later")  # noqa: E731 - a one-line stand-in answer
        elif failure is Failure.RATE_LIMITED:
            answer = lambda r, _: SimResponse.error(  # noqa: E731 - a one-line stand-in answer
                429, "too_many_requests", "slow down", {"Retry-After": "7"}
            )
        elif failure is Failure.TIMEOUT:
            answer = _Slow()
        elif failure is not None:
            raise AssertionError(f"the simulator stage cannot produce {failure}")
        if revoked is not None:
            sim.revoke(vendor, revoked)
        if answer is None and call.spoil is not None:
            answer = _spoiling(call.spoil)
        if answer is not None:
            sim.dispatch = _faulty(sim, answer)  # type: ignore[method-assign]
        try:
            yield _SimCalls(sim, vendor)
        finally:
            if answer is not None:
                del sim.dispatch  # back to the class's own method
            if isinstance(answer, _Slow):
                answer.settled()
            if revoked is not None:
                if isinstance(revoked, OAuthToken) and failure is Failure.EXPIRED:
                    # the kit showed it expired (expires_at an hour ago): give it its life back
                    revoked = revoked.model_copy(update={"expires_at": None})
                sim.add_account(vendor, DEMO_USER, revoked)

    return stage


def _push(
    sim: VendorSimulator,
    body: dict[str, Any],
    *,
    secret: str = SECRET,
    age: float = 0,
    tamper: Callable[[bytes], bytes] | None = None,
) -> WebhookRequest:
    raw = json.dumps(body).encode()
    timestamp = str(int(time.time() - age))
    signature = sign(secret, timestamp, raw)
    return WebhookRequest(
        headers={
            "content-type": "application/json",
            "x-sim-timestamp": timestamp,
            "x-sim-signature": signature,
        },
        body=tamper(raw) if tamper else raw,
        path="/webhooks/sim-async/path-secret",
    )


def _push_body(sim: VendorSimulator) -> dict[str, Any]:
    """What the simulator pushes when a bulb changes (see ``VendorSimulator._notify``)."""
    return {
        "device_id": "color-1",
        "request_id": "3f1c1f9e-6c1d-4c0e-9a57-1b0f6a2d8e11",
        "user_id": DEMO_USER,
        "state": {**sim.state("sim-async", "color-1"), "on": True},
    }


def _scenario(sim: VendorSimulator, vendor: str) -> AdapterScenario:
    context = AdapterContext(
        vendor=vendor,
        environ={"SIMULATOR_URL": sim.url},
        secrets=lambda name: {"SIM_WEBHOOK_SECRET": SECRET}[name],
        timeout_seconds=ADAPTER_TIMEOUT,
    )
    webhooks: dict[str, Any] = {}
    if vendor == "sim-async":
        webhooks = {
            "webhook": lambda: _push(sim, _push_body(sim)),
            "invalid_webhooks": [
                # the body changed after signing
                lambda: _push(sim, _push_body(sim), tamper=lambda b: b.replace(b"true", b"false")),
                # signed with someone else's secret
                lambda: _push(sim, _push_body(sim), secret="not-the-deployment-secret"),
                # a genuine push replayed ten minutes later
                lambda: _push(sim, _push_body(sim), age=600),
                # no signature at all
                lambda: WebhookRequest(headers={}, body=json.dumps(_push_body(sim)).encode()),
            ],
        }
    return AdapterScenario(
        adapter=FACTORIES[vendor](context),
        credential=sim.demo_credential(vendor),
        invalid_credential=_invalid(sim.demo_credential(vendor)),
        vendor=simulator_stage(sim, vendor),
        color_device="color-1",
        white_device="white-1",
        tunable_device="white-tunable-1",
        devices=["color-1", "white-tunable-1", "white-1"],
        unknown_device="no-such-bulb",
        failures=set(Failure),  # the simulator can say every one, offline included
        stateful=True,  # a real simulated cloud: commands land after its transition time
        **webhooks,
    )


class TestSimulatorAdaptersConform(AdapterConformance):
    @pytest.fixture(params=sorted(FACTORIES))
    def scenario(self, request: pytest.FixtureRequest, sim: VendorSimulator) -> AdapterScenario:
        return _scenario(sim, request.param)


# -- connecting as the linking pages do: every kind, on one machine ---------------------------

CALLBACK = "https://skill.example/connect/callback"


def _browser_allows(url: str, username: str = DEMO_USER) -> str:
    """The user at the simulated vendor's authorize page presses Allow: the code it sends back."""
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and "local stand-in" in page.text
    fields = {
        k: html.unescape(v)
        for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    answer = requests.post(
        url.split("?")[0],
        data={**fields, "username": username, "decision": "allow"},
        timeout=5,
        allow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["Location"].startswith(CALLBACK)
    return dict(parse_qsl(urlsplit(answer.headers["Location"]).query))["code"]


def _linked(sim: VendorSimulator, vendor: str, adapter: Any) -> AnyCredential:
    """The demo user's credential as the linking pages would get it: the OAuth flow through the
    vendor's authorize page, or the key the connect form's help text names."""
    if isinstance(adapter, OAuthLinker):
        return adapter.exchange_code(
            _browser_allows(adapter.authorization_url(CALLBACK, "s")), CALLBACK
        )
    credential = sim.demo_credential(vendor)
    for _, value in credential:
        if isinstance(value, SecretStr):
            assert value.get_secret_value() in adapter.credential_help
    return credential


@pytest.mark.parametrize("vendor", sorted(FACTORIES))
def test_every_kind_of_connect_can_be_tried_on_one_machine(
    sim: VendorSimulator, vendor: str
) -> None:
    adapter = FACTORIES[vendor](AdapterContext(vendor=vendor, environ={"SIMULATOR_URL": sim.url}))
    credential = _linked(sim, vendor, adapter)
    assert adapter.identify_user(credential) == DEMO_USER
    assert {d.id for d in adapter.list_devices(credential)} == {
        "color-1",
        "white-tunable-1",
        "white-1",
    }
    with pytest.raises(InvalidAuthorizationCredential):  # a wrong one is refused
        adapter.identify_user(_invalid(credential))


class TestOAuthLinkedSimAdaptersConform(AdapterConformance):
    """The kit again for the OAuth adapters, with a credential from the authorize page (for
    ``sim-optimistic`` the token that needs its application key)."""

    @pytest.fixture(params=["sim-optimistic", "sim-sync"])
    def scenario(self, request: pytest.FixtureRequest, sim: VendorSimulator) -> AdapterScenario:
        base = _scenario(sim, request.param)
        linked = _linked(sim, request.param, base.adapter)
        assert (linked.application_key is None) == (request.param == "sim-sync")
        return dataclasses.replace(base, credential=linked)
