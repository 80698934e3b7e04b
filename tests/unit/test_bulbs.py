"""Bulb semantics of DESIGN.md: a command applied to a state gives the expected state."""

from __future__ import annotations

import pytest

from skill.bulbs import (
    AdjustBrightness,
    BulbState,
    Change,
    DecreaseColorTemperature,
    IncreaseColorTemperature,
    SetBrightness,
    SetColor,
    SetColorTemperature,
    TurnOff,
    TurnOn,
    apply_command,
    changes_for,
    converged,
)
from skill.errors import InvalidDirective, ValueOutOfRange
from tests.fakes import COLOR, TUNABLE, WHITE, color

OFF_AT_60 = BulbState(on=False, brightness=60, color=color(120, 1, 1), color_mode="color")
ON_AT_60 = OFF_AT_60.model_copy(update={"on": True})


@pytest.mark.parametrize(
    ("before", "command", "features", "expected"),
    [
        pytest.param(OFF_AT_60, TurnOn(), COLOR, ON_AT_60, id="turn_on_keeps_brightness_and_colour"),
        pytest.param(ON_AT_60, TurnOff(), COLOR, OFF_AT_60, id="turn_off_keeps_brightness"),
        pytest.param(
            ON_AT_60, SetBrightness(brightness=0), WHITE, OFF_AT_60, id="set_brightness_0_turns_off"
        ),
        pytest.param(
            OFF_AT_60,
            SetBrightness(brightness=40),
            WHITE,
            OFF_AT_60.model_copy(update={"on": True, "brightness": 40}),
            id="set_brightness_on_an_off_bulb_turns_it_on",
        ),
        pytest.param(
            OFF_AT_60,
            AdjustBrightness(delta=25),
            WHITE,
            OFF_AT_60.model_copy(update={"on": True, "brightness": 25}),
            id="adjust_up_on_an_off_bulb_turns_it_on_at_the_delta",
        ),
        pytest.param(
            OFF_AT_60, AdjustBrightness(delta=-25), WHITE, OFF_AT_60, id="adjust_down_while_off_stays_off"
        ),
        pytest.param(
            ON_AT_60,
            AdjustBrightness(delta=-60),
            WHITE,
            OFF_AT_60,
            id="adjust_down_to_zero_turns_off",
        ),
        pytest.param(
            ON_AT_60,
            AdjustBrightness(delta=70),
            WHITE,
            ON_AT_60.model_copy(update={"brightness": 100}),
            id="adjust_clamps_at_100",
        ),
        pytest.param(
            OFF_AT_60,
            SetColor(color=color(240, 0.5, 1)),
            COLOR,
            ON_AT_60.model_copy(update={"color": color(240, 0.5, 1)}),
            id="set_color_on_an_off_bulb_turns_it_on",
        ),
        pytest.param(
            OFF_AT_60,
            SetColorTemperature(kelvin=3000),
            TUNABLE,
            ON_AT_60.model_copy(update={"color_temperature": 3000, "color_mode": "temperature"}),
            id="set_color_temperature_on_an_off_bulb_turns_it_on",
        ),
        pytest.param(
            BulbState(on=True, color_temperature=6300, color_mode="temperature"),
            IncreaseColorTemperature(),
            TUNABLE,
            BulbState(on=True, color_temperature=6500, color_mode="temperature"),
            id="increase_is_clamped_to_the_device_maximum",
        ),
        pytest.param(
            BulbState(on=False, color_temperature=4000, color_mode="temperature"),
            DecreaseColorTemperature(),
            TUNABLE,
            BulbState(on=True, color_temperature=3500, color_mode="temperature"),
            id="decrease_on_an_off_bulb_turns_it_on_one_step_warmer",
        ),
        pytest.param(
            BulbState(on=True, color_temperature=2900, color_mode="temperature"),
            DecreaseColorTemperature(),
            TUNABLE,
            BulbState(on=True, color_temperature=2700, color_mode="temperature"),
            id="decrease_is_clamped_to_the_device_minimum",
        ),
    ],
)
def test_command_gives_expected_state(before, command, features, expected):
    assert apply_command(before, command, features) == expected


def test_colour_temperature_outside_the_device_range_is_out_of_range_with_the_device_range():
    with pytest.raises(ValueOutOfRange) as raised:
        apply_command(BulbState(), SetColorTemperature(kelvin=2000), TUNABLE)
    assert raised.value.payload()["validRange"] == {"minimumValue": 2700, "maximumValue": 6500}


def test_brightness_over_100_is_out_of_range():
    with pytest.raises(ValueOutOfRange):
        apply_command(BulbState(), SetBrightness(brightness=101), WHITE)


def test_a_white_bulb_takes_no_colour():
    with pytest.raises(InvalidDirective):
        apply_command(BulbState(), SetColor(color=color(0, 1, 1)), WHITE)


def test_changes_for_a_turn_on_is_only_power():
    assert changes_for(OFF_AT_60, ON_AT_60) == Change(on=True)


def test_changes_for_adjust_on_an_off_bulb_sets_power_and_brightness():
    after = apply_command(OFF_AT_60, AdjustBrightness(delta=25), WHITE)
    assert changes_for(OFF_AT_60, after) == Change(on=True, brightness=25)


def test_converged_when_the_read_back_state_shows_the_change():
    expected = ON_AT_60.model_copy(update={"brightness": 30})
    change = Change(brightness=30)
    assert converged(expected, expected, change)
    assert not converged(ON_AT_60, expected, change)
