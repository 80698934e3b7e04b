"""Amazon's interface rules, data-driven, for every style, through the deferred path.

Each case is (initial vendor state, commands before, directive, the properties the answer must
report with tolerances). A case runs as Alexa would drive it: the entrypoint answers at once
(DeferredResponse, or an error it can give without the vendor) and queues the directive; the
style's processor carries it to a fake vendor; async is answered by the vendor's push, polling by
the poller. Then ReportState at once must report what the answer said (never contradict an
answer just given). Every message the skill emits is checked against Amazon's schema.

The rules and their sources: docs/conformance.md.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from skill.alexa.events import with_scope
from skill.bulbs import EXPECTED_STATE_WINDOW_SECONDS, BulbState, Change
from skill.errors import EndpointUnreachable, InvalidNotification
from skill.pipeline import Pipeline, PipelineServices, PollHandler, PushHandler
from skill.plugins import Accepted, Notification, Style, WebhookRequest
from skill.routing import build_router
from tests.fakes import (
    COLOR,
    TUNABLE,
    WHITE,
    Clock,
    FakeAdapter,
    MemoryOutbox,
    MemoryPollQueue,
    MemoryQueue,
    MemoryStateStore,
    credentials_of,
    registry_of,
    sweep_tick,
    vault_with,
)
from tests.unit.test_entrypoint import directive, services_for

STYLES = [Style.SYNC, Style.OPTIMISTIC, Style.ASYNC, Style.POLLING]
FEATURES = {"color-1": COLOR, "tunable-1": TUNABLE, "white-1": WHITE}

#: How close a reported value must be to the expected one (vendors round and convert scales).
TOLERANCE: dict[str, Any] = {
    "brightness": 1,
    "colorTemperatureInKelvin": 50,
    "color": {"hue": 2.0, "saturation": 0.02, "brightness": 0.02},
}

OFF_AT_60 = BulbState(on=False, brightness=60)
ON_AT_60 = BulbState(on=True, brightness=60)
WARM = BulbState(on=True, brightness=60, color_temperature=2700, color_mode="temperature")
COOL = BulbState(on=True, brightness=60, color_temperature=6500, color_mode="temperature")
MID = BulbState(on=True, brightness=60, color_temperature=4000, color_mode="temperature")

TURN_ON = ("Alexa.PowerController", "TurnOn", {})
TURN_OFF = ("Alexa.PowerController", "TurnOff", {})


def set_brightness(value: int) -> tuple[str, str, dict]:
    return ("Alexa.BrightnessController", "SetBrightness", {"brightness": value})


def adjust_brightness(delta: int) -> tuple[str, str, dict]:
    return ("Alexa.BrightnessController", "AdjustBrightness", {"brightnessDelta": delta})


def set_color(hue: float, saturation: float, brightness: float) -> tuple[str, str, dict]:
    value = {"hue": hue, "saturation": saturation, "brightness": brightness}
    return ("Alexa.ColorController", "SetColor", {"color": value})


def set_kelvin(kelvin: int) -> tuple[str, str, dict]:
    return (
        "Alexa.ColorTemperatureController",
        "SetColorTemperature",
        {"colorTemperatureInKelvin": kelvin},
    )


INCREASE = ("Alexa.ColorTemperatureController", "IncreaseColorTemperature", {})
DECREASE = ("Alexa.ColorTemperatureController", "DecreaseColorTemperature", {})


@dataclass(frozen=True)
class Case:
    id: str
    directive: tuple[str, str, dict]
    #: The reported properties the answer must carry (and ReportState right after it).
    expect: dict[str, Any] = field(default_factory=dict)
    initial: BulbState = OFF_AT_60
    before: tuple[tuple[str, str, dict], ...] = ()
    device: str = "color-1"
    #: An ErrorResponse of this type instead of a Response.
    error: str | None = None
    valid_range: dict[str, int] | None = None
    #: Whether the entrypoint answers the error at once (nothing queued).
    refused_at_once: bool = False
    #: The vendor must not be asked to change anything for the directive itself.
    no_vendor_change: bool = False


CASES = [
    # -- Alexa.PowerController ---------------------------------------------------------------
    Case("turn_on", TURN_ON, {"powerState": "ON", "brightness": 60}),
    Case("turn_off", TURN_OFF, {"powerState": "OFF", "brightness": 60}, initial=ON_AT_60),
    Case(
        "turn_on_when_on_is_answered_without_the_vendor",
        TURN_ON,
        {"powerState": "ON"},
        initial=ON_AT_60,
        no_vendor_change=True,
    ),
    Case(
        "turn_off_when_off_is_answered_without_the_vendor",
        TURN_OFF,
        {"powerState": "OFF"},
        no_vendor_change=True,
    ),
    # -- Alexa.BrightnessController ----------------------------------------------------------
    Case(
        "set_brightness_on_an_off_light_turns_it_on",
        set_brightness(40),
        {"powerState": "ON", "brightness": 40},
    ),
    Case(
        "set_brightness_0_turns_off_and_reports_0",
        set_brightness(0),
        {"powerState": "OFF", "brightness": 0},
        initial=ON_AT_60,
    ),
    Case(
        "turn_on_after_brightness_0_restores_the_last_level",
        TURN_ON,
        {"powerState": "ON", "brightness": 60},
        initial=ON_AT_60,
        before=(set_brightness(0),),
    ),
    Case(
        "turn_on_after_adjusting_down_to_0_restores_the_level_before",
        TURN_ON,
        {"powerState": "ON", "brightness": 60},
        initial=ON_AT_60,
        before=(adjust_brightness(-80),),
    ),
    Case(
        "adjust_down_at_0_reports_0_and_stays_off",
        adjust_brightness(-10),
        {"powerState": "OFF", "brightness": 0},
        initial=ON_AT_60,
        before=(set_brightness(0),),
        no_vendor_change=True,
    ),
    Case(
        "adjust_up_at_0_turns_on_at_the_delta",
        adjust_brightness(30),
        {"powerState": "ON", "brightness": 30},
        initial=ON_AT_60,
        before=(set_brightness(0),),
    ),
    Case(
        "adjust_up_on_an_off_light_turns_it_on_at_the_delta",
        adjust_brightness(25),
        {"powerState": "ON", "brightness": 25},
    ),
    Case(
        "adjust_down_on_an_off_light_stays_off",
        adjust_brightness(-25),
        {"powerState": "OFF", "brightness": 60},
        no_vendor_change=True,
    ),
    Case(
        "adjust_down",
        adjust_brightness(-25),
        {"powerState": "ON", "brightness": 35},
        initial=ON_AT_60,
    ),
    Case(
        "adjust_down_to_0_turns_off_and_reports_0",
        adjust_brightness(-80),
        {"powerState": "OFF", "brightness": 0},
        initial=ON_AT_60,
    ),
    Case(
        "adjust_up_stops_at_100",
        adjust_brightness(70),
        {"powerState": "ON", "brightness": 100},
        initial=ON_AT_60,
    ),
    Case(
        "set_brightness_over_100_is_out_of_range",
        set_brightness(101),
        error="VALUE_OUT_OF_RANGE",
        valid_range={"minimumValue": 0, "maximumValue": 100},
        refused_at_once=True,
    ),
    Case(
        "a_white_bulb_takes_brightness",
        set_brightness(20),
        {"powerState": "ON", "brightness": 20},
        device="white-1",
    ),
    # -- Alexa.ColorController ---------------------------------------------------------------
    Case(
        "set_color_turns_the_light_on",
        set_color(240.0, 0.5, 1.0),
        {"powerState": "ON", "color": {"hue": 240.0, "saturation": 0.5, "brightness": 1.0}},
    ),
    Case(
        "set_color_at_0_turns_on_at_the_level_to_restore",
        set_color(10.5, 1.0, 1.0),
        {
            "powerState": "ON",
            "brightness": 60,
            "color": {"hue": 10.5, "saturation": 1.0, "brightness": 1.0},
        },
        initial=ON_AT_60,
        before=(set_brightness(0),),
    ),
    Case(
        "a_hue_over_360_is_out_of_range",
        set_color(361.0, 0.5, 1.0),
        error="VALUE_OUT_OF_RANGE",
        refused_at_once=True,
    ),
    Case(
        "a_white_bulb_takes_no_colour",
        set_color(0.0, 1.0, 1.0),
        error="INVALID_DIRECTIVE",
        device="white-1",
        refused_at_once=True,
    ),
    # -- Alexa.ColorTemperatureController ----------------------------------------------------
    Case(
        "warm_white_below_the_range_sets_the_nearest_value",
        set_kelvin(2200),
        {"powerState": "ON", "colorTemperatureInKelvin": 2700},
        initial=MID,
        device="tunable-1",
    ),
    Case(
        "cool_white_above_the_range_sets_the_nearest_value",
        set_kelvin(7000),
        {"powerState": "ON", "colorTemperatureInKelvin": 6500},
        initial=MID,
        device="tunable-1",
    ),
    Case(
        "alexas_lowest_value_sets_the_nearest_value",
        set_kelvin(1000),
        {"colorTemperatureInKelvin": 2700},
        initial=MID,
        device="tunable-1",
    ),
    Case(
        "a_value_in_range_is_set",
        set_kelvin(5000),
        {"colorTemperatureInKelvin": 5000},
        initial=MID,
        device="tunable-1",
    ),
    Case(
        "set_color_temperature_on_an_off_light_turns_it_on",
        set_kelvin(3000),
        {"powerState": "ON", "brightness": 60, "colorTemperatureInKelvin": 3000},
        initial=OFF_AT_60,
        device="tunable-1",
    ),
    Case(
        "increase_one_step",
        INCREASE,
        {"colorTemperatureInKelvin": 4500},
        initial=MID,
        device="tunable-1",
    ),
    Case(
        "decrease_one_step",
        DECREASE,
        {"colorTemperatureInKelvin": 3500},
        initial=MID,
        device="tunable-1",
    ),
    Case(
        "increase_at_the_limit_stays_at_the_limit",
        INCREASE,
        {"powerState": "ON", "colorTemperatureInKelvin": 6500},
        initial=COOL,
        device="tunable-1",
        no_vendor_change=True,
    ),
    Case(
        "decrease_at_the_limit_stays_at_the_limit",
        DECREASE,
        {"powerState": "ON", "colorTemperatureInKelvin": 2700},
        initial=WARM,
        device="tunable-1",
        no_vendor_change=True,
    ),
    Case(
        "outside_alexas_range_is_out_of_range",
        set_kelvin(10001),
        error="VALUE_OUT_OF_RANGE",
        valid_range={"minimumValue": 1000, "maximumValue": 10000},
        device="tunable-1",
        refused_at_once=True,
    ),
    Case(
        "below_alexas_range_is_out_of_range",
        set_kelvin(999),
        error="VALUE_OUT_OF_RANGE",
        valid_range={"minimumValue": 1000, "maximumValue": 10000},
        device="tunable-1",
        refused_at_once=True,
    ),
    Case(
        "a_bulb_without_colour_temperature_takes_none",
        set_kelvin(3000),
        error="INVALID_DIRECTIVE",
        device="white-1",
        refused_at_once=True,
    ),
    # -- Alexa.EndpointHealth ----------------------------------------------------------------
    Case("a_response_reports_connectivity_ok", TURN_ON, {"connectivity": {"value": "OK"}}),
    Case(
        "a_light_the_vendor_cannot_reach_is_endpoint_unreachable",
        TURN_ON,
        initial=OFF_AT_60.model_copy(update={"reachable": False}),
        error="ENDPOINT_UNREACHABLE",
    ),
]


# --- the fake vendor and the world around it ----------------------------------------------------


class Vendor(FakeAdapter):
    """The fake vendor of tests.fakes, with a lag: with ``lag`` set, a command is accepted (and
    for sync its result returned) but the light shows it only after ``settle()``."""

    lag: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        self.later: dict[str, BulbState] = {}
        self.changes: list[Change] = []

    def execute(self, credential, device_id: str, change: Change) -> BulbState | Accepted:
        self.changes.append(change)
        if not self.lag:
            return super().execute(credential, device_id, change)
        before = self.states[device_id]
        outcome = super().execute(credential, device_id, change)
        self.later[device_id], self.states[device_id] = self.states[device_id], before
        return outcome

    def settle(self) -> None:
        self.states.update(self.later)
        self.later.clear()


class PushingVendor(Vendor):
    """A vendor that pushes (async style): JSON bodies ``{"device", "state"}`` for the vault's
    vendor account, stamped with the world's clock."""

    clock = staticmethod(Clock())  # World gives it its own

    def parse_notification(self, request: WebhookRequest) -> list[Notification]:
        if request.headers.get("x-secret") != "s3cret":
            raise InvalidNotification("bad signature")
        body = json.loads(request.body)
        return [
            Notification(
                body["device"],
                BulbState.model_validate(body["state"]),
                user_id="fake-account-1",
                sent_at=self.clock(),
            )
        ]


