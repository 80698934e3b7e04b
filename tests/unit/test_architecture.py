"""The layout holds: the core imports no AWS or HTTP library and no adapter, and the Lambda
handler modules stay thin (the services they call are built in ``skill.composition``).

Imports are read from the source (ast), those inside functions included: a lazy import is an
import all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "skill"

#: The core: packages and modules that must run with fakes alone.
CORE = [
    "routing",
    "pipeline",
    "delivery",
    "alexa",
    "bulbs",
    "breaker.py",
    "cadence.py",
    "records.py",
    "errors.py",
    "accounts.py",
    "credentials.py",
    "identity.py",
    "discovery.py",
    "ports.py",
    "plugins/_contract.py",
    "plugins/_credentials.py",
    "plugins/_endpoint_ids.py",
]
#: What the core must not import: AWS and HTTP libraries, and the adapters over them.
FORBIDDEN = ("boto3", "botocore", "requests", "skill.aws")
#: A handler module parses the event, calls its composed service and answers; more lines than
#: this mean a service is being built (or logic lives) in the handler.
MAX_HANDLER_LINES = 60


def core_modules() -> list[Path]:
    found: list[Path] = []
    for entry in CORE:
        path = SRC / entry
        assert path.exists(), f"{entry} is listed as core but does not exist"
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def imported_names(tree: ast.AST) -> set[str]:
    """Every module an ``import`` or ``from ... import`` names, with ``from skill import aws``
    read as ``skill.aws``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def forbidden_in(names: set[str]) -> list[str]:
    return sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in FORBIDDEN))


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_the_core_imports_no_aws_or_http_library_and_no_adapter(path: Path) -> None:
    found = forbidden_in(imported_names(ast.parse(path.read_text(), str(path))))
    assert not found, f"{path.relative_to(SRC)} imports {found}"


def test_the_import_check_sees_lazy_and_aliased_imports() -> None:
    tree = ast.parse(
        "def f():\n    import boto3.session\n"
        "def g():\n    from skill import aws\n"
        "def h():\n    from requests import Session as S\n"
        "from skill.ports import Outbox\n"
    )
    assert forbidden_in(imported_names(tree)) == [
        "boto3.session",
        "requests",
        "requests.Session",
        "skill.aws",
    ]


HANDLER_MODULES = sorted((SRC / "handlers").rglob("*.py"))


@pytest.mark.parametrize("path", HANDLER_MODULES, ids=lambda p: p.relative_to(SRC).as_posix())
def test_every_handler_module_stays_thin(path: Path) -> None:
    text = path.read_text()
    tree = ast.parse(text, str(path))
    classes = [n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    assert not classes, f"{path.relative_to(SRC)} defines {classes}: adapters go to skill.aws"
    lines = len(text.splitlines())
    assert lines <= MAX_HANDLER_LINES, f"{path.relative_to(SRC)} has {lines} lines"


def test_every_public_handler_module_defines_its_handler() -> None:
    public = [p for p in HANDLER_MODULES if not p.name.startswith("_")]
    assert len(public) == 11, [p.name for p in public]
    for path in public:
        tree = ast.parse(path.read_text())
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        defined |= {
            t.id
            for n in tree.body
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        assert "handler" in defined, path.relative_to(SRC).as_posix()


def test_the_handler_modules_import_no_adapter_and_build_nothing() -> None:
    """Handlers reach their services through ``skill.composition``, never an adapter directly."""
    for path in HANDLER_MODULES:
        found = [
            n for n in imported_names(ast.parse(path.read_text())) if n.startswith("skill.aws")
        ]
        assert not found, f"{path.relative_to(SRC)} imports {found}"
