"""The bench's chain model and stub cloud: what ``bench/results.json``'s cold chains mean, and the
sweep's index queries the stub answers (no measurement here, no network)."""

from __future__ import annotations

import pytest

from bulb_workbench.bench import _chain, _model
from bulb_workbench.bench._scenarios import FLOOR_CLIENTS
from bulb_workbench.bench._stubs import StubCloud

SYNC = ("entrypoint", "processor-sync", "dispatcher")


def _results(cpu_ms: float = 100.0) -> dict:
    """A run whose cold section measured ``cpu_ms`` for every function of the sync path and
    whose cost section counted one AWS call and one vendor call per processor invocation."""
    summary = {_chain.MODULES[f]: {"n": 3, "cpu_ms": cpu_ms} for f in SYNC}
    calls = {
        "invocations": 1.0,
        "cpu_ms": 2.0,
        "aws_calls": 1.0,
        "vendor_calls": 0.0,
        "gateway_posts": 0.0,
        "lwa_calls": 0.0,
    }
    functions = {f: dict(calls) for f in SYNC}
    functions["processor-sync"]["vendor_calls"] = 1.0
    functions["dispatcher"]["gateway_posts"] = 1.0
    warm = {"functions": functions}
    return {
        "cold": {"interpreters": {"3.13.0": {"summary": {"pyc": summary}}}},
        "cost": {"styles": {"sync": {"warm": warm, "first": warm}}},
    }


def test_the_cold_chain_is_measured_cpu_stretched_plus_the_hops_nothing_assumed_of_the_sandbox():
    a = _model.ASSUMPTIONS
    memory = dict.fromkeys(SYNC, 512)
    stretch = a["vcpu_mb"] / 512
    cold = _chain.chain(_results(), "sync", memory, cold=True)
    hops = _chain.INVOKE_MS + _chain.SQS_HOP_MS["fifo"] + _chain.SQS_HOP_MS["standard"]
    calls = (
        3 * a["aws_call_ms"]
        + a["vendor_ms"]
        + a["gateway_ms"]
        + _chain.COLD_LWA_CALLS * a["lwa_ms"]
        + _chain.CONNECT_MS * sum(len(FLOOR_CLIENTS[_chain.MODULES[f]]) for f in SYNC)
    )
    assert cold["total_ms"] == pytest.approx(3 * 100.0 * stretch + hops + calls)


def test_the_cold_chain_with_the_platform_adds_each_function_s_assumed_sandbox_start():
    memory = dict.fromkeys(SYNC, 1024)
    stretch = _model.ASSUMPTIONS["vcpu_mb"] / 1024
    cold = _chain.chain(_results(), "sync", memory, cold=True)["total_ms"]
    platform = _chain.chain(_results(), "sync", memory, cold=True, platform=True)["total_ms"]
    per_function = _chain.PLATFORM_INIT_MS + _chain.RUNTIME_INIT_CPU_MS * stretch
    assert platform - cold == pytest.approx(3 * per_function)


def test_each_style_has_both_cold_chains_and_none_where_a_figure_was_not_measured():
    chains = _chain.chains(_results(), dict.fromkeys(SYNC, 1769))
    assert chains["sync"]["cold"]["total_ms"] < chains["sync"]["cold_with_platform"]["total_ms"]
    assert chains["async"]["cold"]["total_ms"] is None  # not measured: no figure, not a guess


def test_the_measured_sweep_cpu_replaces_the_model_s_assumption():
    results = _results()
    results["cost"]["sweep_user_3_bulbs"] = {
        "functions": {"sweep": {"invocations": 2.0, "cpu_ms": 12.0}}
    }
    a = _chain.measured_assumptions(results)
    assert a["sweep_cpu_ms_per_bulb"] == pytest.approx(12.0 / 2 / 3)
    assert a["sweep_scheduler_ms"] == _model.ASSUMPTIONS["sweep_scheduler_ms"]  # not measured


