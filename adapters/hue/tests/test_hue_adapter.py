"""The Hue adapter against the documented CLIP v2 answers: the contract operations."""

from __future__ import annotations

import pytest
from hue_payloads import (
    ACCESS_TOKEN,
    AMBIANCE_DEVICE,
    AMBIANCE_ID,
    APP_KEY,
    BASE,
    BRIDGE_ID,
    CLIP,
    COLOR_ID,
    PLUG_ID,
    WHITE_DEVICE,
    WHITE_ID,
    ambiance_light,
    bridge,
    clip,
    color_light,
    connectivity,
    devices,
    lights,
    put_ok,
    put_unreachable,
    white_light,
)

import bulb_skill_hue
from bulb_skill_hue import DEFAULT_BASE_URL
from bulb_skill_hue._color import GAMUT_C, in_gamut
from skill.bulbs import BulbState, Change, Color, Features, KelvinRange
from skill.errors import (
    EndpointUnreachable,
    InvalidAuthorizationCredential,
    InvalidDirective,
    InvalidValue,
    NoSuchEndpoint,
)
from skill.plugins import (
    Accepted,
    Adapter,
    AdapterContext,
    ApiKey,
    KeyAndSecret,
    OAuthToken,
    Style,
    installed_adapters,
)

# -- the plugin itself ---------------------------------------------------------------------------


def test_entry_point_registers_the_factory() -> None:
    assert installed_adapters()["hue"].load() is bulb_skill_hue.create


def test_factory_builds_an_optimistic_adapter_that_meets_the_contract() -> None:
    adapter = bulb_skill_hue.create(AdapterContext(vendor="hue", environ={}))
    assert isinstance(adapter, Adapter)
    assert adapter.name == "hue" and adapter.style is Style.OPTIMISTIC
    assert adapter._client.base_url == DEFAULT_BASE_URL
    connect, read = adapter._client.timeout
    assert connect <= 2.0 and read <= 3.0


def test_requests_go_to_hue_base_url_with_both_credentials(adapter, vendor, credential) -> None:
    vendor.get("bridge", clip([bridge()]))
    adapter.identify_user(credential)
    request = vendor.calls[0].request
    assert request.url == f"{BASE}/clip/v2/resource/bridge"
    assert request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.headers["hue-application-key"] == APP_KEY


@pytest.mark.parametrize("own_key", [None, ""], ids=["no-key", "empty-key"])
def test_a_credential_without_its_own_key_uses_the_deployment_key(
    make_adapter, vendor, own_key
) -> None:
    adapter = make_adapter({"HUE_APPLICATION_KEY": "deployment-key"})
    vendor.get("bridge", clip([bridge()]))
    vendor.get("bridge", clip([bridge()]))
    plain = OAuthToken.bearer(ACCESS_TOKEN, application_key=own_key)
    adapter.identify_user(plain)
    adapter.identify_user(plain)
    for call in vendor.calls:
        assert call.request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
        assert call.request.headers["hue-application-key"] == "deployment-key"


def test_a_credential_that_carries_its_key_wins_over_the_deployment_key(
    make_adapter, vendor, credential
):
    adapter = make_adapter({"HUE_APPLICATION_KEY": "deployment-key"})
    vendor.get("bridge", clip([bridge()]))
    adapter.identify_user(credential)
    assert vendor.calls[0].request.headers["hue-application-key"] == APP_KEY


@pytest.mark.parametrize(
    "bad",
    [
        OAuthToken.bearer("", application_key=APP_KEY),
        OAuthToken.bearer(ACCESS_TOKEN),  # no key of its own, and no deployment key
        ApiKey.of("govee-api-key-0123456789"),
        KeyAndSecret.of("switchbot-open-token", "switchbot-secret"),
    ],
    ids=["empty-access-token", "no-application-key", "api-key", "key-and-secret"],
)
def test_without_a_usable_key_and_token_nothing_is_sent(adapter, vendor, bad) -> None:
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.list_devices(bad)
    assert vendor.calls == []


@pytest.mark.parametrize(
    "foreign",
    [ApiKey.of("govee-api-key-0123456789"), KeyAndSecret.of("open-token", "secret-key")],
    ids=["api-key", "key-and-secret"],
)
def test_another_vendors_credential_is_refused_by_every_operation(
    make_adapter, vendor, foreign
) -> None:
    adapter = make_adapter({"HUE_APPLICATION_KEY": "deployment-key"})
    for call in (
        lambda: adapter.identify_user(foreign),
        lambda: adapter.list_devices(foreign),
        lambda: adapter.read_state(foreign, COLOR_ID),
        lambda: adapter.execute(foreign, COLOR_ID, Change(on=True)),
        lambda: adapter.execute(foreign, COLOR_ID, Change()),
    ):
        with pytest.raises(InvalidAuthorizationCredential):
            call()
    assert vendor.calls == []


