"""SwitchBot as its documentation and its users' logs show it answering (issue 13, "SwitchBot").

Sources, named per test:

- [README] OpenWonderLabs/SwitchBotAPI README.md (API v1.1): "Request limit" ("The amount of
  API calls per day is limited to 10000 times. Going over that limit will return
  'Unauthorized.'"), the Errors tables (190: "Device internal error due to device states not
  synchronized with server. Or command format is invalid."; the device list's 190 message
  "System error"), "Get device list" / "Get device status" / "Send device control commands" for
  "RGBIC Neon Rope Light" (W1702107) and "RGBIC Neon Wire Rope Light" (W1702108), and "Receive
  events from webhook" (their webhook deviceType is their product name).
- [SB-365] OpenWonderLabs/SwitchBotAPI issue 365 (and 291; homebridge-switchbot issue 1108):
  ``{"statusCode":190,"body":{},"message":"Requests reached the daily limit"}`` at HTTP 200.
- [SB-213] OpenWonderLabs/SwitchBotAPI issue 213: ``{statusCode: 190, body: {}, message:
  "Too many Request"}``.
- [SB-303] OpenWonderLabs/SwitchBotAPI issue 303: ``{"statusCode":190,"body":{},"message":
  "parameters error"}`` for a command with a bad parameter.
- [SB-393] OpenWonderLabs/SwitchBotAPI issue 393 (and 196): setupWebhook answers
  ``{"statusCode": 190, "body": {}, "message": "webhook is exist"}``.
- [HA-light] home-assistant/core ``homeassistant/components/switchbot_cloud/light.py``: the base
  class sends ``setColor`` as ``f"{rgb_color[2]}:{rgb_color[1]}:{rgb_color[0]}"`` (B:G:R) and
  "Strip Light" keeps it; the RGBWW lights and ``SwitchBotCloudRGBICLight`` ("RGBIC Neon Rope
  Light", "RGBIC Neon Wire Rope Light") override it with R:G:B; status ``color`` is read R:G:B.
"""

from __future__ import annotations

import json

import pytest
from switchbot_support import BASE, BULB, CREDENTIAL, context, ok

from bulb_skill_switchbot import account_id, create
from bulb_skill_switchbot._client import QuotaSpent, WebhookExists, seconds_to_next_day
from skill.bulbs import Change, Color, Features
from skill.errors import (
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidValue,
    RateLimited,
)
from skill.plugins import KeyAndSecret, WebhookRequest

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z: 6400 s before the next UTC midnight
TO_MIDNIGHT = 6400.0
STATUS = f"{BASE}/devices/{BULB}/status"
COMMANDS = f"{BASE}/devices/{BULB}/commands"
DEVICES = f"{BASE}/devices"


@pytest.fixture
def adapter():
    built = create(context())
    built.client._clock = lambda: NOW
    return built


def failure(message: str, code: int = 190) -> dict:
    return {"statusCode": code, "body": {}, "message": message}


def command(name: str, parameter: str = "default") -> dict:
    return {"command": name, "parameter": parameter, "commandType": "command"}


# -- statusCode 190, by its message --------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "error", "retryable"),
    [
        ("System error", EndpointUnreachable, True),  # [README] the device list's 190 message
        ("", EndpointUnreachable, True),  # [README] 190's documented meaning, no text
        (
            "Device internal error due to device states not synchronized with server",  # [README]
            EndpointUnreachable,
            True,
        ),
        ("parameters error", InvalidValue, False),  # [SB-303]
        ("command format is invalid", InvalidValue, False),  # [README] "Or command format ..."
        ("webhook is exist", WebhookExists, False),  # [SB-393]
        ("something SwitchBot never documented", InternalError, False),
    ],
    ids=["system-error", "empty", "not-synchronised", "parameters", "format", "webhook", "other"],
)
def test_190_maps_by_its_message_and_only_a_device_error_is_retryable(
    adapter, api, message, error, retryable
):
    api.post(COMMANDS, json=failure(message))
    with pytest.raises(error) as caught:
        adapter.execute(CREDENTIAL, BULB, Change(on=True))
    assert caught.value.retryable is retryable


def test_190_too_many_requests_is_rate_limited(adapter, api):
    """[SB-213]"""
    api.post(COMMANDS, json=failure("Too many Request"))
    with pytest.raises(RateLimited):
        adapter.execute(CREDENTIAL, BULB, Change(on=True))


# -- the daily quota: never a bad credential -----------------------------------------------------


