"""The conformance checks as plain functions: each raises ``AssertionError`` with a reason, or
``NotApplicable`` when the scenario does not cover it. No pytest here.

Every adapter call goes through the scenario's ``vendor`` stage, so the author's stub (or a
running simulator) answers it; a failure message shows the requests the adapter sent and the
answers the stage gave them.

Beyond what was sent, the kit checks what users will see: with a stateful vendor
(``AdapterScenario.stateful``) it runs the core's own loop for every command the devices allow
(expected state from the bulb semantics, the changes, ``execute``, ``read_state`` until it
converges) and fails a property that never converges or one that moves unasked; it spoils the
vendor's answers (cut off, keys left out, wrong types) and fails anything but a typed error or a
faithful reading.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from bulb_skill_kit._mutate import Mutation, Mutator, Recorder, mutations
from bulb_skill_kit._scenario import (
    AdapterScenario,
    Failure,
    Operation,
    VendorCall,
    webhook_request,
)
from skill import bulbs
from skill.bulbs import (
    BulbState,
    Change,
    Color,
    Command,
    Features,
    SetBrightness,
    SetColor,
    SetColorTemperature,
    TurnOff,
    TurnOn,
)
from skill.errors import (
    BridgeUnreachable,
    EndpointUnreachable,
    ExpiredAuthorizationCredential,
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
    DeviceReading,
    KeyAndSecret,
    Notification,
    OAuthToken,
    PushAdapter,
    StateLister,
    Style,
    VendorQuotas,
    decode_endpoint_id,
    encode_endpoint_id,
)
from skill.plugins._contract import execute_accepts_known

if not __debug__:  # pragma: no cover - the checks are assertions: -O would pass everything
    raise RuntimeError("bulb_skill_kit needs assertions enabled (do not run Python with -O)")

NAME_PATTERN = re.compile(r"^[a-z0-9_-]{1,32}$")
MAX_NAME_LENGTH = 128
#: Alexa waits about 8 s for the whole loop of a light; one vendor request must fit well inside.
MAX_REQUEST_TIMEOUT_SECONDS = 8.0

#: The command kinds ``execute`` is checked with, as the processors send them.
CHANGE_KINDS = ("turn_on", "turn_off", "brightness", "color", "color_temperature")
#: The devices the command loop runs on (the scenario's roles).
DEVICE_ROLES = ("color_device", "white_device", "tunable_device")
#: The operations whose answers the malformed-answer checks spoil.
ANSWER_OPERATIONS = (
    Operation.IDENTIFY_USER,
    Operation.LIST_DEVICES,
    Operation.READ_STATE,
    Operation.EXECUTE,
)


def _checked(operation: Operation, failure: Failure) -> bool:
    """Which failures each operation is checked with."""
    if failure is Failure.NOT_FOUND:
        return operation is not Operation.IDENTIFY_USER
    if failure is Failure.OFFLINE:
        return operation in (Operation.LIST_DEVICES, Operation.READ_STATE, Operation.EXECUTE)
    return True


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
    if _checked(operation, failure)
)

_UNREACHABLE = (EndpointUnreachable, BridgeUnreachable)
#: The typed errors each failure must give (``list_devices`` with ``NOT_FOUND`` / ``OFFLINE``
#: and ``read_state`` with ``OFFLINE`` are judged by what they return instead; see
#: ``maps_vendor_failure``).
EXPECTED_ERRORS: dict[Failure, tuple[type[SkillError], ...]] = {
    Failure.UNAUTHORIZED: (InvalidAuthorizationCredential,),
    Failure.NOT_FOUND: (NoSuchEndpoint,),
    Failure.SERVER_ERROR: _UNREACHABLE,
    Failure.TIMEOUT: _UNREACHABLE,
    Failure.RATE_LIMITED: (RateLimited,),
    Failure.OFFLINE: _UNREACHABLE,
    Failure.EXPIRED: (ExpiredAuthorizationCredential, InvalidAuthorizationCredential),
}

#: What each change kind sends; colour is saturated blue so a sloppy conversion shows.
TEST_COLOR = Color(hue=240.0, saturation=1.0, brightness=1.0)
#: The colours the command loop sets, in order (``AdapterScenario.loop_colors`` overrides):
#: neither fully saturated (a saturation on the wrong scale cannot pass by clipping to the
#: maximum), both inside every Hue gamut (A, B, C): a bulb that cannot show a colour shows the
#: nearest it can, which is not what the kit looks for.
LOOP_COLORS = (
    Color(hue=240.0, saturation=0.5, brightness=1.0),
    Color(hue=30.0, saturation=0.75, brightness=1.0),
)
TEST_BRIGHTNESS = 40
#: How often the command loop reads a stateful vendor that has not shown a command yet.
SETTLE_POLL_SECONDS = 0.05


class NotApplicable(Exception):
    """The scenario does not cover this check (the pytest layer skips it with this reason)."""


# -- running one adapter call under the vendor stage ------------------------------------------


@dataclass
class _Outcome:
    call: VendorCall
    value: Any = None
    error: Exception | None = None
    requests: int | None = None  # how many vendor requests the stage saw, when it can tell
    #: The requests the adapter sent and the answers the stage gave them, as text.
    exchanges: list[str] = field(default_factory=list)

    def staged(self) -> str:
        """The vendor's side of the call, for a failure message."""
        if not self.exchanges:
            return ""
        return "\n  the vendor (as staged) was sent and answered:\n" + "\n".join(
            f"    {line}" for line in self.exchanges
        )

    def value_or_fail(self, what: str) -> Any:
        if self.error is not None:
            raise AssertionError(
                f"{what}: {self.call.operation} raised {type(self.error).__name__}: {self.error}"
                + self.staged()
            ) from self.error
        return self.value

    def error_or_fail(self, expected: tuple[type[BaseException], ...], what: str) -> Exception:
        names = " or ".join(t.__name__ for t in expected)
        if self.error is None:
            raise AssertionError(
                f"{what}: expected {names}, but it returned {self.value!r}" + self.staged()
            )
        if not isinstance(self.error, expected):
            raise AssertionError(
                f"{what}: expected {names}, got {type(self.error).__name__}: {self.error}"
                + self.staged()
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
            calls = list(calls)
            outcome.requests = len(calls)
            outcome.exchanges = [_describe_exchange(c) for c in calls]
            _check_timeouts(call, calls)
    return outcome


def _describe_exchange(recorded: Any) -> str:
    """One request and its staged answer: ``GET <url> <body> -> 200 <body>``."""
    describe = getattr(recorded, "describe", None)
    if callable(describe):
        return str(describe())
    request = getattr(recorded, "request", None)
    if request is None:
        text = json.dumps(recorded, default=str) if isinstance(recorded, dict) else repr(recorded)
        return _excerpt(text)
    line = f"{getattr(request, 'method', '?')} {getattr(request, 'url', '?')}"
    body = getattr(request, "body", None)
    if body:
        line += f" {_excerpt(body)}"
    response = getattr(recorded, "response", None)
    if isinstance(response, BaseException):
        return f"{line} -> raised {type(response).__name__}"
    if response is None:
        return f"{line} -> no answer"
    return f"{line} -> {response.status_code} {_excerpt(response.content or b'')}"


def _excerpt(value: Any, limit: int = 400) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


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
                "without a timeout; every vendor request needs one well inside Alexa's 8 s (a "
                "vendor that does not answer would hold the function until it is killed)\n  the "
                f"vendor (as staged) was sent and answered:\n    {_describe_exchange(recorded)}"
            )
        if sum(parts) > MAX_REQUEST_TIMEOUT_SECONDS:
            raise AssertionError(
                f"{call.operation}: {recorded.request.method} {recorded.request.url}: request "
                f"timeout {timeout!r} s exceeds Alexa's deadline"
            )