def test_one_session_is_reused(adapter, vendor, credential) -> None:
    vendor.get("bridge", clip([bridge()]))
    vendor.get("bridge", clip([bridge()]))
    session = adapter._client.session
    adapter.identify_user(credential)
    adapter.identify_user(credential)
    assert adapter._client.session is session


# -- identify_user -------------------------------------------------------------------------------


def test_user_is_identified_by_the_bridge_id(adapter, vendor, credential) -> None:
    vendor.get("bridge", clip([bridge()]))
    assert adapter.identify_user(credential) == f"hue-{BRIDGE_ID.lower()}"


def test_same_bridge_same_user_whatever_the_token(make_adapter, vendor, credential) -> None:
    vendor.get("bridge", clip([bridge()]))
    vendor.get("bridge", clip([bridge()]))
    other = make_adapter({"HUE_APPLICATION_KEY": "k"})
    refreshed = OAuthToken.bearer("refreshed-access-token")
    assert other.identify_user(refreshed) == other.identify_user(credential)


def test_an_account_without_a_bridge_cannot_be_identified(adapter, vendor, credential) -> None:
    vendor.get("bridge", clip([]))
    with pytest.raises(EndpointUnreachable):
        adapter.identify_user(credential)


# -- discovery -----------------------------------------------------------------------------------


def _discover(adapter, vendor, credential):
    vendor.get("light", clip(lights()))
    vendor.get("device", clip(devices()))
    return {d.id: d for d in adapter.list_devices(credential)}


def test_discovery_lists_every_light_named_as_in_the_hue_app(adapter, vendor, credential) -> None:
    found = _discover(adapter, vendor, credential)
    assert set(found) == {COLOR_ID, AMBIANCE_ID, WHITE_ID, PLUG_ID}
    colour = found[COLOR_ID]
    assert colour.name == "Living room"
    assert colour.manufacturer == "Signify Netherlands B.V."
    assert colour.model == "Hue color lamp" and colour.description == "Hue color lamp (LCA001)"


def test_features_come_from_the_light_resource(adapter, vendor, credential) -> None:
    found = _discover(adapter, vendor, credential)
    assert found[COLOR_ID].features == Features(
        dimmable=True, color=True, color_temperature=KelvinRange(minimum=2000, maximum=6535)
    )
    assert found[AMBIANCE_ID].features == Features(
        dimmable=True, color=False, color_temperature=KelvinRange(minimum=2203, maximum=6535)
    )


def test_a_white_bulb_has_no_colour_and_no_temperature(adapter, vendor, credential) -> None:
    found = _discover(adapter, vendor, credential)
    assert found[WHITE_ID].features == Features(dimmable=True, color=False, color_temperature=None)


def test_a_plug_only_switches(adapter, vendor, credential) -> None:
    assert _discover(adapter, vendor, credential)[PLUG_ID].features == Features()


def test_a_device_with_two_lights_keeps_each_lights_name(adapter, vendor, credential) -> None:
    second = white_light(
        id="5e5e5e5e-0000-4000-8000-000000000000",
        metadata={"name": "Spot 2", "archetype": "spot_bulb"},
    )
    fixture = next(d for d in devices() if d["id"] == WHITE_DEVICE)
    fixture["services"].append({"rid": second["id"], "rtype": "light"})
    vendor.get("light", clip([white_light(), second]))
    vendor.get("device", clip([fixture]))
    names = sorted(d.name for d in adapter.list_devices(credential))
    assert names == ["Hue white lamp 1", "Spot 2"]


def test_a_light_whose_device_is_not_listed_is_still_discovered(
    adapter, vendor, credential
) -> None:
    vendor.get("light", clip([color_light()]))
    vendor.get("device", clip([]))
    (device,) = adapter.list_devices(credential)
    assert device.name == "Hue color lamp 1" and device.features.color


# -- read_state ----------------------------------------------------------------------------------


def _read(adapter, vendor, credential, light, status="connected", owner=None):
    vendor.get(f"light/{light['id']}", clip([light]))
    links = [connectivity(owner or light["owner"]["rid"], status), connectivity(WHITE_DEVICE)]
    vendor.get("zigbee_connectivity", clip(links))
    return adapter.read_state(credential, light["id"])


def test_a_colour_light_in_xy_mode(adapter, vendor, credential) -> None:
    state = _read(adapter, vendor, credential, color_light())
    assert state.on and state.reachable and state.brightness == 73
    assert state.color_mode == "color" and state.color_temperature is None
    assert state.color is not None
    assert state.color.hue == pytest.approx(30, abs=0.5)
    assert state.color.saturation == pytest.approx(0.3, abs=0.01)
    assert state.color.brightness == 0.73


