"""What an adapter author tells the conformance kit: the adapter, credentials, devices, stubs.

No pytest and no ``responses`` here: a scenario is plain data plus one callable, ``vendor``, that
makes the vendor answer one adapter call (a context manager around that call).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from skill.bulbs import BulbState, Change, Color
from skill.plugins import Adapter, AnyCredential, WebhookRequest

if TYPE_CHECKING:  # pragma: no cover - typing only; responses stays optional
    import responses


class Operation(StrEnum):
    """The adapter method a ``VendorCall`` is about."""

    IDENTIFY_USER = "identify_user"
    LIST_DEVICES = "list_devices"
    READ_STATE = "read_state"
    EXECUTE = "execute"
    PARSE_NOTIFICATION = "parse_notification"
    #: ``read_all`` of a ``skill.plugins.StateLister``: every device with its state, one call.
    READ_ALL = "read_all"


class Failure(StrEnum):
    """A way the vendor can fail, and what the adapter must raise for it.

    ``status`` is the HTTP status most vendors use; stage whatever *your* vendor really answers
    in that situation (some put the error in a 200 body).
    """

    UNAUTHORIZED = "unauthorized"  # 401: credential revoked -> InvalidAuthorizationCredential
    NOT_FOUND = "not_found"  # 404: no such device -> NoSuchEndpoint
    SERVER_ERROR = "server_error"  # 5xx -> EndpointUnreachable / BridgeUnreachable
    TIMEOUT = "timeout"  # no answer in time -> EndpointUnreachable / BridgeUnreachable
    RATE_LIMITED = "rate_limited"  # 429 -> RateLimited
    OFFLINE = "offline"  # the vendor says the bulb is offline -> Endpoint/BridgeUnreachable
    #: The vendor says the credential expired -> ExpiredAuthorizationCredential (or
    #: InvalidAuthorizationCredential when the vendor cannot tell it from a revoked one). The
    #: kit hands the adapter the credential with ``expires_at`` in the past (OAuth) for it.
    EXPIRED = "expired"

    @property
    def status(self) -> int | None:
        """The usual HTTP status for this failure (``None``: timeout / vendor-specific)."""
        return _STATUS[self]


_STATUS: dict[Failure, int | None] = {
    Failure.UNAUTHORIZED: 401,
    Failure.NOT_FOUND: 404,
    Failure.SERVER_ERROR: 503,
    Failure.TIMEOUT: None,
    Failure.RATE_LIMITED: 429,
    Failure.OFFLINE: None,
    Failure.EXPIRED: 401,
}

#: The failures every vendor can produce; ``OFFLINE`` and ``EXPIRED`` are opt-in (add them when
#: your vendor says so).
STANDARD_FAILURES: frozenset[Failure] = frozenset(
    {
        Failure.UNAUTHORIZED,
        Failure.NOT_FOUND,
        Failure.SERVER_ERROR,
        Failure.TIMEOUT,
        Failure.RATE_LIMITED,
    }
)


#: ``VendorCall.spoil``: gets each vendor answer body of the call (and a label such as
#: ``"GET https://.../lamps -> 200"``) and returns the body the adapter receives instead.
Spoiler = Callable[..., bytes]


@dataclass(frozen=True, slots=True)
class VendorCall:
    """One adapter call the kit is about to make, so the vendor stub can answer it.

    ``credential`` is the one the adapter is handed (the scenario's ``credential``, its
    ``invalid_credential``, or, in the wrong-kind check, another kind's, which the adapter must
    refuse before sending anything). ``failure`` None: answer as the vendor does when all is well
    (for ``device_id`` equal to the scenario's ``unknown_device`` or ``credential`` equal to its
    ``invalid_credential``: as the vendor answers those). Otherwise: make the vendor answer with
    that failure. For ``list_devices``, ``NOT_FOUND`` and ``OFFLINE`` are about ``device_id``:
    list the account without that device (it was removed), or with it offline.

    ``known`` is the state ``execute`` is handed (the kit's command loop passes the state it just
    read, as the core does). ``spoil``, when set, must be applied to every answer body of the
    call before the adapter gets it (``responses_vendor`` and ``LocalVendor`` do): the kit's
    malformed-answer checks cut bodies off, drop keys and change types that way.
    """

    operation: Operation
    credential: AnyCredential | None = None
    device_id: str | None = None
    change: Change | None = None
    failure: Failure | None = None
    known: BulbState | None = None
    spoil: Spoiler | None = None


VendorStage = Callable[[VendorCall], AbstractContextManager[Any]]
"""Makes the vendor answer one call: a context manager the kit enters around that call.

