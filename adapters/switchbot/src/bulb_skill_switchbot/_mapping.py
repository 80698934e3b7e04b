"""SwitchBot JSON <-> the project's bulb model (``Features``, ``BulbState``, ``Change``).

Shapes come from the per-device pages of https://github.com/OpenWonderLabs/SwitchBotAPI
(``devices/lighting/*.md``): device list entries, ``GET /devices/{id}/status`` bodies, control
commands, and webhook ``changeReport`` contexts.
"""

from __future__ import annotations

import colorsys
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skill.bulbs import (
    ALEXA_MAX_KELVIN,
    ALEXA_MIN_KELVIN,
    BulbState,
    Change,
    Color,
    Features,
    KelvinRange,
)

#: Every SwitchBot white-spectrum light documents 2700-6500 K.
KELVIN = KelvinRange(minimum=2700, maximum=6500)

_ALL = Features(dimmable=True, color=True, color_temperature=KELVIN)
_RGB = Features(dimmable=True, color=True)
_WHITE = Features(dimmable=True, color_temperature=KELVIN)
_DIM = Features(dimmable=True)


@dataclass(frozen=True, slots=True)
class LightType:
    """A SwitchBot light product: its ``deviceType``, what it can do, and the byte order its
    ``setColor`` parameter takes (see ``SET_COLOR_ORDER``)."""

    device_type: str
    features: Features
    set_color_order: str = "rgb"


#: The byte order of ``setColor``'s ``"{0-255}:{0-255}:{0-255}"``. The README documents every
#: light's parameter as "set RGB color value", but Home Assistant's SwitchBot Cloud integration
#: (home-assistant/core ``homeassistant/components/switchbot_cloud/light.py``, added in
#: core#146382, extended in core#150986 and core#160282) sends ``B:G:R`` for "Strip Light" - its
#: base class - and overrides it to ``R:G:B`` for every other model, the RGBIC Neon lights
#: included. Status bodies and webhook pushes stay ``R:G:B`` for every model (README; Home
#: Assistant reads them so).
SET_COLOR_ORDER = {"rgb": (0, 1, 2), "bgr": (2, 1, 0)}

#: deviceType (device list, status) -> light type. Other device types are not lights.
LIGHT_TYPES: dict[str, LightType] = {
    t.device_type: t
    for t in (
        LightType("Color Bulb", _ALL),
        LightType("Strip Light", _RGB, set_color_order="bgr"),
        LightType("Ceiling Light", _WHITE),
        LightType("Ceiling Light Pro", _WHITE),
        LightType("Floor Lamp", _ALL),
        LightType("Strip Light 3", _ALL),
        LightType("RGBICWW Strip Light", _ALL),
        LightType("RGBICWW Floor Lamp", _ALL),
        LightType("Candle Warmer Lamp", _DIM),
        # README v1.1: status power/brightness (1-100)/color "RGB", commands turnOn/turnOff/
        # setBrightness/setColor; no colour temperature; webhook deviceType = the name.
        LightType("RGBIC Neon Rope Light", _RGB),
        LightType("RGBIC Neon Wire Rope Light", _RGB),
    )
}

#: Webhook ``context.deviceType`` -> deviceType. The older products push a "Wo..." name
#: (README, "Receive events from webhook"), the newer ones their product name.
WEBHOOK_TYPES: dict[str, str] = {
    "WoBulb": "Color Bulb",
    "WoStrip": "Strip Light",
    "WoCeiling": "Ceiling Light",
    "WoCeilingPro": "Ceiling Light Pro",
    **{name: name for name in LIGHT_TYPES},
}

_MAC = re.compile(r"^[0-9A-F]{12}$")


class BadValue(ValueError):
    """A vendor field that is missing or has the wrong type."""


def normalise_mac(mac: str) -> str | None:
    """``"84:F7:03:53:A4:11"`` / ``"84f70353a411"`` -> ``"84F70353A411"`` (SwitchBot's deviceId)."""
    compact = re.sub(r"[:\-\s]", "", mac).upper()
    return compact if _MAC.match(compact) else None


# --- colour -------------------------------------------------------------------------------


def color_to_rgb(color: Color) -> tuple[int, int, int]:
    """Alexa HSB -> 0-255 RGB."""
    r, g, b = colorsys.hsv_to_rgb((color.hue % 360) / 360, color.saturation, color.brightness)
    return round(r * 255), round(g * 255), round(b * 255)