def test_a_colour_light_in_temperature_mode(adapter, vendor, credential) -> None:
    light = color_light(
        color_temperature={
            "mirek": 370,
            "mirek_valid": True,
            "mirek_schema": {"mirek_minimum": 153, "mirek_maximum": 500},
        }
    )
    state = _read(adapter, vendor, credential, light)
    assert state.color_mode == "temperature" and state.color_temperature == 2703


def test_an_ambiance_light_reports_kelvin(adapter, vendor, credential) -> None:
    state = _read(adapter, vendor, credential, ambiance_light())
    assert state == BulbState(
        on=True, brightness=100, color_temperature=2732, color_mode="temperature"
    )


def test_kelvin_read_is_kept_inside_the_declared_range(adapter, vendor, credential) -> None:
    light = ambiance_light(
        color_temperature={
            "mirek": 153,
            "mirek_valid": True,
            "mirek_schema": {"mirek_minimum": 153, "mirek_maximum": 454},
        }
    )
    assert _read(adapter, vendor, credential, light).color_temperature == 6535


def test_a_white_light_has_only_brightness(adapter, vendor, credential) -> None:
    state = _read(adapter, vendor, credential, white_light(on={"on": False}))
    assert state == BulbState(on=False, brightness=50)


def test_the_lowest_dim_level_is_not_zero(adapter, vendor, credential) -> None:
    light = white_light(dimming={"brightness": 0.39, "min_dim_level": 0.2})
    assert _read(adapter, vendor, credential, light).brightness == 1


@pytest.mark.parametrize(
    "status", ["disconnected", "connectivity_issue", "unidirectional_incoming"]
)
def test_a_light_the_bridge_cannot_talk_to_is_unreachable(
    adapter, vendor, credential, status
) -> None:
    assert _read(adapter, vendor, credential, color_light(), status=status).reachable is False


def test_a_light_without_zigbee_connectivity_is_assumed_reachable(
    adapter, vendor, credential
) -> None:
    state = _read(adapter, vendor, credential, color_light(), owner=AMBIANCE_DEVICE)
    assert state.reachable is True


def test_an_unknown_light_is_no_such_endpoint(adapter, vendor, credential) -> None:
    vendor.get(f"light/{WHITE_ID}", clip([], ["Not Found"]), status=404)
    with pytest.raises(NoSuchEndpoint):
        adapter.read_state(credential, WHITE_ID)


def test_an_id_that_cannot_be_a_hue_resource_never_reaches_hue(adapter, vendor, credential) -> None:
    with pytest.raises(NoSuchEndpoint):
        adapter.read_state(credential, "../bridge")
    with pytest.raises(NoSuchEndpoint):
        adapter.execute(credential, "light?x=1", Change(on=True))
    assert vendor.calls == []


# -- execute -------------------------------------------------------------------------------------


def test_turn_on_is_one_put_and_accepted(adapter, vendor, credential) -> None:
    vendor.put(f"light/{COLOR_ID}", put_ok(COLOR_ID))
    assert adapter.execute(credential, COLOR_ID, Change(on=True)) == Accepted(reference=None)
    assert vendor.sent() == {"on": {"on": True}}
    assert len(vendor.calls) == 1 and vendor.calls[0].request.url == f"{CLIP}/light/{COLOR_ID}"


def test_turn_off(adapter, vendor, credential) -> None:
    vendor.put(f"light/{COLOR_ID}", put_ok(COLOR_ID))
    adapter.execute(credential, COLOR_ID, Change(on=False))
    assert vendor.sent() == {"on": {"on": False}}


def test_set_brightness(adapter, vendor, credential) -> None:
    vendor.put(f"light/{WHITE_ID}", put_ok(WHITE_ID))
    adapter.execute(credential, WHITE_ID, Change(on=True, brightness=42))
    assert vendor.sent() == {"on": {"on": True}, "dimming": {"brightness": 42.0}}


def test_brightness_zero_turns_off_instead_of_lowest_level(adapter, vendor, credential) -> None:
    vendor.put(f"light/{WHITE_ID}", put_ok(WHITE_ID))
    adapter.execute(credential, WHITE_ID, Change(brightness=0))
    assert vendor.sent() == {"on": {"on": False}}