It may yield an object with a ``calls`` sequence (``responses.RequestsMock`` has one): the kit
then also checks that ``execute`` really sent something to the vendor, and shows those calls and
the answers staged for them when a check fails.
"""

WebhookSource = WebhookRequest | Callable[[], WebhookRequest]


def no_stage(call: VendorCall) -> AbstractContextManager[Any]:
    """The vendor needs no staging (a real or simulated vendor is running)."""
    return nullcontext()


@dataclass
class AdapterScenario:
    """Everything the conformance checks need to know about one adapter and its vendor stub.

    ``credential`` and ``invalid_credential`` are of the kind the adapter declares
    (``adapter.credential_kind``): one your stub accepts, one it refuses. Name devices by their
    vendor id. At least one of ``color_device`` / ``white_device`` is required; ``devices``
    (every id ``list_devices`` returns) makes the discovery check exact.

    Example, the repository's Govee adapter with its device list staged, and three checks::

        >>> from bulb_skill_govee import create
        >>> from bulb_skill_kit import CHECKS, run_checks
        >>> from skill.plugins import AdapterContext, ApiKey
        >>> BASE = "https://govee.test/v1"
        >>> GOOD, REVOKED = ApiKey.of("good-key"), ApiKey.of("revoked-key")
        >>> def lamp(device, *capabilities):
        ...     power = {"type": "devices.capabilities.on_off", "instance": "powerSwitch"}
        ...     return {"sku": "H6008", "device": device, "deviceName": f"Lamp {device}",
        ...             "type": "devices.types.light", "capabilities": [power, *capabilities]}
        >>> colour = {"type": "devices.capabilities.color_setting", "instance": "colorRgb"}
        >>> def stage_govee(mock, call):
        ...     if call.credential == REVOKED:
        ...         mock.get(f"{BASE}/user/devices", status=401, json={"message": "bad key"})
        ...         return
        ...     lamps = [lamp("AA:01", colour), lamp("AA:02")]
        ...     mock.get(f"{BASE}/user/devices", json={"code": 200, "data": lamps})
        >>> scenario = AdapterScenario(
        ...     adapter=create(AdapterContext(vendor="govee", environ={"GOVEE_BASE_URL": BASE})),
        ...     credential=GOOD,
        ...     invalid_credential=REVOKED,
        ...     color_device="H6008@AA:01",
        ...     white_device="H6008@AA:02",
        ...     unknown_device="H6008@AA:99",
        ...     vendor=responses_vendor(stage_govee),
        ... )
        >>> wanted = ("invalid_credential", "unique_endpoint_ids", "colour_bulb_has_colour")
        >>> checks = [check for check in CHECKS if any(w in check.name for w in wanted)]
        >>> print(run_checks(scenario, checks))
        3 passed, 0 failed, 0 not applicable
    """

    adapter: Adapter
    credential: AnyCredential
    invalid_credential: AnyCredential
    vendor: VendorStage = no_stage
    #: A bulb with colour (gets ColorController), and one without colour.
    color_device: str | None = None
    white_device: str | None = None
    #: A bulb with adjustable colour temperature; default: the first listed one that has it.
    tunable_device: str | None = None
    #: Every device id ``list_devices`` must return (None: not checked exactly).
    devices: Collection[str] | None = None
    #: A well-formed id (your vendor's format) of a bulb the account does not have.
    unknown_device: str = "conformance-unknown-bulb"
    #: The failures your vendor stub can produce; the others are skipped with a reason. A
    #: ``(Operation, Failure)`` pair claims a failure for that operation only (Hue says a light
    #: is offline when it is read, but accepts a command to it).
    failures: Collection[Failure | tuple[Operation, Failure]] = STANDARD_FAILURES
    #: Push adapters: a genuine webhook request (or a callable making a fresh one, e.g. with a
    #: current timestamp) and requests that must be refused (tampered, unsigned, replayed...).
    webhook: WebhookSource | None = None
    invalid_webhooks: Sequence[WebhookSource] = field(default_factory=tuple)
    #: Check that ``adapter.name`` is registered under ``bulb_skill.adapters`` (needs the
    #: package installed, e.g. ``pip install -e .``).
    check_entry_point: bool = True
    #: The vendor stage keeps state: after ``execute``, ``read_state`` shows what the vendor did
    #: with the command (a ``VendorStub``, or ``responses`` callbacks over a dict of devices).
    #: The kit then runs the core's loop for every command the devices' features allow and
    #: checks what users will see: every asked property converges, nothing else moves.
    stateful: bool = False
    #: How long the command loop waits for a stateful vendor to show a command (simulated
    #: transitions); a stub that applies commands at once converges at the first read.
    settle_seconds: float = 2.0
    #: The colours the command loop sets (default: half-saturated blue, then orange, which
    #: every Hue gamut holds); give colours your vendor's bulbs can show exactly.
    loop_colors: Sequence[Color] | None = None
    #: Another credential of the same vendor account (after a token rotation or a refresh):
    #: ``identify_user`` must give the same id for it.
    rotated_credential: AnyCredential | None = None
    #: Run the malformed-answer checks (cut-off bodies, missing keys, wrong types). They need a
    #: stage that applies ``VendorCall.spoil``; they are skipped, saying so, for one that does not.
    malformed_answers: bool = True


def responses_vendor(
    stage: Callable[[responses.RequestsMock, VendorCall], None],
    *,
    strict: bool = True,
) -> VendorStage:
    """A ``VendorStage`` on ``responses``: ``stage(mock, call)`` registers the answers.

    Each call gets a fresh ``responses.RequestsMock``. With ``strict`` (default) a request that
    matches nothing staged fails the check that made it, instead of surfacing as a connection
    error the adapter might map to ``EndpointUnreachable`` and pass a failure check by accident.
    Staging more than a call needs is fine.

    Example (the kit enters ``vendor(call)`` around each adapter call; ``requests`` stands in
    for the adapter here)::

        >>> import requests
        >>> BASE, LIGHTS = "https://vendor.test/v1", [{"id": "bulb-1"}]
        >>> def stage(mock, call):
        ...     if call.failure is Failure.SERVER_ERROR:
        ...         mock.get(f"{BASE}/lights", status=503, json={"error": "busy"})
        ...         return
        ...     mock.get(f"{BASE}/lights", json=LIGHTS)
        >>> vendor = responses_vendor(stage)
        >>> with vendor(VendorCall(Operation.LIST_DEVICES)):
        ...     requests.get(f"{BASE}/lights", timeout=5).json()
        [{'id': 'bulb-1'}]
        >>> with vendor(VendorCall(Operation.LIST_DEVICES, failure=Failure.SERVER_ERROR)):
        ...     requests.get(f"{BASE}/lights", timeout=5).status_code
        503
        >>> with vendor(VendorCall(Operation.LIST_DEVICES)):  # a request nothing was staged for
        ...     try:
        ...         requests.get(f"{BASE}/lamps", timeout=5)
        ...     except requests.ConnectionError:
        ...         pass  # the adapter might map it to EndpointUnreachable: the check fails
        Traceback (most recent call last):
          ...
        AssertionError: list_devices: the adapter sent GET https://vendor.test/v1/lamps, ...
    """

    @contextmanager
    def vendor(call: VendorCall) -> Iterator[Any]:
        import responses  # optional dependency: only authors who use this helper need it

        with responses.RequestsMock(
            assert_all_requests_are_fired=False,
            response_callback=_spoiling(call.spoil) if call.spoil is not None else None,
        ) as mock:
            stage(mock, call)
            yield mock
            unmatched = [c for c in mock.calls if _is_unmatched(c.response)]
        if strict and unmatched:
            first = unmatched[0].request
            raise AssertionError(
                f"{call.operation}: the adapter sent {first.method} {first.url}, which the "
                f"scenario's stage did not answer for {call!r}"
            )

    return vendor


def _spoiling(spoil: Spoiler) -> Callable[[Any], Any]:
    """A ``responses`` response callback that hands each answer body through ``spoil``."""

    def callback(response: Any) -> Any:
        request = getattr(response, "request", None)
        method, url = getattr(request, "method", "?"), getattr(request, "url", "?")
        label = f"{method} {url} -> {response.status_code}"
        response._content = spoil(response.content or b"", label)
        return response

    return callback


def _is_unmatched(response: Any) -> bool:
    return isinstance(response, Exception) and "Connection refused by Responses" in str(response)


def webhook_request(source: WebhookSource) -> WebhookRequest:
    return source() if callable(source) else source
