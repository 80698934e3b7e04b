"""Identification, discovery, state and control against the Govee OpenAPI."""

from __future__ import annotations

import hashlib
import json

import pytest
import requests
from govee_support import (
    API_KEY,
    BASE,
    CREDENTIAL,
    DEVICE,
    DEVICE_ID,
    DEVICES,
    SKU,
    cap_state,
    context,
    control_echo,
    state,
)

from bulb_skill_govee import GoveeAdapter, create, device_id, split_device_id
from skill.bulbs import Change, Color, Features, KelvinRange
from skill.errors import EndpointUnreachable, InvalidAuthorizationCredential, NoSuchEndpoint
from skill.plugins import (
    Accepted,
    Adapter,
    ApiKey,
    CredentialKind,
    KeyAndSecret,
    OAuthToken,
    Style,
    decode_endpoint_id,
    encode_endpoint_id,
    installed_adapters,
)

CONTROL = f"{BASE}/device/control"
STATE = f"{BASE}/device/state"


def sent(api, index: int = -1) -> dict:
    """The ``index``-th POST's body (the device-list read a range needs is a GET: skipped)."""
    posts = [c for c in api.calls if c.request.method == "POST"]
    return json.loads(posts[index].request.body)


def controls(api) -> int:
    return sum(1 for c in api.calls if c.request.url.endswith("/device/control"))


def advertise(api) -> None:
    """The device list ``execute`` reads once for a range it must clamp to."""
    api.get(f"{BASE}/user/devices", json=DEVICES)


# --- plugin wiring ------------------------------------------------------------------------


def test_is_installed_under_the_adapter_entry_point_group():
    assert installed_adapters()["govee"].load() is create


def test_factory_builds_a_polling_adapter_with_a_poll_hint(adapter):
    assert isinstance(adapter, Adapter) and isinstance(adapter, GoveeAdapter)
    assert adapter.name == "govee" and adapter.style is Style.POLLING
    assert adapter.poll_interval_seconds == 6.0  # 60 s / 10 requests per device
    assert adapter.credential_kind is CredentialKind.API_KEY


def test_the_linking_pages_name_govee_and_say_where_the_key_is(adapter):
    # Govee, "Applying for an API Key" (https://govee.readme.io/reference/applying-for-an-api-key):
    # My Profile > Settings (gear icon) > Apply for API Key; Govee e-mails the key; one valid key
    # per account, so applying again deletes the previous one.
    assert adapter.display_name == "Govee"
    help_text = adapter.credential_help
    assert "Govee Home app" in help_text and "Apply for API Key" in help_text
    assert "e-mail" in help_text and "replaces" in help_text
    assert help_text.count(";") <= 1 and help_text.endswith(".")  # one sentence


def test_base_url_comes_from_the_setting(api):
    adapter = create(context({"GOVEE_BASE_URL": "http://127.0.0.1:9998/router/api/v1/"}))
    api.get("http://127.0.0.1:9998/router/api/v1/user/devices", json=DEVICES)
    assert adapter.list_devices(CREDENTIAL)


def test_every_call_sends_the_api_key_and_a_timeout(adapter, api):
    api.get(f"{BASE}/user/devices", json=DEVICES)
    adapter.list_devices(CREDENTIAL)
    call = api.calls[0]
    assert call.request.headers["Govee-API-Key"] == API_KEY
    connect, read = call.request.req_kwargs["timeout"]
    assert 0 < connect <= 2.0 and 0 < read <= 2.5


def test_the_adapter_keeps_one_session(adapter):
    assert isinstance(adapter.client.session, requests.Session)


# --- device ids -----------------------------------------------------------------------------


def test_device_ids_carry_sku_and_device_and_survive_endpoint_encoding():
    assert device_id(SKU, DEVICE) == DEVICE_ID
    assert split_device_id(DEVICE_ID) == (SKU, DEVICE)
    endpoint = encode_endpoint_id("govee", DEVICE_ID)
    assert endpoint == f"govee:{DEVICE_ID}"  # readable: '@' and ':' are Alexa-safe
    assert decode_endpoint_id(endpoint) == ("govee", DEVICE_ID)


