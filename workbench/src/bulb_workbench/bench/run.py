"""``make bench``: every benchmark, a table on stdout, ``docs/benchmarks.md`` written.

Run from the repository root with the project's virtualenv: ``python -m bulb_workbench.bench.run``.
Sections (each a ratio against a baseline measured in the same run):

1. cold start per handler module vs the boto3 floor, with and without bytecode (``cold_start``);
2. warm CPU per directive vs plain dicts (``warm``, under python 3.13 and the local python);
3. end-to-end latency in the local stack (``e2e``; "not measured" until the stack lands);
4. requests counted per directive and the monthly cost model (``cost``, ``_model``);
5. what precompiled bytecode costs to build and ship (``_build.compile_command``).

``python -m bulb_workbench.bench.run --render`` rewrites the doc from the last run's raw results (in
the temp directory) without measuring again. Environment knobs: ``BENCH_COLD_REPS`` (15),
``BENCH_COLD_LOCAL`` (1: also python 3.11), ``BENCH_WARM_SECONDS`` (0.6), ``BENCH_COST_DIRECTIVES``
(4), ``BENCH_E2E_DIRECTIVES`` (15), ``BENCH_E2E_LATENCIES`` (0,0.15), ``BENCH_ONLY``
(comma-separated sections: cold,warm,e2e,cost,bytecode,scale; ``scale``: the sweep over
``SCALE_ACCOUNTS`` simulated accounts for a virtual day,
``workbench/src/bulb_workbench/bench/scale.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bulb_workbench.bench import _build, _chain, _model

ROOT = Path(__file__).resolve().parents[4]  # the checkout (workbench/src/bulb_workbench/bench)
DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "bench" / "results.json"  # the figures, as data, where operators look for them
HERE = Path(__file__).resolve().parent


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


#: A run of every section writes the docs and the figures; the scale run is about 15 minutes of it.
ALL_SECTIONS = ("cold", "warm", "e2e", "cost", "bytecode", "scale")


def _only() -> set[str]:
    value = os.environ.get("BENCH_ONLY", "")
    return {s.strip() for s in value.split(",") if s.strip()} or set(ALL_SECTIONS)


# -- the machine ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    from importlib.metadata import version

    versions = {}
    for dist in (
        "boto3",
        "botocore",
        "pydantic",
        "aws-lambda-powertools",
        "ask-sdk-runtime",
        "requests",
    ):
        try:
            versions[dist] = version(dist)
        except Exception:  # noqa: BLE001 - an absent or broken distribution is shown as "?"
            versions[dist] = "?"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = bool(
        subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    )
    py313 = _build.find_python313()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "kernel": platform.release(),
        "python_local": platform.python_version(),
        "python313": py313.label if py313 else None,
        "python313_path": py313.path if py313 else None,
        "packages": versions,
        "commit": commit + ("+uncommitted src changes" if dirty else ""),
        "load_before": os.getloadavg(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


# -- sections ------------------------------------------------------------------------------------


def _script(
    python: str, script: str, env: dict[str, str] | None = None, timeout: int = 900
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = Path(out.name)
    try:
        proc = subprocess.run(
            [python, *([] if env is None else ["-S", "-P"]), str(HERE / script), str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            check=False,
        )
        if proc.returncode != 0:
            return {"error": proc.stderr[-3000:]}
        return json.loads(path.read_text())
    finally:
        path.unlink(missing_ok=True)


def warm_all() -> dict[str, Any]:
    results: dict[str, Any] = {}
    py313 = _build.find_python313()
    if py313 is not None:
        _, pyc = _build.lambda_tree(py313, log=log)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": f"{pyc}:{ROOT}",
            "LANG": "C.UTF-8",
            "POWERTOOLS_SERVICE_NAME": "bulb-skill",
            "POWERTOOLS_METRICS_NAMESPACE": "BulbSkill",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            **(
                {"BENCH_WARM_SECONDS": os.environ["BENCH_WARM_SECONDS"]}
                if "BENCH_WARM_SECONDS" in os.environ
                else {}
            ),
        }
        log(f"  warm: python {py313.label}")
        results[py313.label] = _script(py313.path, "warm.py", env)
    local = platform.python_version()
    if local not in results:
        log(f"  warm: python {local}")
        results[local] = _script(sys.executable, "warm.py")
    return results


def bytecode() -> dict[str, Any]:
    """What the proposed build step costs: compile time and the size it adds to the bundle."""
    py313 = _build.find_python313() or _build.current_python()
    nopyc, _ = _build.lambda_tree(py313, log=log)
    with tempfile.TemporaryDirectory(prefix="bench-pyc-") as tmp:
        tree = Path(tmp) / "task"
        shutil.copytree(nopyc, tree)
        before = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
        command = _build.compile_command(py313.path, str(tree))
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        after = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
        pycs = list(tree.rglob("*.pyc"))
        zipped = {}
        for name, root in (("nopyc", nopyc), ("pyc", tree)):
            archive = shutil.make_archive(str(Path(tmp) / name), "zip", root)
            zipped[name] = Path(archive).stat().st_size
    return {
        "python": py313.label,
        "command": " ".join(["python3.13", *command[1:-1], ".aws-sam/build/<Function>"]),
        "seconds": seconds,
        "ok": proc.returncode == 0,
        "pyc_files": len(pycs),
        "unzipped_mb": (before / 1e6, after / 1e6),
        "zipped_mb": (zipped["nopyc"] / 1e6, zipped["pyc"] / 1e6),
    }


# -- the report ----------------------------------------------------------------------------------


def _f(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if value != value:  # nan
            return "–"
        return f"{value:,.{digits}f}"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render(m: dict[str, Any], r: dict[str, Any]) -> str:
    _model.MEMORY_MB.update(_chain.template_memory())  # the model's bill at the template's sizes
    out: list[str] = []
    add = out.append
    add("# Benchmarks\n")
    add(
        "Generated by `make bench` (`workbench/src/bulb_workbench/bench/run.py`); do not edit by "
        "hand. Every figure is a ratio against a baseline measured in the same run, on the same "
        "machine.\n"
    )
    add(
        f"**Machine**: {m['cpu']}, {m['cores']} cores, {m['memory']}, Linux {m['kernel']}; python "
        f"{m['python313'] or '3.13 not found'} (the Lambda runtime's version) and "
        f"{m['python_local']} (local); "
        + ", ".join(f"{k} {v}" for k, v in m["packages"].items())
        + f". Commit {m['commit']}, {m['date']}. Load average before/after: "
        f"{'/'.join(f'{x:.1f}' for x in m['load_before'])} → "
        f"{'/'.join(f'{x:.1f}' for x in m.get('load_after', (0, 0, 0)))} (a shared machine: wall "
        "times carry other processes' noise, CPU times much less).\n"
    )
    add(
        f"Run it: `make bench` (this run took {m.get('seconds', 0) / 60:.1f} min; the first run on "
        "a machine also installs the dependencies for python 3.13 under /tmp/bulb-bench, about a "
        "minute). Knobs: `BENCH_COLD_REPS`, `BENCH_COLD_LOCAL=1` (cold start under the local "
        "python too), `BENCH_WARM_SECONDS`, `BENCH_COST_DIRECTIVES`, `BENCH_E2E_DIRECTIVES`, "
        "`BENCH_E2E_LATENCIES`, `BENCH_ONLY=cold,warm,...` (a partial run leaves this file alone); "
        "`python -m bulb_workbench.bench.run --render` rewrites it from the last run's raw "
        "results.\n"
    )

    cold = r.get("cold")
    if cold:
        add("## 1. Cold start per handler module\n")
        add(_cold_method(cold))
        for label, data in cold["interpreters"].items():
            add(f"### python {label}\n")
            add(_cold_table(data["summary"]))
            add("")
            if data.get("importtime"):
                add(
                    f"Where the import time goes (python {label}, no .pyc, `-X importtime` self "
                    "time summed per top-level package, ms, one run):\n"
                )
                rows = []
                for module, packages in data["importtime"].items():
                    rows.append([f"`{module}`", ", ".join(f"{p} {t:.0f}" for p, t in packages[:9])])
                add(_table(["handler (first invocation)", "package: ms"], rows))
                add("")
    if cold and cold.get("libraries"):
        add(_libraries_section(cold))
    if r.get("bytecode"):
        add(_bytecode_section(r["bytecode"], cold))
    warm = r.get("warm")
    if warm:
        add("## 2. Warm CPU per directive\n")
        add(
            "`time.process_time()` per directive after 30 warm-up runs, for at least "
            f"{next(iter(warm.values())).get('seconds', '?')} s of CPU per case; I/O stubbed by "
            "`tests/fakes.py` (the entrypoint case goes through "
            "`skill.handlers.entrypoint.handler` with its router wired to the fakes, so Powertools "
            "logging is included; the pipeline cases run `QueuedDirective.model_validate_json` + "
            "`Pipeline.process`; the dispatcher case `Dispatcher.parse` + `deliver` with a fake "
            "gateway). Baseline: the same answers built as plain dicts with `json` and nothing "
            "else (`workbench/src/bulb_workbench/bench/warm.py:_Baseline`; for the entrypoint "
            "cases the answer's shape is checked key by key against the project's).\n"
        )
        add(_warm_table(warm))
        add("")
    e2e = r.get("e2e")
    if e2e:
        add("## 3. End-to-end latency in the local stack\n")
        if not e2e.get("measured"):
            add(f"**Not measured.** {e2e.get('reason', e2e.get('error', ''))}\n")
            add(
                "`workbench/src/bulb_workbench/bench/e2e.py` sends SetBrightness directives "
                "through `LocalStack.invoke` and times them to `wait_for_answer` (the gateway's "
                "202) per style, at vendor latency 0 and 0.15 s, and reports p50/p95/p99.\n"
            )
        else:
            rows = []
            for latency, styles in e2e["latencies"].items():
                for style, s in styles.items():
                    rows.append(
                        [
                            latency,
                            style,
                            s["n"],
                            s["failures"],
                            _f(s["p50"]),
                            _f(s["p95"]),
                            _f(s["p99"]),
                            _f(s["max"]),
                        ]
                    )
                    if "overhead" in s:
                        o = s["overhead"]
                        rows.append(
                            [
                                latency,
                                f"{style}: overhead (less {_scheduled(s)} scheduled)",
                                s["n"],
                                s["failures"],
                                _f(o["p50"]),
                                _f(o["p95"]),
                                _f(o["p99"]),
                                _f(o["max"]),
                            ]
                        )
            add(
                _table(
                    [
                        "vendor latency s",
                        "style",
                        "n",
                        "failures",
                        "p50 ms",
                        "p95 ms",
                        "p99 ms",
                        "max ms",
                    ],
                    rows,
                )
            )
            add("")
            own = []
            for style, data in ((r.get("cost") or {}).get("styles") or {}).items():
                fn = data["warm"]["functions"]
                parts = " + ".join(f"{k} {f['wall_ms']:.0f}" for k, f in fn.items())
                own.append(f"{style} {sum(f['wall_ms'] for f in fn.values()):.0f} ms ({parts})")
            add(
                "How to read it: `workbench/src/bulb_workbench/bench/e2e.py` drives "
                "`bulb_workbench.local.stack.LocalStack` (moto's server over HTTP, "
                "pollers that short-poll each queue every 50 ms, the fake gateway validating every "
                "event against "
                "the schema; its HTTP servers set `TCP_NODELAY`), so these times include the local "
                "stack's own "
                "hops, which Lambda's event source mappings and AWS's APIs replace. At vendor "
                "latency 0 the bulb's "
                "transition is 0 too. A polling directive's latency includes its poll ticket's "
                "scheduled SQS "
                "delay (`poll_delay` in `skill.pipeline._styles`: the adapter's "
                "`poll_interval_seconds`, at least 1 s), the vendor's "
                "rate limit by design, not the project's overhead: its overhead row is each "
                "directive's latency "
                "less the delays the pipeline scheduled for it (recorded from "
                "`SqsPollQueue.schedule`). The "
                "handlers' own warm time per directive, measured in section 4 against the "
                "in-process stub cloud, "
                "is: " + ("; ".join(own) if own else "–") + ".\n"
            )
            verdicts = _goal(e2e["latencies"].get("0", {}))
            if verdicts:
                add(
                    "Goal (issue 7): the project's own end-to-end overhead at vendor latency 0, "
                    "p99 under 250 ms, in the local stack (the overhead for polling, the latency "
                    "for the other styles): "
                    + "; ".join(verdicts)
                    + ". With nothing but the handlers' own time (above) every style "
                    "meets it.\n"
                )
    cost = r.get("cost")
    if cost and "styles" in cost:
        add(_cost_section(cost))
    chain = _chain_section(r)
    if chain:
        add(chain)
    if r.get("scale"):
        from bulb_workbench.bench import scale

        add("## 7. Scale run: the sweep over simulated accounts for a virtual day\n")
        add(scale.markdown(scale.results(r)) + "\n")
    add(_findings(r))
    # measured apart (``python -m bulb_workbench.bench.dispatcher_batch``), kept by hand
    add((HERE / "dispatcher_batch.md").read_text())
    return "\n".join(out) + "\n"


def _scheduled(s: dict[str, Any]) -> str:
    """The scheduled poll delays of a style's directives, e.g. "1 s" (several when they varied)."""
    return "/".join(f"{d:g}" for d in s.get("scheduled_s", [])) + " s"