def identify(
    scenario: AdapterScenario,
    credential: AnyCredential,
    failure: Failure | None = None,
    spoil: Any = None,
) -> _Outcome:
    call = VendorCall(Operation.IDENTIFY_USER, credential=credential, failure=failure, spoil=spoil)
    return _invoke(scenario, call, lambda: scenario.adapter.identify_user(credential))


def list_devices(
    scenario: AdapterScenario,
    credential: AnyCredential | None = None,
    failure: Failure | None = None,
    device_id: str | None = None,
    spoil: Any = None,
) -> _Outcome:
    used = scenario.credential if credential is None else credential
    call = VendorCall(
        Operation.LIST_DEVICES, credential=used, device_id=device_id, failure=failure, spoil=spoil
    )
    return _invoke(scenario, call, lambda: scenario.adapter.list_devices(used))


def read_state(
    scenario: AdapterScenario,
    device_id: str,
    failure: Failure | None = None,
    credential: AnyCredential | None = None,
    spoil: Any = None,
) -> _Outcome:
    used = scenario.credential if credential is None else credential
    call = VendorCall(Operation.READ_STATE, used, device_id, failure=failure, spoil=spoil)
    return _invoke(scenario, call, lambda: scenario.adapter.read_state(used, device_id))


def execute(
    scenario: AdapterScenario,
    device_id: str,
    change: Change,
    failure: Failure | None = None,
    *,
    known: BulbState | None = None,
    credential: AnyCredential | None = None,
    spoil: Any = None,
) -> _Outcome:
    """``execute`` through the stage; ``known`` goes to adapters that take it (as the core
    does), and is dropped for the others."""
    used = scenario.credential if credential is None else credential
    adapter = scenario.adapter
    takes_known = known is not None and execute_accepts_known(adapter)
    call = VendorCall(
        Operation.EXECUTE,
        used,
        device_id,
        change,
        failure,
        known=known if takes_known else None,
        spoil=spoil,
    )
    if takes_known:
        return _invoke(
            scenario, call, lambda: adapter.execute(used, device_id, change, known=known)
        )
    return _invoke(scenario, call, lambda: adapter.execute(used, device_id, change))


