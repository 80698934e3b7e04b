"""Hostile input at the entrypoint (property-based, hypothesis).

Whatever Lambda hands the entrypoint -- any JSON value, or a valid directive of any supported kind
mutated (wrong types, missing fields, huge strings, unicode and control characters, deep nesting,
giant cookies, invalid endpoint ids, other payload versions) -- the handler:

- returns one message that validates against the official Alexa schema, an answer or an
  ``ErrorResponse``, and never raises nor logs an unexpected exception;
- answers ``DeferredResponse`` exactly when it stored the directive, and stores nothing else;
- stores only what the rest of the pipeline can use: the stored message fits SQS (size,
  characters, FIFO ids), parses back into a ``QueuedDirective``, validates again as a supported
  control directive the device can take, and the processor turns it into schema-valid answers
  without raising.

A mutated directive that is still valid may be stored (extra fields, another device id of this
vendor...): the property is "stored => valid", plus, for mutations that certainly make a
directive invalid (payload version, endpoint id, required fields, payload types), "not stored".

The directive queue is the real ``SqsDirectiveQueue`` over an in-memory SQS client that enforces
SendMessage's documented limits, so the fuzzer also exercises the ids and the serialisation a
deployed entrypoint uses. Runs derandomized (the same examples on every run, no example
database) with modest example counts: a few seconds.
"""

from __future__ import annotations

import json
import logging
import math
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import event as note_outcome
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from bulb_workbench.local.schema import schema_errors
from skill.alexa import SUPPORTED, Kind, features_from_cookie, features_to_cookie, parse_envelope
from skill.aws.stores import SqsDirectiveQueue
from skill.bulbs import validate_command
from skill.composition import Composition, using
from skill.handlers import entrypoint
from skill.pipeline import Pipeline, PipelineServices
from skill.plugins import Style, decode_endpoint_id
from skill.records import QueuedDirective
from skill.routing import EntrypointServices, build_router
from tests.fakes import (
    COLOR,
    TOKEN,
    TUNABLE,
    WHITE,
    Clock,
    FakeAdapter,
    FakeIdentity,
    FakeLwa,
    MemoryOutbox,
    MemoryPollQueue,
    MemoryStateStore,
    MemoryTokenStore,
    credentials_of,
    registry_of,
    vault_with,
)

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
FEW = settings(FUZZ, max_examples=60)

NOW = 1000.0
CORRELATION = "dFMb0z+PgpgdDmluhJ1LddFvSqZ/jCc8ptlAKulUj90jSqg=="
QUEUE_URL = "https://sqs.local/000000000000/directives-sync.fifo"
ANSWER_NAMES = {
    "ErrorResponse",
    "DeferredResponse",
    "StateReport",
    "AcceptGrant.Response",
    "Discover.Response",
}


# --- an SQS client that enforces SendMessage's limits ------------------------------------------

#: SQS message bodies: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
_SQS_BODY = re.compile("^[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*$")
#: FIFO group and deduplication ids: 1-128 of alphanumerics and punctuation.
_SQS_ID = re.compile(r"^[!-~]{1,128}$")
SQS_MAX_BODY_BYTES = 256 * 1024


class SqsRejected(Exception):
    """What botocore raises when SQS refuses a SendMessage (InvalidMessageContents...)."""


class StrictFakeSqs:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.rejected: list[str] = []

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        body = kwargs["MessageBody"]
        problem = None
        if not _SQS_BODY.match(body):
            problem = "InvalidMessageContents"
        elif len(body.encode()) > SQS_MAX_BODY_BYTES:
            problem = "MessageTooLong"
        for key in ("MessageGroupId", "MessageDeduplicationId"):
            if not _SQS_ID.match(kwargs.get(key, "")):
                problem = f"InvalidParameterValue ({key})"
        if problem:
            self.rejected.append(problem)
            raise SqsRejected(problem)
        self.sent.append(kwargs)
        return {"MessageId": str(uuid.uuid4())}


# --- the world: router over fakes, with the real queue adapter --------------------------------