def _goal(zero: dict[str, Any]) -> list[str]:
    """The end-to-end goal per style at vendor latency 0: p99 under 250 ms of the project's own
    time, which for polling is the overhead (its scheduled poll delay is the vendor's rate limit).
    """
    verdicts = []
    for style in ("sync", "optimistic", "async", "polling"):
        if style not in zero:
            continue
        s = zero[style]
        p99, what = (s["overhead"]["p99"], "overhead p99") if "overhead" in s else (s["p99"], "p99")
        verdicts.append(f"{style} {what} {_f(p99)} ms ({'met' if p99 < 250 else 'not met'})")
    return verdicts


def _findings(r: dict[str, Any]) -> str:
    """What the numbers above say, ranked by what fixing it gains (numbers from this run)."""
    lines = [
        "## Findings and fixes, ranked by gain\n",
        (
            "Written by `workbench/src/bulb_workbench/bench/run.py:_findings` from this run's "
            "numbers; file and line references are to the code as measured.\n"
        ),
    ]
    cost, cold = r.get("cost") or {}, r.get("cold") or {}
    n = 1
    if "styles" in cost:
        a = _chain.measured_assumptions(r)
        small, large = _model.monthly(cost, 10_000, a), _model.monthly(cost, 1_000_000, a)
        sweep_share = _model.sweep_total(large) / large["total"]
        per_read = cost.get("sweep_user_3_bulbs", {}).get("per_directive", {}).get("requests", {})
        lines.append(
            f"{n}. **The sweep is {sweep_share:.0%} of the monthly bill** "
            f"(${small['total']:,.0f}/month at 10k users, ${large['total']:,.0f} at 1M, "
            f"${large['total'] / 1_000_000:.4f} per user and month; everything else together "
            f"${(large['total'] - _model.sweep_total(large)) / 1_000_000:.4f}). An unchanged "
            "account costs its vendor calls and, counted: "
            f"{', '.join(f'{k} {v:g}' for k, v in per_read.items()) or 'no AWS request'} per read "
            "(no write); one worker invocation could read about "
            f"{_model.sweep_accounts_per_invocation(a):.0f} accounts within 55 s. What is left to "
            "gain is the cadence (docs/scale.md), not the read.\n"
        )
        n += 1
    verdict = _cold_verdict(cold)
    if verdict:
        lines.append(f"{n}. {verdict}\n")
        n += 1
    b = r.get("bytecode") or {}
    if b:
        lines.append(
            f"{n}. **Ship precompiled bytecode** (2–3× faster cold starts, section 5). "
            "`infra/lambda/bundle.py` (the makefile build that `sam build` runs) already compiles "
            "the bundle "
            "with python 3.13, `unchecked-hash` and `ddir=/var/task`; for any function built the "
            "default way "
            f"(`BuildMethod` python3.13), add after `sam build`: `{b.get('command')}` "
            "(e.g. in the Makefile's `build` target: `for d in .aws-sam/build/*Function*/; do "
            "$(PYTHON313) -m "
            'compileall -q -j 0 --invalidation-mode unchecked-hash "$$d"; done`).\n'
        )
        n += 1
    warm = r.get("warm") or {}
    label = next((k for k, v in warm.items() if isinstance(v, dict) and "cases" in v), None)
    if label:
        c = warm[label]["cases"]
        d = c.get("Discover (300 endpoints)", {})
        ctl = c.get("control (SetBrightness -> queue)", {})
        lines.append(
            f"{n}. **Warm CPU is not where the time goes**: a control directive costs "
            f"{_f(ctl.get('project', {}).get('us'), 0)} µs in the entrypoint "
            f"({_f(ctl.get('baseline', {}).get('us'), 1)} µs as plain dicts), Discover of 300 "
            f"endpoints {_f(d.get('project', {}).get('us', 0) / 1000, 1)} ms; the ratios "
            "(validation, ask-sdk routing, JSON logging) are large but the absolute cost is a "
            "fraction of one AWS call. No change proposed; the per-directive cost is in the AWS "
            "calls (idempotency is 2 of the 3 DynamoDB writes of a sync directive).\n"
        )
        n += 1
    lwa = cost.get("lwa", {})
    if "lwa_calls" in lwa:
        lines.append(
            f"{n}. LWA: {lwa['lwa_calls']} call for {lwa['events']} events of one user in a fresh "
            "container: the token cache holds.\n"
        )
    return "\n".join(lines)


