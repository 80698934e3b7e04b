"""The entrypoint's router with fake adapters and stores: one table of directive -> answer per
interface; every answer is checked against the official schema."""

from __future__ import annotations

import uuid

import pytest

from skill.alexa import features_to_cookie
from skill.bulbs import BulbState
from skill.errors import EndpointUnreachable
from skill.plugins import ApiKey, CredentialKind, OAuthToken, Style
from skill.ports import LwaError
from skill.records import DeviceOwner
from skill.routing import EntrypointServices, build_router
from tests.fakes import (
    COLOR,
    TOKEN,
    TUNABLE,
    USER,
    WHITE,
    FakeAdapter,
    FakeIdentity,
    FakeLwa,
    MemoryQueue,
    MemoryTokenStore,
    credentials_of,
    registry_of,
    vault_with,
)

CORRELATION = "dFMb0z+PgpgdDmluhJ1LddFvSqZ/jCc8ptlAKulUj90jSqg=="


def directive(
    namespace, name, payload=None, endpoint_id="fake:color-1", features=COLOR, token=TOKEN
):
    body = {
        "header": {
            "namespace": namespace,
            "name": name,
            "payloadVersion": "3",
            "messageId": str(uuid.uuid4()),
            "correlationToken": CORRELATION,
        },
        "payload": payload or {},
    }
    if endpoint_id is not None:
        body["endpoint"] = {
            "scope": {"type": "BearerToken", "token": token},
            "endpointId": endpoint_id,
            "cookie": features_to_cookie(features) if features else {},
        }
    return {"directive": body}


@pytest.fixture
def world():
    class World:
        adapter = FakeAdapter()
        tokens = MemoryTokenStore()
        lwa = FakeLwa()
        queue = MemoryQueue()

    w = World()
    w.vault = vault_with(w.adapter)
    w.services = services_for([w.adapter], w.vault, tokens=w.tokens, lwa=w.lwa, queue=w.queue)
    w.router = build_router(w.services)
    return w


def services_for(adapters, vault=None, **overrides):
    """Entrypoint services over fakes; ``vault`` default: the user connected every adapter."""
    vault = vault if vault is not None else vault_with(*adapters)
    fields = {
        "adapters": registry_of(*adapters),
        "identity": FakeIdentity(),
        "credentials": credentials_of(vault),
        "tokens": MemoryTokenStore(),
        "lwa": FakeLwa(),
        "queue": MemoryQueue(),
        "clock": lambda: 1000.0,
    }
    fields.update(overrides)
    return EntrypointServices(**fields)


def answer(world, event, assert_valid):
    message = world.router.answer(event)
    assert_valid(message)
    return message["event"]


CONTROL = [
    ("Alexa.PowerController", "TurnOn", {}),
    ("Alexa.PowerController", "TurnOff", {}),
    ("Alexa.BrightnessController", "SetBrightness", {"brightness": 40}),
    ("Alexa.BrightnessController", "AdjustBrightness", {"brightnessDelta": -25}),
    (
        "Alexa.ColorController",
        "SetColor",
        {"color": {"hue": 350.5, "saturation": 0.7, "brightness": 0.6}},
    ),
    ("Alexa.ColorTemperatureController", "SetColorTemperature", {"colorTemperatureInKelvin": 5000}),
    ("Alexa.ColorTemperatureController", "IncreaseColorTemperature", {}),
    ("Alexa.ColorTemperatureController", "DecreaseColorTemperature", {}),
]


@pytest.mark.parametrize(("namespace", "name", "payload"), CONTROL)
def test_a_control_directive_is_stored_then_deferred(
    world, assert_alexa_valid, namespace, name, payload
):
    event = directive(namespace, name, payload)
    reply = answer(world, event, assert_alexa_valid)
    assert reply["header"]["name"] == "DeferredResponse"
    assert reply["header"]["correlationToken"] == CORRELATION
    [(style, queued)] = world.queue.messages
    assert style is Style.SYNC
    assert queued.user_id == USER
    assert "token" not in queued.directive["endpoint"]["scope"], "the bearer token was queued"
    assert TOKEN not in queued.to_message()
    without_token = {
        **event["directive"],
        "endpoint": {**event["directive"]["endpoint"], "scope": {"type": "BearerToken"}},
    }
    assert queued.directive == without_token
    assert queued.deadline == 1008.0
    assert world.adapter.calls == []  # nothing reaches the vendor before the queue


