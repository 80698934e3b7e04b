"""The LIFX adapter against LIFX's documented answers: the five contract operations."""

from __future__ import annotations

import pytest
from lifx_payloads import (
    BASE,
    CABIN,
    COLOR_ID,
    HOME,
    OFFLINE_ID,
    TOKEN,
    WARM_ID,
    WHITE_ID,
    all_lights,
    color_light,
    offline_light,
    results,
    warm_light,
    white_light,
)

import bulb_skill_lifx
from bulb_skill_lifx import DEFAULT_BASE_URL
from skill.bulbs import BulbState, Change, Color, Features, KelvinRange
from skill.errors import EndpointUnreachable, InvalidValue, NoSuchEndpoint
from skill.plugins import Adapter, AdapterContext, Style, installed_adapters

# -- the plugin itself ---------------------------------------------------------------------------


def test_entry_point_registers_the_factory() -> None:
    assert installed_adapters()["lifx"].load() is bulb_skill_lifx.create


def test_factory_builds_a_sync_adapter_that_meets_the_contract() -> None:
    adapter = bulb_skill_lifx.create(AdapterContext(vendor="lifx", environ={}))
    assert isinstance(adapter, Adapter)
    assert adapter.name == "lifx" and adapter.style is Style.SYNC
    assert adapter._client.base_url == DEFAULT_BASE_URL


def test_every_call_has_a_timeout_well_inside_alexas_eight_seconds() -> None:
    adapter = bulb_skill_lifx.create(AdapterContext(vendor="lifx", environ={}))
    connect, read = adapter._client.timeout
    assert connect <= 2.0 and read <= 3.0


def test_base_url_comes_from_lifx_base_url(adapter, vendor, credential) -> None:
    vendor.lights("all", all_lights())
    adapter.list_devices(credential)
    assert vendor.calls[0].request.url == f"{BASE}/lights/all"


def test_one_session_is_reused_and_sends_the_bearer_token(adapter, vendor, credential) -> None:
    vendor.lights("all", all_lights())
    vendor.lights("all", all_lights())
    session = adapter._client.session
    adapter.list_devices(credential)
    adapter.list_devices(credential)
    assert adapter._client.session is session
    bearer = f"Bearer {TOKEN}"
    assert all(c.request.headers["Authorization"] == bearer for c in vendor.calls)


# -- identify_user -------------------------------------------------------------------------------


def test_user_id_is_stable_and_does_not_reveal_the_account(adapter, vendor, credential) -> None:
    vendor.lights("all", all_lights())
    vendor.lights("all", list(reversed(all_lights())))
    first, second = adapter.identify_user(credential), adapter.identify_user(credential)
    assert first == second and first.startswith("lifx-") and len(first) == 37
    assert HOME["id"] not in first and COLOR_ID not in first and TOKEN not in first


def test_user_id_survives_adding_a_bulb_to_a_known_location(adapter, vendor, credential) -> None:
    vendor.lights("all", [color_light(), offline_light()])
    vendor.lights("all", all_lights())
    assert adapter.identify_user(credential) == adapter.identify_user(credential)


def test_different_accounts_get_different_ids(adapter, vendor, credential) -> None:
    vendor.lights("all", [color_light()])
    vendor.lights("all", [offline_light(location=CABIN)])
    assert adapter.identify_user(credential) != adapter.identify_user(credential)


def test_account_without_lights_cannot_be_identified(adapter, vendor, credential) -> None:
    vendor.lights("all", [])
    with pytest.raises(NoSuchEndpoint):
        adapter.identify_user(credential)


# -- discovery -----------------------------------------------------------------------------------


def test_discovery_lists_every_light_with_its_real_features(adapter, vendor, credential) -> None:
    vendor.lights("all", all_lights())
    devices = {d.id: d for d in adapter.list_devices(credential)}
    assert set(devices) == {COLOR_ID, WHITE_ID, WARM_ID, OFFLINE_ID}
    colour = devices[COLOR_ID]
    assert colour.name == "Lamp" and colour.manufacturer == "LIFX" and colour.model == "Color 1000"
    assert colour.features == Features(
        dimmable=True, color=True, color_temperature=KelvinRange(minimum=2500, maximum=9000)
    )


def test_a_white_bulb_has_no_colour_and_no_temperature_when_fixed(
    adapter, vendor, credential
) -> None:
    vendor.lights("all", [white_light()])
    (device,) = adapter.list_devices(credential)
    assert device.features == Features(dimmable=True, color=False, color_temperature=None)