def _cold_method(cold: dict[str, Any]) -> str:
    scenarios = "; ".join(f"`{k}`: {v}" for k, v in cold.get("scenarios", {}).items())
    return (
        "A fresh interpreter per run (`workbench/src/bulb_workbench/bench/_cold_child.py`), the "
        f"fastest of {cold['reps']} runs for each figure (on a shared machine other processes only "
        "add time). The code is a Lambda-shaped tree (`pip install --target` of the project, its "
        "adapters and dependencies; `workbench/src/bulb_workbench/bench/_build.py`) run with "
        "`python -S -P` and `PYTHONPATH` = the tree. **no .pyc**: the tree as `sam build` ships it "
        "and `PYTHONDONTWRITEBYTECODE=1` (`/var/task` is read-only: every cold start compiles "
        "every module it imports); **.pyc**: the same tree after `compileall --invalidation-mode "
        "unchecked-hash`. The clock runs from before `import <handler module>` to the return of "
        "the first `handler(event, context)`. I/O is stubbed over loopback by "
        "`workbench/src/bulb_workbench/bench/_stubs.py` (SQS, DynamoDB, Secrets Manager, gateway, "
        "LWA; TCP_NODELAY, answers in well under 1 ms) and the vendor simulator at latency 0: the "
        "handler's boto3 clients do all their own work (no botocore Stubber to attach, no moto in "
        "the measured process: importing moto alone costs more than the floor). **floor**: `import "
        "boto3` + the clients the function needs, created from one `boto3.session.Session` with "
        "`skill.aws.client`'s `Config` (as `skill.aws` does); **floor+calls**: plus one call per "
        "client (botocore's first-call work: endpoint rules, serializer, parser). Ratio = handler "
        "/ floor; goal ≤ 1.2. **dependency floor**: floor+calls plus the third-party libraries the "
        "handler's first invocation loads (`workbench/src/bulb_workbench/bench/_scenarios.py` "
        "`FLOOR_DEPENDENCIES`, read off `sys.modules`), each imported and used once as cheaply "
        "as it can be (`workbench/src/bulb_workbench/bench/_floors.py`: a log line, a metric "
        "flushed, one SQS record through a batch, one idempotent call with its DynamoDB put and "
        "update, one GET, one request dispatched, one RS256 token verified, one route resolved, "
        "one secret read, one cache entry); handler / dependency floor (CPU) is what the "
        "project's own code adds. The same floor with the imports only is shown beside it. "
        "**cpu** = user+sys CPU of the child (robust to the machine's other load); RSS = "
        "`ru_maxrss`, interpreter included. Each handler run comes right after a run of its floor "
        "and one of its dependency floor; **ratio** and **vs dependency floor** are the medians of "
        "these paired ratios (robust to the load of a shared machine drifting during the run), "
        f"the times are the fastest runs.\n\nFirst invocations: {scenarios}.\n"
    )


def _cold_table(summary: dict[str, Any]) -> str:
    rows = []
    nopyc, pyc = summary.get("nopyc", {}), summary.get("pyc", {})
    for module, row in pyc.items():
        if not module.startswith("skill."):
            continue
        n = nopyc.get(module, {})
        flag = "" if row.get("ratio", 99) <= 1.2 else " ✗"
        err = f" (errors: {row['errors'][0][:80]})" if row.get("errors") else ""
        rows.append(
            [
                f"`{module}`{err}",
                f"{_f(n.get('total_ms'))} ({_f(n.get('cpu_ms'))})",
                f"{_f(n.get('floor_ms'))}",
                _f(n.get("ratio"), 2),
                f"{_f(row['total_ms'])} ({_f(row['cpu_ms'])})",
                f"{_f(row['floor_ms'])}",
                f"**{_f(row['ratio'], 2)}**{flag}",
                _f(row.get("ratio_cpu"), 2),
                _f(row["ratio_calls"], 2),
                _f(row.get("deps_floor_cpu_ms")),
                _f(row.get("ratio_deps_cpu"), 2),
                _f(row.get("ratio_imports_cpu"), 2),
                f"{_f(row.get('deps_floor_gc_ms'))} → {_f(row.get('gc_ms'))}",
                f"{_f(row['rss_mb'])} ({_f(row['floor_rss_mb'])})",
            ]
        )
    header = [
        "handler",
        "no .pyc: ms (cpu)",
        "floor ms",
        "ratio",
        ".pyc: ms (cpu)",
        "floor ms",
        "ratio (wall)",
        "ratio (cpu)",
        "vs floor+calls",
        "dependency floor cpu ms",
        "vs dependency floor (cpu)",
        "vs its imports only (cpu)",
        "GC ms: dependency floor → handler",
        "peak RSS MB (floor)",
    ]
    floors = [
        [
            f"`{k}`",
            f"{_f(nopyc.get(k, {}).get('total_ms'))} ({_f(nopyc.get(k, {}).get('cpu_ms'))})",
            f"{_f(v['total_ms'])} ({_f(v['cpu_ms'])})",
            _f(v["rss_mb"]),
        ]
        for k, v in sorted(pyc.items())
        if k.startswith(("floor", "deps:", "imports:"))
    ]
    return (
        _table(header, rows)
        + "\n\nFloors: \n\n"
        + _table(["floor", "no .pyc ms (cpu)", ".pyc ms (cpu)", "peak RSS MB"], floors)
    )


