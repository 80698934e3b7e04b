"""LIFX HTTP API bodies shaped exactly as LIFX documents them.

- lights: https://api.developer.lifx.com/docs/list-lights ("Bulb Response" example)
- set-state answers: https://api.developer.lifx.com/docs/set-state and
  https://api.developer.lifx.com/docs/reachability (207 ``results`` with ok/timed_out/offline)
- errors: https://api.developer.lifx.com/docs/errors (``{"error": ..., "errors": [...]}``)
- rate limits: https://api.developer.lifx.com/docs/rate-limits (X-RateLimit-* headers, 429)
"""

from __future__ import annotations

import copy
from typing import Any

BASE = "https://lifx.test/v1"
NOW = 1_700_000_000.0  # the clock the adapter under test is given
TOKEN = "c87c73a896b554367fac61f71dd3656af8d93a525a4e87df5952c6078a89d192"

COLOR_ID = "d073d5141876"
WHITE_ID = "d073d5000001"
WARM_ID = "d073d5000002"
OFFLINE_ID = "d073d5000003"

HOME = {"id": "f2c1aa82395411e9a0757200055bf1c0", "name": "Home"}
CABIN = {"id": "1d6fe8ef0fde4c6d77b0012dc736662c", "name": "Cabin"}


def _light(
    light_id: str,
    label: str,
    *,
    product: dict[str, Any],
    power: str = "on",
    brightness: float = 0.29999237048905164,
    color: dict[str, Any] | None = None,
    connected: bool = True,
    location: dict[str, str] = HOME,
) -> dict[str, Any]:
    return {
        "id": light_id,
        "uuid": "02a5b510-2d3d-46ea-92ac-c4533f75c24e",
        "label": label,
        "connected": connected,
        "power": power,
        "color": color or {"hue": 59.997253376058595, "saturation": 1, "kelvin": 3500},
        "brightness": brightness,
        "effect": "OFF",
        "group": {"id": "06e3ec50395511e9a0757200055bf1c0", "name": "Loungeroom"},
        "location": dict(location),
        "product": copy.deepcopy(product),
        "last_seen": "2019-02-25T23:40:40Z",
        "seconds_since_seen": 0,
    }


COLOR_1000 = {
    "name": "Color 1000",
    "identifier": "lifx_color_a19",
    "company": "LIFX",
    "capabilities": {
        "has_color": True,
        "has_variable_color_temp": True,
        "has_ir": False,
        "has_chain": False,
        "has_multizone": False,
        "min_kelvin": 2500,
        "max_kelvin": 9000,
    },
    "product_id": 22,
    "vendor_id": 1,
}

MINI_WHITE = {
    "name": "LIFX Mini White",
    "identifier": "lifx_mini_white",
    "company": "LIFX",
    "capabilities": {
        "has_color": False,
        "has_variable_color_temp": False,
        "has_ir": False,
        "has_chain": False,
        "has_multizone": False,
        "min_kelvin": 2700,
        "max_kelvin": 2700,
    },
    "product_id": 50,
    "vendor_id": 1,
}

MINI_DAY_AND_DUSK = {
    "name": "LIFX Mini Day and Dusk",
    "identifier": "lifx_mini_day_and_dusk",
    "company": "LIFX",
    "capabilities": {
        "has_color": False,
        "has_variable_color_temp": True,
        "has_ir": False,
        "has_chain": False,
        "has_multizone": False,
        "min_kelvin": 1500,
        "max_kelvin": 4000,
    },
    "product_id": 49,
    "vendor_id": 1,
}


def color_light(**overrides: Any) -> dict[str, Any]:
    return _light(COLOR_ID, "Lamp", product=COLOR_1000, **overrides)


def white_light(**overrides: Any) -> dict[str, Any]:
    overrides.setdefault("color", {"hue": 0, "saturation": 0, "kelvin": 2700})
    return _light(WHITE_ID, "Hall", product=MINI_WHITE, **overrides)


def warm_light(**overrides: Any) -> dict[str, Any]:
    overrides.setdefault("color", {"hue": 0, "saturation": 0, "kelvin": 2700})
    return _light(WARM_ID, "Bedside", product=MINI_DAY_AND_DUSK, **overrides)


def offline_light(**overrides: Any) -> dict[str, Any]:
    overrides.setdefault("connected", False)
    overrides.setdefault("power", "off")
    overrides.setdefault("location", CABIN)
    return _light(OFFLINE_ID, "Porch", product=COLOR_1000, **overrides)


def all_lights() -> list[dict[str, Any]]:
    return [color_light(), white_light(), warm_light(), offline_light()]


def results(light_id: str, status: str = "ok", label: str = "Lamp") -> dict[str, Any]:
    """The 207 multi-status body of ``PUT /lights/:selector/state`` with ``fast: false``."""
    return {"results": [{"id": light_id, "label": label, "status": status}]}


def error(message: str, field: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": message}
    if field:
        body["errors"] = [{"field": field, "message": [message.split(" ", 1)[-1]]}]
    return body


def rate_headers(remaining: int, reset: int, limit: int = 120) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
    }
