"""The four simulator adapters against the real simulator on loopback, and against ``responses``
where a vendor must misbehave (5xx, timeouts, malformed bodies): each takes its own vendor's
kind of credential, sends it that vendor's way, refuses any other kind unsent, and the OAuth
ones renew credentials at the vendor's token endpoint. No test here shows a vendor a foreign
credential: the simulator's count is checked after each."""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

import pytest
import requests
import responses
from pydantic import SecretStr

from bulb_workbench.local.sim_adapters import (
    SimulatorAdapter,
    SimulatorOAuthAdapter,
    SimulatorPushAdapter,
    create_async,
    create_optimistic,
    create_polling,
    create_sync,
)
from bulb_workbench.local.simulator import (
    CREDENTIAL_KINDS,
    VENDORS,
    VendorSimulator,
    demo_credential,
    request_signature,
    sign,
)
from skill.bulbs import (
    BulbState,
    Change,
    Color,
    Features,
    KelvinRange,
    TurnOn,
    apply_command,
    changes_for,
    converged,
)
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
from skill.plugins import (
    Accepted,
    Adapter,
    AdapterContext,
    AdapterRegistry,
    AnyCredential,
    ApiKey,
    CredentialKind,
    CredentialRefresher,
    KeyAndSecret,
    OAuthToken,
    PushAdapter,
    Style,
    VendorTransport,
    WebhookRequest,
)
from skill.plugins._contract import OAuthLinker, SingleWebhookVendor, WebhookRegistrar

SECRET = "adapter-test-secret"
FACTORIES: dict[str, tuple[Callable[[AdapterContext], Any], Style]] = {
    "sim-sync": (create_sync, Style.SYNC),
    "sim-async": (create_async, Style.ASYNC),
    "sim-optimistic": (create_optimistic, Style.OPTIMISTIC),
    "sim-polling": (create_polling, Style.POLLING),
}
DEFERRED = ["sim-async", "sim-optimistic", "sim-polling"]
OAUTH = ["sim-optimistic", "sim-sync"]
#: The sync adapter's credential (the demo user's at sim-sync).
TOKEN = demo_credential("sim-sync")
#: One well-formed credential of each kind that is nobody's at the simulator.
STRANGERS: dict[CredentialKind, AnyCredential] = {
    CredentialKind.OAUTH: OAuthToken.bearer("stranger-access", refresh_token="stranger-refresh"),
    CredentialKind.API_KEY: ApiKey.of("stranger-api-key"),
    CredentialKind.KEY_AND_SECRET: KeyAndSecret.of("stranger-key", "stranger-secret"),
}


def cred(vendor: str) -> AnyCredential:
    """The demo user's credential at ``vendor``."""
    return demo_credential(vendor)


@pytest.fixture(scope="module")
def sim() -> Iterator[VendorSimulator]:
    with VendorSimulator(latency=0, transition=0.05) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def fresh(sim: VendorSimulator) -> Iterator[None]:
    sim.reset()
    yield
    sim.wait_idle()
    assert sim.foreign_credentials() == dict.fromkeys(VENDORS, 0), sim.foreign_sightings()


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


@pytest.mark.parametrize("vendor", FACTORIES)
def test_each_adapter_declares_the_credential_kind_its_vendor_takes(
    sim: VendorSimulator, vendor: str
) -> None:
    adapter = adapter_for(vendor, sim)
    assert adapter.credential_kind is CREDENTIAL_KINDS[vendor]
    assert isinstance(adapter, CredentialRefresher) == (vendor in OAUTH)


def test_the_registry_finds_all_four_through_their_entry_points(sim: VendorSimulator) -> None:
    environ = {"ADAPTERS": ",".join(FACTORIES), "SIMULATOR_URL": sim.url}
    registry = AdapterRegistry.from_environment(environ)
    assert {a.name: a.style for a in registry.all()} == {v: s for v, (_, s) in FACTORIES.items()}
    for vendor in FACTORIES:
        assert registry.get(vendor).identify_user(cred(vendor)) == "demo-user"


def test_without_simulator_url_the_adapters_use_port_8765() -> None:
    adapter = create_polling(AdapterContext(vendor="sim-polling", environ={}))
    assert adapter.base_url == "http://127.0.0.1:8765/sim-polling/v1"


# -- the five operations -----------------------------------------------------------------------


@pytest.mark.parametrize("vendor", FACTORIES)
def test_identify_user_returns_the_simulators_account_id_not_the_credential(
    sim: VendorSimulator, vendor: str
) -> None:
    sim.add_account(vendor, "acct-42", STRANGERS[CREDENTIAL_KINDS[vendor]], devices=[])
    adapter = adapter_for(vendor, sim)
    assert adapter.identify_user(cred(vendor)) == "demo-user"
    assert adapter.identify_user(STRANGERS[CREDENTIAL_KINDS[vendor]]) == "acct-42"
    sim.revoke(vendor, STRANGERS[CREDENTIAL_KINDS[vendor]])


@pytest.mark.parametrize("vendor", FACTORIES)
def test_listed_devices_carry_their_real_features(sim: VendorSimulator, vendor: str) -> None:
    devices = {d.id: d for d in adapter_for(vendor, sim).list_devices(cred(vendor))}
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
    result = adapter_for(vendor, sim).execute(
        cred(vendor), "white-1", Change(on=True, brightness=30)
    )
    assert isinstance(result, Accepted)
    [command] = sim.commands(vendor)
    assert result.reference == command["request_id"]
    assert command["body"] == {"on": True, "brightness": 30}