class World:
    """Entrypoint + processors + poller + push + sweep over one fake vendor and shared stores."""

    def __init__(self, style: Style, check, *, lag: bool = False) -> None:
        self.style = style
        self.check = check
        self.clock = Clock()
        self.vendor = (PushingVendor if style is Style.ASYNC else Vendor)(style=style)
        self.vendor.lag = lag
        self.vendor.clock = self.clock
        vault = vault_with(self.vendor)
        self.queue = MemoryQueue()
        self.services = PipelineServices(
            adapters=registry_of(self.vendor),
            credentials=credentials_of(vault),
            outbox=MemoryOutbox(),
            pending=MemoryStateStore(),
            poll_queue=MemoryPollQueue(),
            clock=self.clock,
            sleep=self.clock.sleep,
        )
        self.router = build_router(
            services_for(
                [self.vendor],
                vault,
                queue=self.queue,
                owners=self.services.pending,
                clock=self.clock,
            )
        )

    # -- driving -------------------------------------------------------------------------------

    def command(self, command: tuple[str, str, dict], device: str = "color-1") -> dict:
        """The final answer to one control directive, as it reaches Alexa."""
        namespace, name, payload = command
        event = directive(
            namespace, name, payload, endpoint_id=f"fake:{device}", features=FEATURES[device]
        )
        token = f"ct-{uuid.uuid4()}"
        event["directive"]["header"]["correlationToken"] = token
        queued_before = len(self.queue.messages)
        first = self.check(self.router.answer(event))
        if first["event"]["header"]["name"] != "DeferredResponse":
            assert len(self.queue.messages) == queued_before, "an answered directive was queued"
            return first
        [(style, queued)] = self.queue.messages[queued_before:]
        assert style is self.style
        sent = len(self.services.outbox.messages)
        tickets = len(self.services.poll_queue.tickets)
        Pipeline(self.services).process(queued)
        if not self._answers(token, sent):
            self.vendor.settle()
            if self.style is Style.ASYNC:
                self.push(device)
            while (
                not self._answers(token, sent) and len(self.services.poll_queue.tickets) > tickets
            ):
                ticket, delay = self.services.poll_queue.tickets[tickets]
                tickets += 1
                self.clock.now += delay
                PollHandler(self.services).handle(ticket)
        self.validate(sent)
        [answer] = self._answers(token, sent)
        return answer

    def push(self, device: str) -> None:
        body = {"device": device, "state": self.vendor.states[device].model_dump(mode="json")}
        request = WebhookRequest(headers={"x-secret": "s3cret"}, body=json.dumps(body).encode())
        PushHandler(self.services).handle(self.vendor.name, request)

    def report_state(self, device: str = "color-1") -> dict:
        event = directive(
            "Alexa", "ReportState", endpoint_id=f"fake:{device}", features=FEATURES[device]
        )
        return self.check(self.router.answer(event))

    def sweep(self) -> list[dict]:
        sent = len(self.services.outbox.messages)
        sweep_tick(self.services)
        self.validate(sent)
        return [m.message for m in self.services.outbox.messages[sent:]]

    def validate(self, since: int) -> None:
        for message in self.services.outbox.messages[since:]:
            self.check(with_scope(message.message, "lwa-token"))  # as the dispatcher sends it

    def _answers(self, token: str, since: int) -> list[dict]:
        return [
            m.message
            for m in self.services.outbox.messages[since:]
            if m.message["event"]["header"].get("correlationToken") == token
        ]


