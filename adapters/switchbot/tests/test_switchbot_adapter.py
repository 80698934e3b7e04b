"""Identification, discovery, state, commands and error mapping against SwitchBot API v1.1.

Payloads are shaped as the SwitchBot docs show them (README v1.1 and devices/lighting/*.md).
"""

from __future__ import annotations

import hashlib
import json

import pytest
import requests
from responses import matchers
from switchbot_support import BASE, BULB, CREDENTIAL, OPEN_TOKEN, SECRET_KEY, context, ok

from bulb_skill_switchbot import SwitchBotAdapter, create
from skill.bulbs import Change, Color, Features, KelvinRange
from skill.errors import (
    BridgeUnreachable,
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidDirective,
    NoSuchEndpoint,
    RateLimited,
)
from skill.plugins import (
    Accepted,
    Adapter,
    ApiKey,
    CredentialKind,
    KeyAndSecret,
    OAuthToken,
    PushAdapter,
    Style,
    installed_adapters,
)

COMMANDS = f"{BASE}/devices/{BULB}/commands"
STATUS = f"{BASE}/devices/{BULB}/status"

DEVICE_LIST = ok(
    {
        "deviceList": [
            {
                "deviceId": BULB,
                "deviceName": "Desk bulb",
                "deviceType": "Color Bulb",
                "enableCloudService": True,
                "hubDeviceId": "000000000000",
            },
            {
                "deviceId": "C0FFEE000001",
                "deviceName": "Shelf strip",
                "deviceType": "Strip Light",
                "enableCloudService": True,
                "hubDeviceId": "000000000000",
            },
            {
                "deviceId": "C0FFEE000002",
                "deviceName": "Living ceiling",
                "deviceType": "Ceiling Light",
                "enableCloudService": True,
                "hubDeviceId": "000000000000",
            },
            {
                "deviceId": "C0FFEE000003",
                "deviceName": "Candle",
                "deviceType": "Candle Warmer Lamp",
                "enableCloudService": True,
                "hubDeviceId": "000000000000",
            },
            {
                "deviceId": "C0FFEE000004",
                "deviceName": "Old bulb, cloud off",
                "deviceType": "Color Bulb",
                "enableCloudService": False,
                "hubDeviceId": "000000000000",
            },
            {
                "deviceId": "500291B269BE",
                "deviceName": "Living Room Humidifier",
                "deviceType": "Humidifier",
                "enableCloudService": True,
                "hubDeviceId": "000000000000",
            },
            {
                "deviceId": "D82812821F08",
                "deviceName": "Hub 2 08",
                "deviceType": "Hub 2",
                "enableCloudService": True,
                "hubDeviceId": "",
            },
        ],
        "infraredRemoteList": [
            {
                "deviceId": "02-202008110034-13",
                "deviceName": "Living Room TV",
                "remoteType": "TV",
                "hubDeviceId": "FA7310762361",
            },
            {
                "deviceId": "02-202008110034-14",
                "deviceName": "IR lamp",
                "remoteType": "Light",
                "hubDeviceId": "FA7310762361",
            },
        ],
    }
)

BULB_STATUS = ok(
    {
        "deviceId": BULB,
        "deviceType": "Color Bulb",
        "hubDeviceId": "000000000000",
        "power": "on",
        "brightness": 40,
        "version": "V3.1-6.3",
        "color": "255:0:0",
        "colorTemperature": 4000,
    }
)

UNAUTHORIZED = {"message": "Unauthorized"}


def failure(code: int, message: str) -> dict:
    return {"statusCode": code, "body": {}, "message": message}


def sent(api, index: int = -1) -> dict:
    return json.loads(api.calls[index].request.body)


# --- plugin wiring ------------------------------------------------------------------------


def test_is_installed_under_the_adapter_entry_point_group():
    entry_point = installed_adapters()["switchbot"]
    assert entry_point.load() is create


def test_factory_builds_an_async_push_adapter(adapter):
    assert isinstance(adapter, Adapter) and isinstance(adapter, PushAdapter)
    assert adapter.name == "switchbot" and adapter.style is Style.ASYNC
    assert adapter.credential_kind is CredentialKind.KEY_AND_SECRET