def test_polling_reads_the_expected_state_once_the_bulb_converges(sim: VendorSimulator) -> None:
    adapter, key = adapter_for("sim-polling", sim), cred("sim-polling")
    features = Features(dimmable=True)
    before = adapter.read_state(key, "white-1")
    expected = apply_command(before, TurnOn(), features)
    change = changes_for(before, expected)
    sim.transition = 1.0  # long enough that the read below comes first even on a busy machine
    try:
        adapter.execute(key, "white-1", change)
        assert not converged(adapter.read_state(key, "white-1"), expected, change)
    finally:
        sim.transition = 0.05
    sim.wait_idle(3)
    assert converged(adapter.read_state(key, "white-1"), expected, change)


@pytest.mark.parametrize("vendor", FACTORIES)
def test_executing_on_an_offline_bulb_is_endpoint_unreachable(
    sim: VendorSimulator, vendor: str
) -> None:
    sim.set_online(vendor, "color-1", False)
    with pytest.raises(EndpointUnreachable, match="offline"):
        adapter_for(vendor, sim).execute(cred(vendor), "color-1", Change(on=True))


def test_device_ids_are_percent_encoded_in_paths(
    sim: VendorSimulator, sync: SimulatorAdapter
) -> None:
    sim.add_device("sim-sync", {"id": "hub/7 a", "name": "Odd Id"})
    assert sync.execute(TOKEN, "hub/7 a", Change(on=True)).on is True


# -- errors from the real simulator ------------------------------------------------------------


CALLS = [
    lambda a, c: a.identify_user(c),
    lambda a, c: a.list_devices(c),
    lambda a, c: a.read_state(c, "color-1"),
    lambda a, c: a.execute(c, "color-1", Change(on=True)),
]
CALL_IDS = ["identify", "list", "read", "execute"]


@pytest.mark.parametrize("call", CALLS, ids=CALL_IDS)
@pytest.mark.parametrize("vendor", FACTORIES)
def test_a_credential_the_vendor_rejects_is_invalid_authorization_credential(
    sim: VendorSimulator, vendor: str, call: Callable[[Any, AnyCredential], Any]
) -> None:
    with pytest.raises(InvalidAuthorizationCredential):
        call(adapter_for(vendor, sim), STRANGERS[CREDENTIAL_KINDS[vendor]])
    assert sim.state(vendor, "color-1")["on"] is False


def test_a_key_with_the_wrong_secret_signs_wrongly_and_is_refused(sim: VendorSimulator) -> None:
    wrong = KeyAndSecret.of("demo-sim-async-credential", "not-the-secret")
    with pytest.raises(InvalidAuthorizationCredential):
        adapter_for("sim-async", sim).list_devices(wrong)


@pytest.mark.parametrize("call", CALLS, ids=CALL_IDS)
@pytest.mark.parametrize(
    ("vendor", "owner"),
    [(v, o) for v in FACTORIES for o in FACTORIES if CREDENTIAL_KINDS[v] != CREDENTIAL_KINDS[o]],
)
def test_another_vendors_credential_is_refused_before_any_request(
    sim: VendorSimulator, vendor: str, owner: str, call: Callable[[Any, AnyCredential], Any]
) -> None:
    with pytest.raises(InvalidAuthorizationCredential, match="not this vendor's"):
        call(adapter_for(vendor, sim), cred(owner))
    assert sim.log() == []  # nothing was sent (and ``fresh`` checks nothing foreign was seen)


@pytest.mark.parametrize(
    "credential",
    [OAuthToken.bearer(""), OAuthToken.bearer("two words"), OAuthToken.bearer("line\nbreak")],
    ids=["empty", "space", "newline"],
)
def test_a_malformed_credential_of_the_right_kind_is_refused_unsent(
    sim: VendorSimulator, sync: SimulatorAdapter, credential: OAuthToken
) -> None:
    with pytest.raises(InvalidAuthorizationCredential):
        sync.list_devices(credential)
    assert sim.log() == []


@pytest.mark.parametrize("vendor", FACTORIES)
def test_an_unknown_device_is_no_such_endpoint(sim: VendorSimulator, vendor: str) -> None:
    adapter = adapter_for(vendor, sim)
    with pytest.raises(NoSuchEndpoint):
        adapter.read_state(cred(vendor), "gone")
    with pytest.raises(NoSuchEndpoint):
        adapter.execute(cred(vendor), "gone", Change(on=True))


# -- each vendor's way of being shown a credential -------------------------------------------


def test_the_oauth_adapters_send_a_bearer_token(sim: VendorSimulator) -> None:
    for vendor in OAUTH:
        headers = adapter_for(vendor, sim).auth_headers(cred(vendor))
        assert headers == {"Authorization": f"Bearer demo-{vendor}-credential"}


def test_the_polling_adapter_sends_an_api_key_header(sim: VendorSimulator) -> None:
    assert adapter_for("sim-polling", sim).auth_headers(cred("sim-polling")) == {
        "X-Api-Key": "demo-sim-polling-credential"
    }


def test_the_async_adapter_signs_each_request_like_switchbot() -> None:
    adapter = SimulatorPushAdapter(
        "sim-async", BASE, lambda: SECRET, clock=lambda: 1700000000.1234, nonces=lambda: "n-1"
    )
    headers = adapter.auth_headers(cred("sim-async"))
    t = "1700000000123"
    assert headers == {
        "Authorization": "demo-sim-async-credential",
        "t": t,
        "nonce": "n-1",
        "sign": request_signature("demo-sim-async-credential", "demo-sim-async-secret", t, "n-1"),
    }
    assert headers["sign"] == headers["sign"].upper()
    assert "demo-sim-async-secret" not in json.dumps(headers)


