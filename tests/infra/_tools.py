"""The tools `make test` makes before pytest runs (`make sam-check`): SAM CLI in .tools/sam, a
python3.13 and the `sam build` output. A test that needs one fails when it is missing, never
skips: a skip would let CI pass with the check never run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.infra._composition import ROOT

SAM_PYTHON = ROOT / ".tools" / "sam" / "bin" / "python"
BUILD = ROOT / ".aws-sam" / "build"


def require_sam() -> Path:
    """SAM CLI's interpreter (its Python APIs run as SAM itself would)."""
    if not SAM_PYTHON.exists():
        pytest.fail(
            "no SAM CLI in .tools/sam: run `make sam` (`make test` installs it first)",
            pytrace=False,
        )
    return SAM_PYTHON


def require_build() -> Path:
    """The `sam build` output."""
    if not (BUILD / "template.yaml").exists():
        pytest.fail(
            "no sam build output in .aws-sam/build: run `make build` (`make test` builds first)",
            pytrace=False,
        )
    return BUILD


def require_python313() -> str:
    """The python3.13 `sam build` compiled the bundle with."""
    found = subprocess.run(
        [ROOT / "scripts" / "sam.sh", "python313"], check=False, capture_output=True, text=True
    )
    if found.returncode != 0:
        pytest.fail(f"no python3.13 (sam build needs one): {found.stderr.strip()}", pytrace=False)
    return found.stdout.strip()
