"""``skill invoke`` / ``skill demo`` / ``skill adapters`` as a user runs them (subprocesses), and
the stack's promises about the process it runs in. Every ``skill invoke`` run must end with no
foreign credential seen by the simulated vendors (its stderr says so); ``skill demo`` exits 4
when one was."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bulb_workbench.local.schema import schema_errors
from bulb_workbench.local.stack import LocalStack, TemplateError

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"
NO_FOREIGN = "foreign credentials seen by the simulated vendors: none"
#: Every secret part of the simulator's demo credentials (access, refresh tokens, keys, secret).
VENDOR_SECRET = re.compile(r"demo-sim-[a-z]+-(credential|refresh|secret)")
JWT = re.compile(r"eyJ[\w-]{4,}\.eyJ[\w-]{4,}\.[\w-]+")


def skill(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [sys.executable, "-m", "bulb_workbench.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )
    if args[0] == "invoke" and run.returncode == 0:
        assert NO_FOREIGN in run.stderr, run.stderr[-2000:]
    return run


def every_directive_file() -> list[str]:
    """Every sample directive, in the order ``skill demo`` plays them: linking, discovery,
    state, control, then the bad ones."""
    first = ["AcceptGrant.json", "Discover.json", "ReportState.json"]
    rest = sorted(
        p.name
        for p in EVENTS.glob("*.json")
        if p.name not in first and "directive" in json.loads(p.read_text())
    )
    return [f"events/{n}" for n in first + rest] + [
        f"events/bad/{p.name}" for p in sorted(EVENTS.glob("bad/*.json"))
    ]


def lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def name_of(message: dict[str, Any]) -> str:
    return message["event"]["header"]["name"]


def test_invoke_prints_only_schema_valid_alexa_messages_one_per_line() -> None:
    files = [
        "events/Discover.json",
        "events/ReportState.json",
        "events/TurnOn.sync.json",
        "events/bad/SetColorTemperature.out-of-range.json",
    ]

    run = skill("invoke", *files)

    assert run.returncode == 0, run.stderr[-2000:]
    messages = lines(run.stdout)  # every line is one JSON object: nothing else on stdout
    for message in messages:
        assert not schema_errors(message), (message, schema_errors(message)[:3])
    names = [name_of(m) for m in messages]
    assert names[:3] == ["Discover.Response", "StateReport", "DeferredResponse"]
    assert names[-1] == "ErrorResponse"
    assert messages[-1]["event"]["payload"]["type"] == "VALUE_OUT_OF_RANGE"
    deferred = names[3:-1]  # the gateway's events for TurnOn, when the deferred path exists
    if deferred:
        assert deferred[-1] == "Response"
        token = json.loads((EVENTS / "TurnOn.sync.json").read_text())["directive"]["header"][
            "correlationToken"
        ]
        assert messages[3]["event"]["header"]["correlationToken"] == token
    assert "local stack up in" in run.stderr


def test_invoke_of_an_accept_grant_links_with_that_file() -> None:
    run = skill("invoke", "events/AcceptGrant.json", "events/TurnOn.optimistic.json")

    assert run.returncode == 0, run.stderr[-2000:]
    names = [name_of(m) for m in lines(run.stdout)]
    assert names[:2] == ["AcceptGrant.Response", "DeferredResponse"]  # demo-token: the access token
    assert "linked the demo user" not in run.stderr
    if len(names) > 2:
        assert names[-1] == "Response"  # the tokens from the file's own AcceptGrant were used


def test_invoke_refuses_unreadable_files_before_running_anything(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")

    run = skill("invoke", "events/Discover.json", str(broken), str(tmp_path / "missing.json"))

    assert run.returncode == 2
    assert run.stdout == ""
    assert "broken.json" in run.stderr and "missing.json" in run.stderr


def test_adapters_lists_the_installed_adapters_with_their_style() -> None:
    run = skill("adapters")

    assert run.returncode == 0, run.stderr
    rows = {line.split()[0]: line.split()[1] for line in run.stdout.splitlines()[1:]}
    assert rows["sim-sync"] == "sync"
    assert rows["sim-async"] == "async"
    assert rows["sim-optimistic"] == "optimistic"
    assert rows["sim-polling"] == "polling"


def test_the_stack_restores_the_environment_it_changed() -> None:
    before = dict(os.environ)

    with LocalStack(pollers=False) as stack:
        assert os.environ["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert os.environ["GATEWAY_URL"] == stack.gateway.events_url
        assert os.environ["LOCAL_SECRETS_FROM_ENV"] == "1"

    assert dict(os.environ) == before


def test_the_stack_says_clearly_when_the_template_is_missing(tmp_path: Path) -> None:
    before = dict(os.environ)

    with pytest.raises(TemplateError, match="template"):
        LocalStack(template=tmp_path / "template.yaml").start()

    assert dict(os.environ) == before


def test_invoke_with_vendor_linking_passes_the_one_vendors_credential_through() -> None:
    run = skill(
        "invoke",
        "--linking",
        "vendor",
        "--adapters",
        "sim-sync",
        "events/Discover.json",
        "events/ReportState.json",
        "events/TurnOn.sync.json",
    )

    assert run.returncode == 0, run.stderr[-2000:]
    assert "vendor linking" in run.stderr
    messages = lines(run.stdout)
    assert [name_of(m) for m in messages][:3] == [
        "Discover.Response",
        "StateReport",
        "DeferredResponse",
    ]
    endpoints = messages[0]["event"]["payload"]["endpoints"]
    assert sorted(e["endpointId"] for e in endpoints) == [
        "sim-sync:color-1",
        "sim-sync:white-1",
        "sim-sync:white-tunable-1",
    ]
    if len(messages) > 3:
        assert name_of(messages[-1]) == "Response"
    for message in messages:
        assert not schema_errors(message)


@pytest.mark.parametrize("adapters", [None, "sim-sync,sim-polling"])
def test_vendor_linking_with_other_than_one_adapter_is_refused(adapters: str | None) -> None:
    run = skill(
        "invoke",
        "--linking",
        "vendor",
        *(["--adapters", adapters] if adapters else []),
        "events/Discover.json",
    )

    assert run.returncode == 2
    assert run.stdout == ""
    assert "exactly one adapter" in run.stderr and "--adapters sim-sync" in run.stderr


def test_dump_state_after_every_sample_shows_no_credential_outside_the_vault(
    tmp_path: Path,
) -> None:
    """Played in cognito mode across the four simulated vendors: no vendor credential (access
    or refresh token, key, secret) and no access token rests in any table item or any queue's
    or DLQ's message, but the vault's ciphertext (which does not hold them readably either)."""
    dump = tmp_path / "state"
    run = skill("invoke", "--dump-state", str(dump), *every_directive_file(), timeout=240)

    assert run.returncode == 0, run.stderr[-2000:]
    index = json.loads((dump / "index.json").read_text())
    vault = next(name for name in index["tables"] if "Credentials" in name)
    assert index["tables"][vault] == 4  # the demo user's four vendors
    # 4 directives queues and their DLQs, poll, outbox, sweep: each with its DLQ
    assert len(index["queues"]) == 14 and any("DLQ" in q for q in index["queues"])
    counters = json.loads((dump / "simulator.json").read_text())
    assert counters["foreign_credentials"] == dict.fromkeys(
        ("sim-sync", "sim-async", "sim-optimistic", "sim-polling"), 0
    )
    files = sorted(dump.rglob("*.json"))
    assert len(files) == len(index["tables"]) + len(index["queues"]) + 2
    found: dict[str, list[str]] = {}
    for path in files:
        if path.name == "simulator.json":
            continue
        text = path.read_text()
        hits = VENDOR_SECRET.findall(text) + JWT.findall(text)
        if hits:
            found[path.relative_to(dump).as_posix()] = hits[:3]
    assert not found, found
    items = json.loads((dump / "tables" / f"{vault}.json").read_text())
    for item in items:  # the ciphertext is KMS's: not the credential in some encoding
        assert set(item) <= {
            "user_id",
            "vendor",
            "ciphertext",
            "account_id",
            "version",
            "updated_at",
            "lease_until",
            "expires_at",
        }
        raw = base64.b64decode(item["ciphertext"]["base64"])
        assert b"demo-sim" not in raw and b"credential" not in raw
    for queue in (dump / "queues").glob("*.json"):
        for message in json.loads(queue.read_text()):
            scope = (
                (message["Body"].get("directive", {}).get("endpoint") or {}).get("scope", {})
                if isinstance(message["Body"], dict)
                else {}
            )
            assert "token" not in scope, queue.name


def test_demo_plays_every_sample_directive_and_sums_up() -> None:
    run = skill("demo", "--latency", "0.01", "--transition", "0.1", timeout=120)

    assert run.returncode == 0, run.stderr[-2000:]
    samples = [p for p in EVENTS.glob("*.json") if "directive" in json.loads(p.read_text())]
    samples += list(EVENTS.glob("bad/*.json"))
    for path in samples:
        assert path.relative_to(EVENTS).as_posix() in run.stdout
    assert "Summary" in run.stdout
    # every message Alexa got, synchronous or through the gateway, is schema-valid
    assert (
        f"{len(samples)} directives, {len(samples)} with every message schema-valid" in run.stdout
    )
    assert "cognito linking" in run.stdout
    assert NO_FOREIGN in run.stdout  # else the exit code is 4


def test_demo_under_faults_says_which_answers_the_skill_dropped_as_late(tmp_path: Path) -> None:
    """A gateway that fails every call: the answer never arrives, and the summary says the skill
    counted it as a late drop (not lost); a directive answered at once is unaffected."""
    for name in ("TurnOn.sync.json", "bad/SetBrightness.wrong-type.json"):
        (tmp_path / Path(name).name).write_text((EVENTS / name).read_text())
    run = skill(
        "demo",
        "--events",
        str(tmp_path),
        "--deadline",
        "2",
        "--latency",
        "0",
        "--faults",
        "gateway=1",
        timeout=90,
    )

    assert run.returncode == 0, run.stderr[-2000:]
    rows = {
        line.split()[0]: line
        for line in run.stdout.splitlines()
        if line.startswith(("TurnOn.sync.json", "SetBrightness.wrong-type.json"))
    }
    assert "late (counted)" in rows["TurnOn.sync.json"]
    assert "ErrorResponse" in rows["SetBrightness.wrong-type.json"]
    assert "lost" not in run.stdout