def test_each_signed_request_has_its_own_nonce(sim: VendorSimulator) -> None:
    adapter = adapter_for("sim-async", sim)
    first, second = (adapter.auth_headers(cred("sim-async")) for _ in range(2))
    assert first["nonce"] != second["nonce"] and first["sign"] != second["sign"]


# -- OAuth renewal (CredentialRefresher) ---------------------------------------------------------


@pytest.mark.parametrize("vendor", OAUTH)
def test_refresh_credential_renews_at_the_vendors_token_endpoint(vendor: str) -> None:
    with VendorSimulator(latency=0, token_lifetime=60) as own:
        adapter = adapter_for(vendor, own)
        old = own.demo_credential(vendor).model_copy(
            update={
                "application_key": OAuthToken.bearer(
                    "x", application_key="app-key-1"
                ).application_key
            }
        )
        own.add_account(vendor, "demo-user", old)  # the vendor knows the application key
        started = time.time()
        fresh = adapter.refresh_credential(old)
        assert fresh.access_token.get_secret_value() != old.access_token.get_secret_value()
        assert fresh.refresh_token.get_secret_value() != old.refresh_token.get_secret_value()
        assert fresh.expires_at == pytest.approx(started + 60, abs=5)
        assert fresh.application_key == old.application_key  # kept: not in the answer
        assert adapter.identify_user(fresh) == "demo-user"
        assert own.refreshes() == {**dict.fromkeys(VENDORS, 0), vendor: 1}
        # the old refresh token is spent
        with pytest.raises(InvalidAuthorizationCredential, match="again"):
            adapter.refresh_credential(old)
        assert own.foreign_credentials() == dict.fromkeys(VENDORS, 0)


def test_the_cores_refresh_path_renews_an_expiring_sim_credential_once() -> None:
    from skill.credentials import Credentials
    from tests.fakes import MemoryVault

    with VendorSimulator(latency=0) as own:  # a refresh spends the demo refresh token
        adapter = adapter_for("sim-sync", own)
        vault = MemoryVault()
        expiring = own.demo_credential("sim-sync").model_copy(
            update={"expires_at": time.time() + 10}
        )
        vault.connect("skill-user-1", "sim-sync", expiring, account_id="demo-user")
        credentials = Credentials(vault, cache_seconds=0.000001)
        first = credentials.for_adapter("skill-user-1", adapter)
        second = credentials.for_adapter("skill-user-1", adapter)
        assert first == second and first.access_token != expiring.access_token
        assert adapter.list_devices(first)
        assert own.refreshes()["sim-sync"] == 1
        assert own.foreign_credentials() == dict.fromkeys(VENDORS, 0)


def test_a_credential_without_refresh_token_cannot_be_renewed(sync: SimulatorOAuthAdapter) -> None:
    with pytest.raises(InvalidAuthorizationCredential):
        sync.refresh_credential(OAuthToken.bearer("demo-sim-sync-credential"))
    with pytest.raises(InvalidAuthorizationCredential):
        sync.refresh_credential(ApiKey.of("k"))  # type: ignore[arg-type]


def test_the_oauth_client_comes_from_the_secret_source_then_the_default() -> None:
    asked: list[str] = []

    def secrets(name: str) -> str:
        asked.append(name)
        raise KeyError(name)

    with VendorSimulator(latency=0) as own:  # a refresh spends the demo refresh token
        environ = {"SIMULATOR_URL": own.url}
        adapter = create_sync(AdapterContext(vendor="sim-sync", environ=environ, secrets=secrets))
        assert asked == []  # not before a refresh
        assert adapter.refresh_credential(cred("sim-sync")).access_token
        assert asked == ["SIM_CLIENT_ID", "SIM_CLIENT_SECRET"]
        wrong = create_sync(
            AdapterContext(vendor="sim-sync", environ={**environ, "SIM_CLIENT_SECRET": "wrong"})
        )
        with pytest.raises(InternalError, match="invalid_client"):
            wrong.refresh_credential(OAuthToken.bearer("a", refresh_token="r"))


TOKEN_URL = "http://vendor.test/sim-sync/oauth/token"


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"status": 400, "json": {"error": "invalid_grant"}}, InvalidAuthorizationCredential),
        ({"status": 401, "json": {"error": "invalid_token"}}, InvalidAuthorizationCredential),
        ({"status": 400, "json": {"error": "unsupported_grant_type"}}, InternalError),
        ({"status": 401, "json": {"error": "invalid_client"}}, InternalError),
        ({"status": 429, "headers": {"Retry-After": "3"}}, RateLimited),
        ({"status": 503}, EndpointUnreachable),
        ({"status": 200, "body": "<html>"}, EndpointUnreachable),
        ({"status": 200, "json": {"token_type": "bearer"}}, EndpointUnreachable),
        ({"status": 200, "json": {"access_token": "a", "expires_in": -5}}, EndpointUnreachable),
        ({"body": requests.Timeout("slow")}, EndpointUnreachable),
        ({"body": requests.ConnectionError("reset")}, EndpointUnreachable),
    ],
    ids=[
        "invalid-grant",
        "401",
        "grant-type",
        "invalid-client",
        "429",
        "503",
        "not-json",
        "no-access-token",
        "negative-lifetime",
        "timeout",
        "connection-reset",
    ],
)
def test_token_endpoint_failures_map_to_typed_errors(
    reply: dict[str, Any], error: type[SkillError]
) -> None:
    adapter = create_sync(
        AdapterContext(vendor="sim-sync", environ={"SIMULATOR_URL": "http://vendor.test"})
    )
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TOKEN_URL, **reply)
        with pytest.raises(error):
            adapter.refresh_credential(OAuthToken.bearer("a", refresh_token="r"))


