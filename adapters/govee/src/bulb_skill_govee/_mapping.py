"""Govee OpenAPI JSON <-> the project's bulb model (``Features``, ``BulbState``, ``Change``).

Capabilities (developer.govee.com, "Get You Devices" / "Control You Devices" / "Device State"):

- ``devices.capabilities.on_off`` / ``powerSwitch``: ENUM, on = 1, off = 0
- ``devices.capabilities.range`` / ``brightness``: INTEGER, ``range: {min, max, precision}``
- ``devices.capabilities.color_setting`` / ``colorRgb``: INTEGER 0-16777215,
  (r << 16) + (g << 8) + b
- ``devices.capabilities.color_setting`` / ``colorTemperatureK``: INTEGER, ``range: {min, max}``
- ``devices.capabilities.online`` / ``online``: state only, boolean
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterable, Mapping
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
from skill.errors import InvalidDirective, NoSuchEndpoint

ON_OFF = "devices.capabilities.on_off"
RANGE = "devices.capabilities.range"
COLOR_SETTING = "devices.capabilities.color_setting"
ONLINE = "devices.capabilities.online"
LIGHT_TYPE = "devices.types.light"

#: Separator of ``"<sku>@<device>"`` ids; ``@`` is in Alexa's endpoint-id alphabet and in no sku.
SEPARATOR = "@"


class BadValue(ValueError):
    """A vendor field that is missing or has the wrong type."""


# --- device ids ---------------------------------------------------------------------------


def device_id(sku: str, device: str) -> str:
    """``"H6601@9D:FA:85:EB:D3:00:8B:FF"``: Govee needs the sku (model) next to the device id
    on every call, so both travel in the id the core encodes into the endpoint id."""
    return f"{sku}{SEPARATOR}{device}"


def split_device_id(value: str) -> tuple[str, str]:
    sku, sep, device = (value or "").partition(SEPARATOR)
    if not sep or not sku or not device or len(value) > 200:
        raise NoSuchEndpoint("not a Govee device id (<sku>@<device>)")
    return sku, device


# --- capabilities -------------------------------------------------------------------------


def find(capabilities: Iterable[Any], kind: str, instance: str) -> Mapping[str, Any] | None:
    for capability in capabilities:
        if (
            isinstance(capability, Mapping)
            and capability.get("type") == kind
            and capability.get("instance") == instance
        ):
            return capability
    return None


def _range(capability: Mapping[str, Any] | None) -> tuple[int, int] | None:
    if capability is None:
        return None
    parameters = capability.get("parameters")
    span = parameters.get("range") if isinstance(parameters, Mapping) else None
    if not isinstance(span, Mapping):
        return None
    low, high = span.get("min"), span.get("max")
    if not isinstance(low, int) or not isinstance(high, int) or low > high:
        return None
    return low, high


def is_light(entry: Mapping[str, Any]) -> bool:
    """A ``devices.types.light`` that can be switched (sockets and sensors are not lights)."""
    capabilities = entry.get("capabilities")
    if not isinstance(capabilities, list) or find(capabilities, ON_OFF, "powerSwitch") is None:
        return False
    kind = entry.get("type")
    if kind is not None:
        return kind == LIGHT_TYPE
    # Older answers omit "type": a switchable device with a light capability is a light.
    return any(
        find(capabilities, t, i) is not None
        for t, i in (
            (RANGE, "brightness"),
            (COLOR_SETTING, "colorRgb"),
            (COLOR_SETTING, "colorTemperatureK"),
        )
    )


def features_from(capabilities: list[Any]) -> Features:
    """What the device says it can do: no ``colorRgb`` -> no colour; the kelvin range from
    ``colorTemperatureK``'s parameters, clipped to what Alexa accepts."""
    kelvin: KelvinRange | None = None
    span = _range(find(capabilities, COLOR_SETTING, "colorTemperatureK"))
    if span is not None:
        low, high = max(span[0], ALEXA_MIN_KELVIN), min(span[1], ALEXA_MAX_KELVIN)
        if low < high:
            kelvin = KelvinRange(minimum=low, maximum=high)
    return Features(
        dimmable=find(capabilities, RANGE, "brightness") is not None,
        color=find(capabilities, COLOR_SETTING, "colorRgb") is not None,
        color_temperature=kelvin,
    )


# --- colour -------------------------------------------------------------------------------


def color_to_int(color: Color) -> int:
    """Alexa HSB -> Govee's ``colorRgb`` integer ((r << 16) + (g << 8) + b)."""
    r, g, b = colorsys.hsv_to_rgb((color.hue % 360) / 360, color.saturation, color.brightness)
    return (round(r * 255) << 16) + (round(g * 255) << 8) + round(b * 255)


def int_to_color(value: int) -> Color:
    r, g, b = (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF
    h, s, v = colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)
    return Color(hue=round(h * 360, 2) % 360, saturation=round(s, 4), brightness=round(v, 4))


