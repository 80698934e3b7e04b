"""What the sweep needs of the LIFX adapter: its declared quota, and every light with its state
from one ``GET /lights/all`` (``StateLister``).

Sources: https://api.developer.lifx.com/docs/rate-limits ("each access token is limited to 120
requests for a 60 second window") and https://api.developer.lifx.com/docs/list-lights (the
"Bulb Response" example, as ``lifx_payloads`` shapes it: ``connected``, ``power``,
``brightness``, ``color``, ``product``).
"""

from __future__ import annotations

from lifx_payloads import (
    BASE,
    COLOR_ID,
    OFFLINE_ID,
    WARM_ID,
    WHITE_ID,
    all_lights,
    color_light,
    white_light,
)

from bulb_skill_lifx import LifxAdapter
from skill.plugins import DeviceReading, StateLister, VendorQuotas, quotas_of


def test_declares_lifxs_documented_rate_limit() -> None:
    assert quotas_of(LifxAdapter) == VendorQuotas(
        calls_per_minute_per_account=120,
        source="https://api.developer.lifx.com/docs/rate-limits",
    )


def test_is_a_state_lister(adapter) -> None:
    assert isinstance(adapter, StateLister)


def test_read_all_is_one_request_mapped_as_list_and_read(adapter, vendor, credential) -> None:
    vendor.lights("all", all_lights())
    readings = adapter.read_all(credential)
    assert len(vendor.calls) == 1 and vendor.calls[0].request.url == f"{BASE}/lights/all"
    assert all(isinstance(r, DeviceReading) for r in readings)
    by_id = {r.device.id: r for r in readings}
    assert list(by_id) == [COLOR_ID, WHITE_ID, WARM_ID, OFFLINE_ID]

    vendor.lights("all", all_lights())
    listed = {d.id: d for d in adapter.list_devices(credential)}
    for light_id in (COLOR_ID, WHITE_ID, WARM_ID):
        vendor.lights(f"id:{light_id}", [lt for lt in all_lights() if lt["id"] == light_id])
        assert by_id[light_id].device == listed[light_id]
        assert by_id[light_id].state == adapter.read_state(credential, light_id)


def test_a_disconnected_light_is_listed_without_a_state(adapter, vendor, credential) -> None:
    vendor.lights("all", all_lights())
    offline = {r.device.id: r for r in adapter.read_all(credential)}[OFFLINE_ID]
    assert offline.state is None and offline.device.name == "Porch"


def test_a_light_described_without_its_power_has_no_state(adapter, vendor, credential) -> None:
    broken = color_light()
    del broken["power"]
    vendor.lights("all", [broken, white_light()])
    readings = {r.device.id: r.state for r in adapter.read_all(credential)}
    assert readings[COLOR_ID] is None and readings[WHITE_ID] is not None


def test_read_all_learns_the_features_execute_clamps_to(adapter, vendor, credential) -> None:
    vendor.lights("all", all_lights())
    adapter.read_all(credential)
    assert adapter._features[WARM_ID].color_temperature is not None
