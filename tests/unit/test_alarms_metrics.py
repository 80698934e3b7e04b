"""Every alarm and every dashboard widget watches a metric some function really publishes.

A CloudWatch metric is its namespace, its name and its exact set of dimensions: an alarm on
``LateDrops{service}`` never sees ``LateDrops{service, style}``. So this test holds, per function,
what it publishes (``EMITTED``), and checks that table three ways:

- against the code, statically: every metric name the package publishes (``count("X", ...)``,
  ``_meter.count("X", {...})``, ``milliseconds("X", ...)``, ``f"Directives_{outcome}"``) is in the
  table for each function whose code publishes it, with the dimensions the call adds;
- against the code, running it: the real processor handler, the dispatcher's meter and the
  metrics sink of the other functions print their EMF documents, whose dimension sets must be
  the table's (the processors add ``style`` to everything they publish, the others publish with
  Powertools' default dimension ``service`` only);
- against the templates: each alarm's metric (single or in metric math) and each metric or
  ``SEARCH`` of the dashboard is one of the table's, in the stack's namespace and service, and an
  alarm on a metric covers every dimension set that metric is published with.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.infra._composition import ROOT, STYLES, Composition, Res, Stack

SRC = ROOT / "src" / "skill"

DISPATCHER = "skill.handlers.dispatcher.handler"
NOTIFICATIONS = "skill.handlers.notifications.handler"
PROCESSORS = {
    "sync": "skill.handlers.processors.sync.handler",
    "async": "skill.handlers.processors.async_.handler",
    "optimistic": "skill.handlers.processors.optimistic.handler",
    "polling": "skill.handlers.processors.polling.handler",
}
#: What each processor returns for a directive (``skill.pipeline.Pipeline.process``), published
#: as ``Directives_<outcome>``.
OUTCOMES = ("answered", "pending", "late")

_PROCESSOR_METRICS = (
    "LateDrops",
    "VendorErrors",
    "RateLimited",
    *(f"Directives_{o}" for o in OUTCOMES),
)
SWEEP = "skill.handlers.sweep.handler"
SCHEDULER = "skill.handlers.sweep_scheduler.handler"
#: metric -> dimension names, per function (handler). Functions not named publish nothing of
#: their own (the entrypoint, the poller, the linking pages: Lambda's own metrics only).
EMITTED: dict[str, dict[str, frozenset[str]]] = {
    DISPATCHER: {
        "LateDrops": frozenset({"service"}),
        "LwaCalls": frozenset({"service"}),
        "DeferredLatencyMs": frozenset({"service"}),
        "GatewayAnswers": frozenset({"service", "status"}),
        "DroppedEvents": frozenset({"service", "reason"}),
        "DeadLettered": frozenset({"service", "reason"}),
    },
    NOTIFICATIONS: {
        name: frozenset({"service"})
        for name in ("LateDrops", "PushesReplayed", "PushesStale", "PushesForeign", "PushesUntied")
    },
    **{
        handler: {name: frozenset({"service", "style"}) for name in _PROCESSOR_METRICS}
        for handler in PROCESSORS.values()
    },
    SWEEP: {
        name: frozenset({"service"})
        for name in ("SweepAccountsRead", "SweepAccountsSkipped", "SweepThrottled")
    },
    SCHEDULER: {"SweepAccountsDue": frozenset({"service"})},
}

#: Where the package publishes metrics: module -> the functions whose code runs it.
SITES = {
    "delivery/_sender.py": {DISPATCHER},
    "delivery/_tokens.py": {DISPATCHER},
    "pipeline/_pipeline.py": set(PROCESSORS.values()),  # Pipeline: the processors only
    "pipeline/_push.py": {NOTIFICATIONS},
    "pipeline/_scheduler.py": {SCHEDULER},
    "pipeline/_sweep.py": {SWEEP},
    "handlers/processors/_lambda.py": set(PROCESSORS.values()),
}
#: The dimensions every metric of a function carries besides those of the call itself.
BASE = {
    handler: frozenset({"service", "style"} if handler in PROCESSORS.values() else {"service"})
    for handler in EMITTED
}

_CALL = re.compile(
    r"""\b(?:count|milliseconds)\(\s*(f?)"([A-Za-z_{}]+)"\s*(?:,\s*(\{[^}]*\}))?""", re.MULTILINE
)


def published_in_code() -> dict[str, set[tuple[str, frozenset[str]]]]:
    """module (relative to src/skill) -> {(metric name, the call's own dimension names)}."""
    found: dict[str, set[tuple[str, frozenset[str]]]] = {}
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC).as_posix()
        if relative.startswith(("local/", "testing/")) or relative == "cli.py":
            continue  # the local stack's tallies and the CLI only read metrics
        for fstring, name, dims in _CALL.findall(path.read_text()):
            keys = frozenset(re.findall(r'"(\w+)"\s*:', dims or ""))
            names = [name.replace("{outcome}", o) for o in OUTCOMES] if fstring else [name]
            for metric in names:
                found.setdefault(relative, set()).add((metric, keys))
    return found


def test_every_metric_the_code_publishes_is_in_the_table_with_its_dimensions():
    found = published_in_code()
    assert set(found) == set(SITES), (
        "a module publishes metrics that SITES does not place in a function"
    )
    for module, calls in found.items():
        for handler in SITES[module]:
            for metric, keys in calls:
                assert EMITTED[handler].get(metric) == BASE[handler] | keys, (
                    module,
                    handler,
                    metric,
                )
    listed = {(h, m) for h, metrics in EMITTED.items() for m in metrics}
    seen = {(h, m) for module, calls in found.items() for h in SITES[module] for m, _ in calls}
    assert listed == seen, f"in the table but published by no code: {sorted(listed - seen)}"


def test_the_processors_outcomes_are_the_ones_published():
    text = (SRC / "pipeline" / "_pipeline.py").read_text() + (
        SRC / "pipeline" / "_styles.py"
    ).read_text()
    process = text.split("def process(", 1)[1].split("\n    def ", 1)[0]
    returned = set(re.findall(r"return DirectiveOutcome\.(\w+)", process))
    returned |= set(re.findall(r"outcome = DirectiveOutcome\.(\w+)", text))
    assert not re.search(r'(return|outcome =) "\w+"', process + text), (
        "an outcome that is no enum member"
    )
    from skill.pipeline import DirectiveOutcome

    assert {DirectiveOutcome[name].value for name in returned} == set(OUTCOMES)
    assert {o.value for o in DirectiveOutcome} == set(OUTCOMES)
    assert (
        'count(f"Directives_{outcome}", 1)'
        in (SRC / "handlers" / "processors" / "_lambda.py").read_text()
    )


def test_the_dispatcher_publishes_through_its_powertools_meter():
    dispatcher = (
        (SRC / "composition.py")
        .read_text()
        .split("def dispatcher(", 1)[1]
        .split("@cached_property", 1)[0]
    )
    assert "meter = PowertoolsMeter()" in dispatcher
    assert dispatcher.count("meter=meter") == 2, (
        "the token cache and the dispatcher count through it"
    )


# -- what the code prints --------------------------------------------------------------------------


def emf(printed: str) -> list[dict[str, Any]]:
    docs = []
    for line in printed.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and "_aws" in doc:
            docs.append(doc)
    return docs


def dimension_sets(docs: list[dict[str, Any]]) -> dict[str, set[frozenset[str]]]:
    """metric name -> the dimension sets it was printed with."""
    sets: dict[str, set[frozenset[str]]] = {}
    for doc in docs:
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "BulbSkill"
            for dims in directive["Dimensions"]:
                for metric in directive["Metrics"]:
                    sets.setdefault(metric["Name"], set()).add(frozenset(dims))
    return sets


@pytest.fixture
def powertools(monkeypatch) -> Iterator[None]:
    """Powertools Metrics as a deployed function has it: namespace and service from the
    environment, a fresh metric set."""
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "BulbSkill")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "bulb-skill")
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    from skill import observability

    observability.metrics.cache_clear()
    observability.logger()  # binds its stream now, not to a test's buffer
    yield
    observability.metrics().clear_metrics()
    observability.metrics.cache_clear()


