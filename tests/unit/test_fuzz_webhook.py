"""Hostile input at the vendor webhook (property-based, hypothesis).

``skill.handlers.notifications.handler`` gets API Gateway HTTP API events (payload format 2.0) for
``POST /webhooks/<vendor>/<secret>``, with the simulator's real push adapter (``create_async``:
HMAC-SHA256 signature over ``"<timestamp>.<body>"``, a replay window, a size limit) and
in-memory stores behind the real ``PushHandler``. One bulb has an owner and a pending command,
so a genuine push *would* produce a ``Response``; the properties are that anything not genuine
-- wrong path secret, bad or missing signature, stale or future timestamp, bad JSON, oversized
body, another vendor -- is answered with a 4xx and processes nothing: the outbox stays empty and
the state table is unchanged. A genuine push is answered 200 and produces exactly one
schema-valid ``Response``; replaying it produces nothing more.

Derandomized, modest example counts: a few seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulb_workbench.local.schema import schema_errors
from bulb_workbench.local.sim_adapters import (
    MAX_NOTIFICATION_AGE_SECONDS,
    MAX_NOTIFICATION_SKEW_SECONDS,
    create_async,
)
from skill.bulbs import BulbState, Change
from skill.composition import Composition, using
from skill.handlers import notifications
from skill.pipeline import PipelineServices, PushHandler
from skill.plugins import AdapterRegistry, KeyAndSecret
from skill.records import DeviceOwner, PendingCommand
from tests.fakes import (
    COLOR,
    FakeAdapter,
    MemoryOutbox,
    MemoryStateStore,
    MemoryVault,
    credentials_of,
)

#: notifications.handler flushes metrics after every request; none are recorded here
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

PATH_SECRET = "p4th-S3cret_Zx9q"
SIGNING_SECRET = "sig-secret-Q7-local"
VENDOR = "sim-async"
DEVICE = "bulb-1"
ENDPOINT = f"{VENDOR}:{DEVICE}"
REFERENCE = "req-1"


# --- the world --------------------------------------------------------------------------------


class CountingPushHandler(PushHandler):
    calls = 0

    def handle(self, vendor, request):
        self.calls += 1
        return super().handle(vendor, request)


class Hook:
    """The notifications function over in-memory stores, one bulb waiting for a push."""

    def __init__(self) -> None:
        environ = {"SIM_WEBHOOK_SECRET": SIGNING_SECRET, "SIMULATOR_URL": "http://127.0.0.1:9"}
        registry = AdapterRegistry(
            {VENDOR: create_async, "fake": lambda _ctx: FakeAdapter()}, environ=environ
        )
        self.outbox = MemoryOutbox()
        self.pending = MemoryStateStore()
        self.vault = MemoryVault()
        self.vault.connect(
            "user-1", VENDOR, KeyAndSecret.of("vendor-key", "vendor-secret"), account_id="user-1"
        )
        now = time.time()
        self.pending.put_owner(
            DeviceOwner(
                endpoint_id=ENDPOINT,
                user_id="user-1",
                vendor=VENDOR,
                features=COLOR,
                state=BulbState(on=False, brightness=60),
                account_id="user-1",
            )
        )
        self.pending.put_pending(
            PendingCommand(
                endpoint_id=ENDPOINT,
                message_id="m-1",
                correlation_token="corr-1",
                user_id="user-1",
                reference=REFERENCE,
                change=Change(on=True),
                expected=BulbState(on=True, brightness=60),
                features=COLOR,
                received_at=now,
                deadline=now + 600,
            )
        )
        self.push = CountingPushHandler(
            PipelineServices(
                adapters=registry,
                credentials=credentials_of(self.vault),
                outbox=self.outbox,
                pending=self.pending,
            )
        )
        self.before = self.snapshot()

    def snapshot(self) -> tuple[Any, ...]:
        return (
            sorted((k, v.model_dump_json()) for k, v in self.pending.pending.items()),
            sorted((str(k), v.model_dump_json()) for k, v in self.pending.owners_by_key.items()),
        )

    def untouched(self) -> bool:
        return self.outbox.messages == [] and self.snapshot() == self.before


@contextmanager
def hooked() -> Iterator[Hook]:
    hook = Hook()
    secrets = SimpleNamespace(accepted=lambda vendor: (PATH_SECRET,))
    with using(Composition(push_handler=hook.push, path_secrets=secrets)):
        yield hook


def http_event(
    body: bytes | str | None,
    headers: dict[str, str] | None = None,
    *,
    vendor: str = VENDOR,
    secret: str = PATH_SECRET,
    method: str = "POST",
    encode: bool = False,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event as the ``$default`` stage delivers it."""
    path = f"/webhooks/{vendor}/{secret}"
    raw = body.encode() if isinstance(body, str) else body
    if raw is not None and not encode:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            encode = True  # API Gateway base64-encodes whatever is not UTF-8 text
    if body is None:
        payload = None
    elif encode:
        payload = base64.b64encode(raw).decode()
    else:
        payload = raw.decode("utf-8")
    return {
        "version": "2.0",
        "routeKey": "POST /webhooks/{vendor}/{secret}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api1234",
            "domainName": "api1234.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "api1234",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "vendor-push/1.0",
            },
            "requestId": "req-abc",
            "routeKey": "POST /webhooks/{vendor}/{secret}",
            "stage": "$default",
            "time": "22/Nov/2026:18:00:00 +0000",
            "timeEpoch": 1795370400000,
        },
        "pathParameters": {"vendor": vendor, "secret": secret},
        "body": payload,
        "isBase64Encoded": encode,
    }


