"""The project's adapter conformance kit (``bulb_skill_kit``) against the SwitchBot adapter.

SwitchBot is answered by ``responses`` with the documented bodies of the other tests: HTTP 401
for a refused credential, statusCode 152 (in a 200) for an unknown device, 161 for an offline one,
5xx / 429 / timeouts at the HTTP level. The lights live in a ``SwitchBotCloud`` that applies each
command to the device's status, so the kit's command loop sees what a user would. (Module name
carries the vendor: every adapter's tests share one pytest session.)
"""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses
from switchbot_support import BASE, BULB, CREDENTIAL, context, ok
from test_switchbot_adapter import BULB_STATUS, DEVICE_LIST, UNAUTHORIZED, failure
from test_switchbot_webhook import BULB_EVENT, HOOK_BASE

from bulb_skill_kit import (
    AdapterConformance,
    AdapterScenario,
    Failure,
    Operation,
    VendorCall,
    responses_vendor,
)
from bulb_skill_switchbot import account_id, create
from bulb_skill_switchbot._mapping import LIGHT_TYPES, SET_COLOR_ORDER
from skill.plugins import KeyAndSecret, WebhookRequest

INVALID_CREDENTIAL = KeyAndSecret.of("0" * 96, "f" * 32)
STRIP, CEILING, CANDLE = "C0FFEE000001", "C0FFEE000002", "C0FFEE000003"
UNKNOWN = "C0FFEE0000FF"
ACCOUNT = account_id(CREDENTIAL)

#: ``GET /devices/{id}/status`` bodies as devices/lighting/*.md document them.
STATUS = {
    BULB: BULB_STATUS,
    STRIP: ok(
        {
            "deviceId": STRIP,
            "deviceType": "Strip Light",
            "hubDeviceId": "000000000000",
            "power": "off",
            "brightness": 100,
            "color": "0:128:255",
            "version": "V2.1",
        }
    ),
    CEILING: ok(
        {
            "deviceId": CEILING,
            "deviceType": "Ceiling Light",
            "hubDeviceId": "000000000000",
            "power": "on",
            "brightness": 70,
            "colorTemperature": 4000,
            "version": "V1.0",
        }
    ),
    CANDLE: ok(
        {
            "deviceId": CANDLE,
            "deviceType": "Candle Warmer Lamp",
            "hubDeviceId": "000000000000",
            "power": "on",
            "brightness": 20,
            "version": "V1.0",
        }
    ),
}


class SwitchBotCloud:
    """The account's lights as SwitchBot keeps them: a command changes the status the way the
    per-device pages document (``turnOn``/``turnOff``, ``setBrightness`` 1-100, ``setColor`` in
    the model's byte order, ``setColorTemperature``), so a status read after it shows it. A
    light asked for a colour temperature reports white (``255:255:255``) as its colour, which
    is what tells the adapter it is in white mode (SwitchBot names no colour mode)."""

    def __init__(self) -> None:
        self.status = copy.deepcopy(STATUS)

    def read(self, device_id: str) -> dict:
        return copy.deepcopy(self.status[device_id])

    def command(self, request: Any) -> tuple[int, dict[str, str], str]:
        device_id = request.url.rsplit("/devices/", 1)[-1].split("/")[0]
        body = self.status[device_id]["body"]
        sent = json.loads(request.body)
        command, parameter = sent["command"], sent["parameter"]
        if command in ("turnOn", "turnOff"):
            body["power"] = "on" if command == "turnOn" else "off"
        elif command == "setBrightness":
            body["brightness"] = int(parameter)
        elif command == "setColor":
            order = LIGHT_TYPES[body["deviceType"]].set_color_order
            sent_bytes = [int(part) for part in parameter.split(":")]
            rgb = [0, 0, 0]
            for position, index in enumerate(SET_COLOR_ORDER[order]):
                rgb[index] = sent_bytes[position]
            body["color"] = ":".join(str(c) for c in rgb)
        elif command == "setColorTemperature":
            body["colorTemperature"] = int(parameter)
            if "color" in body:
                body["color"] = "255:255:255"
        return 200, {}, json.dumps(ok())

    def devices(self, without: str | None = None) -> dict:
        listed = copy.deepcopy(DEVICE_LIST)
        listed["body"]["deviceList"] = [
            d for d in listed["body"]["deviceList"] if d["deviceId"] != without
        ]
        return listed


