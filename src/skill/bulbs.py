"""Bulb semantics: what a command does to a bulb's state, in one place for every processor.

Pure functions over immutable models; no I/O. ``apply_command(state, command, features)`` gives
the expected state, and ``changes_for(before, after)`` the attributes an adapter must set.

Example::

    >>> off = BulbState(on=False, brightness=60)
    >>> apply_command(off, AdjustBrightness(delta=25), Features(dimmable=True)).brightness
    25
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from skill.errors import InvalidDirective, InvalidValue, ValueOutOfRange

#: Alexa's own limits for colour temperature (ColorTemperatureController accepts 1000-10000 K).
ALEXA_MIN_KELVIN = 1000
ALEXA_MAX_KELVIN = 10000


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Color(_Frozen):
    """Alexa's HSB colour: hue in degrees, saturation and brightness 0-1."""

    hue: float = Field(ge=0, le=360)
    saturation: float = Field(ge=0, le=1)
    brightness: float = Field(ge=0, le=1)


class KelvinRange(_Frozen):
    minimum: int = Field(ge=ALEXA_MIN_KELVIN, le=ALEXA_MAX_KELVIN)
    maximum: int = Field(ge=ALEXA_MIN_KELVIN, le=ALEXA_MAX_KELVIN)

    def clamp(self, kelvin: int) -> int:
        return max(self.minimum, min(self.maximum, kelvin))

    def __contains__(self, kelvin: object) -> bool:
        return isinstance(kelvin, int | float) and self.minimum <= kelvin <= self.maximum


class Features(_Frozen):
    """What a device can do; discovery turns each feature into an Alexa capability."""

    dimmable: bool = False
    color: bool = False
    color_temperature: KelvinRange | None = None
    #: Kelvin step of Increase/DecreaseColorTemperature, from the device when it says.
    color_temperature_step: int = Field(default=500, gt=0)


class BulbState(_Frozen):
    """What a bulb is doing. ``brightness`` is kept while off so that TurnOn restores it."""

    on: bool = False
    brightness: int = Field(default=100, ge=0, le=100)
    color: Color | None = None
    color_temperature: int | None = Field(default=None, ge=ALEXA_MIN_KELVIN, le=ALEXA_MAX_KELVIN)
    #: Which of colour / colour temperature the bulb shows now (None for plain white bulbs).
    color_mode: Literal["color", "temperature"] | None = None
    reachable: bool = True


class TurnOn(_Frozen):
    kind: Literal["TurnOn"] = "TurnOn"


class TurnOff(_Frozen):
    kind: Literal["TurnOff"] = "TurnOff"


class SetBrightness(_Frozen):
    kind: Literal["SetBrightness"] = "SetBrightness"
    brightness: int


class AdjustBrightness(_Frozen):
    kind: Literal["AdjustBrightness"] = "AdjustBrightness"
    delta: int


class SetColor(_Frozen):
    kind: Literal["SetColor"] = "SetColor"
    color: Color


class SetColorTemperature(_Frozen):
    kind: Literal["SetColorTemperature"] = "SetColorTemperature"
    kelvin: int


class IncreaseColorTemperature(_Frozen):
    kind: Literal["IncreaseColorTemperature"] = "IncreaseColorTemperature"


class DecreaseColorTemperature(_Frozen):
    kind: Literal["DecreaseColorTemperature"] = "DecreaseColorTemperature"


Command = Annotated[
    Union[
        TurnOn,
        TurnOff,
        SetBrightness,
        AdjustBrightness,
        SetColor,
        SetColorTemperature,
        IncreaseColorTemperature,
        DecreaseColorTemperature,
    ],
    Field(discriminator="kind"),
]


class Change(_Frozen):
    """The attributes an adapter must set on the device; ``None`` means leave as is."""

    on: bool | None = None
    brightness: int | None = Field(default=None, ge=0, le=100)
    color: Color | None = None
    color_temperature: int | None = None

    def is_empty(self) -> bool:
        return self == Change()


