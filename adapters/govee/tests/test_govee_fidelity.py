"""Govee as its OpenAPI documents it (issue 13, "Govee").

Sources, named per test:

- [GET-DEVICES] developer.govee.com/reference/get-you-devices ("Get you devices and
  capabilities", ``GET https://openapi.api.govee.com/router/api/v1/user/devices``): each
  capability carries ``parameters``; ``devices.capabilities.range`` / ``brightness`` has
  ``"range": {"min": 1, "max": 100, "precision": 1}`` and ``devices.capabilities.color_setting``
  / ``colorTemperatureK`` ``"range": {"min": 2000, "max": 9000, "precision": 1}`` in the example;
  the range is the device's own.
- [CONTROL] developer.govee.com/reference/control-you-devices: ``capability.value`` is "the
  control value of this instance, defin[ed] in '/router/api/v1/user/devices', see the
  parameters".
- [FAILURE] the in-body failure shape ``{"requestId", "msg", "code", "payload"}`` Govee's OpenAPI
  answers (govee_support.failure). The 404 ``msg`` "instance not found" for a capability the
  device does not have is the case issue 13's review names; "devices not exist" /
  "device not found" name a device the key does not own.
"""

from __future__ import annotations

import json

import pytest
from govee_support import (
    BASE,
    CREDENTIAL,
    DEVICE,
    DEVICE_ID,
    DEVICES,
    SKU,
    brightness,
    color_temperature,
    context,
    control_echo,
    failure,
    power_switch,
)

from bulb_skill_govee import create
from skill.bulbs import Change
from skill.errors import EndpointUnreachable, InvalidDirective, NoSuchEndpoint

CONTROL = f"{BASE}/device/control"
LIST = f"{BASE}/user/devices"
WHITE_ID = "H6008@AA:BB:CC:DD:EE:FF:00:11"  # advertises colorTemperatureK 2700-6500
DIMMER_ID = "H6001@11:22:33:44:55:66:77:88"  # brightness only
NARROW_ID = "H6002@33:44:55:66:77:88:99:AA"

NARROW = {
    "code": 200,
    "message": "success",
    "data": [
        {
            "sku": "H6002",
            "device": "33:44:55:66:77:88:99:AA",
            "deviceName": "Night light",
            "type": "devices.types.light",
            "capabilities": [power_switch(), brightness(10, 90), color_temperature(3000, 5000)],
        }
    ],
}


@pytest.fixture
def adapter():
    return create(context())


def controlled(api) -> list[dict]:
    return [
        json.loads(c.request.body)["payload"]["capability"]
        for c in api.calls
        if c.request.url == CONTROL
    ]


# -- clamping to the advertised ranges ----------------------------------------------------------


@pytest.mark.parametrize(
    ("device_id", "kelvin", "sent"),
    [
        (WHITE_ID, 2200, 2700),  # "warm white" on a 2700-6500 K bulb: the nearest it can do
        (WHITE_ID, 9000, 6500),
        (WHITE_ID, 4000, 4000),
        (DEVICE_ID, 1500, 2000),  # [GET-DEVICES] example range 2000-9000
        (DEVICE_ID, 10000, 9000),
    ],
)
def test_colour_temperature_is_clamped_to_the_advertised_range(
    adapter, api, device_id, kelvin, sent
):
    """[GET-DEVICES] [CONTROL]: the value must lie in the capability's ``parameters.range``."""
    api.get(LIST, json=DEVICES)
    api.add_callback("POST", CONTROL, callback=control_echo)
    adapter.execute(CREDENTIAL, device_id, Change(color_temperature=kelvin))
    assert controlled(api) == [
        {
            "type": "devices.capabilities.color_setting",
            "instance": "colorTemperatureK",
            "value": sent,
        },
    ]


@pytest.mark.parametrize(("level", "sent"), [(5, 10), (50, 50), (95, 90), (100, 90)])
def test_brightness_is_clamped_to_the_advertised_range(adapter, api, level, sent):
    """[GET-DEVICES]: a device whose brightness range is 10-90."""
    api.get(LIST, json=NARROW)
    api.add_callback("POST", CONTROL, callback=control_echo)
    adapter.execute(CREDENTIAL, NARROW_ID, Change(brightness=level))
    assert controlled(api) == [
        {"type": "devices.capabilities.range", "instance": "brightness", "value": sent},
    ]