def test_the_daily_limit_is_rate_limited_until_the_next_day(adapter, api):
    """[SB-365]: HTTP 200, statusCode 190, "Requests reached the daily limit"."""
    api.get(STATUS, json=failure("Requests reached the daily limit"))
    with pytest.raises(QuotaSpent) as caught:
        adapter.read_state(CREDENTIAL, BULB)
    assert isinstance(caught.value, RateLimited)
    assert caught.value.retry_after == TO_MIDNIGHT


def test_after_the_daily_limit_calls_stop_until_the_next_day(adapter, api):
    """[SB-365] then [README] "Request limit": a spent quota is not spent further, and no
    "Unauthorized" can follow for it."""
    api.get(STATUS, json=failure("Requests reached the daily limit"))
    with pytest.raises(RateLimited):
        adapter.read_state(CREDENTIAL, BULB)
    with pytest.raises(RateLimited) as caught:
        adapter.execute(CREDENTIAL, BULB, Change(on=True))
    assert caught.value.retry_after == TO_MIDNIGHT
    assert len(api.calls) == 1  # the command never reached SwitchBot
    adapter.client._clock = lambda: NOW + TO_MIDNIGHT + 1  # the next day
    api.post(COMMANDS, json=ok())
    adapter.execute(CREDENTIAL, BULB, Change(on=True))
    assert len(api.calls) == 2


def test_unauthorized_for_a_pair_accepted_earlier_today_is_the_quota(adapter, api):
    """[README] "Request limit": past 10,000 calls SwitchBot answers "Unauthorized" (HTTP 401
    ``{"message": "Unauthorized"}``, as for a bad token). A pair it accepted earlier the same day
    is taken for a spent quota, never reported as an invalid credential."""
    api.get(
        STATUS,
        json=ok({"deviceId": BULB, "deviceType": "Color Bulb", "power": "on", "brightness": 40}),
    )
    adapter.read_state(CREDENTIAL, BULB)
    api.post(COMMANDS, json={"message": "Unauthorized"}, status=401)
    with pytest.raises(RateLimited) as caught:
        adapter.execute(CREDENTIAL, BULB, Change(on=True))
    assert not isinstance(caught.value, InvalidAuthorizationCredential)
    assert caught.value.retry_after == TO_MIDNIGHT


def test_unauthorized_at_first_contact_is_a_bad_credential(adapter, api):
    """[README] Errors: ``{"message": "Unauthorized"}`` "User permission is denied due to
    invalid token" - with nothing saying otherwise, that is what it is."""
    api.get(DEVICES, json={"message": "Unauthorized"}, status=401)
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.identify_user(CREDENTIAL)


def test_unauthorized_the_day_after_an_accepted_call_is_a_bad_credential(adapter, api):
    """A quota is daily: yesterday's success says nothing about today's 401."""
    api.get(
        STATUS,
        json=ok({"deviceId": BULB, "deviceType": "Color Bulb", "power": "on", "brightness": 40}),
    )
    adapter.read_state(CREDENTIAL, BULB)
    adapter.client._clock = lambda: NOW + TO_MIDNIGHT + 60
    api.get(STATUS, json={"message": "Unauthorized"}, status=401)
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.read_state(CREDENTIAL, BULB)


def test_another_accounts_success_does_not_excuse_a_bad_credential(adapter, api):
    api.get(
        STATUS,
        json=ok({"deviceId": BULB, "deviceType": "Color Bulb", "power": "on", "brightness": 40}),
    )
    adapter.read_state(CREDENTIAL, BULB)
    api.get(STATUS, json={"message": "Unauthorized"}, status=401)
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.read_state(KeyAndSecret.of("another-open-token", "another-secret"), BULB)


def test_an_unauthorized_that_names_the_limit_is_the_quota(adapter, api):
    """[SB-365]'s message, should it come with HTTP 401: still the quota."""
    api.get(STATUS, json={"message": "Requests reached the daily limit"}, status=401)
    with pytest.raises(QuotaSpent):
        adapter.read_state(CREDENTIAL, BULB)


def test_the_next_day_is_the_next_utc_midnight():
    assert seconds_to_next_day(NOW) == TO_MIDNIGHT
    assert seconds_to_next_day(86_400.0 * 19_000) == 86_400.0


# -- webhook is exist ----------------------------------------------------------------------------

