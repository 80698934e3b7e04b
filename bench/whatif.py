"""The proposed cold-start fixes, measured before anyone applies them.

A copy of the precompiled Lambda-shaped tree (``bench._build``) gets each fix as a source
patch (the work tree is never touched), is recompiled, and the processor's first invocation is
measured as in ``bench.cold_start`` (fastest of at least 5 runs; each round starts
with a run of the floor, and the ratio is the median of the variant's CPU time over that round's
floor). A patch whose anchor
text is no longer in the source is reported as "not applicable" (someone changed that code).

- A ``skill/aws.py``: one ``boto3.session.Session`` for every client instead of one per client
  (a Session re-reads and re-parses botocore's endpoint and model JSON files);
- B ``skill/processors/_lambda.py``: Powertools idempotency is given that DynamoDB client
  (``boto3_client=``) instead of building its own session and client;
- C ``skill/processors/_lambda.py``: the FIFO partial-batch loop written out (about 20 lines)
  instead of ``aws_lambda_powertools.utilities.batch``, whose import pulls in the parser's
  pydantic models of every event source (~100 ms with bytecode).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench import _build
from bench._scenarios import FLOOR_CLIENTS, SECRETS, environment, first_invocation, quick_simulator_sockets
from bench._stubs import StubCloud

PATCHES: dict[str, list[tuple[str, str, str]]] = {
    "A": [(
        "skill/aws.py",
        "    return boto3.session.Session().client(service, config=config)",
        "    return _session().client(service, config=config)\n\n\n"
        "@cache\n"
        "def _session() -> Any:\n"
        "    import boto3\n\n"
        "    return boto3.session.Session()",
    )],
    "B": [(
        "skill/processors/_lambda.py",
        "    persistence = DynamoDBPersistenceLayer(table_name=config.idempotency_table)",
        "    from skill.aws import client\n\n"
        "    persistence = DynamoDBPersistenceLayer(\n"
        "        table_name=config.idempotency_table, boto3_client=client(\"dynamodb\")\n"
        "    )",
    )],
    "C": [(
        "skill/processors/_lambda.py",
        """        from aws_lambda_powertools.utilities.batch import (
            SqsFifoPartialProcessor,
            process_partial_response,
        )
""",
        "",
    ), (
        "skill/processors/_lambda.py",
        """        try:
            return process_partial_response(
                event=event,
                record_handler=record_handler,
                processor=SqsFifoPartialProcessor(skip_group_on_error=True),
                context=context,
            )
        finally:
            metrics().flush_metrics()""",
        """        try:
            return _fifo_partial_batch(event, record_handler)
        finally:
            metrics().flush_metrics()""",
    ), (
        "skill/processors/_lambda.py",
        "def make_handler(style: Style) -> Handler:",
        '''class _Record:
    def __init__(self, raw: dict[str, Any]) -> None:
        import json

        self.raw = raw
        self.json_body = json.loads(raw["body"])


def _fifo_partial_batch(event: dict[str, Any], record_handler: Any) -> dict[str, Any]:
    """SQS FIFO partial batch: a failed record fails the rest of its message group."""
    records = event.get("Records", [])
    failures: list[dict[str, str]] = []
    failed_groups: set[Any] = set()
    for raw in records:
        group = raw.get("attributes", {}).get("MessageGroupId")
        if group in failed_groups:
            failures.append({"itemIdentifier": raw["messageId"]})
            continue
        try:
            record_handler(_Record(raw))
        except Exception:
            logger().exception("record failed")
            failures.append({"itemIdentifier": raw["messageId"]})
            failed_groups.add(group)
    if records and len(failures) == len(records):
        raise RuntimeError("every record of the batch failed")
    return {"batchItemFailures": failures}


def make_handler(style: Style) -> Handler:''',
    )],
}
VARIANTS = [("as is", ""), ("A", "A"), ("A+B", "AB"), ("A+B+C", "ABC")]
MODULE = "skill.processors.sync"


def _patched_tree(source: Path, letters: str, work: Path) -> tuple[Path, list[str]]:
    tree = work / (letters or "base")
    _build._link_tree(source, tree)
    missing = []
    for letter in letters:
        for relative, anchor, replacement in PATCHES[letter]:
            path = tree / relative
            text = path.read_text()
            if anchor not in text:
                missing.append(f"{letter}: {relative}")
                continue
            path.unlink()  # a hard link to the cached tree: never write through it
            path.write_text(text.replace(anchor, replacement, 1))
            subprocess.run(_build.compile_command(os.environ.get("BENCH_WHATIF_PY", "python3.13"), str(path)),
                           check=False, capture_output=True)
    return tree, missing


def measure(log=print) -> dict[str, Any]:
    from bench.cold_start import _ok, _run_child
    from skill.local.simulator import VendorSimulator

    python = _build.find_python313()
    if python is None:
        return {"skipped": "python3.13 not found"}
    os.environ["BENCH_WHATIF_PY"] = python.path
    quick_simulator_sockets()
    _, pyc = _build.lambda_tree(python, log=log)
    reps = max(5, int(os.environ.get("BENCH_COLD_REPS", "3")))  # cheap: five runs per round
    results: dict[str, Any] = {"module": MODULE, "python": python.label, "variants": {}}
    with tempfile.TemporaryDirectory(prefix="bench-whatif-") as tmp, StubCloud(secrets=SECRETS) as cloud, \
            VendorSimulator(latency=0, transition=0.05, webhook_url=f"{cloud.url}/webhook") as sim:
        work = Path(tmp)
        env = environment(cloud, sim.url)
        trees = {}
        for name, letters in VARIANTS:
            trees[name] = _patched_tree(pyc, letters, work / "trees")
        log(f"  what-if: {len(VARIANTS)} variants x {reps} runs of {MODULE}")
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in VARIANTS}
        floors: list[dict[str, Any]] = []
        clients = FLOOR_CLIENTS[MODULE]
        for _ in range(reps):
            cloud.reset()
            floors.append(_run_child(python.path, trees["as is"][0], "pyc", env, {"floor": list(clients)}, work))
            for name, _letters in VARIANTS:
                cloud.reset()
                sim.reset()
                event, _ = first_invocation(MODULE, cloud, sim)
                result = _run_child(python.path, trees[name][0], "pyc", env, {"module": MODULE, "event": event}, work)
                if "error" not in result and not _ok(MODULE, result["answer"]):
                    result["error"] = result["answer"]
                runs[name].append(result)
        good_floors = [f for f in floors if "error" not in f]
        results["floor_cpu_ms"] = min((f["cpu_s"] * 1000 for f in good_floors), default=float("nan"))
        for name, _letters in VARIANTS:
            good = [r for r in runs[name] if "error" not in r]
            pairs = [r["cpu_s"] / f["cpu_s"] for r, f in zip(runs[name], floors)
                     if "error" not in r and "error" not in f]
            results["variants"][name] = {
                "not_applicable": trees[name][1],
                "errors": [r["error"][-300:] for r in runs[name] if "error" in r][:1],
                "total_ms": min((r["total_s"] * 1000 for r in good), default=float("nan")),
                "cpu_ms": min((r["cpu_s"] * 1000 for r in good), default=float("nan")),
                "rss_mb": min((r["maxrss_mb"] for r in good), default=float("nan")),
                "modules": min((r["modules"] for r in good), default=float("nan")),
                "ratio_cpu": statistics.median(pairs) if pairs else float("nan"),
            }
        shutil.rmtree(work / "trees", ignore_errors=True)
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=1))