def test_base_url_comes_from_the_setting(api):
    adapter = create(context({"SWITCHBOT_BASE_URL": "http://127.0.0.1:9999/v1.1/"}))
    api.get("http://127.0.0.1:9999/v1.1/devices", json=DEVICE_LIST)
    assert adapter.identify_user(CREDENTIAL)


def test_every_call_has_a_timeout_inside_alexas_deadline(adapter, api):
    api.get(f"{BASE}/devices", json=DEVICE_LIST)
    adapter.list_devices(CREDENTIAL)
    connect, read = api.calls[0].request.req_kwargs["timeout"]
    assert 0 < connect <= 2.0 and 0 < read <= 2.5


# --- identification -------------------------------------------------------------------------


def test_identify_user_is_a_stable_hash_of_the_open_token(adapter, api):
    api.get(f"{BASE}/devices", json=DEVICE_LIST)
    api.get(f"{BASE}/devices", json=DEVICE_LIST)
    first, second = adapter.identify_user(CREDENTIAL), adapter.identify_user(CREDENTIAL)
    assert first == second == hashlib.sha256(OPEN_TOKEN.encode()).hexdigest()[:32]


def test_identify_user_contains_no_part_of_the_credential(adapter, api):
    api.get(f"{BASE}/devices", json=DEVICE_LIST)
    user = adapter.identify_user(CREDENTIAL)
    for part in (OPEN_TOKEN, SECRET_KEY):
        assert all(part[i : i + 8] not in user for i in range(len(part) - 7))


def test_identify_user_with_a_rejected_token_is_invalid_authorization(adapter, api):
    api.get(f"{BASE}/devices", json=UNAUTHORIZED, status=401)
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.identify_user(CREDENTIAL)


# --- credentials of another kind ----------------------------------------------------------

#: What another vendor's credential looks like: an OAuth token (LIFX, Hue), an API key (Govee).
FOREIGN = [
    OAuthToken.bearer("c87a9bf3d45e4e0f8ad1b5a0c2e3f417", refresh_token="r-6a1f"),
    OAuthToken.bearer("hue-access", application_key="hue-application-key"),
    ApiKey.of("3c0e0d6f-8f4b-4a3e-9b9e-2f1d7c6a5b4e"),
]


def _operations(adapter):
    return {
        "identify_user": lambda c: adapter.identify_user(c),
        "list_devices": lambda c: adapter.list_devices(c),
        "read_state": lambda c: adapter.read_state(c, BULB),
        "execute": lambda c: adapter.execute(c, BULB, Change(on=True)),
        "register_webhook": lambda c: adapter.register_webhook(c, "https://hooks.example.com/x"),
        "deregister_webhook": lambda c: adapter.deregister_webhook(
            c, "https://hooks.example.com/x"
        ),
    }


@pytest.mark.parametrize("foreign", FOREIGN, ids=["oauth", "oauth-app-key", "api-key"])
@pytest.mark.parametrize(
    "operation",
    [
        "identify_user",
        "list_devices",
        "read_state",
        "execute",
        "register_webhook",
        "deregister_webhook",
    ],
)
def test_a_credential_of_another_kind_is_refused_before_any_request(
    adapter, api, foreign, operation
):
    with pytest.raises(InvalidAuthorizationCredential) as caught:
        _operations(adapter)[operation](foreign)
    assert len(api.calls) == 0  # nothing reached SwitchBot (the strict mock would fail too)
    for secret in ("c87a9bf3d45e4e0f8ad1b5a0c2e3f417", "hue-application-key", "3c0e0d6f"):
        assert secret not in str(caught.value)


@pytest.mark.parametrize(
    "credential",
    [
        KeyAndSecret.of(OPEN_TOKEN, "with space"),
        KeyAndSecret.of("", SECRET_KEY),
        KeyAndSecret.of(OPEN_TOKEN, ""),
    ],
    ids=["whitespace", "no-token", "no-secret"],
)
def test_a_malformed_key_and_secret_is_refused_before_any_request(adapter, api, credential):
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.list_devices(credential)
    assert len(api.calls) == 0


