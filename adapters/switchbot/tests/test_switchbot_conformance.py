"""The project's adapter conformance kit (``skill.testing``) against the SwitchBot adapter.

SwitchBot is answered by ``responses`` with the documented bodies of the other tests: HTTP 401
for a refused credential, statusCode 152 (in a 200) for an unknown device, 161 for an offline one,
5xx / 429 / timeouts at the HTTP level. (Module name carries the vendor: every adapter's tests
share one pytest session.)
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses

from skill.plugins import KeyAndSecret, WebhookRequest
from skill.testing import AdapterConformance, AdapterScenario, Failure, VendorCall
from skill.testing import Operation, responses_vendor

from bulb_skill_switchbot import account_id, create
from switchbot_support import BASE, BULB, CREDENTIAL, context, ok
from test_switchbot_adapter import BULB_STATUS, DEVICE_LIST, UNAUTHORIZED, failure
from test_switchbot_webhook import BULB_EVENT, HOOK_BASE

INVALID_CREDENTIAL = KeyAndSecret.of("0" * 96, "f" * 32)
STRIP, CEILING, CANDLE = "C0FFEE000001", "C0FFEE000002", "C0FFEE000003"
UNKNOWN = "C0FFEE0000FF"
ACCOUNT = account_id(CREDENTIAL)

#: ``GET /devices/{id}/status`` bodies as devices/lighting/*.md document them.
STATUS = {
    BULB: BULB_STATUS,
    STRIP: ok({"deviceId": STRIP, "deviceType": "Strip Light", "hubDeviceId": "000000000000",
               "power": "off", "brightness": 100, "color": "0:128:255", "version": "V2.1"}),
    CEILING: ok({"deviceId": CEILING, "deviceType": "Ceiling Light",
                 "hubDeviceId": "000000000000", "power": "on", "brightness": 70,
                 "colorTemperature": 4000, "version": "V1.0"}),
    CANDLE: ok({"deviceId": CANDLE, "deviceType": "Candle Warmer Lamp",
                "hubDeviceId": "000000000000", "power": "on", "brightness": 20,
                "version": "V1.0"}),
}


def _url(call: VendorCall) -> tuple[str, str]:
    """The SwitchBot request each adapter operation starts with."""
    if call.operation in (Operation.IDENTIFY_USER, Operation.LIST_DEVICES):
        return "GET", f"{BASE}/devices"
    if call.operation is Operation.READ_STATE:
        return "GET", f"{BASE}/devices/{call.device_id}/status"
    return "POST", f"{BASE}/devices/{call.device_id}/commands"


def stage(mock: responses.RequestsMock, call: VendorCall) -> None:
    if call.operation is Operation.PARSE_NOTIFICATION:
        return  # verification needs no SwitchBot call
    method, url = _url(call)
    if call.credential == INVALID_CREDENTIAL or call.failure is Failure.UNAUTHORIZED:
        mock.add(method, url, json=UNAUTHORIZED, status=401)
    elif call.device_id == UNKNOWN or call.failure is Failure.NOT_FOUND:
        mock.add(method, url, json=failure(152, "device not found"))
    elif call.failure is Failure.OFFLINE:
        mock.add(method, url, json=failure(161, "device offline"))
    elif call.failure is Failure.SERVER_ERROR:
        mock.add(method, url, json={"message": "Internal server error"}, status=500)
    elif call.failure is Failure.RATE_LIMITED:
        mock.add(method, url, body="Too Many Requests", status=429, headers={"Retry-After": "30"})
    elif call.failure is Failure.TIMEOUT:
        mock.add(method, url, body=requests.exceptions.ReadTimeout("read timed out"))
    elif call.operation in (Operation.IDENTIFY_USER, Operation.LIST_DEVICES):
        mock.add(method, url, json=DEVICE_LIST)
    elif call.operation is Operation.READ_STATE:
        mock.add(method, url, json=STATUS[call.device_id])
    else:
        mock.add(method, url, json=ok())


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
            vendor=responses_vendor(stage),
            color_device=BULB,
            white_device=CEILING,
            tunable_device=CEILING,
            devices=[BULB, STRIP, CEILING, CANDLE],
            unknown_device=UNKNOWN,
            failures=set(Failure),
            webhook=push(),
            invalid_webhooks=[
                push(query={}),  # no account key at all
                push(query={"account": ACCOUNT, "key": "0" * 64}),  # a guessed key
                # another account's genuine key replayed with this account's id
                push(query={"account": ACCOUNT, "key": _key_of("f" * 32)}),
                push(query={"account": "f" * 32, "key": _key_of(ACCOUNT)}),
            ],
        )