@pytest.mark.parametrize("bad", ["", DEVICE, f"@{DEVICE}", f"{SKU}@"])
def test_an_id_without_sku_and_device_is_no_such_endpoint(adapter, bad):
    with pytest.raises(NoSuchEndpoint):
        adapter.read_state(CREDENTIAL, bad)


# --- identification -------------------------------------------------------------------------


def test_identify_user_is_a_stable_hash_of_the_key(adapter, api):
    api.get(f"{BASE}/user/devices", json=DEVICES)
    assert adapter.identify_user(CREDENTIAL) == hashlib.sha256(API_KEY.encode()).hexdigest()[:32]


def test_identify_user_with_a_rejected_key_is_invalid_authorization(adapter, api):
    api.get(f"{BASE}/user/devices", body="", status=401)
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.identify_user(CREDENTIAL)


@pytest.mark.parametrize("bad", ["  ", "", "two words"], ids=["blank", "empty", "space"])
def test_an_empty_or_malformed_key_is_refused_without_a_call(adapter, api, bad):
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.identify_user(ApiKey.of(bad))
    assert len(api.calls) == 0


def test_identify_user_contains_no_part_of_the_key(adapter, api):
    api.get(f"{BASE}/user/devices", json=DEVICES)
    user = adapter.identify_user(CREDENTIAL)
    assert all(API_KEY[i : i + 8] not in user for i in range(len(API_KEY) - 7))


# --- credentials of another kind ----------------------------------------------------------

