"""The conformance checks as plain functions: each raises ``AssertionError`` with a reason, or
``NotApplicable`` when the scenario does not cover it. No pytest here.

Every adapter call goes through the scenario's ``vendor`` stage, so the author's stub (or a
running simulator) answers it.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from skill.bulbs import BulbState, Change, Color
from skill.errors import (
    BridgeUnreachable,
    EndpointUnreachable,
    InvalidAuthorizationCredential,
    InvalidNotification,
    NoSuchEndpoint,
    RateLimited,
    SkillError,
)
from skill.plugins import (
    Accepted,
    Adapter,
    AnyCredential,
    ApiKey,
    CredentialKind,
    Device,
    KeyAndSecret,
    Notification,
    OAuthToken,
    PushAdapter,
    Style,
    decode_endpoint_id,
    encode_endpoint_id,
)
from skill.testing._scenario import (
    AdapterScenario,
    Failure,
    Operation,
    VendorCall,
    webhook_request,
)

if not __debug__:  # pragma: no cover - the checks are assertions: -O would pass everything
    raise RuntimeError("skill.testing needs assertions enabled (do not run Python with -O)")

NAME_PATTERN = re.compile(r"^[a-z0-9_-]{1,32}$")
MAX_NAME_LENGTH = 128
#: Alexa waits about 8 s for the whole loop of a light; one vendor request must fit well inside.
MAX_REQUEST_TIMEOUT_SECONDS = 8.0

#: The command kinds ``execute`` is checked with, as the processors send them.
CHANGE_KINDS = ("turn_on", "turn_off", "brightness", "color", "color_temperature")
#: Which operations each failure is checked on.
FAILURE_CASES: tuple[tuple[Operation, Failure], ...] = tuple(
    (operation, failure)
    for operation in (
        Operation.IDENTIFY_USER,
        Operation.LIST_DEVICES,
        Operation.READ_STATE,
        Operation.EXECUTE,
    )
    for failure in Failure
    if (failure is not Failure.NOT_FOUND or operation in (Operation.READ_STATE, Operation.EXECUTE))
    and (failure is not Failure.OFFLINE or operation is Operation.EXECUTE)
)

_UNREACHABLE = (EndpointUnreachable, BridgeUnreachable)
EXPECTED_ERRORS: dict[Failure, tuple[type[SkillError], ...]] = {
    Failure.UNAUTHORIZED: (InvalidAuthorizationCredential,),
    Failure.NOT_FOUND: (NoSuchEndpoint,),
    Failure.SERVER_ERROR: _UNREACHABLE,
    Failure.TIMEOUT: _UNREACHABLE,
    Failure.RATE_LIMITED: (RateLimited,),
    Failure.OFFLINE: _UNREACHABLE,
}

#: What each change kind sends; colour is saturated blue so a sloppy conversion shows.
TEST_COLOR = Color(hue=240.0, saturation=1.0, brightness=1.0)
TEST_BRIGHTNESS = 40


class NotApplicable(Exception):
    """The scenario does not cover this check (the pytest layer skips it with this reason)."""


# -- running one adapter call under the vendor stage ------------------------------------------


@dataclass
class _Outcome:
    call: VendorCall
    value: Any = None
    error: Exception | None = None
    requests: int | None = None  # how many vendor requests the stage saw, when it can tell

    def value_or_fail(self, what: str) -> Any:
        if self.error is not None:
            raise AssertionError(
                f"{what}: {self.call.operation} raised {type(self.error).__name__}: {self.error}"
            ) from self.error
        return self.value

    def error_or_fail(self, expected: tuple[type[BaseException], ...], what: str) -> Exception:
        names = " or ".join(t.__name__ for t in expected)
        if self.error is None:
            raise AssertionError(f"{what}: expected {names}, but it returned {self.value!r}")
        if not isinstance(self.error, expected):
            raise AssertionError(
                f"{what}: expected {names}, got {type(self.error).__name__}: {self.error}"
            ) from self.error
        return self.error


def _invoke(scenario: AdapterScenario, call: VendorCall, fn: Callable[[], Any]) -> _Outcome:
    outcome = _Outcome(call)
    with scenario.vendor(call) as handle:
        try:
            outcome.value = fn()
        except Exception as exc:  # noqa: BLE001 - judged by the check that asked
            outcome.error = exc
        calls = getattr(handle, "calls", None)
        if calls is not None:
            outcome.requests = len(calls)
            _check_timeouts(call, calls)
    return outcome


def _check_timeouts(call: VendorCall, calls: Iterable[Any]) -> None:
    """Every vendor request the stage saw (``responses`` records them) had a bounded timeout."""
    for recorded in calls:
        kwargs = getattr(getattr(recorded, "request", None), "req_kwargs", None)
        if not isinstance(kwargs, dict):
            continue
        timeout = kwargs.get("timeout")
        parts = timeout if isinstance(timeout, tuple) else (timeout,)
        if any(p is None or not math.isfinite(p) for p in parts):
            raise AssertionError(
                f"{call.operation}: {recorded.request.method} {recorded.request.url} was sent "
                "without a timeout; every vendor request needs one well inside Alexa's 8 s"
            )
        if sum(parts) > MAX_REQUEST_TIMEOUT_SECONDS:
            raise AssertionError(
                f"{call.operation}: request timeout {timeout!r} s exceeds Alexa's deadline"
            )


def identify(
    scenario: AdapterScenario, credential: AnyCredential, failure: Failure | None = None
) -> _Outcome:
    call = VendorCall(Operation.IDENTIFY_USER, credential=credential, failure=failure)
    return _invoke(scenario, call, lambda: scenario.adapter.identify_user(credential))


def list_devices(
    scenario: AdapterScenario,
    credential: AnyCredential | None = None,
    failure: Failure | None = None,
) -> _Outcome:
    used = scenario.credential if credential is None else credential
    call = VendorCall(Operation.LIST_DEVICES, credential=used, failure=failure)
    return _invoke(scenario, call, lambda: scenario.adapter.list_devices(used))


def read_state(
    scenario: AdapterScenario, device_id: str, failure: Failure | None = None
) -> _Outcome:
    credential = scenario.credential
    call = VendorCall(Operation.READ_STATE, credential, device_id, failure=failure)
    return _invoke(scenario, call, lambda: scenario.adapter.read_state(credential, device_id))


def execute(
    scenario: AdapterScenario, device_id: str, change: Change, failure: Failure | None = None
) -> _Outcome:
    credential = scenario.credential
    call = VendorCall(Operation.EXECUTE, credential, device_id, change, failure)
    return _invoke(
        scenario, call, lambda: scenario.adapter.execute(credential, device_id, change)
    )


def devices_of(scenario: AdapterScenario) -> list[Device]:
    devices = list_devices(scenario).value_or_fail("listing the scenario's devices")
    if not isinstance(devices, list) or not all(isinstance(d, Device) for d in devices):
        raise AssertionError(f"list_devices must return a list of Device, got {devices!r}")
    return devices


def _by_id(devices: Sequence[Device]) -> dict[str, Device]:
    return {device.id: device for device in devices}


def _named(scenario: AdapterScenario) -> list[str]:
    named = [d for d in (scenario.color_device, scenario.white_device) if d]
    if not named:
        raise AssertionError(
            "the scenario names no device: set color_device and/or white_device"
        )
    return named


def _listed(devices: Sequence[Device], device_id: str, role: str) -> Device:
    device = _by_id(devices).get(device_id)
    if device is None:
        raise AssertionError(
            f"the scenario's {role} {device_id!r} is not in list_devices "
            f"({sorted(d.id for d in devices)})"
        )
    return device


# -- identity -------------------------------------------------------------------------------


def name_is_a_vendor_key(scenario: AdapterScenario) -> None:
    name = getattr(scenario.adapter, "name", None)
    assert isinstance(name, str) and NAME_PATTERN.match(name), (
        f"adapter name {name!r} must match {NAME_PATTERN.pattern}: it prefixes every endpoint id"
    )


def style_is_declared(scenario: AdapterScenario) -> None:
    adapter = scenario.adapter
    assert isinstance(getattr(adapter, "style", None), Style), (
        f"style {getattr(adapter, 'style', None)!r} must be a skill.plugins.Style member"
    )
    assert isinstance(getattr(adapter, "credential_kind", None), CredentialKind), (
        f"credential_kind {getattr(adapter, 'credential_kind', None)!r} must be a "
        "skill.plugins.CredentialKind member: it says what the user's credential is"
    )
    assert isinstance(adapter, Adapter), (
        "the adapter lacks part of the Adapter protocol (name, style, credential_kind, "
        "identify_user, list_devices, read_state, execute)"
    )
    if adapter.style is Style.ASYNC:
        assert isinstance(adapter, PushAdapter), (
            "an async adapter must also implement parse_notification (PushAdapter): the "
            "result of its commands arrives on the vendor's webhook"
        )


def installed_under_entry_point(scenario: AdapterScenario) -> None:
    if not scenario.check_entry_point:
        raise NotApplicable("scenario.check_entry_point is False")
    from importlib.metadata import entry_points

    from skill.plugins import ENTRY_POINT_GROUP

    names = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    assert scenario.adapter.name in names, (
        f"no entry point {scenario.adapter.name!r} in group {ENTRY_POINT_GROUP!r} (installed: "
        f"{names}); declare it in pyproject.toml and pip install the package"
    )


#: A secret part shorter than this is not looked for inside the user id (only equality is
#: checked): a two-letter test secret would match by chance.
MIN_SECRET_LENGTH = 4


def _secret_parts(credential: AnyCredential) -> list[str]:
    """The value of every ``SecretStr`` field of the credential (access token, refresh token,
    application key, API key, key, secret...)."""
    parts = []
    for _name, value in credential:
        if isinstance(value, SecretStr):
            parts.append(value.get_secret_value())
    return parts


def identifies_the_user(scenario: AdapterScenario) -> None:
    credential = scenario.credential
    first = identify(scenario, credential).value_or_fail("identify_user(valid credential)")
    second = identify(scenario, credential).value_or_fail("identify_user again")
    assert isinstance(first, str) and first.strip(), (
        f"identify_user must return a non-empty string, got {first!r}"
    )
    assert first == second, f"identify_user is not stable: {first!r} then {second!r}"
    for part in _secret_parts(credential):
        leaked = first == part or (len(part) >= MIN_SECRET_LENGTH and part in first)
        assert not leaked, (
            "identify_user returned a user id containing a secret part of the credential: "
            "user ids are stored and logged, credentials must not be (hash it, or use the "
            "vendor's account id)"
        )


def _foreign_credentials(kind: CredentialKind) -> list[AnyCredential]:
    """One well-formed credential of every kind but ``kind``: another vendor's."""
    every: list[AnyCredential] = [
        OAuthToken.bearer("conformance-foreign-access-token", refresh_token="conformance-r"),
        ApiKey.of("conformance-foreign-api-key"),
        KeyAndSecret.of("conformance-foreign-key", "conformance-foreign-secret"),
    ]
    return [c for c in every if c.kind != kind]