def reported(message: dict) -> dict[str, Any]:
    return {p["name"]: p["value"] for p in message["context"]["properties"]}


def assert_reports(message: dict, expect: dict[str, Any]) -> None:
    values = reported(message)
    for name, wanted in expect.items():
        assert name in values, f"{name} not reported"
        assert near(values[name], wanted, TOLERANCE.get(name)), (
            f"{name}: {values[name]!r}, wanted {wanted!r}"
        )


def near(value: Any, wanted: Any, tolerance: Any) -> bool:
    if isinstance(wanted, dict):
        return all(near(value.get(k), v, (tolerance or {}).get(k)) for k, v in wanted.items())
    if isinstance(wanted, int | float) and not isinstance(wanted, bool) and tolerance is not None:
        return isinstance(value, int | float) and abs(value - wanted) <= tolerance
    return value == wanted


def name_of(message: dict) -> str:
    return message["event"]["header"]["name"]


# --- the data-driven rules --------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES, ids=lambda s: s.value)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_interface_rule(case: Case, style: Style, assert_alexa_valid) -> None:
    world = World(style, assert_alexa_valid)
    world.vendor.states[case.device] = case.initial
    for earlier in case.before:
        assert name_of(world.command(earlier, case.device)) == "Response"
    world.vendor.changes.clear()
    queued = len(world.queue.messages)

    answer = world.command(case.directive, case.device)

    if case.error is not None:
        assert name_of(answer) == "ErrorResponse"
        assert answer["event"]["payload"]["type"] == case.error
        if case.valid_range is not None:
            assert answer["event"]["payload"]["validRange"] == case.valid_range
        if case.refused_at_once:
            assert len(world.queue.messages) == queued
        assert world.vendor.changes == []
        return
    assert name_of(answer) == "Response", answer["event"]["payload"]
    assert answer["event"]["endpoint"]["endpointId"] == f"fake:{case.device}"
    assert_reports(answer, case.expect)
    if case.no_vendor_change:
        assert world.vendor.changes == []
    # Never contradict an answer just given: ReportState at once says the same.
    state = world.report_state(case.device)
    assert name_of(state) == "StateReport"
    assert reported(state) | {"connectivity": None} == reported(answer) | {"connectivity": None}
    # Nor does the next sweep (vendors that push are not swept).
    if style is not Style.ASYNC:
        assert [name_of(m) for m in world.sweep() if name_of(m) == "ChangeReport"] == []


