"""The dispatcher's batch: a thread pool then a replay into ``BatchProcessor``, against
Powertools' ``AsyncBatchProcessor`` with each send on a thread.

``python -m bulb_workbench.bench.dispatcher_batch``. Knobs: ``DISPATCHER_BATCHES`` (200),
``DISPATCHER_ROUNDS`` (4), ``DISPATCHER_GATEWAY_MS`` (50).

What runs: the real ``Dispatcher`` (token cache over an in-memory store holding fresh tokens,
the real ``GatewayClient`` on ``requests``) sends batches of 10 outbox records to a stub gateway
in a child process (``LoopbackServer``, 202 after ``DISPATCHER_GATEWAY_MS``), so the CPU measured
is the dispatcher's alone. Each variant runs ``DISPATCHER_BATCHES`` batches, split in rounds
that alternate between the variants so that a slower spell of the machine hits them all.
Reported: wall time and CPU (this process's user + system) per variant, and the ratio to the
baseline, the thread pool then replay.

The variants (the per-record work is the handler's ``deliver``, the same in each):

- ``pool_then_replay``: a ``ThreadPoolExecutor`` of 10 per batch, then the outcomes replayed
  through ``BatchProcessor`` in the records' order;
- ``async_to_thread``: ``AsyncBatchProcessor`` with ``asyncio.to_thread`` (the loop's default
  executor: ``min(32, os.cpu_count() + 4)`` threads, 6 on two cores);
- ``async_executor``: ``AsyncBatchProcessor`` with ``run_in_executor`` on a pool of 10 per batch;
- ``handler``: ``skill.handlers.dispatcher.handler`` as it is in the tree.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

BATCH_SIZE = 10
VARIANTS = ("pool_then_replay", "async_to_thread", "async_executor", "handler")
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _serve(delay: float) -> None:
    """The stub gateway (child process): 202 after ``delay`` seconds; prints its port."""
    from bulb_workbench.local._http import LoopbackServer, Reply

    def app(_request: Any) -> Reply:
        time.sleep(delay)
        return Reply(202)

    server = LoopbackServer(app, name="stub-gateway").start()
    print(server.port, flush=True)
    sys.stdin.read()  # until the parent closes it
    server.stop()


class _Context:
    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class _Store:
    """Fresh tokens for every user: the bench measures the sends, not the token store."""

    def get(self, user_id: str) -> Any:
        from skill.records import TokenRecord

        return TokenRecord(
            user_id=user_id,
            region="NA",
            access_token=f"at-{user_id}",
            refresh_token="rt",
            expires_at=time.time() + 3600,
        )

    def put(self, record: Any) -> None:
        pass

    def delete(self, user_id: str, *, if_unchanged: Any = None) -> bool:
        return True


class _Meter:
    """Counts the gateway's answers: every send of the bench must be a 202."""

    def __init__(self) -> None:
        self.answers: dict[str, int] = {}

    def count(self, name: str, dimensions: Any = None) -> None:
        if name == "GatewayAnswers":
            status = (dimensions or {}).get("status", "?")
            self.answers[status] = self.answers.get(status, 0) + 1  # the GIL makes += safe here

    def milliseconds(self, name: str, value: float) -> None:
        pass


class _NoLwa:
    def exchange(self, code: str) -> Any:
        raise AssertionError("the bench's tokens are fresh")

    refresh = exchange


def _event(sample: dict[str, Any]) -> dict[str, Any]:
    now = time.time()
    records = []
    for i in range(BATCH_SIZE):
        body = {
            **sample,
            "user_id": f"user-{i}",
            "deadline": now + 30,
            "received_at": now,
            "correlation_id": str(uuid.uuid4()),
        }
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "rh",
                "body": json.dumps(body),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:outbox",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def _variants() -> dict[str, Handler]:
    """Each way of delivering a batch; the per-record ``send`` is the handler's."""
    from aws_lambda_powertools.utilities import batch

    from skill.composition import current
    from skill.handlers.dispatcher import handler
    from skill.observability import logger

    def sender(context: Any) -> Callable[[str], tuple[str | None, str | Exception]]:
        log, outbox = logger(), current().dispatcher
        finish_by = time.time() + context.get_remaining_time_in_millis() / 1000 - 2.0

        def send(body: str) -> tuple[str | None, str | Exception]:
            message = outbox.parse(body)
            if message is None:
                return None, "unreadable"
            log.thread_safe_append_keys(correlation_id=message.correlation_id)
            try:
                return message.correlation_id, outbox.deliver(message, finish_by=finish_by).value
            except Exception as exc:  # noqa: BLE001 - reported for this record
                return message.correlation_id, exc
            finally:
                log.thread_safe_remove_keys(["correlation_id"])

        return send

    def outcome(done: tuple[str | None, str | Exception]) -> str:
        logger().set_correlation_id(done[0])
        if isinstance(done[1], Exception):
            raise done[1]
        return done[1]

    def pool_then_replay(event: dict[str, Any], context: Any) -> dict[str, Any]:
        send, records = sender(context), event["Records"]
        with ThreadPoolExecutor(BATCH_SIZE) as pool:
            results = dict(
                zip(
                    [r["messageId"] for r in records],
                    pool.map(send, [r["body"] for r in records]),
                    strict=True,
                )
            )
        processor = batch.BatchProcessor(batch.EventType.SQS, raise_on_entire_batch_failure=False)
        return dict(
            batch.process_partial_response(
                event, lambda record: outcome(results[record.message_id]), processor, context
            )
        )

    def async_to_thread(event: dict[str, Any], context: Any) -> dict[str, Any]:
        send = sender(context)

        async def deliver(record: Any) -> str:
            return outcome(await asyncio.to_thread(send, record.body))

        processor = batch.AsyncBatchProcessor(
            batch.EventType.SQS, raise_on_entire_batch_failure=False
        )
        return dict(batch.async_process_partial_response(event, deliver, processor, context))

    def async_executor(event: dict[str, Any], context: Any) -> dict[str, Any]:
        send = sender(context)
        with ThreadPoolExecutor(BATCH_SIZE) as pool:

            async def deliver(record: Any) -> str:
                loop = asyncio.get_running_loop()
                return outcome(await loop.run_in_executor(pool, send, record.body))

            processor = batch.AsyncBatchProcessor(
                batch.EventType.SQS, raise_on_entire_batch_failure=False
            )
            return dict(batch.async_process_partial_response(event, deliver, processor, context))

    return {
        "pool_then_replay": pool_then_replay,
        "async_to_thread": async_to_thread,
        "async_executor": async_executor,
        "handler": handler,
    }


