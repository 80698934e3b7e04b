"""What each Alexa command does to a bulb's state: the commands, their checks against what a
device can do, and the state each one is expected to reach (``apply_command``).

Example::

    >>> from skill.bulbs import AdjustBrightness, BulbState, Features, apply_command
    >>> off = BulbState(on=False, brightness=60)
    >>> apply_command(off, AdjustBrightness(delta=25), Features(dimmable=True)).brightness
    25
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from skill.bulbs._state import (
    ALEXA_MAX_KELVIN,
    ALEXA_MIN_KELVIN,
    BulbState,
    Color,
    Features,
    KelvinRange,
    _Frozen,
    level_to_restore,
)
from skill.errors import InvalidDirective, InvalidValue, ValueOutOfRange


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
    TurnOn
    | TurnOff
    | SetBrightness
    | AdjustBrightness
    | SetColor
    | SetColorTemperature
    | IncreaseColorTemperature
    | DecreaseColorTemperature,
    Field(discriminator="kind"),
]


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
            # Only Alexa's own range is an error: a value the light cannot show is set to the
            # nearest one it can (apply_command), as ColorTemperatureController asks.
            if not ALEXA_MIN_KELVIN <= kelvin <= ALEXA_MAX_KELVIN:
                raise ValueOutOfRange(
                    f"colour temperature {kelvin} K is outside Alexa's "
                    f"{ALEXA_MIN_KELVIN}-{ALEXA_MAX_KELVIN} K",
                    minimum=ALEXA_MIN_KELVIN,
                    maximum=ALEXA_MAX_KELVIN,
                )
            if features is not None and features.color_temperature is None:
                raise InvalidDirective("this light has no adjustable colour temperature")
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
            return _turned_on(state)
        case TurnOff():
            return state.model_copy(update={"on": False})
        case SetBrightness(brightness=0):
            return _dimmed_off(state)
        case SetBrightness(brightness=value):
            return state.model_copy(
                update={"on": True, "brightness": value, "restore_brightness": None}
            )
        case AdjustBrightness(delta=delta):
            return _adjusted(state, delta)
        case SetColor(color=color):
            return _turned_on(state).model_copy(update={"color": color, "color_mode": "color"})
        case SetColorTemperature(kelvin=kelvin):
            assert features.color_temperature is not None  # validate_command checked it
            return _with_temperature(state, features.color_temperature.clamp(kelvin))
        case IncreaseColorTemperature() | DecreaseColorTemperature():
            assert features.color_temperature is not None  # validate_command checked it
            sign = 1 if isinstance(command, IncreaseColorTemperature) else -1
            current = state.color_temperature or _middle(features.color_temperature)
            target = features.color_temperature.clamp(
                current + sign * features.color_temperature_step
            )
            return _with_temperature(state, target)  # at a limit: stays there
    raise InvalidValue(f"unknown command {command!r}")  # pragma: no cover - exhaustive above


def _turned_on(state: BulbState) -> BulbState:
    return state.model_copy(
        update={"on": True, "brightness": level_to_restore(state), "restore_brightness": None}
    )


def _dimmed_off(state: BulbState) -> BulbState:
    """Brightness 0: the light turns off, reports 0, and keeps the level to restore."""
    return state.model_copy(
        update={"on": False, "brightness": 0, "restore_brightness": level_to_restore(state)}
    )


def _adjusted(state: BulbState, delta: int) -> BulbState:
    if not state.on:
        if delta <= 0:
            return state  # dimming a light that is off leaves it off (at 0 it still reports 0)
        return state.model_copy(
            update={"on": True, "brightness": min(delta, 100), "restore_brightness": None}
        )
    value = max(0, min(100, state.brightness + delta))
    if value == 0:
        return _dimmed_off(state)
    return state.model_copy(update={"brightness": value})


def _with_temperature(state: BulbState, kelvin: int) -> BulbState:
    return _turned_on(state).model_copy(
        update={"color_temperature": kelvin, "color_mode": "temperature"}
    )


def _middle(kelvin_range: KelvinRange) -> int:
    return (kelvin_range.minimum + kelvin_range.maximum) // 2