def _libraries_section(cold: dict[str, Any]) -> str:
    """What each third-party library adds to a cold start, one step of a chain at a time."""
    out = [
        "### What the libraries cost\n",
        (
            "Each step adds one library to the one before it, starting from `import boto3` + SQS "
            "and DynamoDB clients with one call each (.pyc, the garbage collector's time left "
            "out: where its passes fall moves with every allocation before them; each rep runs "
            "every step back to back: cpu ms is a step's median over the reps, adds ms the median "
            "of its difference with the step before it in the same rep; "
            "`workbench/src/bulb_workbench/bench/_floors.py` `DEPENDENCIES` says how each is "
            "used: imported, and its main object created once; for pydantic one model defined and "
            "validated). Libraries share imports, so a step shows what that library adds to those "
            "before it; a step of a few ms either way is within the noise of a shared machine.\n"
        ),
    ]
    for label, chain in cold["libraries"].items():
        if not chain:
            out.append(f"python {label}: no rep ran every step (the bench's log says why).\n")
            continue
        base = chain[0]["cpu_ms"]
        rows = [
            [
                f"`{c['library']}`",
                _f(c["cpu_ms"]),
                _f(c["adds_ms"]),
                _f(c["adds_ms"] / base, 2) if i else "1.00",
            ]
            for i, c in enumerate(chain)
        ]
        out.append(f"python {label}:\n")
        out.append(_table(["step", "cpu ms", "adds ms", "adds × floor"], rows))
        out.append("")
    return "\n".join(out)


def _with_collector(row: dict[str, Any]) -> float:
    """A handler's ratio to its dependency floor had its collector taken the floor's time
    (not paused for the cold start, ``skill.coldstart``)."""
    gc_added = row.get("deps_floor_gc_ms", 0.0) - row.get("gc_ms", 0.0)
    return float(row["ratio_deps_cpu"] * (row["cpu_ms"] + gc_added) / row["cpu_ms"])


def _cold_verdict(cold: dict[str, Any]) -> str:
    """Finding: how far each handler is from the SDK floor and from its dependency floor."""
    label = next(iter(cold.get("interpreters", {})), None)
    if label is None:
        return ""
    pyc = cold["interpreters"][label]["summary"].get("pyc", {})
    handlers = {k: v for k, v in pyc.items() if k.startswith("skill.") and "ratio_deps_cpu" in v}
    if not handlers:
        return ""
    sdk = [v["ratio_cpu"] for v in handlers.values()]
    deps = [v["ratio_deps_cpu"] for v in handlers.values()]
    chain = {c["library"]: c["adds_ms"] for c in (cold.get("libraries") or {}).get(label, [])}
    worst = max(handlers, key=lambda k: handlers[k]["ratio_deps_cpu"])
    # each handler with its floor's collector time in place of its own
    with_gc = [_with_collector(v) for v in handlers.values()]

    def spread(values: list[float]) -> str:
        low, high = min(values), max(values)
        return "under 1" if high < 1 else f"{_f(low)}–{_f(high)}"

    gc_handlers = spread([v.get("gc_ms", 0.0) for v in handlers.values()])
    gc_floors = spread([v.get("deps_floor_gc_ms", 0.0) for v in handlers.values()])
    return (
        "**Cold start: the libraries, not the project's code, are what is above the SDK floor.** "
        f"With bytecode (python {label}), the handlers take {min(sdk):.2f}–{max(sdk):.2f}× the CPU "
        "of `import boto3` + their clients (goal ≤ 1.2: not met), but "
        f"{min(deps):.2f}–{max(deps):.2f}× their dependency floor (the SDK floor with calls + the "
        "libraries their first invocation loads, each imported and used once; highest "
        f"`{worst}`). The libraries the project's "
        f"standards choose cost, on their own: pydantic {_f(chain.get('pydantic'))} ms (importing "
        f"it and building a first model), Powertools batch {_f(chain.get('powertools-batch'))} ms "
        "(it imports asyncio, the event-source data classes and the parser's pydantic models of "
        f"every event source), requests {_f(chain.get('requests'))} ms, Powertools Logger "
        f"{_f(chain.get('powertools-logger'))} ms, idempotency "
        f"{_f(chain.get('powertools-idempotency'))} ms, the event handler "
        f"{_f(chain.get('powertools-event-handler'))} ms. pydantic alone is more than the 0.2× the "
        "goal leaves. Reaching 1.2× the SDK floor would take models and batch handling without "
        "pydantic and Powertools on the cold path, which the standards rule out; what is left to "
        "the project is the gap to the dependency floor. The handlers pause the garbage "
        "collector until their first invocation has answered (`skill.coldstart`): their "
        f"collections took {gc_handlers} ms where the floors' took {gc_floors} ms. With the "
        "collector running through the cold start, as in the floors, the handlers would be "
        f"about {min(with_gc):.2f}–{max(with_gc):.2f}× their dependency floor."
    )


def _bytecode_section(b: dict[str, Any], cold: dict[str, Any] | None) -> str:
    lines = ["## 5. Precompiled bytecode\n"]
    if cold:
        rows = []
        for label, data in cold["interpreters"].items():
            s = data["summary"]
            for name in s.get("pyc", {}):
                if name.startswith(("skill.", "floor:")):
                    a, p = s["nopyc"].get(name, {}), s["pyc"][name]
                    if a.get("total_ms"):
                        rows.append(
                            [
                                label,
                                f"`{name}`",
                                _f(a["total_ms"]),
                                _f(p["total_ms"]),
                                _f(a["total_ms"] / p["total_ms"], 2),
                                _f(a["cpu_ms"] / p["cpu_ms"], 2),
                            ]
                        )
        lines.append("Cold start without and with `.pyc` (same runs as section 1):\n")
        lines.append(
            _table(
                ["python", "target", "no .pyc ms", ".pyc ms", "speed-up (wall)", "speed-up (cpu)"],
                rows,
            )
        )
        lines.append("")
    lines.append(
        f"Build step (python {b['python']}): `{b['command']}` compiled {b['pyc_files']} files in "
        f"{b['seconds']:.1f} s on this machine; the function's code grows from "
        f"{b['unzipped_mb'][0]:.0f} MB to {b['unzipped_mb'][1]:.0f} MB unzipped, "
        f"{b['zipped_mb'][0]:.1f} MB to {b['zipped_mb'][1]:.1f} MB zipped (Lambda's limits: 250 MB "
        "unzipped, 50 MB zipped upload). `unchecked-hash` pyc files are never compared with the "
        "source's mtime, so zipping (2-second timestamps) and unzipping on Lambda do not "
        "invalidate them; they must be rebuilt whenever the sources change, which a build step "
        "after `sam build` does by construction. The `.pyc` must be compiled by python 3.13 (the "
        "runtime's magic number); pyc compiled by 3.11 would be ignored.\n"
    )
    return "\n".join(lines)


