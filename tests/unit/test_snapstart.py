"""The SnapStart runtime hooks (skill.snapstart), with a stand-in for ``snapshot_restore_py``.

The real module comes with Lambda's managed Python runtimes and is not installed here: each
test that needs it puts a recording stand-in into ``sys.modules``, with the two functions the
runtime's library offers (``register_before_snapshot(func, *args, **kwargs)``,
``register_after_restore(func, *args, **kwargs)``), and then runs the hooks itself, as the
runtime would before a snapshot and after a restore. No test reaches the network: every socket
connection is refused while a hook runs.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import skill.aws
from skill import snapstart

ROOT = Path(__file__).resolve().parents[2]


class StandIn(types.ModuleType):
    """``snapshot_restore_py`` as the runtime offers it, recording what is registered."""

    def __init__(self) -> None:
        super().__init__("snapshot_restore_py")
        self.before: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []
        self.after: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []

    def register_before_snapshot(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        self.before.append((func, args, kwargs))
        return func

    def register_after_restore(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        self.after.append((func, args, kwargs))
        return func

    def snapshot(self) -> list[Any]:
        """Run the before-snapshot hooks as the runtime does: in reverse order of registration."""
        return [func(*args, **kwargs) for func, args, kwargs in reversed(self.before)]

    def restore(self) -> None:
        for func, args, kwargs in self.after:
            func(*args, **kwargs)


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> StandIn:
    stand_in = StandIn()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", stand_in)
    monkeypatch.setattr(snapstart, "_after_restore_registered", False)
    return stand_in


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Refuse (and record) every outgoing connection; fresh clients with dummy credentials."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise ConnectionRefusedError(f"no network in this test: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "snapshot-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "snapshot-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    skill.aws.reset(session=True)
    yield attempts
    skill.aws.reset(session=True)


def signing_key(client: Any) -> str:
    return client._request_signer._credentials.get_frozen_credentials().access_key


# -- registration -----------------------------------------------------------------------------


def test_outside_lambdas_runtime_nothing_is_registered(monkeypatch):
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails
    assert snapstart.register(lambda: None) is False


def test_both_hooks_go_to_the_runtime_and_the_reset_only_once(runtime):
    def prime() -> None: ...

    assert snapstart.register(prime) is True
    assert snapstart.register(prime, clients=("sqs",)) is True
    assert runtime.before == [
        (snapstart.before_snapshot, (prime, snapstart.VENDOR_CALLER_CLIENTS), {}),
        (snapstart.before_snapshot, (prime, ("sqs",)), {}),
    ]
    assert runtime.after == [(snapstart.after_restore, (), {})]


# -- before the snapshot ------------------------------------------------------------------------


def test_priming_creates_the_clients_and_builds_the_services_without_the_network(runtime, offline):
    built: list[str] = []
    snapstart.register(lambda: built.append("services"), clients=("sqs", "dynamodb"))
    assert runtime.snapshot() == [True]
    assert built == ["services"]
    assert skill.aws.client.cache_info().currsize == 2  # both in the snapshot, models loaded
    assert offline == [], "priming must not call anything"


def test_priming_imports_the_enabled_adapters_code_without_building_them(
    runtime, offline, monkeypatch
):
    monkeypatch.setenv("ADAPTERS", "lifx")
    for name in [m for m in sys.modules if m.startswith("bulb_skill_lifx")]:
        monkeypatch.delitem(sys.modules, name)
    snapstart.register(lambda: None)
    assert runtime.snapshot() == [True]
    assert "bulb_skill_lifx" in sys.modules
    assert offline == []


def test_a_failed_priming_is_logged_and_leaves_the_work_to_the_first_invocation(
    runtime, offline, caplog
):
    def prime() -> None:
        raise RuntimeError("ADAPTERS names adapters that are not installed: ['nope']")

    snapstart.register(prime, clients=())
    assert runtime.snapshot() == [False]  # the version is still published
    assert "SnapStart priming failed" in caplog.text


# -- after a restore ----------------------------------------------------------------------------


def test_restore_reseeds_random(runtime):
    snapstart.register(lambda: None, clients=())
    random.seed(1234)
    snapshot_state = random.getstate()
    in_snapshot = [random.random() for _ in range(3)]
    random.setstate(snapshot_state)  # what every environment restored from the snapshot holds
    runtime.restore()
    assert [random.random() for _ in range(3)] != in_snapshot


def test_restore_renews_clients_credentials_and_connections(runtime, offline, monkeypatch):
    snapstart.register(lambda: None, clients=("sqs",))
    runtime.snapshot()
    before = skill.aws.client("sqs")
    assert signing_key(before) == "snapshot-key"
    pools = before._endpoint.http_session._manager.pools
    pools.setdefault("stale", object())  # stands for a connection pool opened before the snapshot

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "restored-key")  # this environment's credentials
    runtime.restore()

    after = skill.aws.client("sqs")
    assert after is not before
    assert signing_key(after) == "restored-key", "credentials resolved again after the restore"
    assert len(before._endpoint.http_session._manager.pools) == 0, "old connections closed"
    assert (
        skill.aws._clients._session.cache_info().currsize == 1
    )  # the session (loaded models) is kept


def test_a_client_kept_from_before_the_snapshot_still_works_after_it_is_closed(runtime, offline):
    """The processors' idempotency layer holds its client: closed by the reset, it must open a
    new connection pool at its next call (here it cannot: there is no network)."""
    from botocore.exceptions import EndpointConnectionError

    kept = skill.aws.client("dynamodb")
    snapstart.register(lambda: None, clients=())
    runtime.restore()
    with pytest.raises(EndpointConnectionError):  # it tried to connect: the client still works
        kept.describe_limits()


# -- every handler ------------------------------------------------------------------------------

#: Registers a stand-in runtime, imports every handler module as Lambda would (one process each
#: in AWS, one here), then runs the before-snapshot hooks with the network refused.
HANDLERS_SCRIPT = r"""
import json, socket, sys, types
registered = []
runtime = types.ModuleType("snapshot_restore_py")
runtime.register_before_snapshot = lambda func, *args, **kw: registered.append((func, args, kw))
runtime.register_after_restore = lambda func, *args, **kw: None
sys.modules["snapshot_restore_py"] = runtime
attempts = []
def refuse(self, address):
    attempts.append(str(address))
    raise ConnectionRefusedError(address)