def sign(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def signed(
    body: bytes, *, age: float = 0, timestamp: str | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    ts = timestamp if timestamp is not None else str(int(time.time() - age))
    return {"x-sim-timestamp": ts, "x-sim-signature": sign(body, ts, secret)}


def genuine_body(**state: Any) -> bytes:
    return json.dumps(
        {
            "device_id": DEVICE,
            "request_id": REFERENCE,
            "user_id": "user-1",
            "state": {"on": True, "brightness": 60, **state},
        }
    ).encode()


def call(event: dict[str, Any]) -> dict[str, Any]:
    with hooked() as hook:
        answer = notifications.handler(event, None)
    answer["hook"] = hook
    return answer


def assert_refused(answer: dict[str, Any], *statuses: int) -> None:
    status = answer["statusCode"]
    assert 400 <= status < 500, answer
    if statuses:
        assert status in statuses, answer
    assert answer["hook"].untouched(), "a refused request changed state or produced events"


# --- the positive control: a genuine push does get through ---------------------------------------


@pytest.mark.parametrize("encode", [False, True])
def test_a_genuine_push_answers_the_pending_command_once_and_a_replay_adds_nothing(encode):
    body = genuine_body()
    event = http_event(body, signed(body), encode=encode)
    with hooked() as hook:
        first = notifications.handler(event, None)
        assert first["statusCode"] == 200, first
        [response] = hook.outbox.messages
        assert not schema_errors(response.message)
        assert response.message["event"]["header"]["correlationToken"] == "corr-1"
        replay = notifications.handler(event, None)  # inside the replay window
        assert replay["statusCode"] < 500
        assert len(hook.outbox.messages) == 1, "a replayed push produced another event"
        assert hook.pending.pending == {}


# --- strategies --------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)
push_shaped = st.fixed_dictionaries(
    {},
    optional={
        "device_id": st.sampled_from([DEVICE, "", "other", "x" * 200, "\u202e\x00"]) | json_values,
        "request_id": st.sampled_from([REFERENCE, None, ""]) | json_values,
        "user_id": st.sampled_from(["user-1", "someone-else", None]) | json_values,
        "state": st.fixed_dictionaries(
            {},
            optional={
                "on": st.booleans() | json_values,
                "brightness": st.integers(-5, 105) | json_values,
                "color": st.fixed_dictionaries(
                    {
                        "hue": st.floats(-10, 400),
                        "saturation": st.floats(-1, 2),
                        "brightness": st.floats(-1, 2),
                    }
                )
                | json_values,
                "color_temperature": st.integers(0, 20_000) | json_values,
                "color_mode": st.sampled_from(["color", "temperature", "disco"]) | json_values,
                "online": json_values,
            },
        )
        | json_values,
    },
)


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


#: Bodies that are UTF-8 text (what most tests send; see the non-UTF-8 finding at the end).
bodies = (
    st.binary(max_size=200).filter(_utf8)
    | st.text(max_size=200).map(str.encode)
    | json_values.map(lambda v: json.dumps(v).encode())
    | push_shaped.map(lambda v: json.dumps(v).encode())
    | st.sampled_from([b"", b"{", b"null", b"[]", b'{"device_id": "bulb-1"}', b"\x00" * 64])
)
binary_bodies = st.binary(min_size=1, max_size=200).filter(
    lambda b: not _utf8(b)
) | st.sampled_from(
    [b"\xff\xfe\x00", b"\x80", genuine_body() + b"\xff", b"\x1f\x8b\x08\x00" + b"\x00" * 20]
)
header_values = st.text(max_size=80) | st.sampled_from(
    ["", "sha256=", "sha256=" + "0" * 64, "0", "-1", "9" * 40]
)


# --- the fuzz tests ----------------------------------------------------------------------------


@FUZZ
@given(
    body=bodies,
    headers=st.dictionaries(
        st.sampled_from(["x-sim-timestamp", "x-sim-signature", "x-other"]),
        header_values,
        max_size=3,
    ),
    encode=st.booleans(),
)
def test_an_unsigned_or_badly_signed_request_is_refused_and_processes_nothing(
    body, headers, encode
):
    answer = call(http_event(body, headers, encode=encode))
    assert_refused(answer)


@FUZZ
@given(
    how=st.sampled_from(
        [
            "flip",
            "truncate",
            "upper",
            "no-prefix",
            "other-secret",
            "other-body",
            "other-timestamp",
            "missing-signature",
            "missing-timestamp",
            "empty",
        ]
    ),
    body=st.one_of(st.just(genuine_body()), bodies),
    encode=st.booleans(),
)
def test_a_tampered_signature_is_refused_and_processes_nothing(how, body, encode):
    headers = signed(body)
    signature = headers["x-sim-signature"]
    if how == "flip":
        last = signature[-1]
        headers["x-sim-signature"] = signature[:-1] + ("0" if last != "0" else "1")
    elif how == "truncate":
        headers["x-sim-signature"] = signature[:-2]
    elif how == "upper":
        headers["x-sim-signature"] = "sha256=" + signature[7:].upper()
        if headers["x-sim-signature"] == signature:  # all digits: not a tamper
            headers["x-sim-signature"] = signature + "0"
    elif how == "no-prefix":
        headers["x-sim-signature"] = signature[7:]
    elif how == "other-secret":
        headers = signed(body, secret=SIGNING_SECRET + "x")
    elif how == "other-body":
        headers["x-sim-signature"] = sign(body + b" ", headers["x-sim-timestamp"])
    elif how == "other-timestamp":
        headers["x-sim-timestamp"] = str(int(headers["x-sim-timestamp"]) - 1)
    elif how == "missing-signature":
        del headers["x-sim-signature"]
    elif how == "missing-timestamp":
        del headers["x-sim-timestamp"]
    else:
        headers = {}
    assert_refused(call(http_event(body, headers, encode=encode)), 401)


@FUZZ
@given(
    offset=st.integers(MAX_NOTIFICATION_AGE_SECONDS + 5, 10**9).map(lambda s: -s)
    | st.integers(MAX_NOTIFICATION_SKEW_SECONDS + 5, 10**9),
    encode=st.booleans(),
)
def test_a_stale_or_future_push_signed_with_the_real_secret_is_refused(offset, encode):
    """The replay window: a genuine push captured and sent again later is refused."""
    body = genuine_body()
    timestamp = str(int(time.time()) + offset)
    assert_refused(call(http_event(body, signed(body, timestamp=timestamp), encode=encode)), 401)


@FUZZ
@given(
    timestamp=st.sampled_from(
        [
            "",
            " ",
            "1e9",
            "0x10",
            "\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660",
            "nan",
            "inf",
            "-0",
            "9" * 5000,
            "1.5",
            "+1",
        ]
    )
    | st.text(max_size=20).filter(lambda t: not t.strip().lstrip("+-").isdigit())
)
def test_a_signed_push_with_a_timestamp_that_is_not_unix_seconds_is_refused(timestamp):
    body = genuine_body()
    assert_refused(call(http_event(body, signed(body, timestamp=timestamp))), 401)


@FUZZ
@given(body=bodies.filter(lambda b: b != genuine_body()), encode=st.booleans())
def test_a_correctly_signed_body_that_is_not_a_valid_push_never_fails_the_function(body, encode):
    """Signed by the vendor but malformed: a 4xx with nothing processed, or (a well-formed push
    about some other device or user) a 200 that produces nothing."""
    answer = call(http_event(body, signed(body), encode=encode))
    status = answer["statusCode"]
    assert status < 500, answer
    if status >= 400:
        assert answer["hook"].untouched()
    else:
        hook = answer["hook"]
        for message in hook.outbox.messages:
            assert not schema_errors(message.message)


@FUZZ
@given(
    secret=st.text(max_size=40).filter(lambda s: s != PATH_SECRET and "/" not in s and s)
    | st.sampled_from(
        [
            PATH_SECRET[:-1],
            PATH_SECRET + "x",
            PATH_SECRET.upper(),
            " " + PATH_SECRET,
            PATH_SECRET + "\x00",
        ]
    ),
)
def test_a_wrong_path_secret_is_not_found_and_never_reaches_the_adapter(secret):
    body = genuine_body()
    answer = call(http_event(body, signed(body), secret=secret))
    assert_refused(answer, 404)
    assert answer["hook"].push.calls == 0


@FUZZ
@given(
    vendor=st.sampled_from(["fake", "sim-sync", "unknown", "SIM-ASYNC", "sim-async-x", ""])
    | st.text(max_size=12).filter(lambda v: "/" not in v and v != VENDOR)
)
def test_a_vendor_that_does_not_push_is_not_found(vendor):
    body = genuine_body()
    assert_refused(call(http_event(body, signed(body), vendor=vendor)), 404, 405)


@FUZZ
@given(size=st.integers(64 * 1024 + 1, 1024 * 1024), encode=st.booleans(), signed_too=st.booleans())
def test_an_oversized_body_is_refused_with_413(size, encode, signed_too):
    body = b'{"device_id": "bulb-1", "pad": "' + b"x" * size + b'"}'
    answer = call(http_event(body, signed(body) if signed_too else {}, encode=encode))
    assert_refused(answer, 413)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_process_nothing(method):
    body = genuine_body()
    answer = call(http_event(body, signed(body), method=method))
    assert_refused(answer, 404, 405)


# --- findings of the fuzzers, fixed: kept as regression tests ---------------------------------


def _call_tolerating_errors(event: dict[str, Any]) -> tuple[int, Hook]:
    """The status API Gateway would answer: an exception out of the handler is a 500."""
    with hooked() as hook:
        try:
            status = notifications.handler(event, None)["statusCode"]
        except Exception:
            status = 500
    return status, hook


@FUZZ
@given(body=binary_bodies, signed_too=st.booleans())
def test_a_body_that_is_not_utf8_processes_nothing(body, signed_too):
    _status, hook = _call_tolerating_errors(http_event(body, signed(body) if signed_too else {}))
    assert hook.untouched()
    assert hook.push.calls == 0


@pytest.mark.parametrize(
    "body", [b"\x80", b"\xff" * (64 * 1024 + 10)], ids=["binary", "oversized-binary"]
)
def test_a_body_that_is_not_utf8_is_refused_with_a_4xx(body):
    status, _hook = _call_tolerating_errors(http_event(body, signed(body)))
    assert 400 <= status < 500, status


@pytest.mark.parametrize("device_id", ["x" * 300, "\u00e9" * 200], ids=["long", "long-non-ascii"])
def test_a_signed_push_for_a_device_id_too_long_for_alexa_is_not_a_500(device_id):
    body = json.dumps({"device_id": device_id, "state": {"on": True, "brightness": 5}}).encode()
    status, hook = _call_tolerating_errors(http_event(body, signed(body)))
    assert hook.untouched()
    assert status < 500, status
