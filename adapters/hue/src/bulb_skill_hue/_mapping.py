"""Hue CLIP v2 JSON <-> the project's bulb model. Pure functions, no I/O.

Resources (Hue CLIP API v2 reference):

- ``light``: ``id``, ``owner`` {rid, rtype: device}, ``metadata.name`` (deprecated in favour of
  the device's), ``on.on``, ``dimming`` {brightness 0-100 (never 0), min_dim_level},
  ``color_temperature`` {mirek or null, mirek_valid, mirek_schema {mirek_minimum,
  mirek_maximum}}, ``color`` {xy {x, y}, gamut {red, green, blue}, gamut_type A|B|C|other}.
  A feature object is present only when the light has that feature.
- ``device``: ``metadata.name``, ``product_data`` {model_id, manufacturer_name, product_name},
  ``services`` [{rid, rtype}].
- ``zigbee_connectivity``: ``owner`` (the device), ``status`` connected | disconnected |
  connectivity_issue | unidirectional_incoming.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bulb_skill_hue._color import (
    Gamut,
    gamut_of,
    hs_to_xy,
    kelvin_range,
    kelvin_to_mirek,
    mirek_to_kelvin,
    xy_to_hs,
)
from skill.bulbs import (
    ALEXA_MAX_KELVIN,
    ALEXA_MIN_KELVIN,
    BulbState,
    Change,
    Color,
    Features,
    KelvinRange,
)
from skill.errors import EndpointUnreachable, InvalidDirective, InvalidValue
from skill.plugins import Device

Resource = Mapping[str, Any]
ColorMode = Literal["color", "temperature"] | None


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What ``execute`` needs to turn a change into a light's units (cached per light), and
    whether it dims (a light once seen dimmable always is: a read without ``dimming`` is a
    malformed answer, not a light that lost its dimmer)."""

    gamut: Gamut | None  # None: no colour
    mirek: tuple[int, int] | None  # (minimum, maximum); None: no colour temperature
    dimmable: bool = False


def capabilities_of(light: Resource) -> Capabilities:
    gamut = gamut_of(light["color"]) if isinstance(light.get("color"), Mapping) else None
    return Capabilities(
        gamut=gamut,
        mirek=_mirek_schema(light),
        dimmable=isinstance(light.get("dimming"), Mapping),
    )


def owner_of(resource: Any) -> str | None:
    """The ``owner.rid`` of a resource (its device), None when it has none or is malformed."""
    owner = resource.get("owner") if isinstance(resource, Mapping) else None
    rid = owner.get("rid") if isinstance(owner, Mapping) else None
    return rid if isinstance(rid, str) else None


def _mirek_schema(light: Resource) -> tuple[int, int] | None:
    temperature = light.get("color_temperature")
    if not isinstance(temperature, Mapping):
        return None
    schema = temperature.get("mirek_schema") or {}
    low, high = schema.get("mirek_minimum"), schema.get("mirek_maximum")
    if isinstance(low, int | float) and isinstance(high, int | float) and 0 < low < high:
        return int(low), int(high)
    return None


def _kelvin_range(mirek: tuple[int, int] | None) -> KelvinRange | None:
    if mirek is None:
        return None
    low, high = kelvin_range(*mirek)
    low = max(ALEXA_MIN_KELVIN, min(ALEXA_MAX_KELVIN, low))
    high = max(ALEXA_MIN_KELVIN, min(ALEXA_MAX_KELVIN, high))
    return KelvinRange(minimum=low, maximum=high) if low < high else None


def features_of(light: Resource) -> Features:
    """Dimmable with ``dimming``, colour with ``color``, a kelvin range from ``mirek_schema``
    (warmest = ``mirek_maximum``), clamped to Alexa's 1000-10000 K."""
    return Features(
        dimmable=isinstance(light.get("dimming"), Mapping),
        color=isinstance(light.get("color"), Mapping),
        color_temperature=_kelvin_range(_mirek_schema(light)),
    )