def test_every_control_directive_has_a_case() -> None:
    from skill.alexa import SUPPORTED, Kind

    covered = {(c.directive[0], c.directive[1]) for c in CASES}
    assert {k for k, s in SUPPORTED.items() if s.kind is Kind.CONTROL} <= covered


# --- read-your-writes: a vendor that shows the change late ---------------------------------------

LATE = [
    pytest.param(TURN_ON, "color-1", OFF_AT_60, {"powerState": "ON"}, id="turn_on"),
    pytest.param(TURN_OFF, "color-1", ON_AT_60, {"powerState": "OFF"}, id="turn_off"),
    pytest.param(set_brightness(30), "color-1", ON_AT_60, {"brightness": 30}, id="brightness"),
    pytest.param(
        set_brightness(0),
        "color-1",
        ON_AT_60,
        {"powerState": "OFF", "brightness": 0},
        id="brightness_0",
    ),
    pytest.param(
        set_color(120.0, 1.0, 1.0),
        "color-1",
        ON_AT_60,
        {"color": {"hue": 120.0, "saturation": 1.0, "brightness": 1.0}},
        id="colour",
    ),
    pytest.param(
        set_kelvin(3000),
        "tunable-1",
        MID,
        {"colorTemperatureInKelvin": 3000},
        id="colour_temperature",
    ),
]


