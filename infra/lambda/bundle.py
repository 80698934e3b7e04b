"""Build the Lambda code bundle once per source content and link it into a function's artifacts.

Called by ``infra/lambda/Makefile`` (``sam build``, BuildMethod makefile) with python3.13::

    python3.13 infra/lambda/bundle.py "$ARTIFACTS_DIR"

What a bundle holds, for the Lambda runtime python3.13 on arm64 (Graviton):

- the ``bulb-skill`` distribution (package ``skill``) and every vendor adapter package under
  ``adapters/*/`` installed as wheels (``--no-deps``), so their ``*.dist-info/entry_points.txt``
  register the ``bulb_skill.adapters`` plugins exactly as ``pip install`` does locally; nothing
  else of the repository (the workbench and the conformance kit never ship);
- their third-party dependencies exactly as ``requirements.lock`` pins them, checked against its
  hashes (``pip install --require-hashes``), as manylinux aarch64 wheels (never built on this
  machine, so the bundle does not depend on the builder's platform);
- precompiled bytecode (``__pycache__/*.cpython-313.pyc``) with ``unchecked-hash`` invalidation:
  Lambda's ``/var/task`` is read-only, so without it every cold start compiles from source; and zip
  timestamps (2-second resolution) would make timestamp-checked ``.pyc`` files look stale. The code
  objects record ``/var/task/...`` paths so tracebacks name the deployed files.

SAM never shares makefile builds between functions, so bundles are cached under
``.aws-sam/bundles/`` and hard-linked (or copied) into each function's directory: the first
function pays, the others take milliseconds. Two layers, so that editing the source does not
reinstall the dependencies:

- ``deps-<hash of the lock file>``: the third-party dependencies, compiled;
- ``app-<hash of the sources>``: the deps layer plus the project's and adapters' wheels.

``requirements.in`` lists the shipped distributions' third-party requirements, as this script
prints them (``--requirements``); the build stops when it is stale, so a dependency added to a
pyproject is locked before it ships. To lock again (infra/README.md)::

    python3 infra/lambda/bundle.py --requirements > infra/lambda/requirements.in
    uv pip compile --generate-hashes --no-header --python-version 3.13 \\
        --python-platform aarch64-manylinux_2_28 \\
        --output-file infra/lambda/requirements.lock infra/lambda/requirements.in

Wheels are built without build isolation in ``buildenv-*`` (a venv with the ``[build-system]``
requirements of every pyproject, made once). Set ``LAMBDA_ARCH=x86_64`` only together with
``Architectures: [x86_64]`` in the templates.
"""

from __future__ import annotations

import compileall
import hashlib
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".aws-sam" / "bundles"
RUNTIME = (3, 13)
PLATFORMS = {
    "arm64": ["manylinux2014_aarch64", "manylinux_2_28_aarch64"],
    "x86_64": ["manylinux2014_x86_64", "manylinux_2_28_x86_64"],
}
_SKIP_DIRS = {"__pycache__", "tests", "build", "dist", ".pytest_cache", ".hypothesis", ".venv"}
KEEP_BUNDLES = 2
HERE = Path(__file__).resolve().parent
REQUIREMENTS_IN = HERE / "requirements.in"
LOCK = HERE / "requirements.lock"
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_REQUIREMENTS_HEADER = (
    "# The Lambda bundle's third-party requirements, from the pyproject.toml of bulb-skill and of\n"
    "# every adapter under adapters/ (generated: infra/lambda/bundle.py --requirements).\n"
    "# requirements.lock pins them with hashes; infra/README.md says how to lock again.\n"
)


def _log(message: str) -> None:
    print(f"bundle: {message}", file=sys.stderr, flush=True)


def _projects() -> list[Path]:
    """The distributions to ship: the project itself, then each adapter package."""
    adapters = sorted(p.parent for p in (ROOT / "adapters").glob("*/pyproject.toml"))
    return [ROOT, *adapters]


def _source_files(project: Path) -> list[Path]:
    """The files a wheel of ``project`` is built from (tests and build debris left out)."""
    if project == ROOT:
        tops = [ROOT / "pyproject.toml", ROOT / "README.md", ROOT / "LICENSE", ROOT / "src"]
    else:
        tops = [project]
    files: list[Path] = []
    for top in tops:
        if top.is_file():
            files.append(top)
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(
                d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info")
            )
            files.extend(Path(dirpath, f) for f in sorted(filenames) if not f.endswith(".pyc"))
    return files