class World:
    def __init__(self) -> None:
        self.adapter = FakeAdapter()
        self.tokens = MemoryTokenStore()
        self.lwa = FakeLwa()
        self.sqs = StrictFakeSqs()
        services = EntrypointServices(
            adapters=registry_of(self.adapter),
            identity=FakeIdentity(),
            credentials=credentials_of(vault_with(self.adapter)),
            tokens=self.tokens,
            lwa=self.lwa,
            queue=SqsDirectiveQueue({Style.SYNC.value: QUEUE_URL}, sqs=self.sqs),
            clock=lambda: NOW,
        )
        self.router = build_router(services)


class _Unexpected(logging.Handler):
    """Collects log records that carry an exception: the router's last-resort paths."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            self.records.append(record)


@contextmanager
def answering() -> Iterator[tuple[World, _Unexpected]]:
    """The Lambda handler ``skill.handlers.entrypoint.handler`` wired to a fresh world."""
    world = World()
    watcher = _Unexpected()
    loggers = [logging.getLogger(n) for n in ("skill.routing._router", "skill.routing.handlers")]
    for log in loggers:
        log.addHandler(watcher)
    try:
        with using(Composition(router=world.router)):
            yield world, watcher
    finally:
        for log in loggers:
            log.removeHandler(watcher)


def invoke(event: Any) -> tuple[dict[str, Any], World, _Unexpected]:
    with answering() as (world, watcher):
        message = entrypoint.handler(event, None)
    return message, world, watcher


# --- the properties ---------------------------------------------------------------------------

_VALIDATED: dict[str, list[str]] = {}


def schema_problems(message: Any) -> list[str]:
    """``schema_errors``, memoised on the message with its generated parts (messageId,
    timeOfSample) made constant: the official schema is one large ``oneOf`` and a Response
    takes ~40 ms to check, while the fuzzer produces the same shapes again and again."""
    try:
        normal = json.loads(json.dumps(message))
        normal["event"]["header"]["messageId"] = "00000000-0000-4000-8000-000000000000"
        for prop in normal.get("context", {}).get("properties", []):
            prop["timeOfSample"] = "2026-01-01T00:00:00.000Z"
        key = json.dumps(normal, sort_keys=True)
    except (TypeError, KeyError, ValueError, AttributeError):
        return schema_errors(message)
    if key not in _VALIDATED:
        if len(_VALIDATED) > 20_000:
            _VALIDATED.clear()
        _VALIDATED[key] = schema_errors(message)
    return _VALIDATED[key]


def check_answer(event: Any, message: Any, world: World, watcher: _Unexpected) -> dict[str, Any]:
    """What must hold for every input; returns the answer's ``event``."""
    assert isinstance(message, dict)
    errors = schema_problems(message)
    assert not errors, f"answer is not schema-valid: {errors[:3]}"
    header = message["event"]["header"]
    assert header["name"] in ANSWER_NAMES, header
    logged = [r.getMessage() for r in watcher.records]
    # The one designed failure path: the directive could not be stored (SQS refused it, or it
    # could not be serialised); it is logged with its traceback and answered INTERNAL_ERROR
    # ("never silently dropped"). See the regression tests below for inputs that should not get
    # that far. Anything else logged with a traceback is a bug.
    store_failed = any(m.startswith("could not store the directive") for m in logged)
    unexpected = [m for m in logged if not m.startswith("could not store the directive")]
    assert not unexpected, f"the router hit an unexpected exception: {unexpected}"
    if header["name"] == "ErrorResponse":
        kind = message["event"]["payload"]["type"]
        assert (kind == "INTERNAL_ERROR") == store_failed, message["event"]["payload"]
    if currently_in_test_context():  # outcome statistics: --hypothesis-show-statistics
        note_outcome(f"{header['name']} {message['event']['payload'].get('type', '')}".strip())
    if header["name"] == "DeferredResponse":
        assert len(world.sqs.sent) == 1, "DeferredResponse without exactly one stored directive"
        check_stored(event, world.sqs.sent[0], header)
    else:
        assert world.sqs.sent == [], f"{header['name']} answered but a directive was stored"
    return message["event"]