@pytest.mark.parametrize(
    ("namespace", "name", "payload", "features", "error"),
    [
        (
            "Alexa.BrightnessController",
            "SetBrightness",
            {"brightness": "40"},
            COLOR,
            "INVALID_VALUE",
        ),
        ("Alexa.BrightnessController", "SetBrightness", {}, COLOR, "INVALID_VALUE"),
        (
            "Alexa.BrightnessController",
            "SetBrightness",
            {"brightness": 140},
            COLOR,
            "VALUE_OUT_OF_RANGE",
        ),
        (
            "Alexa.ColorTemperatureController",
            "SetColorTemperature",
            {"colorTemperatureInKelvin": 12000},
            TUNABLE,
            "VALUE_OUT_OF_RANGE",
        ),
        (
            "Alexa.ColorController",
            "SetColor",
            {"color": {"hue": 1, "saturation": 1, "brightness": 1}},
            WHITE,
            "INVALID_DIRECTIVE",
        ),
        ("Alexa.LockController", "Lock", {}, COLOR, "INVALID_DIRECTIVE"),
    ],
)
def test_a_bad_control_directive_is_answered_at_once_and_never_queued(
    world, assert_alexa_valid, namespace, name, payload, features, error
):
    reply = answer(
        world, directive(namespace, name, payload, features=features), assert_alexa_valid
    )
    assert reply["header"]["name"] == "ErrorResponse"
    assert reply["payload"]["type"] == error
    assert world.queue.messages == []


def test_out_of_range_carries_alexas_colour_temperature_range(world, assert_alexa_valid):
    """Only a value outside Alexa's own 1000-10000 K is out of range; one the bulb cannot show
    is set to the nearest it can (tests/unit/test_interface_rules.py)."""
    event = directive(
        "Alexa.ColorTemperatureController",
        "SetColorTemperature",
        {"colorTemperatureInKelvin": 10500},
        features=TUNABLE,
    )
    reply = answer(world, event, assert_alexa_valid)
    assert reply["payload"]["validRange"] == {"minimumValue": 1000, "maximumValue": 10000}


def test_a_colour_temperature_the_bulb_cannot_show_is_deferred_not_refused(
    world, assert_alexa_valid
):
    event = directive(
        "Alexa.ColorTemperatureController",
        "SetColorTemperature",
        {"colorTemperatureInKelvin": 2200},
        features=TUNABLE,
    )
    assert answer(world, event, assert_alexa_valid)["header"]["name"] == "DeferredResponse"
    assert len(world.queue.messages) == 1


def test_payload_version_other_than_3_is_invalid_directive(world, assert_alexa_valid):
    event = directive("Alexa.PowerController", "TurnOn")
    event["directive"]["header"]["payloadVersion"] = "2"
    assert answer(world, event, assert_alexa_valid)["payload"]["type"] == "INVALID_DIRECTIVE"


def test_an_unknown_vendor_prefix_is_no_such_endpoint(world, assert_alexa_valid):
    reply = answer(
        world,
        directive("Alexa.PowerController", "TurnOn", endpoint_id="other:1"),
        assert_alexa_valid,
    )
    assert reply["payload"]["type"] == "NO_SUCH_ENDPOINT"
    assert reply["endpoint"]["endpointId"] == "other:1"


def test_a_queue_write_failure_is_internal_error_not_a_deferred_response(world, assert_alexa_valid):
    world.queue.failure = ConnectionError("sqs down")
    reply = answer(world, directive("Alexa.PowerController", "TurnOn"), assert_alexa_valid)
    assert reply["header"]["name"] == "ErrorResponse"
    assert reply["payload"]["type"] == "INTERNAL_ERROR"


@pytest.mark.parametrize(
    "event", [None, [], "x", 42, {}, {"directive": None}, {"directive": {"header": {}}}]
)
def test_garbage_is_invalid_directive(world, assert_alexa_valid, event):
    assert answer(world, event, assert_alexa_valid)["payload"]["type"] == "INVALID_DIRECTIVE"