def measure(batches: int, rounds: int, delay: float) -> dict[str, Any]:
    """Wall time and CPU of ``batches`` batches per variant, alternating in ``rounds``."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bulb_workbench.bench.dispatcher_batch", "--serve", str(delay)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        port = child.stdout.readline().strip()
        if not port.isdigit():
            raise RuntimeError("the stub gateway did not start")
        url = f"http://127.0.0.1:{port}"
        return _measure(url, batches, rounds, delay)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)


def _measure(url: str, batches: int, rounds: int, delay: float) -> dict[str, Any]:
    import skill.composition
    from skill.aws.gateway import GatewayClient
    from skill.delivery import Dispatcher, TokenCache
    from skill.observability import logger

    devnull = open(os.devnull, "w")  # noqa: SIM115 - the logger's stream for the whole run
    stdout, sys.stdout = sys.stdout, devnull
    try:
        logger()  # binds its stream when created: the records' logs cost as in Lambda, unread
    finally:
        sys.stdout = stdout

    meter = _Meter()

    class _Composition:
        dispatcher = Dispatcher(
            TokenCache(_Store(), _NoLwa()), GatewayClient(), lambda _region: url, meter=meter
        )

    skill.composition.use(_Composition())  # type: ignore[arg-type]  # only .dispatcher is used
    root = os.path.dirname(os.path.abspath(__file__))
    sample_path = os.path.join(root, "..", "..", "..", "..", "events", "dispatcher.sqs.json")
    with open(sample_path) as file:
        sample = json.loads(json.load(file)["Records"][0]["body"])
    variants, context = _variants(), _Context()
    for run in variants.values():  # warm: threads, connections, imports
        assert run(_event(sample), context) == {"batchItemFailures": []}
    meter.answers.clear()
    totals = {name: [0.0, 0.0] for name in variants}
    per_round = max(1, batches // rounds)
    for _ in range(rounds):
        for name, run in variants.items():
            events = [_event(sample) for _ in range(per_round)]
            wall, cpu = time.perf_counter(), time.process_time()
            for event in events:
                if run(event, context) != {"batchItemFailures": []}:
                    raise AssertionError(f"{name}: a record failed")
            totals[name][0] += time.perf_counter() - wall
            totals[name][1] += time.process_time() - cpu
            if meter.answers != {"202": per_round * BATCH_SIZE}:
                raise AssertionError(f"{name}: the gateway answered {meter.answers}")
            meter.answers.clear()
    skill.composition.use(None)
    base_wall, base_cpu = totals["pool_then_replay"]
    return {
        "batches": per_round * rounds,
        "batch_size": BATCH_SIZE,
        "gateway_ms": delay * 1000,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "variants": {
            name: {
                "wall_s": round(wall, 3),
                "cpu_s": round(cpu, 3),
                "wall_ms_per_batch": round(wall / (per_round * rounds) * 1000, 2),
                "cpu_ms_per_batch": round(cpu / (per_round * rounds) * 1000, 2),
                "wall_ratio": round(wall / base_wall, 3),
                "cpu_ratio": round(cpu / base_cpu, 3),
            }
            for name, (wall, cpu) in totals.items()
        },
    }


def render(result: dict[str, Any]) -> str:
    lines = [
        (
            f"{result['batches']} batches of {result['batch_size']} records, stub gateway "
            f"answering 202 after {result['gateway_ms']:.0f} ms (another process), python "
            f"{result['python']}, {result['cpus']} CPUs."
        ),
        "",
        "| variant | wall s | wall ms / batch | CPU s | CPU ms / batch | wall ratio | CPU ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, v in result["variants"].items():
        lines.append(
            f"| {name} | {v['wall_s']} | {v['wall_ms_per_batch']} | {v['cpu_s']} | "
            f"{v['cpu_ms_per_batch']} | {v['wall_ratio']} | {v['cpu_ratio']} |"
        )
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        _serve(float(sys.argv[2]))
        return
    result = measure(
        int(os.environ.get("DISPATCHER_BATCHES", "200")),
        int(os.environ.get("DISPATCHER_ROUNDS", "4")),
        float(os.environ.get("DISPATCHER_GATEWAY_MS", "50")) / 1000,
    )
    print(render(result))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