#: What another vendor's credential looks like: OAuth (LIFX, Hue), a key and secret (SwitchBot).
FOREIGN = [
    OAuthToken.bearer("c87a9bf3d45e4e0f8ad1b5a0c2e3f417", refresh_token="r-6a1f"),
    OAuthToken.bearer("hue-access", application_key="hue-application-key"),
    KeyAndSecret.of("4d7f5c0e8a1b2c3d4e5f60718293a4b5", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
]


@pytest.mark.parametrize("foreign", FOREIGN, ids=["oauth", "oauth-app-key", "key-and-secret"])
@pytest.mark.parametrize("operation", ["identify_user", "list_devices", "read_state", "execute"])
def test_a_credential_of_another_kind_is_refused_before_any_request(
    adapter, api, foreign, operation
):
    calls = {
        "identify_user": lambda: adapter.identify_user(foreign),
        "list_devices": lambda: adapter.list_devices(foreign),
        "read_state": lambda: adapter.read_state(foreign, DEVICE_ID),
        "execute": lambda: adapter.execute(foreign, DEVICE_ID, Change(on=True)),
    }
    with pytest.raises(InvalidAuthorizationCredential) as caught:
        calls[operation]()
    assert len(api.calls) == 0  # nothing reached Govee (the strict mock would fail too)
    for secret in ("c87a9bf3", "hue-application-key", "4d7f5c0e", "0f1e2d3c"):
        assert secret not in str(caught.value)


def test_a_plain_string_key_is_refused(adapter, api):
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.list_devices(API_KEY)  # type: ignore[arg-type]
    assert len(api.calls) == 0


# --- discovery ------------------------------------------------------------------------------


def test_discovery_lists_lights_only(adapter, api):
    api.get(f"{BASE}/user/devices", json=DEVICES)
    ids = [d.id for d in adapter.list_devices(CREDENTIAL)]
    assert ids == [DEVICE_ID, "H6008@AA:BB:CC:DD:EE:FF:00:11", "H6001@11:22:33:44:55:66:77:88"]


def test_colour_light_features_and_kelvin_range_come_from_its_capabilities(adapter, api):
    api.get(f"{BASE}/user/devices", json=DEVICES)
    bar = adapter.list_devices(CREDENTIAL)[0]
    assert bar.features == Features(
        dimmable=True, color=True, color_temperature=KelvinRange(minimum=2000, maximum=9000)
    )
    assert (bar.name, bar.manufacturer, bar.model) == ("Desk bar", "Govee", SKU)


def test_white_bulb_without_colour_rgb_has_no_colour(adapter, api):
    api.get(f"{BASE}/user/devices", json=DEVICES)
    white = adapter.list_devices(CREDENTIAL)[1]
    assert not white.features.color
    assert white.features.color_temperature == KelvinRange(minimum=2700, maximum=6500)


def test_dimmer_only_light(adapter, api):
    api.get(f"{BASE}/user/devices", json=DEVICES)
    assert adapter.list_devices(CREDENTIAL)[2].features == Features(dimmable=True)


def test_a_kelvin_range_beyond_alexas_is_clipped(adapter, api):
    entry = json.loads(json.dumps(DEVICES["data"][0]))
    entry["capabilities"][-1]["parameters"]["range"] = {"min": 800, "max": 12000, "precision": 1}
    api.get(f"{BASE}/user/devices", json={**DEVICES, "data": [entry]})
    [light] = adapter.list_devices(CREDENTIAL)
    assert light.features.color_temperature == KelvinRange(minimum=1000, maximum=10000)


def test_an_entry_without_type_is_a_light_when_it_has_light_capabilities(adapter, api):
    entry = {k: v for k, v in DEVICES["data"][0].items() if k not in ("type", "deviceName")}
    api.get(f"{BASE}/user/devices", json={**DEVICES, "data": [entry]})
    [light] = adapter.list_devices(CREDENTIAL)
    assert light.name == f"Govee {SKU}" and light.features.color


def test_a_device_list_without_data_is_unreachable(adapter, api):
    api.get(f"{BASE}/user/devices", json={"code": 200, "message": "success"})
    with pytest.raises(EndpointUnreachable):
        adapter.list_devices(CREDENTIAL)


# --- state ----------------------------------------------------------------------------------


def test_read_state_in_colour_mode(adapter, api):
    api.post(
        STATE,
        json=state(
            cap_state("online", "online", True),
            cap_state("on_off", "powerSwitch", 1),
            cap_state("range", "brightness", 55),
            cap_state("color_setting", "colorRgb", 0x00FF00),
            cap_state("color_setting", "colorTemperatureK", 0),
        ),
    )
    got = adapter.read_state(CREDENTIAL, DEVICE_ID)
    assert got.on and got.brightness == 55 and got.reachable
    assert got.color == Color(hue=120, saturation=1, brightness=1)
    assert got.color_mode == "color" and got.color_temperature is None
    assert sent(api)["payload"] == {"sku": SKU, "device": DEVICE}
    assert sent(api)["requestId"]


def test_read_state_in_white_mode(adapter, api):
    api.post(
        STATE,
        json=state(
            cap_state("on_off", "powerSwitch", 1),
            cap_state("range", "brightness", 80),
            cap_state("color_setting", "colorRgb", 16777215),
            cap_state("color_setting", "colorTemperatureK", 3000),
        ),
    )
    got = adapter.read_state(CREDENTIAL, DEVICE_ID)
    assert got.color_temperature == 3000 and got.color_mode == "temperature"


def test_read_state_of_an_offline_light_as_documented(adapter, api):
    # The documented example: offline, off, brightness 5, white RGB.
    api.post(
        STATE,
        json=state(
            cap_state("online", "online", False),
            cap_state("on_off", "powerSwitch", 0),
            cap_state("range", "brightness", 5),
            cap_state("color_setting", "colorRgb", 16777215),
        ),
    )
    got = adapter.read_state(CREDENTIAL, DEVICE_ID)
    assert not got.on and got.brightness == 5 and got.reachable is False


def test_an_empty_brightness_value_keeps_the_default(adapter, api):
    api.post(
        STATE,
        json=state(cap_state("on_off", "powerSwitch", 1), cap_state("range", "brightness", "")),
    )
    assert adapter.read_state(CREDENTIAL, DEVICE_ID).brightness == 100


@pytest.mark.parametrize(
    "capabilities",
    [
        [],
        [cap_state("on_off", "powerSwitch", "on")],
        [cap_state("on_off", "powerSwitch", 1), cap_state("color_setting", "colorRgb", -1)],
    ],
    ids=["no-power", "power-not-number", "rgb-out-of-range"],
)
def test_unreadable_state_is_unreachable(adapter, api, capabilities):
    api.post(STATE, json=state(*capabilities))
    with pytest.raises(EndpointUnreachable):
        adapter.read_state(CREDENTIAL, DEVICE_ID)


def test_state_without_capabilities_is_unreachable(adapter, api):
    api.post(STATE, json={"requestId": "uuid", "msg": "success", "code": 200, "payload": {}})
    with pytest.raises(EndpointUnreachable):
        adapter.read_state(CREDENTIAL, DEVICE_ID)


# --- control --------------------------------------------------------------------------------


def capability(kind: str, instance: str, value: object) -> dict:
    return {"type": f"devices.capabilities.{kind}", "instance": instance, "value": value}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (Change(on=True), [capability("on_off", "powerSwitch", 1)]),
        (Change(on=False), [capability("on_off", "powerSwitch", 0)]),
        (Change(brightness=35), [capability("range", "brightness", 35)]),
        (Change(brightness=0), [capability("on_off", "powerSwitch", 0)]),
        (
            Change(color=Color(hue=0, saturation=1, brightness=1)),
            [capability("color_setting", "colorRgb", 0xFF0000)],
        ),
        (
            Change(color=Color(hue=240, saturation=1, brightness=1)),
            [capability("color_setting", "colorRgb", 255)],
        ),
        (Change(color_temperature=2700), [capability("color_setting", "colorTemperatureK", 2700)]),
    ],
    ids=["on", "off", "brightness", "brightness-0", "red", "blue", "temperature"],
)
def test_each_change_field_becomes_one_control_call(adapter, api, change, expected):
    if change.brightness or change.color_temperature is not None:
        advertise(api)
    api.add_callback("POST", CONTROL, callback=control_echo)
    accepted = adapter.execute(CREDENTIAL, DEVICE_ID, change)
    assert isinstance(accepted, Accepted) and accepted.reference
    bodies = [sent(api, i) for i in range(controls(api))]
    assert [b["payload"]["capability"] for b in bodies] == expected
    assert all(b["payload"]["sku"] == SKU and b["payload"]["device"] == DEVICE for b in bodies)


