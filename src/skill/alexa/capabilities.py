"""Alexa capabilities of a light: each describes itself for discovery and reads its property
from a ``BulbState``, so Discover, ReportState, Response and ChangeReport share one code path.

Example::

    >>> caps = capabilities_for(Features(dimmable=True))
    >>> [c.interface for c in caps]   # each describe()s itself for Discover
    ['Alexa.PowerController', 'Alexa.BrightnessController', 'Alexa.EndpointHealth']
    >>> caps[1].properties(BulbState(on=True, brightness=40), sampled_at=0.0)
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'namespace': 'Alexa.BrightnessController', 'name': 'brightness', 'value': 40,
      'timeOfSample': '1970-01-01T00:00:00.000Z', 'uncertaintyInMilliseconds': 500}]
"""

from __future__ import annotations

from typing import Any, ClassVar

from skill.bulbs import BulbState, Color, Features


def time_of_sample(epoch_seconds: float) -> str:
    """ISO 8601 UTC with milliseconds and ``Z``, as the schema's TimeOfSample pattern wants."""
    import time

    whole = int(epoch_seconds)
    millis = round((epoch_seconds - whole) * 1000)
    if millis == 1000:
        whole, millis = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


#: A value read from the vendor a moment ago.
DEFAULT_UNCERTAINTY_MS = 500


class Capability:
    """One Alexa interface with a single reportable property. Stateless but for what a
    subclass declares in its ``__slots__``."""

    __slots__ = ()
    interface: ClassVar[str]
    property_name: ClassVar[str]

    def describe(self) -> dict[str, Any]:
        return {
            "type": "AlexaInterface",
            "interface": self.interface,
            "version": "3",
            "properties": {
                "supported": [{"name": self.property_name}],
                "proactivelyReported": True,
                "retrievable": True,
            },
        }

    def value(self, state: BulbState) -> Any:
        raise NotImplementedError

    def properties(
        self, state: BulbState, sampled_at: float, uncertainty_ms: int = DEFAULT_UNCERTAINTY_MS
    ) -> list[dict[str, Any]]:
        """The property as Alexa wants it: ``timeOfSample`` when the value was recorded,
        ``uncertaintyInMilliseconds`` how long since it was last confirmed."""
        return [
            {
                "namespace": self.interface,
                "name": self.property_name,
                "value": self.value(state),
                "timeOfSample": time_of_sample(sampled_at),
                "uncertaintyInMilliseconds": max(0, int(uncertainty_ms)),
            }
        ]


class PowerController(Capability):
    __slots__ = ()
    interface = "Alexa.PowerController"
    property_name = "powerState"

    def value(self, state: BulbState) -> str:
        return "ON" if state.on else "OFF"


class BrightnessController(Capability):
    __slots__ = ()
    interface = "Alexa.BrightnessController"
    property_name = "brightness"

    def value(self, state: BulbState) -> int:
        return state.brightness


class ColorController(Capability):
    __slots__ = ()
    interface = "Alexa.ColorController"
    property_name = "color"

    def value(self, state: BulbState) -> dict[str, float]:
        color = state.color or Color(hue=0, saturation=0, brightness=1)
        return {"hue": color.hue, "saturation": color.saturation, "brightness": color.brightness}


class ColorTemperatureController(Capability):
    __slots__ = ("default_kelvin",)
    interface = "Alexa.ColorTemperatureController"
    property_name = "colorTemperatureInKelvin"

    def __init__(self, default_kelvin: int = 4000) -> None:
        #: Reported while the state has no colour temperature (the middle of the bulb's range).
        self.default_kelvin = default_kelvin

    def value(self, state: BulbState) -> int:
        return state.color_temperature or self.default_kelvin


class EndpointHealth(Capability):
    __slots__ = ()
    interface = "Alexa.EndpointHealth"
    property_name = "connectivity"

    def value(self, state: BulbState) -> dict[str, str]:
        return {"value": "OK" if state.reachable else "UNREACHABLE"}


class AlexaInterface:
    """The base ``Alexa`` interface every endpoint declares; it has no properties."""

    def describe(self) -> dict[str, Any]:
        return {"type": "AlexaInterface", "interface": "Alexa", "version": "3"}

    def properties(
        self, state: BulbState, sampled_at: float, uncertainty_ms: int = DEFAULT_UNCERTAINTY_MS
    ) -> list[dict[str, Any]]:
        return []


def capabilities_for(features: Features) -> list[Capability]:
    """The reportable capabilities of a light with ``features`` (``Alexa`` not included)."""
    capabilities: list[Capability] = [PowerController()]
    if features.dimmable:
        capabilities.append(BrightnessController())
    if features.color:
        capabilities.append(ColorController())
    if features.color_temperature is not None:
        middle = (features.color_temperature.minimum + features.color_temperature.maximum) // 2
        capabilities.append(ColorTemperatureController(default_kelvin=middle))
    capabilities.append(EndpointHealth())
    return capabilities


def state_properties(
    features: Features,
    state: BulbState,
    sampled_at: float,
    *,
    uncertainty_ms: int = DEFAULT_UNCERTAINTY_MS,
    health_sampled_at: float | None = None,
) -> list[dict[str, Any]]:
    """Every reportable property of a light, for a context or a ChangeReport.

    For cached values (a bulb that cannot be read now), ``sampled_at`` is when they were
    recorded and ``uncertainty_ms`` how long ago; ``health_sampled_at`` is when connectivity was
    found (now), which is then reported with the default uncertainty."""
    properties: list[dict[str, Any]] = []
    for capability in capabilities_for(features):
        if isinstance(capability, EndpointHealth) and health_sampled_at is not None:
            properties += capability.properties(state, health_sampled_at)
        else:
            properties += capability.properties(state, sampled_at, uncertainty_ms)
    return properties
