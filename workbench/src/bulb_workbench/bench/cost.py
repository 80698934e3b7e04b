"""What one directive costs, counted: the Lambda handlers chained as AWS would chain them, every
AWS request counted by the stub cloud, every vendor call by the simulator, every log byte.

Run as a script by ``bulb_workbench.bench.run`` (``python workbench/src/bulb_workbench/bench/cost.py
OUT.json``) with the project's virtualenv. Per style, ``1 + N`` control directives go entrypoint ->
directives queue -> processor -> (async: vendor push -> notifications; polling: poll queue ->
poller) -> outbox -> dispatcher -> gateway 202; the first one (the container's cold path: secrets,
identity cache) is reported apart, the next ``N`` are averaged. ReportState, Discover, the sweep
(its worker: one account of a polling vendor with 3 bulbs, unchanged and with one outside change;
its scheduler: one minute with one due account) and LWA (AcceptGrant, token refresh) are counted the
same way.

Each handler invocation is also timed (``time.thread_time`` of the calling thread and of the
calls it hands to thread pools: the stub and simulator threads are excluded), which the
on-paper model turns into billed duration.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[4]  # the checkout (workbench/src/bulb_workbench/bench)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bulb_workbench.bench import _scenarios as sc  # noqa: E402 - after the checkout joins sys.path
from bulb_workbench.bench._stubs import StubCloud  # noqa: E402 - after the checkout joins sys.path
from bulb_workbench.local._pollers import LambdaContext  # noqa: E402 - after the checkout joins sys.path

N = int(os.environ.get("BENCH_COST_DIRECTIVES", "4"))
#: Steady-state reads of the sweep measured. One read is a few ms of CPU, the size of this
#: machine's interference with a single run, and the monthly model multiplies it by every read
#: of every account: the model takes the median of many (``cpu_ms_median``).
SWEEP_READS = int(os.environ.get("BENCH_SWEEP_READS", "15"))


class _CountingStdout(io.TextIOBase):
    """Where the handlers' JSON logs and EMF metrics go: counted (CloudWatch Logs ingestion)."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)

    def flush(self) -> None:
        pass