def test_several_attributes_go_power_then_colour_then_brightness(adapter, api):
    advertise(api)
    api.add_callback("POST", CONTROL, callback=control_echo)
    change = Change(on=True, brightness=20, color=Color(hue=0, saturation=1, brightness=1))
    accepted = adapter.execute(CREDENTIAL, DEVICE_ID, change)
    bodies = [sent(api, i) for i in range(controls(api))]
    assert [b["payload"]["capability"]["instance"] for b in bodies] == [
        "powerSwitch",
        "colorRgb",
        "brightness",
    ]
    assert [b["requestId"] for b in bodies] == [f"{accepted.reference}.{n}" for n in (1, 2, 3)]


def test_power_off_is_sent_last(adapter, api):
    advertise(api)
    api.add_callback("POST", CONTROL, callback=control_echo)
    adapter.execute(CREDENTIAL, DEVICE_ID, Change(on=False, color_temperature=3000))
    assert [sent(api, i)["payload"]["capability"]["instance"] for i in range(2)] == [
        "colorTemperatureK",
        "powerSwitch",
    ]


def test_an_empty_change_sends_nothing(adapter, api):
    assert isinstance(adapter.execute(CREDENTIAL, DEVICE_ID, Change()), Accepted)
    assert len(api.calls) == 0


def test_a_control_that_does_not_report_success_is_unreachable(adapter, api):
    api.post(
        CONTROL,
        json={
            "requestId": "r.1",
            "msg": "success",
            "code": 200,
            "capability": {
                "type": "devices.capabilities.on_off",
                "instance": "powerSwitch",
                "state": {"status": "failed"},
                "value": 1,
            },
        },
    )
    with pytest.raises(EndpointUnreachable):
        adapter.execute(CREDENTIAL, DEVICE_ID, Change(on=True))


def test_execute_stops_when_its_time_budget_is_spent(api):
    adapter = create(context({"GOVEE_BUDGET_SECONDS": "0"}))
    with pytest.raises(EndpointUnreachable):
        adapter.execute(CREDENTIAL, DEVICE_ID, Change(on=True))
    assert len(api.calls) == 0
