"""The short load run (``bulb_workbench.local.load``): 5 users x 6 mixed directives on a fresh
local stack, without faults and with vendor and gateway faults (``make load`` runs the long one, 50
x 20).

The promise checked on every run: no directive is answered twice, none after its deadline, every
event the gateway accepted is schema-valid, and every directive ends with a final answer or a
late drop the skill counted (else it is *lost*).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bulb_workbench.local.faults import FaultProfile
from bulb_workbench.local.load import LoadConfig, LoadResult, format_table, run_load

pytestmark = pytest.mark.integration

SHORT = {"users": 5, "per_user": 6, "rate": 6.0, "threads": 3, "grace": 2.0, "settle_seconds": 5.0}
FAULTS = FaultProfile(vendor=0.2, gateway=0.2, seed=0)


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, LoadResult]]:
    results = {
        "none": run_load(LoadConfig(**SHORT)),
        "faults": run_load(LoadConfig(**SHORT, faults=FAULTS)),
    }
    print("\n" + format_table(list(results.values())))  # shown with -s, and on a failure
    return results


def _accounted(result: LoadResult) -> None:
    assert result.answered + result.late_drops + result.lost == result.deferred
    assert result.deferred + sum(result.sync_errors_by_type.values()) == result.directives


def test_without_faults_every_directive_is_answered_once_and_on_time(
    runs: dict[str, LoadResult],
) -> None:
    result = runs["none"]

    _accounted(result)
    assert result.directives == 30
    assert result.answered == result.deferred == result.responses
    assert (result.lost, result.duplicates, result.late_drops, result.after_deadline) == (
        0,
        0,
        0,
        0,
    )
    assert set(result.sync_errors_by_type) <= {"VALUE_OUT_OF_RANGE"}
    assert result.p99_ms is not None and result.p99_ms < 8000


@pytest.mark.parametrize("run", ["none", "faults"])
def test_every_event_the_gateway_accepted_is_schema_valid(
    runs: dict[str, LoadResult], run: str
) -> None:
    result = runs[run]

    assert result.schema_invalid == 0
    assert "400" not in result.gateway_status


def test_with_faults_no_directive_is_answered_twice_or_after_its_deadline(
    runs: dict[str, LoadResult],
) -> None:
    result = runs["faults"]

    _accounted(result)
    assert result.duplicates == 0, result.duplicate_tokens
    assert result.after_deadline == 0
    assert sum(result.faults_injected.get("vendor", {}).values()) > 0
    assert sum(result.faults_injected.get("gateway", {}).values()) > 0
    assert result.answered > result.deferred // 2


@pytest.mark.parametrize("run", ["none", "faults"])
def test_every_load_user_is_a_skill_user_and_no_vendor_sees_another_ones_credential(
    runs: dict[str, LoadResult], run: str
) -> None:
    """Each user sent its own Cognito access token; each vendor was shown only its own
    credentials (the users' connected accounts), never a token or another vendor's."""
    result = runs[run]

    assert set(result.foreign_credentials) == {
        "sim-sync",
        "sim-async",
        "sim-optimistic",
        "sim-polling",
    }
    assert not any(result.foreign_credentials.values()), result.foreign_credentials
    assert "INVALID_AUTHORIZATION_CREDENTIAL" not in result.sync_errors_by_type
    assert "INVALID_AUTHORIZATION_CREDENTIAL" not in result.errors_by_type


def test_with_faults_nothing_is_lost(runs: dict[str, LoadResult]) -> None:
    result = runs["faults"]

    assert result.lost == 0, (result.lost_causes, result.unanswered_tokens)
