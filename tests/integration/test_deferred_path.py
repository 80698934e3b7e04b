"""Every sample control directive, every style, end to end through the local stack: the answer at
the gateway is schema-valid and says what the bulb semantics of DESIGN.md expect, and the
simulated bulb really is in that state. Plus the paths around it: unmatched pushes, slow and
never-converging polling, and a vendor that is offline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulb_workbench.local.schema import schema_errors
from bulb_workbench.local.stack import LocalStack
from skill import bulbs
from skill.alexa import features_from_cookie, parse_envelope, spec_for, state_properties
from skill.plugins import decode_endpoint_id
from tests.integration.test_local_stack import event, name_of, token_of, use_stack, valid

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[2] / "events"
CONTROL_FILES = sorted(
    p.name
    for p in EVENTS.glob("*.json")
    if p.name.split(".")[1] in {"sync", "async", "optimistic", "polling"}
    and not p.name.startswith("processor-")
)
INITIAL = {"on": False, "brightness": 55}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(latency=0.01, transition=0.2) as running:
        running.link_demo_user()
        yield use_stack(running)


def bulb_state(raw: dict) -> bulbs.BulbState:
    color = raw.get("color")
    return bulbs.BulbState(
        on=raw["on"],
        brightness=raw["brightness"],
        color=bulbs.Color(**color) if color else None,
        color_temperature=raw.get("color_temperature"),
        color_mode=raw.get("color_mode"),
        reachable=raw.get("online", True),
    )


def values(properties: list[dict]) -> dict:
    return {(p["namespace"], p["name"]): p["value"] for p in properties}


def active(reported: dict, state: bulbs.BulbState) -> dict:
    """The properties that say something: a bulb showing a colour has no meaningful colour
    temperature (vendors report none), and one showing a white has no meaningful colour."""
    inactive = {
        "color": ("Alexa.ColorTemperatureController", "colorTemperatureInKelvin"),
        "temperature": ("Alexa.ColorController", "color"),
    }.get(state.color_mode or "")
    return {k: v for k, v in reported.items() if k != inactive}


def run(stack: LocalStack, directive: dict) -> list[dict]:
    answer = valid(stack.invoke(directive))
    assert name_of(answer) == "DeferredResponse"
    return stack.wait_for_answer(token_of(directive), timeout=stack.deadline_seconds + 2)


@pytest.mark.parametrize("name", CONTROL_FILES)
def test_each_sample_directive_ends_with_the_expected_response(
    stack: LocalStack, name: str
) -> None:
    directive = event(name)
    body = directive["directive"]
    vendor, device_id = decode_endpoint_id(body["endpoint"]["endpointId"])
    stack.simulator.set_state(vendor, device_id, **INITIAL)
    stack.simulator.wait_idle(2)
    before = bulb_state(stack.simulator.state(vendor, device_id))
    parsed = parse_envelope(directive).directive
    features = features_from_cookie(body["endpoint"]["cookie"])
    assert features is not None
    expected = bulbs.apply_command(before, spec_for(parsed).command(parsed), features)

    events = run(stack, directive)

    assert events, "nothing reached the gateway"
    final = valid(events[-1])
    assert name_of(final) == "Response", final["event"]["payload"]
    assert final["event"]["header"]["correlationToken"] == token_of(directive)
    reported = active(values(final["context"]["properties"]), expected)
    wanted = active(values(state_properties(features, expected, time.time())), expected)
    assert reported == wanted
    stack.simulator.wait_idle(3)
    actual = bulb_state(stack.simulator.state(vendor, device_id))
    assert active(values(state_properties(features, actual, 0)), expected) == wanted  # really done


def test_a_change_made_outside_alexa_on_a_push_vendor_is_a_change_report(stack: LocalStack) -> None:
    run(stack, event("TurnOn.async.json"))  # the bulb's owner is known from here on
    before = len(stack.gateway.accepted())
    stack.simulator.set_state("sim-async", "color-1", brightness=12)
    deadline = time.monotonic() + 5
    reports: list[dict] = []
    while time.monotonic() < deadline and not reports:
        reports = [m for m in stack.gateway.accepted()[before:] if name_of(m) == "ChangeReport"]
        time.sleep(0.05)
    [report] = reports
    assert not schema_errors(report)
    change = report["event"]["payload"]["change"]
    assert change["cause"]["type"] == "PHYSICAL_INTERACTION"
    assert values(change["properties"]) == {("Alexa.BrightnessController", "brightness"): 12}


def test_polling_waits_for_a_slow_bulb_then_answers(stack: LocalStack) -> None:
    directive = event("TurnOn.polling.json")
    vendor, device_id = decode_endpoint_id(directive["directive"]["endpoint"]["endpointId"])
    stack.simulator.set_state(vendor, device_id, on=False, brightness=30)
    stack.simulator.wait_idle(2)
    stack.simulator.transition = 2.5  # longer than one poll interval
    try:
        started = time.monotonic()
        events = run(stack, directive)
    finally:
        stack.simulator.transition = 0.2
    final = valid(events[-1])
    assert name_of(final) == "Response"
    assert time.monotonic() - started >= 2.5


def test_polling_a_bulb_that_never_converges_ends_in_endpoint_unreachable(
    stack: LocalStack,
) -> None:
    directive = event("TurnOn.polling.json")
    vendor, device_id = decode_endpoint_id(directive["directive"]["endpoint"]["endpointId"])
    stack.simulator.set_state(vendor, device_id, on=False)
    stack.simulator.wait_idle(2)
    stack.simulator.transition = 60  # the bulb accepts but does not change before the deadline
    try:
        events = run(stack, directive)
    finally:
        stack.simulator.transition = 0.2
        stack.simulator.reset()
    final = valid(events[-1])
    assert final["event"]["payload"]["type"] == "ENDPOINT_UNREACHABLE"
    assert len([e for e in events if name_of(e) in {"Response", "ErrorResponse"}]) == 1


def test_an_offline_bulb_is_endpoint_unreachable_for_every_style(stack: LocalStack) -> None:
    for style in ("sync", "async", "optimistic", "polling"):
        stack.simulator.set_online(f"sim-{style}", "color-1", False)
        try:
            final = valid(run(stack, event(f"TurnOn.{style}.json"))[-1])
        finally:
            stack.simulator.set_online(f"sim-{style}", "color-1", True)
        assert final["event"]["payload"]["type"] == "ENDPOINT_UNREACHABLE", style


PAYLOADS = {
    ("Alexa.PowerController", "TurnOn"): {},
    ("Alexa.PowerController", "TurnOff"): {},
    ("Alexa.BrightnessController", "SetBrightness"): {"brightness": 35},
    ("Alexa.BrightnessController", "AdjustBrightness"): {"brightnessDelta": 20},
    ("Alexa.ColorController", "SetColor"): {
        "color": {"hue": 200.0, "saturation": 0.6, "brightness": 1.0}
    },
    ("Alexa.ColorTemperatureController", "SetColorTemperature"): {"colorTemperatureInKelvin": 3200},
    ("Alexa.ColorTemperatureController", "IncreaseColorTemperature"): {},
    ("Alexa.ColorTemperatureController", "DecreaseColorTemperature"): {},
}


def test_every_supported_control_directive_has_a_case_here() -> None:
    from skill.alexa import SUPPORTED, Kind

    assert {k for k, s in SUPPORTED.items() if s.kind is Kind.CONTROL} == set(PAYLOADS)


@pytest.mark.parametrize("style", ["sync", "async", "optimistic", "polling"])
@pytest.mark.parametrize(("namespace", "name"), sorted(PAYLOADS))
def test_every_directive_in_every_style_ends_with_the_expected_response(
    stack: LocalStack, style: str, namespace: str, name: str
) -> None:
    import copy
    import uuid

    from skill.alexa import features_to_cookie

    template = event(f"TurnOn.{style}.json")
    directive = copy.deepcopy(template)
    body = directive["directive"]
    body["header"].update(namespace=namespace, name=name, messageId=str(uuid.uuid4()))
    body["header"]["correlationToken"] = f"matrix-{uuid.uuid4()}"
    body["payload"] = PAYLOADS[(namespace, name)]
    vendor, device_id = decode_endpoint_id(body["endpoint"]["endpointId"])
    stack.simulator.set_state(vendor, device_id, on=True, brightness=50, color_temperature=4000)
    stack.simulator.wait_idle(2)
    before = bulb_state(stack.simulator.state(vendor, device_id))
    features = features_from_cookie(body["endpoint"]["cookie"])
    assert features is not None and body["endpoint"]["cookie"] == features_to_cookie(features)
    parsed = parse_envelope(directive).directive
    expected = bulbs.apply_command(before, spec_for(parsed).command(parsed), features)

    final = valid(run(stack, directive)[-1])

    assert name_of(final) == "Response", final["event"]["payload"]
    reported = active(values(final["context"]["properties"]), expected)
    assert reported == active(values(state_properties(features, expected, time.time())), expected)
