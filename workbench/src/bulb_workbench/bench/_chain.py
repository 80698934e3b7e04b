"""The chain model: how long the first command after idle takes, and a warm one, per style.

A control directive crosses several functions, one after the other; after an idle evening every
one of them starts cold. This module turns the figures measured by ``make bench`` into modelled
latency and cost per function and per chain, at any MemorySize.

Method (every constant below is an assumption, named and documented here and in
docs/benchmarks.md; the CPU figures and the request counts are the measurement):

- **CPU stretches with memory.** Lambda gives a function MemorySize/1769 of a vCPU, so CPU
  time t at one vCPU takes ``t * max(1, 1769 / MemorySize)`` of wall time (no gain above
  1769 MB for one Python thread).
- **Cold function**, two figures (``bench/results.json`` carries both, per style):

  - ``cold_chain_ms``, the figure the cold goals (``COLD_GOALS``) are checked against: the
    handler's *measured* first-invocation CPU stretched (as above), plus the hops: its waits
    (below) and one connection set-up (``CONNECT_MS``) per AWS client it creates
    (``bulb_workbench.bench._scenarios.FLOOR_CLIENTS``), and the hops between functions. Nothing
    assumed about the sandbox's own start is in it.
  - ``cold_chain_with_platform_ms``: the same plus, per function, what a cold sandbox costs
    before the handler module is imported, which ``make bench`` cannot measure on this machine
    and therefore assumes: ``PLATFORM_INIT_MS`` (placing the micro-VM, fetching and unpacking
    the code: not CPU, not billed) and ``RUNTIME_INIT_CPU_MS`` (the Python runtime's own
    start, CPU, stretched). This is the figure to expect of a real first command after idle.

  The first-invocation CPU is the cold section's figure (python 3.13, ``.pyc``, fastest run:
  import the handler module + the first ``handler(event, context)``, SDK clients, calls and
  parsing included).
- **Warm function** = the handler's warm CPU stretched + its waits. The warm CPU is the cost
  section's measured thread CPU per invocation (the real handler chained against the stub
  cloud: Powertools, validation and the SDK's own serialising and parsing included), or, if that
  section did not run, the warm section's per-directive CPU (core logic only).
- **Waits** are the counted calls of the cost section (per invocation of that function in that
  style) times ``bulb_workbench.bench._model.ASSUMPTIONS``: ``aws_call_ms`` per AWS call,
  ``vendor_ms`` per vendor call, ``gateway_ms`` per gateway POST, ``lwa_ms`` per LWA call. A cold
  chain's dispatcher also refreshes the user's gateway token (``COLD_LWA_CALLS``: an LWA access
  token lives an hour, so after an idle evening it has expired).
- **Hops**: ``INVOKE_MS`` where a caller invokes a function synchronously (Alexa -> entrypoint,
  HTTP API -> notifications) and ``SQS_HOP_MS`` (by queue type: the directives queues are FIFO,
  the outbox and the poll tickets' queue standard) for each SQS queue an event source mapping
  drains (the send itself is also counted, as an AWS call of the sender; every mapping on the
  path has ``MaximumBatchingWindowInSeconds: 0``). ``SQS_HOP_P90_MS`` gives the chains' tail.
- **Chains**: sync and optimistic: Alexa -> entrypoint -> directives FIFO -> processor ->
  outbox -> dispatcher -> LWA + gateway. async: ... processor -> [the vendor's push] -> HTTP
  API -> notifications -> outbox -> dispatcher. polling: ... processor -> [the poll ticket's
  delay] -> poller -> outbox -> dispatcher. The bracketed vendor waits (the push's delay, the
  ticket's SQS delay, the bulb's transition) are excluded: the goals count the project's time,
  not the vendor's. Vendor *calls* are hops of the cold chain in every style (the processors'
  command, the poller's read), as is a cold dispatcher's LWA refresh. The warm chain is the
  project's own time: the same path without the vendor calls (their latency is the vendor's;
  ``warm_with_vendor`` has them too).
- **Cost per directive** of a function at a memory size: billed warm duration (CPU stretched +
  waits, as ``bulb_workbench.bench._model.billed_ms``) x GB + the request price, plus the INIT phase
  that AWS bills for managed runtimes since 1 August 2025: ``COLD_START_SHARE`` of invocations start
  cold and pay (runtime start + first-invocation CPU) stretched, at the function's memory.

Memory sizes are read from the templates (``infra/*.yaml``: each function's ``Handler`` and
``MemorySize``), so the chain figures are those of the template as it is.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

from bulb_workbench.bench import _model

ROOT = Path(__file__).resolve().parents[4]  # the checkout (workbench/src/bulb_workbench/bench)
MEMORIES = (256, 512, 1024, 1769)

#: Unbilled platform work of a cold start: micro-VM placement, fetching and unpacking a zip of
#: about 26 MB (the bundle with .pyc, section 5). Source: third-party measurements of a small
#: Python function's whole cold start are 150-250 ms; this is taken as the lower end, the part
#: before the runtime starts. Not measurable here: only in ``cold_chain_with_platform_ms``.
PLATFORM_INIT_MS = 150.0
#: CPU of the Python runtime's own start at one vCPU (interpreter, the runtime's bootstrap),
#: before the handler module's import: billed as INIT, stretched like any CPU. Reasoning: a bare
#: interpreter start is ~15-20 ms of CPU on this kind of machine and the runtime's bootstrap
#: (its Runtime API client) adds a few. Only in ``cold_chain_with_platform_ms`` and the INIT bill.
RUNTIME_INIT_CPU_MS = 25.0
#: TCP + TLS set-up of a new connection to an in-region AWS endpoint (first call per client).
CONNECT_MS = 10.0
#: A synchronous invocation's platform overhead (Alexa -> Lambda, HTTP API -> Lambda).
INVOKE_MS = 15.0
#: From a message's send to the consuming function's invocation through an event source mapping,
#: median by queue type. Source: "Serverless Messaging: Latency Compared", Bite-Sized Serverless
#: (bitesizedserverless.com, eu-west-1, September 2022; 1,024 messages per service, producer
#: timestamp to consumer): SQS standard p50 16.2 ms, p90 33.8 ms, p99 105 ms; SQS FIFO p50
#: 28.1 ms, p90 61.2 ms, p99 645 ms. The model's other latencies are typical figures too.
SQS_HOP_MS = {"fifo": 28.1, "standard": 16.2}
#: The same measurement's p90: the chains with every hop at its p90 (``chains(..., hops="p90")``).
SQS_HOP_P90_MS = {"fifo": 61.2, "standard": 33.8}
#: LWA calls a cold dispatcher makes first: the user's gateway token (an hour's life) has
#: expired over the idle evening.
COLD_LWA_CALLS = 1
#: Share of invocations that start cold, for the INIT phase's bill (AWS: "cold starts
#: typically occur in under 1% of invocations" for production traffic).
COLD_START_SHARE = 0.01

#: The cold and warm chain goals, ms.
COLD_GOALS = {"sync": 2000.0, "optimistic": 2000.0, "async": 3000.0, "polling": 3000.0}
WARM_GOAL = 300.0

#: function (the cost model's name) -> handler module.
MODULES = {
    "entrypoint": "skill.handlers.entrypoint",
    "processor-sync": "skill.handlers.processors.sync",
    "processor-async": "skill.handlers.processors.async_",
    "processor-optimistic": "skill.handlers.processors.optimistic",
    "processor-polling": "skill.handlers.processors.polling",
    "notifications": "skill.handlers.notifications",
    "poller": "skill.handlers.poller",
    "dispatcher": "skill.handlers.dispatcher",
    "sweep": "skill.handlers.sweep",
    "sweep-scheduler": "skill.handlers.sweep_scheduler",
    "linking": "skill.handlers.linking_pages",
}
STYLES = ("sync", "async", "optimistic", "polling")
#: The functions of each style's path, in order; ("hop", ms) between them.
PATHS: dict[str, list[Any]] = {
    style: [
        "invoke",
        "entrypoint",
        "sqs-fifo",  # the style's directives queue
        f"processor-{style}",
        # async: the vendor's push; polling: the poll ticket's queue (after its delay)
        *{"async": ["invoke", "notifications"], "polling": ["sqs", "poller"]}.get(style, []),
        "sqs",  # the outbox
        "dispatcher",
    ]
    for style in STYLES
}
#: The warm section's case per function, when the cost section is missing.
WARM_CASES = {
    "entrypoint": "control (SetBrightness -> queue)",
    "dispatcher": "dispatcher (outbox Response -> gateway)",
    **{f"processor-{s}": f"pipeline {s}" for s in STYLES},
}


def stretch(memory_mb: float, a: dict[str, Any] = _model.ASSUMPTIONS) -> float:
    return max(1.0, a["vcpu_mb"] / memory_mb)


def template_memory(root: Path = ROOT) -> dict[str, int]:
    """MemorySize per function as the templates declare it (by each function's Handler)."""
    by_module = {module: name for name, module in MODULES.items()}
    found: dict[str, int] = {}
    for path in sorted((root / "infra").glob("*.yaml")):
        handler = None
        for line in path.read_text().splitlines():
            m = re.match(r"\s+Handler:\s*([\w.]+)\.handler\s*$", line)
            if m:
                handler = m.group(1)
                continue
            m = re.match(r"\s+MemorySize:\s*(\d+)\s*(#.*)?$", line)
            if m and handler in by_module:
                found[by_module[handler]] = int(m.group(1))
                handler = None
    return found


# -- the measured inputs ------------------------------------------------------------------------


def cold_cpu(results: dict[str, Any]) -> dict[str, float]:
    """First-invocation CPU ms per function (python 3.13 if measured, .pyc, fastest run)."""
    cold = results.get("cold") or {}
    interpreters = cold.get("interpreters") or {}
    label = next((k for k in interpreters if k.startswith("3.13")), next(iter(interpreters), None))
    if label is None:
        return {}
    pyc = interpreters[label]["summary"].get("pyc", {})
    return {
        f: pyc[m]["cpu_ms"]
        for f, m in MODULES.items()
        if m in pyc and pyc[m].get("n") and pyc[m]["cpu_ms"] == pyc[m]["cpu_ms"]
    }


def _counts(
    results: dict[str, Any], style: str, function: str, cold: bool
) -> dict[str, float] | None:
    """Per-invocation calls (and warm CPU) of ``function`` on ``style``'s path: the cost
    section's warm directives; a cold function counts the most of its first and warm runs."""
    styles = (results.get("cost") or {}).get("styles") or {}
    runs = styles.get(style) or {}
    warm = (runs.get("warm") or {}).get("functions", {}).get(function)
    if warm is None:
        return None
    n = warm["invocations"] or 1
    out = {
        k: warm.get(k, 0.0) / n
        for k in ("cpu_ms", "aws_calls", "vendor_calls", "gateway_posts", "lwa_calls")
    }
    first = (runs.get("first") or {}).get("functions", {}).get(function)
    if cold and first:
        m = first["invocations"] or 1
        for k in ("aws_calls", "vendor_calls", "gateway_posts", "lwa_calls"):
            out[k] = max(out[k], first.get(k, 0.0) / m)
    return out


def warm_cpu(results: dict[str, Any], style: str, function: str) -> float | None:
    counts = _counts(results, style, function, cold=False)
    if counts is not None:
        return counts["cpu_ms"]
    warm = results.get("warm") or {}
    label = next((k for k in warm if k.startswith("3.13")), next(iter(warm), None))
    case = ((warm.get(label) or {}).get("cases") or {}).get(WARM_CASES.get(function, ""), {})
    return case["project"]["us"] / 1000 if "project" in case else None


#: Bulbs of the account the cost section sweeps (``bulb_workbench.bench._scenarios.SIM_DEVICES``).
SWEPT_BULBS = 3
#: Slot queries the sweep's scheduler runs at once (``skill.pipeline.SweepScheduler``'s pool).
SCHEDULER_CONCURRENCY = 8


def measured_assumptions(results: dict[str, Any]) -> dict[str, Any]:
    """``bulb_workbench.bench._model.ASSUMPTIONS`` with the sweep's CPU replaced by this run's
    measurement where the cost section made it (the model's other inputs are unchanged):

    - ``sweep_cpu_ms_per_bulb``: the worker's CPU (its pool threads included) for one read of an
      account of 3 bulbs at a polling vendor, steady state (list + 3 reads, the owners' index
      query, nothing changed), / 3: the median of the cost section's reads (``SWEEP_READS``);
    - ``sweep_scheduler_ms``: the scheduler's CPU for one minute (its slot queries, one due
      account, one SendMessageBatch) stretched to its MemorySize, + its AWS calls'
      ``aws_call_ms``, ``SCHEDULER_CONCURRENCY`` at a time.
    """
    a = dict(_model.ASSUMPTIONS)
    cost = results.get("cost") or {}
    worker = (cost.get("sweep_user_3_bulbs") or {}).get("functions", {}).get("sweep")
    if worker and worker.get("invocations"):
        cpu = worker.get("cpu_ms_median", worker["cpu_ms"])  # older results: the mean
        a["sweep_cpu_ms_per_bulb"] = cpu / worker["invocations"] / SWEPT_BULBS
    scheduler = (cost.get("sweep_scheduler") or {}).get("functions", {}).get("sweep-scheduler")
    if scheduler and scheduler.get("invocations"):
        n = scheduler["invocations"]
        memory = {**_model.MEMORY_MB, **template_memory()}.get("sweep-scheduler", 256)
        a["sweep_scheduler_ms"] = (
            scheduler["cpu_ms"] / n * stretch(memory)
            + scheduler["aws_calls"] / n / SCHEDULER_CONCURRENCY * a["aws_call_ms"]
        )
    return a


# -- one function, one chain ----------------------------------------------------------------------


def _waits(counts: dict[str, float], vendor: bool, a: dict[str, Any] = _model.ASSUMPTIONS) -> float:
    return (
        counts["aws_calls"] * a["aws_call_ms"]
        + counts["gateway_posts"] * a["gateway_ms"]
        + counts["lwa_calls"] * a["lwa_ms"]
        + (counts["vendor_calls"] * a["vendor_ms"] if vendor else 0.0)
    )


def function_ms(
    results: dict[str, Any],
    style: str,
    function: str,
    memory_mb: float,
    cold: bool,
    vendor: bool = True,
    platform: bool = False,
) -> float | None:
    """Modelled latency of one invocation of ``function`` on ``style``'s path; None if a figure
    it needs was not measured in this run. ``platform`` (cold only): with the assumed sandbox
    start (``PLATFORM_INIT_MS`` + ``RUNTIME_INIT_CPU_MS`` stretched)."""
    counts = _counts(results, style, function, cold)
    if counts is None:
        return None
    counts = dict(counts)
    s = stretch(memory_mb)
    if not cold:
        cpu = warm_cpu(results, style, function)
        return None if cpu is None else cpu * s + _waits(counts, vendor)
    cpu = cold_cpu(results).get(function)
    if cpu is None:
        return None
    if function == "dispatcher":
        counts["lwa_calls"] = max(counts["lwa_calls"], COLD_LWA_CALLS)
    from bulb_workbench.bench._scenarios import FLOOR_CLIENTS

    clients = len(FLOOR_CLIENTS.get(MODULES[function], ()))
    own = cpu * s + clients * CONNECT_MS + _waits(counts, vendor)
    return own + (PLATFORM_INIT_MS + RUNTIME_INIT_CPU_MS * s if platform else 0.0)


def chain(
    results: dict[str, Any],
    style: str,
    memory: dict[str, int],
    cold: bool,
    vendor: bool = True,
    platform: bool = False,
    hops: str = "p50",
) -> dict[str, Any]:
    """``{"total_ms", "steps": [(name, ms)]}`` of ``style``'s path; total None if incomplete.
    ``hops``: the SQS hops at their median (``p50``) or ``p90``."""
    steps: list[tuple[str, float | None]] = []
    for step in PATHS[style]:
        if step == "invoke":
            steps.append(("invoke", INVOKE_MS))
        elif step in ("sqs", "sqs-fifo"):
            kind = "fifo" if step == "sqs-fifo" else "standard"
            hop = (SQS_HOP_P90_MS if hops == "p90" else SQS_HOP_MS)[kind]
            steps.append(("SQS FIFO" if kind == "fifo" else "SQS", hop))
        else:
            steps.append(
                (
                    step,
                    function_ms(
                        results, style, step, memory.get(step, 256), cold, vendor, platform
                    ),
                )
            )
    total = None if any(ms is None for _, ms in steps) else sum(ms for _, ms in steps)  # type: ignore[misc]
    return {"total_ms": total, "steps": steps}


def chains(results: dict[str, Any], memory: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Cold (``cold_chain_ms``; and with the assumed sandbox start) and warm chains per
    style at ``memory``."""
    return {
        style: {
            "cold": chain(results, style, memory, cold=True),
            "cold_with_platform": chain(results, style, memory, cold=True, platform=True),
            "warm": chain(results, style, memory, cold=False, vendor=False),
            "warm_with_vendor": chain(results, style, memory, cold=False),
            "cold_p90_hops": chain(results, style, memory, cold=True, hops="p90"),
            "warm_p90_hops": chain(results, style, memory, cold=False, vendor=False, hops="p90"),
        }
        for style in STYLES
    }


# -- cost ---------------------------------------------------------------------------------------


def _invocation_dollars(
    results: dict[str, Any], style: str, function: str, memory_mb: float
) -> float | None:
    """Lambda dollars of one invocation: warm billed duration x GB + request, plus the INIT
    phase of ``COLD_START_SHARE`` of invocations."""
    counts = _counts(results, style, function, cold=False)
    cpu = cold_cpu(results).get(function)
    if counts is None:
        return None
    p, gb = _model.PRICES, memory_mb / 1024
    warm = max(1.0, counts["cpu_ms"] * stretch(memory_mb) + _waits(counts, vendor=True))
    init = (RUNTIME_INIT_CPU_MS + (cpu or 0.0)) * stretch(memory_mb)
    return (warm + COLD_START_SHARE * init) / 1000 * gb * p["lambda_gb_s"] + p["lambda_request"]


def _style_of(function: str) -> str:
    return (
        function.split("-", 1)[1]
        if function.startswith("processor-")
        else {"notifications": "async", "poller": "polling"}.get(function, "sync")
    )


def power_table(
    results: dict[str, Any], functions: list[str] | None = None
) -> dict[str, dict[int, dict[str, Any]]]:
    """Per function and memory: cold and warm latency ms (alone, waits included) and Lambda
    dollars per directive that invokes it (its style's path; the entrypoint and dispatcher on
    the sync path)."""
    functions = functions or [f for step in PATHS.values() for f in step if f in MODULES]
    table: dict[str, dict[int, dict[str, Any]]] = {}
    for function in dict.fromkeys(functions):
        style = _style_of(function)
        per = (((results.get("cost") or {}).get("styles") or {}).get(style) or {}).get("warm", {})
        invocations = per.get("functions", {}).get(function, {}).get("invocations", 1.0)
        table[function] = {}
        for memory in MEMORIES:
            dollars = _invocation_dollars(results, style, function, memory)
            table[function][memory] = {
                "cold_ms": function_ms(results, style, function, memory, cold=True),
                "cold_with_platform_ms": function_ms(
                    results, style, function, memory, cold=True, platform=True
                ),
                "warm_ms": function_ms(results, style, function, memory, cold=False),
                "usd_per_directive": None if dollars is None else dollars * invocations,
            }
    return table


def init_monthly(results: dict[str, Any], users: int, memory: dict[str, int]) -> float:
    """Monthly dollars of the INIT phase (billed since 1 August 2025) of the directive path's
    functions, ReportState and Discover: ``COLD_START_SHARE`` of their invocations, each billed
    (runtime start + first-invocation CPU) stretched, at its memory."""
    cost = results.get("cost") or {}
    cpu = cold_cpu(results)
    a, p = _model.ASSUMPTIONS, _model.PRICES
    days = a["days_per_month"]
    units: list[tuple[dict[str, Any], float]] = [
        (cost["styles"][s]["warm"], users * share * a["control_per_user_day"] * days)
        for s, share in a["style_mix"].items()
        if s in cost.get("styles", {})
    ]
    if "report_state" in cost:
        units.append((cost["report_state"], users * a["report_state_per_user_day"] * days))
    if "discover" in cost:
        units.append((cost["discover"], users * a["discover_per_user_month"]))
    gb_s = 0.0
    for unit, n in units:
        for function, f in unit["functions"].items():
            if function not in cpu:
                continue
            mb = memory.get(function, 256)
            gb_s += (
                n
                * f["invocations"]
                * COLD_START_SHARE
                * (RUNTIME_INIT_CPU_MS + cpu[function])
                * stretch(mb)
                / 1000
                * mb
                / 1024
            )
    return gb_s * p["lambda_gb_s"]


#: The memory choice keeps each chain this share under its goal: the cold CPU of one function
#: varies by about 5 % from one run to the next on this machine, so the cheapest sizes that meet
#: a goal by a few ms would miss it on the next run.
CHOICE_MARGIN = 0.05


def choose_memory(
    results: dict[str, Any],
    budget_usd: float = 0.01,
    users: int = 1_000_000,
    margin: float = CHOICE_MARGIN,
) -> dict[str, Any]:
    """The MemorySize per path function that brings the chains closest to the goals less
    ``margin`` (the sum of each chain's excess over that, cold and warm), then costs the least;
    only
    combinations whose modelled bill (``bulb_workbench.bench._model.monthly`` at these sizes + INIT)
    stays within ``budget_usd`` per user-month. Returns the choice and its figures."""
    functions = list(dict.fromkeys(f for step in PATHS.values() for f in step if f in MODULES))
    if not cold_cpu(results) or "styles" not in (results.get("cost") or {}):
        return {}
    shared = ["entrypoint", "dispatcher"]
    own = {s: [f for f in PATHS[s] if f in MODULES and f not in shared] for s in STYLES}
    best: tuple[Any, ...] | None = None
    saved = dict(_model.MEMORY_MB)
    try:
        for ep, dp in itertools.product(MEMORIES, MEMORIES):
            memory = {"entrypoint": ep, "dispatcher": dp}
            excess = 0.0
            for style in STYLES:
                # each style's own functions independently: the cheapest of the least excess
                options = []
                for sizes in itertools.product(MEMORIES, repeat=len(own[style])):
                    trial = {**memory, **dict(zip(own[style], sizes, strict=False))}
                    c = chain(results, style, trial, cold=True)["total_ms"]
                    w = chain(results, style, trial, cold=False, vendor=False)["total_ms"]
                    if c is None or w is None:
                        continue
                    miss = max(0.0, c - COLD_GOALS[style] * (1 - margin)) + max(
                        0.0, w - WARM_GOAL * (1 - margin)
                    )
                    options.append((round(miss), sum(sizes), sizes))
                if not options:
                    return {}
                miss, _, sizes = min(options)
                memory.update(zip(own[style], sizes, strict=False))
                excess += miss
            _model.MEMORY_MB.update(memory)
            bill = _model.monthly(results["cost"], users, measured_assumptions(results))[
                "total"
            ] + init_monthly(results, users, memory)
            per_user = bill / users
            key = (per_user > budget_usd, round(excess), per_user)
            if best is None or key < best[0]:
                best = (key, dict(memory), per_user)
    finally:
        _model.MEMORY_MB.clear()
        _model.MEMORY_MB.update(saved)
    assert best is not None
    (over, excess, _), memory, per_user = best
    return {
        "memory": {f: memory[f] for f in functions},
        "excess_ms": excess,
        "usd_per_user_month": per_user,
        "within_budget": not over,
    }


def figures(results: dict[str, Any], users: int = 1_000_000) -> dict[str, Any]:
    """The figures ``bench/results.json`` carries, at the templates' memory sizes."""
    memory = {**_model.MEMORY_MB, **template_memory()}
    out: dict[str, Any] = {"memory_mb": memory}
    if cold_cpu(results) and "styles" in (results.get("cost") or {}):
        c = chains(results, memory)
        out["cold_chain_ms"] = {s: _round(v["cold"]["total_ms"]) for s, v in c.items()}
        out["cold_chain_with_platform_ms"] = {
            s: _round(v["cold_with_platform"]["total_ms"]) for s, v in c.items()
        }
        out["warm_chain_ms"] = {s: _round(v["warm"]["total_ms"]) for s, v in c.items()}
        out["warm_chain_with_vendor_ms"] = {
            s: _round(v["warm_with_vendor"]["total_ms"]) for s, v in c.items()
        }
        out["chain_ms_with_p90_hops"] = {
            s: {
                "cold": _round(v["cold_p90_hops"]["total_ms"]),
                "warm": _round(v["warm_p90_hops"]["total_ms"]),
            }
            for s, v in c.items()
        }
        out["chains"] = {
            s: {
                k: [[n, _round(ms)] for n, ms in v[k]["steps"]]
                for k in ("cold", "cold_with_platform", "warm")
            }
            for s, v in c.items()
        }
    cost = results.get("cost") or {}
    if "styles" in cost:
        saved = dict(_model.MEMORY_MB)
        try:
            _model.MEMORY_MB.update(memory)
            bill = _model.monthly(cost, users, measured_assumptions(results))
        finally:
            _model.MEMORY_MB.clear()
            _model.MEMORY_MB.update(saved)
        init = init_monthly(results, users, memory) if cold_cpu(results) else 0.0
        out["cost_per_user_month_usd"] = round((bill["total"] + init) / users, 5)
        a = measured_assumptions(results)
        out["cost_model"] = {
            "users": users,
            "monthly_usd": round(bill["total"], 2),
            "init_monthly_usd": round(init, 2),
            "sweep_monthly_usd": round(_model.sweep_total(bill), 2),
            "measured": {
                k: round(a[k], 3)
                for k in ("sweep_cpu_ms_per_bulb", "sweep_scheduler_ms")
                if a[k] != _model.ASSUMPTIONS[k]
            },
        }
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