# --- state --------------------------------------------------------------------------------


def _value(capabilities: list[Any], kind: str, instance: str) -> Any:
    capability = find(capabilities, kind, instance)
    state = capability.get("state") if capability is not None else None
    return state.get("value") if isinstance(state, Mapping) else None


def _number(value: Any) -> int | None:
    """An integer state value; ``None`` for Govee's empty ``""`` (unknown)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValue(f"{value!r} is not a number")
    return int(value)


def state_from(capabilities: list[Any], advertised: list[Any] | None = None) -> BulbState:
    """A ``BulbState`` from ``/device/state``'s capabilities.

    Govee does not name the colour mode; it reports ``colorTemperatureK`` 0 while the light
    shows an RGB colour, so a non-zero temperature means white mode. ``advertised`` (the
    device's capabilities from the device list, when known): a dimmable device whose state
    leaves its brightness out is unreadable (``BadValue``), not at full brightness; Govee's
    ``""`` (not known yet) still reads as no level.
    """
    power = _number(_value(capabilities, ON_OFF, "powerSwitch"))
    if power not in (0, 1):
        raise BadValue(f"powerSwitch {power!r} is not 0/1")
    update: dict[str, Any] = {"on": power == 1}
    level = _value(capabilities, RANGE, "brightness")
    if level is None and advertised is not None and find(advertised, RANGE, "brightness"):
        raise BadValue("the state of a dimmable device has no brightness")
    brightness = _number(level)
    if brightness is not None:
        update["brightness"] = max(0, min(100, brightness))
    has_rgb = find(capabilities, COLOR_SETTING, "colorRgb") is not None
    rgb = _number(_value(capabilities, COLOR_SETTING, "colorRgb"))
    if rgb is not None:
        if not 0 <= rgb <= 0xFFFFFF:
            raise BadValue(f"colorRgb {rgb} is outside 0-16777215")
        update["color"] = int_to_color(rgb)
    kelvin = _number(_value(capabilities, COLOR_SETTING, "colorTemperatureK"))
    if kelvin:
        update["color_temperature"] = max(ALEXA_MIN_KELVIN, min(ALEXA_MAX_KELVIN, kelvin))
        update["color_mode"] = "temperature"
    elif has_rgb and rgb is not None:
        update["color_mode"] = "color"
    if _value(capabilities, ONLINE, "online") is False:
        update["reachable"] = False
    return BulbState(**update)


# --- commands -----------------------------------------------------------------------------


def capabilities_for(change: Change, advertised: list[Any] | None = None) -> list[dict[str, Any]]:
    """The ``capability`` objects that apply ``change``, one control call each, in order.

    Order: power on first, then colour or colour temperature, then brightness (last, so the
    colour cannot override the level asked for), then power off last. Brightness 0 means off.

    ``advertised`` is the device's ``capabilities`` from the device list ("Get You Devices"):
    brightness and colour temperature are then clamped to their ``parameters.range`` min/max
    (a 2700-6500 K bulb asked for 2200 K gets 2700 K), and a change the device has no capability
    for is refused with ``InvalidDirective`` before anything is sent.
    """
    calls: list[dict[str, Any]] = []
    turn_off = change.on is False
    if change.on is True:
        calls.append({"type": ON_OFF, "instance": "powerSwitch", "value": 1})
    if change.color is not None:
        _require(advertised, COLOR_SETTING, "colorRgb", "colour")
        calls.append(
            {"type": COLOR_SETTING, "instance": "colorRgb", "value": color_to_int(change.color)}
        )
    if change.color_temperature is not None:
        _require(advertised, COLOR_SETTING, "colorTemperatureK", "colour temperature")
        kelvin = _clamp(
            int(change.color_temperature), advertised, COLOR_SETTING, "colorTemperatureK"
        )
        calls.append({"type": COLOR_SETTING, "instance": "colorTemperatureK", "value": kelvin})
    if change.brightness is not None:
        if change.brightness == 0:
            turn_off = turn_off or change.on is not True
        else:
            _require(advertised, RANGE, "brightness", "brightness")
            level = _clamp(max(1, min(100, change.brightness)), advertised, RANGE, "brightness")
            calls.append({"type": RANGE, "instance": "brightness", "value": level})
    if turn_off:
        calls.append({"type": ON_OFF, "instance": "powerSwitch", "value": 0})
    return calls


def _require(advertised: list[Any] | None, kind: str, instance: str, what: str) -> None:
    if advertised is not None and find(advertised, kind, instance) is None:
        raise InvalidDirective(f"this Govee device has no {what} ({instance})")


def _clamp(value: int, advertised: list[Any] | None, kind: str, instance: str) -> int:
    """``value`` inside the capability's advertised ``range`` (unchanged when none is given)."""
    span = _range(find(advertised, kind, instance)) if advertised is not None else None
    if span is None:
        return value
    low, high = span
    return max(low, min(high, value))