HOOK_BASE = "https://hooks.example.com/webhooks/switchbot"
QUERY = f"{BASE}/webhook/queryWebhook"
SETUP = f"{BASE}/webhook/setupWebhook"


def test_webhook_is_exist_for_our_url_is_a_registration(adapter, api):
    """[SB-393]: another Discover registered the same URL between our query and our setup."""
    ours = adapter.webhook_url(HOOK_BASE, account_id(CREDENTIAL))
    api.post(QUERY, json=ok({"urls": []}))
    api.post(SETUP, json=failure("webhook is exist"))
    api.post(QUERY, json=ok({"urls": [ours]}))
    assert adapter.register_webhook(CREDENTIAL, HOOK_BASE) == ours


def test_another_url_is_not_even_tried_over(adapter, api):
    """[SB-393]: the account has another configuration; only its owner can change that (the
    linking pages ask them: ``replace_webhooks``). No setup is sent, nothing is raised: the
    account's bulbs are polled."""
    api.post(QUERY, json=ok({"urls": ["https://other.example/hook"]}))
    assert adapter.register_webhook(CREDENTIAL, HOOK_BASE) == ""
    assert len(api.calls) == 1


def test_webhook_is_exist_for_an_url_that_appeared_meanwhile_is_not_retried(adapter, api):
    """[SB-393]: another configuration appeared between our query and our setup."""
    api.post(QUERY, json=ok({"urls": []}))
    api.post(SETUP, json=failure("webhook is exist"))
    api.post(QUERY, json=ok({"urls": ["https://other.example/hook"]}))
    assert adapter.register_webhook(CREDENTIAL, HOOK_BASE) == ""
    assert len(api.calls) == 3


def test_webhook_is_exist_is_a_typed_error_not_retried(api):
    """What the client raises for 190 "webhook is exist" (``replace_webhooks`` reads it)."""
    api.post(SETUP, json=failure("webhook is exist"))
    with pytest.raises(WebhookExists) as caught:
        create(context()).client.request(
            CREDENTIAL,
            "POST",
            "/webhook/setupWebhook",
            json={"action": "setupWebhook", "url": HOOK_BASE, "deviceList": "ALL"},
        )
    assert not caught.value.retryable


# -- RGBIC Neon lights ---------------------------------------------------------------------------

NEON = "C0FFEE00A001"
NEON_WIRE = "C0FFEE00A002"


def test_the_neon_rope_lights_are_discovered_as_colour_lights(adapter, api):
    """[README] "Get device list": deviceType "RGBIC Neon Rope Light" / "RGBIC Neon Wire Rope
    Light"; commands turnOn/turnOff/setBrightness/setColor, no colour temperature."""
    api.get(
        DEVICES,
        json=ok(
            {
                "deviceList": [
                    {
                        "deviceId": NEON,
                        "deviceName": "Shelf neon",
                        "deviceType": "RGBIC Neon Rope Light",
                        "enableCloudService": True,
                        "hubDeviceId": "000000000000",
                    },
                    {
                        "deviceId": NEON_WIRE,
                        "deviceName": "Desk wire",
                        "deviceType": "RGBIC Neon Wire Rope Light",
                        "enableCloudService": True,
                        "hubDeviceId": "000000000000",
                    },
                ],
                "infraredRemoteList": [],
            }
        ),
    )
    devices = {d.id: d for d in adapter.list_devices(CREDENTIAL)}
    assert set(devices) == {NEON, NEON_WIRE}
    for device in devices.values():
        assert device.features == Features(dimmable=True, color=True)
        assert device.manufacturer == "SwitchBot"
    assert devices[NEON].model == "RGBIC Neon Rope Light"
    assert devices[NEON_WIRE].model == "RGBIC Neon Wire Rope Light"


def test_a_neon_rope_light_status_reads_as_documented(adapter, api):
    """[README] "Get device status" for RGBIC Neon Rope Light: power, brightness 1-100, color
    "255:255:255", onlineStatus."""
    api.get(
        f"{BASE}/devices/{NEON}/status",
        json=ok(
            {
                "deviceId": NEON,
                "deviceType": "RGBIC Neon Rope Light",
                "hubDeviceId": "000000000000",
                "version": "V1.0-1.0",
                "power": "on",
                "onlineStatus": "online",
                "brightness": 60,
                "color": "255:0:0",
            }
        ),
    )
    state = adapter.read_state(CREDENTIAL, NEON)
    assert state.on and state.brightness == 60 and state.reachable
    assert state.color is not None and state.color.hue == 0 and state.color.saturation == 1
    assert state.color_mode == "color" and state.color_temperature is None


