"""Bulb semantics: what a command does to a bulb's state, in one place for every processor.

Pure functions over immutable models; no I/O. ``apply_command(state, command, features)`` gives
the expected state, and ``changes_for(before, after)`` the attributes an adapter must set.
``carry_zero`` and ``standing`` turn what a vendor shows into what the skill reports (a light
dimmed to 0 keeps reporting 0; an answer just given is not contradicted). The rules, their
sources in Amazon's documentation and their tests: ``docs/conformance.md``.

Example::

    >>> off = BulbState(on=False, brightness=60)
    >>> apply_command(off, AdjustBrightness(delta=25), Features(dimmable=True)).brightness
    25
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from skill.errors import InvalidDirective, InvalidValue, ValueOutOfRange

#: Alexa's own limits for colour temperature (ColorTemperatureController accepts 1000-10000 K).
ALEXA_MIN_KELVIN = 1000
ALEXA_MAX_KELVIN = 10000

#: How long what the skill answered for a command stands as the bulb's state while the vendor
#: does not show it yet (read-your-writes): ReportState reports it, the sweep reports no change
#: away from it. Ends earlier as soon as the vendor shows it.
EXPECTED_STATE_WINDOW_SECONDS = 10.0

#: Tolerances within which a vendor's reading shows a value (vendors round and convert scales).
BRIGHTNESS_TOLERANCE = 1
KELVIN_TOLERANCE = 50
HUE_TOLERANCE = 2.0
SATURATION_TOLERANCE = 0.02


class _Frozen(BaseModel):
    # defer_build: a model's validator is built when it is first used, so a cold start pays only
    # for the models its path uses
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


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
    """What a bulb is doing, as Alexa is told. ``brightness`` is the reported level: kept while
    a light is turned off (TurnOff), 0 when it was dimmed off (SetBrightness 0, or adjusted down
    to 0); then ``restore_brightness`` is the level the next TurnOn brings back. Vendors never
    set ``restore_brightness``: the skill keeps it (``carry_zero``)."""

    on: bool = False
    brightness: int = Field(default=100, ge=0, le=100)
    #: The last non-zero level, while ``brightness`` reports 0 (None: 100).
    restore_brightness: int | None = Field(default=None, ge=1, le=100)
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


class Change(_Frozen):
    """The attributes an adapter must set on the device; ``None`` means leave as is."""

    on: bool | None = None
    brightness: int | None = Field(default=None, ge=0, le=100)
    color: Color | None = None
    color_temperature: int | None = None

    def is_empty(self) -> bool:
        return self == Change()

    def merged(self, other: Change) -> Change:
        """Both changes' attributes (``other``'s where both set one)."""
        mine, theirs = self.model_dump(exclude_none=True), other.model_dump(exclude_none=True)
        return Change(**{**mine, **theirs})


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


def level_to_restore(state: BulbState) -> int:
    """The level a light comes back at when turned on: its brightness, or while that reports 0,
    the last non-zero level (100 when none is known)."""
    return state.brightness if state.brightness > 0 else (state.restore_brightness or 100)


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
        after.color_temperature != before.color_temperature or before.color_mode != "temperature"
    ):
        change["color_temperature"] = after.color_temperature
    return Change.model_validate(change)


def converged(actual: BulbState, expected: BulbState, change: Change) -> bool:
    """Whether a bulb read back shows what ``change`` asked for (used by polling and push)."""
    if change.on is not None and actual.on != change.on:
        return False
    if (
        change.brightness is not None
        and abs(actual.brightness - change.brightness) > BRIGHTNESS_TOLERANCE
    ):
        return False
    if change.color is not None and not _same_color(actual.color, change.color):
        return False
    if (
        change.color_temperature is not None
        and actual.color_temperature is not None
        and abs(actual.color_temperature - change.color_temperature) > KELVIN_TOLERANCE
    ):
        return False
    return actual.on == expected.on


def _same_color(actual: Color | None, wanted: Color) -> bool:
    if actual is None:
        return False
    hue_gap = abs(actual.hue - wanted.hue) % 360
    return (
        min(hue_gap, 360 - hue_gap) <= HUE_TOLERANCE
        and abs(actual.saturation - wanted.saturation) <= SATURATION_TOLERANCE
    )


def carry_zero(actual: BulbState, known: BulbState | None) -> BulbState:
    """``actual`` (as a vendor shows it) as the skill reports it, given what the skill said last
    (``known``): vendors keep their level while a light is off, so a light the skill dimmed off
    still reports brightness 0, and keeps the level the next TurnOn restores, until it is on
    again."""
    if known is None or actual.on or known.on or known.brightness != 0:
        return actual
    restore = known.restore_brightness or (actual.brightness or None)
    return actual.model_copy(update={"brightness": 0, "restore_brightness": restore})


def shows(actual: BulbState, expected: BulbState) -> bool:
    """Whether ``actual`` shows every property the skill reports of ``expected`` (power,
    brightness, and the colour or colour temperature the light shows), within tolerance."""
    if actual.on != expected.on:
        return False
    if abs(actual.brightness - expected.brightness) > BRIGHTNESS_TOLERANCE:
        return False
    if expected.color_mode == "color" and expected.color is not None:
        if actual.color_mode not in (None, "color"):
            return False
        if not _same_color(actual.color, expected.color):
            return False
    if expected.color_mode == "temperature" and expected.color_temperature is not None:
        if actual.color_mode not in (None, "temperature") or actual.color_temperature is None:
            return False
        if abs(actual.color_temperature - expected.color_temperature) > KELVIN_TOLERANCE:
            return False
    return True


def standing(
    actual: BulbState,
    *,
    last: BulbState | None,
    expected: BulbState | None,
    expected_until: float,
    now: float,
) -> tuple[BulbState, bool]:
    """What to report of a bulb the vendor shows as ``actual``: ``last`` is what the skill told
    last, ``expected`` what it answered for a command (standing until ``expected_until``).

    Returns the state to report and whether the expected state still stands. It stands while
    the window is open and the vendor does not show it yet: an answer just given is never
    contradicted (only connectivity is the vendor's). Once the vendor shows it, or the window
    passed, the vendor's state is reported again."""
    seen = carry_zero(actual, last)
    if expected is None or now >= expected_until or shows(seen, expected):
        return seen, False
    return expected.model_copy(update={"reachable": seen.reachable}), True
