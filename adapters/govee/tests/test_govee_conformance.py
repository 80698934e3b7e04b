"""The project's adapter conformance kit (``bulb_skill_kit``) against the Govee adapter.

Govee is answered by ``responses`` with the documented bodies of the other tests: HTTP 401 for a
refused (or expired) key, ``{"code": 400, "msg": "devices not exist"}`` (in a 200) for an
unknown device, ``"device offline"`` for a command to an offline one (its state then says
``online: false``), 5xx / 429 (with Govee's rate-limit headers) / timeouts at the HTTP level.
The devices live in a ``GoveeCloud`` that applies each control call, so the kit's command loop
sees what a user would. (Module name carries the vendor: every adapter's tests share one session.)
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import requests
import responses
from govee_support import (
    BASE,
    CREDENTIAL,
    DEVICE_ID,
    DEVICES,
    cap_state,
    context,
    control_echo,
    failure,
)
from test_govee_errors import THROTTLED_HEADERS

from bulb_skill_govee import create, split_device_id
from bulb_skill_kit import (
    AdapterConformance,
    AdapterScenario,
    Failure,
    Operation,
    VendorCall,
    responses_vendor,
)
from skill.plugins import ApiKey

INVALID_KEY = ApiKey.of("00000000-0000-4000-8000-000000000000")
WHITE_ID = "H6008@AA:BB:CC:DD:EE:FF:00:11"
DIMMER_ID = "H6001@11:22:33:44:55:66:77:88"
UNKNOWN_ID = "H6601@00:00:00:00:00:00:00:00"

#: ``POST /device/state`` capabilities per device, as "Get Devices Status" documents them.
STATES: dict[str, list[dict[str, Any]]] = {
    DEVICE_ID: [
        cap_state("online", "online", True),
        cap_state("on_off", "powerSwitch", 1),
        cap_state("range", "brightness", 55),
        cap_state("color_setting", "colorRgb", 0x00FF00),
        cap_state("color_setting", "colorTemperatureK", 0),
    ],
    WHITE_ID: [
        cap_state("online", "online", True),
        cap_state("on_off", "powerSwitch", 0),
        cap_state("range", "brightness", 80),
        cap_state("color_setting", "colorTemperatureK", 4000),
    ],
    DIMMER_ID: [
        cap_state("online", "online", False),
        cap_state("on_off", "powerSwitch", 0),
        cap_state("range", "brightness", 5),
    ],
}


class GoveeCloud:
    """The account's devices as Govee keeps them: ``/device/control`` sets the capability's state
    value (a ``colorRgb`` puts ``colorTemperatureK`` at 0, as Govee reports an RGB colour), so
    ``/device/state`` after a command shows it."""

    def __init__(self) -> None:
        self.states = copy.deepcopy(STATES)

    def state(self, request: Any, *, offline: str | None = None) -> tuple[int, dict[str, str], str]:
        payload = json.loads(request.body)["payload"]
        device_id = f"{payload['sku']}@{payload['device']}"
        capabilities = copy.deepcopy(self.states[device_id])
        if device_id == offline:
            for capability in capabilities:
                if capability["instance"] == "online":
                    capability["state"]["value"] = False
        answer = {
            "requestId": json.loads(request.body)["requestId"],
            "msg": "success",
            "code": 200,
            "payload": {**payload, "capabilities": capabilities},
        }
        return 200, {}, json.dumps(answer)

    def control(self, request: Any) -> tuple[int, dict[str, str], str]:
        payload = json.loads(request.body)["payload"]
        capability = payload["capability"]
        states = self.states[f"{payload['sku']}@{payload['device']}"]
        for known in states:
            if known["instance"] == capability["instance"]:
                known["state"]["value"] = capability["value"]
            if capability["instance"] == "colorRgb" and known["instance"] == "colorTemperatureK":
                known["state"]["value"] = 0
        return control_echo(request)

    def devices(self, without: str | None = None) -> dict[str, Any]:
        listed = copy.deepcopy(DEVICES)
        listed["data"] = [d for d in listed["data"] if f"{d['sku']}@{d['device']}" != without]
        return listed


def _url(call: VendorCall) -> tuple[str, str]:
    if call.operation in (Operation.IDENTIFY_USER, Operation.LIST_DEVICES):
        return "GET", f"{BASE}/user/devices"
    if call.operation is Operation.READ_STATE:
        return "POST", f"{BASE}/device/state"
    return "POST", f"{BASE}/device/control"


def staging(cloud: GoveeCloud) -> Any:
    def stage(mock: responses.RequestsMock, call: VendorCall) -> None:
        method, url = _url(call)
        if call.operation is Operation.EXECUTE:
            # A brightness or colour temperature is clamped to the device's advertised range:
            # the device list is read once per container when the adapter has not seen it.
            mock.get(f"{BASE}/user/devices", json=DEVICES)
        listing = call.operation is Operation.LIST_DEVICES
        if call.credential == INVALID_KEY or call.failure in (
            Failure.UNAUTHORIZED,
            Failure.EXPIRED,
        ):
            mock.add(method, url, json={"code": 401, "message": "Unauthorized"}, status=401)
        elif listing and call.failure is Failure.NOT_FOUND:  # the device left the account
            mock.add(method, url, json=cloud.devices(without=call.device_id))
        elif listing and call.failure is Failure.OFFLINE:  # the list says nothing of it
            mock.add(method, url, json=cloud.devices())
        elif call.device_id == UNKNOWN_ID or call.failure is Failure.NOT_FOUND:
            mock.add(method, url, json=failure("devices not exist"))
        elif call.failure is Failure.OFFLINE and call.operation is Operation.READ_STATE:
            mock.add_callback(
                method, url, callback=lambda r: cloud.state(r, offline=call.device_id)
            )
        elif call.failure is Failure.OFFLINE:
            mock.add(method, url, json=failure("device offline"))
        elif call.failure is Failure.SERVER_ERROR:
            mock.add(method, url, body="<html>Bad Gateway</html>", status=502)
        elif call.failure is Failure.RATE_LIMITED:
            mock.add(
                method,
                url,
                body="Too many requests, please try again later",
                status=429,
                content_type="text/plain; charset=utf-8",
                headers=THROTTLED_HEADERS,
            )
        elif call.failure is Failure.TIMEOUT:
            mock.add(method, url, body=requests.exceptions.ConnectTimeout("connect timed out"))
        elif call.operation in (Operation.IDENTIFY_USER, Operation.LIST_DEVICES):
            mock.add(method, url, json=cloud.devices())
        elif call.operation is Operation.READ_STATE:
            mock.add_callback(method, url, callback=cloud.state)
        else:
            mock.add_callback(method, url, callback=cloud.control)

    return stage


class TestGoveeConforms(AdapterConformance):
    @pytest.fixture
    def scenario(self) -> AdapterScenario:
        assert split_device_id(UNKNOWN_ID)  # well-formed: the vendor, not the parser, refuses it
        return AdapterScenario(
            adapter=create(context()),
            credential=CREDENTIAL,
            invalid_credential=INVALID_KEY,
            vendor=responses_vendor(staging(GoveeCloud())),
            color_device=DEVICE_ID,
            white_device=WHITE_ID,
            devices=[DEVICE_ID, WHITE_ID, DIMMER_ID],
            unknown_device=UNKNOWN_ID,
            failures=set(Failure),
            stateful=True,
        )
