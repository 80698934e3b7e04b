"""The on-paper cost and scale model: counted requests (``bulb_workbench.bench.cost``) x AWS list
prices.

Prices: us-east-1, on-demand, arm64 Lambda, without free tiers: the AWS list prices (Lambda, SQS,
DynamoDB on-demand as cut in November 2024, API Gateway HTTP APIs, Secrets Manager, CloudWatch
Logs) as the author knew them when writing this model (``PRICES_AS_OF``). They were NOT re-read
from the pricing pages for this run (no network): check them before relying on the dollars, and
change ``PRICES`` when they move. The request counts, not the prices, are what the benchmark
measures.
"""

from __future__ import annotations

from typing import Any

PRICES_AS_OF = "the prices in force since the DynamoDB on-demand cut of 1 November 2024"
PRICES = {
    "lambda_gb_s": 0.0000133334,  # arm64, first 7.5 billion GB-s a month
    "lambda_request": 0.20 / 1e6,
    "sqs_standard_request": 0.40 / 1e6,  # per 64 KB chunk
    "sqs_fifo_request": 0.50 / 1e6,
    "dynamodb_wru": 0.625 / 1e6,  # on-demand write request unit
    "dynamodb_rru": 0.125 / 1e6,  # on-demand read request unit
    "http_api_request": 1.00 / 1e6,  # first 300 million a month
    "secrets_api_call": 0.05 / 10_000,
    "secret_month": 0.40,
    "kms_key_month": 1.00,  # a customer-managed key (requests: $0.03 per 10,000, not counted)
    "logs_ingest_gb": 0.50,
}

#: MemorySize per function, the defaults of the model; ``make bench`` replaces them with the
#: sizes infra/*.yaml declares (``bulb_workbench.bench._chain.template_memory``) before it
#: renders its figures.
MEMORY_MB = {
    "entrypoint": 1769,
    "dispatcher": 1769,
    "notifications": 1769,
    "poller": 1769,
    "processor-sync": 1769,
    "processor-async": 1769,
    "processor-optimistic": 1769,
    "processor-polling": 1769,
    "linking": 512,
    "sweep-scheduler": 256,
    "sweep": 192,
}

ASSUMPTIONS = {
    "bulbs_per_user": 5,
    "control_per_user_day": 10,
    "report_state_per_user_day": 5,
    "discover_per_user_month": 1,
    "style_mix": {"sync": 0.25, "async": 0.25, "optimistic": 0.25, "polling": 0.25},
    # in-region latency of one AWS API call (SQS, DynamoDB) and of the gateway POST, for the
    # billed duration; vendor API latency
    "aws_call_ms": 6.0,
    "gateway_ms": 80.0,
    "vendor_ms": 150.0,
    "lwa_ms": 150.0,
    # Lambda gives a function memory/1769 of a vCPU: CPU-bound work stretches by 1769/memory
    "vcpu_mb": 1769.0,
    "platform_log_bytes_per_invocation": 300,  # START/END/REPORT lines
    "days_per_month": 30,
    # the sweep (docs/scale.md): hours of the day at which a user sends commands (each keeps the
    # account read each minute for an hour, then backs off 5, 15, 60 minutes)
    "activity_hours": (7, 18, 22),
    "outside_changes_per_user_day": 2,  # app, wall switch: a ChangeReport each
    "cadence_writes": 4,  # schedule writes per activity session (1 -> 5 -> 15 -> 60 minutes)
    "sweep_quota_share": 0.2,  # SweepQuotaShare
    "sweep_concurrency": 16,  # SWEEP_CONCURRENCY
    "sweep_batch": 100,  # the consumer's BatchSize
    "sweep_cpu_ms_per_bulb": 0.6,  # the worker's CPU per light compared, at a full vCPU
    "sweep_scheduler_ms": 300.0,  # the slot queries, 4 at a time, at 256 MB (measured: bench cost)
    "sweep_slot_queries_per_minute": 12,  # 12 cadences x skill.cadence.SHARDS (1)
    # each swept style's vendor quotas (the adapters' ``quotas``): sync LIFX, optimistic Hue,
    # polling Govee
    "vendor_quotas": {
        "sync": {"calls_per_minute_per_account": 120},
        "optimistic": {"calls_per_minute_per_account": 600},
        "polling": {"calls_per_day_per_account": 10_000, "calls_per_minute_per_device": 10},
    },
}


def billed_ms(function: str, f: dict[str, float], a: dict[str, Any] = ASSUMPTIONS) -> float:
    """Billed duration of one warm invocation: CPU stretched to the function's vCPU share, plus
    waiting on AWS calls, the vendor, the gateway and LWA. Per invocation (``f``: per directive).
    """
    n = f["invocations"] or 1
    cpu = f["cpu_ms"] / n * max(1.0, a["vcpu_mb"] / MEMORY_MB.get(function, 256))
    wait = (
        f["aws_calls"] * a["aws_call_ms"]
        + f["vendor_calls"] * a["vendor_ms"]
        + f["gateway_posts"] * a["gateway_ms"]
        + f["lwa_calls"] * a["lwa_ms"]
    ) / n
    return max(1.0, cpu + wait)