def test_discover_lists_each_bulb_with_its_capabilities(world, assert_alexa_valid):
    reply = answer(
        world,
        {
            "directive": {
                "header": {
                    "namespace": "Alexa.Discovery",
                    "name": "Discover",
                    "payloadVersion": "3",
                    "messageId": "m-1",
                },
                "payload": {"scope": {"type": "BearerToken", "token": TOKEN}},
            }
        },
        assert_alexa_valid,
    )
    endpoints = {e["endpointId"]: e for e in reply["payload"]["endpoints"]}
    assert set(endpoints) == {"fake:color-1", "fake:tunable-1", "fake:white-1"}
    interfaces = {k: {c["interface"] for c in e["capabilities"]} for k, e in endpoints.items()}
    assert "Alexa.ColorController" in interfaces["fake:color-1"]
    assert "Alexa.ColorController" not in interfaces["fake:white-1"]
    assert "Alexa.ColorTemperatureController" not in interfaces["fake:white-1"]
    assert "Alexa.ColorTemperatureController" in interfaces["fake:tunable-1"]
    assert all("Alexa.EndpointHealth" in i for i in interfaces.values())
    for endpoint in endpoints.values():
        for capability in endpoint["capabilities"]:
            if capability["interface"] != "Alexa":
                assert capability["properties"]["proactivelyReported"] is True
                assert capability["properties"]["retrievable"] is True


def test_discover_with_a_rejected_token_is_invalid_authorization_credential(
    world, assert_alexa_valid
):
    event = {
        "directive": {
            "header": {
                "namespace": "Alexa.Discovery",
                "name": "Discover",
                "payloadVersion": "3",
                "messageId": "m-1",
            },
            "payload": {"scope": {"type": "BearerToken", "token": "nope"}},
        }
    }
    assert (
        answer(world, event, assert_alexa_valid)["payload"]["type"]
        == "INVALID_AUTHORIZATION_CREDENTIAL"
    )
    assert world.adapter.calls == [], "a vendor was asked about a token that identifies nobody"


def test_report_state_reports_every_property_and_health(world, assert_alexa_valid):
    message = world.router.answer(directive("Alexa", "ReportState"))
    assert_alexa_valid(message)
    assert message["event"]["header"]["name"] == "StateReport"
    names = {(p["namespace"], p["name"]) for p in message["context"]["properties"]}
    assert names == {
        ("Alexa.PowerController", "powerState"),
        ("Alexa.BrightnessController", "brightness"),
        ("Alexa.ColorController", "color"),
        ("Alexa.ColorTemperatureController", "colorTemperatureInKelvin"),
        ("Alexa.EndpointHealth", "connectivity"),
    }


def test_report_state_without_cookie_asks_the_vendor_for_features(world, assert_alexa_valid):
    message = world.router.answer(
        directive("Alexa", "ReportState", endpoint_id="fake:white-1", features=None)
    )
    assert_alexa_valid(message)
    names = {p["name"] for p in message["context"]["properties"]}
    assert "color" not in names and "brightness" in names


def test_report_state_when_the_vendor_is_down_is_endpoint_unreachable(world, assert_alexa_valid):
    world.adapter.failure = EndpointUnreachable("down")
    reply = answer(world, directive("Alexa", "ReportState"), assert_alexa_valid)
    assert reply["payload"]["type"] == "ENDPOINT_UNREACHABLE"


def accept_grant(code="code-1", token=TOKEN):
    return {
        "directive": {
            "header": {
                "namespace": "Alexa.Authorization",
                "name": "AcceptGrant",
                "payloadVersion": "3",
                "messageId": "m-2",
            },
            "payload": {
                "grant": {"type": "OAuth2.AuthorizationCode", "code": code},
                "grantee": {"type": "BearerToken", "token": token},
            },
        }
    }


def test_accept_grant_exchanges_the_code_and_stores_tokens(world, assert_alexa_valid):
    reply = answer(world, accept_grant(), assert_alexa_valid)
    assert (reply["header"]["namespace"], reply["header"]["name"]) == (
        "Alexa.Authorization",
        "AcceptGrant.Response",
    )
    assert world.lwa.exchanged == ["code-1"]
    record = world.tokens.records["user-1"]
    assert (
        record.access_token == "at-code-1" and record.grant_code is None and record.region == "NA"
    )