def test_an_answer_without_refresh_token_or_lifetime_keeps_the_old_refresh_token() -> None:
    adapter = create_optimistic(
        AdapterContext(vendor="sim-optimistic", environ={"SIMULATOR_URL": "http://vendor.test"})
    )
    old = OAuthToken.bearer("a", refresh_token="r-1", expires_at=5, application_key="app")
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST,
            "http://vendor.test/sim-optimistic/oauth/token",
            json={"access_token": "a-2", "token_type": "bearer"},
        )
        fresh = adapter.refresh_credential(old)
        sent = mock.calls[0].request
    assert fresh.access_token.get_secret_value() == "a-2"
    assert fresh.refresh_token == old.refresh_token and fresh.expires_at is None
    assert fresh.application_key == old.application_key
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "grant_type=refresh_token" in sent.body and "client_id=sim-client" in sent.body
    assert "Authorization" not in sent.headers


def test_a_value_the_vendor_refuses_is_invalid_value(sync: SimulatorAdapter) -> None:
    with pytest.raises(InvalidValue, match="no colour"):
        sync.execute(TOKEN, "white-1", Change(color=Color(hue=1, saturation=1, brightness=1)))


def test_a_vendor_nobody_answers_for_is_endpoint_unreachable() -> None:
    adapter = create_sync(
        AdapterContext(vendor="sim-sync", environ={"SIMULATOR_URL": "http://127.0.0.1:9"})
    )
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
        (
            {"status": 200, "json": {"on": True, "brightness": 5, "color_temperature": 50}},
            EndpointUnreachable,
        ),
        ({"body": requests.Timeout("slow")}, EndpointUnreachable),
        ({"body": requests.ConnectionError("reset")}, EndpointUnreachable),
    ],
    ids=[
        "500",
        "502",
        "503",
        "403",
        "418",
        "not-json",
        "bad-type",
        "out-of-range",
        "list",
        "kelvin-outside-alexa",
        "timeout",
        "connection-reset",
    ],
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
    assert mock.calls[0].request.req_kwargs["timeout"] == (2.0, 2.0)  # (connect, read)


def test_a_receipt_without_request_id_is_endpoint_unreachable(sim: VendorSimulator) -> None:
    adapter = create_polling(AdapterContext(vendor="sim-polling", environ={"SIMULATOR_URL": BASE}))
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST,
            f"{BASE}/sim-polling/v1/devices/white-1/commands",
            status=202,
            json={"queued": True},
        )
        with pytest.raises(EndpointUnreachable):
            adapter.execute(cred("sim-polling"), "white-1", Change(on=True))


# -- the one transport (skill.plugins.VendorTransport): every vendor call of every adapter ------

ELSEWHERE = "http://elsewhere.test/collect"
#: One credential per vendor that shows every secret header its scheme has (``sim-optimistic``'s
#: with its application key: ``Authorization`` and ``X-App-Key``).
SHOWN = {
    **{v: cred(v) for v in FACTORIES},
    "sim-optimistic": OAuthToken.bearer("at-1", application_key="app-key-1"),
}


def mocked_adapter(vendor: str) -> Any:
    return FACTORIES[vendor][0](AdapterContext(vendor=vendor, environ={"SIMULATOR_URL": BASE}))


@pytest.mark.parametrize("vendor", FACTORIES)
def test_each_adapter_has_one_transport_with_its_secret_headers_marked(vendor: str) -> None:
    adapter = mocked_adapter(vendor)
    transport = adapter.transport
    assert isinstance(transport, VendorTransport) and transport.vendor == vendor
    assert transport.base_url == adapter.base_url == f"{BASE}/{vendor}/v1"
    assert {"authorization", "x-api-key", "x-app-key", "sign", "t", "nonce"} <= (
        transport.secret_headers
    )
    assert set(adapter.auth_headers(SHOWN[vendor])) <= {
        "Authorization",
        "X-Api-Key",
        "X-App-Key",
        "sign",
        "t",
        "nonce",
    }
    assert transport.session.headers["User-Agent"] == "bulb-skill/sim-adapter"
    assert transport.session.trust_env is False  # a developer's proxy never sees loopback calls
    assert transport.timeout == (2.0, 2.0) and adapter.timeout == 2.0


@pytest.mark.parametrize("vendor", FACTORIES)
def test_no_api_call_takes_the_credential_to_another_host_on_a_redirect(vendor: str) -> None:
    adapter = mocked_adapter(vendor)
    me = f"{BASE}/{vendor}/v1/me"
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, me, status=307, headers={"Location": ELSEWHERE})
        with pytest.raises(EndpointUnreachable, match="another host"):
            adapter.identify_user(SHOWN[vendor])
        assert [call.request.url for call in mock.calls] == [me]  # elsewhere got nothing


def test_a_redirect_within_the_vendor_is_followed_with_the_credential() -> None:
    adapter = mocked_adapter("sim-polling")
    with responses.RequestsMock() as mock:
        mock.add(
            responses.GET,
            f"{BASE}/sim-polling/v1/me",
            status=307,
            headers={"Location": "/sim-polling/v1/account"},
        )
        mock.add(responses.GET, f"{BASE}/sim-polling/v1/account", json={"user_id": "u-7"})
        assert adapter.identify_user(cred("sim-polling")) == "u-7"
        assert mock.calls[1].request.headers["X-Api-Key"] == "demo-sim-polling-credential"


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("exchange", ["code", "refresh"])
def test_the_token_endpoint_form_is_never_sent_again_to_another_host(
    status: int, exchange: str
) -> None:
    adapter = mocked_adapter("sim-sync")
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TOKEN_URL, status=status, headers={"Location": ELSEWHERE})
        with pytest.raises(EndpointUnreachable, match="another host"):
            if exchange == "code":
                adapter.exchange_code("a-code", CALLBACK)
            else:
                adapter.refresh_credential(OAuthToken.bearer("a", refresh_token="r"))
        assert [call.request.url for call in mock.calls] == [TOKEN_URL]