def dollars(
    unit: dict[str, Any], a: dict[str, Any] = ASSUMPTIONS, per_invocation: bool = True
) -> dict[str, float]:
    """Cost of one unit of work (a directive, a sweep of one user...) by service, in dollars.
    ``per_invocation=False``: the unit is a share of an invocation (the sweep's users), so
    Lambda requests and platform log lines are not charged per unit."""
    p = PRICES
    per = unit["per_directive"]
    lam_gbs = lam_req = sqs = 0.0
    http = 0.0
    consumer_invocations = {"fifo": 0.0, "standard": 0.0}
    for function, f in unit["functions"].items():
        mem = MEMORY_MB.get(function, 256)
        lam_gbs += f["invocations"] * billed_ms(function, f, a) / 1000 * mem / 1024
        lam_req += f["invocations"]
        if function.startswith("processor-"):
            consumer_invocations["fifo"] += f["invocations"]
        elif function in ("poller", "dispatcher"):
            consumer_invocations["standard"] += f["invocations"]
        elif function == "notifications":
            http += f["invocations"]
    for queue, requests in per.get("sqs_requests", {}).items():
        sqs += requests * (
            p["sqs_fifo_request"] if queue.endswith(".fifo") else p["sqs_standard_request"]
        )
    # the event source mapping: one ReceiveMessage and one DeleteMessageBatch per batch
    sqs += 2 * consumer_invocations["fifo"] * p["sqs_fifo_request"]
    sqs += 2 * consumer_invocations["standard"] * p["sqs_standard_request"]
    if not per_invocation:
        lam_req = 0.0
    logs = (unit.get("log_bytes", 0) + lam_req * a["platform_log_bytes_per_invocation"]) / 1e9
    return {
        "lambda": lam_gbs * p["lambda_gb_s"] + lam_req * p["lambda_request"],
        "sqs": sqs,
        "dynamodb": per.get("wru", 0) * p["dynamodb_wru"] + per.get("rru", 0) * p["dynamodb_rru"],
        "http_api": http * p["http_api_request"],
        "logs": logs * p["logs_ingest_gb"],
    }


def monthly(cost: dict[str, Any], users: int, a: dict[str, Any] = ASSUMPTIONS) -> dict[str, Any]:
    """Monthly dollars by service and by activity for ``users`` users."""
    days = a["days_per_month"]
    rows: dict[str, dict[str, float]] = {}
    for style, share in a["style_mix"].items():
        n = users * share * a["control_per_user_day"] * days
        rows[f"control ({style})"] = {
            k: v * n for k, v in dollars(cost["styles"][style]["warm"], a).items()
        }
    rows["ReportState"] = {
        k: v * users * a["report_state_per_user_day"] * days
        for k, v in dollars(cost["report_state"], a).items()
    }
    rows["Discover"] = {
        k: v * users * a["discover_per_user_month"] for k, v in dollars(cost["discover"], a).items()
    }
    # the sweep (docs/scale.md): each swept account read on its adaptive cadence by a bounded
    # pool; per vendor style, its reads a day, calls a read, and what each read costs
    for style, account_day in sweep_account_day(a).items():
        n = users * a["style_mix"][style] * days
        rows[f"sweep ({style})"] = {k: v * n for k, v in account_day["dollars"].items()}
    minutes = 60 * 24 * days  # the scheduler: one invocation and its slot queries each minute
    scheduler_gb_s = a["sweep_scheduler_ms"] / 1000 * MEMORY_MB.get("sweep-scheduler", 256) / 1024
    rows["sweep scheduler"] = {
        "lambda": minutes * (PRICES["lambda_request"] + scheduler_gb_s * PRICES["lambda_gb_s"]),
        "dynamodb": minutes * a["sweep_slot_queries_per_minute"] * 0.5 * PRICES["dynamodb_rru"],
    }
    outside = users * a["outside_changes_per_user_day"] * days
    rows["ChangeReports (outside changes)"] = {
        k: v * outside for k, v in dollars(cost["report_state"], a).items()
    }
    totals: dict[str, float] = {}
    for row in rows.values():
        for k, v in row.items():
            totals[k] = totals.get(k, 0.0) + v
    # the LWA, vendor and Alexa client (Cognito) secrets; the tokens and credentials keys
    fixed = 3 * PRICES["secret_month"] + 2 * PRICES["kms_key_month"]
    return {"rows": rows, "totals": totals, "fixed": fixed, "total": sum(totals.values()) + fixed}


