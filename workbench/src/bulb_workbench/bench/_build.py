"""Interpreters and Lambda-shaped code trees for the cold-start benchmark.

A deployed function's ``/var/task`` is what ``pip install --target`` of the project and its
dependencies gives: flat, no editable-install finders, and (``sam build``'s default) no
``.pyc`` files. ``lambda_tree`` builds that tree for a given interpreter (dependencies with
pip once, cached under ``$BENCH_CACHE``, default ``/tmp/bulb-bench``; the project's packages and
their ``.dist-info`` entry points copied from the work tree at each run), in two variants:

- ``nopyc``: sources only, as ``sam build`` ships them;
- ``pyc``: the same files (hard links) plus ``__pycache__`` written by
  ``python -m compileall -q -j 0 --invalidation-mode unchecked-hash``, the recipe proposed for
  the build.

The work tree is never written to.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]  # the checkout (workbench/src/bulb_workbench/bench)
CACHE = Path(os.environ.get("BENCH_CACHE", "/tmp/bulb-bench"))  # noqa: S108 - a rebuildable cache
_SKIP = {"__pycache__", "tests", "build", "dist", ".pytest_cache", ".hypothesis", ".venv"}


@dataclass(frozen=True)
class Interpreter:
    label: str  # "3.13.0"
    path: str


def _version_of(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def find_python313() -> Interpreter | None:
    """python3.13 through pyenv (``pyenv which``; else the newest installed 3.13.x), or PATH."""
    candidates: list[str] = []
    env = dict(os.environ)
    try:
        out = subprocess.run(
            ["pyenv", "which", "python3.13"], capture_output=True, text=True, env=env, check=False
        )
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(out.stdout.strip())
        versions = subprocess.run(
            ["pyenv", "versions", "--bare"], capture_output=True, text=True, check=False
        )
        for version in sorted(
            (v.strip() for v in versions.stdout.split() if v.strip().startswith("3.13")),
            key=lambda v: [int(p) if p.isdigit() else 0 for p in v.split(".")],
            reverse=True,
        ):
            env["PYENV_VERSION"] = version
            out = subprocess.run(
                ["pyenv", "which", "python3.13"],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(out.stdout.strip())
    except FileNotFoundError:
        pass
    found = shutil.which("python3.13")
    if found:
        candidates.append(found)
    for path in candidates:
        try:
            return Interpreter(_version_of(path), path)
        except (OSError, subprocess.CalledProcessError):
            continue
    return None


def current_python() -> Interpreter:
    return Interpreter(_version_of(sys.executable), sys.executable)


def _projects() -> list[Path]:
    return [ROOT, *sorted(p.parent for p in (ROOT / "adapters").glob("*/pyproject.toml"))]


def _bundled() -> list[Path]:
    """What the measured tree holds: the projects, and the workbench for the simulator's adapters
    (``sim-*``, its entry points), which the benchmark's functions call instead of real vendors.
    Its own third-party requirements (moto...) are not in the tree: the adapters need none."""
    workbench = ROOT / "workbench"
    return _projects() + ([workbench] if (workbench / "pyproject.toml").exists() else [])


def _pyproject(project: Path) -> dict:
    import tomllib

    return tomllib.loads((project / "pyproject.toml").read_text())["project"]


def _packages(project: Path) -> list[Path]:
    """The import packages a project ships (``src/<name>/__init__.py``)."""
    return sorted(p.parent for p in (project / "src").glob("*/__init__.py"))


def _package_files(package: Path) -> list[Path]:
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(package):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP and not d.endswith(".egg-info"))
        files += [Path(dirpath, f) for f in sorted(filenames) if not f.endswith(".pyc")]
    return files


def _dependencies() -> list[str]:
    """Every third-party requirement of the project and its adapters (not our own packages)."""
    deps = set()
    for project in _projects():
        for requirement in _pyproject(project).get("dependencies", []):
            if not requirement.replace("_", "-").lower().startswith("bulb-skill"):
                deps.add(requirement)
    return sorted(deps)


def _pip(python: Interpreter, *args: str) -> None:
    cmd = [python.path, "-m", "pip", "-qq", "--disable-pip-version-check", *args]
    subprocess.run(cmd, check=True, env={**os.environ, "PIP_ROOT_USER_ACTION": "ignore"})


def _link_tree(src: Path, dest: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(src):
        target = dest / Path(dirpath).relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for name in filenames:
            try:
                os.link(Path(dirpath, name), target / name)
            except OSError:
                shutil.copy2(Path(dirpath, name), target / name)


def _dependency_layer(python: Interpreter, log) -> tuple[Path, Path]:
    """(nopyc, pyc) trees of the third-party dependencies, built with pip once per requirement
    set and interpreter, and kept."""
    deps = _dependencies()
    key = hashlib.sha256(f"{python.label} {python.path} {deps} v3".encode()).hexdigest()[:16]
    base = CACHE / f"deps-py{python.label}-{key}"
    if not (base / ".done").exists():
        shutil.rmtree(base, ignore_errors=True)
        log(f"  installing the dependencies for python {python.label} in {base} (pip, once)")
        _pip(
            python,
            "install",
            "--no-compile",
            "--only-binary=:all:",
            "--target",
            str(base / "nopyc"),
            *deps,
        )
        shutil.rmtree(base / "nopyc" / "bin", ignore_errors=True)
        for cache_dir in list((base / "nopyc").rglob("__pycache__")):
            shutil.rmtree(cache_dir, ignore_errors=True)
        _link_tree(base / "nopyc", base / "pyc")
        subprocess.run(compile_command(python.path, str(base / "pyc")), check=False)
        (base / ".done").write_text(" ".join(deps) + "\n")
    return base / "nopyc", base / "pyc"


def _add_projects(tree: Path) -> None:
    """The project and its adapters as ``pip install`` would lay them out: the packages and a
    ``.dist-info`` whose ``entry_points.txt`` registers the adapter plugins."""
    for project in _bundled():
        meta = _pyproject(project)
        for package in _packages(project):
            for path in _package_files(package):
                target = tree / package.name / path.relative_to(package)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        name = meta["name"].replace("-", "_")
        info = tree / f"{name}-{meta['version']}.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
        )
        groups = dict(meta.get("entry-points", {}))
        if meta.get("scripts"):
            groups["console_scripts"] = meta["scripts"]
        lines = []
        for group, entries in groups.items():
            lines.append(f"[{group}]")
            lines += [f"{k} = {v}" for k, v in entries.items()]
            lines.append("")
        (info / "entry_points.txt").write_text("\n".join(lines))
        (info / "INSTALLER").write_text("bench\n")


def _content_key(python: Interpreter) -> str:
    digest = hashlib.sha256(f"{python.label} {python.path} v3".encode())
    for project in _bundled():
        digest.update((project / "pyproject.toml").read_bytes())
        for package in _packages(project):
            for path in _package_files(package):
                digest.update(
                    str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0"
                )
    return digest.hexdigest()[:16]


_TREES: dict[str, tuple[Path, Path]] = {}


def compile_command(python: str, tree: str) -> list[str]:
    """The proposed build step, exactly as it should run after ``sam build``."""
    return [python, "-m", "compileall", "-q", "-j", "0",
            "--invalidation-mode", "unchecked-hash", tree]  # fmt: skip


def lambda_tree(python: Interpreter, log=print) -> tuple[Path, Path]:
    """(nopyc, pyc) Lambda-shaped trees of the project for ``python``: the dependency layer
    (pip, cached) hard-linked, the project's packages copied from the work tree as they are now.
    One snapshot per process, so that every section of a run measures the same sources."""
    if python.path in _TREES:
        return _TREES[python.path]
    deps_nopyc, deps_pyc = _dependency_layer(python, log)
    base = CACHE / f"lambda-py{python.label}-{_content_key(python)}"
    nopyc, pyc = base / "nopyc", base / "pyc"
    if not (base / ".done").exists():
        shutil.rmtree(base, ignore_errors=True)
        _link_tree(deps_nopyc, nopyc)
        _add_projects(nopyc)
        _link_tree(deps_pyc, pyc)
        _add_projects(pyc)
        for project in _bundled():
            for package in _packages(project):
                subprocess.run(compile_command(python.path, str(pyc / package.name)), check=False)
        (base / ".done").write_text("ok\n")
    for old in CACHE.glob(f"lambda-py{python.label}-*"):
        if old != base and time.time() - old.stat().st_mtime > 600:
            shutil.rmtree(old, ignore_errors=True)
    _TREES[python.path] = (nopyc, pyc)
    return nopyc, pyc
