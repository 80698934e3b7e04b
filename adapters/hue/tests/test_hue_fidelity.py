"""Hue as its public documentation and the bridges in the field answer (issue 13, "Hue").

Sources, named per test:

- [CLIP-light] Philips Hue CLIP API v2 reference, resource ``light``
  (https://developers.meethue.com/develop/hue-api-v2/api-reference/#resource_light):
  ``color_temperature.mirek`` "color temperature in mirek or null when the light color is not
  in the ct spectrum"; ``mirek_valid`` "Indication whether the value presented in mirek is
  valid"; ``color.xy`` the CIE xy colour.
- [HA-97263] home-assistant/core pull request 97263, "Fix invalid ColorMode on (some) 3rd party
  Hue Color lights": "Some 3rd party lights do not correctly set the mirek_valid flag ...
  assume ColorTemperature if/when the colortemperature value is not None."
- [HA-68231] home-assistant/core issue 68231: since bridge firmware 1.50.1950111030 a PUT answers
  ``device (grouped_light) has communication issues, command (.on) may not have effect`` and
  ``device (grouped_light) is "soft off", command (.on) may not have effect`` in ``errors``.
- [Q42-283] michielpost/Q42.HueApi issue 283: the remote API answers an ``UpdateLight`` with
  ``device (light) has communication issues, command (.on.on) may not have effect``.
"""

from __future__ import annotations

import logging

import pytest
from hue_payloads import (
    AMBIANCE_ID,
    CLIP,
    COLOR_ID,
    ambiance_light,
    clip,
    color_light,
    connectivity,
)

from skill.bulbs import Change
from skill.errors import EndpointUnreachable, InvalidValue
from skill.plugins import Accepted

# -- a warning on an accepted command ---------------------------------------------------------


@pytest.mark.parametrize(
    "description",
    [
        # [HA-68231], for a light rather than a room's grouped_light
        'device (light) is "soft off", command (.on) may not have effect',
        # [Q42-283]
        "device (light) has communication issues, command (.on.on) may not have effect",
        # [HA-68231], verbatim
        "device (grouped_light) has communication issues, command (.on) may not have effect",
    ],
    ids=["soft-off", "communication-issues", "grouped-light"],
)
def test_a_may_not_have_effect_error_is_a_warning_on_an_accepted_command(
    adapter, vendor, credential, description, caplog
) -> None:
    """[HA-68231] [Q42-283]: the bridge took the command (its ``data`` names the light) and
    warns it may not show; that is ``Accepted``, never ``InvalidValue``."""
    answer = clip([{"rid": COLOR_ID, "rtype": "light"}], [description])
    vendor.put(f"light/{COLOR_ID}", answer, status=207)
    with caplog.at_level(logging.WARNING, logger="bulb_skill_hue"):
        assert adapter.execute(credential, COLOR_ID, Change(on=True)) == Accepted()
    assert "may not have effect" in caplog.text


def test_a_warning_beside_a_real_refusal_is_still_a_refusal(adapter, vendor, credential) -> None:
    """[CLIP-light]: a per-resource error that is not a warning still refuses the value."""
    answer = clip(
        [],
        [
            'device (light) is "soft off", command (.on) may not have effect',
            "body (.dimming.brightness) value out of range",
        ],
    )
    vendor.put(f"light/{COLOR_ID}", answer, status=207)
    with pytest.raises(InvalidValue, match="out of range"):
        adapter.execute(credential, COLOR_ID, Change(brightness=50))


# -- colour mode without relying on mirek_valid -----------------------------------------------


def _read(adapter, vendor, credential, light):
    vendor.get(f"light/{light['id']}", clip([light]))
    vendor.get("zigbee_connectivity", clip([connectivity(light["owner"]["rid"])]))
    return adapter.read_state(credential, light["id"])


SCHEMA = {"mirek_minimum": 153, "mirek_maximum": 500}


def test_a_mirek_means_temperature_even_when_mirek_valid_is_false(
    adapter, vendor, credential
) -> None:
    """[HA-97263]: a non-certified colour light in white mode reports its mirek but leaves
    ``mirek_valid`` false; [CLIP-light]: a mirek is only given in the ct spectrum."""
    light = color_light(
        color_temperature={"mirek": 250, "mirek_valid": False, "mirek_schema": SCHEMA},
        color={"xy": {"x": 0.3227, "y": 0.329}, "gamut_type": "other"},
    )
    state = _read(adapter, vendor, credential, light)
    assert state.color_mode == "temperature"
    assert state.color_temperature == 4000


def test_a_mirek_means_temperature_when_mirek_valid_is_absent(adapter, vendor, credential) -> None:
    """[HA-97263]: some third-party lights omit ``mirek_valid`` altogether."""
    light = color_light(color_temperature={"mirek": 370, "mirek_schema": SCHEMA})
    state = _read(adapter, vendor, credential, light)
    assert state.color_mode == "temperature" and state.color_temperature == 2703


def test_no_mirek_means_colour_even_when_mirek_valid_says_otherwise(
    adapter, vendor, credential
) -> None:
    """[CLIP-light]: ``mirek`` null = "not in the ct spectrum": the light shows its xy colour,
    whatever a misreporting light says in ``mirek_valid``."""
    light = color_light(
        color_temperature={"mirek": None, "mirek_valid": True, "mirek_schema": SCHEMA},
        color={"xy": {"x": 0.6915, "y": 0.3083}, "gamut_type": "C"},
    )
    state = _read(adapter, vendor, credential, light)
    assert state.color_mode == "color" and state.color_temperature is None
    assert state.color is not None and state.color.saturation > 0.9


def test_a_certified_light_in_xy_mode_as_documented(adapter, vendor, credential) -> None:
    """[CLIP-light]: the documented colour-mode body (mirek null, mirek_valid false)."""
    state = _read(adapter, vendor, credential, color_light())
    assert state.color_mode == "color" and state.color_temperature is None


def test_an_ambiance_light_without_mirek_valid_reads_its_temperature(
    adapter, vendor, credential
) -> None:
    """[HA-97263] for a white-ambiance light: the mirek is enough."""
    light = ambiance_light(
        color_temperature={
            "mirek": 454,
            "mirek_valid": False,
            "mirek_schema": {"mirek_minimum": 153, "mirek_maximum": 454},
        }
    )
    state = _read(adapter, vendor, credential, light)
    assert state.color_mode == "temperature" and state.color_temperature == 2203
    assert light["id"] == AMBIANCE_ID


# -- the transport: no credential follows a redirect to another host ----------------------------


def test_the_application_key_never_follows_a_redirect_to_another_host(
    adapter, vendor, credential
) -> None:
    """``requests`` would drop the Bearer token but keep ``hue-application-key`` on a redirect
    to another host; the adapter's transport follows no such redirect at all."""
    elsewhere = "https://collector.example/hue"
    vendor.mock.add("GET", f"{CLIP}/bridge", status=302, headers={"Location": elsewhere})
    vendor.mock.add("GET", elsewhere, json={}, status=200)
    with pytest.raises(EndpointUnreachable):
        adapter.identify_user(credential)
    assert [c.request.url for c in vendor.calls] == [f"{CLIP}/bridge"]
    vendor.mock.reset()  # the other host's answer was (rightly) never asked for