@pytest.mark.parametrize(
    ("failure", "kept"),
    [
        (LwaError("invalid_grant", invalid_grant=True), False),
        (LwaError("timeout", transient=True), True),
    ],
)
def test_accept_grant_fails_in_the_authorization_namespace_when_lwa_fails(
    world, assert_alexa_valid, failure, kept
):
    world.lwa.failure = failure
    reply = answer(world, accept_grant(), assert_alexa_valid)
    assert reply["header"]["namespace"] == "Alexa.Authorization"
    assert reply["payload"]["type"] == "ACCEPT_GRANT_FAILED"
    assert ("user-1" in world.tokens.records) is kept


def test_accept_grant_with_a_token_that_identifies_nobody_fails(world, assert_alexa_valid):
    reply = answer(world, accept_grant(token="stranger"), assert_alexa_valid)
    assert reply["payload"]["type"] == "ACCEPT_GRANT_FAILED"
    assert world.lwa.exchanged == []


def test_accept_grant_identifies_the_user_from_the_token_alone(world, assert_alexa_valid):
    answer(world, accept_grant(), assert_alexa_valid)
    assert world.adapter.calls == [], "AcceptGrant called a vendor"


def test_accept_grant_ends_the_grace_period_of_a_returning_user(world, assert_alexa_valid):
    world.vault.expire_user(USER, 5000.0)
    answer(world, accept_grant(), assert_alexa_valid)
    assert all(item.grace_until is None for item in world.vault.items.values())


def test_accept_grant_when_the_store_fails_is_accept_grant_failed(world, assert_alexa_valid):
    world.tokens.failure = ConnectionError("dynamodb down")
    assert (
        answer(world, accept_grant(), assert_alexa_valid)["payload"]["type"]
        == "ACCEPT_GRANT_FAILED"
    )


def test_a_failed_re_link_keeps_the_tokens_the_user_had(world, assert_alexa_valid):
    answer(world, accept_grant("code-1"), assert_alexa_valid)
    world.lwa.failure = LwaError("invalid_grant", invalid_grant=True)
    reply = answer(world, accept_grant("code-2"), assert_alexa_valid)
    assert reply["payload"]["type"] == "ACCEPT_GRANT_FAILED"
    record = world.tokens.records["user-1"]
    assert record.access_token == "at-code-1" and record.grant_code is None


# -- webhook registration at Discover (adapters that implement WebhookRegistrar) ----------------

DISCOVER = {
    "directive": {
        "header": {
            "namespace": "Alexa.Discovery",
            "name": "Discover",
            "payloadVersion": "3",
            "messageId": "m-1",
        },
        "payload": {"scope": {"type": "BearerToken", "token": TOKEN}},
    }
}


class RegisteringAdapter(FakeAdapter):
    """A push vendor that must be told, per account, where to push (as SwitchBot)."""

    registered: list[tuple[object, str]]
    refuse: Exception | None = None

    def register_webhook(self, credential, base_url: str) -> str:
        if self.refuse is not None:
            raise self.refuse
        self.registered.append((credential, base_url))
        return base_url

    def deregister_webhook(self, credential, base_url: str) -> None:
        self.registered.remove((credential, base_url))


def router_with(adapters, webhook_url_for, vault=None):
    return build_router(services_for(adapters, vault, webhook_url_for=webhook_url_for))


def urls(vendor: str) -> str:
    return f"https://hooks.example/webhooks/{vendor}/s3cret"


def test_discover_registers_the_webhook_of_each_account_a_push_vendor_lists(assert_alexa_valid):
    pusher = RegisteringAdapter(name="pusher", style=Style.ASYNC)
    pusher.registered = []
    other = RegisteringAdapter(name="other", credential=OAuthToken.bearer("other-credential"))
    other.registered = []
    vault = vault_with(pusher, FakeAdapter(name="plain"))  # the user did not connect "other"
    reply = router_with([pusher, other, FakeAdapter(name="plain")], urls, vault).answer(DISCOVER)

    assert_alexa_valid(reply)
    assert len(reply["event"]["payload"]["endpoints"]) == 6  # pusher's and plain's bulbs
    assert pusher.registered == [
        (pusher.credential, "https://hooks.example/webhooks/pusher/s3cret")
    ]
    assert other.registered == [] and other.calls == [], (
        "a vendor the user never connected was asked"
    )