def test_a_neon_wire_rope_light_push_is_read(adapter):
    """[README] "Receive events from webhook": deviceType "RGBIC Neon Wire Rope Light"."""
    event = {
        "eventType": "changeReport",
        "eventVersion": "1",
        "context": {
            "deviceType": "RGBIC Neon Wire Rope Light",
            "deviceMac": "C0:FF:EE:00:A0:02",
            "powerState": "ON",
            "brightness": 30,
            "color": "0:0:255",
            "timeOfSample": 123456789,
        },
    }
    account = account_id(CREDENTIAL)
    url = adapter.webhook_url(HOOK_BASE, account)
    query = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))
    [notification] = adapter.parse_notification(
        WebhookRequest(headers={}, body=json.dumps(event).encode(), query=query)
    )
    assert notification.device_id == NEON_WIRE
    assert notification.state.color is not None and notification.state.color.hue == 240


# -- setColor byte order per model ---------------------------------------------------------------

RED = Color(hue=0, saturation=1, brightness=1)
ORANGE = Color(hue=30, saturation=1, brightness=1)  # RGB 255:128:0


def status(device_id: str, device_type: str) -> dict:
    return ok({"deviceId": device_id, "deviceType": device_type, "power": "on", "color": "0:0:0"})


@pytest.mark.parametrize(
    ("device_type", "parameter"),
    [
        ("Strip Light", "0:128:255"),  # [HA-light]: B:G:R
        ("Color Bulb", "255:128:0"),  # [HA-light] RGBWW: R:G:B
        ("Strip Light 3", "255:128:0"),
        ("Floor Lamp", "255:128:0"),
        ("RGBIC Neon Rope Light", "255:128:0"),  # [HA-light] SwitchBotCloudRGBICLight: R:G:B
        ("RGBIC Neon Wire Rope Light", "255:128:0"),
    ],
)
def test_set_color_sends_the_byte_order_each_model_takes(adapter, api, device_type, parameter):
    device = "C0FFEE00B001"
    api.get(f"{BASE}/devices/{device}/status", json=status(device, device_type))
    api.post(f"{BASE}/devices/{device}/commands", json=ok())
    adapter.execute(CREDENTIAL, device, Change(color=ORANGE))
    assert json.loads(api.calls[1].request.body) == command("setColor", parameter)


def test_a_strip_light_known_from_discovery_costs_no_extra_read(adapter, api):
    strip = "C0FFEE000001"
    api.get(
        DEVICES,
        json=ok(
            {
                "deviceList": [
                    {
                        "deviceId": strip,
                        "deviceName": "Shelf strip",
                        "deviceType": "Strip Light",
                        "enableCloudService": True,
                        "hubDeviceId": "000000000000",
                    },
                ],
                "infraredRemoteList": [],
            }
        ),
    )
    api.post(f"{BASE}/devices/{strip}/commands", json=ok())
    adapter.list_devices(CREDENTIAL)
    adapter.execute(CREDENTIAL, strip, Change(color=RED))
    assert [c.request.method for c in api.calls] == ["GET", "POST"]
    assert json.loads(api.calls[1].request.body) == command("setColor", "0:0:255")


def test_a_strip_light_status_colour_is_read_r_g_b(adapter, api):
    """[README] status ``color`` "RGB" and [HA-light] reads it R:G:B for every model, the
    Strip Light included: only the command is B:G:R."""
    strip = "C0FFEE000001"
    api.get(
        f"{BASE}/devices/{strip}/status",
        json=ok(
            {
                "deviceId": strip,
                "deviceType": "Strip Light",
                "power": "on",
                "brightness": 50,
                "color": "255:0:0",
            }
        ),
    )
    state = adapter.read_state(CREDENTIAL, strip)
    assert state.color is not None and state.color.hue == 0


# -- the transport: the signature never follows a redirect to another host ----------------------


def test_the_signed_headers_never_follow_a_redirect_to_another_host(adapter, api):
    """``requests`` would keep ``sign``, ``t`` and ``nonce`` on a redirect to another host (it
    drops only ``Authorization``); the adapter's transport follows no such redirect."""
    api.add("GET", DEVICES, status=301, headers={"Location": "https://collector.example/sb"})
    with pytest.raises(EndpointUnreachable):
        adapter.list_devices(CREDENTIAL)
    assert [c.request.url for c in api.calls] == [DEVICES]