class LambdaContext:
    function_name = "processor"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:processor"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def sqs_record(body: str) -> dict[str, Any]:
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "rh",
        "body": body,
        "attributes": {
            "MessageGroupId": "fake:color-1",
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1",
            "SenderId": "x",
            "ApproximateFirstReceiveTimestamp": "1",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:directives.fifo",
        "awsRegion": "us-east-1",
    }


def test_a_processor_publishes_with_service_and_style(powertools, monkeypatch):
    """The real sync processor handler, a directive past its deadline and one in time: what it
    prints is LateDrops and Directives_* with the dimensions service and style."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
    from skill.plugins import Style
    from tests.fakes import (
        FakeAdapter,
        MemoryOutbox,
        MemoryStateStore,
        credentials_of,
        registry_of,
        vault_with,
    )
    from tests.unit.test_pipeline import queued

    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName="idempotency",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        from skill.composition import Composition, count, using
        from skill.pipeline import PipelineServices

        adapter = FakeAdapter(style=Style.SYNC)
        services = PipelineServices(
            adapters=registry_of(adapter),
            credentials=credentials_of(vault_with(adapter)),
            outbox=MemoryOutbox(),
            pending=MemoryStateStore(),
            count=count,
        )
        from skill.handlers.processors.sync import handler

        with using(Composition(pipeline_services=services)):
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                late = queued(received=time.time() - 60).model_dump_json()
                handler({"Records": [sqs_record(late)]}, LambdaContext())
                in_time = queued(received=time.time()).model_dump_json()
                handler({"Records": [sqs_record(in_time)]}, LambdaContext())
    sets = dimension_sets(emf(printed.getvalue()))
    for metric in ("LateDrops", "Directives_late", "Directives_answered"):
        assert sets.get(metric) == {EMITTED[PROCESSORS["sync"]][metric]}, (metric, sets)


def test_the_dispatchers_meter_publishes_with_service_and_the_calls_dimensions(powertools):
    from skill.aws.metrics import PowertoolsMeter
    from skill.observability import metrics

    meter = PowertoolsMeter()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        meter.count("LateDrops")
        meter.count("LwaCalls")
        meter.milliseconds("DeferredLatencyMs", 812.0)
        meter.count("GatewayAnswers", {"status": "202"})
        meter.count("DroppedEvents", {"reason": "no_tokens"})
        meter.count("DeadLettered", {"reason": "gateway_400"})
        metrics().flush_metrics()  # as the dispatcher's handler does after each batch
    sets = dimension_sets(emf(printed.getvalue()))
    assert sets == {metric: {dims} for metric, dims in EMITTED[DISPATCHER].items()}


def test_the_other_functions_publish_with_service_only(powertools):
    """The notifications function (and the poller and sweep, should they publish) count through
    ``skill.composition.count`` and flush without adding a dimension."""
    from skill.composition import count
    from skill.observability import metrics

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for metric in EMITTED[NOTIFICATIONS]:
            count(metric, 1)
        metrics().flush_metrics()
    assert dimension_sets(emf(printed.getvalue())) == {
        m: {d} for m, d in EMITTED[NOTIFICATIONS].items()
    }
    for module in (
        "handlers/notifications.py",
        "webhooks.py",
        "handlers/poller.py",
        "handlers/sweep.py",
        "handlers/sweep_scheduler.py",
    ):
        assert "add_dimension" not in (SRC / module).read_text(), module


# -- the templates ---------------------------------------------------------------------------------


def published(comp: Composition) -> dict[str, set[frozenset[tuple[str, str]]]]:
    """metric -> every {dimension: value} set the deployed functions publish it with."""
    service = comp.root.parameter("ServiceName")
    found: dict[str, set[frozenset[tuple[str, str]]]] = {}
    handlers = {fn.handler for fn in comp.functions()}
    for handler, metrics in EMITTED.items():
        if handler not in handlers:
            continue
        style = next((s for s, h in PROCESSORS.items() if h == handler), None)
        for metric, dims in metrics.items():
            values = {"service": service, "style": style}
            fixed = frozenset((d, values[d]) for d in dims if values.get(d) is not None)
            free = dims - {d for d, _ in fixed}
            found.setdefault(metric, set()).add(fixed | frozenset((d, "*") for d in free))
    return found


def matches(watched: frozenset[tuple[str, str]], emitted: frozenset[tuple[str, str]]) -> bool:
    """A watched {dimension: value} set is an emitted one (``*``: any value the code gives)."""
    if {d for d, _ in watched} != {d for d, _ in emitted}:
        return False
    wanted = dict(emitted)
    return all("*" in (wanted[d], v) or wanted[d] == v for d, v in watched)


def alarm_metrics(props: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric, {dimension: value}) of an alarm: its one metric or each of its
    metric math's."""
    if "MetricName" in props:
        dims = {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}
        return [(props["Namespace"], props["MetricName"], dims)]
    found = []
    for query in props["Metrics"]:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            found.append(
                (
                    metric["Namespace"],
                    metric["MetricName"],
                    {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])},
                )
            )
        else:
            assert "SEARCH" not in query["Expression"], "alarms cannot use SEARCH"
    return found


