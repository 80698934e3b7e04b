"""Every module of the workbench imports: a name one module takes from another (the scale run
from the simulator adapters, say) must still exist there, even for modules only ``make bench``
or ``make demo`` reach."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bulb_workbench

#: Scripts run as a child process with their own arguments, not imported.
SCRIPTS = {"bulb_workbench.bench._cold_child"}

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(bulb_workbench.__path__, prefix="bulb_workbench.")
    if m.name not in SCRIPTS
)


@pytest.mark.parametrize("module", MODULES)
def test_the_module_imports(module):
    importlib.import_module(module)


def test_the_walk_found_the_bench_and_the_local_stack():
    assert {"bulb_workbench.bench.scale", "bulb_workbench.local.sim_adapters"} <= set(MODULES)
