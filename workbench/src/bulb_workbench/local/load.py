"""A bounded load run of the local stack (``skill load``, ``make load``).

Method, per fault profile, on a fresh ``LocalStack``:

1. **Users.** ``users`` skill users, each as a real user goes: an account at every simulated
   vendor (a credential of its own there, ``load-u007-<vendor>-credential`` of the vendor's
   kind, and the three catalogue bulbs under device ids of their own, ``color-1-u007``, so
   endpoint ids are unique across users, as real vendors' are); a user in the local Cognito user
   pool (``load-007``, created with a password and signed in: its access token is what Alexa
   sends with each of its directives); and each vendor account connected to the skill user
   through ``skill.accounts.Accounts.connect`` (one real call to the vendor, then the vault).
   Creating 50 users in moto's Cognito takes well under a second, so nothing is minted.
2. **Setup, without faults.** Every user links the skill (``AcceptGrant`` through the entrypoint:
   the grant code is exchanged with the fake LWA and the tokens stored) and discovers its bulbs
   (``Discover``: the endpoints and the cookies Alexa would send back).
3. **Load, with the profile's faults on.** ``users x per_user`` directives, mixed over the four
   API styles and the control directives each bulb supports (TurnOn/Off, Set/AdjustBrightness,
   SetColor, Set/Increase/DecreaseColorTemperature) plus a share of out-of-range values, each with
   a fresh messageId and correlationToken. They are sent at ``rate`` per second overall, in a
   shuffled (seeded) order, by ``threads`` driver threads calling the entrypoint; the stack's
   pollers run everything else (processors, poller, webhook, dispatcher). With LWA faults, every
   user's access tokens are expired at LWA every ``expire_every`` seconds, so that the dispatcher
   meets the gateway's 401 and has to refresh through the failing LWA.
4. **Settle.** The run waits until every deferred directive has a final answer at the gateway or
   its deadline + ``grace`` has passed, then until the stack is idle (bounded), then stops.

What is counted, per directive (by correlationToken, at the fake gateway):

- *answered*: a final event (``Response`` or ``ErrorResponse``) accepted (202) by the gateway;
  *errors by type*: the ``ErrorResponse`` types among them (and those answered at once by the
  entrypoint, reported apart);
- *late drops*: no final event, and the system dropped it as late: the dispatcher's outcome for
  the directive's answer was ``late`` (seen per directive), or the pipeline or the push handler
  counted ``LateDrops`` (seen as a count);
- *lost*: no final event after the deadline + grace, and not a late drop (with the cause where
  the system said it: the dispatcher gave up, the pipeline could not tell whose it was...);
- *duplicates*: more than one final event accepted for one directive;
- *after deadline*: a final event the gateway received after the directive's deadline;
- *latency*: from the moment the driver sent the directive to the gateway's receipt of the final
  event (the 202 follows at once), p50 / p99 / max over the answered ones;
- *schema*: every event the gateway accepted is validated again; the gateway answers 400 to any
  that is not valid, so ``gateway 400`` must be 0;
- *foreign credentials*: what the simulated vendors were shown that was not theirs (another
  vendor's credential, or a skill access token); must be 0.

A run takes a whole local stack and seconds to settle: tests/integration/test_load_short.py runs
``run_load(LoadConfig(users=5, per_user=6, ...))`` without and with faults and checks the
promise. What a run is given and what it counts, with figures made up here::

    >>> config = LoadConfig(users=5, per_user=6, faults=FaultProfile(vendor=0.2))
    >>> config.total, config.label
    (30, 'vendor=0.2')
    >>> result = LoadResult(profile=config.label, users=5, directives=30, deferred=28,
    ...                     answered=27, responses=25, late_drops=1,
    ...                     errors_by_type={"ENDPOINT_UNREACHABLE": 2},
    ...                     sync_errors_by_type={"VALUE_OUT_OF_RANGE": 2})
    >>> result.lost == 0 and result.duplicates == 0, result.ok  # a late drop is counted, not lost
    (True, True)
    >>> table = format_table([result]).splitlines()
    >>> table[0].split()[:4]
    ['faults', 'directives', 'deferred', 'answered']
    >>> table[2].split()
    ['vendor=0.2', '30', '28', '27', '25', '2', '1', '0', '0', '0', '-', '-', '-']
    >>> print(table[5])
      errors by type (gateway): ENDPOINT_UNREACHABLE 2
"""