@pytest.mark.parametrize("style", [Style.OPTIMISTIC, Style.SYNC], ids=lambda s: s.value)
@pytest.mark.parametrize(("command", "device", "initial", "expect"), LATE)
def test_report_state_right_after_the_answer_never_contradicts_it(
    style, command, device, initial, expect, assert_alexa_valid
) -> None:
    """Tried as a certification run: a command, its Response, then ReportState at once, while
    the vendor does not show the change yet."""
    world = World(style, assert_alexa_valid, lag=True)
    world.vendor.states[device] = initial
    answer = world.command(command, device)
    assert name_of(answer) == "Response"
    assert_reports(answer, expect)
    assert world.vendor.states[device] == initial  # the vendor does not show it yet

    assert_reports(world.report_state(device), expect)
    assert [m for m in world.sweep() if name_of(m) == "ChangeReport"] == []  # no report back

    world.clock.now += 2
    world.vendor.settle()  # the vendor shows it: its own state from now on, the same
    assert_reports(world.report_state(device), expect)
    assert [m for m in world.sweep() if name_of(m) == "ChangeReport"] == []


@pytest.mark.parametrize("style", [Style.OPTIMISTIC, Style.SYNC], ids=lambda s: s.value)
def test_a_command_right_after_an_unconfirmed_answer_also_undoes_it_at_the_vendor(
    style, assert_alexa_valid
) -> None:
    """TurnOn answered ON, the vendor not showing it yet, then TurnOff: the vendor still shows
    OFF, but is asked to turn off all the same (its TurnOn may still land first)."""
    world = World(style, assert_alexa_valid, lag=True)
    world.vendor.states["color-1"] = OFF_AT_60
    assert_reports(world.command(TURN_ON), {"powerState": "ON"})
    assert_reports(world.command(TURN_OFF), {"powerState": "OFF"})
    assert world.vendor.changes[-1] == Change(on=False)
    assert_reports(world.report_state(), {"powerState": "OFF"})
    world.vendor.settle()
    assert_reports(world.report_state(), {"powerState": "OFF"})
    assert [m for m in world.sweep() if name_of(m) == "ChangeReport"] == []


