"""Hue Remote API (CLIP v2) bodies shaped as Philips documents them.

- every answer is ``{"errors": [{"description": ...}], "data": [...]}`` (CLIP v2 reference);
- ``light``, ``device``, ``bridge`` and ``zigbee_connectivity`` resources with their documented
  fields (a feature object such as ``color`` exists only when the light has the feature);
- ``PUT /resource/light/{id}`` answers ``data: [{"rid", "rtype"}]``; when the bridge cannot talk
  to the light it adds ``errors: [{"description": "device (light) has communication issues,
  command (.on) may not have effect"}]`` (status 207);
- the remote route's token check answers 401 with an Apigee ``fault`` body;
- OAuth (https://developers.meethue.com/develop/hue-api/remote-authentication-oauth/): the
  token endpoint ``https://api.meethue.com/v2/oauth2/token`` answers a refresh with
  ``{"access_token", "expires_in", "refresh_token", "token_type": "bearer"}`` (access tokens live
  7 days: ``expires_in`` 604800); a refused grant with an RFC 6749 ``{"error": ...}`` body or
  the gateway's ``fault`` body.
"""

from __future__ import annotations

import copy
from typing import Any

BASE = "https://hue.test/route"
CLIP = f"{BASE}/clip/v2/resource"
ACCESS_TOKEN = "bCs9ZmE4N2JkLTk1ZjEtNDJkMC05MjEzLTM0Y2E4ZTg3ZGJhZg"
APP_KEY = "a4e08834-0893-4013-b646-738582ec15c9"
REFRESH_TOKEN = "Tq7MGUQ0oTSXmVb6yjDkwRqCtHnQvvWx"
NOW = 1_700_000_000.0  # the clock the adapter under test is given
TOKEN_URL = "https://hue.test/v2/oauth2/token"
CLIENT_ID = "iiY946HrYrrAz0JdW9RLjtLG5ZB1yeIW"
CLIENT_SECRET = "OSaOkbM8fVFaZXUx"
BRIDGE_ID = "001788FFFE6A2B3C"

COLOR_ID = "3e7b5c5a-8f1e-4b8e-9d47-2c1d4ef0a7d1"
AMBIANCE_ID = "0c4b8a77-3f6d-4e0c-8b8e-5a1f2d9c6e10"
WHITE_ID = "7f3e2d1c-0b9a-4877-a665-544332211000"
PLUG_ID = "9a8b7c6d-5e4f-4a3b-9c1d-0e1f2a3b4c5d"

COLOR_DEVICE = "a4a0c7b2-1d0e-4f6a-9b3c-8d7e6f5a4b3c"
AMBIANCE_DEVICE = "b5b1d8c3-2e1f-4a7b-8c4d-9e8f7a6b5c4d"
WHITE_DEVICE = "c6c2e9d4-3f2a-4b8c-9d5e-af9a8b7c6d5e"
PLUG_DEVICE = "d7d3fae5-4a3b-4c9d-ae6f-ba0b9c8d7e6f"

GAMUT_C = {
    "red": {"x": 0.6915, "y": 0.3083},
    "green": {"x": 0.17, "y": 0.7},
    "blue": {"x": 0.1532, "y": 0.0475},
}


def clip(data: list[dict[str, Any]], errors: list[str] | None = None) -> dict[str, Any]:
    return {"errors": [{"description": e} for e in errors or []], "data": data}


def _light(light_id: str, owner: str, name: str, archetype: str, **features: Any) -> dict[str, Any]:
    light = {
        "id": light_id,
        "id_v1": "/lights/1",
        "owner": {"rid": owner, "rtype": "device"},
        "metadata": {"name": name, "archetype": archetype, "function": "mixed"},
        "identify": {},
        "on": {"on": True},
        "mode": "normal",
        "signaling": {"signal_values": ["no_signal", "on_off"]},
        "powerup": {
            "preset": "safety",
            "configured": True,
            "on": {"mode": "on", "on": {"on": True}},
        },
        "type": "light",
    }
    light.update(copy.deepcopy(features))
    return light


def color_light(**overrides: Any) -> dict[str, Any]:
    light = _light(
        COLOR_ID,
        COLOR_DEVICE,
        "Hue color lamp 1",
        "sultan_bulb",
        dimming={"brightness": 73.12, "min_dim_level": 0.2},
        dimming_delta={},
        color_temperature={
            "mirek": None,
            "mirek_valid": False,
            "mirek_schema": {"mirek_minimum": 153, "mirek_maximum": 500},
        },
        color_temperature_delta={},
        color={"xy": {"x": 0.3914, "y": 0.3667}, "gamut": GAMUT_C, "gamut_type": "C"},
        dynamics={
            "status": "none",
            "status_values": ["none", "dynamic_palette"],
            "speed": 0.0,
            "speed_valid": False,
        },
        alert={"action_values": ["breathe"]},
        effects={
            "status_values": ["no_effect", "candle", "fire"],
            "status": "no_effect",
            "effect_values": ["no_effect", "candle", "fire"],
        },
    )
    light.update(overrides)
    return light