def test_a_plain_string_token_is_refused(adapter, api):
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.list_devices(f"{OPEN_TOKEN}:{SECRET_KEY}")  # type: ignore[arg-type]
    assert len(api.calls) == 0


# --- discovery ------------------------------------------------------------------------------


def test_discovery_lists_only_cloud_enabled_lights_with_their_features(adapter, api):
    api.get(f"{BASE}/devices", json=DEVICE_LIST)
    devices = {d.id: d for d in adapter.list_devices(CREDENTIAL)}
    assert set(devices) == {BULB, "C0FFEE000001", "C0FFEE000002", "C0FFEE000003"}
    kelvin = KelvinRange(minimum=2700, maximum=6500)
    assert devices[BULB].features == Features(dimmable=True, color=True, color_temperature=kelvin)
    assert devices[BULB].name == "Desk bulb"
    assert devices[BULB].manufacturer == "SwitchBot" and devices[BULB].model == "Color Bulb"


def test_strip_light_has_colour_but_no_white_spectrum(adapter, api):
    api.get(f"{BASE}/devices", json=DEVICE_LIST)
    strip = {d.id: d for d in adapter.list_devices(CREDENTIAL)}["C0FFEE000001"]
    assert strip.features.color and strip.features.color_temperature is None


def test_white_ceiling_light_has_no_colour_and_the_documented_kelvin_range(adapter, api):
    api.get(f"{BASE}/devices", json=DEVICE_LIST)
    ceiling = {d.id: d for d in adapter.list_devices(CREDENTIAL)}["C0FFEE000002"]
    assert not ceiling.features.color
    assert ceiling.features.color_temperature == KelvinRange(minimum=2700, maximum=6500)


def test_candle_lamp_is_only_dimmable(adapter, api):
    api.get(f"{BASE}/devices", json=DEVICE_LIST)
    candle = {d.id: d for d in adapter.list_devices(CREDENTIAL)}["C0FFEE000003"]
    assert candle.features == Features(dimmable=True)


def test_discovery_system_error_is_unreachable(adapter, api):
    api.get(f"{BASE}/devices", json=failure(190, "System error"))
    with pytest.raises(EndpointUnreachable):
        adapter.list_devices(CREDENTIAL)


# --- state ----------------------------------------------------------------------------------


def test_read_state_of_a_colour_bulb(adapter, api):
    api.get(STATUS, json=BULB_STATUS)
    state = adapter.read_state(CREDENTIAL, BULB)
    assert state.on and state.brightness == 40 and state.reachable
    assert state.color == Color(hue=0, saturation=1, brightness=1)
    assert state.color_temperature == 4000 and state.color_mode == "color"


def test_read_state_of_an_offline_ceiling_light_is_unreachable_but_readable(adapter, api):
    api.get(
        STATUS,
        json=ok(
            {
                "deviceId": BULB,
                "deviceType": "Ceiling Light",
                "hubDeviceId": "000000000000",
                "power": "off",
                "version": "V3.1-6.3",
                "brightness": 70,
                "colorTemperature": 2700,
                "onlineStatus": "offline",
            }
        ),
    )
    state = adapter.read_state(CREDENTIAL, BULB)
    assert not state.on and state.brightness == 70 and state.color is None
    assert state.color_temperature == 2700 and state.color_mode == "temperature"
    assert state.reachable is False


def test_white_colour_on_a_bulb_reads_as_temperature_mode(adapter, api):
    body = {**BULB_STATUS["body"], "color": "255:255:255", "colorTemperature": 2700}
    api.get(STATUS, json=ok(body))
    state = adapter.read_state(CREDENTIAL, BULB)
    assert state.color_mode == "temperature" and state.color_temperature == 2700


