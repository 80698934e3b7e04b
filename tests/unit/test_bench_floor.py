"""The cold-start bench's dependency floors: every library each one names is imported and then
used once, against the stub cloud over loopback (``bulb_workbench.bench._floors``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bulb_workbench.bench import _floors as specs
from bulb_workbench.bench import cold_start
from bulb_workbench.bench._scenarios import FLOOR_DEPENDENCIES, jwks


def test_every_named_library_has_an_import_and_a_first_use() -> None:
    named = {lib for deps in FLOOR_DEPENDENCIES.values() for lib in deps}
    assert named <= set(specs.DEPENDENCIES)
    assert set(specs.FIRST_USE) == set(specs.DEPENDENCIES)


@pytest.mark.parametrize(
    ("clients", "deps"), cold_start.DEPENDENCY_FLOORS, ids=lambda v: ",".join(v)
)
def test_a_dependency_floor_uses_each_library_once(
    clients: tuple[str, ...], deps: tuple[str, ...], tmp_path: Path
) -> None:
    with cold_start.StubCloud(secrets=cold_start._secrets(), jwks=jwks()) as cloud:
        env = cold_start.environment(cloud, "http://127.0.0.1:9")
        # this interpreter and its packages stand in for the Lambda tree
        result = cold_start._run_child(
            sys.executable,
            Path(os.pathsep.join(p for p in sys.path if p)),
            "pyc",
            env,
            cold_start._dependency_spec(cloud, clients, deps, True),
            tmp_path,
        )
        assert "error" not in result, result.get("error")
        ledger = cloud.ledger.snapshot()
    requests_made = ledger["requests"]
    if "powertools-idempotency" in deps:  # the idempotent call's record, put then completed
        assert requests_made.get("dynamodb.PutItem:idempotency") == 1
        assert requests_made.get("dynamodb.UpdateItem:idempotency") == 1
    if "requests" in deps:
        assert ledger["jwks_fetches"] == 1  # the one GET
    if "powertools-parameters" in deps:  # the floor's own call, then the provider's read
        assert requests_made.get("secretsmanager.GetSecretValue") == 2
