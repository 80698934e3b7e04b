"""Cold start of each Lambda handler module against the SDK floor, with and without bytecode.

Method (each number the fastest of ``BENCH_COLD_REPS`` (15) runs, every run a fresh interpreter;
python 3.13, the Lambda runtime's version, and the local python too with ``BENCH_COLD_LOCAL=1``):

- the code is a Lambda-shaped tree (``bulb_workbench.bench._build.lambda_tree``: ``pip install
  --target`` of the project, its adapters and dependencies), run by the bare interpreter with ``-S
  -P`` and ``PYTHONPATH`` = the tree, so nothing from a virtualenv or site-packages leaks in;
- ``nopyc``: the tree as ``sam build`` ships it, and ``PYTHONDONTWRITEBYTECODE=1`` (``/var/task``
  is read-only: every cold start compiles every module it imports); ``pyc``: the same tree after
  ``compileall --invalidation-mode unchecked-hash``;
- handler: the clock starts before ``import <module>`` and stops when the first ``handler(event,
  context)`` returns; I/O goes over loopback to ``bulb_workbench.bench._stubs.StubCloud`` (AWS APIs,
  gateway, LWA) and the vendor simulator at latency 0, both answering in well under a millisecond,
  so the number is the process's own work; the boto3 clients do all of theirs (no Stubber, no moto
  in the measured process: moto alone imports for longer than the floor);
- floor: ``import boto3`` and create the clients the function needs from one
  ``boto3.session.Session`` (the SDK's cheapest way), configured as ``skill.aws.client`` does;
  ``floor+calls`` also makes one call per client (botocore's first-call work: endpoint rules,
  serializer, parser), a fairer floor for a function that calls;
- dependency floor: floor + calls + importing and first using the third-party libraries the
  handler's first invocation loads (``bulb_workbench.bench._scenarios.FLOOR_DEPENDENCIES``:
  pydantic, Powertools utilities, requests), each used once as cheaply as it can be
  (``bulb_workbench.bench._floors``: ``DEPENDENCIES`` and ``FIRST_USE``: a
  log line, a metric flushed, one record through a batch, one idempotent call, one GET...);
  handler / dependency floor is what the project's own code adds. The same floor with the
  imports only (no first use) is reported beside it;
- peak RSS: ``ru_maxrss`` of the child (interpreter included); GC: CPU the garbage collector
  took (median; the handlers pause it until their first invocation has answered,
  ``skill.coldstart``, and the floors run with the interpreter's default);
- ratio: each handler run follows a run of its floor and of its dependency floor; each ratio is
  the median of those paired ratios (robust to the machine's load drifting), the times shown
  are the fastest runs.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bulb_workbench.bench import _build
from bulb_workbench.bench._floors import dependency_steps
from bulb_workbench.bench._scenarios import (
    FLOOR_CLIENTS,
    FLOOR_DEPENDENCIES,
    environment,
    first_invocation,
)
from bulb_workbench.bench._stubs import StubCloud

CHILD = Path(__file__).with_name("_cold_child.py")
#: The template's Timeout of the functions whose handler reads the time left (default 10 s).
TIMEOUTS = {"skill.handlers.sweep": 60}
MODULES = list(FLOOR_CLIENTS)
FLOORS = sorted(set(FLOOR_CLIENTS.values()))
DEPENDENCY_FLOORS = sorted({(FLOOR_CLIENTS[m], FLOOR_DEPENDENCIES[m]) for m in MODULES})
#: What each library adds, measured as a chain (SQS + DynamoDB floor with calls, then one library
#: more per step): libraries share imports (Powertools batch loads pydantic), so only the steps
#: of one chain add up.
LIBRARY_CHAIN = (
    "pydantic",
    "powertools-logger",
    "powertools-metrics",
    "requests",
    "powertools-batch",
    "powertools-idempotency",
    "powertools-event-handler",
    "powertools-parameters",
    "ask-sdk-runtime",
)
LIBRARY_CLIENTS = ("sqs", "dynamodb")


def _floor_name(clients: tuple[str, ...], calls: bool) -> str:
    return ("floor+calls:" if calls else "floor:") + ",".join(clients)


def _deps_name(clients: tuple[str, ...], deps: tuple[str, ...], use: bool) -> str:
    return ("deps:" if use else "imports:") + ",".join(clients) + "+" + ",".join(deps)


def _dependency_floor_name(module: str, use: bool = True) -> str:
    return _deps_name(FLOOR_CLIENTS[module], FLOOR_DEPENDENCIES[module], use)


def _dependency_spec(
    cloud: Any, clients: tuple[str, ...], deps: tuple[str, ...], use: bool
) -> dict[str, Any]:
    """A dependency floor's spec: what the libraries' first uses (``_cold_child.FIRST_USE``)
    work on, all of it served by ``cloud`` over loopback."""
    from bulb_workbench.bench._scenarios import access_token, jwks

    return {
        "floor": list(clients),
        "calls": True,
        "deps": dependency_steps(deps),
        "use": use,
        "queue_url": cloud.queue_url("floor"),
        "http_url": f"{cloud.url}/jwks",
        "jwks": jwks(),
        "jwt": access_token(),
        "sqs_record": {
            "messageId": "c0ffee00-0000-4000-8000-000000000001",
            "receiptHandle": "floor",
            "body": "{}",
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:floor",
            "awsRegion": "us-east-1",
        },
        "http_event": {
            "version": "2.0",
            "routeKey": "POST /floor",
            "rawPath": "/floor",
            "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "requestContext": {
                "http": {"method": "POST", "path": "/floor", "sourceIp": "127.0.0.1"},
                "stage": "$default",
            },
            "body": "{}",
            "isBase64Encoded": False,
        },
    }


def _run_child(
    python: str,
    tree: Path,
    mode: str,
    env: dict[str, str],
    spec: dict[str, Any],
    work: Path,
    importtime: bool = False,
) -> dict[str, Any]:
    spec_file = work / "spec.json"
    out_file = work / "out.json"
    out_file.unlink(missing_ok=True)
    spec_file.write_text(json.dumps({**spec, "out": str(out_file)}))
    child_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        # as Lambda's runtime sets it: the handlers pause the collector in Lambda only
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        **env,
        "PYTHONPATH": str(tree),
    }
    if mode == "nopyc":
        child_env["PYTHONDONTWRITEBYTECODE"] = "1"
    args = (
        [python, "-S", "-P"]
        + (["-X", "importtime"] if importtime else [])
        + [str(CHILD), str(spec_file)]
    )
    proc = subprocess.run(
        args,
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0 or not out_file.exists():
        return {"error": proc.stderr[-2000:]}
    result = json.loads(out_file.read_text())
    if importtime:
        result["importtime"] = proc.stderr
    return result


def _ok(module: str, answer: str) -> bool:
    if module == "skill.handlers.entrypoint":
        return "DeferredResponse" in answer
    if module == "skill.handlers.notifications":
        return '"statusCode": 200' in answer
    if module == "skill.handlers.sweep_scheduler":
        return '"accounts": 1' in answer
    return '"batchItemFailures": []' in answer


def importtime_by_package(stderr: str) -> list[tuple[str, float]]:
    """Self import time (ms) summed per top-level package, largest first."""
    totals: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = (p.strip() for p in line[len("import time:") :].split("|"))
        top = name.strip().split(".")[0]
        totals[top] = totals.get(top, 0.0) + int(self_us) / 1000
    return sorted(totals.items(), key=lambda kv: kv[1], reverse=True)


def measure(reps: int | None = None, log=print) -> dict[str, Any]:
    from bulb_workbench.bench._scenarios import quick_simulator_sockets
    from bulb_workbench.local.simulator import VendorSimulator

    quick_simulator_sockets()
    # 15: the goal's ratio is a median of paired runs, and 7 pairs left it +-4 % on this machine
    reps = reps or int(os.environ.get("BENCH_COLD_REPS", "15"))
    interpreters = []
    py313 = _build.find_python313()
    if py313 is not None:
        interpreters.append(py313)
    current = _build.current_python()
    # the local interpreter too when there is no 3.13, or when asked (BENCH_COLD_LOCAL=1)
    if (not py313 or os.environ.get("BENCH_COLD_LOCAL") == "1") and (
        not py313 or current.label != py313.label
    ):
        interpreters.append(current)
    results: dict[str, Any] = {"reps": reps, "interpreters": {}, "scenarios": {}}
    from bulb_workbench.bench._scenarios import jwks

    with (
        StubCloud(secrets=_secrets(), jwks=jwks()) as cloud,
        tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp,
    ):
        work = Path(tmp)
        with VendorSimulator(latency=0, transition=0.05, webhook_url=f"{cloud.url}/webhook") as sim:
            env = environment(cloud, sim.url)
            for python in interpreters:
                nopyc, pyc = _build.lambda_tree(python, log=log)
                # python 3.11 is only the local interpreter: fewer runs there
                n = reps if python is py313 or py313 is None else max(2, reps // 2)
                per: dict[str, dict[str, list[dict[str, Any]]]] = {}
                for mode, tree in (("nopyc", nopyc), ("pyc", pyc)):
                    log(
                        f"  cold start python {python.label} {mode}: {n} runs x "
                        f"{3 * len(MODULES) + len(FLOORS) + len(DEPENDENCY_FLOORS)} targets"
                    )
                    runs: dict[str, list[dict[str, Any]]] = {}
                    for _ in range(n):
                        for clients in FLOORS:
                            cloud.reset()
                            spec = {
                                "floor": list(clients),
                                "calls": True,
                                "queue_url": cloud.queue_url("floor"),
                            }
                            runs.setdefault(_floor_name(clients, True), []).append(
                                _run_child(python.path, tree, mode, env, spec, work)
                            )
                        # the dependency floors with their imports only (the first-use ones
                        # run paired with their handlers, below)
                        for clients, deps in DEPENDENCY_FLOORS:
                            cloud.reset()
                            runs.setdefault(_deps_name(clients, deps, False), []).append(
                                _run_child(
                                    python.path,
                                    tree,
                                    mode,
                                    env,
                                    _dependency_spec(cloud, clients, deps, False),
                                    work,
                                )
                            )
                        for module in MODULES:
                            # the floor right before the handler: a ratio of neighbours in time
                            # is robust to the machine's load drifting during the run
                            clients = FLOOR_CLIENTS[module]
                            cloud.reset()
                            floor = _run_child(
                                python.path, tree, mode, env, {"floor": list(clients)}, work
                            )
                            runs.setdefault(_floor_name(clients, False), []).append(floor)
                            runs.setdefault("pair:" + module, []).append(floor)
                            # and its dependency floor: the goal's ratio is paired the same way
                            cloud.reset()
                            deps_floor = _run_child(
                                python.path,
                                tree,
                                mode,
                                env,
                                _dependency_spec(cloud, clients, FLOOR_DEPENDENCIES[module], True),
                                work,
                            )
                            runs.setdefault(_dependency_floor_name(module), []).append(deps_floor)
                            runs.setdefault("deps-pair:" + module, []).append(deps_floor)
                            cloud.reset()
                            sim.reset()
                            event, what = first_invocation(module, cloud, sim)
                            results["scenarios"][module] = what
                            result = _run_child(
                                python.path,
                                tree,
                                mode,
                                env,
                                {
                                    "module": module,
                                    "event": event,
                                    "timeout_s": TIMEOUTS.get(module, 10),
                                },
                                work,
                            )
                            if "error" not in result and not _ok(module, result["answer"]):
                                result["error"] = "unexpected answer: " + result["answer"]
                            runs.setdefault(module, []).append(result)
                    per[mode] = runs
                results.setdefault("libraries", {})[python.label] = _library_chain(
                    python.path, pyc, env, cloud, work, n, log
                )
                # import-time evidence: the entrypoint and a processor, no bytecode
                evidence = {}
                for module in (
                    "skill.handlers.entrypoint",
                    "skill.handlers.processors.sync",
                    "skill.handlers.dispatcher",
                ):
                    cloud.reset()
                    sim.reset()
                    event, _ = first_invocation(module, cloud, sim)
                    traced = _run_child(
                        python.path,
                        nopyc,
                        "nopyc",
                        env,
                        {"module": module, "event": event},
                        work,
                        importtime=True,
                    )
                    if "importtime" in traced:
                        evidence[module] = importtime_by_package(traced.pop("importtime"))[:12]
                results["interpreters"][python.label] = {
                    "path": python.path,
                    "runs": per,
                    "summary": _summarise(per),
                    "importtime": evidence,
                }
    return results


def _library_chain(
    python: str,
    tree: Path,
    env: dict[str, str],
    cloud: Any,
    work: Path,
    reps: int,
    log: Callable[[str], object] = print,
) -> list[dict[str, Any]]:
    """CPU ms each library of ``LIBRARY_CHAIN`` adds to the SDK floor (with .pyc), the garbage
    collector's time left out. Each rep runs
    every step back to back; a step adds the median of its difference with the step before it
    in the same rep (paired, as the handlers' ratios: single runs of a shared machine drift by
    more than a small library costs)."""
    steps = len(LIBRARY_CHAIN) + 1
    runs: list[list[float]] = []
    for _ in range(reps):
        rep: list[float] = []
        for k in range(steps):
            cloud.reset()
            spec = {
                "floor": list(LIBRARY_CLIENTS),
                "calls": True,
                "deps": dependency_steps(LIBRARY_CHAIN[:k]),
                "queue_url": cloud.queue_url("floor"),
            }
            result = _run_child(python, tree, "pyc", env, spec, work)
            if "error" in result:
                log(f"  library chain step {k} failed: {result['error'][-500:]}")
                break
            # without the collector's passes: where a pass falls depends on every allocation
            # before it, so it lands in one step or the next and swamps a small library
            rep.append((result["cpu_s"] - result.get("gc_s", 0.0)) * 1000)
        if len(rep) == steps:  # a rep with a failed step pairs nothing
            runs.append(rep)
    if not runs:
        return []
    cpu = [statistics.median(r[k] for r in runs) for k in range(steps)]
    adds = [cpu[0]] + [statistics.median(r[k] - r[k - 1] for r in runs) for k in range(1, steps)]
    names = ["(floor+calls:" + ",".join(LIBRARY_CLIENTS) + ")", *LIBRARY_CHAIN]
    return [
        {"library": name, "cpu_ms": cpu[k], "adds_ms": adds[k], "reps": len(runs)}
        for k, name in enumerate(names)
    ]


def _secrets() -> dict[str, str]:
    from bulb_workbench.bench._scenarios import SECRETS

    return SECRETS


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _best(values: list[float]) -> float:
    """The fastest run: on a shared machine other processes only ever add time."""
    return min(values) if values else float("nan")


def _summarise(per: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for mode, runs in per.items():
        rows: dict[str, Any] = {}
        for name, results in runs.items():
            if name.startswith(("pair:", "deps-pair:")):
                continue
            good = [r for r in results if "error" not in r]
            errors = [r["error"] for r in results if "error" in r]
            rows[name] = {
                "n": len(good),
                "errors": errors[:1],
                "import_ms": _best([r["import_s"] * 1000 for r in good]),
                "first_ms": _best([r["first_s"] * 1000 for r in good]),
                "total_ms": _best([r["total_s"] * 1000 for r in good]),
                "cpu_ms": _best([r["cpu_s"] * 1000 for r in good]),
                "rss_mb": _best([r["maxrss_mb"] for r in good]),
                "modules": _best([r["modules"] for r in good]),
                "gc_ms": _median([r.get("gc_s", 0.0) * 1000 for r in good]),
            }
        for module in MODULES:
            row = rows.get(module)
            if not row:
                continue
            clients = FLOOR_CLIENTS[module]
            floor = rows[_floor_name(clients, False)]
            floor_calls = rows[_floor_name(clients, True)]
            pairs = [
                (h, f)
                for h, f in zip(runs.get(module, []), runs.get("pair:" + module, []), strict=False)
                if "error" not in h and "error" not in f
            ]
            row["floor"] = _floor_name(clients, False)
            row["floor_ms"] = floor["total_ms"]
            row["floor_cpu_ms"] = floor["cpu_ms"]
            row["floor_calls_ms"] = floor_calls["total_ms"]
            row["floor_rss_mb"] = floor["rss_mb"]
            # the median of the ratios of each handler run to the floor run just before it
            row["ratio"] = _median([h["total_s"] / f["total_s"] for h, f in pairs])
            row["ratio_cpu"] = _median([h["cpu_s"] / f["cpu_s"] for h, f in pairs])
            row["ratio_calls"] = row["total_ms"] / floor_calls["total_ms"]
            deps = rows.get(_dependency_floor_name(module))
            if deps and deps["n"]:
                row["deps_floor"] = _dependency_floor_name(module)
                row["deps_floor_ms"] = deps["total_ms"]
                row["deps_floor_cpu_ms"] = deps["cpu_ms"]
                row["deps_floor_gc_ms"] = deps["gc_ms"]
                # the median of the ratios of each handler run to the dependency floor run just
                # before it; the fastest runs' ratio beside it
                row["ratio_deps_cpu"] = _median(
                    [
                        h["cpu_s"] / f["cpu_s"]
                        for h, f in zip(
                            runs.get(module, []), runs.get("deps-pair:" + module, []), strict=False
                        )
                        if "error" not in h and "error" not in f
                    ]
                )
                row["ratio_deps_cpu_fastest"] = row["cpu_ms"] / deps["cpu_ms"]
            imports = rows.get(_dependency_floor_name(module, use=False))
            if imports and imports["n"]:
                row["imports_floor_cpu_ms"] = imports["cpu_ms"]
                row["ratio_imports_cpu"] = row["cpu_ms"] / imports["cpu_ms"]
        summary[mode] = rows
    return summary


def main() -> None:
    started = time.monotonic()
    results = measure()
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    text = json.dumps(results, indent=1, default=str)
    if out:
        out.write_text(text)
    else:
        print(text)
    print(f"cold start done in {time.monotonic() - started:.0f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