def test_read_state_of_a_device_that_is_not_a_light_is_no_such_endpoint(adapter, api):
    api.get(
        STATUS,
        json=ok(
            {
                "deviceId": BULB,
                "deviceType": "Meter",
                "hubDeviceId": "X",
                "temperature": 21.5,
                "humidity": 40,
                "battery": 100,
                "version": "V4.2",
            }
        ),
    )
    with pytest.raises(NoSuchEndpoint):
        adapter.read_state(CREDENTIAL, BULB)


def test_read_state_with_an_unreadable_colour_is_unreachable(adapter, api):
    api.get(STATUS, json=ok({**BULB_STATUS["body"], "color": "red"}))
    with pytest.raises(EndpointUnreachable):
        adapter.read_state(CREDENTIAL, BULB)


# --- commands -------------------------------------------------------------------------------


def command(name: str, parameter: str = "default") -> dict:
    return {"command": name, "parameter": parameter, "commandType": "command"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (Change(on=True), [command("turnOn")]),
        (Change(on=False), [command("turnOff")]),
        (Change(brightness=35), [command("setBrightness", "35")]),
        (
            Change(color=Color(hue=120, saturation=1, brightness=1)),
            [command("setColor", "0:255:0")],
        ),
        (
            Change(color=Color(hue=240, saturation=0.5, brightness=1)),
            [command("setColor", "128:128:255")],
        ),
        (Change(color_temperature=3000), [command("setColorTemperature", "3000")]),
        (Change(brightness=0), [command("turnOff")]),
    ],
    ids=["on", "off", "brightness", "colour", "pastel", "temperature", "brightness-0"],
)
def test_each_change_field_becomes_its_documented_command(adapter, api, change, expected):
    if change.color is not None:  # a colour needs the model (its setColor byte order)
        api.get(STATUS, json=BULB_STATUS)
    for _ in expected:
        api.post(COMMANDS, json=ok())
    assert adapter.execute(CREDENTIAL, BULB, change) == Accepted(reference=None)
    commands = [json.loads(c.request.body) for c in api.calls if c.request.method == "POST"]
    assert commands == expected


def test_several_attributes_are_sent_on_first_then_colour_then_brightness(adapter, api):
    api.get(STATUS, json=BULB_STATUS)
    for _ in range(3):
        api.post(COMMANDS, json=ok())
    change = Change(on=True, brightness=25, color=Color(hue=0, saturation=1, brightness=1))
    adapter.execute(CREDENTIAL, BULB, change)
    assert [sent(api, i)["command"] for i in range(1, 4)] == [
        "turnOn",
        "setColor",
        "setBrightness",
    ]


def test_turning_off_comes_after_the_attributes(adapter, api):
    api.post(COMMANDS, json=ok())
    api.post(COMMANDS, json=ok())
    adapter.execute(CREDENTIAL, BULB, Change(on=False, color_temperature=2700))
    assert [sent(api, i)["command"] for i in range(2)] == ["setColorTemperature", "turnOff"]


def test_an_empty_change_sends_nothing(adapter, api):
    assert adapter.execute(CREDENTIAL, BULB, Change()) == Accepted()
    assert len(api.calls) == 0


def test_a_command_id_in_the_answer_becomes_the_reference(adapter, api):
    api.post(COMMANDS, json=ok({"commandId": "CMD166444044923602"}))
    assert adapter.execute(CREDENTIAL, BULB, Change(on=True)).reference == "CMD166444044923602"


def test_commands_are_signed_json_posts(adapter, api):
    api.post(
        COMMANDS,
        json=ok(),
        match=[matchers.header_matcher({"Authorization": OPEN_TOKEN}, strict_match=False)],
    )
    adapter.execute(CREDENTIAL, BULB, Change(on=True))
    assert api.calls[0].request.headers["Content-Type"].startswith("application/json")


def test_a_failure_midway_stops_the_sequence(adapter, api):
    api.post(COMMANDS, json=ok())
    api.post(COMMANDS, json=failure(161, "device offline"))
    with pytest.raises(EndpointUnreachable):
        adapter.execute(CREDENTIAL, BULB, Change(on=True, brightness=10, color_temperature=3000))
    assert len(api.calls) == 2


