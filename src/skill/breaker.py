"""A circuit breaker per vendor, its state shared by every Lambda container through a store.

After ``threshold`` consecutive vendor failures (``EndpointUnreachable``,
``BridgeUnreachable``: 5xx, timeouts, resets; not a 429, which is one credential's) within
``window`` seconds the breaker *opens*: vendor calls fail fast with ``CircuitOpen`` (an
``EndpointUnreachable``) instead of hammering a vendor that is down. After ``cooldown`` seconds it
is *half-open*: exactly one caller, across all containers, wins a conditional write and makes a
*probe* call; success *closes* the breaker, a retryable failure opens it again for another
cool-down. A probe that never reports back (its Lambda died) is given up after ``probe_timeout``
seconds and another caller may probe.

Every change of state is a compare-and-set on a version number (a conditional update),
so concurrent containers agree on the state and on who probes. The breaker is advisory: if its
store fails, calls go through as if it were closed (a breaker must never be the outage).

Example (Lambda passes ``skill.aws.breaker_store.DynamoBreakerStore``, shared by containers)::

    >>> clock = [0.0]
    >>> breaker = CircuitBreaker(MemoryBreakerStore(), "lifx", lambda: clock[0], threshold=2,
    ...                          cooldown=30)
    >>> def vendor_down() -> str:
    ...     raise EndpointUnreachable("LIFX is down")
    >>> for _ in range(2):
    ...     try:
    ...         breaker.guard(vendor_down)
    ...     except EndpointUnreachable:
    ...         pass
    >>> breaker.state()
    <BreakerState.OPEN: 'open'>
    >>> breaker.guard(lambda: "on")   # not called
    Traceback (most recent call last):
    ...
    skill.breaker.CircuitOpen: lifx is failing; calls are paused for 30 s
    >>> clock[0] += 30                # after the cool-down, one probe may go
    >>> breaker.guard(lambda: "on"), breaker.state()
    ('on', <BreakerState.CLOSED: 'closed'>)

Around a call made elsewhere, ``permit = breaker.before()`` (raises ``CircuitOpen`` while open),
then ``breaker.success(permit)``, or ``breaker.failure(permit, error)`` before re-raising.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import NamedTuple, Protocol, TypeVar

from skill.errors import BridgeUnreachable, EndpointUnreachable, SkillError

__all__ = [
    "BreakerRecord",
    "BreakerState",
    "BreakerStore",
    "CircuitBreaker",
    "CircuitOpen",
    "MemoryBreakerStore",
    "Permit",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: The failures that count towards opening: the vendor is down or throttling us.
#: What shows the vendor itself failing (5xx, timeouts, resets). A 429 is about one credential:
#: it backs that credential off in the pipeline, and here counts as the vendor answering.
TRIPPING_ERRORS: tuple[type[SkillError], ...] = (EndpointUnreachable, BridgeUnreachable)
#: Compare-and-set attempts before giving up on recording an outcome (then it is dropped).
_CAS_ATTEMPTS = 5


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(EndpointUnreachable):
    """The vendor's breaker is open: the call was not made.

    An ``EndpointUnreachable`` (retryable), so it becomes the same Alexa error as a vendor that
    is down: ``ENDPOINT_UNREACHABLE`` ("the device is not responding"), never
    ``BRIDGE_UNREACHABLE``, which sends the user to check a hub most vendors do not have;
    ``retry_after`` is the time until a probe may be tried, which lets a retry loop that honours
    ``retry_after`` (``Pipeline.call``) give up at once when the cool-down outlasts the
    directive's deadline.
    """

    def __init__(self, vendor: str, retry_after: float) -> None:
        super().__init__(f"{vendor} is failing; calls are paused for {retry_after:.0f} s")
        self.vendor = vendor
        self.retry_after = max(0.0, retry_after)


class BreakerRecord(NamedTuple):
    """The shared state of one vendor's breaker. ``version`` 0 means "never written"."""

    state: BreakerState = BreakerState.CLOSED
    failures: int = 0  # consecutive counted failures in the current window (closed state)
    window_start: float = 0.0  # when the first of those failures happened
    opened_at: float = 0.0  # when it last opened
    probe_until: float = 0.0  # half-open: the probe's lease ends then
    version: int = 0


