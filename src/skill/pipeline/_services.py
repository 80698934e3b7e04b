"""What the pipeline, the poller, the push handler and the sweep are given: the adapters, the
vault, the stores and the clock (its own module: the sweep uses it without the command path)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache

if TYPE_CHECKING:
    from skill.credentials import Credentials
    from skill.plugins import AdapterRegistry, Style
    from skill.ports import Outbox, PollQueue, StateStore

#: No credential's back-off lasts longer than this in memory (a daily quota is the adapter's
#: to remember).
BACKOFF_MAX_SECONDS = 3600.0


def _no_metrics(name: str, value: float) -> None:
    """The default metrics sink: counts go nowhere."""


class PipelineServices:
    """A plain class, not a dataclass: creating a dataclass costs about 0.7 ms at every cold
    start of the four functions that build this, and nothing here needs generated methods."""

    def __init__(
        self,
        adapters: AdapterRegistry,
        credentials: Credentials,
        outbox: Outbox,
        pending: StateStore,
        poll_queue: PollQueue | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        count: Callable[[str, float], None] = _no_metrics,
        style_override: Callable[[str], Style | None] = lambda vendor: None,
        paused: Callable[[str], bool] = lambda vendor: False,
        breaker_for: Callable[[str], Any] = lambda vendor: None,
        backoff: TTLCache[tuple[str, str], float] | None = None,
    ) -> None:
        self.adapters = adapters
        self.credentials = credentials
        self.outbox = outbox
        self.pending = pending
        self.poll_queue = poll_queue
        self.clock = clock
        self.sleep = sleep
        self.count = count  # metrics sink
        self.style_override = style_override  # feature flags
        self.paused = paused  # feature flags
        #: The vendor's circuit breaker (``skill.breaker.CircuitBreaker``), or None for none.
        self.breaker_for = breaker_for
        #: Until when each credential is rate limited, per (vendor, user id): a vendor's 429 is
        #: about one credential, so only that credential backs off (the breaker never sees it).
        self.backoff: TTLCache[tuple[str, str], float] = (
            TTLCache(maxsize=10_000, ttl=BACKOFF_MAX_SECONDS) if backoff is None else backoff
        )
