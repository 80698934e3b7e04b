"""The sweep's scheduler: each minute, one message per vendor account due, from the slots of
``skill.cadence`` (an index query per slot: no table scan, no write per read)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from skill import cadence
from skill.ports import StateStore, SweepQueue


class SweepScheduler:
    """Each minute: the accounts whose slot is due go on the sweep queue, one message each.
    It needs only the schedule and the queue: no credential, no vendor."""

    def __init__(
        self,
        schedule: StateStore,
        queue: SweepQueue,
        *,
        clock: Callable[[], float] = time.time,
        count: Callable[[str, float], None] = lambda name, value: None,
        concurrency: int = 4,
    ) -> None:
        self.schedule = schedule
        self.queue = queue
        self.clock = clock
        self.count = count
        self.concurrency = concurrency

    def run(self, now: float | None = None) -> int:
        minute = int((self.clock() if now is None else now) // 60)
        slots = cadence.due_slots(minute)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            due = [a for accounts in pool.map(self.schedule.due_accounts, slots) for a in accounts]
        if due:
            self.queue.send(due)
        self.count("SweepAccountsDue", len(due))
        return len(due)
