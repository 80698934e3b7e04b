"""What the pipeline, the poller, the push handler and the sweep are given: the adapters, the
vault, the stores and the clock (its own module: the sweep uses it without the command path)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache

if TYPE_CHECKING:
    from skill.credentials import Credentials
    from skill.plugins import AdapterRegistry, Style
    from skill.ports import Outbox, PollQueue, StateStore

#: No credential's back-off lasts longer than this in memory (a daily quota is the adapter's
#: to remember).
BACKOFF_MAX_SECONDS = 3600.0


@dataclass
class PipelineServices:
    adapters: AdapterRegistry
    credentials: Credentials
    outbox: Outbox
    pending: StateStore
    poll_queue: PollQueue | None = None
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    count: Callable[[str, float], None] = lambda name, value: None  # metrics sink
    style_override: Callable[[str], Style | None] = lambda vendor: None  # feature flags
    paused: Callable[[str], bool] = lambda vendor: False  # feature flags
    #: The vendor's circuit breaker (``skill.breaker.CircuitBreaker``), or None for none.
    breaker_for: Callable[[str], Any] = lambda vendor: None
    #: Until when each credential is rate limited, per (vendor, user id): a vendor's 429 is
    #: about one credential, so only that credential backs off (the breaker never sees it).
    backoff: TTLCache[tuple[str, str], float] = field(
        default_factory=lambda: TTLCache(maxsize=10_000, ttl=BACKOFF_MAX_SECONDS)
    )