def refuses_a_credential_of_another_kind(scenario: AdapterScenario) -> None:
    """Handed another kind of credential (another vendor's), the adapter raises
    ``InvalidAuthorizationCredential`` without sending it anywhere."""
    adapter = scenario.adapter
    kind = getattr(adapter, "credential_kind", None)
    if not isinstance(kind, CredentialKind):
        raise AssertionError(f"credential_kind {kind!r} must be a CredentialKind member")
    assert scenario.credential.kind == kind, (
        f"the scenario's credential is a {scenario.credential.kind}, the adapter declares "
        f"{kind}"
    )
    for foreign in _foreign_credentials(kind):
        for operation, outcome in (
            (Operation.IDENTIFY_USER, identify(scenario, foreign)),
            (Operation.LIST_DEVICES, list_devices(scenario, foreign)),
        ):
            what = f"{operation}(a {foreign.kind} credential, not {kind})"
            outcome.error_or_fail((InvalidAuthorizationCredential,), what)
            assert not outcome.requests, (
                f"{what}: the adapter sent {outcome.requests} request(s) to the vendor; a "
                "credential of another kind belongs to another vendor and must not leave"
            )


def refuses_an_invalid_credential(scenario: AdapterScenario) -> None:
    identify(scenario, scenario.invalid_credential).error_or_fail(
        (InvalidAuthorizationCredential,), "identify_user(invalid credential)"
    )
    list_devices(scenario, scenario.invalid_credential).error_or_fail(
        (InvalidAuthorizationCredential,), "list_devices(invalid credential)"
    )