def _warm_table(warm: dict[str, Any]) -> str:
    labels = [k for k, v in warm.items() if isinstance(v, dict) and "cases" in v]
    errors = [
        f"{k}: {v['error'][-300:]}" for k, v in warm.items() if isinstance(v, dict) and "error" in v
    ]
    if not labels:
        return "Not measured: " + "; ".join(errors)
    cases = list(warm[labels[0]]["cases"])
    header = ["case"]
    for label in labels:
        header += [f"project µs ({label})", f"baseline µs ({label})", f"ratio ({label})"]
    rows = []
    for case in cases:
        row: list[Any] = [case]
        for label in labels:
            c = warm[label]["cases"].get(case, {})
            if "project" not in c:
                row += [c.get("skipped", "–"), "–", "–"]
                continue
            shape = "" if c.get("same_shape") in (True, None) else " (shape differs)"
            row += [
                _f(c["project"]["us"], 1),
                _f(c["baseline"]["us"], 1),
                _f(c["project"]["us"] / c["baseline"]["us"], 1) + shape,
            ]
        rows.append(row)
    text = _table(header, rows)
    if errors:
        text += "\n\nErrors: " + "; ".join(errors)
    return text


def _cost_section(cost: dict[str, Any]) -> str:
    a, p = _model.ASSUMPTIONS, _model.PRICES
    measured = _chain.measured_assumptions({"cost": cost})
    lines = ["## 4. Cost per directive, counted\n"]
    lines.append(
        "`workbench/src/bulb_workbench/bench/cost.py` chains the real handlers in one process as "
        "AWS would (entrypoint → directives queue → processor → [async: vendor push → "
        "notifications] → [poll tickets → poller] → outbox → dispatcher → gateway 202) against the "
        f"counting stub cloud and the vendor simulator; {cost['directives_per_style']} directives "
        "per style after one first directive (the container's one-time work: secrets, identity "
        "cache) that is not in the table. Lambda duration is measured (thread CPU of the handler) "
        "and turned into billed time by `workbench/src/bulb_workbench/bench/_model.py:billed_ms`: "
        f"CPU × {a['vcpu_mb']:.0f}/MemorySize (a function gets MemorySize/1769 of a vCPU) + "
        f"{a['aws_call_ms']:.0f} ms per AWS call + {a['vendor_ms']:.0f} ms per vendor call + "
        f"{a['gateway_ms']:.0f} ms per gateway POST. SQS requests include the event source "
        "mapping's ReceiveMessage + DeleteMessageBatch per batch.\n"
    )
    rows = []
    for style, data in cost["styles"].items():
        w = data["warm"]
        per = w["per_directive"]
        fn = w["functions"]
        inv = sum(f["invocations"] for f in fn.values())
        gbs = sum(
            f["invocations"] * _model.billed_ms(k, f) / 1000 * _model.MEMORY_MB.get(k, 256) / 1024
            for k, f in fn.items()
        )
        sends = sum(per.get("sqs_requests", {}).values())
        consumers = sum(
            f["invocations"]
            for k, f in fn.items()
            if k.startswith("processor") or k in ("poller", "dispatcher")
        )
        lwa = per.get("lwa_calls", 0)
        dollars = _model.dollars(w)
        rows.append(
            [
                style,
                _f(inv, 1),
                ", ".join(f"{k} {f['cpu_ms']:.1f}" for k, f in fn.items()),
                _f(gbs, 3),
                _f(sum(per.get("sqs_messages", {}).values()), 1),
                _f(sends + 2 * consumers, 1),
                _f(per.get("rru", 0), 1),
                _f(per.get("wru", 0), 1),
                _f(lwa, 2),
                _f(w["vendor_calls"], 1),
                _f(w["log_bytes"], 0),
                _f(sum(dollars.values()) * 1e6, 2),
            ]
        )
    for name in ("report_state", "discover"):
        w = cost[name]
        fn = w["functions"]
        gbs = sum(
            f["invocations"] * _model.billed_ms(k, f) / 1000 * _model.MEMORY_MB.get(k, 256) / 1024
            for k, f in fn.items()
        )
        rows.append(
            [
                name.replace("_", " "),
                _f(sum(f["invocations"] for f in fn.values()), 1),
                ", ".join(f"{k} {f['cpu_ms']:.1f}" for k, f in fn.items()),
                _f(gbs, 3),
                "0",
                "0",
                "0",
                "0",
                "0",
                _f(w["vendor_calls"], 1),
                _f(w["log_bytes"], 0),
                _f(sum(_model.dollars(w).values()) * 1e6, 2),
            ]
        )
    lines.append(
        _table(
            [
                "directive",
                "Lambda invocations",
                "warm CPU ms per function",
                "GB-s",
                "SQS messages",
                "SQS requests",
                "DynamoDB RRU",
                "DynamoDB WRU",
                "LWA calls",
                "vendor calls",
                "log bytes",
                "$ per million",
            ],
            rows,
        )
    )
    lines.append("")
    for key, what in (
        ("sweep_user_3_bulbs", "nothing changed (the common read: no write, no event)"),
        ("sweep_change_3_bulbs", "one bulb changed outside Alexa (a ChangeReport)"),
    ):
        if key not in cost:
            continue
        s = cost[key]
        sp = s["per_directive"]
        lines.append(
            "The sweep's worker (`skill.handlers.sweep`), one SQS record = one account of a "
            f"polling vendor with 3 bulbs (list + a read per bulb), {what}: "
            f"{', '.join(f'{k} {v:g}' for k, v in sp['requests'].items()) or 'no AWS request'}; "
            f"{sp['rru']:g} RRU, {sp['wru']:g} WRU, {s['vendor_calls']:g} vendor calls, "
            f"{s['functions']['sweep']['cpu_ms']:.1f} ms CPU (its pool's threads included).\n"
        )
    if "sweep_scheduler" in cost:
        s = cost["sweep_scheduler"]
        sp = s["per_directive"]
        lines.append(
            "The sweep's scheduler (`skill.handlers.sweep_scheduler`), one minute with "
            f"{s.get('accounts_sent', 0):g} due account: "
            f"{', '.join(f'{k} {v:g}' for k, v in sp['requests'].items())}; {sp['rru']:g} RRU, "
            f"{s['functions']['sweep-scheduler']['cpu_ms']:.1f} ms CPU (its pool's threads "
            "included). The monthly model below uses these two CPU figures "
            "(`workbench/src/bulb_workbench/bench/_chain.py:measured_assumptions`: "
            f"{measured['sweep_cpu_ms_per_bulb']:.2f} ms per bulb read, "
            f"{measured['sweep_scheduler_ms']:.0f} ms per scheduler minute at its MemorySize) "
            "instead of `workbench/src/bulb_workbench/bench/_model.py`'s assumed "
            f"{a['sweep_cpu_ms_per_bulb']:g} and {a['sweep_scheduler_ms']:g}.\n"
        )
    lwa = cost.get("lwa", {})
    if "lwa_calls" in lwa:
        verdict = "meets" if lwa["lwa_calls"] <= 1 else "**misses**"
        lines.append(
            f"LWA: a fresh dispatcher container, a user whose token is inside the refresh margin, "
            f'{lwa["events"]} events in a row: **{lwa["lwa_calls"]} LWA call(s)** ({verdict} "at '
            "most one "
            'LWA call per user per token lifetime").\n'
        )
    lines.append("### Monthly cost and scale model\n")
    lines.append(
        f"Prices: AWS list prices, us-east-1, arm64 Lambda, no free tier, {_model.PRICES_AS_OF} "
        "(written into `workbench/src/bulb_workbench/bench/_model.py` from the pricing pages as "
        "known; not re-read for this run, which has no network: check before relying on the "
        f"dollars; the counts are the measurement): Lambda ${p['lambda_gb_s']:.10f}/GB-s and $0.20 "
        "per million requests; SQS $0.40 (standard) / $0.50 (FIFO) per million requests; DynamoDB "
        "on-demand $0.625 per million WRU, $0.125 per million RRU; HTTP API $1.00 per million; "
        "Secrets Manager $0.40 per secret-month; KMS $1 per customer-managed key a month; "
        "CloudWatch Logs ingestion $0.50/GB. MemorySize from infra/*.yaml ("
        + ", ".join(f"{k} {v}" for k, v in _model.MEMORY_MB.items())
        + " MB). INIT phase "
        "(billed since 1 August 2025): in section 6's total, not in these rows. Usage assumed per "
        f"user: {a['bulbs_per_user']} bulbs, {a['control_per_user_day']} control directives and "
        f"{a['report_state_per_user_day']} ReportState a day, {a['discover_per_user_month']} "
        "Discover a month, users spread evenly over the four styles; the sweep reads each account "
        "of a vendor that does not push on its adaptive cadence "
        "(`workbench/src/bulb_workbench/bench/_model.py:sweep_account_day`, docs/scale.md). Not "
        "counted: KMS requests (a vendor credential is decrypted once per container and user, then "
        "cached a minute), Cognito's monthly active users, CloudWatch metrics and alarms, data "
        "transfer, the vendors' own API quotas.\n"
    )
    rows = []
    models = {users: _model.monthly(cost, users, measured) for users in (10_000, 1_000_000)}
    keys = ["lambda", "sqs", "dynamodb", "http_api", "logs"]
    for activity in models[10_000]["rows"]:
        row = [activity]
        for model in models.values():
            v = model["rows"][activity]
            row.append(f"${sum(v.values()):,.0f}")
        rows.append(row)
    rows.append(["fixed (secrets, keys)"] + [f"${m['fixed']:,.2f}" for m in models.values()])
    rows.append(["**total**"] + [f"**${m['total']:,.0f}**" for m in models.values()])
    rows.append(["per user"] + [f"${m['total'] / u:,.4f}" for u, m in models.items()])
    lines.append(_table(["monthly", "10k users", "1M users"], rows))
    lines.append("")
    by_service = [[k] + [f"${m['totals'].get(k, 0):,.0f}" for m in models.values()] for k in keys]
    lines.append(_table(["by service", "10k users", "1M users"], by_service))
    lines.append("")
    capacity = _model.sweep_accounts_per_invocation(measured)
    lines.append(
        f"Scale: one sweep worker invocation reads {a['sweep_concurrency']} accounts at once; at "
        f"{a['vendor_ms']:.0f} ms per vendor call and {a['bulbs_per_user']} bulbs per user it "
        f"could read about **{capacity:.0f} accounts** within 55 s "
        "(`workbench/src/bulb_workbench/bench/_model.py:sweep_accounts_per_invocation`; a batch is "
        f"at most {a['sweep_batch']} messages, so this is headroom). The directive path scales "
        "with SQS and Lambda concurrency (the per-style processor's MaximumConcurrency bounds "
        "vendor load).\n"
    )
    return "\n".join(lines)