COMPOSITIONS = {
    "all styles": Composition.with_styles(*STYLES),
    "sync": Composition.with_styles("Sync"),
    "renamed": Composition.with_styles(*STYLES, MetricsNamespace="Bulbs", ServiceName="bulbs"),
}


def dead_letter_queues(comp: Composition) -> set[Res]:
    targets = set()
    for res, _ in comp.resources("AWS::SQS::Queue"):
        redrive = comp.props(res).get("RedrivePolicy")
        if redrive:
            targets.add(redrive["deadLetterTargetArn"])
    return targets


@pytest.mark.parametrize("name", COMPOSITIONS)
def test_every_alarm_watches_a_metric_that_is_published(name):
    comp = COMPOSITIONS[name]
    namespace, service = comp.root.parameter("MetricsNamespace"), comp.root.parameter("ServiceName")
    emitted = published(comp)
    # an alarm may name a style that is not deployed (no data, never fires): valid if some
    # deployment publishes it
    everything = published(
        Composition.with_styles(*STYLES, MetricsNamespace=namespace, ServiceName=service)
    )
    functions = {fn.res for fn in comp.functions()}
    dlqs = dead_letter_queues(comp)
    covered: dict[str, set[frozenset[tuple[str, str]]]] = {}
    for res, _ in comp.resources("AWS::CloudWatch::Alarm"):
        for ns, metric, dims in alarm_metrics(comp.props(res)):
            if ns == "AWS/Lambda":
                assert set(dims) == {"FunctionName"} and dims["FunctionName"] in functions, (
                    res,
                    dims,
                )
            elif ns == "AWS/SQS":
                assert metric == "ApproximateNumberOfMessagesVisible"
                assert set(dims) == {"QueueName"}
                queue = dims["QueueName"]
                assert isinstance(queue, Res) and queue in dlqs, (res, queue)
            else:
                assert ns == namespace, (res, ns)
                watched = frozenset(dims.items())
                assert metric in everything, f"{res}: no function publishes {metric}"
                assert any(matches(watched, e) for e in everything[metric]), (
                    f"{res} watches {metric}{dict(watched)}, published only as {everything[metric]}"
                )
                covered.setdefault(metric, set()).add(watched)
    assert "LateDrops" in covered
    for metric, watched in covered.items():
        for dims in emitted[metric]:
            assert any(matches(w, dims) for w in watched), (
                f"{metric}{dict(dims)} is published but its alarm does not watch it"
            )