def devices_of(scenario: AdapterScenario) -> list[Device]:
    outcome = list_devices(scenario)
    devices = outcome.value_or_fail("listing the scenario's devices")
    if not isinstance(devices, list) or not all(isinstance(d, Device) for d in devices):
        raise AssertionError(
            f"list_devices must return a list of Device, got {devices!r}" + outcome.staged()
        )
    return devices


def _by_id(devices: Sequence[Device]) -> dict[str, Device]:
    return {device.id: device for device in devices}


def _named(scenario: AdapterScenario) -> list[str]:
    named = [d for d in (scenario.color_device, scenario.white_device) if d]
    if not named:
        raise AssertionError("the scenario names no device: set color_device and/or white_device")
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
#: No run of this many characters of a secret part (any case) may appear in the user id: a
#: prefix or suffix of a token is as good as the token to whoever reads the logs.
LEAK_LENGTH = 6


def _secret_parts(credential: AnyCredential) -> list[str]:
    """The value of every ``SecretStr`` field of the credential (access token, refresh token,
    application key, API key, key, secret...)."""
    parts = []
    for _name, value in credential:
        if isinstance(value, SecretStr):
            parts.append(value.get_secret_value())
    return parts


def leaked_part(user_id: str, credential: AnyCredential) -> str | None:
    """The part of ``credential`` that ``user_id`` shows (a run of ``LEAK_LENGTH`` characters of
    a secret, case ignored; a short secret whole), or None."""
    lowered = user_id.lower()
    for part in _secret_parts(credential):
        secret = part.lower()
        if not secret:
            continue
        if lowered == secret or (len(secret) >= MIN_SECRET_LENGTH and secret in lowered):
            return part
        for start in range(len(secret) - LEAK_LENGTH + 1):
            if secret[start : start + LEAK_LENGTH] in lowered:
                return part[start : start + LEAK_LENGTH]
    return None


