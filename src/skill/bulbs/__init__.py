"""Bulb semantics: what a command does to a bulb's state, in one place for every processor.

Pure functions over immutable models; no I/O. ``apply_command(state, command, features)`` gives
the expected state, and ``changes_for(before, after)`` the attributes an adapter must set.
``carry_zero`` and ``standing`` turn what a vendor shows into what the skill reports (a light
dimmed to 0 keeps reporting 0; an answer just given is not contradicted). The rules, their
sources in Amazon's documentation and their tests: ``docs/conformance.md``.

Every name is imported from here (``from skill.bulbs import BulbState, TurnOn``); each loads
its module on first use, so a function that only reads states (the sweep, a push) does not
build the command models.
"""

from typing import TYPE_CHECKING

from skill._lazy import lazy_exports

if TYPE_CHECKING:
    from skill.bulbs._commands import (
        AdjustBrightness,
        Command,
        DecreaseColorTemperature,
        IncreaseColorTemperature,
        SetBrightness,
        SetColor,
        SetColorTemperature,
        TurnOff,
        TurnOn,
        apply_command,
        validate_command,
    )
    from skill.bulbs._state import (
        ALEXA_MAX_KELVIN,
        ALEXA_MIN_KELVIN,
        BRIGHTNESS_TOLERANCE,
        EXPECTED_STATE_WINDOW_SECONDS,
        HUE_TOLERANCE,
        KELVIN_TOLERANCE,
        SATURATION_TOLERANCE,
        BulbState,
        Change,
        Color,
        Features,
        KelvinRange,
        carry_zero,
        changes_for,
        converged,
        level_to_restore,
        shows,
        standing,
    )

#: Each name's module, imported on first use.
_WHERE = {
    "ALEXA_MAX_KELVIN": "_state",
    "ALEXA_MIN_KELVIN": "_state",
    "BRIGHTNESS_TOLERANCE": "_state",
    "EXPECTED_STATE_WINDOW_SECONDS": "_state",
    "HUE_TOLERANCE": "_state",
    "KELVIN_TOLERANCE": "_state",
    "SATURATION_TOLERANCE": "_state",
    "BulbState": "_state",
    "Change": "_state",
    "Color": "_state",
    "Features": "_state",
    "KelvinRange": "_state",
    "carry_zero": "_state",
    "changes_for": "_state",
    "converged": "_state",
    "level_to_restore": "_state",
    "shows": "_state",
    "standing": "_state",
    "AdjustBrightness": "_commands",
    "Command": "_commands",
    "DecreaseColorTemperature": "_commands",
    "IncreaseColorTemperature": "_commands",
    "SetBrightness": "_commands",
    "SetColor": "_commands",
    "SetColorTemperature": "_commands",
    "TurnOff": "_commands",
    "TurnOn": "_commands",
    "apply_command": "_commands",
    "validate_command": "_commands",
}

__getattr__ = lazy_exports(__name__, _WHERE)

__all__ = [
    "ALEXA_MAX_KELVIN",
    "ALEXA_MIN_KELVIN",
    "BRIGHTNESS_TOLERANCE",
    "EXPECTED_STATE_WINDOW_SECONDS",
    "HUE_TOLERANCE",
    "KELVIN_TOLERANCE",
    "SATURATION_TOLERANCE",
    "AdjustBrightness",
    "BulbState",
    "Change",
    "Color",
    "Command",
    "DecreaseColorTemperature",
    "Features",
    "IncreaseColorTemperature",
    "KelvinRange",
    "SetBrightness",
    "SetColor",
    "SetColorTemperature",
    "TurnOff",
    "TurnOn",
    "apply_command",
    "carry_zero",
    "changes_for",
    "converged",
    "level_to_restore",
    "shows",
    "standing",
    "validate_command",
]