@pytest.mark.parametrize("style", [Style.OPTIMISTIC, Style.SYNC], ids=lambda s: s.value)
def test_once_the_window_passed_the_vendor_is_believed_again(style, assert_alexa_valid) -> None:
    """A command the vendor accepted but never carried out: after the window, ReportState says
    what the vendor shows and the sweep corrects Alexa with one ChangeReport."""
    world = World(style, assert_alexa_valid, lag=True)
    world.vendor.states["color-1"] = OFF_AT_60
    assert_reports(world.command(TURN_ON), {"powerState": "ON"})
    world.vendor.later.clear()  # lost

    world.clock.now += EXPECTED_STATE_WINDOW_SECONDS - 1
    assert_reports(world.report_state(), {"powerState": "ON"})
    assert [m for m in world.sweep() if name_of(m) == "ChangeReport"] == []

    world.clock.now += 1
    assert_reports(world.report_state(), {"powerState": "OFF"})
    [report] = [m for m in world.sweep() if name_of(m) == "ChangeReport"]
    assert report["event"]["payload"]["change"]["cause"]["type"] == "PERIODIC_POLL"
    assert reported(
        {"context": {"properties": report["event"]["payload"]["change"]["properties"]}}
    ) == {"powerState": "OFF"}
    assert [m for m in world.sweep() if name_of(m) == "ChangeReport"] == []  # once


def test_a_change_outside_alexa_after_the_window_is_reported(assert_alexa_valid) -> None:
    world = World(Style.OPTIMISTIC, assert_alexa_valid)
    world.command(TURN_ON)
    world.sweep()
    world.clock.now += EXPECTED_STATE_WINDOW_SECONDS
    world.vendor.states["color-1"] = world.vendor.states["color-1"].model_copy(
        update={"brightness": 12}
    )
    [report] = world.sweep()
    assert name_of(report) == "ChangeReport"
    assert_reports(world.report_state(), {"powerState": "ON", "brightness": 12})


@pytest.mark.parametrize("style", STYLES, ids=lambda s: s.value)
def test_a_light_dimmed_off_reports_0_until_it_is_on_again(style, assert_alexa_valid) -> None:
    world = World(style, assert_alexa_valid)
    world.vendor.states["color-1"] = ON_AT_60
    assert_reports(world.command(set_brightness(0)), {"powerState": "OFF", "brightness": 0})
    assert world.vendor.states["color-1"].brightness == 60  # the vendor keeps its level
    world.clock.now += 60
    assert_reports(world.report_state(), {"powerState": "OFF", "brightness": 0})
    if style is not Style.ASYNC:
        assert [m for m in world.sweep() if name_of(m) == "ChangeReport"] == []
    world.vendor.states["color-1"] = ON_AT_60  # turned on by hand
    if style is Style.ASYNC:
        world.push("color-1")
        [report] = [
            m.message
            for m in world.services.outbox.messages
            if name_of(m.message) == "ChangeReport"
        ]
    else:
        [report] = world.sweep()
    changed = {p["name"]: p["value"] for p in report["event"]["payload"]["change"]["properties"]}
    assert changed == {"powerState": "ON", "brightness": 60}