@pytest.mark.parametrize(
    "refusal", [EndpointUnreachable("vendor down"), KeyError("WEBHOOK_PATH_SECRET")]
)
def test_a_failed_webhook_registration_does_not_fail_the_discovery(
    assert_alexa_valid, caplog, refusal
):
    pusher = RegisteringAdapter(name="pusher", style=Style.ASYNC)
    pusher.registered, pusher.refuse = [], refusal
    reply = router_with([pusher], urls).answer(DISCOVER)

    assert_alexa_valid(reply)
    assert len(reply["event"]["payload"]["endpoints"]) == 3
    assert "webhook not registered" in caplog.text and "s3cret" not in caplog.text


def test_without_a_webhook_api_nothing_is_registered(assert_alexa_valid):
    pusher = RegisteringAdapter(name="pusher", style=Style.ASYNC)
    pusher.registered = []
    assert_alexa_valid(router_with([pusher], None).answer(DISCOVER))
    assert pusher.registered == []


def test_the_entrypoint_builds_webhook_urls_from_its_environment(monkeypatch):
    from skill.composition import webhook_urls

    monkeypatch.setenv("LOCAL_SECRETS_FROM_ENV", "1")
    monkeypatch.setenv("WEBHOOK_PATH_SECRET", "Xy12")
    url_for = webhook_urls("https://abc.execute-api.us-east-1.amazonaws.com/webhooks/")
    assert (
        url_for("switchbot")
        == "https://abc.execute-api.us-east-1.amazonaws.com/webhooks/switchbot/Xy12"
    )
    assert webhook_urls("") is None


# -- owners recorded at Discover -----------------------------------------------------------------


def test_discover_records_who_owns_each_bulb_and_keeps_known_ones(assert_alexa_valid):
    from tests.fakes import MemoryStateStore

    adapter, owners = FakeAdapter(), MemoryStateStore()
    known = DeviceOwner(
        endpoint_id="fake:white-1",
        user_id="user-1",
        vendor="fake",
        features=WHITE,
        state=BulbState(on=True, brightness=30),
    )
    owners.put_owner(known)
    assert_alexa_valid(build_router(services_for([adapter], owners=owners)).answer(DISCOVER))

    recorded = {o.endpoint_id: o for o in owners.owners()}
    assert set(recorded) == {"fake:color-1", "fake:tunable-1", "fake:white-1"}
    assert recorded["fake:white-1"] is known, "a known bulb's record (and last state) was replaced"
    new = recorded["fake:color-1"]
    assert (new.user_id, new.vendor, new.features, new.state, new.account_id) == (
        USER,
        "fake",
        COLOR,
        None,
        "fake-account-1",
    )
    # and the account is scheduled for the sweep: each minute at first, its three bulbs known
    swept, slot = owners.accounts[("fake", USER)]
    assert (swept.cadence, swept.devices) == (1, 3) and slot is not None


def test_discover_answers_even_when_the_owners_cannot_be_recorded(assert_alexa_valid, caplog):
    class BrokenStore:
        def add_owners(self, owners):
            raise RuntimeError("DynamoDB is down")

    reply = build_router(services_for([FakeAdapter()], owners=BrokenStore())).answer(DISCOVER)
    assert_alexa_valid(reply)
    assert len(reply["event"]["payload"]["endpoints"]) == 3
    assert "bulb owners not recorded (RuntimeError)" in caplog.text


# -- accounts: the skill's own users, each credential to its own vendor (issue 11) --------------


@pytest.mark.parametrize("token", [None, "", "forged", "expired-token"])
def test_a_token_that_identifies_nobody_is_refused_at_once_and_nothing_is_queued(
    world, assert_alexa_valid, token
):
    event = directive("Alexa.PowerController", "TurnOn", token=token)
    if token is None:
        del event["directive"]["endpoint"]["scope"]["token"]
    reply = answer(world, event, assert_alexa_valid)
    assert reply["payload"]["type"] == "INVALID_AUTHORIZATION_CREDENTIAL"
    assert world.queue.messages == [] and world.adapter.calls == []