@pytest.mark.parametrize("operation", ["register", "deregister", "replace"])
def test_webhook_calls_never_follow_a_redirect_to_another_host(
    mocked_pusher: tuple[responses.RequestsMock, SimulatorPushAdapter], operation: str
) -> None:
    mock, adapter = mocked_pusher
    mock.add(responses.POST, PUSH_API, status=308, headers={"Location": ELSEWHERE})
    call = {
        "register": adapter.register_webhook,
        "deregister": adapter.deregister_webhook,
        "replace": adapter.replace_webhooks,
    }[operation]
    with pytest.raises(EndpointUnreachable, match="another host"):
        call(cred("sim-async"), OURS)
    assert [c.request.url for c in mock.calls] == [PUSH_API]


@pytest.mark.parametrize("when", ["seconds", "http-date"])
def test_a_throttled_token_endpoint_gives_its_retry_after(when: str) -> None:
    adapter = mocked_adapter("sim-sync")
    value = "30" if when == "seconds" else formatdate(time.time() + 30, usegmt=True)
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST,
            TOKEN_URL,
            status=429,
            headers={"Retry-After": value},
            json={"error": "slow_down"},
        )
        with pytest.raises(RateLimited) as caught:
            adapter.refresh_credential(OAuthToken.bearer("a", refresh_token="r"))
    assert caught.value.retry_after == pytest.approx(30, abs=2)


def test_every_kind_of_call_carries_the_user_agent_and_a_timeout() -> None:
    adapter = mocked_adapter("sim-optimistic")
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, f"{OPTIMISTIC}/oauth/token", json={"access_token": "at-1"})
        mock.add(
            responses.POST, f"{OPTIMISTIC}/v1/appkey", status=201, json={"application_key": "key-1"}
        )
        mock.add(responses.GET, f"{OPTIMISTIC}/v1/me", json={"user_id": "u-1"})
        adapter.identify_user(adapter.exchange_code("the-code", CALLBACK))
        assert len(mock.calls) == 3
        for call in mock.calls:
            assert call.request.headers["User-Agent"] == "bulb-skill/sim-adapter"
            assert call.request.req_kwargs["timeout"] == (2.0, 2.0)


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (
            409,
            {"error": "conflict", "message": "delete it first"},
            InternalError,
            "delete it first",
        ),
        (
            405,
            {"error": "method_not_allowed", "message": "method not allowed"},
            InternalError,
            "method not allowed",
        ),
        (
            400,
            {"error": "bad_request", "message": "brightness 300"},
            InvalidValue,
            "brightness 300",
        ),
        (404, {"error": "not_found", "message": "no device gone"}, NoSuchEndpoint, "no device"),
        (408, None, EndpointUnreachable, "408"),  # never sent by the simulator: the defaults
        (422, None, InvalidValue, "422"),
    ],
)
def test_the_simulators_bodies_name_the_error(
    mocked: tuple[responses.RequestsMock, SimulatorAdapter],
    status: int,
    body: dict[str, str] | None,
    error: type[SkillError],
    message: str,
) -> None:
    mock, adapter = mocked
    mock.add(responses.GET, STATE_URL, status=status, json=body)
    with pytest.raises(error, match=message):
        adapter.read_state(TOKEN, "color-1")


# -- webhook notifications ---------------------------------------------------------------------

PUSH = {
    "device_id": "color-1",
    "request_id": "req-1",
    "user_id": "demo-user",
    "state": {
        "on": True,
        "brightness": 42,
        "color": None,
        "color_temperature": 3000,
        "color_mode": "temperature",
        "online": True,
    },
}


@pytest.fixture
def push_adapter() -> SimulatorPushAdapter:
    return create_async(AdapterContext(vendor="sim-async", environ={"SIM_WEBHOOK_SECRET": SECRET}))


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
        (
            lambda: signed(
                json.dumps({k: v for k, v in PUSH.items() if k != "device_id"}).encode()
            ),
            400,
        ),
        (
            lambda: signed(
                json.dumps({**PUSH, "state": {**PUSH["state"], "color_temperature": 20}}).encode()
            ),
            400,
        ),
    ],
    ids=[
        "wrong-secret",
        "tampered",
        "no-signature",
        "no-timestamp",
        "stale",
        "future",
        "oversized",
        "bad-json",
        "not-an-object",
        "bad-state",
        "no-device",
        "kelvin-too-low",
    ],
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

    context = AdapterContext(
        vendor="sim-async", environ={"SIM_WEBHOOK_SECRET": "from-env"}, secrets=secrets
    )
    adapter = create_async(context)
    assert fetched == []  # not fetched until a push arrives: Discover never needs it
    adapter.parse_notification(signed(GOOD, secret="from-secrets-manager"))
    adapter.parse_notification(signed(GOOD, secret="from-secrets-manager"))
    assert fetched == ["SIM_WEBHOOK_SECRET"]


