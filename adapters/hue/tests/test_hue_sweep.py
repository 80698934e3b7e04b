"""What the sweep needs of the Hue adapter: its declared quota, and every light with its state
from one call (``StateLister``).

Sources: Philips publishes no call quota for the remote API; it documents the bridge's rate,
"stay roughly around 10 commands per second to the /lights resource"
(https://developers.meethue.com/things-you-need-know), declared as 600 calls a minute per
account (one bridge). ``GET /clip/v2/resource`` answers every resource of the bridge in the
CLIP v2 envelope (``{"errors": [], "data": [...]}``, each resource with its ``type``), the
full-state read aiohue (home-assistant-libs/aiohue, ``fetch_full_state``) makes; the bodies are
``hue_payloads``' documented ``light``, ``device``, ``zigbee_connectivity`` and ``bridge``.
"""

from __future__ import annotations

from hue_payloads import (
    AMBIANCE_DEVICE,
    AMBIANCE_ID,
    CLIP,
    COLOR_DEVICE,
    COLOR_ID,
    PLUG_DEVICE,
    PLUG_ID,
    WHITE_DEVICE,
    WHITE_ID,
    bridge,
    clip,
    color_light,
    connectivity,
    devices,
    lights,
)

from bulb_skill_hue import HueAdapter
from skill.plugins import StateLister, VendorQuotas, quotas_of


def _everything(light_list=None, links=None):
    links = (
        links
        if links is not None
        else [
            connectivity(owner)
            for owner in (COLOR_DEVICE, AMBIANCE_DEVICE, WHITE_DEVICE, PLUG_DEVICE)
        ]
    )
    return clip([*(light_list or lights()), *devices(), *links, bridge()])


def test_declares_the_bridge_rate_hue_documents() -> None:
    assert quotas_of(HueAdapter) == VendorQuotas(
        calls_per_minute_per_account=600,
        source="https://developers.meethue.com/things-you-need-know",
    )


def test_is_a_state_lister(adapter) -> None:
    assert isinstance(adapter, StateLister)


def test_read_all_is_one_request_mapped_as_list_and_read(adapter, vendor, credential) -> None:
    vendor.mock.get(CLIP, json=_everything())
    readings = {r.device.id: r for r in adapter.read_all(credential)}
    assert len(vendor.calls) == 1 and vendor.calls[0].request.url == CLIP
    assert list(readings) == [COLOR_ID, AMBIANCE_ID, WHITE_ID, PLUG_ID]

    vendor.get("light", clip(lights()))
    vendor.get("device", clip(devices()))
    listed = {d.id: d for d in adapter.list_devices(credential)}
    for light in lights():
        vendor.get(f"light/{light['id']}", clip([light]))
        vendor.get("zigbee_connectivity", clip([connectivity(light["owner"]["rid"])]))
        assert readings[light["id"]].device == listed[light["id"]]
        assert readings[light["id"]].state == adapter.read_state(credential, light["id"])


def test_a_light_zigbee_cannot_reach_has_no_state(adapter, vendor, credential) -> None:
    links = [connectivity(COLOR_DEVICE, "connectivity_issue"), connectivity(WHITE_DEVICE)]
    vendor.mock.get(CLIP, json=_everything(links=links))
    readings = {r.device.id: r.state for r in adapter.read_all(credential)}
    assert readings[COLOR_ID] is None
    # no zigbee_connectivity for a light: nothing says unreachable, as read_state assumes
    assert readings[AMBIANCE_ID] is not None and readings[AMBIANCE_ID].reachable


def test_a_light_described_without_on_has_no_state(adapter, vendor, credential) -> None:
    broken = color_light()
    del broken["on"]
    vendor.mock.get(CLIP, json=_everything(light_list=[broken, *lights()[1:]]))
    readings = {r.device.id: r.state for r in adapter.read_all(credential)}
    assert readings[COLOR_ID] is None and readings[WHITE_ID] is not None


def test_read_all_learns_the_capabilities_commands_need(adapter, vendor, credential) -> None:
    vendor.mock.get(CLIP, json=_everything())
    adapter.read_all(credential)
    assert adapter._capabilities[COLOR_ID].gamut is not None
