"""The `sam build` output (.aws-sam/build, made by `make test` before pytest runs, or `make build`):
each function's bundle holds the package, the adapters with their entry points, and bytecode for
python3.13 that matches the shipped sources. No build output fails these tests."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

from tests.infra._composition import ROOT, STYLES, Composition
from tests.infra._tools import require_build, require_python313

MAGIC_313 = (3571).to_bytes(2, "little") + b"\r\n"  # importlib.util.MAGIC_NUMBER of CPython 3.13


def function_dirs() -> dict[str, Path]:
    build = require_build()
    comp = Composition.with_styles(*STYLES)
    return {fn.handler: build / fn.res.stack / fn.res.logical_id for fn in comp.functions()}


def test_every_function_is_built_with_its_handler_module():
    for handler, directory in function_dirs().items():
        module = handler.rpartition(".")[0]
        path = directory / Path(*module.split("."))
        assert path.with_suffix(".py").exists() or (path / "__init__.py").exists(), handler


def test_bundle_registers_every_adapter_shipped_in_adapters():
    directory = function_dirs()["skill.handlers.entrypoint.handler"]
    registered = set()
    for entry_points in directory.glob("*.dist-info/entry_points.txt"):
        text = entry_points.read_text()
        if "[bulb_skill.adapters]" in text:
            section = text.split("[bulb_skill.adapters]", 1)[1].split("\n[", 1)[0]
            registered |= {
                line.split("=")[0].strip() for line in section.splitlines() if "=" in line
            }
    shipped = set()
    for pyproject in ROOT.glob("adapters/*/pyproject.toml"):
        import tomllib

        shipped |= set(
            tomllib.loads(pyproject.read_text())["project"]["entry-points"]["bulb_skill.adapters"]
        )
    assert shipped <= registered


def test_bundle_carries_only_runtime_dependencies():
    directory = function_dirs()["skill.handlers.entrypoint.handler"]
    for local_only in ("moto", "pytest", "jsonschema", "responses", "cfnlint"):
        assert not (directory / local_only).exists(), f"{local_only} is shipped to Lambda"
    assert (directory / "pydantic_core").exists()
    assert any(
        p.name.endswith("-aarch64-linux-gnu.so") for p in (directory / "pydantic_core").iterdir()
    )


def test_every_module_ships_python313_bytecode_matching_its_source():
    directory = function_dirs()["skill.handlers.entrypoint.handler"]
    sources = [p for p in directory.rglob("*.py") if "__pycache__" not in p.parts]
    assert len(sources) > 100
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        assert pyc.exists(), f"no bytecode for {source.relative_to(directory)}"
        header = pyc.read_bytes()[:16]
        (flags,) = struct.unpack("<I", header[4:8])
        assert header[:4] == MAGIC_313 and flags == 0b01, f"{pyc}: not unchecked-hash 3.13 bytecode"


STALE = """
import importlib.util, pathlib, sys
root = pathlib.Path(sys.argv[1])
for source in root.rglob("*.py"):
    pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
    if pyc.read_bytes()[8:16] != importlib.util.source_hash(source.read_bytes()):
        print(source.relative_to(root))
"""


def test_bytecode_of_the_package_matches_the_shipped_source():
    python = require_python313()
    directory = function_dirs()["skill.handlers.entrypoint.handler"] / "skill"
    stale = subprocess.run(
        [python, "-c", STALE, str(directory)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert not stale, f"bytecode compiled from other sources: {stale[:5]}"
