"""Which adapters a deployment enables."""

from __future__ import annotations

import pytest

from skill.plugins import AdapterRegistry, installed_adapters


def test_by_default_every_installed_adapter():
    """The simulator's ``sim-*`` adapters are the workbench's: a deployment never has them,
    because the bundle does not ship the workbench (tests/infra/test_bundle.py)."""
    names = AdapterRegistry.from_environment({}).names
    assert names and names == sorted(installed_adapters())


def test_adapters_names_exactly_the_enabled_ones():
    assert AdapterRegistry.from_environment({"ADAPTERS": "sim-sync, sim-async"}).names == [
        "sim-sync",
        "sim-async",
    ]


def test_an_adapter_that_is_not_installed_is_a_clear_error():
    with pytest.raises(RuntimeError, match="not installed"):
        AdapterRegistry.from_environment({"ADAPTERS": "nope"})