from __future__ import annotations

import copy
import json
import logging
import math
import random
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Self

from bulb_workbench.local._faults_tally import FINAL_NAMES, Outcomes
from bulb_workbench.local.faults import FaultProfile, profile_of

__all__ = ["LoadConfig", "LoadResult", "format_table", "run_load"]

_log = logging.getLogger(__name__)

VENDOR_STYLES = {
    "sim-sync": "sync",
    "sim-async": "async",
    "sim-optimistic": "optimistic",
    "sim-polling": "polling",
}

#: (namespace, name, needs) -> weight; ``needs`` is the cookie flag the bulb must have.
_KINDS: tuple[tuple[str, str, str, int], ...] = (
    ("Alexa.PowerController", "TurnOn", "", 20),
    ("Alexa.PowerController", "TurnOff", "", 15),
    ("Alexa.BrightnessController", "SetBrightness", "d", 20),
    ("Alexa.BrightnessController", "AdjustBrightness", "d", 10),
    ("Alexa.ColorController", "SetColor", "c", 10),
    ("Alexa.ColorTemperatureController", "SetColorTemperature", "t", 10),
    ("Alexa.ColorTemperatureController", "IncreaseColorTemperature", "t", 5),
    ("Alexa.ColorTemperatureController", "DecreaseColorTemperature", "t", 5),
)


@dataclass(frozen=True)
class LoadConfig:
    """One load run. ``faults`` None (or an inactive profile) is the run without faults."""

    users: int = 50
    per_user: int = 20
    rate: float = 4.0  # directives per second, all driver threads together
    threads: int = 4
    faults: FaultProfile | None = None
    seed: int = 0
    deadline: float = 8.0
    grace: float = 3.0
    latency: float = 0.05
    transition: float = 0.6
    bad_share: float = 0.05  # out-of-range values, answered at once by the entrypoint
    expire_every: float | None = None  # default: 10 s when LWA faults are on, else never
    poller_concurrency: int = 4
    settle_seconds: float = 10.0  # at most this long for the stack to go idle at the end

    @property
    def total(self) -> int:
        return self.users * self.per_user

    @property
    def label(self) -> str:
        return str(self.faults) if self.faults is not None else "none"


@dataclass
class _Sent:
    """One directive of the run and what became of it."""

    index: int
    user: int
    endpoint_id: str
    style: str
    name: str
    directive: dict[str, Any] = field(repr=False)
    sent_at: float = 0.0  # epoch seconds, just before the entrypoint was called
    invoke_seconds: float = 0.0
    answer: str = ""  # the entrypoint's answer: DeferredResponse, ErrorResponse...
    answer_type: str | None = None  # its error type when an ErrorResponse

    @property
    def token(self) -> str:
        return str(self.directive["directive"]["header"]["correlationToken"])

    @property
    def deferred(self) -> bool:
        return self.answer == "DeferredResponse"