def identifies_the_user(scenario: AdapterScenario) -> None:
    credential = scenario.credential
    outcome = identify(scenario, credential)
    first = outcome.value_or_fail("identify_user(valid credential)")
    second = identify(scenario, credential).value_or_fail("identify_user again")
    assert isinstance(first, str) and first.strip(), (
        f"identify_user must return a non-empty string, got {first!r}" + outcome.staged()
    )
    assert first == second, f"identify_user is not stable: {first!r} then {second!r}"
    leaked = leaked_part(first, credential)
    assert leaked is None, (
        f"identify_user returned {first!r}, which shows part of the credential "
        f"({len(leaked or '')} characters of a secret): user ids are stored and logged, "
        "credentials must not be. Use the vendor's account id, or a hash of stable account "
        "data (see 'Identify the account' in docs/adapters.md)" + outcome.staged()
    )
    if scenario.rotated_credential is not None:
        rotated = identify(scenario, scenario.rotated_credential)
        again = rotated.value_or_fail("identify_user(rotated_credential)")
        assert again == first, (
            f"identify_user gives {first!r} for the credential and {again!r} for the same "
            "account's rotated one: a token rotation or refresh would make the vault see a new "
            "account (derive the id from the account, not the token)" + rotated.staged()
        )
        assert leaked_part(again, scenario.rotated_credential) is None, (
            f"identify_user({again!r}) shows part of the rotated credential"
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
        f"the scenario's credential is a {scenario.credential.kind}, the adapter declares {kind}"
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
                + outcome.staged()
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
            raise AssertionError(
                f"device id {device.id!r} cannot be an endpoint id: {exc}"
            ) from exc
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
            f"{role} {device_id!r}: features.color is {device.features.color}, expected {has_color}"
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


# -- the sweep: one call per account, and the quotas it keeps to ------------------------------


def read_all(scenario: AdapterScenario) -> _Outcome:
    adapter, used = scenario.adapter, scenario.credential
    call = VendorCall(Operation.READ_ALL, credential=used)
    return _invoke(scenario, call, lambda: adapter.read_all(used))


def read_all_agrees_with_list_and_read(scenario: AdapterScenario) -> None:
    """A ``StateLister``'s ``read_all`` is what ``list_devices`` and a ``read_state`` of each
    device say, from one vendor request: the same devices, the same states, and None exactly
    where ``read_state`` says the device is unreachable (the sweep reads an account this way
    and its quota floors count the read as one call)."""
    adapter = scenario.adapter
    if not isinstance(adapter, StateLister):
        raise NotApplicable(
            "the adapter has no read_all (not a StateLister): the sweep lists and reads each device"
        )
    outcome = read_all(scenario)
    readings = outcome.value_or_fail("read_all")
    assert isinstance(readings, list) and all(isinstance(r, DeviceReading) for r in readings), (
        f"read_all must return a list of DeviceReading, got {readings!r}" + outcome.staged()
    )
    if outcome.requests is not None:
        assert outcome.requests == 1, (
            f"read_all sent {outcome.requests} requests; it must cost one (the sweep's quota "
            "floors count a StateLister's read as one call)" + outcome.staged()
        )
    listed = devices_of(scenario)
    read = [r.device.id for r in readings]
    assert sorted(read) == sorted(d.id for d in listed) and len(set(read)) == len(read), (
        f"read_all lists {sorted(read)}, list_devices {sorted(d.id for d in listed)}"
        + outcome.staged()
    )
    by_id = _by_id(listed)
    for reading in readings:
        device = by_id[reading.device.id]
        assert reading.device == device, (
            f"read_all describes {device.id!r} as {reading.device!r}, list_devices as {device!r}"
        )
        single = read_state(scenario, device.id)
        if isinstance(single.error, _UNREACHABLE):
            expected = None
        else:
            state = single.value_or_fail(f"read_state({device.id!r})")
            expected = state if state.reachable else None
        assert reading.state == expected, (
            f"read_all reads {device.id!r} as {reading.state!r}, read_state as {expected!r} "
            "(None: unreachable)" + outcome.staged() + single.staged()
        )


def declared_quotas_are_positive(scenario: AdapterScenario) -> None:
    """``quotas``, when declared, is a ``VendorQuotas`` of positive whole limits that names the
    vendor's page stating them (the sweep spends a share of each; a zero would stop it)."""
    declared = getattr(scenario.adapter, "quotas", None)
    if declared is None:
        return  # no limits declared: the sweep's cadence alone bounds its calls
    assert isinstance(declared, VendorQuotas), (
        f"quotas must be a skill.plugins.VendorQuotas, got {declared!r}"
    )
    limits = {name: getattr(declared, name) for name in declared._fields if name != "source"}
    bad = {
        name: value
        for name, value in limits.items()
        if value is not None
        and (isinstance(value, bool) or not isinstance(value, int) or value <= 0)
    }
    assert not bad, f"quotas must be positive whole numbers or None: {bad}"
    if any(value is not None for value in limits.values()):
        assert declared.source.startswith("https://"), (
            f"quotas {limits} must name the vendor's page that states them (source), "
            f"got {declared.source!r}"
        )


# -- commands -------------------------------------------------------------------------------


def executes(scenario: AdapterScenario, kind: str) -> None:
    devices = devices_of(scenario)
    targets = _targets(scenario, devices, kind)
    for device, change in targets:
        outcome = execute(scenario, device.id, change)
        result = outcome.value_or_fail(f"execute({device.id!r}, {change!r})")
        if outcome.requests == 0:
            raise AssertionError(f"execute({device.id!r}, {change!r}) sent nothing to the vendor")
        if scenario.adapter.style is Style.SYNC:
            assert isinstance(result, BulbState), (
                f"a sync adapter's execute must return the new BulbState, got {result!r}"
                + outcome.staged()
            )
            _shows_change(device, change, result, outcome)
            _response_is_valid(scenario, device, result)
        else:
            assert isinstance(result, Accepted), (
                f"a {scenario.adapter.style} adapter's execute must return Accepted, "
                f"got {result!r}" + outcome.staged()
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


def _shows_change(device: Device, change: Change, state: BulbState, outcome: _Outcome) -> None:
    """A sync answer is the synchronous truth: it must show what was asked."""
    where = f"execute({device.id!r}, {change!r}) answered {state!r}"
    staged = outcome.staged()
    if change.on is not None:
        assert state.on is change.on, f"{where}: on should be {change.on}{staged}"
    if change.brightness is not None:
        assert state.brightness == change.brightness, (
            f"{where}: brightness is not {change.brightness}{staged}"
        )
    if change.color is not None:
        assert state.color is not None and state.color_mode == "color", (
            f"{where}: no colour in colour mode{staged}"
        )
        gap = abs(state.color.hue - change.color.hue) % 360
        assert (
            min(gap, 360 - gap) <= 2
            and abs(state.color.saturation - change.color.saturation) <= 0.02
        ), f"{where}: colour differs from {change.color!r}{staged}"
    if change.color_temperature is not None:
        assert state.color_temperature is not None and state.color_mode == "temperature", (
            f"{where}: no colour temperature in temperature mode{staged}"
        )
        assert abs(state.color_temperature - change.color_temperature) <= 50, (
            f"{where}: colour temperature is not {change.color_temperature} K{staged}"
        )


def _response_is_valid(scenario: AdapterScenario, device: Device, state: BulbState) -> None:
    from skill.alexa import events, state_properties

    endpoint_id = encode_endpoint_id(scenario.adapter.name, device.id)
    properties = state_properties(device.features, state, time.time())
    errors = _schema_errors(events.response("conformance", endpoint_id, properties))
    assert not errors, "the Response built from execute's state is not valid for Alexa:\n" + (
        "\n".join(errors[:5])
    )


# -- what users see: the core's command loop over a stateful vendor ---------------------------


def command_script(features: Features, colors: Sequence[Color] = LOOP_COLORS) -> list[Command]:
    """The commands the loop sends a device with ``features``, in order: power both ways, a
    level, a colour, colour -> white (the level must stay), white -> colour, dimmed to 0 and
    back (the level comes back), off."""
    first, second = colors[0], colors[-1]
    script: list[Command] = [TurnOff(), TurnOn()]
    if features.dimmable:
        script.append(SetBrightness(brightness=TEST_BRIGHTNESS))
    if features.color:
        script.append(SetColor(color=first))
    kelvin = features.color_temperature
    if kelvin is not None:
        script.append(
            SetColorTemperature(kelvin=kelvin.minimum + (kelvin.maximum - kelvin.minimum) // 3)
        )
        if features.color:
            script.append(SetColor(color=second))
        else:
            script.append(
                SetColorTemperature(kelvin=kelvin.maximum - (kelvin.maximum - kelvin.minimum) // 4)
            )
    if features.dimmable:
        script += [SetBrightness(brightness=0), TurnOn()]
    script.append(TurnOff())
    return script


def describe_command(command: Command) -> str:
    match command:
        case SetBrightness(brightness=value):
            return f"SetBrightness({value})"
        case SetColor(color=color):
            return (
                f"SetColor(hue {color.hue:g}, saturation {color.saturation:g}, "
                f"brightness {color.brightness:g})"
            )
        case SetColorTemperature(kelvin=kelvin):
            return f"SetColorTemperature({kelvin} K)"
    return f"{command.kind}()"


#: The properties a change asks for (the rest must not move).
_ASKED = {
    "on": {"powerState"},
    "brightness": {"brightness"},
    "color": {"colorMode", "color.hue", "color.saturation"},
    "color_temperature": {"colorMode", "colorTemperatureInKelvin"},
}


def differences(
    seen: BulbState, expected: BulbState, features: Features
) -> list[tuple[str, Any, Any]]:
    """``(property, expected, seen)`` for each property Alexa is told (within the core's
    tolerances) that ``seen`` does not show as ``expected`` has it."""
    found: list[tuple[str, Any, Any]] = []
    if seen.on != expected.on:
        found.append(("powerState", _power(expected.on), _power(seen.on)))
    if (
        features.dimmable
        and abs(seen.brightness - expected.brightness) > bulbs.BRIGHTNESS_TOLERANCE
    ):
        found.append(("brightness", expected.brightness, seen.brightness))
    if expected.color_mode == "color" and expected.color is not None:
        if seen.color_mode not in (None, "color"):
            found.append(("colorMode", "color", seen.color_mode))
        if seen.color is None:
            found.append(("color.hue", expected.color.hue, None))
        else:
            gap = abs(seen.color.hue - expected.color.hue) % 360
            if min(gap, 360 - gap) > bulbs.HUE_TOLERANCE:
                found.append(("color.hue", expected.color.hue, seen.color.hue))
            if abs(seen.color.saturation - expected.color.saturation) > bulbs.SATURATION_TOLERANCE:
                found.append(("color.saturation", expected.color.saturation, seen.color.saturation))
    if expected.color_mode == "temperature" and expected.color_temperature is not None:
        if seen.color_mode not in (None, "temperature"):
            found.append(("colorMode", "temperature", seen.color_mode))
        if seen.color_temperature is None or (
            abs(seen.color_temperature - expected.color_temperature) > bulbs.KELVIN_TOLERANCE
        ):
            found.append(
                ("colorTemperatureInKelvin", expected.color_temperature, seen.color_temperature)
            )
    return found


def _power(on: bool) -> str:
    return "ON" if on else "OFF"


def _asked(change: Change) -> set[str]:
    asked: set[str] = set()
    for name, properties in _ASKED.items():
        if getattr(change, name) is not None:
            asked |= properties
    return asked


@dataclass
class _CommandLoop:
    """The core's loop on one device, as the processors run it, with the skill's memory of the
    last state it reported (``known``: what the owner record would hold)."""

    scenario: AdapterScenario
    device: Device
    role: str
    known: BulbState | None = None

    def read(self, what: str) -> tuple[BulbState, _Outcome]:
        outcome = read_state(self.scenario, self.device.id)
        state = outcome.value_or_fail(f"{what}: read_state({self.device.id!r})")
        assert isinstance(state, BulbState), (
            f"{what}: read_state must return a BulbState, got {state!r}" + outcome.staged()
        )
        return state, outcome

    def run(self, command: Command) -> None:
        scenario, device = self.scenario, self.device
        what = f"{describe_command(command)} on {self.role} {device.id!r}"
        actual, _ = self.read(what)
        if not actual.reachable:
            raise AssertionError(
                f"{what}: the device reads unreachable; the scenario's stateful vendor must have "
                "its named devices online"
            )
        current = bulbs.carry_zero(actual, self.known)
        expected = bulbs.apply_command(current, command, device.features)
        change = bulbs.changes_for(actual, expected)
        if change.is_empty():
            self.known = expected  # already so: the core answers without the vendor
            return
        sent = execute(scenario, device.id, change, known=actual)
        result = sent.value_or_fail(f"{what}: execute({change!r})")
        where = f"{what} (the change sent: {_change_text(change)})"
        if scenario.adapter.style is Style.SYNC:
            assert isinstance(result, BulbState), (
                f"{where}: a sync adapter's execute must return the new BulbState, got "
                f"{result!r}" + sent.staged()
            )
            self._judge(
                where,
                bulbs.carry_zero(result, expected),
                expected,
                change,
                "execute answered",
                sent,
                None,
            )
        else:
            assert isinstance(result, Accepted), (
                f"{where}: a {scenario.adapter.style} adapter's execute must return Accepted, "
                f"got {result!r}" + sent.staged()
            )
        deadline = time.monotonic() + scenario.settle_seconds
        reads = 0
        while True:
            seen, outcome = self.read(what)
            reads += 1
            reported = bulbs.carry_zero(seen, expected)
            if not differences(reported, expected, device.features):
                break
            if time.monotonic() >= deadline or reads >= 200:
                self._judge(
                    where,
                    reported,
                    expected,
                    change,
                    f"after {reads} read(s) over {scenario.settle_seconds:g} s the vendor shows",
                    sent,
                    outcome,
                )
            time.sleep(SETTLE_POLL_SECONDS)
        self.known = expected

    def _judge(
        self,
        where: str,
        seen: BulbState,
        expected: BulbState,
        change: Change,
        shown: str,
        sent: _Outcome,
        read: _Outcome | None,
    ) -> None:
        found = differences(seen, expected, self.device.features)
        if not found:
            return
        asked = _asked(change)
        lines = []
        for prop, want, got in found:
            if prop in asked:
                lines.append(f"{prop} never converged: expected {want!r}, {shown} {got!r}")
            else:
                lines.append(
                    f"{prop} moved, which the command did not ask for: it was {want!r}, "
                    f"{shown} {got!r}"
                )
        staged = ""
        if sent.exchanges:
            staged += "\n  execute: " + sent.staged().lstrip("\n ")
        if read is not None and read.exchanges:
            staged += "\n  the last read_state: " + read.staged().lstrip("\n ")
        raise AssertionError(f"{where}: " + "; ".join(lines) + staged)


def _change_text(change: Change) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in change.model_dump(exclude_none=True).items())


def users_see_each_command(scenario: AdapterScenario, role: str) -> None:
    """Every command the device's features allow, through the core's loop: the property asked
    for converges (within the core's tolerances) and nothing else moves."""
    if not scenario.stateful:
        raise NotApplicable(
            "the scenario's vendor keeps no state (stateful=False): give it a stub that "
            "remembers the commands it takes (bulb_skill_kit.VendorStub) so the kit can check "
            "what users will see"
        )
    devices = devices_of(scenario)
    device_id = getattr(scenario, role)
    if role == "tunable_device":
        if not device_id:
            found = _tunable(scenario, devices)
            device_id = found.id
        if device_id in (scenario.color_device, scenario.white_device):
            raise NotApplicable(
                f"the tunable device {device_id!r} is also a named colour/white device"
            )
    if not device_id:
        raise NotApplicable(f"the scenario names no {role}")
    device = _listed(devices, device_id, role)
    loop = _CommandLoop(scenario, device, role.replace("_", " "))
    for command in command_script(device.features, scenario.loop_colors or LOOP_COLORS):
        loop.run(command)


# -- failures -------------------------------------------------------------------------------


def _expired(credential: AnyCredential) -> AnyCredential:
    """The credential as it is once expired (an OAuth token's ``expires_at`` an hour ago)."""
    if isinstance(credential, OAuthToken):
        return credential.model_copy(update={"expires_at": time.time() - 3600})
    return credential


def maps_vendor_failure(scenario: AdapterScenario, operation: Operation, failure: Failure) -> None:
    if failure not in scenario.failures and (operation, failure) not in scenario.failures:
        raise NotApplicable(
            f"the scenario's vendor stub does not produce {failure} for {operation}"
        )
    device_id = _subject(scenario)
    what = f"{operation} when the vendor fails with {failure}"
    credential = (
        _expired(scenario.credential) if failure is Failure.EXPIRED else scenario.credential
    )
    if operation is Operation.IDENTIFY_USER:
        outcome = identify(scenario, credential, failure)
    elif operation is Operation.LIST_DEVICES:
        about = device_id if failure in (Failure.NOT_FOUND, Failure.OFFLINE) else None
        outcome = list_devices(scenario, credential, failure, device_id=about)
        if about is not None:
            _lists_despite(outcome, failure, about, what)
            return
    elif operation is Operation.READ_STATE:
        outcome = read_state(scenario, device_id, failure, credential=credential)
        if failure is Failure.OFFLINE and outcome.error is None:
            state = outcome.value
            assert isinstance(state, BulbState) and not state.reachable, (
                f"{what}: expected EndpointUnreachable, or a BulbState with reachable=False, "
                f"got {state!r}: Alexa would be told the light is connected" + outcome.staged()
            )
            return
    else:
        outcome = execute(scenario, device_id, Change(on=True), failure, credential=credential)
    error = outcome.error_or_fail(EXPECTED_ERRORS[failure], what)
    if isinstance(error, RateLimited) and error.retry_after is not None:
        assert error.retry_after >= 0, f"{what}: negative retry_after {error.retry_after}"


def _lists_despite(outcome: _Outcome, failure: Failure, device_id: str, what: str) -> None:
    """``list_devices`` while one device is gone (``NOT_FOUND``) or offline (``OFFLINE``): the
    account's list, without the gone one, with the offline one."""
    devices = outcome.value_or_fail(f"{what} (device {device_id!r})")
    assert isinstance(devices, list) and all(isinstance(d, Device) for d in devices), (
        f"{what}: list_devices must return a list of Device, got {devices!r}" + outcome.staged()
    )
    ids = {d.id for d in devices}
    if failure is Failure.NOT_FOUND:
        assert device_id not in ids, (
            f"{what}: {device_id!r} was removed from the account, yet list_devices still "
            f"returns it ({sorted(ids)})" + outcome.staged()
        )
    else:
        assert device_id in ids, (
            f"{what}: {device_id!r} is offline, yet list_devices leaves it out "
            f"({sorted(ids)}): an offline bulb is still the user's, only unreachable"
            + outcome.staged()
        )


def _subject(scenario: AdapterScenario) -> str:
    return _named(scenario)[0]


# -- malformed vendor answers ---------------------------------------------------------------


def malformed_answers_raise_typed_errors(scenario: AdapterScenario, operation: Operation) -> None:
    """Each answer of ``operation`` cut off, with a key left out, with a value of the wrong
    type: the adapter raises a ``skill.errors`` type (never ``KeyError``, ``TypeError``...), and
    ``read_state`` never reads a field the vendor left out as something else (a light whose
    power is missing is unreadable, not off)."""
    if not scenario.malformed_answers:
        raise NotApplicable("scenario.malformed_answers is False")
    devices = devices_of(scenario)
    subject = _listed(devices, _subject(scenario), "device")
    run = _operation(scenario, operation, subject)
    # A state is spoiled with the light on, then (a stateful vendor) off: a missing or mistyped
    # power read as either shows.
    powers: tuple[bool | None, ...] = (None,)
    if operation is Operation.READ_STATE and scenario.stateful:
        powers = (True, False)
    problems: dict[str, str] = {}  # one message per kind of mishandling
    count = tried = 0
    for power in powers:
        if power is not None:
            _switch(scenario, subject, power)
        recorder = Recorder()
        baseline = run(recorder)
        good = baseline.value_or_fail(f"{operation} before its answers are spoiled")
        if not recorder.answers:
            raise NotApplicable(
                "the scenario's vendor stage does not pass answers through VendorCall.spoil "
                "(responses_vendor, VendorStub and LocalVendor do)"
            )
        spoiled = mutations([body for body, _ in recorder.answers])
        tried += len(spoiled)
        for mutation in spoiled:
            mutator = Mutator(mutation)
            outcome = run(mutator)
            try:
                _judge_spoiled(scenario, operation, subject, mutation, mutator, outcome, good)
            except _Mishandled as problem:
                count += 1
                problems.setdefault(problem.kind, str(problem))
    if problems:
        shown = list(problems.values())[:MAX_PROBLEMS_SHOWN]
        raise AssertionError(
            f"{operation}: {count} of {tried} spoiled vendor answers were mishandled "
            f"({len(problems)} kind(s); the first of each):\n" + "\n".join(shown)
        )


#: At most this many kinds of mishandled answers are shown in one failure.
MAX_PROBLEMS_SHOWN = 4


class _Mishandled(AssertionError):
    """One spoiled answer the adapter mishandled; ``kind`` groups the same mistake."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _operation(
    scenario: AdapterScenario, operation: Operation, device: Device
) -> Callable[[Any], _Outcome]:
    if operation is Operation.IDENTIFY_USER:
        return lambda spoil: identify(scenario, scenario.credential, spoil=spoil)
    if operation is Operation.LIST_DEVICES:
        return lambda spoil: list_devices(scenario, spoil=spoil)
    if operation is Operation.READ_STATE:
        return lambda spoil: read_state(scenario, device.id, spoil=spoil)
    return lambda spoil: execute(scenario, device.id, Change(on=True), spoil=spoil)


def _switch(scenario: AdapterScenario, device: Device, on: bool) -> None:
    """Turn a stateful vendor's device on or off (as the core would) and wait until it shows."""
    state = read_state(scenario, device.id).value
    if not isinstance(state, BulbState) or state.on is on:
        return
    execute(scenario, device.id, Change(on=on), known=state)
    deadline = time.monotonic() + scenario.settle_seconds
    while time.monotonic() < deadline:
        state = read_state(scenario, device.id).value
        if isinstance(state, BulbState) and state.on is on:
            return
        time.sleep(SETTLE_POLL_SECONDS)


def _judge_spoiled(
    scenario: AdapterScenario,
    operation: Operation,
    device: Device,
    mutation: Mutation,
    mutator: Mutator,
    outcome: _Outcome,
    good: Any,
) -> None:
    answer = f"answer {mutation.index + 1}"
    if mutator.label:
        answer += f" ({mutator.label})"
    spoiled = _excerpt(mutator.spoiled if mutator.spoiled is not None else b"")
    where = (
        f"{operation} when the vendor's {answer} is {mutation.describe()}\n"
        f"  the spoiled answer staged: {spoiled}"
    )
    if outcome.error is not None:
        if isinstance(outcome.error, SkillError):
            return
        if isinstance(outcome.error, AssertionError):  # the stage's own complaint
            raise outcome.error
        name = type(outcome.error).__name__
        raise _Mishandled(
            name,
            f"- {where}\n  it raised {name}: {outcome.error}; a malformed vendor answer must "
            f"raise a skill.errors type (EndpointUnreachable), never {name}",
        )
    value = outcome.value
    if operation is Operation.IDENTIFY_USER:
        if not (isinstance(value, str) and value.strip()):
            raise _Mishandled(
                "value", f"- {where}\n  identify_user returned {value!r}, not a user id"
            )
    elif operation is Operation.LIST_DEVICES:
        if not (isinstance(value, list) and all(isinstance(d, Device) for d in value)):
            raise _Mishandled(
                "value", f"- {where}\n  list_devices returned {value!r}, not a list of Device"
            )
    elif operation is Operation.EXECUTE:
        wanted = BulbState if scenario.adapter.style is Style.SYNC else Accepted
        if not isinstance(value, wanted):
            raise _Mishandled(
                "value", f"- {where}\n  execute returned {value!r}, not {wanted.__name__}"
            )
    else:
        if not isinstance(value, BulbState):
            raise _Mishandled("value", f"- {where}\n  read_state returned {value!r}")
        _reads_faithfully(where, value, good, device.features)


def _reads_faithfully(where: str, state: BulbState, good: BulbState, features: Features) -> None:
    """What the adapter read from a spoiled state answer: power and level as the whole answer
    says, or an error; never unreachable read as reachable."""
    problems = []
    if state.on != good.on:
        problems.append(
            f"it read the light as {_power(state.on)}, the whole answer says {_power(good.on)}"
        )
    if features.dimmable and state.brightness != good.brightness:
        problems.append(
            f"it read brightness {state.brightness}, the whole answer says {good.brightness}"
        )
    if state.reachable and not good.reachable:
        problems.append("it read the light as reachable, the whole answer says unreachable")
    if problems:
        raise _Mishandled(
            "; ".join(problems),
            f"- {where}\n  " + "; ".join(problems) + ". A state field the vendor left out or "
            "sent in another type is unreadable: raise EndpointUnreachable rather than guess",
        )


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
    user = identify(scenario, scenario.credential).value_or_fail("identify_user(valid credential)")
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
        from bulb_workbench.local.schema import schema_errors

        return schema_errors(message)
    except ImportError as exc:
        raise AssertionError(
            "validating against Alexa's schema needs the workbench: pip install "
            f"'bulb-skill-kit[schema]' ({exc})"
        ) from exc
    except FileNotFoundError as exc:
        raise AssertionError(
            "the official Alexa schema was not found: install bulb-skill-workbench from a "
            "checkout (pip install -e <checkout>/workbench) or set ALEXA_SCHEMA_DIR to the "
            f"checkout's tests/ directory ({exc.filename})"
        ) from exc
