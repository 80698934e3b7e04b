"""Constants and payloads for the Govee adapter tests (unique module name: other adapters' tests
share the pytest session).

Shapes follow developer.govee.com ("Get You Devices", "Control You Devices", "Get Devices
Status") and Govee's rate-limiting page; the in-body failure shape
``{"requestId", "msg": "devices not exist", "code": 400, "payload"}`` is the one Govee's
OpenAPI returns for a device the key does not own (as logged by govee2mqtt users).
"""

from __future__ import annotations

import json
from typing import Any

from skill.plugins import AdapterContext, ApiKey

BASE = "https://openapi.api.govee.com/router/api/v1"
API_KEY = "3f6b2d0e-8a4c-4f1e-9b7d-1c2e3f4a5b6c"
#: What the vault hands the adapter for this user.
CREDENTIAL = ApiKey.of(API_KEY)
SKU = "H6601"
DEVICE = "9D:FA:85:EB:D3:00:8B:FF"
DEVICE_ID = f"{SKU}@{DEVICE}"


def context(environ: dict[str, str] | None = None) -> AdapterContext:
    return AdapterContext(vendor="govee", environ=environ or {}, timeout_seconds=2.5)


def power_switch() -> dict[str, Any]:
    return {
        "type": "devices.capabilities.on_off",
        "instance": "powerSwitch",
        "parameters": {
            "dataType": "ENUM",
            "options": [{"name": "on", "value": 1}, {"name": "off", "value": 0}],
        },
    }


def brightness(low: int = 1, high: int = 100) -> dict[str, Any]:
    return {
        "type": "devices.capabilities.range",
        "instance": "brightness",
        "parameters": {
            "unit": "unit.percent",
            "dataType": "INTEGER",
            "range": {"min": low, "max": high, "precision": 1},
        },
    }


def color_rgb() -> dict[str, Any]:
    return {
        "type": "devices.capabilities.color_setting",
        "instance": "colorRgb",
        "parameters": {"dataType": "INTEGER", "range": {"min": 0, "max": 16777215, "precision": 1}},
    }


def color_temperature(low: int, high: int) -> dict[str, Any]:
    return {
        "type": "devices.capabilities.color_setting",
        "instance": "colorTemperatureK",
        "parameters": {"dataType": "INTEGER", "range": {"min": low, "max": high, "precision": 1}},
    }


GRADIENT_TOGGLE = {
    "type": "devices.capabilities.toggle",
    "instance": "gradientToggle",
    "parameters": {
        "dataType": "ENUM",
        "options": [{"name": "on", "value": 1}, {"name": "off", "value": 0}],
    },
}

DEVICES = {
    "code": 200,
    "message": "success",
    "data": [
        {
            "sku": SKU,
            "device": DEVICE,
            "deviceName": "Desk bar",
            "type": "devices.types.light",
            "capabilities": [
                power_switch(),
                GRADIENT_TOGGLE,
                brightness(),
                color_rgb(),
                color_temperature(2000, 9000),
            ],
        },
        {
            "sku": "H6008",
            "device": "AA:BB:CC:DD:EE:FF:00:11",
            "deviceName": "Hall white bulb",
            "type": "devices.types.light",
            "capabilities": [power_switch(), brightness(), color_temperature(2700, 6500)],
        },
        {
            "sku": "H6001",
            "device": "11:22:33:44:55:66:77:88",
            "deviceName": "Porch dimmer",
            "type": "devices.types.light",
            "capabilities": [power_switch(), brightness()],
        },
        {
            "sku": "H5080",
            "device": "22:33:44:55:66:77:88:99",
            "deviceName": "Smart plug",
            "type": "devices.types.socket",
            "capabilities": [power_switch()],
        },
        {
            "sku": "H7143",
            "device": "52:8B:D4:AD:FC:45:5D:FE",
            "deviceName": "Humidifier",
            "type": "devices.types.humidifier",
            "capabilities": [power_switch()],
        },
    ],
}


def state(*capabilities: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestId": "uuid",
        "msg": "success",
        "code": 200,
        "payload": {"sku": SKU, "device": DEVICE, "capabilities": list(capabilities)},
    }


def cap_state(kind: str, instance: str, value: Any) -> dict[str, Any]:
    return {"type": f"devices.capabilities.{kind}", "instance": instance, "state": {"value": value}}


def control_echo(request) -> tuple[int, dict[str, str], str]:
    """Govee's control answer: the requestId and capability echoed, with state.status."""
    sent = json.loads(request.body)
    capability = sent["payload"]["capability"]
    answer = {
        "requestId": sent["requestId"],
        "msg": "success",
        "code": 200,
        "capability": {
            "type": capability["type"],
            "instance": capability["instance"],
            "state": {"status": "success"},
            "value": capability["value"],
        },
    }
    return 200, {}, json.dumps(answer)


def failure(msg: str, code: int = 400) -> dict[str, Any]:
    payload = {"sku": SKU, "device": DEVICE}
    return {"requestId": "uuid", "msg": msg, "code": code, "payload": payload}