# --- Alexa.EndpointHealth and ReportState of an unreachable bulb -------------------------------


def test_report_state_of_an_unreachable_bulb_reports_cached_values_with_connectivity_unreachable(
    assert_alexa_valid,
) -> None:
    """Understand State and Change Reporting: unreachable but every value cached -> StateReport
    with connectivity UNREACHABLE; uncertaintyInMilliseconds says how old the values are."""
    world = World(Style.SYNC, assert_alexa_valid)
    world.command(set_brightness(35))
    world.clock.now += 30
    world.vendor.failure = EndpointUnreachable("the light does not answer")

    state = world.report_state()

    assert name_of(state) == "StateReport"
    assert_reports(
        state, {"powerState": "ON", "brightness": 35, "connectivity": {"value": "UNREACHABLE"}}
    )
    ages = {p["name"]: p["uncertaintyInMilliseconds"] for p in state["context"]["properties"]}
    assert ages["brightness"] == ages["powerState"] == 30_000
    assert ages["connectivity"] <= 1000  # found just now


def test_report_state_of_an_unreachable_bulb_never_seen_is_endpoint_unreachable(
    assert_alexa_valid,
) -> None:
    """... and with nothing cached: ErrorResponse ENDPOINT_UNREACHABLE."""
    world = World(Style.SYNC, assert_alexa_valid)
    world.vendor.failure = EndpointUnreachable("the light does not answer")
    answer = world.report_state()
    assert name_of(answer) == "ErrorResponse"
    assert answer["event"]["payload"]["type"] == "ENDPOINT_UNREACHABLE"


def test_report_state_of_a_bulb_the_vendor_says_is_offline(assert_alexa_valid) -> None:
    world = World(Style.SYNC, assert_alexa_valid)
    world.vendor.states["color-1"] = ON_AT_60.model_copy(update={"reachable": False})
    state = world.report_state()
    assert_reports(state, {"powerState": "ON", "connectivity": {"value": "UNREACHABLE"}})


@pytest.mark.parametrize(
    "style", [Style.SYNC, Style.OPTIMISTIC, Style.POLLING], ids=lambda s: s.value
)
def test_the_sweep_reports_connectivity_changes(style, assert_alexa_valid) -> None:
    world = World(style, assert_alexa_valid)
    world.command(TURN_ON)
    world.clock.now += EXPECTED_STATE_WINDOW_SECONDS
    world.sweep()
    read_state = world.vendor.read_state

    def offline(credential, device_id):
        if device_id == "color-1":
            raise EndpointUnreachable("the light does not answer")
        return read_state(credential, device_id)

    world.vendor.read_state = offline
    [report] = world.sweep()
    changed = {p["name"]: p["value"] for p in report["event"]["payload"]["change"]["properties"]}
    assert changed == {"connectivity": {"value": "UNREACHABLE"}}
    assert_reports({"context": report["context"]}, {"powerState": "ON"})  # the rest, as cached
    assert world.sweep() == []  # once
    world.vendor.read_state = read_state
    [back] = world.sweep()
    assert {p["name"]: p["value"] for p in back["event"]["payload"]["change"]["properties"]} == {
        "connectivity": {"value": "OK"}
    }


def test_discovery_declares_every_property_retrievable_and_proactively_reported(
    assert_alexa_valid,
) -> None:
    world = World(Style.SYNC, assert_alexa_valid)
    discover = {
        "directive": {
            "header": {
                "namespace": "Alexa.Discovery",
                "name": "Discover",
                "payloadVersion": "3",
                "messageId": "m-1",
            },
            "payload": {"scope": {"type": "BearerToken", "token": "demo-token"}},
        }
    }
    endpoints = world.check(world.router.answer(discover))["event"]["payload"]["endpoints"]
    for endpoint in endpoints:
        interfaces = {c["interface"]: c for c in endpoint["capabilities"]}
        assert interfaces["Alexa"]["version"] == "3"
        assert "Alexa.EndpointHealth" in interfaces and "Alexa.PowerController" in interfaces
        for name, capability in interfaces.items():
            if name != "Alexa":
                assert capability["properties"]["retrievable"] is True
                assert capability["properties"]["proactivelyReported"] is True
        assert endpoint["displayCategories"] == ["LIGHT"]