def check_stored(event: Any, sent: dict[str, Any], header: dict[str, Any]) -> None:
    """A stored directive re-parses, re-validates and goes through the processor cleanly."""
    raw = event["directive"]
    if "correlationToken" in raw["header"]:
        assert header.get("correlationToken") == raw["header"]["correlationToken"]
    queued = QueuedDirective.model_validate(json.loads(sent["MessageBody"]))  # as the processor
    assert queued.directive == _as_stored(_without_token(raw)), (
        "the stored directive differs from the one received"
    )
    stored_scope = (queued.directive.get("endpoint") or {}).get("scope")
    assert not isinstance(stored_scope, dict) or "token" not in stored_scope, (
        "the bearer token was queued"
    )
    assert queued.deadline == NOW + 8.0
    directive = parse_envelope({"directive": queued.directive}).directive
    spec = SUPPORTED[directive.key]
    assert spec.kind is Kind.CONTROL
    command = spec.command(directive)
    assert directive.endpoint is not None and directive.endpoint.scope is not None
    features = features_from_cookie(directive.endpoint.cookie)
    assert queued.features == features
    validate_command(command, features)
    vendor, _ = decode_endpoint_id(queued.endpoint_id)
    assert vendor == "fake"
    assert queued.user_id and queued.message_id  # the processor's idempotency key
    assert "token" not in (queued.directive["endpoint"].get("scope") or {}), (
        "a bearer token was queued"
    )
    _process(queued)


def _without_token(directive: dict[str, Any]) -> dict[str, Any]:
    """What the entrypoint stores: the directive less its bearer token."""
    stored = json.loads(json.dumps(directive))
    scope = (stored.get("endpoint") or {}).get("scope")
    if isinstance(scope, dict):
        scope.pop("token", None)
    return stored