# -- discovery ------------------------------------------------------------------------------


def endpoint_ids_are_valid(scenario: AdapterScenario) -> None:
    devices = devices_of(scenario)
    assert devices, "list_devices returned no device for the scenario's account"
    ids = [d.id for d in devices]
    assert len(set(ids)) == len(ids), f"device ids repeat: {ids}"
    encoded = []
    for device in devices:
        assert isinstance(device.id, str) and device.id, f"empty device id in {device!r}"
        try:
            endpoint_id = encode_endpoint_id(scenario.adapter.name, device.id)
        except ValueError as exc:
            raise AssertionError(f"device id {device.id!r} cannot be an endpoint id: {exc}")
        assert decode_endpoint_id(endpoint_id) == (scenario.adapter.name, device.id), (
            f"endpoint id {endpoint_id!r} does not decode back to {device.id!r}"
        )
        encoded.append(endpoint_id)
    assert len(set(encoded)) == len(encoded), f"endpoint ids repeat: {encoded}"
    if scenario.devices is not None:
        assert sorted(ids) == sorted(scenario.devices), (
            f"list_devices returned {sorted(ids)}, the scenario expects {sorted(scenario.devices)}"
        )


def discovery_is_valid_for_alexa(scenario: AdapterScenario) -> None:
    from skill.alexa import events
    from skill.discovery import discovery_endpoint

    devices = devices_of(scenario)
    endpoints = [discovery_endpoint(scenario.adapter, device) for device in devices]
    errors = _schema_errors(events.discover_response(endpoints))
    assert not errors, "Discover.Response is not valid for Alexa:\n" + "\n".join(errors[:5])