def test_the_webhook_secret_falls_back_to_the_environment_then_the_local_default() -> None:
    from_env = create_async(
        AdapterContext(vendor="sim-async", environ={"SIM_WEBHOOK_SECRET": "from-env"})
    )
    assert from_env.parse_notification(signed(GOOD, secret="from-env"))
    default = create_async(AdapterContext(vendor="sim-async", environ={}))
    assert default.parse_notification(signed(GOOD, secret="local-webhook-secret"))


# -- the linking pages' needs: names, help, OAuth connect, the account's webhook -------------


@pytest.mark.parametrize("vendor", FACTORIES)
def test_each_adapter_has_a_display_name_and_the_key_ones_say_where_the_key_is(
    sim: VendorSimulator, vendor: str
) -> None:
    adapter = adapter_for(vendor, sim)
    assert (
        adapter.display_name
        == {
            "sim-sync": "Simulated sync cloud",
            "sim-async": "Simulated async cloud",
            "sim-optimistic": "Simulated optimistic cloud",
            "sim-polling": "Simulated polling cloud",
        }[vendor]
    )
    if vendor in OAUTH:
        assert adapter.credential_help is None
        return
    credential = cred(vendor)
    for _, value in credential:  # the demo values, to try the form on one machine
        if isinstance(value, SecretStr):
            assert value.get_secret_value() in adapter.credential_help
    assert "simulator" in adapter.credential_help


@pytest.mark.parametrize("vendor", FACTORIES)
def test_the_oauth_adapters_link_and_the_push_adapter_keeps_the_accounts_webhook(
    sim: VendorSimulator, vendor: str
) -> None:
    adapter = adapter_for(vendor, sim)
    assert isinstance(adapter, OAuthLinker) == (vendor in OAUTH)
    assert isinstance(adapter, WebhookRegistrar) == (vendor == "sim-async")
    assert isinstance(adapter, SingleWebhookVendor) == (vendor == "sim-async")


CALLBACK = "https://skill.example/connect/sim/callback"


def sign_in_at(url: str, *, username: str = "demo-user", decision: str = "allow") -> dict[str, str]:
    """What a browser does at the vendor's authorize page: load it, press a button, follow the
    303 back; the callback's query parameters."""
    page = requests.get(url, timeout=5)
    assert page.status_code == 200, page.text
    fields = {
        k: html.unescape(v)
        for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action is not None
    answer = requests.post(
        urljoin(url, action.group(1)),
        timeout=5,
        allow_redirects=False,
        data={**fields, "username": username, "decision": decision},
    )
    assert answer.status_code == 303, answer.text
    location = urlsplit(answer.headers["Location"])
    assert urlunsplit(location._replace(query="")) == CALLBACK
    return dict(parse_qsl(location.query))


def test_the_authorization_url_is_the_vendors_page_for_this_deployments_client(
    sim: VendorSimulator,
) -> None:
    adapter = adapter_for("sim-sync", sim, SIM_CLIENT_ID="configured-client")
    url = urlsplit(adapter.authorization_url(CALLBACK, "state-1"))
    assert f"{url.scheme}://{url.netloc}" == sim.url and url.path == "/sim-sync/oauth/authorize"
    assert dict(parse_qsl(url.query)) == {
        "response_type": "code",
        "client_id": "configured-client",
        "redirect_uri": CALLBACK,
        "state": "state-1",
    }
    asked: list[str] = []

    def secrets(name: str) -> str:
        asked.append(name)
        return {"SIM_CLIENT_ID": "from-secrets"}[name]

    from_secrets = create_optimistic(
        AdapterContext(vendor="sim-optimistic", environ={"SIMULATOR_URL": sim.url}, secrets=secrets)
    )
    assert asked == []
    assert "client_id=from-secrets" in from_secrets.authorization_url(CALLBACK, "s")
    default = adapter_for("sim-optimistic", sim)
    assert "client_id=sim-client" in default.authorization_url(CALLBACK, "s")


@pytest.mark.parametrize("vendor", OAUTH)
def test_a_user_connects_through_the_vendors_authorize_page(
    sim: VendorSimulator, vendor: str
) -> None:
    adapter = adapter_for(vendor, sim)
    back = sign_in_at(adapter.authorization_url(CALLBACK, "state-9"), username="linker")
    assert back["state"] == "state-9"
    started = time.time()
    credential = adapter.exchange_code(back["code"], CALLBACK)
    assert isinstance(credential, OAuthToken)
    assert credential.refresh_token is not None
    assert credential.expires_at == pytest.approx(started + 3600, abs=5)
    assert (credential.application_key is not None) == (vendor == "sim-optimistic")
    assert adapter.identify_user(credential) == "linker"
    assert {d.id for d in adapter.list_devices(credential)} == {
        "color-1",
        "white-tunable-1",
        "white-1",
    }
    renewed = adapter.refresh_credential(credential)
    assert renewed.application_key == credential.application_key  # kept across renewals
    assert adapter.identify_user(renewed) == "linker"
    if vendor == "sim-optimistic":  # the vendor wants the key: without it the token is refused
        bare = credential.model_copy(update={"application_key": None})
        with pytest.raises(InvalidAuthorizationCredential, match="X-App-Key"):
            adapter.identify_user(bare)
        assert [e["kind"] for e in sim.log(vendor)][:3] == ["authorize", "authorize", "token"]
        assert sim.log(vendor, "appkey")[0]["status"] == 201


def test_a_user_who_denies_access_comes_back_without_a_code(sim: VendorSimulator) -> None:
    adapter = adapter_for("sim-sync", sim)
    back = sign_in_at(adapter.authorization_url(CALLBACK, "s"), decision="deny")
    assert back == {"error": "access_denied", "state": "s"}


@pytest.mark.parametrize("vendor", OAUTH)
def test_a_code_the_vendor_refuses_is_invalid_authorization_credential(
    sim: VendorSimulator, vendor: str
) -> None:
    adapter = adapter_for(vendor, sim)
    with pytest.raises(InvalidAuthorizationCredential, match="invalid_grant"):
        adapter.exchange_code(f"{vendor}-code-unknown", CALLBACK)
    code = sign_in_at(adapter.authorization_url(CALLBACK, "s"))["code"]
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.exchange_code(code, "https://skill.example/another/callback")
    adapter.exchange_code(code, CALLBACK)
    with pytest.raises(InvalidAuthorizationCredential, match="connect again"):
        adapter.exchange_code(code, CALLBACK)  # spent
    assert len(sim.log(vendor, "appkey")) == (1 if vendor == "sim-optimistic" else 0)


@pytest.mark.parametrize("code", ["", "has space", "line\nbreak"])
def test_an_unusable_code_is_refused_unsent(code: str) -> None:
    adapter = create_sync(AdapterContext(vendor="sim-sync", environ={"SIMULATOR_URL": BASE}))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        with pytest.raises(InvalidAuthorizationCredential):
            adapter.exchange_code(code, CALLBACK)
        assert len(mock.calls) == 0


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"status": 400, "json": {"error": "invalid_grant"}}, InvalidAuthorizationCredential),
        ({"status": 401, "json": {"error": "invalid_client"}}, InternalError),
        ({"status": 429, "headers": {"Retry-After": "3"}}, RateLimited),
        ({"status": 503}, EndpointUnreachable),
        ({"status": 200, "body": "<html>"}, EndpointUnreachable),
        ({"status": 200, "json": {"token_type": "bearer"}}, EndpointUnreachable),
        ({"body": requests.Timeout("slow")}, EndpointUnreachable),
        ({"body": requests.ConnectionError("refused")}, EndpointUnreachable),
    ],
    ids=[
        "invalid-grant",
        "invalid-client",
        "429",
        "503",
        "not-json",
        "no-access-token",
        "timeout",
        "connection-refused",
    ],
)
def test_code_exchange_failures_map_to_typed_errors(
    reply: dict[str, Any], error: type[SkillError]
) -> None:
    adapter = create_sync(AdapterContext(vendor="sim-sync", environ={"SIMULATOR_URL": BASE}))
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TOKEN_URL, **reply)
        with pytest.raises(error):
            adapter.exchange_code("a-code", CALLBACK)


