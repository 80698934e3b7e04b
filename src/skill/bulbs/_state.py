"""A bulb's state and what a vendor showing it means for what the skill reports.

Immutable models (``BulbState``, ``Features``, ``Change``) and pure functions; no I/O.
``changes_for(before, after)`` gives the attributes an adapter must set; ``carry_zero`` and
``standing`` turn what a vendor shows into what the skill reports (a light dimmed to 0 keeps
reporting 0; an answer just given is not contradicted).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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


def level_to_restore(state: BulbState) -> int:
    """The level a light comes back at when turned on: its brightness, or while that reports 0,
    the last non-zero level (100 when none is known)."""
    return state.brightness if state.brightness > 0 else (state.restore_brightness or 100)


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