def _as_stored(value: Any) -> Any:
    """``value`` as JSON keeps it: NaN and infinities become null (pydantic's JSON does so)."""
    if isinstance(value, dict):
        return {k: _as_stored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_stored(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _process(queued: QueuedDirective) -> None:
    clock = Clock(NOW)
    outbox = MemoryOutbox()
    adapter = FakeAdapter()
    services = PipelineServices(
        adapters=registry_of(adapter),
        credentials=credentials_of(vault_with(adapter)),
        outbox=outbox,
        pending=MemoryStateStore(),
        poll_queue=MemoryPollQueue(),
        clock=clock,
        sleep=clock.sleep,
    )
    outcome = Pipeline(services).process(queued)  # raises -> SQS would redeliver it forever
    assert outcome == "answered", outcome
    for answer in outbox.messages:
        assert not schema_problems(answer.message), schema_problems(answer.message)[:3]


# --- valid directives of every supported kind -------------------------------------------------


def valid_directive(
    key: tuple[str, str], *, endpoint_id: str = "fake:color-1", features=COLOR
) -> dict[str, Any]:
    namespace, name = key
    header = {
        "namespace": namespace,
        "name": name,
        "payloadVersion": "3",
        "messageId": "c1b1e7a6-7f3e-4e2a-9c55-0f6d3c0e4b21",
        "correlationToken": CORRELATION,
    }
    payloads: dict[tuple[str, str], dict[str, Any]] = {
        ("Alexa.Authorization", "AcceptGrant"): {
            "grant": {"type": "OAuth2.AuthorizationCode", "code": "grant-code-1"},
            "grantee": {"type": "BearerToken", "token": TOKEN},
        },
        ("Alexa.Discovery", "Discover"): {"scope": {"type": "BearerToken", "token": TOKEN}},
        ("Alexa.BrightnessController", "SetBrightness"): {"brightness": 40},
        ("Alexa.BrightnessController", "AdjustBrightness"): {"brightnessDelta": -25},
        ("Alexa.ColorController", "SetColor"): {
            "color": {"hue": 350.5, "saturation": 0.7, "brightness": 0.6}
        },
        ("Alexa.ColorTemperatureController", "SetColorTemperature"): {
            "colorTemperatureInKelvin": 5000
        },
    }
    directive: dict[str, Any] = {"header": header, "payload": payloads.get(key, {})}
    if SUPPORTED[key].kind is Kind.CONTROL or key == ("Alexa", "ReportState"):
        directive["endpoint"] = {
            "scope": {"type": "BearerToken", "token": TOKEN},
            "endpointId": endpoint_id,
            "cookie": features_to_cookie(features),
        }
    if key[0] in ("Alexa.Authorization", "Alexa.Discovery"):
        del header["correlationToken"]
    return {"directive": directive}


KEYS = sorted(SUPPORTED)
CONTROL_KEYS = [k for k in KEYS if SUPPORTED[k].kind is Kind.CONTROL]
VALUED_KEYS = [k for k in CONTROL_KEYS if valid_directive(k)["directive"]["payload"]]


def test_every_valid_directive_is_answered_and_controls_are_stored_once():
    """The baseline the mutations start from: each kind is valid as it is."""
    for key in KEYS:
        event = valid_directive(key)
        message, world, watcher = invoke(event)
        reply = check_answer(event, message, world, watcher)
        expected = "DeferredResponse" if SUPPORTED[key].kind is Kind.CONTROL else None
        if expected:
            assert reply["header"]["name"] == expected, (key, reply)
        else:
            assert reply["header"]["name"] != "ErrorResponse", (key, reply)


# --- strategies --------------------------------------------------------------------------------

HOSTILE_CHARS = [
    "\x00",
    "\x01",
    "\x08",
    "\x1b",
    "\x1f",
    "\x7f",
    "\x85",
    "\u00a0",
    "\u200b",
    "\u200d",
    "\u202e",
    "\u2028",
    "\ufeff",
    "\ud800",
    "\udfff",
    "\ufffe",
    "\uffff",
    "\U0001f4a1",
    "\U0010ffff",
    "é",
    "ß",
    "İ",
    "\n",
    "\r",
    "\t",
    " ",
    '"',
    "'",
    "\\",
    "/",
    "%s",
    "%(x)s",
    "{}",
    "${jndi:x}",
    "<script>",
    "../",
    "=",
    ":",
    "#",
    ";",
    "?",
    "@",
    "&",
]
hostile_text = st.lists(
    st.sampled_from(HOSTILE_CHARS) | st.characters(exclude_categories=()), max_size=24
).map("".join)
KNOWN_STRINGS = [
    "3",
    "2",
    "BearerToken",
    "OAuth2.AuthorizationCode",
    TOKEN,
    "fake:color-1",
    "fake:white-1",
    "fake:=Zm9v",
    "other:1",
    ":",
    "fake:",
    "f",
    "dct",
    "2700-6500",
    "500",
    "",
] + [part for key in KEYS for part in key]
JSON_KEYS = [
    "directive",
    "header",
    "endpoint",
    "payload",
    "namespace",
    "name",
    "payloadVersion",
    "messageId",
    "correlationToken",
    "scope",
    "type",
    "token",
    "endpointId",
    "cookie",
    "grant",
    "grantee",
    "code",
    "brightness",
    "brightnessDelta",
    "color",
    "hue",
    "saturation",
    "colorTemperatureInKelvin",
    "f",
    "ct",
    "st",
    "__proto__",
    "",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # json.loads accepts NaN, Infinity and 1e400 too
    | st.sampled_from(KNOWN_STRINGS)
    | st.text(max_size=40)
    | hostile_text
)
keys = st.sampled_from(JSON_KEYS) | st.text(max_size=12) | hostile_text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=6),
    max_leaves=30,
)


def deep(depth: int, kind: str) -> Any:
    """A value nested ``depth`` levels deep (built iteratively: no recursion here)."""
    value: Any = "bottom"
    for level in range(depth):
        value = [value] if kind == "list" or (kind == "mixed" and level % 2) else {"a": value}
    return value