class BreakerStore(Protocol):
    """Where breaker records live; ``save`` is a compare-and-set on ``version``."""

    def load(self, vendor: str) -> BreakerRecord: ...

    def save(self, vendor: str, record: BreakerRecord, expected_version: int) -> bool:
        """Write ``record`` (with ``version = expected_version + 1``) if the stored version is
        still ``expected_version``; False when someone else wrote first."""
        ...


class Permit(NamedTuple):
    """What ``before`` hands out: whether this call is the half-open probe, and the record it
    saw (so that a success on a healthy vendor costs no second read)."""

    probe: bool = False
    version: int = 0
    failures: int = 0


class CircuitBreaker:
    """One vendor's breaker. Cheap to build; build one per vendor per container and keep it.

    ``threshold`` counted failures in a row within ``window`` seconds open it for ``cooldown``
    seconds. ``cache_seconds`` > 0 lets ``before`` trust a CLOSED state read that recently
    (fewer reads on the hot path; a breaker opened elsewhere is seen that much later).
    ``on_transition(vendor, old, new)`` is called after each change this container makes (for
    logs or metrics).
    """

    def __init__(
        self,
        store: BreakerStore,
        vendor: str,
        clock: Callable[[], float] = time.time,
        threshold: int = 5,
        cooldown: float = 30.0,
        *,
        window: float = 60.0,
        cache_seconds: float = 0.0,
        probe_timeout: float | None = None,
        trips_on: tuple[type[SkillError], ...] = TRIPPING_ERRORS,
        on_transition: Callable[[str, BreakerState, BreakerState], None] | None = None,
    ) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.store = store
        self.vendor = vendor
        self.clock = clock
        self.threshold = threshold
        self.cooldown = float(cooldown)
        self.window = float(window)
        self.probe_timeout = float(
            probe_timeout if probe_timeout is not None else min(cooldown, 10.0)
        )
        self.trips_on = trips_on
        self.cache_seconds = float(cache_seconds)
        self._on_transition = on_transition
        self._closed_seen_at: float | None = None  # when this container last read CLOSED
        self._closed_record = BreakerRecord()

    # -- the three calls ---------------------------------------------------------------------

    def guard(self, operation: Callable[[], T]) -> T:
        """Run ``operation`` through the breaker: ``CircuitOpen`` without calling it while open;
        its outcome recorded otherwise (its exception re-raised unchanged)."""
        permit = self.before()
        try:
            result = operation()
        except Exception as error:
            self.failure(permit, error)
            raise
        self.success(permit)
        return result

    def before(self) -> Permit:
        """May a call be made now? A ``Permit`` if so; raises ``CircuitOpen`` if not."""
        seen = self._closed_seen_at
        if seen is not None and self.clock() - seen < self.cache_seconds:
            cached = self._closed_record
            return Permit(version=cached.version, failures=cached.failures)
        for _ in range(_CAS_ATTEMPTS):
            record = self._load()
            if record is None:  # the store is failing: do not block the vendor call
                return Permit()
            now = self.clock()
            if record.state is BreakerState.CLOSED:
                self._closed_seen_at, self._closed_record = now, record
                return Permit(version=record.version, failures=record.failures)
            self._closed_seen_at = None
            if record.state is BreakerState.OPEN and now < record.opened_at + self.cooldown:
                raise CircuitOpen(self.vendor, record.opened_at + self.cooldown - now)
            if record.state is BreakerState.HALF_OPEN and now < record.probe_until:
                raise CircuitOpen(self.vendor, record.probe_until - now)
            # cool-down over (or the last probe's lease ran out): try to be the probe
            claimed = record._replace(
                state=BreakerState.HALF_OPEN, probe_until=now + self.probe_timeout
            )
            saved = self._save(claimed, record)
            if saved is None:
                return Permit()
            if saved:
                self._transition(record.state, BreakerState.HALF_OPEN)
                return Permit(probe=True, version=record.version + 1)
        raise CircuitOpen(self.vendor, self.probe_timeout)  # lost every race: someone probes

    def success(self, permit: Permit | None = None) -> None:
        """The vendor answered. Closes the breaker after a probe; resets the count when closed.
        Without a ``permit`` the stored state is read to decide."""
        if permit is not None and not permit.probe and permit.failures == 0:
            return  # closed and clean when the call started: nothing to write (no read either)
        permit = permit or Permit()
        for _ in range(_CAS_ATTEMPTS):
            record = self._load()
            if record is None:
                return
            if record.state is BreakerState.CLOSED:
                if record.failures == 0:
                    return
                closed = record._replace(failures=0, window_start=0.0)
            elif (
                permit.probe
                and record.state is BreakerState.HALF_OPEN
                and record.version == permit.version
            ):
                closed = record._replace(
                    state=BreakerState.CLOSED, failures=0, window_start=0.0, probe_until=0.0
                )
            else:
                return  # a call let through before it opened, or someone else's probe: ignore
            saved = self._save(closed, record)
            if saved is None:
                return
            if saved:
                if record.state is not BreakerState.CLOSED:
                    self._transition(record.state, BreakerState.CLOSED)
                return

    def failure(self, permit: Permit | None = None, error: BaseException | None = None) -> None:
        """The call failed. Only ``trips_on`` errors count. Another ``SkillError`` is an answer
        from the vendor (a rejected token, an unknown device...): it shows the vendor is up, so
        it counts as a success. Any other exception (a bug on our side) is not recorded."""
        permit = permit or Permit()
        if isinstance(error, CircuitOpen):
            return
        if error is not None and not isinstance(error, self.trips_on):
            if isinstance(error, SkillError):
                self.success(permit)
            return
        self._closed_seen_at = None
        for _ in range(_CAS_ATTEMPTS):
            record = self._load()
            if record is None:
                return
            now = self.clock()
            if record.state is BreakerState.CLOSED:
                fresh = record.failures == 0 or now - record.window_start > self.window
                failures = 1 if fresh else record.failures + 1
                start = now if fresh else record.window_start
                if failures >= self.threshold:
                    new = record._replace(
                        state=BreakerState.OPEN,
                        failures=failures,
                        window_start=start,
                        opened_at=now,
                        probe_until=0.0,
                    )
                else:
                    new = record._replace(failures=failures, window_start=start)
            elif (
                permit.probe
                and record.state is BreakerState.HALF_OPEN
                and record.version == permit.version
            ):
                new = record._replace(state=BreakerState.OPEN, opened_at=now, probe_until=0.0)
            else:
                return  # already open, or someone else's probe decides
            saved = self._save(new, record)
            if saved is None:
                return
            if saved:
                self._closed_seen_at = None
                if new.state is not record.state:
                    self._transition(record.state, new.state)
                return

    # -- inspection --------------------------------------------------------------------------

    def state(self) -> BreakerState:
        """The state as stored (OPEN past its cool-down reads as HALF_OPEN: a probe may go)."""
        record = self._load() or BreakerRecord()
        if record.state is BreakerState.OPEN and self.clock() >= record.opened_at + self.cooldown:
            return BreakerState.HALF_OPEN
        return record.state

    # -- internals ---------------------------------------------------------------------------

    def _load(self) -> BreakerRecord | None:
        try:
            return self.store.load(self.vendor)
        except Exception as exc:  # noqa: BLE001 - advisory: a store outage never blocks vendor calls
            logger.warning(
                "breaker %s: state unreadable (%s); letting calls through",
                self.vendor,
                type(exc).__name__,
            )
            return None

    def _save(self, new: BreakerRecord, old: BreakerRecord) -> bool | None:
        try:
            return self.store.save(self.vendor, new, old.version)
        except Exception as exc:  # noqa: BLE001 - advisory: the next call saves again
            logger.warning("breaker %s: state not saved (%s)", self.vendor, type(exc).__name__)
            return None

    def _transition(self, old: BreakerState, new: BreakerState) -> None:
        log = logger.warning if new is BreakerState.OPEN else logger.info
        log("breaker %s: %s -> %s", self.vendor, old.value, new.value)
        if self._on_transition is not None:
            try:
                self._on_transition(self.vendor, old, new)
            except Exception:  # a metrics sink must not break a vendor call
                logger.exception("breaker %s: on_transition failed", self.vendor)


# -- stores ------------------------------------------------------------------------------------


class MemoryBreakerStore:
    """In-process store (tests, and single-process local runs); thread-safe compare-and-set."""

    def __init__(self) -> None:
        self.records: dict[str, BreakerRecord] = {}
        self._lock = threading.Lock()

    def load(self, vendor: str) -> BreakerRecord:
        with self._lock:
            return self.records.get(vendor, BreakerRecord())

    def save(self, vendor: str, record: BreakerRecord, expected_version: int) -> bool:
        with self._lock:
            current = self.records.get(vendor, BreakerRecord())
            if current.version != expected_version:
                return False
            self.records[vendor] = record._replace(version=expected_version + 1)
            return True
