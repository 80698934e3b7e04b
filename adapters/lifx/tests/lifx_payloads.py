"""LIFX HTTP API bodies shaped exactly as LIFX documents them.

- lights: https://api.developer.lifx.com/docs/list-lights ("Bulb Response" example)
- set-state answers: https://api.developer.lifx.com/docs/set-state and
  https://api.developer.lifx.com/docs/reachability (207 ``results`` with ok/timed_out/offline)
- errors: https://api.developer.lifx.com/docs/errors (``{"error": ..., "errors": [...]}``)
- rate limits: https://api.developer.lifx.com/docs/rate-limits (X-RateLimit-* headers, 429)
- OAuth: the token URL ``https://cloud.lifx.com/oauth/token`` and its ``client_id`` /
  ``client_secret`` parameters from LIFX's *OAuth Integration Guide*
  (https://gist.github.com/smarthall/b6977ce828dd786e2802); LIFX documents no more than that, so
  the refresh answers are RFC 6749's: section 5.1 (success) and 5.2 (``invalid_grant``...)
"""

from __future__ import annotations

import copy
from typing import Any

BASE = "https://lifx.test/v1"
NOW = 1_700_000_000.0  # the clock the adapter under test is given
TOKEN = "c87c73a896b554367fac61f71dd3656af8d93a525a4e87df5952c6078a89d192"
REFRESH_TOKEN = "5d3b6e0c9a0f4e2e8f1b7a6c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e"
TOKEN_URL = "https://cloud.lifx.test/oauth/token"
CLIENT_ID = "b1fa18a4-lifx-client-id"
CLIENT_SECRET = "45daebf2-lifx-client-secret"

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


def token_answer(
    access_token: str = "e2b1c0d9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1",
    *,
    refresh_token: str | None = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
    expires_in: int | None = 7200,
) -> dict[str, Any]:
    """A successful refresh answer (RFC 6749 section 5.1), the scope LIFX's guide names."""
    body: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "Bearer",
        "scope": "remote_control:all",
    }
    if expires_in is not None:
        body["expires_in"] = expires_in
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    return body


def oauth_error(code: str, description: str = "") -> dict[str, Any]:
    """An RFC 6749 section 5.2 error body."""
    body = {"error": code}
    if description:
        body["error_description"] = description
    return body