def names_are_1_to_128_characters(scenario: AdapterScenario) -> None:
    for device in devices_of(scenario):
        assert isinstance(device.name, str) and device.name.strip(), (
            f"device {device.id!r} has an empty name"
        )
        assert len(device.name) <= MAX_NAME_LENGTH, (
            f"device {device.id!r}: name is {len(device.name)} characters, Alexa takes "
            f"{MAX_NAME_LENGTH}"
        )


def kelvin_ranges_are_alexa_ranges(scenario: AdapterScenario) -> None:
    for device in devices_of(scenario):
        kelvin = device.features.color_temperature
        if kelvin is None:
            continue
        assert 1000 <= kelvin.minimum <= kelvin.maximum <= 10000, (
            f"device {device.id!r}: colour temperature range {kelvin.minimum}-{kelvin.maximum} K "
            "must lie within 1000-10000 K with minimum <= maximum"
        )


def features_match_the_named_devices(scenario: AdapterScenario) -> None:
    from skill.discovery import discovery_endpoint

    devices = devices_of(scenario)
    named = _named(scenario)
    assert named  # _named fails when empty
    for role, device_id, has_color in (
        ("color_device", scenario.color_device, True),
        ("white_device", scenario.white_device, False),
    ):
        if not device_id:
            continue
        device = _listed(devices, device_id, role)
        interfaces = _interfaces(discovery_endpoint(scenario.adapter, device))
        assert device.features.color is has_color, (
            f"{role} {device_id!r}: features.color is {device.features.color}, expected "
            f"{has_color}"
        )
        assert ("Alexa.ColorController" in interfaces) is has_color, (
            f"{role} {device_id!r}: discovery interfaces {sorted(interfaces)}"
        )
    if scenario.tunable_device:
        device = _listed(devices, scenario.tunable_device, "tunable_device")
        assert device.features.color_temperature is not None, (
            f"tunable_device {device.id!r} has no colour temperature range"
        )


def _interfaces(endpoint: dict[str, Any]) -> set[str]:
    return {c.get("interface", "") for c in endpoint.get("capabilities", [])}


# -- state ----------------------------------------------------------------------------------


def reads_the_state_of_every_device(scenario: AdapterScenario) -> None:
    from skill.alexa import events, state_properties

    for device in devices_of(scenario):
        state = read_state(scenario, device.id).value_or_fail(f"read_state({device.id!r})")
        assert isinstance(state, BulbState), (
            f"read_state({device.id!r}) must return a BulbState, got {state!r}"
        )
        endpoint_id = encode_endpoint_id(scenario.adapter.name, device.id)
        properties = state_properties(device.features, state, time.time())
        errors = _schema_errors(events.state_report("conformance", endpoint_id, properties))
        assert not errors, (
            f"the StateReport of {device.id!r} ({state!r}) is not valid for Alexa:\n"
            + "\n".join(errors[:5])
        )


def unknown_device_is_no_such_endpoint(scenario: AdapterScenario) -> None:
    read_state(scenario, scenario.unknown_device).error_or_fail(
        (NoSuchEndpoint,), f"read_state(unknown device {scenario.unknown_device!r})"
    )


