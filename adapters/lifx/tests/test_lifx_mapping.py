"""The state ``execute`` returns is the state a later read reports (no extra read needed).

LIFX's set-state semantics (https://api.developer.lifx.com/docs/set-state, /docs/colors) are
modelled here independently of the adapter: fields not sent are untouched, ``hue:``/
``saturation:`` leave kelvin, ``kelvin:`` sets saturation to 0. For every kind of change the
adapter's computed state must equal ``state_of`` the light LIFX would then list.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lifx_payloads import color_light, offline_light, warm_light, white_light

from bulb_skill_lifx._mapping import account_id, applied, features_of, set_state_body, state_of
from skill.bulbs import Change, Color


def lifx_applies(light: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    after = copy.deepcopy(light)
    if "power" in body:
        after["power"] = body["power"]
    if "brightness" in body:
        after["brightness"] = body["brightness"]
    for part in body.get("color", "").split():
        key, _, value = part.partition(":")
        if key == "kelvin":
            after["color"]["kelvin"] = int(value)
            after["color"]["saturation"] = 0.0
        else:
            after["color"][key] = float(value)
    after["connected"] = True
    return after


LIGHTS = {
    "colour-on": color_light(),
    "colour-off": color_light(power="off", brightness=0.8),
    "colour-white": color_light(color={"hue": 200, "saturation": 0, "kelvin": 5000}),
    "tunable-white": warm_light(),
    "fixed-white": white_light(power="off"),
}

CHANGES = {
    "on": Change(on=True),
    "off": Change(on=False),
    "dim": Change(brightness=40),
    "on-and-dim": Change(on=True, brightness=10),
    "zero": Change(brightness=0),
    "colour": Change(on=True, color=Color(hue=240, saturation=0.5, brightness=1)),
    "colour-white": Change(color=Color(hue=10, saturation=0, brightness=1)),
    "kelvin": Change(on=True, color_temperature=3000),
    "kelvin-clamped": Change(color_temperature=9500),
}

#: Which changes the core can send to which light (it never asks a white bulb for colour).
APPLICABLE = {
    "fixed-white": {"on", "off", "dim", "on-and-dim", "zero"},
    "tunable-white": {"on", "off", "dim", "on-and-dim", "zero", "kelvin", "kelvin-clamped"},
}
CASES = [
    (light, change)
    for light in LIGHTS
    for change in CHANGES
    if change in APPLICABLE.get(light, CHANGES.keys())
]


@pytest.mark.parametrize(("light_name", "change_name"), CASES)
def test_computed_state_matches_what_lifx_then_reports(light_name, change_name) -> None:
    light, change = LIGHTS[light_name], CHANGES[change_name]
    features = features_of(light)
    body = set_state_body(change, features)
    assert applied(state_of(light), change, features) == state_of(lifx_applies(light, body))


def test_account_id_ignores_order_and_duplicates() -> None:
    lights = [color_light(), warm_light(), offline_light()]
    assert account_id(lights) == account_id(list(reversed(lights)))


def test_account_id_falls_back_to_light_ids_without_locations() -> None:
    light = color_light()
    del light["location"]
    assert account_id([light]) is not None
    assert account_id([light]) != account_id([color_light()])


def test_account_id_of_no_lights_is_none() -> None:
    assert account_id([]) is None