@st.composite
def huge_strings(draw) -> str:
    size = draw(st.sampled_from([129, 257, 513, 4097, 8193, 70_000, 300_000]))
    unit = draw(st.sampled_from(["a", "é", "\U0001f4a1", "\x00", "A1-", "\uffff"]))
    return (unit * (size // len(unit) + 1))[:size]


@st.composite
def giant_cookies(draw) -> dict[str, Any]:
    entries = draw(st.sampled_from([1, 5, 31, 32, 33, 200]))
    size = draw(st.sampled_from([10, 5_000, 9_000]))
    cookie: dict[str, Any] = {f"k{i}": "x" * size for i in range(entries)}
    if draw(st.booleans()):
        cookie["f"] = draw(st.sampled_from(["dct", "d", "", "zz", "dctdct"]))
        cookie["ct"] = draw(
            st.sampled_from(["2700-6500", "6500-2700", "0-99999", "x", "-", "1" * 5000])
        )
        cookie["st"] = draw(st.sampled_from(["500", "0", "-5", "9" * 5000, "1e3", ""]))
    return cookie


hostile_cookie_values = st.fixed_dictionaries(
    {"f": st.sampled_from(["", "d", "c", "t", "dct", "tt", "x"]) | hostile_text},
    optional={
        "ct": st.tuples(st.integers(-10, 20_000), st.integers(-10, 20_000)).map(
            lambda p: f"{p[0]}-{p[1]}"
        )
        | hostile_text,
        "st": st.integers(-1000, 100_000).map(str) | hostile_text,
    },
)
invalid_endpoint_ids = (
    st.just("")
    | st.text(min_size=1, max_size=20).filter(
        lambda s: not re.fullmatch(r"[a-zA-Z0-9_\-=#;:?@&]+", s)
    )
    | st.builds(
        lambda s: "fake:" + s,
        hostile_text.filter(lambda s: not re.fullmatch(r"[a-zA-Z0-9_\-=#;:?@&]*", s)),
    )
    | st.just("fake:" + "a" * 252)
    | st.integers()
    | st.none()
    | st.lists(st.just("fake:color-1"), max_size=2)
)


def paths(value: Any, max_depth: int = 12) -> list[tuple]:
    """Every path into ``value`` down to ``max_depth`` (iterative: values may be deep)."""
    found: list[tuple] = []
    stack: list[tuple[tuple, Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        found.append(path)
        if len(path) >= max_depth:
            continue
        if isinstance(node, dict):
            stack += [((*path, k), v) for k, v in reversed(list(node.items()))]
        elif isinstance(node, list):
            stack += [((*path, i), v) for i, v in reversed(list(enumerate(node)))]
    return found


def deep_copy(value: Any) -> Any:
    """``copy.deepcopy`` without recursion (a directive may be nested 900 levels deep)."""
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(root, 0, value)]
    while stack:
        parent, key, node = stack.pop()
        if isinstance(node, dict):
            parent[key] = {}
            stack += [(parent[key], k, v) for k, v in node.items()]
        elif isinstance(node, list):
            parent[key] = [None] * len(node)
            stack += [(parent[key], i, v) for i, v in enumerate(node)]
        else:
            parent[key] = node
    return root[0]


def get_at(value: Any, path: tuple) -> Any:
    for part in path:
        value = value[part]
    return value


def set_at(root: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    get_at(root, path[:-1])[path[-1]] = new
    return root


def delete_at(root: Any, path: tuple) -> Any:
    if not path:
        return {}
    parent = get_at(root, path[:-1])
    del parent[path[-1]]
    return root


_BY_TYPE: dict[type, st.SearchStrategy[Any]] = {
    type(None): st.none(),
    bool: st.booleans(),
    int: st.integers() | st.floats(),  # a JSON number, integral or not
    str: st.text(max_size=8) | st.sampled_from(KNOWN_STRINGS),
    list: st.lists(scalars, max_size=3),
    dict: st.dictionaries(st.text(max_size=4), scalars, max_size=3),
}


def retyped(value: Any) -> st.SearchStrategy[Any]:
    """Values of another JSON type than ``value`` (int and float count as one: number)."""
    kind = {float: int}.get(type(value), type(value))
    return st.one_of([strategy for t, strategy in _BY_TYPE.items() if t is not kind])


def _is_leaf(value: Any) -> bool:
    return not isinstance(value, dict | list)


#: Values a still-valid directive may carry instead of the original (they keep it valid or
#: make it invalid in ways the entrypoint must notice: ranges, devices, ids, cookies).
numbers = (
    st.integers(-200, 20_000)
    | st.sampled_from([0, 1, 99, 100, 101, -100, -101, 360, 1000, 10_000, 2**63, -(2**63)])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
)
other_endpoint_ids = st.sampled_from(
    [
        "fake:tunable-1",
        "fake:white-1",
        "fake:no-such-bulb",
        "fake:=Zm9vIGJhcg",
        "fake:=!!",
        "fake:==",
        "fake:a:b",
        "other:1",
        "fake",
        "FAKE:color-1",
        "fake:" + "a" * 251,
    ]
)
valid_cookies = st.sampled_from([COLOR, TUNABLE, WHITE]).map(features_to_cookie) | st.just({})

MILD = ["extra", "number", "unicode", "other_endpoint", "cookie_swap"]  # often still valid
HOSTILE = [
    "replace",
    "retype",
    "delete",
    "huge",
    "nest",
    "cookie",
    "endpoint_id",
    "payload_version",
]


@st.composite
def mutated_directives(
    draw, keys_from: list[tuple[str, str]] = KEYS, mutations: list[str] = MILD + HOSTILE
) -> tuple[dict[str, Any], list[str]]:
    key = draw(st.sampled_from(keys_from))
    features = draw(st.sampled_from([COLOR, TUNABLE, WHITE]))
    event = valid_directive(key, features=features)
    applied: list[str] = []
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        kind = draw(st.sampled_from(mutations))
        found = [p for p in paths(event) if p]  # the root itself: see the any-JSON tests
        leaves = [p for p in found if _is_leaf(get_at(event, p))]
        nodes = [p for p in found if not _is_leaf(get_at(event, p))] or [()]
        pool = leaves if (leaves and draw(st.integers(0, 9)) < 8) else found or [()]
        directive = event.get("directive") if isinstance(event, dict) else None
        endpoint = directive.get("endpoint") if isinstance(directive, dict) else None
        path: tuple = ()
        if kind == "extra":
            path = draw(st.sampled_from(nodes))
            target = get_at(event, path)
            if not isinstance(target, dict):
                continue
            target[draw(keys)] = draw(json_values)
        elif kind == "number":
            numeric = [p for p in leaves if isinstance(get_at(event, p), int | float)]
            if not numeric:
                continue
            path = draw(st.sampled_from(numeric))
            set_at(event, path, draw(numbers))
        elif kind == "unicode":
            texts = [p for p in leaves if isinstance(get_at(event, p), str)]
            if not texts:
                continue
            path = draw(st.sampled_from(texts))
            old, text = get_at(event, path), draw(hostile_text)
            where = draw(st.sampled_from(["append", "prepend", "replace"]))
            set_at(
                event, path, {"append": old + text, "prepend": text + old, "replace": text}[where]
            )
        elif kind == "other_endpoint" and isinstance(endpoint, dict):
            endpoint["endpointId"] = draw(other_endpoint_ids)
        elif kind == "cookie_swap" and isinstance(endpoint, dict):
            endpoint["cookie"] = draw(valid_cookies)
        elif kind == "replace":
            path = draw(st.sampled_from(pool))
            event = set_at(event, path, draw(json_values))
        elif kind == "retype":
            path = draw(st.sampled_from(pool))
            event = set_at(event, path, draw(retyped(get_at(event, path))))
        elif kind == "delete":
            path = draw(st.sampled_from(pool))
            event = delete_at(event, path)
        elif kind == "huge":
            path = draw(st.sampled_from(pool))
            event = set_at(event, path, draw(huge_strings()))
        elif kind == "nest":
            path = draw(st.sampled_from(pool))
            depth = draw(st.sampled_from([50, 200, 600, 900]))
            event = set_at(
                event, path, deep(depth, draw(st.sampled_from(["list", "dict", "mixed"])))
            )
        elif kind == "cookie" and isinstance(endpoint, dict):
            endpoint["cookie"] = draw(giant_cookies() | hostile_cookie_values)
        elif kind == "endpoint_id" and isinstance(endpoint, dict):
            endpoint["endpointId"] = draw(invalid_endpoint_ids)
        elif (
            kind == "payload_version"
            and isinstance(directive, dict)
            and isinstance(directive.get("header"), dict)
        ):
            directive["header"]["payloadVersion"] = draw(json_values.filter(lambda v: v != "3"))
        else:
            continue
        applied.append(f"{kind}@{'/'.join(map(str, path))}")
    return event, applied


# --- the fuzz tests ---------------------------------------------------------------------------


@FUZZ
@given(event=json_values)
def test_any_json_value_gets_a_schema_valid_answer_and_nothing_is_stored(event):
    message, world, watcher = invoke(event)
    reply = check_answer(event, message, world, watcher)
    assert world.lwa.exchanged == [] or reply["header"]["namespace"] == "Alexa.Authorization"


@FUZZ
@given(
    event=st.fixed_dictionaries(
        {
            "directive": st.fixed_dictionaries(
                {},
                optional={"header": json_values, "endpoint": json_values, "payload": json_values},
            )
        }
    )
)
def test_any_directive_shaped_value_gets_a_schema_valid_answer(event):
    message, world, watcher = invoke(event)
    check_answer(event, message, world, watcher)


@settings(FUZZ, max_examples=300)
@given(mutation=mutated_directives())
def test_a_mutated_directive_of_any_kind_is_answered_and_stored_only_when_still_valid(mutation):
    event, _applied = mutation
    original = deep_copy(event)
    message, world, watcher = invoke(event)
    check_answer(original, message, world, watcher)


@FUZZ
@given(mutation=mutated_directives(CONTROL_KEYS, MILD))
def test_a_mildly_mutated_control_directive_is_stored_only_in_a_form_the_processor_can_use(
    mutation,
):
    event, _applied = mutation
    original = deep_copy(event)
    message, world, watcher = invoke(event)
    check_answer(original, message, world, watcher)


# --- mutations that certainly make a directive invalid: never stored --------------------------


def assert_refused(event: Any, *types: str) -> dict[str, Any]:
    message, world, watcher = invoke(event)
    reply = check_answer(event, message, world, watcher)
    assert reply["header"]["name"] == "ErrorResponse", reply["header"]
    assert world.sqs.sent == []
    if types:
        assert reply["payload"]["type"] in types, reply["payload"]
    return reply


@FEW
@given(key=st.sampled_from(KEYS), version=json_values.filter(lambda v: v != "3"))
def test_a_payload_version_other_than_3_is_invalid_directive(key, version):
    event = valid_directive(key)
    event["directive"]["header"]["payloadVersion"] = version
    reply = assert_refused(event, "INVALID_DIRECTIVE")
    if key[0] == "Alexa.Authorization":  # refused before it is known to be an AcceptGrant
        assert reply["header"]["namespace"] == "Alexa"


@FEW
@given(
    key=st.sampled_from([*CONTROL_KEYS, ("Alexa", "ReportState")]), endpoint_id=invalid_endpoint_ids
)
def test_an_invalid_endpoint_id_is_refused(key, endpoint_id):
    event = valid_directive(key)
    event["directive"]["endpoint"]["endpointId"] = endpoint_id
    reply = assert_refused(event, "INVALID_DIRECTIVE", "NO_SUCH_ENDPOINT")
    if "endpoint" in reply:  # echoed only when it is an id Alexa accepts
        assert reply["endpoint"]["endpointId"] == endpoint_id


REQUIRED = [
    ("directive",),
    ("directive", "header"),
    ("directive", "header", "namespace"),
    ("directive", "header", "name"),
    ("directive", "header", "payloadVersion"),
    ("directive", "header", "messageId"),
    ("directive", "endpoint"),
    ("directive", "endpoint", "endpointId"),
    ("directive", "endpoint", "scope"),
    ("directive", "endpoint", "scope", "type"),
    ("directive", "endpoint", "scope", "token"),
]


@FEW
@given(
    key=st.sampled_from(CONTROL_KEYS),
    path=st.sampled_from(REQUIRED),
    how=st.sampled_from(["delete", "retype"]),
    data=st.data(),
)
def test_a_control_directive_missing_or_mistyping_a_required_field_is_refused(key, path, how, data):
    event = valid_directive(key)
    if how == "delete":
        delete_at(event, path)
    else:
        set_at(event, path, data.draw(retyped(get_at(event, path))))
    assert_refused(event)


@FEW
@given(key=st.sampled_from(VALUED_KEYS), data=st.data())
def test_a_payload_value_of_the_wrong_type_or_missing_is_refused(key, data):
    event = valid_directive(key)
    payload = event["directive"]["payload"]
    path = data.draw(st.sampled_from([p for p in paths(payload) if p]))
    if data.draw(st.booleans()):
        set_at(payload, path, data.draw(retyped(get_at(payload, path))))
    else:
        delete_at(payload, path)
    assert_refused(event, "INVALID_VALUE", "INVALID_DIRECTIVE", "VALUE_OUT_OF_RANGE")


@FEW
@given(
    key=st.sampled_from(KEYS),
    where=st.sampled_from(["messageId", "namespace", "name"]),
    value=huge_strings(),
)
def test_huge_header_strings_are_refused_or_bounded(key, where, value):
    event = valid_directive(key)
    event["directive"]["header"][where] = value
    message, world, watcher = invoke(event)
    reply = check_answer(event, message, world, watcher)
    limit = {"messageId": 512, "namespace": 128, "name": 128}[where]
    if len(value) > limit:
        assert reply["header"]["name"] == "ErrorResponse"


@FEW
@given(key=st.sampled_from(CONTROL_KEYS), cookie=giant_cookies() | hostile_cookie_values)
def test_a_giant_or_hostile_cookie_never_stores_an_unusable_directive(key, cookie):
    event = valid_directive(key)
    event["directive"]["endpoint"]["cookie"] = cookie
    message, world, watcher = invoke(event)
    check_answer(event, message, world, watcher)
    if len(cookie) > 32:
        assert world.sqs.sent == []


@FEW
@given(
    key=st.sampled_from(KEYS),
    depth=st.sampled_from([100, 400, 900]),
    kind=st.sampled_from(["list", "dict", "mixed"]),
    where=st.sampled_from(["payload", "extra", "cookie"]),
)
def test_deep_nesting_anywhere_is_answered(key, depth, kind, where):
    event = valid_directive(key)
    directive = event["directive"]
    value = deep(depth, kind)
    if where == "payload":
        directive["payload"] = {"nested": value}
    elif where == "extra":
        directive["header"]["x-extra"] = value
    elif "endpoint" in directive:
        directive["endpoint"]["cookie"] = {"f": value}
    else:
        assume(False)
    message, world, watcher = invoke(event)
    check_answer(event, message, world, watcher)


# --- findings of the fuzzers, fixed: kept as regression tests ---------------------------------

CANNOT_STORE = {
    # pydantic's model_dump_json: "Maximum serialization depth exceeded"
    "deeply nested payload": lambda d: d["payload"].update(extra=deep(400, "mixed")),
    # U+FFFE/U+FFFF are valid JSON but not allowed in an SQS body; model_dump_json keeps them raw
    "noncharacter in messageId": lambda d: d["header"].update(messageId="m-\uffff"),
    # 32 cookie entries are allowed, with no bound on their size: 288 KB > SQS's 256 KiB
    "giant cookie": lambda d: d["endpoint"].update(cookie={f"k{i}": "x" * 9000 for i in range(32)}),
    # correlationToken has no maxLength
    "huge correlationToken": lambda d: d["header"].update(correlationToken="a" * 300_000),
}


@pytest.mark.parametrize("case", sorted(CANNOT_STORE))
def test_a_directive_the_queue_cannot_take_is_refused_as_invalid_not_internal_error(case):
    event = valid_directive(("Alexa.PowerController", "TurnOn"))
    CANNOT_STORE[case](event["directive"])
    message, world, watcher = invoke(event)
    reply = check_answer(event, message, world, watcher)
    assert (
        reply["header"]["name"] == "DeferredResponse"
        or reply["payload"]["type"] != "INTERNAL_ERROR"
    )