# -- commands -------------------------------------------------------------------------------


def executes(scenario: AdapterScenario, kind: str) -> None:
    devices = devices_of(scenario)
    targets = _targets(scenario, devices, kind)
    for device, change in targets:
        outcome = execute(scenario, device.id, change)
        result = outcome.value_or_fail(f"execute({device.id!r}, {change!r})")
        if outcome.requests == 0:
            raise AssertionError(
                f"execute({device.id!r}, {change!r}) sent nothing to the vendor"
            )
        if scenario.adapter.style is Style.SYNC:
            assert isinstance(result, BulbState), (
                f"a sync adapter's execute must return the new BulbState, got {result!r}"
            )
            _shows_change(device, change, result)
            _response_is_valid(scenario, device, result)
        else:
            assert isinstance(result, Accepted), (
                f"a {scenario.adapter.style} adapter's execute must return Accepted, "
                f"got {result!r}"
            )


def _targets(
    scenario: AdapterScenario, devices: Sequence[Device], kind: str
) -> list[tuple[Device, Change]]:
    named = [_listed(devices, d, "device") for d in _named(scenario)]
    if kind == "turn_on":
        return [(d, Change(on=True)) for d in named]
    if kind == "turn_off":
        return [(d, Change(on=False)) for d in named]
    if kind == "brightness":
        dimmable = [d for d in named if d.features.dimmable]
        if not dimmable:
            raise NotApplicable("no named device is dimmable")
        return [(d, Change(brightness=TEST_BRIGHTNESS)) for d in dimmable]
    if kind == "color":
        if not scenario.color_device:
            raise NotApplicable("the scenario names no color_device")
        device = _listed(devices, scenario.color_device, "color_device")
        return [(device, Change(on=True, color=TEST_COLOR))]
    if kind == "color_temperature":
        device = _tunable(scenario, devices)
        kelvin = device.features.color_temperature
        assert kelvin is not None
        return [(device, Change(on=True, color_temperature=(kelvin.minimum + kelvin.maximum) // 2))]
    raise ValueError(f"unknown change kind {kind!r}")


def _tunable(scenario: AdapterScenario, devices: Sequence[Device]) -> Device:
    if scenario.tunable_device:
        return _listed(devices, scenario.tunable_device, "tunable_device")
    for device in devices:
        if device.features.color_temperature is not None:
            return device
    raise NotApplicable("no listed device has an adjustable colour temperature")


def _shows_change(device: Device, change: Change, state: BulbState) -> None:
    """A sync answer is the synchronous truth: it must show what was asked."""
    where = f"execute({device.id!r}, {change!r}) answered {state!r}"
    if change.on is not None:
        assert state.on is change.on, f"{where}: on should be {change.on}"
    if change.brightness is not None:
        assert state.brightness == change.brightness, (
            f"{where}: brightness is not {change.brightness}"
        )
    if change.color is not None:
        assert state.color is not None and state.color_mode == "color", (
            f"{where}: no colour in colour mode"
        )
        gap = abs(state.color.hue - change.color.hue) % 360
        assert min(gap, 360 - gap) <= 2 and abs(
            state.color.saturation - change.color.saturation
        ) <= 0.02, f"{where}: colour differs from {change.color!r}"
    if change.color_temperature is not None:
        assert state.color_temperature is not None and state.color_mode == "temperature", (
            f"{where}: no colour temperature in temperature mode"
        )
        assert abs(state.color_temperature - change.color_temperature) <= 50, (
            f"{where}: colour temperature is not {change.color_temperature} K"
        )


def _response_is_valid(scenario: AdapterScenario, device: Device, state: BulbState) -> None:
    from skill.alexa import events, state_properties

    endpoint_id = encode_endpoint_id(scenario.adapter.name, device.id)
    properties = state_properties(device.features, state, time.time())
    errors = _schema_errors(events.response("conformance", endpoint_id, properties))
    assert not errors, "the Response built from execute's state is not valid for Alexa:\n" + (
        "\n".join(errors[:5])
    )


# -- failures -------------------------------------------------------------------------------


def maps_vendor_failure(scenario: AdapterScenario, operation: Operation, failure: Failure) -> None:
    if failure not in scenario.failures:
        raise NotApplicable(f"the scenario's vendor stub does not produce {failure}")
    device_id = _subject(scenario)
    what = f"{operation} when the vendor fails with {failure}"
    if operation is Operation.IDENTIFY_USER:
        outcome = identify(scenario, scenario.credential, failure)
    elif operation is Operation.LIST_DEVICES:
        outcome = list_devices(scenario, failure=failure)
    elif operation is Operation.READ_STATE:
        outcome = read_state(scenario, device_id, failure)
    else:
        outcome = execute(scenario, device_id, Change(on=True), failure)
    error = outcome.error_or_fail(EXPECTED_ERRORS[failure], what)
    if isinstance(error, RateLimited) and error.retry_after is not None:
        assert error.retry_after >= 0, f"{what}: negative retry_after {error.retry_after}"


def _subject(scenario: AdapterScenario) -> str:
    return _named(scenario)[0]


# -- push notifications ---------------------------------------------------------------------


def _push_adapter(scenario: AdapterScenario) -> PushAdapter:
    adapter = scenario.adapter
    if adapter.style is not Style.ASYNC and not isinstance(adapter, PushAdapter):
        raise NotApplicable(f"{adapter.style} adapters receive no pushes")
    assert isinstance(adapter, PushAdapter), "an async adapter must implement parse_notification"
    return adapter


def parses_a_genuine_push(scenario: AdapterScenario) -> None:
    adapter = _push_adapter(scenario)
    if scenario.webhook is None:
        raise AssertionError("a push adapter's scenario must supply a genuine `webhook` request")
    request = webhook_request(scenario.webhook)
    call = VendorCall(Operation.PARSE_NOTIFICATION)
    notifications = _invoke(scenario, call, lambda: adapter.parse_notification(request))
    found = notifications.value_or_fail("parse_notification(genuine webhook)")
    assert isinstance(found, list) and found, (
        f"a genuine push about a light must give at least one Notification, got {found!r}"
    )
    listed = {d.id for d in devices_of(scenario)}
    user = identify(scenario, scenario.credential).value_or_fail(
        "identify_user(valid credential)"
    )
    for notification in found:
        assert isinstance(notification, Notification), f"not a Notification: {notification!r}"
        assert isinstance(notification.state, BulbState), f"no BulbState in {notification!r}"
        assert notification.device_id in listed, (
            f"the push names device {notification.device_id!r}, which list_devices does not "
            f"return ({sorted(listed)}): its endpoint id would match nothing"
        )
        assert notification.user_id == user, (
            f"the push's user_id {notification.user_id!r} is not identify_user's {user!r}: the "
            "notifications function ties a push to its users by this account id and drops it"
        )
        assert isinstance(notification.sent_at, int | float), (
            "the push has no sent_at (the vendor's own timestamp, epoch seconds): the "
            "notifications function refuses pushes it cannot check for freshness"
        )


def refuses_a_tampered_push(scenario: AdapterScenario) -> None:
    adapter = _push_adapter(scenario)
    if not scenario.invalid_webhooks:
        raise AssertionError(
            "a push adapter's scenario must supply `invalid_webhooks` (tampered, unsigned...)"
        )
    for index, source in enumerate(scenario.invalid_webhooks):
        request = webhook_request(source)
        call = VendorCall(Operation.PARSE_NOTIFICATION)
        outcome = _invoke(scenario, call, lambda r=request: adapter.parse_notification(r))
        error = outcome.error_or_fail(
            (InvalidNotification,), f"parse_notification(invalid_webhooks[{index}])"
        )
        assert isinstance(error, InvalidNotification) and 400 <= error.status <= 599, (
            f"invalid_webhooks[{index}]: InvalidNotification.status {error.status} is not 4xx/5xx"
        )


# -- schema ---------------------------------------------------------------------------------


def _schema_errors(message: dict[str, Any]) -> list[str]:
    try:
        from skill.local.schema import schema_errors

        return schema_errors(message)
    except ImportError as exc:
        raise AssertionError(
            f"validating against Alexa's schema needs jsonschema: pip install "
            f"'bulb-skill[local]' ({exc})"
        ) from exc
    except FileNotFoundError as exc:
        raise AssertionError(
            "the official Alexa schema was not found: install bulb-skill from a checkout "
            "(pip install -e <checkout>) or set ALEXA_SCHEMA_DIR to the checkout's tests/ "
            f"directory ({exc.filename})"
        ) from exc
