"""The ``>>>`` examples in docstrings run, so an example cannot drift from the code it shows.

Every module of the runtime (``src/skill``) with an example is found by reading its source,
imported by name and run through ``doctest.testmod``; so are those of the adapters, the kit and
the workbench in this repository.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Source roots (a directory holding top-level packages) of the packages checked.
RUNTIME = ROOT / "src"
OTHERS = [ROOT / "kit" / "src", ROOT / "workbench" / "src", *sorted(ROOT.glob("adapters/*/src"))]


def modules_with_examples(source_root: Path) -> list[str]:
    """Dotted names of the modules under ``source_root`` whose source has a ``>>>`` example."""
    names = []
    for path in sorted(source_root.rglob("*.py")):
        if "__pycache__" in path.parts or ">>>" not in path.read_text(encoding="utf-8"):
            continue
        parts = path.relative_to(source_root).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


RUNTIME_MODULES = modules_with_examples(RUNTIME)
OTHER_MODULES = [name for root in OTHERS for name in modules_with_examples(root)]


def test_the_runtime_has_examples_to_run() -> None:
    # an empty list would make every run below vacuous
    assert RUNTIME_MODULES, f"no module under {RUNTIME} has a >>> example"


@pytest.mark.parametrize("name", RUNTIME_MODULES + OTHER_MODULES)
def test_the_examples_of_a_module_run(name: str) -> None:
    module = importlib.import_module(name)
    results = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert results.attempted, f"{name} has '>>>' in its source but no example doctest found"
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples of {name} failed"
