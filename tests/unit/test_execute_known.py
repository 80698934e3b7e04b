"""What ``execute`` knows: the pipeline hands adapters that take it (``known=``) the state it read
just before the command, so an adapter that needs the current state (LIFX) does not read it
again; adapters with the three-argument ``execute`` are called as before. And the measurement:
vendor requests per directive, through the real pipeline and the real LIFX and Hue adapters
(vendors mocked by ``responses``), with and without ``known``.

Figures (asserted below): LIFX 3 -> 2 requests per control directive (one saved: the read
before the PUT); Hue 3 -> 3 (its read before a colour command is of the light's gamut and mirek
range, remembered from the pipeline's own read in the same container, not of its state).
"""

from __future__ import annotations

import json
from typing import Any

import responses

from skill.bulbs import BulbState, Change
from skill.pipeline import Pipeline, PipelineServices
from skill.plugins import AdapterContext, AdapterRegistry, OAuthToken, Style
from skill.plugins._contract import execute_accepts_known
from skill.records import QueuedDirective
from tests.fakes import (
    COLOR,
    USER,
    Clock,
    FakeAdapter,
    MemoryOutbox,
    MemoryPollQueue,
    MemoryStateStore,
    MemoryVault,
    credentials_of,
    registry_of,
    vault_with,
)
from tests.unit.test_entrypoint import directive


def services_for(registry: AdapterRegistry, vault: MemoryVault) -> PipelineServices:
    clock = Clock()
    return PipelineServices(
        adapters=registry,
        credentials=credentials_of(vault),
        outbox=MemoryOutbox(),
        pending=MemoryStateStore(),
        poll_queue=MemoryPollQueue(),
        clock=clock,
        sleep=clock.sleep,
    )


def queued(
    endpoint: str,
    name: str = "TurnOn",
    payload: dict | None = None,
    namespace: str = "Alexa.PowerController",
    features=COLOR,
) -> QueuedDirective:
    event = directive(namespace, name, payload, endpoint_id=endpoint, features=features)
    return QueuedDirective.without_token(
        event["directive"], user_id=USER, received_at=1000.0, deadline=1008.0, features=features
    )


# -- the core's side -------------------------------------------------------------------------


def test_the_pipeline_hands_execute_the_state_it_read() -> None:
    adapter = FakeAdapter(style=Style.SYNC)
    before = adapter.states["color-1"]
    services = services_for(registry_of(adapter), vault_with(adapter))
    Pipeline(services).process(queued("fake:color-1"))
    assert adapter.known == [before]  # exactly what read_state answered a moment earlier


class ThreeArgumentAdapter(FakeAdapter):
    """An adapter written before ``known`` existed."""

    def execute(self, credential, device_id: str, change: Change):  # type: ignore[override]
        return super().execute(credential, device_id, change)


def test_an_adapter_without_known_is_called_as_before() -> None:
    adapter = ThreeArgumentAdapter(style=Style.SYNC)
    assert not execute_accepts_known(adapter) and execute_accepts_known(FakeAdapter())
    services = services_for(registry_of(adapter), vault_with(adapter))
    assert Pipeline(services).process(queued("fake:color-1")) == "answered"
    assert adapter.known == [None] and adapter.states["color-1"].on


def test_execute_accepts_known_reads_the_signature() -> None:
    class Keywords:
        def execute(self, credential, device_id, change, **options):
            return None

    class Replaced:
        pass

    replaced = Replaced()
    replaced.execute = lambda credential, device_id, change: None  # type: ignore[attr-defined]
    assert execute_accepts_known(Keywords())
    assert not execute_accepts_known(replaced)
    assert not execute_accepts_known(object())


# -- the measurement: requests per directive, real adapters --------------------------------


LIFX_BASE = "https://lifx.test/v1"
LIFX_ID = "d073d5141876"
LIFX_LIGHT = {
    "id": LIFX_ID,
    "label": "Lamp",
    "connected": True,
    "power": "off",
    "brightness": 0.6,
    "color": {"hue": 30.0, "saturation": 0.0, "kelvin": 3500},
    "location": {"id": "home", "name": "Home"},
    "product": {
        "name": "Color 1000",
        "company": "LIFX",
        "capabilities": {
            "has_color": True,
            "has_variable_color_temp": True,
            "min_kelvin": 2500,
            "max_kelvin": 9000,
        },
    },
}
HUE_BASE = "https://hue.test/route"
HUE_CLIP = f"{HUE_BASE}/clip/v2/resource"
HUE_ID = "3e7b5c5a-8f1e-4b8e-9d47-2c1d4ef0a7d1"
HUE_DEVICE = "a4a0c7b2-1d0e-4f6a-9b3c-8d7e6f5a4b3c"
HUE_LIGHT = {
    "id": HUE_ID,
    "owner": {"rid": HUE_DEVICE, "rtype": "device"},
    "on": {"on": False},
    "dimming": {"brightness": 60.0},
    "color_temperature": {
        "mirek": None,
        "mirek_schema": {"mirek_minimum": 153, "mirek_maximum": 500},
    },
    "color": {
        "xy": {"x": 0.3914, "y": 0.3667},
        "gamut_type": "C",
        "gamut": {
            "red": {"x": 0.6915, "y": 0.3083},
            "green": {"x": 0.17, "y": 0.7},
            "blue": {"x": 0.1532, "y": 0.0475},
        },
    },
}

