"""What the Lambda bundle ships (the `sam build` output, made by `make test` before pytest runs, or
`make build`): the runtime package with every handler the templates name, the adapters under
adapters/, their third-party dependencies exactly as infra/lambda/requirements.lock pins them,
and nothing else: no workbench, no conformance kit, no test tools."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from functools import cache
from pathlib import Path
from types import ModuleType

from tests.infra._composition import ROOT, STYLES, Composition
from tests.infra._tools import require_build

LOCK = ROOT / "infra" / "lambda" / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)
#: Packages of the workbench, the kit and the test tools: none may reach Lambda.
NOT_SHIPPED = (
    "bulb_workbench", "bulb_skill_kit", "skill/local", "skill/testing", "skill/cli.py",
    "skill/cli_secrets.py", "skill/dlq.py", "bench", "moto", "jsonschema", "pytest", "_pytest",
    "responses", "hypothesis", "cfnlint", "selenium", "yaml", "tests",
)  # fmt: skip


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def bundle_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundle", ROOT / "infra" / "lambda" / "bundle.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def function_dirs() -> dict[str, Path]:
    """Handler -> the directory `sam build` made for its function."""
    build = require_build()
    comp = Composition.with_styles(*STYLES)
    return {fn.handler: build / fn.res.stack / fn.res.logical_id for fn in comp.functions()}


def own_distributions() -> set[str]:
    """bulb-skill and every adapter under adapters/: built from this repository, not locked."""
    pyprojects = [ROOT / "pyproject.toml", *ROOT.glob("adapters/*/pyproject.toml")]
    return {_normalized(tomllib.loads(p.read_text())["project"]["name"]) for p in pyprojects}


def locked() -> dict[str, str]:
    """Distribution -> the version the lock pins."""
    return {_normalized(name): version for name, version in _PIN.findall(LOCK.read_text())}


def distributions(directory: Path) -> dict[str, str]:
    """Distribution -> version, for every distribution installed in a function's directory."""
    found = {}
    for dist_info in directory.glob("*.dist-info"):
        name, _, version = dist_info.name.removesuffix(".dist-info").partition("-")
        found[_normalized(name)] = version
    return found


def test_every_function_ships_the_runtime_with_its_handler_module() -> None:
    for handler, directory in function_dirs().items():
        assert (directory / "skill" / "__init__.py").exists(), handler
        module = handler.rpartition(".")[0]
        path = directory / Path(*module.split("."))
        assert path.with_suffix(".py").exists() or (path / "__init__.py").exists(), handler


def test_no_workbench_kit_or_test_tool_is_shipped() -> None:
    for handler, directory in function_dirs().items():
        shipped = [name for name in NOT_SHIPPED if (directory / name).exists()]
        assert not shipped, f"{handler}: {shipped} shipped to Lambda"
        names = distributions(directory)
        assert "bulb-skill-workbench" not in names and "bulb-skill-kit" not in names, handler


def test_no_simulator_adapter_is_registered() -> None:
    """The default registry enables every installed adapter: the simulator's must not be."""
    for handler, directory in function_dirs().items():
        for entry_points in directory.glob("*.dist-info/entry_points.txt"):
            text = entry_points.read_text()
            assert "bulb_workbench" not in text, f"{handler}: {entry_points.parent.name}"
            assert not re.search(r"^sim-", text, re.MULTILINE), f"{handler}: {entry_points}"


def test_the_shipped_distributions_are_the_runtime_the_adapters_and_the_lock() -> None:
    own = own_distributions()
    pins = locked()
    for handler, directory in function_dirs().items():
        names = distributions(directory)
        assert own <= set(names), f"{handler}: missing {sorted(own - set(names))}"
        unpinned = {n: v for n, v in names.items() if n not in own and pins.get(n) != v}
        assert not unpinned, f"{handler}: not as requirements.lock pins them: {unpinned}"


def test_the_lock_pins_every_requirement_with_hashes() -> None:
    script = bundle_script()
    requirements_in = ROOT / "infra" / "lambda" / "requirements.in"
    assert requirements_in.read_text() == script.requirements_text(), (
        "infra/lambda/requirements.in is stale: lock again (infra/README.md, 'The lock file')"
    )
    pins = locked()
    for requirement in script.third_party_requirements():
        name = re.match(r"[A-Za-z0-9._-]+", requirement)
        assert name and _normalized(name.group()) in pins, f"{requirement} is not locked"
    # every pin carries at least one hash (pip --require-hashes refuses the lock otherwise)
    for block in re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text().strip()):
        if _PIN.match(block):
            assert "--hash=sha256:" in block, block.splitlines()[0]


def test_the_lock_has_no_requests_release_with_published_advisories() -> None:
    version = tuple(int(part) for part in locked()["requests"].split(".")[:3])
    assert version >= (2, 32, 4)


def test_the_runtime_distribution_holds_only_the_runtime():
    """What the `bulb-skill` wheel packs, as its pyproject's package discovery finds it: the
    `skill` package and nothing of the workbench, the kit or the tests, and no `sim-*` adapter
    entry point."""
    from setuptools import find_packages

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    where = project["tool"]["setuptools"]["packages"]["find"]["where"]
    packages = find_packages(str(ROOT / where[0]))
    assert where == ["src"] and {p.split(".")[0] for p in packages} == {"skill"}, packages
    assert not {"skill.local", "skill.testing"} & set(packages)
    for module in ("cli.py", "cli_secrets.py", "dlq.py"):
        assert not (ROOT / "src" / "skill" / module).exists(), module
    assert not any(
        name.startswith("sim-")
        for group in project["project"].get("entry-points", {}).values()
        for name in group
    )