def test_the_ranges_are_read_once_and_discovery_provides_them(adapter, api):
    api.get(LIST, json=NARROW)
    api.add_callback("POST", CONTROL, callback=control_echo)
    adapter.list_devices(CREDENTIAL)
    adapter.execute(CREDENTIAL, NARROW_ID, Change(color_temperature=6500, brightness=1))
    adapter.execute(CREDENTIAL, NARROW_ID, Change(brightness=99))
    assert [c.request.method for c in api.calls].count("GET") == 1
    assert [c["value"] for c in controlled(api)] == [5000, 10, 90]


def test_brightness_zero_turns_off_without_reading_ranges(adapter, api):
    api.add_callback("POST", CONTROL, callback=control_echo)
    adapter.execute(CREDENTIAL, NARROW_ID, Change(brightness=0))
    assert controlled(api) == [
        {"type": "devices.capabilities.on_off", "instance": "powerSwitch", "value": 0},
    ]


def test_a_temperature_for_a_device_without_the_capability_is_refused_unsent(adapter, api):
    """[GET-DEVICES]: the dimmer advertises no ``colorTemperatureK``."""
    api.get(LIST, json=DEVICES)
    with pytest.raises(InvalidDirective):
        adapter.execute(CREDENTIAL, DIMMER_ID, Change(color_temperature=3000))
    assert controlled(api) == []


def test_a_device_the_list_does_not_have_is_no_such_endpoint(adapter, api):
    api.get(LIST, json=DEVICES)
    with pytest.raises(NoSuchEndpoint):
        adapter.execute(CREDENTIAL, "H6601@00:00:00:00:00:00:00:00", Change(brightness=40))
    assert controlled(api) == []


# -- 404: an unsupported capability is not a missing device -------------------------------------


@pytest.mark.parametrize("http_status", [200, 404], ids=["in-body", "http-404"])
def test_instance_not_found_is_an_unsupported_capability_not_a_missing_device(
    adapter, api, http_status
):
    """[FAILURE]: 404 "instance not found": the device is there, the capability is not."""
    api.post(CONTROL, json=failure("instance not found", code=404), status=http_status)
    with pytest.raises(InvalidDirective) as caught:
        adapter.execute(CREDENTIAL, DEVICE_ID, Change(on=True))
    assert not isinstance(caught.value, NoSuchEndpoint)
    assert not caught.value.retryable


@pytest.mark.parametrize(
    ("message", "code", "http_status"),
    [
        ("devices not exist", 400, 200),  # [FAILURE] as govee2mqtt users logged it
        ("device not found", 404, 200),
        ("device not found", 404, 404),
        ("", 404, 404),  # a bare 404: nothing says it is a capability
    ],
    ids=["not-exist", "not-found-in-body", "not-found-http", "bare-404"],
)
def test_a_missing_device_is_no_such_endpoint(adapter, api, message, code, http_status):
    api.post(
        f"{BASE}/device/state",
        json={
            "requestId": "uuid",
            "msg": message,
            "code": code,
            "payload": {"sku": SKU, "device": DEVICE},
        },
        status=http_status,
    )
    with pytest.raises(NoSuchEndpoint):
        adapter.read_state(CREDENTIAL, DEVICE_ID)


@pytest.mark.parametrize(
    "message", ["Unsupported capability", "capability not support", "instance not exist"]
)
def test_other_wordings_of_an_unsupported_capability(adapter, api, message):
    api.post(CONTROL, json=failure(message, code=404))
    with pytest.raises(InvalidDirective):
        adapter.execute(CREDENTIAL, DEVICE_ID, Change(on=True))


# -- the transport: the key never follows a redirect to another host ----------------------------


def test_the_api_key_never_follows_a_redirect_to_another_host(adapter, api):
    """``requests`` keeps a custom header such as ``Govee-API-Key`` on a redirect to another
    host; the adapter's transport follows no such redirect."""
    elsewhere = "https://collector.example/govee"
    api.add("GET", LIST, status=307, headers={"Location": elsewhere})
    with pytest.raises(EndpointUnreachable):
        adapter.list_devices(CREDENTIAL)
    assert [c.request.url for c in api.calls] == [LIST]