#: The directives measured, as Alexa sends them.
DIRECTIVES = [
    ("Alexa.PowerController", "TurnOn", None),
    ("Alexa.BrightnessController", "SetBrightness", {"brightness": 40}),
    (
        "Alexa.ColorController",
        "SetColor",
        {"color": {"hue": 240.0, "saturation": 1.0, "brightness": 1.0}},
    ),
    ("Alexa.ColorTemperatureController", "SetColorTemperature", {"colorTemperatureInKelvin": 4000}),
]


def lifx_adapter(*, legacy: bool) -> Any:
    import bulb_skill_lifx

    adapter = bulb_skill_lifx.create(
        AdapterContext(vendor="lifx", environ={"LIFX_BASE_URL": LIFX_BASE})
    )
    if legacy:  # the adapter as it was: ``execute`` without ``known`` reads the light first
        execute = adapter.execute
        adapter.execute = lambda credential, device_id, change: execute(  # type: ignore[method-assign]
            credential, device_id, change
        )
    return adapter


def hue_adapter(*, legacy: bool) -> Any:
    import bulb_skill_hue

    return bulb_skill_hue.create(AdapterContext(vendor="hue", environ={"HUE_BASE_URL": HUE_BASE}))


def stage_lifx(mock: responses.RequestsMock) -> None:
    mock.get(f"{LIFX_BASE}/lights/id:{LIFX_ID}", json=[LIFX_LIGHT])
    mock.put(
        f"{LIFX_BASE}/lights/id:{LIFX_ID}/state",
        json={"results": [{"id": LIFX_ID, "label": "Lamp", "status": "ok"}]},
        status=207,
    )


def stage_hue(mock: responses.RequestsMock) -> None:
    mock.get(f"{HUE_CLIP}/light/{HUE_ID}", json={"errors": [], "data": [HUE_LIGHT]})
    mock.get(
        f"{HUE_CLIP}/zigbee_connectivity",
        json={
            "errors": [],
            "data": [{"owner": {"rid": HUE_DEVICE, "rtype": "device"}, "status": "connected"}],
        },
    )
    mock.put(
        f"{HUE_CLIP}/light/{HUE_ID}",
        json={"errors": [], "data": [{"rid": HUE_ID, "rtype": "light"}]},
    )


VENDORS = {
    "lifx": (lifx_adapter, stage_lifx, LIFX_ID, Style.SYNC),
    "hue": (hue_adapter, stage_hue, HUE_ID, Style.OPTIMISTIC),
}


def requests_per_directive(vendor: str, *, legacy: bool) -> list[int]:
    """Vendor requests of each of ``DIRECTIVES``, each on a new container (no cache)."""
    build, stage, device, _ = VENDORS[vendor]
    counts = []
    for namespace, name, payload in DIRECTIVES:
        adapter = build(legacy=legacy)
        vault = MemoryVault()
        vault.connect(
            USER,
            vendor,
            OAuthToken.bearer("vendor-token", application_key="app-key"),
            account_id="account-1",
        )
        services = services_for(
            AdapterRegistry({vendor: lambda _ctx, adapter=adapter: adapter}, environ={}), vault
        )
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            stage(mock)
            outcome = Pipeline(services).process(
                queued(f"{vendor}:{device}", name, payload, namespace)
            )
            assert outcome == "answered", outcome
            [answer] = services.outbox.messages
            assert answer.message["event"]["header"]["name"] == "Response", answer.message
            counts.append(len(mock.calls))
    return counts


def test_lifx_saves_its_read_before_every_command() -> None:
    before, after = (
        requests_per_directive("lifx", legacy=True),
        requests_per_directive("lifx", legacy=False),
    )
    assert before == [3, 3, 3, 3]  # the pipeline's read, LIFX's own read, the PUT
    assert after == [2, 2, 2, 2]  # the pipeline's read, the PUT
    assert sum(before) - sum(after) == len(DIRECTIVES)  # one request saved per directive


def test_hue_needs_no_read_of_its_own_after_the_pipelines() -> None:
    counts = requests_per_directive("hue", legacy=False)
    assert counts == [3, 3, 3, 3]  # light + connectivity (the pipeline's read), the PUT


def test_lifx_is_handed_the_state_the_pipeline_read() -> None:
    adapter = lifx_adapter(legacy=False)
    seen: list[BulbState | None] = []
    execute = adapter.execute

    def spy(credential, device_id, change, known=None):
        seen.append(known)
        return execute(credential, device_id, change, known=known)

    adapter.execute = spy
    vault = MemoryVault()
    vault.connect(USER, "lifx", OAuthToken.bearer("vendor-token"), account_id="account-1")
    services = services_for(AdapterRegistry({"lifx": lambda _ctx: adapter}, environ={}), vault)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        stage_lifx(mock)
        Pipeline(services).process(queued(f"lifx:{LIFX_ID}"))
        [read, put] = mock.calls
    assert read.request.method == "GET" and put.request.method == "PUT"
    [known] = seen
    assert known is not None and (known.on, known.brightness) == (False, 60)  # as LIFX said
    assert json.loads(put.request.body)["power"] == "on"