def test_set_colour_reads_the_gamut_once_then_sends_xy_inside_it(
    adapter, vendor, credential
) -> None:
    vendor.get(f"light/{COLOR_ID}", clip([color_light()]))
    vendor.put(f"light/{COLOR_ID}", put_ok(COLOR_ID))
    vendor.put(f"light/{COLOR_ID}", put_ok(COLOR_ID))
    red = Change(on=True, color=Color(hue=0, saturation=1, brightness=1))
    adapter.execute(credential, COLOR_ID, red)
    adapter.execute(credential, COLOR_ID, red)
    assert [c.request.method for c in vendor.calls] == ["GET", "PUT", "PUT"]
    sent = vendor.sent()
    assert sent["on"] == {"on": True}
    xy = (sent["color"]["xy"]["x"], sent["color"]["xy"]["y"])
    assert in_gamut(xy, GAMUT_C) and xy == pytest.approx((0.6915, 0.3083), abs=1e-4)


def test_after_discovery_a_colour_costs_a_single_request(adapter, vendor, credential) -> None:
    _discover(adapter, vendor, credential)
    vendor.put(f"light/{COLOR_ID}", put_ok(COLOR_ID))
    adapter.execute(credential, COLOR_ID, Change(color=Color(hue=30, saturation=0.3, brightness=1)))
    assert [c.request.method for c in vendor.calls] == ["GET", "GET", "PUT"]
    assert vendor.sent()["color"]["xy"] == pytest.approx({"x": 0.3914, "y": 0.3667}, abs=1e-3)


def test_set_colour_temperature_sends_mirek(adapter, vendor, credential) -> None:
    vendor.get(f"light/{AMBIANCE_ID}", clip([ambiance_light()]))
    vendor.put(f"light/{AMBIANCE_ID}", put_ok(AMBIANCE_ID))
    adapter.execute(credential, AMBIANCE_ID, Change(color_temperature=2700))
    assert vendor.sent() == {"color_temperature": {"mirek": 370}}


def test_colour_temperature_is_clamped_to_the_mirek_schema(adapter, vendor, credential) -> None:
    vendor.get(f"light/{AMBIANCE_ID}", clip([ambiance_light()]))
    vendor.put(f"light/{AMBIANCE_ID}", put_ok(AMBIANCE_ID))
    adapter.execute(credential, AMBIANCE_ID, Change(on=True, color_temperature=1800))
    assert vendor.sent() == {"on": {"on": True}, "color_temperature": {"mirek": 454}}


def test_colour_for_a_white_light_is_refused_without_a_write(adapter, vendor, credential) -> None:
    vendor.get(f"light/{WHITE_ID}", clip([white_light()]))
    colour = Change(color=Color(hue=1, saturation=1, brightness=1))
    with pytest.raises(InvalidDirective):
        adapter.execute(credential, WHITE_ID, colour)
    with pytest.raises(InvalidDirective):
        adapter.execute(credential, WHITE_ID, Change(color_temperature=3000))
    assert [c.request.method for c in vendor.calls] == ["GET"]


def test_colour_and_temperature_together_are_refused(adapter, vendor, credential) -> None:
    _discover(adapter, vendor, credential)
    change = Change(color=Color(hue=1, saturation=1, brightness=1), color_temperature=3000)
    with pytest.raises(InvalidValue):
        adapter.execute(credential, COLOR_ID, change)


def test_empty_change_sends_nothing(adapter, vendor, credential) -> None:
    assert adapter.execute(credential, COLOR_ID, Change()) == Accepted()
    assert vendor.calls == []


def test_a_light_with_communication_issues_still_accepted_the_command(
    adapter, vendor, credential
) -> None:
    """A warning beside an accepted command (see test_hue_fidelity for the sources)."""
    vendor.put(f"light/{COLOR_ID}", put_unreachable(COLOR_ID), status=207)
    assert adapter.execute(credential, COLOR_ID, Change(on=True)) == Accepted()


def test_other_partial_errors_are_invalid_values(adapter, vendor, credential) -> None:
    body = clip([], ["body (.dimming.brightness) value out of range"])
    vendor.put(f"light/{WHITE_ID}", body, status=207)
    with pytest.raises(InvalidValue):
        adapter.execute(credential, WHITE_ID, Change(brightness=50))


def test_an_unknown_light_on_execute_is_no_such_endpoint(adapter, vendor, credential) -> None:
    vendor.put(f"light/{WHITE_ID}", clip([], ["Not Found"]), status=404)
    with pytest.raises(NoSuchEndpoint):
        adapter.execute(credential, WHITE_ID, Change(on=True))


def test_plug_light_on_off(adapter, vendor, credential) -> None:
    vendor.put(f"light/{PLUG_ID}", put_ok(PLUG_ID))
    assert adapter.execute(credential, PLUG_ID, Change(on=False)) == Accepted()
    assert vendor.sent() == {"on": {"on": False}}