def _pyprojects() -> list[Path]:
    return [project / "pyproject.toml" for project in _projects()]


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def third_party_requirements() -> list[str]:
    """The shipped distributions' requirements on anything but themselves, sorted, deduplicated:
    what ``requirements.lock`` must pin."""
    metadata = [tomllib.loads(p.read_text())["project"] for p in _pyprojects()]
    own = {_normalized(project["name"]) for project in metadata}
    requirements = set()
    for project in metadata:
        for requirement in project.get("dependencies", []):
            match = _REQUIREMENT_NAME.match(requirement)
            if match is None or _normalized(match.group(1)) not in own:
                requirements.add(requirement.strip())
    return sorted(requirements, key=str.lower)


def requirements_text() -> str:
    return _REQUIREMENTS_HEADER + "".join(f"{r}\n" for r in third_party_requirements())


def _check_lock() -> str | None:
    """Why the lock cannot be used (stale or missing), or None."""
    if not LOCK.is_file():
        return f"{LOCK.relative_to(ROOT)} is missing"
    if not REQUIREMENTS_IN.is_file() or REQUIREMENTS_IN.read_text() != requirements_text():
        return (
            f"{REQUIREMENTS_IN.relative_to(ROOT)} does not match the pyproject files' dependencies"
        )
    return None


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part + b"\0")
    return digest.hexdigest()[:20]


def _deps_key(arch: str) -> str:
    """Changes when the lock, the platform or this recipe changes."""
    recipe = Path(__file__).read_bytes()
    return _digest(f"{RUNTIME} {arch} {PLATFORMS[arch]}".encode(), recipe, LOCK.read_bytes())


def _app_key(arch: str) -> str:
    """Changes when any shipped source file changes (or the deps layer does)."""
    parts = [_deps_key(arch).encode()]
    for project in _projects():
        for path in _source_files(project):
            parts += [str(path.relative_to(ROOT)).encode(), path.read_bytes()]
    return _digest(*parts)


def _copy_sources(project: Path, dest: Path) -> None:
    """Copy a project's sources so the wheel build never writes into the work tree."""
    for path in _source_files(project):
        target = dest / path.relative_to(project)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _pip(python: str | Path, *args: str) -> None:
    cmd = [str(python), "-m", "pip", "-qq", "--disable-pip-version-check", *args]
    subprocess.run(cmd, check=True, env={**os.environ, "PIP_ROOT_USER_ACTION": "ignore"})


def _build_env() -> Path:
    """A venv holding every project's build backend, so wheels build without isolation."""
    requires = sorted(
        {r for p in _pyprojects() for r in tomllib.loads(p.read_text())["build-system"]["requires"]}
    )
    env = CACHE / f"buildenv-{_digest(str(RUNTIME).encode(), *(r.encode() for r in requires))}"
    if not (env / ".ready").exists():
        shutil.rmtree(env, ignore_errors=True)
        venv.create(env, with_pip=True)
        _pip(env / "bin" / "python", "install", *requires)
        (env / ".ready").touch()
    return env / "bin" / "python"


def _build_wheels(work: Path) -> list[Path]:
    sources = []
    for index, project in enumerate(_projects()):
        dest = work / "src" / f"{index:02d}-{project.name}"
        _copy_sources(project, dest)
        sources.append(str(dest))
    wheels = work / "wheels"
    isolation = ["--no-deps", "--no-build-isolation"]
    _pip(_build_env(), "wheel", *isolation, "--wheel-dir", str(wheels), *sources)
    return sorted(wheels.glob("*.whl"))


def _install(target: Path, arch: str, *what: str) -> None:
    platform_args = [arg for p in PLATFORMS[arch] for arg in ("--platform", p)]
    _pip(
        sys.executable, "install", "--target", str(target), "--no-compile", "--only-binary=:all:",
        "--implementation", "cp", "--python-version", f"{RUNTIME[0]}.{RUNTIME[1]}",
        *platform_args, *what,
    )  # fmt: skip


def _compile(paths: list[Path]) -> None:
    """Bytecode for the Lambda runtime, recorded under /var/task."""
    for path in paths:
        if path.is_dir():
            ok = compileall.compile_dir(
                str(path), ddir=f"/var/task/{path.name}", quiet=2, workers=0,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )  # fmt: skip
        else:
            ok = compileall.compile_file(
                str(path), ddir="/var/task", quiet=2,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )  # fmt: skip
        if not ok:  # a dependency shipping a file that is not Python 3.13 source: not fatal
            _log(f"{path.name}: some files did not compile (left as source)")


