"""Bulb semantics of DESIGN.md and docs/conformance.md: a command applied to a state gives the
expected state; what a vendor shows becomes what the skill reports."""

from __future__ import annotations

import pytest

from skill.bulbs import (
    EXPECTED_STATE_WINDOW_SECONDS,
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
    carry_zero,
    changes_for,
    converged,
    shows,
    standing,
    validate_command,
)
from skill.errors import InvalidDirective, ValueOutOfRange
from tests.fakes import COLOR, TUNABLE, WHITE, color

OFF_AT_60 = BulbState(on=False, brightness=60, color=color(120, 1, 1), color_mode="color")
ON_AT_60 = OFF_AT_60.model_copy(update={"on": True})
#: A light dimmed off (SetBrightness 0): reports 0, TurnOn brings 60 back.
AT_ZERO = OFF_AT_60.model_copy(update={"brightness": 0, "restore_brightness": 60})


@pytest.mark.parametrize(
    ("before", "command", "features", "expected"),
    [
        pytest.param(
            OFF_AT_60, TurnOn(), COLOR, ON_AT_60, id="turn_on_keeps_brightness_and_colour"
        ),
        pytest.param(ON_AT_60, TurnOff(), COLOR, OFF_AT_60, id="turn_off_keeps_brightness"),
        pytest.param(
            ON_AT_60,
            SetBrightness(brightness=0),
            WHITE,
            AT_ZERO,
            id="set_brightness_0_turns_off_and_reports_0",
        ),
        pytest.param(
            AT_ZERO, TurnOn(), WHITE, ON_AT_60, id="turn_on_restores_the_last_non_zero_level"
        ),
        pytest.param(
            AT_ZERO,
            AdjustBrightness(delta=-10),
            WHITE,
            AT_ZERO,
            id="adjust_down_at_0_reports_0_and_stays_off",
        ),
        pytest.param(
            AT_ZERO,
            AdjustBrightness(delta=30),
            WHITE,
            ON_AT_60.model_copy(update={"brightness": 30}),
            id="adjust_up_at_0_turns_on_at_the_delta",
        ),
        pytest.param(
            OFF_AT_60,
            SetBrightness(brightness=0),
            WHITE,
            AT_ZERO,
            id="set_brightness_0_on_an_off_light_reports_0",
        ),
        pytest.param(
            AT_ZERO,
            SetColor(color=color(240, 0.5, 1)),
            COLOR,
            ON_AT_60.model_copy(update={"color": color(240, 0.5, 1)}),
            id="set_color_at_0_turns_on_at_the_level_to_restore",
        ),
        pytest.param(
            BulbState(on=False, brightness=0),
            TurnOn(),
            WHITE,
            BulbState(on=True, brightness=100),
            id="turn_on_with_no_level_known_is_full",
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
            OFF_AT_60,
            AdjustBrightness(delta=-25),
            WHITE,
            OFF_AT_60,
            id="adjust_down_while_off_stays_off",
        ),
        pytest.param(
            ON_AT_60,
            AdjustBrightness(delta=-60),
            WHITE,
            AT_ZERO,
            id="adjust_down_to_zero_turns_off_and_reports_0",
        ),
        pytest.param(
            ON_AT_60,
            AdjustBrightness(delta=-100),
            WHITE,
            AT_ZERO,
            id="adjust_down_past_zero_keeps_the_level_before",
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


@pytest.mark.parametrize(
    ("asked", "set_to"), [(2200, 2700), (1000, 2700), (7000, 6500), (10000, 6500), (4000, 4000)]
)
def test_colour_temperature_the_light_cannot_show_is_set_to_the_nearest_it_can(asked, set_to):
    """ColorTemperatureController: "If an endpoint doesn't support a value that a user requests,
    set the endpoint to the nearest possible value." """
    after = apply_command(BulbState(on=True), SetColorTemperature(kelvin=asked), TUNABLE)
    assert after.color_temperature == set_to and after.color_mode == "temperature"


@pytest.mark.parametrize("kelvin", [999, 10001, 0, -5, 20000])
def test_colour_temperature_outside_alexas_range_is_out_of_range_with_alexas_range(kelvin):
    with pytest.raises(ValueOutOfRange) as raised:
        apply_command(BulbState(), SetColorTemperature(kelvin=kelvin), TUNABLE)
    assert raised.value.payload()["validRange"] == {"minimumValue": 1000, "maximumValue": 10000}
    with pytest.raises(ValueOutOfRange):  # also with no features known (entrypoint, no cookie)
        validate_command(SetColorTemperature(kelvin=kelvin), None)


@pytest.mark.parametrize(
    ("command", "at"), [(IncreaseColorTemperature(), 6500), (DecreaseColorTemperature(), 2700)]
)
def test_increase_or_decrease_at_a_limit_stays_at_the_limit(command, at):
    before = BulbState(on=True, color_temperature=at, color_mode="temperature")
    after = apply_command(before, command, TUNABLE)
    assert after == before and changes_for(before, after).is_empty()


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


def test_set_brightness_0_asks_the_vendor_only_to_turn_off():
    assert changes_for(
        ON_AT_60, apply_command(ON_AT_60, SetBrightness(brightness=0), WHITE)
    ) == Change(on=False)


def test_turn_on_after_brightness_0_asks_the_vendor_for_power_and_the_level():
    assert changes_for(AT_ZERO, apply_command(AT_ZERO, TurnOn(), WHITE)) == Change(
        on=True, brightness=60
    )


def test_a_light_dimmed_off_keeps_reporting_0_whatever_level_the_vendor_keeps():
    vendor = OFF_AT_60  # vendors keep their level while off
    assert carry_zero(vendor, AT_ZERO) == AT_ZERO
    assert carry_zero(vendor, None) == vendor
    assert carry_zero(ON_AT_60, AT_ZERO) == ON_AT_60  # on again (say, by hand): its level
    assert carry_zero(vendor, OFF_AT_60) == vendor  # turned off, not dimmed: its level


def test_shows_within_tolerance():
    assert shows(ON_AT_60.model_copy(update={"brightness": 61}), ON_AT_60)
    assert not shows(ON_AT_60.model_copy(update={"brightness": 63}), ON_AT_60)
    assert not shows(OFF_AT_60, ON_AT_60)
    warm = BulbState(on=True, color_temperature=2700, color_mode="temperature")
    assert shows(warm.model_copy(update={"color_temperature": 2740}), warm)
    assert not shows(warm.model_copy(update={"color_temperature": 3000}), warm)
    assert shows(ON_AT_60.model_copy(update={"color": color(121.5, 0.99, 1)}), ON_AT_60)


def test_the_expected_state_stands_until_the_vendor_shows_it_or_the_window_passes():
    answered_at = 1000.0
    until = answered_at + EXPECTED_STATE_WINDOW_SECONDS
    window = {"last": ON_AT_60, "expected": ON_AT_60, "expected_until": until}
    assert standing(OFF_AT_60, now=answered_at + 1, **window) == (ON_AT_60, True)
    assert standing(ON_AT_60, now=answered_at + 1, **window) == (ON_AT_60, False)  # shown
    assert standing(OFF_AT_60, now=until, **window) == (OFF_AT_60, False)  # window passed
    offline = OFF_AT_60.model_copy(update={"reachable": False})
    state, stands = standing(offline, now=answered_at + 1, **window)
    assert stands and state.on and not state.reachable  # connectivity is the vendor's
