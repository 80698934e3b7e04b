"""Which adapters a deployment enables."""

from __future__ import annotations

import pytest

from skill.plugins import AdapterRegistry, installed_adapters


def test_by_default_every_installed_vendor_but_not_the_simulator():
    names = AdapterRegistry.from_environment({}).names
    assert names and not any(n.startswith("sim-") for n in names)
    assert set(names) == {n for n in installed_adapters() if not n.startswith("sim-")}


def test_adapters_names_exactly_the_enabled_ones():
    assert AdapterRegistry.from_environment({"ADAPTERS": "sim-sync, sim-async"}).names == ["sim-sync", "sim-async"]


def test_an_adapter_that_is_not_installed_is_a_clear_error():
    with pytest.raises(RuntimeError, match="not installed"):
        AdapterRegistry.from_environment({"ADAPTERS": "nope"})
