"""Directive parsing: the official samples parse, each bad input class maps to its error."""

from __future__ import annotations

import copy

import pytest

from skill.alexa import SUPPORTED, parse_envelope, spec_for
from skill.errors import InvalidDirective, InvalidValue, ValueOutOfRange
from tests.conftest import SAMPLES, sample

OFFICIAL_REQUESTS = sorted(
    str(p.relative_to(SAMPLES))
    for p in SAMPLES.rglob("*.json")
    if "request" in p.name or p.name == "ReportState.json"
)


@pytest.mark.parametrize("relative", OFFICIAL_REQUESTS)
def test_official_sample_directive_parses(relative):
    directive = parse_envelope(sample(relative)).directive
    spec = spec_for(directive)
    if spec.to_command is not None:
        spec.command(directive)
    else:
        spec.parse_payload(directive)


def test_every_supported_directive_has_an_official_sample():
    names = {(parse_envelope(sample(r)).directive.key) for r in OFFICIAL_REQUESTS}
    assert set(SUPPORTED) <= names


def _brightness(value):
    event = sample("BrightnessController/BrightnessController.SetBrightness.request.json")
    event["directive"]["payload"]["brightness"] = value
    return parse_envelope(event).directive


@pytest.mark.parametrize("value", ["50", 50.5, None, True, [50], {"v": 50}])
def test_a_payload_value_of_the_wrong_type_is_invalid_value(value):
    directive = _brightness(value)
    with pytest.raises(InvalidValue):
        spec_for(directive).command(directive)


def test_brightness_out_of_alexa_range_is_value_out_of_range():
    from skill.bulbs import validate_command

    directive = _brightness(150)
    with pytest.raises(ValueOutOfRange):
        validate_command(spec_for(directive).command(directive), None)


def test_a_hue_over_360_is_value_out_of_range():
    event = sample("ColorController/ColorController.SetColor.request.json")
    event["directive"]["payload"]["color"]["hue"] = 400
    directive = parse_envelope(event).directive
    with pytest.raises(ValueOutOfRange):
        spec_for(directive).command(directive)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(
            lambda e: e["directive"]["header"].update(payloadVersion="2"), id="payload_version_2"
        ),
        pytest.param(lambda e: e["directive"]["header"].pop("messageId"), id="no_message_id"),
        pytest.param(lambda e: e.pop("directive"), id="no_directive"),
        pytest.param(lambda e: e["directive"].update(header="x"), id="header_not_object"),
        pytest.param(
            lambda e: e["directive"]["endpoint"].update(endpointId="bad id!"), id="bad_endpoint_id"
        ),
    ],
)
def test_a_malformed_envelope_is_invalid_directive(mutate):
    event = copy.deepcopy(sample("PowerController/PowerController.TurnOn.request.json"))
    mutate(event)
    with pytest.raises(InvalidDirective):
        parse_envelope(event)


def test_an_unknown_namespace_is_invalid_directive():
    event = sample("PowerController/PowerController.TurnOn.request.json")
    event["directive"]["header"]["namespace"] = "Alexa.LockController"
    with pytest.raises(InvalidDirective):
        spec_for(parse_envelope(event).directive)


def _kelvin(value):
    event = sample(
        "ColorTemperatureController/ColorTemperatureController.SetColorTemperature.request.json"
    )
    event["directive"]["payload"]["colorTemperatureInKelvin"] = value
    directive = parse_envelope(event).directive
    return spec_for(directive).command(directive)


@pytest.mark.parametrize("value", [1000, 2200, 7000, 10000])
def test_a_colour_temperature_within_alexas_range_is_taken_whatever_the_bulb(value):
    """Outside the bulb's range it is set to the nearest value later (bulbs.apply_command)."""
    from skill.bulbs import validate_command
    from tests.fakes import TUNABLE

    validate_command(_kelvin(value), TUNABLE)
    validate_command(_kelvin(value), None)


@pytest.mark.parametrize("value", [999, 10001, 0, -1])
def test_a_colour_temperature_outside_alexas_range_is_value_out_of_range(value):
    from skill.bulbs import validate_command
    from tests.fakes import TUNABLE

    for features in (TUNABLE, None):
        with pytest.raises(ValueOutOfRange) as raised:
            validate_command(_kelvin(value), features)
        assert raised.value.payload()["validRange"] == {"minimumValue": 1000, "maximumValue": 10000}


@pytest.mark.parametrize("value", [-101, 101])
def test_a_brightness_delta_outside_alexas_range_is_value_out_of_range(value):
    from skill.bulbs import validate_command

    event = sample("BrightnessController/BrightnessController.AdjustBrightness.request.json")
    event["directive"]["payload"]["brightnessDelta"] = value
    directive = parse_envelope(event).directive
    with pytest.raises(ValueOutOfRange):
        validate_command(spec_for(directive).command(directive), None)


@pytest.mark.parametrize("name", ["saturation", "brightness"])
def test_a_colour_component_over_1_is_value_out_of_range(name):
    event = sample("ColorController/ColorController.SetColor.request.json")
    event["directive"]["payload"]["color"][name] = 1.5
    directive = parse_envelope(event).directive
    with pytest.raises(ValueOutOfRange):
        spec_for(directive).command(directive)