def _url(call: VendorCall) -> tuple[str, str]:
    """The SwitchBot request each adapter operation starts with."""
    if call.operation in (Operation.IDENTIFY_USER, Operation.LIST_DEVICES):
        return "GET", f"{BASE}/devices"
    if call.operation is Operation.READ_STATE:
        return "GET", f"{BASE}/devices/{call.device_id}/status"
    return "POST", f"{BASE}/devices/{call.device_id}/commands"


def staging(cloud: SwitchBotCloud) -> Any:
    def stage(mock: responses.RequestsMock, call: VendorCall) -> None:
        if call.operation is Operation.PARSE_NOTIFICATION:
            return  # verification needs no SwitchBot call
        method, url = _url(call)
        listing = call.operation is Operation.LIST_DEVICES
        if call.credential == INVALID_CREDENTIAL or call.failure in (
            Failure.UNAUTHORIZED,
            Failure.EXPIRED,
        ):
            mock.add(method, url, json=UNAUTHORIZED, status=401)
        elif listing and call.failure is Failure.NOT_FOUND:  # the light left the account
            mock.add(method, url, json=cloud.devices(without=call.device_id))
        elif listing and call.failure is Failure.OFFLINE:  # the list says nothing of it
            mock.add(method, url, json=cloud.devices())
        elif call.device_id == UNKNOWN or call.failure is Failure.NOT_FOUND:
            mock.add(method, url, json=failure(152, "device not found"))
        elif call.failure is Failure.OFFLINE:
            mock.add(method, url, json=failure(161, "device offline"))
        elif call.failure is Failure.SERVER_ERROR:
            mock.add(method, url, json={"message": "Internal server error"}, status=500)
        elif call.failure is Failure.RATE_LIMITED:
            mock.add(
                method, url, body="Too Many Requests", status=429, headers={"Retry-After": "30"}
            )
        elif call.failure is Failure.TIMEOUT:
            mock.add(method, url, body=requests.exceptions.ReadTimeout("read timed out"))
        elif call.operation in (Operation.IDENTIFY_USER, Operation.LIST_DEVICES):
            mock.add(method, url, json=cloud.devices())
        elif call.operation is Operation.READ_STATE:
            device_id = call.device_id or ""
            mock.add_callback(
                method, url, callback=lambda r: (200, {}, json.dumps(cloud.read(device_id)))
            )
        else:
            mock.add_callback(method, url, callback=cloud.command)

    return stage


def push(query: dict[str, str] | None = None, event: object = BULB_EVENT) -> WebhookRequest:
    adapter = create(context())
    if query is None:
        query = dict(parse_qsl(urlsplit(adapter.webhook_url(HOOK_BASE, ACCOUNT)).query))
    return WebhookRequest(
        headers={"content-type": "application/json"},
        body=json.dumps(event).encode(),
        query=query,
        path="/webhooks/switchbot",
    )


def _key_of(account: str) -> str:
    url = create(context()).webhook_url(HOOK_BASE, account)
    return dict(parse_qsl(urlsplit(url).query))["key"]


class TestSwitchBotConforms(AdapterConformance):
    @pytest.fixture
    def scenario(self) -> AdapterScenario:
        return AdapterScenario(
            adapter=create(context()),
            credential=CREDENTIAL,
            invalid_credential=INVALID_CREDENTIAL,
            vendor=responses_vendor(staging(SwitchBotCloud())),
            color_device=BULB,
            white_device=CEILING,
            tunable_device=CEILING,
            devices=[BULB, STRIP, CEILING, CANDLE],
            unknown_device=UNKNOWN,
            failures=set(Failure),
            stateful=True,
            webhook=push(),
            invalid_webhooks=[
                push(query={}),  # no account key at all
                push(query={"account": ACCOUNT, "key": "0" * 64}),  # a guessed key
                # another account's genuine key replayed with this account's id
                push(query={"account": ACCOUNT, "key": _key_of("f" * 32)}),
                push(query={"account": "f" * 32, "key": _key_of(ACCOUNT)}),
            ],
        )