def test_report_state_with_a_token_that_identifies_nobody_is_refused(world, assert_alexa_valid):
    reply = answer(world, directive("Alexa", "ReportState", token="forged"), assert_alexa_valid)
    assert reply["payload"]["type"] == "INVALID_AUTHORIZATION_CREDENTIAL"
    assert world.adapter.calls == []


def test_a_user_with_no_connected_vendor_discovers_no_endpoints(assert_alexa_valid):
    from tests.fakes import MemoryVault

    adapter = FakeAdapter()
    reply = build_router(services_for([adapter], MemoryVault())).answer(DISCOVER)
    assert_alexa_valid(reply)
    assert reply["event"]["payload"]["endpoints"] == []
    assert adapter.calls == []


def test_discover_hands_each_vendor_only_its_own_credential(assert_alexa_valid):
    lifx = FakeAdapter(name="lifx", credential=OAuthToken.bearer("lifx-credential"))
    govee = FakeAdapter(name="govee", credential=OAuthToken.bearer("govee-credential"))
    seen: list[tuple[str, object]] = []
    for adapter in (lifx, govee):
        original = adapter.list_devices
        adapter.list_devices = lambda credential, a=adapter, f=original: (
            seen.append((a.name, credential)),
            f(credential),
        )[1]
    reply = build_router(services_for([lifx, govee])).answer(DISCOVER)
    assert_alexa_valid(reply)
    assert len(reply["event"]["payload"]["endpoints"]) == 6
    assert sorted(seen, key=lambda s: s[0]) == [
        ("govee", govee.credential),
        ("lifx", lifx.credential),
    ]


@pytest.mark.parametrize("name", ["TurnOn", "ReportState"])
def test_a_vendor_the_user_has_not_connected_is_no_such_endpoint(assert_alexa_valid, name):
    from tests.fakes import MemoryVault

    adapter, queue = FakeAdapter(), MemoryQueue()
    namespace = "Alexa" if name == "ReportState" else "Alexa.PowerController"
    reply = build_router(services_for([adapter], MemoryVault(), queue=queue)).answer(
        directive(namespace, name)
    )
    assert_alexa_valid(reply)
    assert reply["event"]["payload"]["type"] == "NO_SUCH_ENDPOINT"
    assert queue.messages == [] and adapter.calls == []


@pytest.mark.parametrize(
    ("namespace", "name"),
    [
        ("Alexa.PowerController", "TurnOn"),
        ("Alexa", "ReportState"),
        ("Alexa.Discovery", "Discover"),
    ],
)
def test_a_vault_read_failure_is_internal_error(world, assert_alexa_valid, namespace, name):
    world.vault.failure = ConnectionError("dynamodb down")
    event = DISCOVER if name == "Discover" else directive(namespace, name)
    reply = answer(world, event, assert_alexa_valid)
    assert reply["payload"]["type"] == "INTERNAL_ERROR"
    assert world.queue.messages == [] and world.adapter.calls == []


def test_a_stored_credential_of_another_kind_is_never_handed_to_the_adapter(
    world, assert_alexa_valid
):
    world.vault.connect(USER, "fake", ApiKey.of("a-key-for-another-shape"))
    reply = answer(world, directive("Alexa", "ReportState"), assert_alexa_valid)
    assert reply["payload"]["type"] == "INVALID_AUTHORIZATION_CREDENTIAL"
    assert world.adapter.calls == []


def test_vendor_linking_keeps_the_relayed_token_in_the_vault_not_on_the_queue(assert_alexa_valid):
    from skill.identity import VendorIdentity
    from tests.fakes import MemoryVault

    adapter, vault, queue = (
        FakeAdapter(credential=OAuthToken.bearer(TOKEN)),
        MemoryVault(),
        MemoryQueue(),
    )
    services = services_for(
        [adapter], vault, identity=VendorIdentity(adapter), queue=queue, linking_vendor="fake"
    )
    reply = build_router(services).answer(directive("Alexa.PowerController", "TurnOn"))
    assert_alexa_valid(reply)
    assert reply["event"]["header"]["name"] == "DeferredResponse"
    [(_, queued)] = queue.messages
    assert queued.user_id == "fake-account-1" and TOKEN not in queued.to_message()
    stored = vault.items[("fake-account-1", "fake")]
    assert (
        stored.credential == OAuthToken.bearer(TOKEN)
        and stored.credential.kind == CredentialKind.OAUTH
    )