def rgb_to_color(r: int, g: int, b: int) -> Color:
    """0-255 RGB -> Alexa HSB."""
    h, s, v = colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)
    return Color(hue=round(h * 360, 2) % 360, saturation=round(s, 4), brightness=round(v, 4))


def parse_rgb(value: object) -> tuple[int, int, int]:
    """SwitchBot's ``"r:g:b"`` string."""
    if not isinstance(value, str):
        raise BadValue(f"colour {value!r} is not an 'r:g:b' string")
    parts = value.strip().split(":")
    if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
        raise BadValue(f"colour {value!r} is not 'r:g:b'")
    r, g, b = (int(p) for p in parts)
    if not all(0 <= c <= 255 for c in (r, g, b)):
        raise BadValue(f"colour {value!r} has a component outside 0-255")
    return r, g, b


def format_rgb(rgb: tuple[int, int, int], order: str = "rgb") -> str:
    """``setColor``'s parameter: the three bytes in the light's ``set_color_order``."""
    return ":".join(str(rgb[i]) for i in SET_COLOR_ORDER[order])


# --- state --------------------------------------------------------------------------------


def _int(value: object, what: str) -> int:
    if isinstance(value, bool):
        raise BadValue(f"{what} {value!r} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise BadValue(f"{what} {value!r} is not a number")


def _power(value: object) -> bool:
    if isinstance(value, str) and value.strip().lower() in ("on", "off"):
        return value.strip().lower() == "on"
    raise BadValue(f"power {value!r} is not ON/OFF")


def state_from(
    fields: Mapping[str, Any],
    features: Features,
    *,
    power_key: str,
    require_brightness: bool = False,
) -> BulbState:
    """A ``BulbState`` from a status body (``power``) or a webhook context (``powerState``).

    ``color_mode`` is not reported by SwitchBot. For lights with both colour and white: the
    colour is taken as the mode when it is saturated (>= 10 %), white otherwise.
    ``require_brightness`` (a status read of a dimmable light): a body without ``brightness``
    is unreadable (``BadValue``), not at full brightness.
    """
    if power_key not in fields:
        raise BadValue(f"no {power_key}")
    update: dict[str, Any] = {"on": _power(fields[power_key])}
    if require_brightness and features.dimmable and "brightness" not in fields:
        raise BadValue("the status of a dimmable light has no brightness")
    if fields.get("brightness") not in (None, ""):
        update["brightness"] = max(0, min(100, _int(fields["brightness"], "brightness")))
    color: Color | None = None
    if features.color and fields.get("color") not in (None, ""):
        color = rgb_to_color(*parse_rgb(fields["color"]))
        update["color"] = color
    kelvin: int | None = None
    if features.color_temperature and fields.get("colorTemperature") not in (None, "", 0):
        kelvin = _int(fields["colorTemperature"], "colorTemperature")
        kelvin = max(ALEXA_MIN_KELVIN, min(ALEXA_MAX_KELVIN, kelvin))
        update["color_temperature"] = kelvin
    if color is not None and (kelvin is None or color.saturation >= 0.1):
        update["color_mode"] = "color"
    elif kelvin is not None:
        update["color_mode"] = "temperature"
    online = fields.get("onlineStatus", fields.get("online"))
    if online is False or (isinstance(online, str) and online.lower() == "offline"):
        update["reachable"] = False
    return BulbState(**update)


# --- commands -----------------------------------------------------------------------------


def commands_for(change: Change, light: LightType | None = None) -> list[tuple[str, str]]:
    """``(command, parameter)`` pairs that apply ``change`` to ``light``, in the order they are
    sent (a colour needs the light: its ``setColor`` byte order depends on the model).

    Order: ``turnOn`` first (so the attributes land on a lit bulb), then colour or colour
    temperature, then brightness (last, so an RGB value cannot override the level asked for),
    then ``turnOff`` last. Brightness 0 means off. Parameters are strings, as the docs' request
    body table types ``parameter``.
    """
    commands: list[tuple[str, str]] = []
    turn_off = change.on is False
    if change.on is True:
        commands.append(("turnOn", "default"))
    if change.color is not None:
        order = light.set_color_order if light is not None else "rgb"
        commands.append(("setColor", format_rgb(color_to_rgb(change.color), order)))
    if change.color_temperature is not None:
        commands.append(("setColorTemperature", str(KELVIN.clamp(change.color_temperature))))
    if change.brightness is not None:
        if change.brightness == 0:
            turn_off = turn_off or change.on is not True
        else:
            commands.append(("setBrightness", str(change.brightness)))
    if turn_off:
        commands.append(("turnOff", "default"))
    return commands
