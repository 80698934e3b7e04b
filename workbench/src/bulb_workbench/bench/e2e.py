"""End-to-end latency, directive -> event gateway 202, in the local stack, per style.

Uses ``bulb_workbench.local.stack.LocalStack`` (``invoke(event)``,
``wait_for_answer(correlation_token, timeout)``). For each vendor latency in ``BENCH_E2E_LATENCIES``
(default ``0,0.15``) and each style, ``BENCH_E2E_DIRECTIVES`` (default 15) SetBrightness directives
(half as many for polling) are sent one after the other to the style's simulated bulb (after
``link_demo_user``); each is timed from ``invoke`` to the gateway's 202 for its correlation token (a
Response; anything else counts as a failure). Reported: p50/p95/p99 (nearest rank) and the worst. At
vendor latency 0 the bulb's transition is 0 too. The stack is measured as it is (its HTTP servers
set ``TCP_NODELAY``).

A polling directive waits for its poll ticket's SQS delay (``skill.pipeline._styles.poll_delay``:
the adapter's ``poll_interval_seconds``, 1 to 15 s): the vendor's rate limit by design, not the
project's overhead. The delays the pipeline schedules are recorded per directive
(``SqsPollQueue.schedule`` wrapped in this process, where the handlers run), and for polling the
overhead = latency - those delays is reported too (``overhead``, ``scheduled_s``).

Run as a script by ``bulb_workbench.bench.run`` (``python workbench/src/bulb_workbench/bench/e2e.py
OUT.json``) with the project's
virtualenv.
"""

from __future__ import annotations

import inspect
import math
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[4]  # the checkout (workbench/src/bulb_workbench/bench)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STYLES = ("sync", "async", "optimistic", "polling")
N = int(os.environ.get("BENCH_E2E_DIRECTIVES", "15"))
#: The polling style's clock is the poll queue's SQS delay (>= 1 s): fewer runs tell as much.
N_STYLE = {"polling": max(3, N // 2)}
#: Styles answered when a poll ticket comes due: their scheduled delay is not overhead. (Async
#: schedules a watchdog ticket too, but its answer is the vendor's push, not the ticket.)
CLOCKED = {"polling"}
LATENCIES = [float(x) for x in os.environ.get("BENCH_E2E_LATENCIES", "0,0.15").split(",")]
TIMEOUT = 10.0
#: The simulated bulb's transition (a 202 command landing) at each vendor latency: none when the
#: vendor is instantaneous (the project's own overhead), the simulator's default otherwise.
TRANSITION = {0.0: 0.0}


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _stack(latency: float) -> Any:
    from bulb_workbench.local.stack import LocalStack

    parameters = inspect.signature(LocalStack).parameters
    extra = (
        {"transition": TRANSITION[latency]}
        if latency in TRANSITION and "transition" in parameters
        else {}
    )
    for name in ("vendor_latency", "latency", "sim_latency", "simulator_latency"):
        if name in parameters:
            return LocalStack(**{name: latency}, **extra)
    raise TypeError(f"LocalStack{inspect.signature(LocalStack)} takes no vendor latency parameter")


@contextmanager
def scheduled_delays() -> Iterator[dict[str, float]]:
    """Message id -> seconds of poll-ticket delay the pipeline scheduled for that directive
    (summed over its tickets): measured, not derived from the adapter, so a re-poll counts too."""
    from skill.aws.stores import SqsPollQueue

    delays: dict[str, float] = {}
    lock = threading.Lock()
    original = SqsPollQueue.schedule

    def schedule(self: SqsPollQueue, ticket: Any, delay_seconds: int) -> None:
        with lock:
            delays[ticket.message_id] = delays.get(ticket.message_id, 0.0) + max(
                0, int(delay_seconds)
            )
        original(self, ticket, delay_seconds)

    SqsPollQueue.schedule = schedule  # type: ignore[method-assign]
    try:
        yield delays
    finally:
        SqsPollQueue.schedule = original  # type: ignore[method-assign]


def _summary(times: list[float]) -> dict[str, float]:
    """p50/p95/p99 and the worst, ms: the same figures for latency and polling overhead."""
    return {
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "p99": percentile(times, 99),
        "max": max(times, default=float("nan")),
    }


def run() -> dict[str, Any]:
    from bulb_workbench.local.stack import set_brightness

    results: dict[str, Any] = {"measured": True, "directives": N, "latencies": {}}
    for latency in LATENCIES:
        per_style: dict[str, Any] = {}
        with _stack(latency) as stack, scheduled_delays() as delays:
            bearer = stack.demo_token()  # the demo user's access token from the local pool
            stack.link_demo_user(bearer)
            for style in STYLES:
                times: list[float] = []
                overheads: list[float] = []
                scheduled: list[float] = []
                failures = 0
                n = N_STYLE.get(style, N)
                print(
                    f"  e2e: vendor latency {latency:g}, {style}: {n} directives",
                    file=sys.stderr,
                    flush=True,
                )
                for i in range(n + 2):
                    event, token = set_brightness(f"sim-{style}:color-1", 20 + i % 60, bearer)
                    start = time.perf_counter()
                    stack.invoke(event)
                    answer = stack.wait_for_answer(token, TIMEOUT)
                    elapsed = (time.perf_counter() - start) * 1000
                    if i < 2:
                        continue  # warm-up: the handlers' cold starts are measured elsewhere
                    final = answer[-1]["event"]["header"]["name"] if answer else None
                    if final != "Response":
                        failures += 1
                        continue
                    times.append(elapsed)
                    if style in CLOCKED:
                        delay = delays.get(event["directive"]["header"]["messageId"], 0.0)
                        scheduled.append(delay)
                        overheads.append(elapsed - delay * 1000)
                per_style[style] = {"n": len(times), "failures": failures, **_summary(times)}
                if style in CLOCKED:
                    per_style[style]["scheduled_s"] = sorted(set(scheduled))
                    per_style[style]["overhead"] = _summary(overheads)
        results["latencies"][f"{latency:g}"] = per_style
    return results


def main() -> None:
    from bulb_workbench.bench import emit_results

    emit_results(run())


if __name__ == "__main__":
    main()
