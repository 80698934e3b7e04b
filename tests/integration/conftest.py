"""Every integration test ends with no foreign credential seen by the vendor simulator.

A simulated vendor counts each credential it is shown that is not its own (another simulated
vendor's, or a JWT: the skill's own Cognito tokens). ``foreign_credentials_check`` fails a test
that made any vendor see one:

- the module's ``stack`` fixture, if the test uses one: its simulator's counts must not have
  grown during the test;
- every simulator stopped during the test (stacks a test starts itself: ``run_load``,
  ``run_outage``, ``with LocalStack(...)``): its counts when it stopped must be zero;
- simulators stopped later (module-scoped stacks, at module teardown) are checked when the
  session ends.

``skill`` run as a subprocess checks its own stack: ``skill invoke`` logs the counts and
``skill demo`` exits 4 on any (tests/integration/test_invoke.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bulb_workbench.local.simulator import VendorSimulator

#: (simulator, its foreign counts when it stopped), for every simulator an integration module
#: stopped (unit tests run in the same session show simulators foreign credentials on purpose).
_STOPPED: list[tuple[str, dict[str, int]]] = []
_IN_INTEGRATION_MODULE = [False]


def foreign_seen(counts: dict[str, int]) -> dict[str, int]:
    return {vendor: n for vendor, n in counts.items() if n}


def assert_no_foreign_credentials(counts: dict[str, int], where: str = "the simulator") -> None:
    """The check itself: every vendor's count is zero."""
    seen = foreign_seen(counts)
    assert not seen, f"{where} was shown foreign credentials (another vendor's, or a JWT): {seen}"


@pytest.fixture(scope="session", autouse=True)
def _record_stopped_simulators() -> Iterator[None]:
    original = VendorSimulator.stop

    def stop(self: VendorSimulator) -> None:
        if _IN_INTEGRATION_MODULE[0] and getattr(self, "_server", None) is not None:
            _STOPPED.append((f"simulator {self.url}", self.foreign_credentials()))
        original(self)

    VendorSimulator.stop = stop  # type: ignore[method-assign]
    try:
        yield
    finally:
        VendorSimulator.stop = original  # type: ignore[method-assign]
    leaks = [(where, foreign_seen(counts)) for where, counts in _STOPPED if foreign_seen(counts)]
    assert not leaks, f"simulators were shown foreign credentials: {leaks}"


@pytest.fixture(scope="module", autouse=True)
def _integration_module() -> Iterator[None]:
    """Set up before a module's own fixtures and torn down after them, so a module-scoped
    stack's simulator stopping at module teardown is still recorded."""
    _IN_INTEGRATION_MODULE[0] = True
    try:
        yield
    finally:
        _IN_INTEGRATION_MODULE[0] = False


@pytest.fixture(autouse=True)
def foreign_credentials_check(request: pytest.FixtureRequest) -> Iterator[None]:
    shared: Any = request.getfixturevalue("stack") if "stack" in request.fixturenames else None
    simulator = getattr(shared, "simulator", None)
    before = simulator.foreign_credentials() if simulator is not None else {}
    stopped_before = len(_STOPPED)
    yield
    for where, counts in _STOPPED[stopped_before:]:
        assert_no_foreign_credentials(counts, where)
    if simulator is not None and getattr(simulator, "_server", None) is not None:
        after = simulator.foreign_credentials()
        grown = {v: after[v] - before.get(v, 0) for v in after if after[v] != before.get(v, 0)}
        assert_no_foreign_credentials(grown, "the module's stack's simulator")