def test_the_stub_answers_index_queries_from_the_items_that_carry_the_index_keys():
    cloud = StubCloud()
    owner = {
        "pk": {"S": "owner#e1"},
        "sk": {"S": "user#u1"},
        "owner_user": {"S": "u1"},
        "owner_sort": {"S": "lifx#e1"},
    }
    other = {
        "pk": {"S": "owner#e2"},
        "sk": {"S": "user#u1"},
        "owner_user": {"S": "u1"},
        "owner_sort": {"S": "hue#e2"},
    }
    account = {"pk": {"S": "account#lifx#u1"}, "sk": {"S": "sweep"}, "slot": {"S": "1#0#3"}}
    unswept = {"pk": {"S": "account#hue#u1"}, "sk": {"S": "sweep"}}
    for item in (owner, other, account, unswept):
        cloud.put("state", item)
    owners = cloud._Query(
        {
            "TableName": "bulb-skill-state",
            "IndexName": "OwnersByUser",
            "KeyConditionExpression": "owner_user = :user AND begins_with(owner_sort, :vendor)",
            "ExpressionAttributeValues": {":user": {"S": "u1"}, ":vendor": {"S": "lifx#"}},
        }
    )
    assert owners["Items"] == [owner]
    due = cloud._Query(
        {
            "TableName": "bulb-skill-state",
            "IndexName": "SweepSlots",
            "KeyConditionExpression": "slot = :slot",
            "ExpressionAttributeValues": {":slot": {"S": "1#0#3"}},
        }
    )
    assert due["Items"] == [account]
    assert cloud.ledger.requests == {
        "dynamodb.Query[OwnersByUser]:state": 1,
        "dynamodb.Query[SweepSlots]:state": 1,
    }


def _every_style(cpu_ms: float) -> dict:
    """A run that measured ``cpu_ms`` of cold CPU for every function of every style's path."""
    functions = {f for path in _chain.PATHS.values() for f in path if f in _chain.MODULES}
    summary = {_chain.MODULES[f]: {"n": 3, "cpu_ms": cpu_ms} for f in functions}
    styles = {}
    for style, path in _chain.PATHS.items():
        counts = {
            f: {
                "invocations": 1.0,
                "cpu_ms": 2.0,
                "aws_calls": 1.0,
                "vendor_calls": 1.0 if f.startswith("processor-") else 0.0,
                "gateway_posts": 1.0 if f == "dispatcher" else 0.0,
                "lwa_calls": 0.0,
            }
            for f in path
            if f in _chain.MODULES
        }
        styles[style] = {"warm": {"functions": counts}, "first": {"functions": counts}}
    return {
        "cold": {"interpreters": {"3.13.0": {"summary": {"pyc": summary}}}},
        "cost": {"styles": styles},
    }


def test_the_memory_choice_keeps_a_margin_under_each_goal(monkeypatch):
    monkeypatch.setattr(_model, "monthly", lambda *a, **k: {"total": 0.0})  # cost is no object
    monkeypatch.setattr(_chain, "init_monthly", lambda *a, **k: 0.0)
    results = _every_style(cpu_ms=370.0)  # one function of the sync path at 1024 MB: ~1,930 ms
    tight = _chain.choose_memory(results, margin=0.0)
    kept = _chain.choose_memory(results)
    sync = [f for f in _chain.PATHS["sync"] if f in _chain.MODULES]

    def cold(choice):
        return _chain.chain(results, "sync", choice["memory"], cold=True)["total_ms"]

    goal = _chain.COLD_GOALS["sync"]
    assert cold(tight) < goal and cold(tight) > goal * (1 - _chain.CHOICE_MARGIN)
    assert cold(kept) <= goal * (1 - _chain.CHOICE_MARGIN)
    assert sum(kept["memory"][f] for f in sync) > sum(tight["memory"][f] for f in sync)