def test_execute_stops_when_its_time_budget_is_spent(api):
    adapter = create(context({"SWITCHBOT_BUDGET_SECONDS": "0"}))
    with pytest.raises(EndpointUnreachable):
        adapter.execute(CREDENTIAL, BULB, Change(on=True))
    assert len(api.calls) == 0


def test_a_device_id_that_cannot_be_one_is_no_such_endpoint(adapter):
    with pytest.raises(NoSuchEndpoint):
        adapter.read_state(CREDENTIAL, "")


# --- error mapping --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (failure(161, "device offline"), EndpointUnreachable),
        (failure(171, "hub device is offline"), BridgeUnreachable),
        (failure(152, "device not found"), NoSuchEndpoint),
        (failure(151, "device type error"), InvalidDirective),
        (failure(160, "command is not supported"), InvalidDirective),
        (failure(190, "System error"), EndpointUnreachable),
        (failure(199, "something new"), InternalError),
    ],
    ids=["161", "171", "152", "151", "160", "190", "unknown"],
)
def test_status_codes_map_to_typed_errors(adapter, api, payload, error):
    api.post(COMMANDS, json=payload)
    with pytest.raises(error):
        adapter.execute(CREDENTIAL, BULB, Change(on=True))


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, InvalidAuthorizationCredential),
        (403, InvalidAuthorizationCredential),
        (404, NoSuchEndpoint),
        (400, InternalError),
        (500, EndpointUnreachable),
        (502, EndpointUnreachable),
        (503, EndpointUnreachable),
    ],
)
def test_http_statuses_map_to_typed_errors(adapter, api, status, error):
    api.get(STATUS, json=UNAUTHORIZED if status == 401 else {"message": "error"}, status=status)
    with pytest.raises(error):
        adapter.read_state(CREDENTIAL, BULB)


def test_429_is_rate_limited_with_the_retry_after_hint(adapter, api):
    api.get(STATUS, body="Too Many Requests", status=429, headers={"Retry-After": "30"})
    with pytest.raises(RateLimited) as caught:
        adapter.read_state(CREDENTIAL, BULB)
    assert caught.value.retry_after == 30.0


def test_429_with_an_http_date_retry_after(adapter, api):
    api.get(
        STATUS,
        body="Too Many Requests",
        status=429,
        headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"},
    )
    with pytest.raises(RateLimited) as caught:
        adapter.read_state(CREDENTIAL, BULB)
    assert caught.value.retry_after == 0.0  # in the past: retry at once


def test_429_without_headers_has_no_hint(adapter, api):
    api.get(STATUS, body="Too Many Requests", status=429)
    with pytest.raises(RateLimited) as caught:
        adapter.read_state(CREDENTIAL, BULB)
    assert caught.value.retry_after is None


@pytest.mark.parametrize(
    "exception",
    [
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectionError("connection refused"),
    ],
    ids=["connect-timeout", "read-timeout", "connection-error"],
)
def test_network_failures_are_unreachable(adapter, api, exception):
    api.get(STATUS, body=exception)
    with pytest.raises(EndpointUnreachable):
        adapter.read_state(CREDENTIAL, BULB)


@pytest.mark.parametrize(
    "body",
    ["{not json", "[]", '{"message": "success"}', '{"statusCode": "100"}'],
    ids=["malformed", "array", "no-status-code", "string-status-code"],
)
def test_answers_that_are_not_switchbot_json_are_unreachable(adapter, api, body):
    api.get(STATUS, body=body, content_type="application/json")
    with pytest.raises(EndpointUnreachable):
        adapter.read_state(CREDENTIAL, BULB)


def test_a_device_list_without_device_list_is_unreachable(adapter, api):
    api.get(f"{BASE}/devices", json=ok({"unexpected": True}))
    with pytest.raises(EndpointUnreachable):
        adapter.list_devices(CREDENTIAL)


def test_the_adapter_keeps_one_session(adapter):
    assert isinstance(adapter, SwitchBotAdapter)
    assert isinstance(adapter.client.session, requests.Session)
