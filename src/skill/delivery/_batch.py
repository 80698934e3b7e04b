"""The records of one outbox batch delivered at once, each on its own thread.

One slow send (a gateway timeout, an LWA outage waited out) must not make the batch's later
answers late. The handler runs Powertools' ``AsyncBatchProcessor``; the sends are blocking
(``requests``), so its record handler awaits each on a thread of a pool of ten. Not
``asyncio.to_thread``: the loop's default executor has ``os.cpu_count() + 4`` threads (6 on two
cores), and a batch of 10 would then wait for the gateway in two rounds (1.6x the wall time in
``bulb_workbench.bench.dispatcher_batch``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

#: Records of one batch delivered at once (the outbox event source mapping's BatchSize is 10).
MAX_CONCURRENT_SENDS = 10

#: (correlation id, outcome or the exception to report) of one record.
Delivered = tuple[str | None, str | Exception]


@contextmanager
def threaded_sends(
    deliver: Callable[[str], tuple[str | None, str]],
    *,
    max_workers: int = MAX_CONCURRENT_SENDS,
) -> Iterator[Callable[[str], Awaitable[Delivered]]]:
    """``deliver`` (a record's body -> its correlation id and outcome) as a coroutine function
    that runs it on one of ``max_workers`` threads, for the ``with`` block (one invocation). An
    exception it raises is returned in place of the outcome, for its own record to report."""

    def one(body: str) -> Delivered:
        try:
            return deliver(body)
        except Exception as exc:  # noqa: BLE001 - reported for this record only (RetryLater...)
            return None, exc

    with ThreadPoolExecutor(max_workers, thread_name_prefix="dispatcher") as pool:

        async def on_a_thread(body: str) -> Delivered:
            return await asyncio.get_running_loop().run_in_executor(pool, one, body)

        yield on_a_thread
