"""LIFX JSON <-> the project's bulb model. Pure functions, no I/O.

Shapes from https://api.developer.lifx.com/docs/list-lights (a light: ``id``, ``label``,
``connected``, ``power`` "on"/"off", ``brightness`` 0-1, ``color`` {hue 0-360, saturation 0-1,
kelvin}, ``product`` {name, company, capabilities {has_color, has_variable_color_temp,
min_kelvin, max_kelvin}}) and https://api.developer.lifx.com/docs/set-state (``power``,
``brightness`` 0-1, ``color`` string such as ``"hue:120 saturation:1.0"`` or ``"kelvin:3500"``;
a ``kelvin:`` colour sets saturation to 0, ``hue:``/``saturation:`` leave kelvin alone).
A LIFX light shows white (its kelvin) exactly when its saturation is 0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from skill.bulbs import (
    ALEXA_MAX_KELVIN,
    ALEXA_MIN_KELVIN,
    BulbState,
    Change,
    Color,
    Features,
    KelvinRange,
)
from skill.errors import EndpointUnreachable, InvalidValue
from skill.plugins import Device

Light = Mapping[str, Any]
ColorMode = Literal["color", "temperature"] | None


def _clamp_kelvin(kelvin: float) -> int:
    return max(ALEXA_MIN_KELVIN, min(ALEXA_MAX_KELVIN, round(kelvin)))


def _capabilities(light: Light) -> Mapping[str, Any]:
    product = light.get("product") or {}
    return product.get("capabilities") or {}


def features_of(light: Light) -> Features:
    """What Alexa may ask of this light, from its product capabilities.

    No ``has_color`` -> no colour; a kelvin range only for ``has_variable_color_temp`` with
    ``min_kelvin < max_kelvin``, clamped to Alexa's 1000-10000 K.
    """
    caps = _capabilities(light)
    kelvin_range = None
    if caps.get("has_variable_color_temp"):
        low, high = caps.get("min_kelvin"), caps.get("max_kelvin")
        if isinstance(low, int | float) and isinstance(high, int | float) and low < high:
            kelvin_range = KelvinRange(minimum=_clamp_kelvin(low), maximum=_clamp_kelvin(high))
    return Features(
        dimmable=True, color=bool(caps.get("has_color")), color_temperature=kelvin_range
    )


def device_of(light: Light) -> Device:
    product = light.get("product") or {}
    product_name = str(product.get("name") or "LIFX light")
    return Device(
        id=str(light["id"]),
        name=str(light.get("label") or product_name),
        features=features_of(light),
        manufacturer=str(product.get("company") or "LIFX"),
        model=product_name,
        description=f"LIFX {product_name}"[:128],
    )


def _percent(brightness: Any) -> int:
    """LIFX brightness 0-1 -> 0-100, rounded; a lit light never rounds down to 0. Anything but
    a number is unreadable (``ValueError``): a missing level is not full brightness."""
    if isinstance(brightness, bool) or not isinstance(brightness, int | float):
        raise ValueError(f"brightness {brightness!r} is not a number")
    value = max(0.0, min(1.0, float(brightness)))
    percent = round(value * 100)
    return 1 if percent == 0 and value > 0 else percent


def state_of(light: Light) -> BulbState:
    """The light's state: reachable from ``connected``; colour mode from saturation.

    ``power`` ("on"/"off") and ``brightness`` must be there: a light LIFX describes without
    them is unreadable (``EndpointUnreachable``), not off or at full brightness."""
    try:
        features = features_of(light)
        power = light.get("power")
        if power not in ("on", "off"):
            raise ValueError(f"power {power!r} is not on/off")
        brightness = _percent(light.get("brightness"))
        colour = light.get("color") or {}
        hue = float(colour.get("hue", 0.0)) % 360
        saturation = max(0.0, min(1.0, float(colour.get("saturation", 0.0))))
        kelvin = colour.get("kelvin")
        color = None
        temperature = None
        mode: ColorMode = None
        if features.color:
            color = Color(hue=hue, saturation=saturation, brightness=brightness / 100)
        if isinstance(kelvin, int | float) and (features.color or features.color_temperature):
            temperature = _clamp_kelvin(kelvin)
        if features.color and saturation > 0:
            mode = "color"
        elif temperature is not None:
            mode = "temperature"
        return BulbState(
            on=power == "on",
            brightness=brightness,
            color=color,
            color_temperature=temperature,
            color_mode=mode,
            reachable=light.get("connected") is True,
        )
    except (AttributeError, TypeError, ValueError) as exc:  # not shaped as documented
        raise EndpointUnreachable(f"LIFX described light in an unexpected shape: {exc}") from exc


def set_state_body(change: Change, features: Features) -> dict[str, Any]:
    """The ``PUT /lights/{selector}/state`` body for ``change`` (``fast: false``: wait for the
    light, so the 207 results say whether it took the command).

    Brightness 0 is "off" in the bulb semantics, so it is sent as ``power: off``.
    """
    if change.color is not None and change.color_temperature is not None:
        raise InvalidValue("a change sets either a colour or a colour temperature, not both")
    body: dict[str, Any] = {"fast": False}
    if change.on is not None:
        body["power"] = "on" if change.on else "off"
    if change.brightness is not None:
        if change.brightness == 0:
            body["power"] = "off"
        else:
            body["brightness"] = round(change.brightness / 100, 4)
    if change.color is not None:
        body["color"] = color_string(change.color)
    elif change.color_temperature is not None:
        body["color"] = f"kelvin:{kelvin_for(change.color_temperature, features)}"
    return body


def color_string(color: Color) -> str:
    """``hue:<0-360> saturation:<0-1>``; brightness stays a separate field (bulb semantics)."""
    return f"hue:{round(color.hue % 360, 2)} saturation:{round(color.saturation, 4)}"


def kelvin_for(kelvin: int, features: Features) -> int:
    return features.color_temperature.clamp(kelvin) if features.color_temperature else kelvin


def applied(before: BulbState, change: Change, features: Features) -> BulbState:
    """The state LIFX reports after it answered ``ok`` to ``set_state_body(change)``.

    Mirrors the set-state semantics: fields not sent stay as they were; ``hue``/``saturation``
    keep kelvin; ``kelvin`` sets saturation to 0 and keeps hue.
    """
    body = set_state_body(change, features)
    on = before.on if "power" not in body else body["power"] == "on"
    brightness = change.brightness if "brightness" in body else before.brightness
    assert brightness is not None
    color = before.color
    temperature = before.color_temperature
    mode: ColorMode = before.color_mode
    if change.color is not None:
        color = Color(
            hue=change.color.hue % 360,
            saturation=change.color.saturation,
            brightness=brightness / 100,
        )
        mode = "color" if change.color.saturation > 0 or temperature is None else "temperature"
    elif change.color_temperature is not None:
        temperature = _clamp_kelvin(kelvin_for(change.color_temperature, features))
        if color is not None:
            color = color.model_copy(update={"saturation": 0.0})
        mode = "temperature"
    if color is not None:
        color = color.model_copy(update={"brightness": brightness / 100})
    return BulbState(
        on=on,
        brightness=brightness,
        color=color,
        color_temperature=temperature,
        color_mode=mode,
        reachable=True,
    )


def account_id(lights: Iterable[Light]) -> str | None:
    """A stable, non-reversible id of the account that owns ``lights``.

    LIFX has no "who am I" endpoint, so the id is a SHA-256 over the account's LIFX *location*
    ids (a location is a home; adding or removing bulbs inside it does not change the id), or,
    for lights without a location, their light ids. ``None`` when the account has no lights.
    """
    lights = [light for light in lights if isinstance(light, Mapping)]
    locations = sorted(
        {
            str(location["id"])
            for light in lights
            if isinstance(location := light.get("location"), Mapping) and location.get("id")
        }
    )
    keys = [f"location:{loc}" for loc in locations]
    if not keys:
        keys = sorted(f"light:{light['id']}" for light in lights if light.get("id"))
    if not keys:
        return None
    digest = hashlib.sha256(("bulb-skill/lifx/v1\n" + "\n".join(keys)).encode()).hexdigest()
    return f"lifx-{digest[:32]}"