def validate_command(command: Command, features: Features | None) -> None:
    """Reject a command the device cannot take, before anything is queued or sent.

    ``features`` None means "not known here" (no cookie): only Alexa's own limits are checked.
    """
    match command:
        case SetBrightness(brightness=value):
            if not 0 <= value <= 100:
                raise ValueOutOfRange(f"brightness {value} is not 0-100", minimum=0, maximum=100)
            _require(features, "dimmable", "brightness")
        case AdjustBrightness(delta=delta):
            if not -100 <= delta <= 100:
                raise ValueOutOfRange(
                    f"brightness delta {delta} is not -100-100", minimum=-100, maximum=100
                )
            _require(features, "dimmable", "brightness")
        case SetColor():
            _require(features, "color", "colour")
        case SetColorTemperature(kelvin=kelvin):
            if features is not None and features.color_temperature is None:
                raise InvalidDirective("this light has no adjustable colour temperature")
            valid = features.color_temperature if features is not None else None
            valid = valid or KelvinRange(minimum=ALEXA_MIN_KELVIN, maximum=ALEXA_MAX_KELVIN)
            if kelvin not in valid:
                raise ValueOutOfRange(
                    f"colour temperature {kelvin} K is outside {valid.minimum}-{valid.maximum} K",
                    minimum=valid.minimum,
                    maximum=valid.maximum,
                )
        case IncreaseColorTemperature() | DecreaseColorTemperature():
            if features is not None and features.color_temperature is None:
                raise InvalidDirective("this light has no adjustable colour temperature")


def _require(features: Features | None, feature: str, what: str) -> None:
    if features is not None and not getattr(features, feature):
        raise InvalidDirective(f"this light has no adjustable {what}")


def apply_command(state: BulbState, command: Command, features: Features) -> BulbState:
    """The state a bulb in ``state`` is expected to reach after ``command``."""
    validate_command(command, features)
    match command:
        case TurnOn():
            return state.model_copy(update={"on": True})
        case TurnOff():
            return state.model_copy(update={"on": False})
        case SetBrightness(brightness=0):
            return state.model_copy(update={"on": False})
        case SetBrightness(brightness=value):
            return state.model_copy(update={"on": True, "brightness": value})
        case AdjustBrightness(delta=delta):
            return _adjusted(state, delta)
        case SetColor(color=color):
            return state.model_copy(update={"on": True, "color": color, "color_mode": "color"})
        case SetColorTemperature(kelvin=kelvin):
            return _with_temperature(state, kelvin)
        case IncreaseColorTemperature() | DecreaseColorTemperature():
            assert features.color_temperature is not None  # validate_command checked it
            sign = 1 if isinstance(command, IncreaseColorTemperature) else -1
            current = state.color_temperature or _middle(features.color_temperature)
            target = features.color_temperature.clamp(
                current + sign * features.color_temperature_step
            )
            return _with_temperature(state, target)
    raise InvalidValue(f"unknown command {command!r}")  # pragma: no cover - exhaustive above


def _adjusted(state: BulbState, delta: int) -> BulbState:
    if not state.on:
        if delta <= 0:
            return state  # dimming a bulb that is off leaves it off
        return state.model_copy(update={"on": True, "brightness": min(delta, 100)})
    value = max(0, min(100, state.brightness + delta))
    if value == 0:
        return state.model_copy(update={"on": False})  # keep brightness for the next TurnOn
    return state.model_copy(update={"brightness": value})


def _with_temperature(state: BulbState, kelvin: int) -> BulbState:
    return state.model_copy(
        update={"on": True, "color_temperature": kelvin, "color_mode": "temperature"}
    )


def _middle(kelvin_range: KelvinRange) -> int:
    return (kelvin_range.minimum + kelvin_range.maximum) // 2


def changes_for(before: BulbState, after: BulbState) -> Change:
    """What the adapter must set to take a bulb from ``before`` to ``after``."""
    change: dict[str, object] = {}
    if after.on != before.on:
        change["on"] = after.on
    if after.on and after.brightness != before.brightness:
        change["brightness"] = after.brightness
    if after.color_mode == "color" and (
        after.color != before.color or before.color_mode != "color"
    ):
        change["color"] = after.color
    if after.color_mode == "temperature" and (
        after.color_temperature != before.color_temperature
        or before.color_mode != "temperature"
    ):
        change["color_temperature"] = after.color_temperature
    return Change(**change)


def converged(actual: BulbState, expected: BulbState, change: Change) -> bool:
    """Whether a bulb read back shows what ``change`` asked for (used by polling and push)."""
    if change.on is not None and actual.on != change.on:
        return False
    if change.brightness is not None and actual.brightness != change.brightness:
        return False
    if change.color is not None and not _same_color(actual.color, change.color):
        return False
    if change.color_temperature is not None and actual.color_temperature is not None:
        if abs(actual.color_temperature - change.color_temperature) > 50:
            return False
    return actual.on == expected.on


def _same_color(actual: Color | None, wanted: Color) -> bool:
    if actual is None:
        return False
    hue_gap = abs(actual.hue - wanted.hue) % 360
    return min(hue_gap, 360 - hue_gap) <= 2 and abs(actual.saturation - wanted.saturation) <= 0.02