def test_late_drops_are_watched_in_every_function_that_drops_them():
    """The bug this file was written for: processors drop late directives too, with a style."""
    emitters = {h for h, metrics in EMITTED.items() if "LateDrops" in metrics}
    assert emitters == {DISPATCHER, NOTIFICATIONS, *PROCESSORS.values()}


# -- the dashboard ---------------------------------------------------------------------------------

_PLACEHOLDER = {
    "AWS::Region": "us-east-1",
    "AWS::StackName": "bulb-skill",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}


def render(comp: Composition, stack: Stack, node: Any) -> str:
    """A template value as the text CloudFormation would make of it (resources: ``<stack/id>``)."""
    if isinstance(node, str):
        return node
    if isinstance(node, int | float):
        return str(node)
    ((key, args),) = node.items()
    if key == "Ref":
        if args in _PLACEHOLDER:
            return _PLACEHOLDER[args]
        if args in stack.template.get("Parameters", {}):
            return str(stack.parameter(args))
        return f"<{Res(stack.name, args)}>"
    if key == "Fn::GetAtt":
        logical, attribute = args.split(".", 1) if isinstance(args, str) else args
        if attribute.startswith("Outputs."):
            child = comp.stacks[logical]
            return render(
                comp, child, child.template["Outputs"][attribute.removeprefix("Outputs.")]["Value"]
            )
        return f"<{Res(stack.name, logical)}.{attribute}>"
    if key == "Fn::If":
        return render(comp, stack, args[1] if stack.condition(args[0]) else args[2])
    if key == "Fn::Join":
        return str(args[0]).join(render(comp, stack, p) for p in args[1])
    if key == "Fn::Sub":
        text, variables = (args, {}) if isinstance(args, str) else (args[0], args[1])

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return render(comp, stack, variables[name])
            if "." in name:
                return render(comp, stack, {"Fn::GetAtt": name})
            return render(comp, stack, {"Ref": name})

        return re.sub(r"\$\{([^}!][^}]*)\}", value, text)
    raise AssertionError(f"{key} not rendered")