def test_a_vendor_down_while_connecting_is_endpoint_unreachable() -> None:
    adapter = create_sync(
        AdapterContext(vendor="sim-sync", environ={"SIMULATOR_URL": "http://127.0.0.1:9"})
    )
    with pytest.raises(EndpointUnreachable):
        adapter.exchange_code("a-code", CALLBACK)


OPTIMISTIC = f"{BASE}/sim-optimistic"


def test_the_optimistic_exchange_sends_the_code_then_creates_the_application_key() -> None:
    adapter = create_optimistic(
        AdapterContext(vendor="sim-optimistic", environ={"SIMULATOR_URL": BASE})
    )
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST,
            f"{OPTIMISTIC}/oauth/token",
            json={"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 60},
        )
        mock.add(
            responses.POST, f"{OPTIMISTIC}/v1/appkey", status=201, json={"application_key": "key-1"}
        )
        mock.add(responses.GET, f"{OPTIMISTIC}/v1/me", json={"user_id": "u-1"})
        credential = adapter.exchange_code("the-code", CALLBACK)
        assert adapter.identify_user(credential) == "u-1"
        token, appkey, me = (call.request for call in mock.calls)
    assert dict(parse_qsl(token.body)) == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": CALLBACK,
        "client_id": "sim-client",
        "client_secret": "sim-client-secret",
    }
    assert appkey.headers["Authorization"] == "Bearer at-1" and "X-App-Key" not in appkey.headers
    assert me.headers["Authorization"] == "Bearer at-1" and me.headers["X-App-Key"] == "key-1"
    assert credential.application_key is not None
    assert credential.application_key.get_secret_value() == "key-1"


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"status": 503}, EndpointUnreachable),
        ({"status": 401, "json": {"error": "unauthorized"}}, InvalidAuthorizationCredential),
        ({"status": 201, "json": {"key": "wrong-field"}}, EndpointUnreachable),
        ({"body": requests.Timeout("slow")}, EndpointUnreachable),
    ],
    ids=["503", "401", "malformed", "timeout"],
)
def test_an_application_key_the_vendor_does_not_create_fails_the_exchange(
    reply: dict[str, Any], error: type[SkillError]
) -> None:
    adapter = create_optimistic(
        AdapterContext(vendor="sim-optimistic", environ={"SIMULATOR_URL": BASE})
    )
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, f"{OPTIMISTIC}/oauth/token", json={"access_token": "at-1"})
        mock.add(responses.POST, f"{OPTIMISTIC}/v1/appkey", **reply)
        with pytest.raises(error):
            adapter.exchange_code("the-code", CALLBACK)


OURS = "https://skill.example/webhooks/sim-async/path-secret"
THEIRS = "https://other-home-system.example/hook"


@pytest.fixture
def pusher(sim: VendorSimulator) -> SimulatorPushAdapter:
    return adapter_for("sim-async", sim)


def webhook_actions(sim: VendorSimulator) -> list[str]:
    return [entry["body"]["action"] for entry in sim.log("sim-async", "webhook")]


