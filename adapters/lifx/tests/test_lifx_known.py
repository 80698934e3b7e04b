"""``execute`` with ``known``: the state the core read a moment before the command spares LIFX its
own read, and the answer is the one a read-first ``execute`` gives (one request instead of two)."""

from __future__ import annotations

import pytest
from lifx_payloads import BASE, COLOR_ID, WARM_ID, color_light, results, warm_light

import bulb_skill_lifx
from skill.bulbs import Change, Color
from skill.errors import InvalidAuthorizationCredential, NoSuchEndpoint
from skill.plugins import ApiKey
from skill.plugins._contract import execute_accepts_known

CHANGES = [
    Change(on=True),
    Change(on=False),
    Change(on=True, brightness=40),
    Change(on=True, color=Color(hue=240, saturation=0.5, brightness=1)),
    Change(on=True, color_temperature=9500),  # beyond the bulb's 9000 K: clamped
]


def stage(vendor, light) -> None:
    vendor.mock.assert_all_requests_are_fired = False  # the read is staged, not always made
    vendor.lights(f"id:{light['id']}", [light])
    vendor.set_state(f"id:{light['id']}", results(light["id"], "ok", light["label"]))


def test_the_core_sees_that_lifx_takes_known(adapter) -> None:
    assert execute_accepts_known(adapter)


@pytest.mark.parametrize("change", CHANGES, ids=repr)
def test_with_known_a_command_is_one_put_and_answers_as_a_read_first_one(
    make_adapter, vendor, credential, change
) -> None:
    light = color_light(power="off")
    stage(vendor, light)
    reading, knowing = make_adapter(), make_adapter()
    known = reading.read_state(credential, COLOR_ID)  # what the core read (and LIFX learnt)
    knowing.read_state(credential, COLOR_ID)
    before = len(vendor.calls)
    read_first = reading.execute(credential, COLOR_ID, change)
    assert [c.request.method for c in vendor.calls[before:]] == ["GET", "PUT"]
    sent_read_first = vendor.sent()
    middle = len(vendor.calls)
    with_known = knowing.execute(credential, COLOR_ID, change, known=known)
    assert [c.request.method for c in vendor.calls[middle:]] == ["PUT"]
    assert vendor.sent() == sent_read_first
    assert with_known == read_first


def test_known_on_a_cold_container_leaves_the_clamp_to_the_core(make_adapter, vendor, credential):
    """No read of the light in this container yet: its kelvin range is unknown here, and the
    core has already clamped the kelvin to the range discovery gave."""
    stage(vendor, warm_light())
    known = make_adapter().read_state(credential, WARM_ID)
    cold = make_adapter()
    before = len(vendor.calls)
    state = cold.execute(credential, WARM_ID, Change(on=True, color_temperature=3000), known=known)
    assert [c.request.method for c in vendor.calls[before:]] == ["PUT"]
    assert vendor.sent()["color"] == "kelvin:3000" and state.color_temperature == 3000


def test_known_never_lets_another_vendors_credential_out(adapter, vendor, credential) -> None:
    light = color_light()
    stage(vendor, light)
    known = adapter.read_state(credential, COLOR_ID)
    before = len(vendor.calls)
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.execute(ApiKey.of("another-vendors-key"), COLOR_ID, Change(on=True), known=known)
    with pytest.raises(NoSuchEndpoint):
        adapter.execute(credential, "not a light id", Change(on=True), known=known)
    assert len(vendor.calls) == before


def test_the_put_goes_where_it_always_did(adapter, vendor, credential) -> None:
    stage(vendor, color_light())
    known = adapter.read_state(credential, COLOR_ID)
    adapter.execute(credential, COLOR_ID, Change(on=False), known=known)
    assert vendor.calls[-1].request.url == f"{BASE}/lights/id:{COLOR_ID}/state"
    assert bulb_skill_lifx.LifxAdapter.execute.__doc__