def dashboard(comp: Composition) -> dict[str, Any]:
    [(_res, resource)] = list(comp.resources("AWS::CloudWatch::Dashboard"))
    return json.loads(render(comp, comp.root, resource["Properties"]["DashboardBody"]))


_SEARCH = re.compile(r"SEARCH\('\{([^}]*)\}(.*)',\s*'(\w+)',\s*(\d+)\)")


def widget_metrics(widget: dict[str, Any]) -> Iterator[tuple[str, str, frozenset[tuple[str, str]]]]:
    """(namespace, metric, {dimension: value}) of a metric widget; a SEARCH gives each metric
    name it asks for, with ``*`` for its schema's dimensions it leaves free."""
    for line in widget["properties"]["metrics"]:
        if isinstance(line[0], dict):
            found = _SEARCH.fullmatch(line[0]["expression"])
            assert found, line[0]["expression"]
            schema, terms = found.group(1).split(","), found.group(2)
            namespace, dims = schema[0], schema[1:]
            fixed = dict(re.findall(r'(\w+)="([^"]*)"', terms))
            names = [v for k, v in re.findall(r'(MetricName)="([^"]*)"', terms)]
            assert names, f"a SEARCH without MetricName matches anything: {terms}"
            values = frozenset((d, fixed.get(d, "*")) for d in dims)
            for name in names:
                yield namespace, name, values
        else:
            strings = [x for x in line if isinstance(x, str)]
            namespace, name, rest = strings[0], strings[1], strings[2:]
            yield namespace, name, frozenset(zip(rest[::2], rest[1::2], strict=False))