def test_a_tunable_white_bulb_has_its_own_kelvin_range(adapter, vendor, credential) -> None:
    vendor.lights("all", [warm_light()])
    (device,) = adapter.list_devices(credential)
    assert device.features.color is False
    assert device.features.color_temperature == KelvinRange(minimum=1500, maximum=4000)


def test_kelvin_range_is_clamped_to_alexas_limits(adapter, vendor, credential) -> None:
    light = warm_light()
    light["product"]["capabilities"].update(min_kelvin=500, max_kelvin=12000)
    vendor.lights("all", [light])
    (device,) = adapter.list_devices(credential)
    assert device.features.color_temperature == KelvinRange(minimum=1000, maximum=10000)


def test_disconnected_lights_are_still_discovered(adapter, vendor, credential) -> None:
    vendor.lights("all", [offline_light()])
    assert [d.id for d in adapter.list_devices(credential)] == [OFFLINE_ID]


# -- read_state ----------------------------------------------------------------------------------


def test_state_of_a_coloured_light(adapter, vendor, credential) -> None:
    vendor.lights(f"id:{COLOR_ID}", [color_light()])
    state = adapter.read_state(credential, COLOR_ID)
    assert state.on and state.reachable and state.brightness == 30
    assert state.color_mode == "color"
    assert state.color == Color(hue=59.997253376058595, saturation=1.0, brightness=0.3)
    assert state.color_temperature == 3500


def test_zero_saturation_means_the_light_shows_its_white(adapter, vendor, credential) -> None:
    light = color_light(color={"hue": 120, "saturation": 0, "kelvin": 4000}, brightness=1.0)
    vendor.lights(f"id:{COLOR_ID}", [light])
    state = adapter.read_state(credential, COLOR_ID)
    assert state.color_mode == "temperature" and state.color_temperature == 4000
    assert state.brightness == 100


def test_state_of_a_fixed_white_light_has_no_colour_at_all(adapter, vendor, credential) -> None:
    vendor.lights(f"id:{WHITE_ID}", [white_light(power="off", brightness=0.5)])
    assert adapter.read_state(credential, WHITE_ID) == BulbState(
        on=False, brightness=50, color=None, color_temperature=None, color_mode=None
    )


def test_brightness_is_rounded_and_a_glimmer_is_not_zero(adapter, vendor, credential) -> None:
    vendor.lights(f"id:{COLOR_ID}", [color_light(brightness=0.004)])
    assert adapter.read_state(credential, COLOR_ID).brightness == 1


def test_reachable_follows_connected(adapter, vendor, credential) -> None:
    vendor.lights(f"id:{OFFLINE_ID}", [offline_light()])
    state = adapter.read_state(credential, OFFLINE_ID)
    assert state.reachable is False and state.on is False


def test_unknown_light_is_no_such_endpoint(adapter, vendor, credential) -> None:
    vendor.lights("id:d073d5ffffff", {"error": "Could not find id:d073d5ffffff."}, status=404)
    with pytest.raises(NoSuchEndpoint):
        adapter.read_state(credential, "d073d5ffffff")


def test_an_id_that_cannot_be_a_lifx_light_never_reaches_lifx(adapter, vendor, credential) -> None:
    with pytest.raises(NoSuchEndpoint):
        adapter.read_state(credential, "all/../../me")
    assert vendor.calls == []


# -- execute -------------------------------------------------------------------------------------


def _staged(vendor, light, status: str = "ok") -> None:
    vendor.lights(f"id:{light['id']}", [light])
    vendor.set_state(f"id:{light['id']}", results(light["id"], status, light["label"]))


def test_turn_on_keeps_brightness_and_colour(adapter, vendor, credential) -> None:
    light = color_light(power="off")
    _staged(vendor, light)
    state = adapter.execute(credential, COLOR_ID, Change(on=True))
    assert vendor.sent() == {"fast": False, "power": "on"}
    assert state.on and state.brightness == 30 and state.color_mode == "color"
    assert state.color is not None and state.color.hue == pytest.approx(60, abs=0.01)


def test_turn_off(adapter, vendor, credential) -> None:
    _staged(vendor, color_light())
    state = adapter.execute(credential, COLOR_ID, Change(on=False))
    assert vendor.sent() == {"fast": False, "power": "off"}
    assert state.on is False and state.brightness == 30


def test_set_brightness_sends_a_fraction(adapter, vendor, credential) -> None:
    _staged(vendor, color_light())
    state = adapter.execute(credential, COLOR_ID, Change(brightness=75))
    assert vendor.sent() == {"fast": False, "brightness": 0.75}
    assert state.brightness == 75 and state.color is not None and state.color.brightness == 0.75