def figures(m: dict[str, Any], r: dict[str, Any]) -> dict[str, Any]:
    """The headline figures, as data (``bench/results.json``)."""
    chain = _chain.figures(r)
    out: dict[str, Any] = {
        "generated_by": (
            "make bench (workbench/src/bulb_workbench/bench/run.py); model: "
            "workbench/src/bulb_workbench/bench/_chain.py, "
            "workbench/src/bulb_workbench/bench/_model.py"
        ),
        "machine": {k: m.get(k) for k in ("cpu", "cores", "python313", "commit", "date")},
        "memory_mb": chain.get("memory_mb"),
        "cold_chain_ms": chain.get("cold_chain_ms"),
        "cold_chain_with_platform_ms": chain.get("cold_chain_with_platform_ms"),
        "cold_chain_definition": (
            "cold_chain_ms: issue 14's definition, each function's measured "
            "first-invocation CPU x 1769/MemorySize plus the hops (calls, connection "
            "set-up, invocations, SQS); cold_chain_with_platform_ms: the same plus "
            "the assumed sandbox start per function (workbench/src/bulb_workbench/bench/_chain.py)"
        ),
        "warm_chain_ms": chain.get("warm_chain_ms"),
        "warm_chain_with_vendor_ms": chain.get("warm_chain_with_vendor_ms"),
        "chain_ms_with_p90_hops": chain.get("chain_ms_with_p90_hops"),
        "cost_per_user_month_usd": chain.get("cost_per_user_month_usd"),
        "cost_model": chain.get("cost_model"),
        "sweep_accounts_per_invocation": _sweep_accounts(r),
        "handler_vs_dependency_floor": _handler_floors(r),
        "handler_vs_dependency_floor_definition": (
            "each handler's first-invocation CPU / its dependency floor's (boto3 and its clients "
            "with one call each, plus each third-party library its first invocation loads, "
            "imported and used once: workbench/src/bulb_workbench/bench/_floors.py), median of "
            "paired runs, python 3.13 with bytecode; the handlers pause the garbage collector "
            "for their cold start (skill.coldstart), the floors do not"
        ),
        "handler_vs_dependency_floor_with_collector": _handler_floors(r, with_collector=True),
        "goals": {
            "cold_chain_ms": _chain.COLD_GOALS,
            "warm_chain_ms": _chain.WARM_GOAL,
            "cost_per_user_month_usd": 0.01,
            "handler_vs_dependency_floor": 1.10,
        },
        "chains": chain.get("chains"),
        "scale_run": r.get("scale"),
    }
    return out


def _sweep_accounts(r: dict[str, Any]) -> float | None:
    cost = r.get("cost") or {}
    if "styles" not in cost:
        return None
    return round(_model.sweep_accounts_per_invocation(_chain.measured_assumptions(r)), 1)


def _handler_floors(r: dict[str, Any], with_collector: bool = False) -> dict[str, float | None]:
    """Each handler's first-invocation CPU / its dependency floor's (python 3.13, .pyc);
    ``with_collector``: as if the handler's collector had taken the floor's time (not paused)."""
    interpreters = (r.get("cold") or {}).get("interpreters") or {}
    label = next((k for k in interpreters if k.startswith("3.13")), next(iter(interpreters), None))
    if label is None:
        return {}
    pyc = interpreters[label]["summary"].get("pyc", {})

    def ratio(v: dict[str, Any]) -> float | None:
        value = v.get("ratio_deps_cpu")
        if value is None or value != value:  # not measured, or NaN
            return None
        if with_collector:
            value = _with_collector(v)
        return round(value, 3)

    return {k: ratio(v) for k, v in pyc.items() if k.startswith("skill.")}


def write_figures(m: dict[str, Any], r: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures(m, r), indent=1) + "\n")