class _PoolCpu:
    """CPU time of the work handlers hand to thread pools (the sweep's reads, its scheduler's
    slot queries): ``time.thread_time`` of the calling thread misses it, ``process_time`` would
    add the stub's and the simulator's threads. Each submitted call is timed in its thread."""

    def __init__(self) -> None:
        import threading
        from concurrent.futures import ThreadPoolExecutor

        self.seconds = 0.0
        self._lock = threading.Lock()
        submit = ThreadPoolExecutor.submit

        def timed_submit(pool: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            def timed() -> Any:
                start = time.thread_time()
                try:
                    return fn(*args, **kwargs)
                finally:
                    with self._lock:
                        self.seconds += time.thread_time() - start

            return submit(pool, timed)

        ThreadPoolExecutor.submit = timed_submit  # type: ignore[method-assign]


class Driver:
    def __init__(self, cloud: StubCloud, sim: Any, stdout: _CountingStdout) -> None:
        self.cloud, self.sim, self.stdout = cloud, sim, stdout
        self.invocations: list[dict[str, Any]] = []
        self.pool_cpu = _PoolCpu()
        import skill.handlers.entrypoint
        import skill.handlers.notifications
        import skill.handlers.poller
        import skill.handlers.sweep
        import skill.handlers.sweep_scheduler
        from skill.handlers.processors import async_, optimistic, polling, sync

        self.entrypoint = skill.handlers.entrypoint.handler
        self.processors = {
            "sync": sync.handler,
            "async": async_.handler,
            "optimistic": optimistic.handler,
            "polling": polling.handler,
        }
        self.notifications = skill.handlers.notifications.handler
        self.poller = skill.handlers.poller.handler
        self.sweep = skill.handlers.sweep.handler
        self.sweep_scheduler = skill.handlers.sweep_scheduler.handler
        try:
            import skill.handlers.dispatcher

            self.dispatcher = skill.handlers.dispatcher.handler
        except ImportError:
            self.dispatcher = None

    def invoke(self, function: str, handler: Any, event: Any) -> Any:
        ledger = self.cloud.ledger
        aws_before = sum(ledger.requests.values())
        gateway_before, lwa_before = ledger.gateway_posts, ledger.lwa_calls
        vendor_before = len(self.sim.log())
        cpu, wall, pool = time.thread_time(), time.perf_counter(), self.pool_cpu.seconds
        # the template's timeouts: the sweep's worker 60 s (it starts no read with less than
        # 12 s left), the directive path's 10 s
        answer = handler(event, LambdaContext("bench", timeout=60 if function == "sweep" else 10))
        self.invocations.append(
            {
                "function": function,
                "cpu_ms": (time.thread_time() - cpu + self.pool_cpu.seconds - pool) * 1000,
                "wall_ms": (time.perf_counter() - wall) * 1000,
                "aws_calls": sum(ledger.requests.values()) - aws_before,
                "gateway_posts": ledger.gateway_posts - gateway_before,
                "lwa_calls": ledger.lwa_calls - lwa_before,
                "vendor_calls": len(self.sim.log()) - vendor_before,
            }
        )
        return answer

    def _records(self, queue: str) -> list[dict[str, Any]]:
        return self.cloud.take(self.cloud.queue_url(queue))

    def deliver_outbox(self) -> None:
        messages = self._records("outbox")
        if messages and self.dispatcher is not None:
            answer = self.invoke(
                "dispatcher", self.dispatcher, sc.sqs_event([m["body"] for m in messages])
            )
            assert not answer.get("batchItemFailures"), answer

    def directive(self, style: str, brightness: int) -> str:
        answer = self.invoke("entrypoint", self.entrypoint, sc.control(style, brightness))
        assert answer["event"]["header"]["name"] == "DeferredResponse", answer
        queued = self._records(f"directives-{style}.fifo")
        event = sc.sqs_event([m["body"] for m in queued], [m["group"] for m in queued])
        answer = self.invoke(f"processor-{style}", self.processors[style], event)
        assert not answer.get("batchItemFailures"), answer
        if style == "async":
            push = self.cloud.wait_push(timeout=5)
            assert push is not None, "the simulator did not push"
            headers, body = push
            wanted = {k: v for k, v in headers.items() if k.startswith("x-sim-")}
            answer = self.invoke(
                "notifications",
                self.notifications,
                sc.http_api_event("sim-async", sc.PATH_SECRET, wanted, body),
            )
            assert answer["statusCode"] == 200, answer
        # poll tickets: the polling style's clock, and the async watchdog's (a push that never
        # comes); the SQS delay (>= 1 s) outlasts the simulated bulb's transition
        for _ in range(10):
            tickets = self._records("poll")
            if not tickets:
                break
            if style == "polling":
                time.sleep(self.sim.transition + 0.05)
            answer = self.invoke("poller", self.poller, sc.sqs_event([t["body"] for t in tickets]))
            assert not answer.get("batchItemFailures"), answer
        self.deliver_outbox()
        return "ok"


def _delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in after.items():
        if isinstance(value, dict):
            inner = {k: v - before.get(key, {}).get(k, 0) for k, v in value.items()}
            out[key] = {k: v for k, v in inner.items() if v}
        else:
            out[key] = value - before.get(key, 0)
    return out


def _measure(driver: Driver, run: Any, repeat: int) -> dict[str, Any]:
    cloud, sim = driver.cloud, driver.sim
    before = cloud.ledger.snapshot()
    log_before = driver.stdout.bytes
    vendor_before = len(sim.log())
    start = len(driver.invocations)
    for i in range(repeat):
        run(i)
    sim.wait_idle(2)
    invocations = driver.invocations[start:]
    counts = _delta(before, cloud.ledger.snapshot())
    per = {
        k: ({kk: vv / repeat for kk, vv in v.items()} if isinstance(v, dict) else v / repeat)
        for k, v in counts.items()
    }
    by_function: dict[str, dict[str, float]] = {}
    cpu_runs: dict[str, list[float]] = {}
    for inv in invocations:
        f = by_function.setdefault(inv["function"], {"invocations": 0.0})
        f["invocations"] += 1 / repeat
        cpu_runs.setdefault(inv["function"], []).append(inv["cpu_ms"])
        for key in ("cpu_ms", "wall_ms", "aws_calls", "gateway_posts", "lwa_calls", "vendor_calls"):
            f[key] = f.get(key, 0.0) + inv[key] / repeat
    for function, runs in cpu_runs.items():
        # per unit, as cpu_ms: the median invocation times the invocations of one unit
        by_function[function]["cpu_ms_median"] = (
            statistics.median(runs) * by_function[function]["invocations"]
        )
    return {
        "per_directive": per,
        "functions": by_function,
        "vendor_calls": (len(sim.log()) - vendor_before) / repeat,
        "log_bytes": (driver.stdout.bytes - log_before) / repeat,
    }


def run() -> dict[str, Any]:
    from bulb_workbench.bench._scenarios import quick_simulator_sockets
    from bulb_workbench.local.simulator import VendorSimulator

    quick_simulator_sockets()
    stdout = _CountingStdout()
    results: dict[str, Any] = {"directives_per_style": N}
    with (
        StubCloud(secrets=sc.SECRETS, jwks=sc.jwks()) as cloud,
        VendorSimulator(latency=0, transition=0.05, webhook_url=f"{cloud.url}/webhook") as sim,
    ):
        os.environ.update(sc.environment(cloud, sim.url))
        cloud.put("tokens", sc.token_item())
        sc.connect_all(cloud, sim)
        real_stdout, sys.stdout = sys.stdout, stdout
        try:
            driver = Driver(cloud, sim, stdout)
            styles: dict[str, Any] = {}
            for style in sc.STYLES:
                first = _measure(driver, lambda i, s=style: driver.directive(s, 30), 1)
                warm = _measure(driver, lambda i, s=style: driver.directive(s, 31 + i), N)
                styles[style] = {"first": first, "warm": warm}
            results["styles"] = styles
            results["report_state"] = _measure(
                driver,
                lambda i: driver.invoke("entrypoint", driver.entrypoint, sc.report_state("sync")),
                N,
            )
            results["discover"] = _measure(
                driver, lambda i: driver.invoke("entrypoint", driver.entrypoint, sc.discover()), N
            )
            # the sweep's worker: one SQS record, one account of a polling vendor (list + a read
            # per bulb) with 3 bulbs. Steady state first (a first read has recorded the bulbs:
            # nothing changed, nothing written), then a read that finds one bulb changed outside
            # Alexa (a ChangeReport on the outbox, the owner and the account's cadence written).
            cloud.tables["state"].clear()
            for device in sc.SIM_DEVICES:
                cloud.put("state", sc.owner_item("polling", device=device))
            ticket = sc.sweep_account("polling")
            driver.invoke("sweep", driver.sweep, sc.sqs_event([ticket.model_dump_json()]))
            driver.deliver_outbox()
            ticket = _swept(cloud, ticket)
            results["sweep_user_3_bulbs"] = _measure(
                driver,
                lambda i: driver.invoke(
                    "sweep", driver.sweep, sc.sqs_event([ticket.model_dump_json()])
                ),
                SWEEP_READS,
            )

            def changed(i: int) -> None:
                sim.set_state("sim-polling", sc.SIM_DEVICES[i % 3], on=True, brightness=20 + i)
                driver.invoke("sweep", driver.sweep, sc.sqs_event([ticket.model_dump_json()]))

            results["sweep_change_3_bulbs"] = _measure(driver, changed, 1)
            driver.deliver_outbox()
            # the sweep's scheduler: one minute, one due account -> one SendMessageBatch
            cloud.tables["state"].clear()
            due = sc.sweep_account("sync", active_ago=60.0)
            cloud.put("state", sc.sweep_account_item(due))
            driver.invoke(
                "sweep-scheduler", driver.sweep_scheduler, sc.scheduled_event()
            )  # warm-up
            cloud.take(cloud.queue_url("sweep"))
            results["sweep_scheduler"] = _measure(
                driver,
                lambda i: driver.invoke(
                    "sweep-scheduler", driver.sweep_scheduler, sc.scheduled_event()
                ),
                3,
            )
            results["sweep_scheduler"]["accounts_sent"] = (
                len(cloud.take(cloud.queue_url("sweep"))) / 3
            )
            results["lwa"] = _lwa_check(driver)
        finally:
            sys.stdout = real_stdout
    return results


def _swept(cloud: StubCloud, ticket: Any) -> Any:
    """The account as the worker rescheduled it (the schedule item it wrote, else unchanged):
    the next message the scheduler would send for it."""
    import json

    from skill.records import SweepAccount

    item = cloud.tables["state"].get(
        json.dumps(
            [{"S": f"account#{ticket.vendor}#{ticket.user_id}"}, {"S": "sweep"}], sort_keys=True
        )
    )
    if item is None:
        return ticket
    return SweepAccount(
        vendor=ticket.vendor,
        user_id=ticket.user_id,
        cadence=int(item["cadence"]["N"]),
        last_activity=float(item["last_activity"]["N"]),
        devices=int(item["devices"]["N"]),
        floor=int(item["floor"]["N"]),
    )


def _lwa_check(driver: Driver) -> dict[str, Any]:
    """A token 30 s from expiry (inside the refresh margin): 20 events in a row -> LWA calls."""
    if driver.dispatcher is None:
        return {"skipped": "dispatcher not importable"}
    cloud = driver.cloud
    item = sc.token_item()
    item["expires_at"] = {"N": str(int(time.time() + 30))}
    cloud.put("tokens", item)
    import skill.composition

    skill.composition.use(None)  # a new container: nothing cached yet
    before = cloud.ledger.lwa_calls
    for _ in range(20):
        cloud.queues["outbox"].append({"body": sc.outbox_body(), "group": None, "delay": 0})
        driver.deliver_outbox()
    return {
        "events": 20,
        "lwa_calls": cloud.ledger.lwa_calls - before,
        "gateway_posts": len(cloud.gateway_events),
    }


def main() -> None:
    from bulb_workbench.bench import emit_results

    emit_results(run())


if __name__ == "__main__":
    main()