@pytest.mark.parametrize("name", COMPOSITIONS)
def test_every_dashboard_metric_is_published(name):
    comp = COMPOSITIONS[name]
    namespace, service = comp.root.parameter("MetricsNamespace"), comp.root.parameter("ServiceName")
    emitted = published(comp)
    # a widget may name a style that is not deployed (it stays empty): compare with every style
    everything = published(
        Composition.with_styles(*STYLES, MetricsNamespace=namespace, ServiceName=service)
    )
    functions = {f"<{fn.res}>" for fn in comp.functions()}
    dlqs = {f"<{q}.QueueName>" for q in dead_letter_queues(comp)}
    body = dashboard(comp)
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        for ns, metric, dims in widget_metrics(widget):
            where = (widget["properties"]["title"], metric)
            if ns == "AWS/SQS":
                assert dict(dims)["QueueName"] in dlqs, where
            elif ns == "AWS/Lambda":
                assert dict(dims)["FunctionName"] in functions, where
            else:
                assert ns == namespace, where
                assert metric in everything, where
                assert any(matches(dims, e) for e in everything[metric]), (
                    where,
                    dims,
                    everything[metric],
                )
                if dict(dims).get("style") in (None, "*") and metric not in emitted:
                    pytest.fail(f"{where}: nothing deployed publishes it")


def test_the_dashboard_shows_what_operations_need():
    body = dashboard(COMPOSITIONS["all styles"])
    titles = " | ".join(w["properties"]["title"] for w in body["widgets"])
    for needed in (
        "Directives from Alexa, by type",
        "by style and outcome",
        "by HTTP status",
        "Late drops",
        "Dead-letter queues",
        "p50 and p99",
        "Circuit breakers",
        "Login with Amazon",
        "throttles",
    ):
        assert needed in titles, needed
    metrics = {m for w in body["widgets"] if w["type"] == "metric" for _, m, _ in widget_metrics(w)}
    for needed in (
        "GatewayAnswers",
        "LateDrops",
        "ApproximateNumberOfMessagesVisible",
        "DeferredLatencyMs",
        "Duration",
        "LwaCalls",
        "Throttles",
        "Directives_answered",
    ):
        assert needed in metrics, needed


def test_the_dashboard_shows_every_dead_letter_queue_of_the_deployed_styles():
    for comp in COMPOSITIONS.values():
        body = dashboard(comp)
        [widget] = [w for w in body["widgets"] if "Dead-letter" in w["properties"]["title"]]
        shown = {dict(d)["QueueName"] for _, _, d in widget_metrics(widget)}
        assert shown == {f"<{q}.QueueName>" for q in dead_letter_queues(comp)}


def test_the_dashboards_log_queries_read_what_the_code_logs():
    """The log widgets parse two log lines: the router's "directive <namespace>.<name>" and the
    breaker's "breaker <vendor>: <old> -> <new>"; their log groups are the functions' own."""
    routing = (SRC / "routing" / "_router.py").read_text()
    assert 'logger.info("directive %s.%s", header.namespace, header.name)' in routing
    assert (
        'log("breaker %s: %s -> %s", self.vendor, old.value, new.value)'
        in (SRC / "breaker.py").read_text()
    )
    comp = COMPOSITIONS["all styles"]
    groups = {f"<{res}>" for res, _ in comp.resources("AWS::Logs::LogGroup")}
    body = dashboard(comp)
    queries = [w["properties"]["query"] for w in body["widgets"] if w["type"] == "log"]
    assert len(queries) == 2
    for query in queries:
        sources = re.findall(r"SOURCE '([^']*)'", query)
        assert sources and set(sources) <= groups, sources
    breaker = next(q for q in queries if "breaker" in q)
    vendor_callers = {
        "Entrypoint",
        "SyncProcessor",
        "AsyncProcessor",
        "OptimisticProcessor",
        "PollingProcessor",
        "Sweep",
    }
    assert {
        s.strip("<>").split("/")[0] for s in re.findall(r"SOURCE '([^']*)'", breaker)
    } == vendor_callers