socket.socket.connect = refuse
import importlib
results, primed = {}, {}
for module in sys.argv[1:]:
    start = len(registered)
    importlib.import_module(module)
    hooks = registered[start:]
    results[module] = [func(*args, **kw) for func, args, kw in hooks]
    primed[module] = "skill.bulbs._commands" in sys.modules
print("RESULT " + json.dumps({"results": results, "attempts": attempts, "primed": primed}))
"""
HANDLERS = [
    "skill.handlers.entrypoint",
    "skill.handlers.processors.sync",
    "skill.handlers.processors.async_",
    "skill.handlers.processors.optimistic",
    "skill.handlers.processors.polling",
    "skill.handlers.poller",
    "skill.handlers.notifications",
    "skill.handlers.dispatcher",
]


def test_every_handler_of_the_command_path_registers_and_primes_offline():
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": "snapshot-key",
        "AWS_SECRET_ACCESS_KEY": "snapshot-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        # what the template gives the functions (names only: nothing is read)
        "ADAPTERS": "lifx",
        "ACCOUNT_LINKING": "cognito",
        "COGNITO_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example",
        "COGNITO_CLIENT_ID": "example-client",
        "CREDENTIALS_KEY_ID": "arn:aws:kms:us-east-1:123456789012:key/example",
        "OUTBOX_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/outbox",
        "POLL_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/poll",
        "OUTBOX_DLQ_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/outbox-dlq",
        "DIRECTIVES_QUEUE_SYNC_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/sync.fifo",
        "VENDOR_SECRETS_NAME": "arn:aws:secretsmanager:us-east-1:123456789012:secret:vendors",
        "WEBHOOK_SECRET_NAME": "arn:aws:secretsmanager:us-east-1:123456789012:secret:vendors",
        "LWA_SECRET_NAME": "arn:aws:secretsmanager:us-east-1:123456789012:secret:lwa",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "BulbSkill",
    }
    result = subprocess.run(
        [sys.executable, "-c", HANDLERS_SCRIPT, *HANDLERS],
        check=False, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    found = json.loads(line.removeprefix("RESULT "))
    assert found["results"] == {module: [True] for module in HANDLERS}, result.stderr[-3000:]
    assert found["attempts"] == [], "priming called out"
    # the entrypoint (first) parses commands: their models, loaded at first use, are in its
    # snapshot
    assert found["primed"]["skill.handlers.entrypoint"] is True