def ambiance_light(**overrides: Any) -> dict[str, Any]:
    light = _light(
        AMBIANCE_ID,
        AMBIANCE_DEVICE,
        "Hue ambiance lamp 1",
        "classic_bulb",
        dimming={"brightness": 100.0, "min_dim_level": 2.0},
        dimming_delta={},
        color_temperature={
            "mirek": 366,
            "mirek_valid": True,
            "mirek_schema": {"mirek_minimum": 153, "mirek_maximum": 454},
        },
        color_temperature_delta={},
        dynamics={"status": "none", "status_values": ["none"], "speed": 0.0, "speed_valid": False},
        alert={"action_values": ["breathe"]},
    )
    light.update(overrides)
    return light


def white_light(**overrides: Any) -> dict[str, Any]:
    light = _light(
        WHITE_ID,
        WHITE_DEVICE,
        "Hue white lamp 1",
        "classic_bulb",
        dimming={"brightness": 49.8, "min_dim_level": 5.0},
        dimming_delta={},
        dynamics={"status": "none", "status_values": ["none"], "speed": 0.0, "speed_valid": False},
        alert={"action_values": ["breathe"]},
    )
    light.update(overrides)
    return light


def plug_light(**overrides: Any) -> dict[str, Any]:
    light = _light(PLUG_ID, PLUG_DEVICE, "Hue smart plug 1", "plug")
    light.update(overrides)
    return light


def _device(
    device_id: str, light_id: str, name: str, model: str, product: str, archetype: str
) -> dict[str, Any]:
    return {
        "id": device_id,
        "id_v1": "/lights/1",
        "product_data": {
            "model_id": model,
            "manufacturer_name": "Signify Netherlands B.V.",
            "product_name": product,
            "product_archetype": archetype,
            "certified": True,
            "software_version": "1.104.2",
            "hardware_platform_type": "100b-112",
        },
        "metadata": {"name": name, "archetype": archetype},
        "identify": {},
        "services": [
            {"rid": light_id, "rtype": "light"},
            {"rid": f"{device_id[:8]}-zigb-4000-8000-000000000000", "rtype": "zigbee_connectivity"},
            {
                "rid": f"{device_id[:8]}-swup-4000-8000-000000000000",
                "rtype": "device_software_update",
            },
        ],
        "type": "device",
    }


def devices() -> list[dict[str, Any]]:
    return [
        _device(COLOR_DEVICE, COLOR_ID, "Living room", "LCA001", "Hue color lamp", "sultan_bulb"),
        _device(
            AMBIANCE_DEVICE, AMBIANCE_ID, "Bedroom", "LTA001", "Hue ambiance lamp", "classic_bulb"
        ),
        _device(WHITE_DEVICE, WHITE_ID, "Hallway", "LWA001", "Hue white lamp", "classic_bulb"),
        _device(PLUG_DEVICE, PLUG_ID, "Christmas tree", "LOM001", "Hue smart plug", "plug"),
        {  # the bridge is a device too, and owns no light
            "id": "e8e4abf6-5b4c-4dae-bf70-cb1cad9e8f70",
            "product_data": {
                "model_id": "BSB002",
                "manufacturer_name": "Signify Netherlands B.V.",
                "product_name": "Hue Bridge",
                "product_archetype": "bridge_v2",
                "certified": True,
                "software_version": "1.60.1960149090",
            },
            "metadata": {"name": "Hue Bridge", "archetype": "bridge_v2"},
            "identify": {},
            "services": [{"rid": "07dd5849-abcd-4d6e-9f0a-1b2c3d4e5f60", "rtype": "bridge"}],
            "type": "device",
        },
    ]


def lights() -> list[dict[str, Any]]:
    return [color_light(), ambiance_light(), white_light(), plug_light()]


def bridge() -> dict[str, Any]:
    return {
        "id": "07dd5849-abcd-4d6e-9f0a-1b2c3d4e5f60",
        "id_v1": "",
        "owner": {"rid": "e8e4abf6-5b4c-4dae-bf70-cb1cad9e8f70", "rtype": "device"},
        "bridge_id": BRIDGE_ID.lower(),
        "time_zone": {"time_zone": "Europe/Amsterdam"},
        "type": "bridge",
    }


def connectivity(owner: str, status: str = "connected") -> dict[str, Any]:
    return {
        "id": f"{owner[:8]}-zigb-4000-8000-000000000000",
        "id_v1": "/lights/1",
        "owner": {"rid": owner, "rtype": "device"},
        "status": status,
        "mac_address": "00:17:88:01:0b:aa:bb:cc",
        "type": "zigbee_connectivity",
    }


def put_ok(light_id: str) -> dict[str, Any]:
    return clip([{"rid": light_id, "rtype": "light"}])


def put_unreachable(light_id: str) -> dict[str, Any]:
    return clip(
        [{"rid": light_id, "rtype": "light"}],
        ["device (light) has communication issues, command (.on) may not have effect"],
    )


def fault(faultstring: str, errorcode: str) -> dict[str, Any]:
    """The remote route's (Apigee) error body."""
    return {"fault": {"faultstring": faultstring, "detail": {"errorcode": errorcode}}}


def token_answer(
    access_token: str = "AYZXfqbJXzSXetwcg9HS7V3ZmyAA",
    *,
    refresh_token: str | None = "NeeoF9HkPS50xAUJX8R8q2kMxUOGBGsb",
    expires_in: int | None = 604800,
) -> dict[str, Any]:
    """The token endpoint's answer to a refresh, as the remote authentication page shows it."""
    body: dict[str, Any] = {"access_token": access_token, "token_type": "bearer"}
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