def sweep_total(model: dict[str, Any]) -> float:
    """Monthly dollars of every sweep row of a ``monthly`` model."""
    return sum(sum(row.values()) for name, row in model["rows"].items() if name.startswith("sweep"))


def reads_per_account_day(floor: int = 1, a: dict[str, Any] = ASSUMPTIONS) -> int:
    """Reads of one account in a day on the adaptive cadence (``skill.cadence``): the activity
    model is ``activity_hours`` (a session of commands at each), read each minute for an hour
    after, then every 5 minutes to 6 h, every 15 to 24 h; never faster than ``floor`` (the
    vendor's quota floor). Counted minute by minute over the day, as the slots fall due."""
    from skill import cadence

    sessions = sorted(h * 60 for h in a["activity_hours"])
    reads = 0
    for minute in range(24 * 60):
        past = [s for s in sessions if s <= minute] or [sessions[-1] - 24 * 60]
        every = max(
            cadence.on_ladder(cadence.activity_cadence(minute * 60.0, past[-1] * 60.0)), floor
        )
        reads += minute % every == 0
    return reads


#: What a read of one account costs, per vendor style: a StateLister (LIFX: sync; Hue:
#: optimistic) lists every light with its state in one call; the others list then read each.
SWEEP_STYLES = {"sync": "lister", "optimistic": "lister", "polling": "per-device"}


def sweep_account_day(a: dict[str, Any] = ASSUMPTIONS) -> dict[str, dict[str, Any]]:
    """Per swept style (async pushes: not swept): reads and vendor calls of one account a day,
    its quota floor, the Lambda milliseconds and the dollars by service.

    One SQS message per read (sent in batches of 10: 0.1 SendMessageBatch; the consumer's
    ReceiveMessage and DeleteMessageBatch take 10 each: 0.2), one GSI query of its owners per
    read (0.5 RRU), no write per read (a write when the cadence changes: ``cadence_writes``
    per activity session, and one owner write per outside change). Lambda: a bounded pool of
    ``SWEEP_CONCURRENCY`` reads at once bills the vendor waits shared, the CPU not."""
    from skill import cadence
    from skill.plugins import VendorQuotas

    bulbs, share = a["bulbs_per_user"], a["sweep_quota_share"]
    out: dict[str, dict[str, Any]] = {}
    for style, kind in SWEEP_STYLES.items():
        lister = kind == "lister"
        calls = cadence.calls_per_read(lister, bulbs)
        quotas = VendorQuotas(**a["vendor_quotas"][style])
        floor = cadence.quota_floor(quotas, calls, bulbs, share)
        reads = reads_per_account_day(floor, a)
        wait_ms = calls * a["vendor_ms"] + a["aws_call_ms"]  # the owners' GSI query
        cpu_ms = a["sweep_cpu_ms_per_bulb"] * bulbs * a["vcpu_mb"] / MEMORY_MB.get("sweep", 256)
        ms = cpu_ms + wait_ms / a["sweep_concurrency"]
        gb_s = reads * ms / 1000 * MEMORY_MB.get("sweep", 256) / 1024
        invocations = reads / a["sweep_batch"]
        writes = len(a["activity_hours"]) * a["cadence_writes"] + a["outside_changes_per_user_day"]
        out[style] = {
            "reads": reads,
            "calls_per_read": calls,
            "calls": reads * calls,
            "floor": floor,
            "lambda_ms": reads * ms,
            "dollars": {
                "lambda": gb_s * PRICES["lambda_gb_s"] + invocations * PRICES["lambda_request"],
                "sqs": reads * 0.3 * PRICES["sqs_standard_request"],
                "dynamodb": reads * 0.5 * PRICES["dynamodb_rru"] + writes * PRICES["dynamodb_wru"],
            },
        }
    return out


def sweep_accounts_per_invocation(a: dict[str, Any] = ASSUMPTIONS, timeout_s: float = 55) -> float:
    """Accounts one sweep worker invocation reads before its timeout: a bounded pool of
    ``sweep_concurrency`` reads at once (the vendor waits overlap; the CPU, one vCPU share at
    the worker's memory, does not), over the swept styles' mix of calls per read. A batch is at
    most ``sweep_batch`` messages, so this is the headroom, not the batch."""
    bulbs = a["bulbs_per_user"]
    swept = {s: a["style_mix"][s] for s in SWEEP_STYLES}
    total = sum(swept.values()) or 1.0
    calls = sum(
        share / total * (1 if SWEEP_STYLES[s] == "lister" else 1 + bulbs)
        for s, share in swept.items()
    )
    wait_ms = calls * a["vendor_ms"] + a["aws_call_ms"]
    cpu_ms = a["sweep_cpu_ms_per_bulb"] * bulbs * a["vcpu_mb"] / MEMORY_MB.get("sweep", 256)
    return timeout_s * 1000 / (cpu_ms + wait_ms / a["sweep_concurrency"])