def _chain_section(r: dict[str, Any]) -> str:
    """The cold and warm chains per style, the power-tuning table and the memory choice."""
    memory = {**_model.MEMORY_MB, **_chain.template_memory()}
    if not _chain.cold_cpu(r) or "styles" not in (r.get("cost") or {}):
        return ""
    a = _model.ASSUMPTIONS
    fig = figures({}, r)
    out = ["## 6. The cold chain and the power-tuning table\n"]
    out.append(
        "`workbench/src/bulb_workbench/bench/_chain.py` models the first command after idle, every "
        "function of its path cold, and a warm one. Each function: its measured CPU × max(1, "
        "1769/MemorySize) (Lambda gives MemorySize/1769 of a vCPU), plus its waits (the cost "
        "section's counted calls per invocation × the assumed latencies; cold: + one connection "
        "set-up per AWS client). Between functions, the hops. Two cold figures: "
        "**`cold_chain_ms`** is issue 14's definition (measured first-invocation CPU × "
        "1769/MemorySize + the hops) and the goals are checked against it; "
        "**`cold_chain_with_platform_ms`** adds, per function, the sandbox's own start, which this "
        "machine cannot measure and the model assumes (the platform's cold-init and the Python "
        "runtime's start, below): that is what a real first command after idle should take. The "
        "cold CPU is section 1's first-invocation figure (python 3.13, .pyc, fastest run: import + "
        "first `handler` call); the warm CPU is section 4's measured handler CPU per invocation "
        "(section 2's core-only figure if section 4 did not run). Vendor *waits* (the push's or "
        "the poll ticket's delay, the bulb's transition) are excluded; vendor *calls* count in the "
        "cold chain. The warm chain is the project's own time: the same path without the vendor's "
        "latency (with it: `warm_chain_with_vendor_ms` in `bench/results.json`). Memory sizes are "
        "read from `infra/*.yaml`.\n"
    )
    out.append(
        "Assumptions (named, with their source, in "
        "`workbench/src/bulb_workbench/bench/_chain.py`): platform cold-init "
        f"{_chain.PLATFORM_INIT_MS:.0f} ms per function (micro-VM placement, fetching and "
        "unpacking the ~26 MB zip; not CPU, not billed; the lower end of published small-Python "
        "cold starts; only in `cold_chain_with_platform_ms`); the Python runtime's own start "
        f"{_chain.RUNTIME_INIT_CPU_MS:.0f} ms CPU (stretched, billed as INIT; only in "
        f"`cold_chain_with_platform_ms` and the INIT bill); {_chain.CONNECT_MS:.0f} ms to open "
        f"each AWS client's first connection (TCP + TLS, in region); {_chain.INVOKE_MS:.0f} ms per "
        "synchronous invocation (Alexa → entrypoint, HTTP API → notifications); "
        f"per SQS queue an event source mapping drains, the median of a published measurement "
        f'(Bite-Sized Serverless, "Serverless Messaging: Latency Compared", eu-west-1, 2022): '
        f"{_chain.SQS_HOP_MS['fifo']} ms FIFO (the directives queues), "
        f"{_chain.SQS_HOP_MS['standard']} ms standard (the outbox, the poll tickets), every "
        "mapping on the path with `MaximumBatchingWindowInSeconds: 0` (at that measurement's p90, "
        f"{_chain.SQS_HOP_P90_MS['fifo']} and {_chain.SQS_HOP_P90_MS['standard']} ms, the chains "
        f"are in the last table of this section); AWS call {a['aws_call_ms']:.0f} "
        f"ms, vendor call {a['vendor_ms']:.0f} ms, gateway POST {a['gateway_ms']:.0f} ms, LWA call "
        f"{a['lwa_ms']:.0f} ms (`workbench/src/bulb_workbench/bench/_model.py`); a cold dispatcher "
        f"makes {_chain.COLD_LWA_CALLS} LWA refresh (the user's gateway token lives an hour: after "
        "an idle evening it has expired). INIT billing (AWS bills the INIT phase of managed "
        f"runtimes since 1 August 2025): {_chain.COLD_START_SHARE:.0%} of invocations start cold "
        "and pay (runtime start + first-invocation CPU) stretched, at their memory.\n"
    )
    c = _chain.chains(r, memory)
    rows = []
    for style, v in c.items():
        for kind, goal in (
            ("cold", _chain.COLD_GOALS[style]),
            ("cold_with_platform", None),
            ("warm", _chain.WARM_GOAL),
        ):
            total = v[kind]["total_ms"]
            steps = " → ".join(f"{n} {_f(ms)}" for n, ms in v[kind]["steps"])
            if goal is None:
                verdict = "(no goal: the issue's goal is on `cold`)"
            else:
                verdict = f"< {goal:,.0f}: " + (
                    "–" if total is None else ("met" if total < goal else "**not met**")
                )
            rows.append([style, kind.replace("_", " "), f"**{_f(total)}**", verdict, steps])
    out.append(
        "Chains at the template's memory sizes "
        f"({', '.join(f'{k} {v}' for k, v in memory.items() if k in _chain.MODULES)} MB), without "
        "SnapStart, ms:\n"
    )
    out.append(_table(["style", "chain", "modelled ms", "goal (issue 14)", "steps (ms)"], rows))
    out.append("")
    table = _chain.power_table(r)
    rows = []
    for function, per in table.items():
        row = [f"`{function}`" + (f" ({memory.get(function)} MB)" if function in memory else "")]
        for mb in _chain.MEMORIES:
            x = per[mb]
            row.append(
                f"{_f(x['cold_ms'])} ({_f(x['cold_with_platform_ms'])}) / {_f(x['warm_ms'])} / "
                + (
                    "–"
                    if x["usd_per_directive"] is None
                    else f"${x['usd_per_directive'] * 1e6:.2f}"
                )
            )
        rows.append(row)
    out.append(
        "Power-tuning table: per function and MemorySize, modelled cold ms (with the assumed "
        "sandbox start) / warm ms (the function alone, its waits and vendor calls included) / "
        "Lambda $ per million directives that invoke it (warm billed duration + requests + the "
        f"INIT phase of {_chain.COLD_START_SHARE:.0%} cold starts; the entrypoint and dispatcher "
        "on the sync path):\n"
    )
    out.append(_table(["function", *[f"{mb} MB" for mb in _chain.MEMORIES]], rows))
    out.append("")
    choice = _chain.choose_memory(r)
    if choice:
        out.append(
            "The choice (`workbench/src/bulb_workbench/bench/_chain.py:choose_memory`): the sizes "
            "that bring the chains closest to their goals less "
            f"{_chain.CHOICE_MARGIN:.0%} (the sum of every chain's excess over that, cold and "
            "warm; one function's cold CPU varies by about that much between runs), then cost "
            "least, among those whose bill stays within $0.01 per user-month at 1M users: "
            + ", ".join(f"{k} {v} MB" for k, v in choice["memory"].items())
            + f"; excess over the goals less the margin {choice['excess_ms']:,.0f} ms, "
            f"${choice['usd_per_user_month']:.4f} per "
            f"user-month ({'within' if choice['within_budget'] else '**over**'} the budget). The "
            "templates carry "
            + (
                "these sizes."
                if all(memory.get(k) == v for k, v in choice["memory"].items())
                else "other sizes: "
                + ", ".join(
                    f"{k} {memory.get(k)}"
                    for k in choice["memory"]
                    if memory.get(k) != choice["memory"][k]
                )
                + "."
            )
            + "\n"
        )
    floors = fig["handler_vs_dependency_floor"]
    cm = fig.get("cost_model") or {}
    out.append(
        "`bench/results.json` (written by this run): cold chain "
        + ", ".join(f"{k} {_f(v)} ms" for k, v in (fig["cold_chain_ms"] or {}).items())
        + " (with the assumed sandbox start: "
        + ", ".join(
            f"{k} {_f(v)} ms" for k, v in (fig.get("cold_chain_with_platform_ms") or {}).items()
        )
        + ")"
        + "; warm chain "
        + ", ".join(f"{k} {_f(v)} ms" for k, v in (fig["warm_chain_ms"] or {}).items())
        + f"; ${fig['cost_per_user_month_usd']} per user-month at 1M users "
        "(the monthly model of section 4, "
        f"${cm.get('monthly_usd', 0):,.0f}, + INIT ${cm.get('init_monthly_usd', 0):,.0f})"
        + f"; sweep accounts per invocation {_f(fig['sweep_accounts_per_invocation'])}"
        + "; handler / dependency floor (CPU): "
        + ", ".join(f"`{k}` {_f(v, 2)}" for k, v in floors.items())
        + ".\n"
    )
    tail = fig.get("chain_ms_with_p90_hops") or {}
    if tail:
        out.append(
            "The same chains with every SQS hop at the measurement's p90 instead of its median "
            "(`chain_ms_with_p90_hops` in `bench/results.json`; the goals are on the median "
            "model, as every other latency of the model is a typical figure):\n"
        )
        out.append(
            _table(
                ["style", "cold ms (p90 hops)", "warm ms (p90 hops)"],
                [[k, _f(v["cold"]), _f(v["warm"])] for k, v in tail.items()],
            )
        )
        out.append("")
    return "\n".join(out)