def test_brightness_zero_turns_the_light_off_and_keeps_the_level(
    adapter, vendor, credential
) -> None:
    _staged(vendor, color_light())
    state = adapter.execute(credential, COLOR_ID, Change(brightness=0))
    assert vendor.sent() == {"fast": False, "power": "off"}
    assert state.on is False and state.brightness == 30


def test_turn_on_at_a_brightness_in_one_request(adapter, vendor, credential) -> None:
    _staged(vendor, color_light(power="off"))
    state = adapter.execute(credential, COLOR_ID, Change(on=True, brightness=25))
    assert vendor.sent() == {"fast": False, "power": "on", "brightness": 0.25}
    assert state.on and state.brightness == 25


def test_set_colour_sends_hue_and_saturation_and_keeps_kelvin(adapter, vendor, credential) -> None:
    _staged(vendor, color_light(color={"hue": 0, "saturation": 0, "kelvin": 3500}))
    colour = Color(hue=120, saturation=1, brightness=1)
    state = adapter.execute(credential, COLOR_ID, Change(on=True, color=colour))
    assert vendor.sent() == {"fast": False, "power": "on", "color": "hue:120.0 saturation:1.0"}
    assert state.color_mode == "color" and state.color_temperature == 3500
    assert state.color == Color(hue=120, saturation=1, brightness=0.3)


def test_set_colour_temperature_sends_kelvin_and_whitens(adapter, vendor, credential) -> None:
    _staged(vendor, color_light())
    state = adapter.execute(credential, COLOR_ID, Change(color_temperature=2700))
    assert vendor.sent() == {"fast": False, "color": "kelvin:2700"}
    assert state.color_mode == "temperature" and state.color_temperature == 2700
    assert state.color is not None and state.color.saturation == 0


def test_kelvin_outside_the_light_is_clamped_to_its_range(adapter, vendor, credential) -> None:
    _staged(vendor, warm_light())
    state = adapter.execute(credential, WARM_ID, Change(color_temperature=6500))
    assert vendor.sent() == {"fast": False, "color": "kelvin:4000"}
    assert state.color_temperature == 4000 and state.color is None


def test_colour_and_temperature_together_are_refused(adapter, vendor, credential) -> None:
    vendor.lights(f"id:{COLOR_ID}", [color_light()])
    change = Change(color=Color(hue=1, saturation=1, brightness=1), color_temperature=3000)
    with pytest.raises(InvalidValue):
        adapter.execute(credential, COLOR_ID, change)


def test_empty_change_reads_and_sends_nothing(adapter, vendor, credential) -> None:
    vendor.lights(f"id:{COLOR_ID}", [color_light()])
    assert adapter.execute(credential, COLOR_ID, Change()).brightness == 30
    assert len(vendor.calls) == 1


def test_execute_costs_exactly_two_requests(adapter, vendor, credential) -> None:
    _staged(vendor, color_light())
    adapter.execute(credential, COLOR_ID, Change(on=False))
    assert [c.request.method for c in vendor.calls] == ["GET", "PUT"]
    assert vendor.calls[1].request.url == f"{BASE}/lights/id:{COLOR_ID}/state"


@pytest.mark.parametrize("status", ["offline", "timed_out"])
def test_a_light_that_did_not_take_the_command_is_unreachable(adapter, vendor, credential, status):
    _staged(vendor, color_light(), status=status)
    with pytest.raises(EndpointUnreachable, match=status):
        adapter.execute(credential, COLOR_ID, Change(on=True))


def test_multi_status_without_our_light_is_unreachable(adapter, vendor, credential) -> None:
    vendor.lights(f"id:{COLOR_ID}", [color_light()])
    vendor.set_state(f"id:{COLOR_ID}", {"results": []})
    with pytest.raises(EndpointUnreachable):
        adapter.execute(credential, COLOR_ID, Change(on=True))


def test_warnings_next_to_ok_results_do_not_fail_the_command(adapter, vendor, credential) -> None:
    vendor.lights(f"id:{COLOR_ID}", [color_light()])
    body = results(COLOR_ID) | {
        "warnings": [{"unknown_params": {"foo": "bar"}, "warning": "Unknown params"}]
    }
    vendor.set_state(f"id:{COLOR_ID}", body)
    assert adapter.execute(credential, COLOR_ID, Change(on=False)).on is False


def test_unknown_light_on_execute_is_no_such_endpoint(adapter, vendor, credential) -> None:
    vendor.lights("id:d073d5ffffff", {"error": "Could not find id:d073d5ffffff."}, status=404)
    with pytest.raises(NoSuchEndpoint):
        adapter.execute(credential, "d073d5ffffff", Change(on=True))