def _own_distributions(target: Path, wheels: list[Path]) -> list[Path]:
    """The dist-info directories of the project's own wheels installed in ``target``."""
    names = {w.name.split("-")[0].lower() for w in wheels}
    return [d for d in target.glob("*.dist-info") if d.name.split("-")[0].lower() in names]


def _top_level(target: Path, dist_info: Path) -> set[Path]:
    """What a distribution installed at the top of ``target`` (from its RECORD)."""
    tops = set()
    for line in (dist_info / "RECORD").read_text().splitlines():
        first = line.split(",")[0].split("/")[0]
        if first and first != "..":
            tops.add(target / first)
    return tops


def _deps_layer(arch: str) -> Path:
    layer = CACHE / f"deps-{_deps_key(arch)}"
    if layer.is_dir():
        return layer
    _log(f"installing {LOCK.relative_to(ROOT)} into {layer.relative_to(ROOT)}")
    with tempfile.TemporaryDirectory(prefix="tmp-", dir=CACHE) as work:
        pkg = Path(work) / "pkg"
        # every distribution pinned and hash-checked: one missing from the lock fails here
        _install(pkg, arch, "--require-hashes", "-r", str(LOCK))
        shutil.rmtree(pkg / "bin", ignore_errors=True)
        _compile(sorted(pkg.iterdir()))
        _publish(pkg, layer)
    return layer


def _build(arch: str, work: Path) -> Path:
    wheels = _build_wheels(work)
    deps = _deps_layer(arch)
    pkg = work / "pkg"
    _link_tree(deps, pkg)
    _install(pkg, arch, "--no-deps", *map(str, wheels))
    shutil.rmtree(pkg / "bin", ignore_errors=True)  # console scripts: no use in Lambda
    own: set[Path] = set()
    for dist_info in _own_distributions(pkg, wheels):
        own |= _top_level(pkg, dist_info)
    code = [p for p in own if p.exists() and not p.name.endswith(".dist-info")]
    _compile(sorted(code))
    return pkg


def _publish(pkg: Path, bundle: Path) -> None:
    try:
        pkg.rename(bundle)  # atomic: a concurrent build of the same key may have won
    except OSError:
        if not bundle.is_dir():
            raise
    kind = bundle.name.split("-")[0]  # keep the newest few of each layer
    bundles = sorted(
        (p for p in CACHE.glob(f"{kind}-*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in bundles[KEEP_BUNDLES:]:
        if old != bundle:
            shutil.rmtree(old, ignore_errors=True)


def _link_tree(src: Path, dest: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(src):
        target_dir = dest / Path(dirpath).relative_to(src)
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in filenames:
            target = target_dir / name
            if target.exists():
                target.unlink()
            try:
                os.link(Path(dirpath, name), target)
            except OSError:  # another file system, or links not allowed
                shutil.copy2(Path(dirpath, name), target)


def main(argv: list[str]) -> int:
    if argv[1:] == ["--requirements"]:
        sys.stdout.write(requirements_text())
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    stale = _check_lock()
    if stale:
        _log(f"{stale}: lock the dependencies again (infra/README.md, 'The lock file')")
        return 1
    if sys.version_info[:2] != RUNTIME:
        _log(
            f"needs python{RUNTIME[0]}.{RUNTIME[1]} (the Lambda runtime), got "
            f"{sys.version.split()[0]} at {sys.executable}; run sam through scripts/sam.sh"
        )
        return 1
    arch = os.environ.get("LAMBDA_ARCH", "arm64")
    artifacts = Path(argv[1])
    started = time.monotonic()
    bundle = CACHE / f"app-{_app_key(arch)}"
    if bundle.is_dir():
        _log(f"reusing {bundle.relative_to(ROOT)}")
    else:
        CACHE.mkdir(parents=True, exist_ok=True)
        _log(f"building {bundle.relative_to(ROOT)} for python{RUNTIME[0]}.{RUNTIME[1]} {arch}")
        with tempfile.TemporaryDirectory(prefix="tmp-", dir=CACHE) as work:
            _publish(_build(arch, Path(work)), bundle)
    artifacts.mkdir(parents=True, exist_ok=True)
    _link_tree(bundle, artifacts)
    _log(f"{artifacts.name or artifacts} ready in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