def test_registering_sets_our_url_once_and_again_is_a_no_op(
    sim: VendorSimulator, pusher: SimulatorPushAdapter
) -> None:
    credential = cred("sim-async")
    assert pusher.other_webhooks(credential, OURS) == []
    assert pusher.register_webhook(credential, OURS) == OURS
    assert sim.account_webhook("sim-async") == OURS
    assert pusher.register_webhook(credential, OURS) == OURS  # every Discover calls it
    assert webhook_actions(sim) == ["query", "query", "setup", "query"]
    assert pusher.other_webhooks(credential, OURS) == []


def test_registering_leaves_another_url_alone(
    sim: VendorSimulator, pusher: SimulatorPushAdapter
) -> None:
    sim.set_account_webhook("sim-async", THEIRS)
    credential = cred("sim-async")
    assert pusher.register_webhook(credential, OURS) == ""
    assert sim.account_webhook("sim-async") == THEIRS
    assert webhook_actions(sim) == ["query"]  # not even tried
    assert pusher.other_webhooks(credential, OURS) == [THEIRS]
    pusher.deregister_webhook(credential, OURS)  # a disconnect: theirs stays
    assert sim.account_webhook("sim-async") == THEIRS


def test_replacing_removes_the_other_url_and_registers_ours(
    sim: VendorSimulator, pusher: SimulatorPushAdapter
) -> None:
    sim.set_account_webhook("sim-async", THEIRS)
    credential = cred("sim-async")
    assert pusher.replace_webhooks(credential, OURS) == OURS
    assert sim.account_webhook("sim-async") == OURS
    assert webhook_actions(sim) == ["query", "delete", "setup"]
    assert pusher.replace_webhooks(credential, OURS) == OURS  # already ours: nothing to do
    assert webhook_actions(sim)[3:] == ["query"]


def test_deregistering_removes_only_ours(
    sim: VendorSimulator, pusher: SimulatorPushAdapter
) -> None:
    credential = cred("sim-async")
    pusher.deregister_webhook(credential, OURS)  # none: a no-op
    assert webhook_actions(sim) == ["query"]
    pusher.register_webhook(credential, OURS)
    pusher.deregister_webhook(credential, OURS)
    assert sim.account_webhook("sim-async") is None
    assert webhook_actions(sim)[-2:] == ["query", "delete"]


PUSH_API = f"{BASE}/sim-async/v1/webhook"


@pytest.fixture
def mocked_pusher() -> Iterator[tuple[responses.RequestsMock, SimulatorPushAdapter]]:
    adapter = create_async(AdapterContext(vendor="sim-async", environ={"SIMULATOR_URL": BASE}))
    with responses.RequestsMock() as mock:
        yield mock, adapter


def test_another_url_set_up_meanwhile_is_not_replaced(
    mocked_pusher: tuple[responses.RequestsMock, SimulatorPushAdapter],
) -> None:
    mock, adapter = mocked_pusher
    mock.add(responses.POST, PUSH_API, json={"urls": []})
    mock.add(
        responses.POST,
        PUSH_API,
        status=409,
        json={"error": "conflict", "message": "delete it first"},
    )
    assert adapter.register_webhook(cred("sim-async"), OURS) == ""


def test_a_url_already_gone_when_deleting_is_fine(
    mocked_pusher: tuple[responses.RequestsMock, SimulatorPushAdapter],
) -> None:
    mock, adapter = mocked_pusher
    mock.add(responses.POST, PUSH_API, json={"urls": [OURS]})
    mock.add(responses.POST, PUSH_API, status=404, json={"error": "not_found", "message": "gone"})
    adapter.deregister_webhook(cred("sim-async"), OURS)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"status": 503}, EndpointUnreachable),
        ({"status": 401, "json": {"message": "bad sign"}}, InvalidAuthorizationCredential),
        ({"status": 200, "json": {"urls": "not-a-list"}}, EndpointUnreachable),
        ({"body": requests.Timeout("slow")}, EndpointUnreachable),
    ],
    ids=["503", "401", "malformed", "timeout"],
)
@pytest.mark.parametrize("operation", ["register", "deregister", "other", "replace"])
def test_webhook_failures_map_to_typed_errors(
    mocked_pusher: tuple[responses.RequestsMock, SimulatorPushAdapter],
    reply: dict[str, Any],
    error: type[SkillError],
    operation: str,
) -> None:
    mock, adapter = mocked_pusher
    mock.add(responses.POST, PUSH_API, **reply)
    call = {
        "register": adapter.register_webhook,
        "deregister": adapter.deregister_webhook,
        "other": adapter.other_webhooks,
        "replace": adapter.replace_webhooks,
    }[operation]
    with pytest.raises(error):
        call(cred("sim-async"), OURS)


def test_a_registered_url_receives_the_accounts_pushes_and_they_verify(
    sim: VendorSimulator,
) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    previous, sim.webhook_url = sim.webhook_url, None
    try:
        adapter = create_async(
            AdapterContext(
                vendor="sim-async",
                environ={"SIMULATOR_URL": sim.url, "SIM_WEBHOOK_SECRET": sim.webhook_secret},
            )
        )
        url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/sim-async/secret"
        assert adapter.register_webhook(cred("sim-async"), url) == url
        reference = adapter.execute(cred("sim-async"), "color-1", Change(on=True))
        assert sim.wait_idle(3) and len(received) == 1
        headers, body = received[0]
        [notification] = adapter.parse_notification(WebhookRequest(headers=headers, body=body))
        assert isinstance(reference, Accepted) and notification.reference == reference.reference
        assert notification.user_id == "demo-user" and notification.state.on is True
    finally:
        sim.webhook_url = previous
        server.shutdown()
        server.server_close()
