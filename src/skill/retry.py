"""Deadline-bounded retries: how long to wait before the next try, or why there is none.

One rule for every retry loop of the runtime: the pipeline's vendor calls, the dispatcher's
LWA back-off and its gateway sends. Each loop keeps its own control flow (what counts as a
passing failure, what to answer when it gives up); this module decides the wait and when to
stop. An answer to Alexa is worthless after its deadline, so no wait may eat the time the rest
of the work needs (the ``reserve``).

Example::

    >>> backoff = Backoff(delays=(0.25, 0.5, 1.0), max_tries=4)
    >>> backoff.next_wait(1, now=100.0, deadline=108.0, reserve=2.5)
    0.25
    >>> backoff.next_wait(3, now=105.0, deadline=108.0, reserve=2.5)
    <Stop.DEADLINE: 'deadline'>
    >>> backoff.next_wait(4, now=100.0, deadline=108.0, reserve=2.5)
    <Stop.TRIES: 'tries'>
"""

from __future__ import annotations

import enum
from typing import NamedTuple


class Stop(enum.Enum):
    """Why there is no next try."""

    DEADLINE = "deadline"  # the wait would leave less than the reserve before the deadline
    TRIES = "tries"  # the tries are used up
    LIMIT = "limit"  # the wait would outlast the caller's own time (its Lambda invocation)


def leaves_room(wait: float, *, now: float, end: float, reserve: float = 0.0) -> bool:
    """True when waiting ``wait`` seconds from ``now`` still leaves ``reserve`` before ``end``."""
    return now + wait + reserve < end


class Backoff(NamedTuple):
    """Waits between the tries of one operation."""

    #: Seconds before the 2nd, 3rd... try; the last one repeats.
    delays: tuple[float, ...]
    #: Tries in all, the first included; None: only the deadline bounds them.
    max_tries: int | None = None
    #: Never two tries closer than this.
    min_gap: float = 0.0
    #: A server's hint (Retry-After) replaces the planned wait; else the longer one wins.
    hint_wins: bool = False

    def wait(self, failures: int, hint: float | None = None) -> float:
        """Seconds to wait after the ``failures``-th failure (1 for the first)."""
        if hint and self.hint_wins:
            return max(self.min_gap, hint)
        planned = self.delays[min(failures - 1, len(self.delays) - 1)]
        return max(self.min_gap, planned, hint or 0.0)

    def exhausted(self, failures: int) -> bool:
        """True when ``failures`` failed tries leave none to make."""
        return self.max_tries is not None and failures >= self.max_tries

    def next_wait(
        self,
        failures: int,
        *,
        now: float,
        deadline: float,
        reserve: float = 0.0,
        hint: float | None = None,
        limit: float | None = None,
    ) -> float | Stop:
        """The wait before the next try after the ``failures``-th failure, or why there is
        none: the ``deadline`` would leave less than ``reserve`` after the wait, the tries are
        used up, or the wait and ``reserve`` would outlast ``limit`` (the caller's own end)."""
        wait = self.wait(failures, hint)
        if not leaves_room(wait, now=now, end=deadline, reserve=reserve):
            return Stop.DEADLINE
        if self.exhausted(failures):
            return Stop.TRIES
        if limit is not None and not leaves_room(wait, now=now, end=limit, reserve=reserve):
            return Stop.LIMIT
        return wait
