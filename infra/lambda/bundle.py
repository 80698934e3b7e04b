"""Build the Lambda code bundle once per source content and link it into a function's artifacts.

Called by ``infra/lambda/Makefile`` (``sam build``, BuildMethod makefile) with python3.13::

    python3.13 infra/lambda/bundle.py "$ARTIFACTS_DIR"

What a bundle holds, for the Lambda runtime python3.13 on arm64 (Graviton):

- the ``bulb-skill`` distribution (package ``skill``) and every vendor adapter package under
  ``adapters/*/`` installed as wheels, so their ``*.dist-info/entry_points.txt`` register the
  ``bulb_skill.adapters`` plugins exactly as ``pip install`` does locally;
- their dependencies from ``pyproject.toml`` as manylinux aarch64 wheels (never built on this
  machine, so the bundle does not depend on the builder's platform);
- precompiled bytecode (``__pycache__/*.cpython-313.pyc``) with ``unchecked-hash`` invalidation:
  Lambda's ``/var/task`` is read-only, so without it every cold start compiles from source; and zip
  timestamps (2-second resolution) would make timestamp-checked ``.pyc`` files look stale. The code
  objects record ``/var/task/...`` paths so tracebacks name the deployed files.

SAM never shares makefile builds between functions, so the bundle is cached in
``.aws-sam/bundles/<content hash>`` and hard-linked (or copied) into each function's directory:
the first function pays for pip, the others take milliseconds. Set ``LAMBDA_ARCH=x86_64`` only
together with ``Architectures: [x86_64]`` in the templates.
"""

from __future__ import annotations

import compileall
import hashlib
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import time
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


def _content_key(arch: str) -> str:
    digest = hashlib.sha256()
    digest.update(f"{RUNTIME} {arch} {PLATFORMS[arch]}".encode())
    digest.update(Path(__file__).read_bytes())
    for project in _projects():
        for path in _source_files(project):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _copy_sources(project: Path, dest: Path) -> None:
    """Copy a project's sources so the wheel build never writes into the work tree."""
    for path in _source_files(project):
        target = dest / path.relative_to(project)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", "-qq", "--disable-pip-version-check", *args]
    subprocess.run(cmd, check=True, env={**os.environ, "PIP_ROOT_USER_ACTION": "ignore"})


def _build(arch: str, work: Path) -> Path:
    sources = []
    for index, project in enumerate(_projects()):
        dest = work / "src" / f"{index:02d}-{project.name}"
        _copy_sources(project, dest)
        sources.append(str(dest))
    wheels = work / "wheels"
    _pip("wheel", "--no-deps", "--wheel-dir", str(wheels), *sources)
    pkg = work / "pkg"
    platform_args = [arg for p in PLATFORMS[arch] for arg in ("--platform", p)]
    _pip(
        "install", "--target", str(pkg), "--no-compile", "--only-binary=:all:",
        "--implementation", "cp", "--python-version", f"{RUNTIME[0]}.{RUNTIME[1]}",
        *platform_args, *map(str, sorted(wheels.glob("*.whl"))),
    )  # fmt: skip
    shutil.rmtree(pkg / "bin", ignore_errors=True)
    for cache_dir in list(pkg.rglob("__pycache__")):
        shutil.rmtree(cache_dir, ignore_errors=True)
    ok = compileall.compile_dir(
        str(pkg),
        ddir="/var/task",
        quiet=2,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not ok:  # a dependency shipping a file that is not Python 3.13 source: not fatal
        _log("some files did not compile (left as source)")
    return pkg


def _publish(pkg: Path, bundle: Path) -> None:
    try:
        pkg.rename(bundle)  # atomic: a concurrent build of the same key may have won
    except OSError:
        if not bundle.is_dir():
            raise
    bundles = sorted(
        (p for p in CACHE.iterdir() if p.is_dir() and not p.name.startswith("tmp")),
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
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if sys.version_info[:2] != RUNTIME:
        _log(
            f"needs python{RUNTIME[0]}.{RUNTIME[1]} (the Lambda runtime), got "
            f"{sys.version.split()[0]} at {sys.executable}; run sam through scripts/sam.sh"
        )
        return 1
    arch = os.environ.get("LAMBDA_ARCH", "arm64")
    artifacts = Path(argv[1])
    started = time.monotonic()
    key = _content_key(arch)
    bundle = CACHE / key
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
