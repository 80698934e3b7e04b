"""The on-paper cost and scale model: counted requests (``bench.cost``) x AWS list prices.

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

#: MemorySize per function in infra/*.yaml.
MEMORY_MB = {"entrypoint": 512, "dispatcher": 256, "notifications": 256, "poller": 256, "sweep": 256,
             "processor-sync": 256, "processor-async": 256, "processor-optimistic": 256,
             "processor-polling": 256}

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
}


def billed_ms(function: str, f: dict[str, float], a: dict[str, Any] = ASSUMPTIONS) -> float:
    """Billed duration of one warm invocation: CPU stretched to the function's vCPU share, plus
    waiting on AWS calls, the vendor, the gateway and LWA. Per invocation (``f`` is per directive)."""
    n = f["invocations"] or 1
    cpu = f["cpu_ms"] / n * max(1.0, a["vcpu_mb"] / MEMORY_MB.get(function, 256))
    wait = (f["aws_calls"] * a["aws_call_ms"] + f["vendor_calls"] * a["vendor_ms"]
            + f["gateway_posts"] * a["gateway_ms"] + f["lwa_calls"] * a["lwa_ms"]) / n
    return max(1.0, cpu + wait)


def dollars(unit: dict[str, Any], a: dict[str, Any] = ASSUMPTIONS, per_invocation: bool = True) -> dict[str, float]:
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
        sqs += requests * (p["sqs_fifo_request"] if queue.endswith(".fifo") else p["sqs_standard_request"])
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
        rows[f"control ({style})"] = {k: v * n for k, v in dollars(cost["styles"][style]["warm"], a).items()}
    rows["ReportState"] = {k: v * users * a["report_state_per_user_day"] * days
                           for k, v in dollars(cost["report_state"], a).items()}
    rows["Discover"] = {k: v * users * a["discover_per_user_month"] for k, v in dollars(cost["discover"], a).items()}
    # the sweep: every minute, every user of a vendor that does not push (every style but async)
    sweep = cost["sweep_user_3_bulbs"]
    swept_users = users * (1 - a["style_mix"].get("async", 0))
    per_sweep = dollars(sweep, a, per_invocation=False)
    # the bench sweeps 3 bulbs per user: scale DynamoDB and vendor-driven Lambda time to the
    # assumed bulbs per user (list once per user, read/query/write once per bulb)
    scale = a["bulbs_per_user"] / 3
    sweeps = swept_users * 60 * 24 * days
    rows["sweep (each minute)"] = {k: v * sweeps * (scale if k in ("dynamodb", "lambda") else 1)
                                   for k, v in per_sweep.items()}
    rows["sweep (each minute)"]["lambda"] += 60 * 24 * days * PRICES["lambda_request"]
    totals: dict[str, float] = {}
    for row in rows.values():
        for k, v in row.items():
            totals[k] = totals.get(k, 0.0) + v
    # the LWA, vendor and Alexa client (Cognito) secrets; the tokens and credentials keys
    fixed = 3 * PRICES["secret_month"] + 2 * PRICES["kms_key_month"]
    return {"rows": rows, "totals": totals, "fixed": fixed,
            "total": sum(totals.values()) + fixed}


def sweep_capacity(cost: dict[str, Any], a: dict[str, Any] = ASSUMPTIONS, timeout_s: float = 55) -> float:
    """Users one sweep invocation can cover before its timeout, at the assumed vendor latency
    (the sweep reads every user's devices one call after the other)."""
    f = cost["sweep_user_3_bulbs"]["functions"]["sweep"]
    per_user_calls = 1 + a["bulbs_per_user"]  # list + one state read per bulb
    per_user_aws = f["aws_calls"] / 3 * a["bulbs_per_user"]
    per_user_ms = (per_user_calls * a["vendor_ms"] + per_user_aws * a["aws_call_ms"]
                   + f["cpu_ms"] / 3 * a["bulbs_per_user"] * a["vcpu_mb"] / MEMORY_MB["sweep"])
    return timeout_s * 1000 / per_user_ms
