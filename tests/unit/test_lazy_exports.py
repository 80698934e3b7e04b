"""Each package with lazy exports (``skill._lazy.lazy_exports``) keeps its three lists in step:
the names it declares for type checkers (under ``TYPE_CHECKING``), its ``__all__``, and the
submodule each name loads from. A name in one list and not another would type-check and fail
at run time, or the reverse."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGES = sorted(
    path.parent.relative_to(SRC).as_posix().replace("/", ".")
    for path in (SRC / "skill").rglob("__init__.py")
    if "lazy_exports(" in path.read_text()
)


def declared_for_type_checkers(package: str) -> dict[str, str]:
    """name -> the module a ``TYPE_CHECKING`` block imports it from."""
    tree = ast.parse((SRC / package.replace(".", "/") / "__init__.py").read_text())
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.module:
                    found |= {a.asname or a.name: statement.module for a in statement.names}
    return found


def test_the_packages_are_found():
    assert {"skill.bulbs", "skill.pipeline", "skill.plugins", "skill.alexa"} <= set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_is_declared_and_loads_from_its_declared_module(package):
    module = importlib.import_module(package)
    declared = declared_for_type_checkers(package)
    assert sorted(declared) == sorted(module.__all__)
    for name, source in declared.items():
        value = getattr(module, name)
        expected = importlib.import_module(source)
        assert value is getattr(expected, name), f"{package}.{name} is not {source}.{name}"


@pytest.mark.parametrize("package", PACKAGES)
def test_an_unknown_name_is_an_attribute_error(package):
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        importlib.import_module(package).not_a_name  # noqa: B018 - the lookup is the test