def device_of(light: Resource, device: Resource | None) -> Device:
    """The light as a discovered device, named and described from its ``device`` resource.

    The device's name is the one users see in the Hue app; a device with several light services
    (e.g. a two-channel fixture) keeps each light's own name so the endpoints stay distinct.
    """
    device = device if isinstance(device, Mapping) else {}
    product = _mapping(device.get("product_data"))
    light_name = _mapping(light.get("metadata")).get("name")
    device_name = _mapping(device.get("metadata")).get("name")
    services = device.get("services")
    lights_on_device = [
        s
        for s in (services if isinstance(services, list) else [])
        if isinstance(s, Mapping) and s.get("rtype") == "light"
    ]
    name = device_name if device_name and len(lights_on_device) <= 1 else light_name
    product_name = str(product.get("product_name") or "Hue light")
    model_id = product.get("model_id")
    description = f"{product_name} ({model_id})" if model_id else product_name
    return Device(
        id=str(light["id"]),
        name=str(name or device_name or product_name),
        features=features_of(light),
        manufacturer=str(product.get("manufacturer_name") or "Signify"),
        model=product_name,
        description=description[:128],
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def reachable_from(status: str | None) -> bool:
    """Only ``connected`` is reachable; a light without a Zigbee connectivity service is
    assumed reachable (nothing says otherwise)."""
    return status is None or status == "connected"


def _percent(brightness: Any) -> int:
    value = max(0.0, min(100.0, float(brightness)))
    percent = round(value)
    return 1 if percent == 0 and value > 0 else percent


def light_mirek(light: Resource) -> float | None:
    """The light's mirek when it is white now, else ``None``.

    Philips documents ``color_temperature.mirek`` as "color temperature in mirek or null when
    the light color is not in the ct spectrum" (CLIP v2 reference, resource ``light``), so a
    number means white (temperature mode) and null means a colour (xy). ``mirek_valid`` is not
    required: lights that are not Hue certified do not set it reliably (Home Assistant dropped
    the check for that reason, home-assistant/core#97263).
    """
    temperature = light.get("color_temperature")
    if not isinstance(temperature, Mapping):
        return None
    mirek = temperature.get("mirek")
    if isinstance(mirek, bool) or not isinstance(mirek, int | float) or mirek <= 0:
        return None
    return float(mirek)


def state_of(light: Resource, connectivity: str | None = None) -> BulbState:
    """The light's state. Colour mode: *temperature* while the light reports a mirek, *colour*
    while it reports none (``light_mirek``). ``on.on`` must be a boolean and a ``dimming``
    object must hold its ``brightness``: a light described without them is unreadable
    (``EndpointUnreachable``), not off or at full brightness."""
    try:
        features = features_of(light)
        on = light["on"]["on"]
        if not isinstance(on, bool):
            raise ValueError(f"on.on {on!r} is not a boolean")
        dimming = light.get("dimming")
        if isinstance(dimming, Mapping):
            level = dimming.get("brightness")
            if isinstance(level, bool) or not isinstance(level, int | float):
                raise ValueError(f"dimming.brightness {level!r} is not a number")
            brightness = _percent(level)
        else:
            brightness = 100
        temperature = None
        mirek = light_mirek(light)
        if features.color_temperature is not None and mirek is not None:
            temperature = features.color_temperature.clamp(mirek_to_kelvin(mirek))
        color = None
        if features.color:
            xy = light["color"]["xy"]
            hue, saturation = xy_to_hs(float(xy["x"]), float(xy["y"]), gamut_of(light["color"]))
            color = Color(hue=hue, saturation=saturation, brightness=brightness / 100)
        mode: ColorMode = "temperature" if temperature is not None else ("color" if color else None)
        return BulbState(
            on=on,
            brightness=brightness,
            color=color,
            color_temperature=temperature,
            color_mode=mode,
            reachable=reachable_from(connectivity),
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise EndpointUnreachable(
            f"Hue described the light in an unexpected shape: {exc!r}"
        ) from exc


def put_body(change: Change, capabilities: Capabilities) -> dict[str, Any]:
    """The ``PUT /resource/light/{id}`` body for ``change``.

    Brightness 0 is "off" in the bulb semantics (Hue would turn 0 into its lowest level), so it
    is sent as ``on: false``. Colour goes as xy inside the light's gamut, temperature as mirek
    inside its schema.
    """
    if change.color is not None and change.color_temperature is not None:
        raise InvalidValue("a change sets either a colour or a colour temperature, not both")
    body: dict[str, Any] = {}
    if change.on is not None:
        body["on"] = {"on": change.on}
    if change.brightness is not None:
        if change.brightness == 0:
            body["on"] = {"on": False}
        else:
            body["dimming"] = {"brightness": float(change.brightness)}
    if change.color is not None:
        if capabilities.gamut is None:
            raise InvalidDirective("this Hue light has no colour")
        x, y = hs_to_xy(change.color.hue, change.color.saturation, capabilities.gamut)
        body["color"] = {"xy": {"x": x, "y": y}}
    elif change.color_temperature is not None:
        if capabilities.mirek is None:
            raise InvalidDirective("this Hue light has no adjustable colour temperature")
        body["color_temperature"] = {
            "mirek": kelvin_to_mirek(change.color_temperature, *capabilities.mirek)
        }
    return body