@dataclass
class LoadResult:
    profile: str
    users: int
    directives: int
    deferred: int = 0
    answered: int = 0
    responses: int = 0
    errors_by_type: dict[str, int] = field(default_factory=dict)
    sync_errors_by_type: dict[str, int] = field(default_factory=dict)
    late_drops: int = 0
    lost: int = 0
    lost_causes: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    after_deadline: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    by_style: dict[str, dict[str, int]] = field(default_factory=dict)
    schema_invalid: int = 0
    gateway_status: dict[str, int] = field(default_factory=dict)
    dispatcher_outcomes: dict[str, int] = field(default_factory=dict)
    pipeline_counts: dict[str, float] = field(default_factory=dict)
    faults_injected: dict[str, dict[str, int]] = field(default_factory=dict)
    foreign_credentials: dict[str, int] = field(default_factory=dict)
    fault_calls: dict[str, int] = field(default_factory=dict)
    lwa_calls: int = 0
    token_expiries: int = 0
    send_seconds: float = 0.0
    wall_seconds: float = 0.0
    rate: float = 0.0
    unanswered_tokens: list[str] = field(default_factory=list, repr=False)
    duplicate_tokens: list[str] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        """The promise: nothing lost, nothing twice, nothing late at the gateway, all valid,
        and no vendor shown another's credential."""
        return (
            self.lost == 0
            and self.duplicates == 0
            and self.after_deadline == 0
            and self.schema_invalid == 0
            and not any(self.foreign_credentials.values())
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# -- the run ---------------------------------------------------------------------------------------


def run_load(
    config: LoadConfig,
    *,
    progress: Callable[[str], None] | None = None,
    inspect: Callable[[Any, LoadResult], None] | None = None,
) -> LoadResult:
    """Start a stack, run the load, settle, count; the stack is stopped on return.
    ``inspect(stack, result)`` is called before it stops (to look closer at what happened)."""
    from bulb_workbench.local.stack import LocalStack

    say = progress or (lambda text: None)
    faults = config.faults if config.faults is not None and config.faults.active else None
    began = time.time()
    stack = LocalStack(
        latency=config.latency,
        transition=config.transition,
        deadline_seconds=config.deadline,
        poller_concurrency=config.poller_concurrency,
        faults=faults,
    )
    with stack:
        say(f"[{config.label}] stack up in {stack.startup_seconds or 0:.1f} s")
        with _suspended(stack):
            users = _add_users(stack, config.users, config.threads)
            endpoints = _link_and_discover(stack, users, config.threads)
        say(f"[{config.label}] {config.users} users linked, {sum(map(len, endpoints))} endpoints")
        plan = _plan(config, users, endpoints)
        tally = Outcomes()
        with tally.tapped():
            if stack.faults is not None:
                stack.faults.set_enabled(True)
            expiries = _Expiries(stack, _expire_every(config, faults))
            with expiries:
                sent_seconds = _drive(stack, plan, config, say)
                say(
                    f"[{config.label}] {len(plan)} directives sent in {sent_seconds:.1f} s; "
                    "settling"
                )
                _settle(stack, plan, config)
            if stack.faults is not None:
                stack.faults.set_enabled(False)
        result = _count(stack, config, plan, tally)
        result.token_expiries = expiries.count
        result.send_seconds = round(sent_seconds, 2)
        result.rate = round(len(plan) / sent_seconds, 1) if sent_seconds else 0.0
        if inspect is not None:
            inspect(stack, result)
    result.wall_seconds = round(time.time() - began, 1)
    say(f"[{config.label}] done in {result.wall_seconds:.0f} s")
    return result


@contextmanager
def _suspended(stack: Any) -> Iterator[None]:
    if stack.faults is None:
        yield
        return
    with stack.faults.suspended():
        yield


#: The load users' password in the local user pool (the template's password policy applies).
USER_PASSWORD = "Load-password-1"


def _add_users(stack: Any, count: int, threads: int = 4) -> list[str]:
    """Skill users with an account at every enabled simulated vendor, connected through
    ``Accounts.connect``; returns each user's access token (what Alexa sends for it)."""
    from bulb_workbench.local._sim_model import default_catalogue

    vendors = list(stack.accounts.adapters.names)

    def one(number: int) -> str:
        tag = f"u{number:03d}"
        sim_user = f"load-user-{number:03d}"
        username = f"load-{number:03d}"
        user_id = stack.add_user(username, USER_PASSWORD)
        for vendor in vendors:
            devices = [
                d.model_copy(update={"id": f"{d.id}-{tag}"}, deep=True)
                for d in default_catalogue(vendor)
            ]
            credential = stack.add_vendor_account(
                vendor, sim_user, f"load-{tag}-{vendor}-credential", devices=devices
            )
            stack.accounts.connect(user_id, vendor, credential)
        return str(stack.access_token(username, USER_PASSWORD))

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        return list(pool.map(one, range(count)))


def _link_and_discover(stack: Any, tokens: list[str], threads: int) -> list[list[dict[str, Any]]]:
    from bulb_workbench.local.stack import accept_grant, discover

    def one(token: str) -> list[dict[str, Any]]:
        linked = stack.invoke(accept_grant(token, f"load-grant-{uuid.uuid4().hex[:12]}"))
        if _name(linked) != "AcceptGrant.Response":
            raise RuntimeError(f"linking {token} failed: {json.dumps(linked)[:300]}")
        found = stack.invoke(discover(token))
        if _name(found) != "Discover.Response":
            raise RuntimeError(f"discovery for {token} failed: {json.dumps(found)[:300]}")
        return list(found["event"]["payload"]["endpoints"])

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        return list(pool.map(one, tokens))


def _plan(
    config: LoadConfig, tokens: list[str], endpoints: list[list[dict[str, Any]]]
) -> list[_Sent]:
    rng = random.Random(config.seed)
    plan: list[_Sent] = []
    for user, (token, owned) in enumerate(zip(tokens, endpoints, strict=True)):
        for _ in range(config.per_user):
            endpoint = rng.choice(owned)
            flags = endpoint.get("cookie", {}).get("f", "")
            bad = rng.random() < config.bad_share and "t" in flags
            if bad:
                namespace, name = "Alexa.ColorTemperatureController", "SetColorTemperature"
                payload: dict[str, Any] = {"colorTemperatureInKelvin": 12000}  # past Alexa's
            else:
                kinds = [(ns, n, w) for ns, n, need, w in _KINDS if need in flags]
                namespace, name = rng.choices(
                    [(ns, n) for ns, n, _ in kinds], weights=[w for _, _, w in kinds]
                )[0]
                payload = _payload(name, endpoint, rng)
            directive = {
                "directive": {
                    "header": {
                        "namespace": namespace,
                        "name": name,
                        "payloadVersion": "3",
                        "messageId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        "correlationToken": f"load-{uuid.UUID(int=rng.getrandbits(128))}",
                    },
                    "endpoint": {
                        "scope": {"type": "BearerToken", "token": token},
                        "endpointId": endpoint["endpointId"],
                        "cookie": copy.deepcopy(endpoint.get("cookie", {})),
                    },
                    "payload": payload,
                }
            }
            vendor = endpoint["endpointId"].split(":", 1)[0]
            plan.append(
                _Sent(
                    index=0,
                    user=user,
                    endpoint_id=endpoint["endpointId"],
                    style=VENDOR_STYLES.get(vendor, vendor),
                    name=name,
                    directive=directive,
                )
            )
    rng.shuffle(plan)
    for index, sent in enumerate(plan):
        sent.index = index
    return plan


def _payload(name: str, endpoint: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    if name == "SetBrightness":
        return {"brightness": rng.randint(0, 100)}
    if name == "AdjustBrightness":
        return {"brightnessDelta": rng.choice((-50, -25, -10, 10, 25, 50))}
    if name == "SetColor":
        return {
            "color": {
                "hue": round(rng.uniform(0, 360), 1),
                "saturation": round(rng.uniform(0.2, 1), 4),
                "brightness": round(rng.uniform(0.2, 1), 4),
            }
        }
    if name == "SetColorTemperature":
        low, _, high = endpoint["cookie"]["ct"].partition("-")
        return {"colorTemperatureInKelvin": rng.randrange(int(low), int(high) + 1, 100)}
    return {}


def _drive(stack: Any, plan: list[_Sent], config: LoadConfig, say: Callable[[str], None]) -> float:
    """Send every directive at its planned time from ``threads`` threads; seconds it took."""
    start = time.monotonic() + 0.1
    lock = threading.Lock()
    position = iter(plan)
    errors: list[Exception] = []

    def driver() -> None:
        while True:
            with lock:
                sent = next(position, None)
            if sent is None:
                return
            wait = start + sent.index / config.rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            sent.sent_at = time.time()
            began = time.perf_counter()
            try:
                answer = stack.invoke(sent.directive)
            except Exception as exc:  # the entrypoint must never raise: report it
                errors.append(exc)
                sent.answer = f"raised {type(exc).__name__}"
                continue
            finally:
                sent.invoke_seconds = time.perf_counter() - began
            sent.answer = _name(answer)
            if sent.answer == "ErrorResponse":
                sent.answer_type = str(answer["event"]["payload"].get("type"))

    drivers = [
        threading.Thread(target=driver, name=f"load-driver-{n}", daemon=True)
        for n in range(max(1, config.threads))
    ]
    for thread in drivers:
        thread.start()
    last_report = time.monotonic()
    while any(t.is_alive() for t in drivers):
        for thread in drivers:
            thread.join(timeout=0.5)
        if time.monotonic() - last_report > 10:
            last_report = time.monotonic()
            done = sum(1 for s in plan if s.answer)
            say(f"[{config.label}] {done}/{len(plan)} sent")
    if errors:
        say(f"[{config.label}] the entrypoint raised {len(errors)} times: {errors[0]!r}")
    return time.monotonic() - start


def _settle(stack: Any, plan: list[_Sent], config: LoadConfig) -> None:
    """Until every deferred directive has its final answer or its deadline + grace passed; then
    until the stack is idle (bounded), so late duplicates would show up too."""
    pending = {s.token: s for s in plan if s.deferred}
    limit = max((s.sent_at for s in pending.values()), default=time.time())
    limit += config.deadline + config.grace
    while pending and time.time() < limit:
        finals = _finals_by_token(stack)
        for token in [t for t in pending if finals.get(t)]:
            del pending[token]
        if pending:
            time.sleep(0.2)
    stack.wait_idle(timeout=config.settle_seconds)
    time.sleep(0.5)


class _Expiries:
    """Expires every access token at LWA every ``every`` seconds while the load runs."""

    def __init__(self, stack: Any, every: float | None) -> None:
        self._stack = stack
        self._every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.count = 0

    def __enter__(self) -> Self:
        if self._every:
            self._thread = threading.Thread(target=self._run, name="load-expiries", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        assert self._every
        while not self._stop.wait(self._every):
            self._stack.lwa.expire_access_tokens()
            self.count += 1


def _expire_every(config: LoadConfig, faults: FaultProfile | None) -> float | None:
    if config.expire_every is not None:
        return config.expire_every or None
    return 10.0 if faults is not None and faults.lwa > 0 else None


# -- counting ------------------------------------------------------------------------------------


def _finals_by_token(stack: Any) -> dict[str, list[Any]]:
    finals: dict[str, list[Any]] = {}
    for entry in stack.gateway.accepted_with_times():
        if entry.name in FINAL_NAMES and entry.correlation_token:
            finals.setdefault(entry.correlation_token, []).append(entry)
    return finals


def _count(stack: Any, config: LoadConfig, plan: list[_Sent], tally: Outcomes) -> LoadResult:
    from bulb_workbench.local.schema import schema_errors

    result = LoadResult(profile=config.label, users=config.users, directives=len(plan))
    finals = _finals_by_token(stack)
    errors: Counter[str] = Counter()
    sync_errors: Counter[str] = Counter()
    lost_causes: Counter[str] = Counter()
    by_style: dict[str, Counter[str]] = {}
    latencies: list[float] = []
    unattributed: list[_Sent] = []
    late = 0
    for sent in plan:
        style = by_style.setdefault(sent.style, Counter())
        style["sent"] += 1
        if not sent.deferred:
            sync_errors[sent.answer_type or sent.answer] += 1
            style["at once"] += 1
            continue
        result.deferred += 1
        events = finals.get(sent.token, [])
        if events:
            first = min(events, key=lambda e: e.received_at)
            result.answered += 1
            style["answered"] += 1
            if first.name == "Response":
                result.responses += 1
            else:
                errors[str(first.message["event"]["payload"].get("type"))] += 1
            latencies.append(first.received_at - sent.sent_at)
            if first.received_at > sent.sent_at + sent.invoke_seconds + config.deadline:
                result.after_deadline += 1
            if len(events) > 1:
                result.duplicates += 1
                result.duplicate_tokens.append(sent.token)
            continue
        outcomes = tally.outcomes.get(sent.token, [])
        if outcomes and outcomes[-1] == "late":
            late += 1
            style["late"] += 1
        elif outcomes:
            lost_causes[f"dispatcher: {outcomes[-1]}"] += 1
            style["lost"] += 1
            result.unanswered_tokens.append(sent.token)
        else:
            unattributed.append(sent)
    # no outbox message reached the dispatcher for these: the pipeline or the push handler
    # dropped them as late (counted), or they were lost before the outbox
    pipeline_late = int(tally.counts.get("LateDrops", 0))
    undeliverable = int(tally.counts.get("Undeliverable", 0))
    for sent in unattributed:
        style = by_style[sent.style]
        if pipeline_late > 0:
            pipeline_late -= 1
            late += 1
            style["late"] += 1
            continue
        cause = "pipeline: undeliverable (user unknown)" if undeliverable > 0 else "unknown"
        undeliverable -= 1 if undeliverable > 0 else 0
        lost_causes[cause] += 1
        style["lost"] += 1
        result.unanswered_tokens.append(sent.token)
    result.late_drops = late
    result.lost = sum(lost_causes.values())
    result.lost_causes = dict(lost_causes)
    result.errors_by_type = dict(errors.most_common())
    result.sync_errors_by_type = dict(sync_errors.most_common())
    result.by_style = {k: dict(v) for k, v in sorted(by_style.items())}
    if latencies:
        latencies.sort()
        result.p50_ms = round(_percentile(latencies, 0.50) * 1000)
        result.p99_ms = round(_percentile(latencies, 0.99) * 1000)
        result.max_ms = round(latencies[-1] * 1000)
    accepted = stack.gateway.accepted()
    result.schema_invalid = sum(1 for message in accepted if schema_errors(message))
    statuses = Counter(str(entry.status) for entry in stack.gateway.requests())
    result.schema_invalid += statuses.get("400", 0)
    result.gateway_status = dict(sorted(statuses.items()))
    result.dispatcher_outcomes = dict(
        Counter(o for outcomes in tally.outcomes.values() for o in outcomes).most_common()
    )
    result.pipeline_counts = dict(tally.counts)
    if stack.faults is not None:
        result.faults_injected = {
            target: {k: n for k, n in kinds.items() if n}
            for target, kinds in stack.faults.counts().items()
        }
        result.fault_calls = stack.faults.calls()
    result.lwa_calls = stack.lwa.calls
    result.foreign_credentials = dict(stack.simulator.foreign_credentials())
    return result


def _percentile(ordered: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _name(message: Any) -> str:
    try:
        return str(message["event"]["header"]["name"])
    except (TypeError, KeyError):
        return "?"


# -- the report ------------------------------------------------------------------------------------


def format_table(results: Sequence[LoadResult]) -> str:
    """The figures of each run, one row each, then the details per run."""
    headers = (
        "faults",
        "directives",
        "deferred",
        "answered",
        "Response",
        "ErrorResponse",
        "late drops",
        "lost",
        "duplicates",
        "after deadline",
        "p50 ms",
        "p99 ms",
        "max ms",
    )
    rows = []
    for r in results:
        rows.append(
            (
                r.profile,
                str(r.directives),
                str(r.deferred),
                str(r.answered),
                str(r.responses),
                str(r.answered - r.responses),
                str(r.late_drops),
                str(r.lost),
                str(r.duplicates),
                str(r.after_deadline),
                _ms(r.p50_ms),
                _ms(r.p99_ms),
                _ms(r.max_ms),
            )
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        ).rstrip()

    out = [line(headers), line(["-" * w for w in widths]), *(line(row) for row in rows), ""]
    for r in results:
        out.append(
            f"[{r.profile}] {r.users} users, {r.directives} directives sent in "
            f"{r.send_seconds:g} s ({r.rate:g}/s), run {r.wall_seconds:g} s"
        )
        out.append(f"  errors by type (gateway): {_pairs(r.errors_by_type)}")
        out.append(f"  answered at once by the entrypoint: {_pairs(r.sync_errors_by_type)}")
        if r.lost:
            out.append(f"  lost, by cause: {_pairs(r.lost_causes)}")
        out.append(
            "  per style: "
            + "; ".join(f"{style} {_pairs(counts)}" for style, counts in r.by_style.items())
        )
        out.append(
            f"  gateway answers: {_pairs(r.gateway_status)}; schema-invalid: {r.schema_invalid}"
        )
        out.append(f"  dispatcher outcomes: {_pairs(r.dispatcher_outcomes)}")
        if r.pipeline_counts:
            out.append(
                f"  pipeline counters: {_pairs({k: int(v) for k, v in r.pipeline_counts.items()})}"
            )
        if r.faults_injected:
            out.append(
                "  faults injected: "
                + "; ".join(
                    f"{t} {sum(k.values())} of {r.fault_calls.get(t, 0)} calls ({_pairs(k)})"
                    for t, k in r.faults_injected.items()
                    if r.fault_calls.get(t)
                )
            )
        out.append(f"  LWA calls: {r.lwa_calls}; token expiries: {r.token_expiries}")
        foreign = {k: v for k, v in r.foreign_credentials.items() if v}
        out.append(f"  foreign credentials seen by the simulated vendors: {_pairs(foreign)}")
    return "\n".join(out)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _pairs(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in values.items()) or "none"


# -- the console command (``skill load``) ----------------------------------------------------------


def main(args: Any, out: Any) -> int:
    """``skill load``: one run per ``--faults`` profile, the table on ``out``; exit 0 when every
    run kept the promise (nothing lost, nothing twice, nothing after the deadline), else 3."""
    profiles = args.faults or ["none", "vendor=0.2,gateway=0.2"]
    results = []
    for spec in profiles:
        profile = profile_of(spec, seed=args.seed)
        config = LoadConfig(
            users=args.users,
            per_user=args.per_user,
            rate=args.rate,
            threads=args.threads,
            faults=profile if profile is not None and profile.active else None,
            seed=args.seed,
            deadline=args.deadline,
            grace=args.grace,
            latency=args.latency,
            transition=args.transition,
            expire_every=args.expire_every,
        )
        results.append(
            run_load(
                config,
                progress=lambda text: print(f"skill load: {text}", file=sys.stderr, flush=True),
            )
        )
    out.write(format_table(results) + "\n")
    out.flush()
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([r.to_json() for r in results], handle, indent=2)
    ok = all(r.ok for r in results)
    if getattr(args, "outage", False):
        from bulb_workbench.local.outage import run_outage

        print("skill load: vendor outage (circuit breaker)", file=sys.stderr, flush=True)
        outage = run_outage(latency=args.latency)
        out.write("\n".join(outage.lines()) + "\n")
        ok = ok and outage.ok
    return 0 if ok else 3