def console_summary(r: dict[str, Any]) -> str:
    _model.MEMORY_MB.update(_chain.template_memory())
    lines = []
    cold = r.get("cold")
    if cold:
        for label, data in cold["interpreters"].items():
            pyc = data["summary"].get("pyc", {})
            nopyc = data["summary"].get("nopyc", {})
            lines.append(
                f"cold start, python {label} (ms wall; ratio to the SDK floor, wall / cpu; "
                "cpu ratio to the dependency floor):"
            )
            for module, row in pyc.items():
                if module.startswith("skill."):
                    n = nopyc.get(module, {})
                    lines.append(
                        f"  {module:28s} no-pyc {n.get('total_ms', 0):7.0f} "
                        f"x{n.get('ratio', 0):4.2f}   pyc {row['total_ms']:7.0f} "
                        f"x{row['ratio']:4.2f} / cpu x{row.get('ratio_cpu', float('nan')):4.2f}   "
                        f"deps x{row.get('ratio_deps_cpu', float('nan')):4.2f}   rss "
                        f"{row['rss_mb']:4.0f} MB"
                    )
    warm = r.get("warm") or {}
    for label, data in warm.items():
        if isinstance(data, dict) and "cases" in data:
            lines.append(f"warm CPU per directive, python {label} (µs project / baseline):")
            for case, c in data["cases"].items():
                if "project" in c:
                    lines.append(
                        f"  {case:40s} {c['project']['us']:9.1f} / {c['baseline']['us']:8.1f}"
                        f"  x{c['project']['us'] / c['baseline']['us']:.1f}"
                    )
    e2e = r.get("e2e") or {}
    if e2e and not e2e.get("measured"):
        lines.append(
            "end-to-end: not measured (" + str(e2e.get("reason", e2e.get("error", "")))[:120] + ")"
        )
    elif e2e:
        for latency, styles in e2e["latencies"].items():
            for style, s in styles.items():
                lines.append(
                    f"e2e latency {latency}s {style:10s} p50 {s['p50']:.0f} p95 {s['p95']:.0f} p99 "
                    f"{s['p99']:.0f} ms"
                )
                if "overhead" in s:
                    o = s["overhead"]
                    lines.append(
                        f"e2e latency {latency}s {style:10s} overhead (less {_scheduled(s)} "
                        f"scheduled) p50 {o['p50']:.0f} p95 {o['p95']:.0f} p99 {o['p99']:.0f} ms"
                    )
    fig = _chain.figures(r)
    if "cold_chain_ms" in fig:
        lines.append(
            "chains at the template's memory (cold, no SnapStart / with the sandbox start / warm, "
            "ms): "
            + ", ".join(
                f"{k} {_f(v)} / {_f(fig['cold_chain_with_platform_ms'][k])} / "
                f"{_f(fig['warm_chain_ms'][k])}"
                for k, v in fig["cold_chain_ms"].items()
            )
        )
        choice = _chain.choose_memory(r)
        if choice:
            lines.append(
                "memory the model chooses: "
                + ", ".join(f"{k} {v}" for k, v in choice["memory"].items())
                + f" (excess {choice['excess_ms']:.0f} ms, "
                f"${choice['usd_per_user_month']:.4f}/user-month)"
            )
    cost = r.get("cost") or {}
    if "styles" in cost:
        for style, data in cost["styles"].items():
            d = _model.dollars(data["warm"])
            lines.append(f"cost per million {style} directives: ${sum(d.values()) * 1e6:.2f}")
        for users in (10_000, 1_000_000):
            lines.append(
                f"monthly model, {users:,} users: "
                f"${_model.monthly(cost, users, _chain.measured_assumptions(r))['total']:,.0f}"
            )
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1:2] == ["--render"]:  # rewrite the doc from the last run's raw results
        raw = json.loads((Path(tempfile.gettempdir()) / "bulb-bench-results.json").read_text())
        DOC.write_text(render(raw["machine"], raw["results"]))
        write_figures(raw["machine"], raw["results"])
        print(console_summary(raw["results"]))
        return
    started = time.monotonic()
    only = _only()
    m = machine()
    log(f"bench: {m['cpu']}, {m['cores']} cores; python {m['python313']} and {m['python_local']}")
    results: dict[str, Any] = {}
    if "cold" in only:
        from bulb_workbench.bench import cold_start

        log("bench: cold start")
        results["cold"] = cold_start.measure(log=log)
    if "bytecode" in only:
        log("bench: bytecode build step")
        results["bytecode"] = bytecode()
    if "warm" in only:
        log("bench: warm CPU per directive")
        results["warm"] = warm_all()
    if "cost" in only:
        log("bench: cost per directive")
        results["cost"] = _script(sys.executable, "cost.py")
        if "error" in results["cost"]:
            log("bench: cost failed:\n" + results["cost"]["error"])
    if "e2e" in only:
        log("bench: end-to-end latency")
        results["e2e"] = _script(sys.executable, "e2e.py")
    # -- scale run (bulb_workbench.bench.scale) ----------------------------------------------------
    if "scale" in only:
        from bulb_workbench.bench import scale

        log("bench: scale run (the sweep over simulated accounts, one virtual day)")
        results["scale"] = scale.run(log=log)
    # -- end of the scale run ------------------------------------------------------------------
    m["load_after"] = os.getloadavg()
    m["seconds"] = time.monotonic() - started
    raw = Path(tempfile.gettempdir()) / "bulb-bench-results.json"
    raw.write_text(json.dumps({"machine": m, "results": results}, indent=1, default=str))
    if only == set(ALL_SECTIONS):
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(render(m, results))
        write_figures(m, results)
        log(
            f"bench: wrote {DOC.relative_to(ROOT)} and {RESULTS.relative_to(ROOT)} (raw results: "
            f"{raw})"
        )
    else:
        log(
            f"bench: partial run ({','.join(sorted(only))}): {DOC.relative_to(ROOT)} left as it "
            f"is; raw: {raw}"
        )
    print(console_summary(results))
    log(f"bench: done in {m['seconds']:.0f} s")


if __name__ == "__main__":
    main()
