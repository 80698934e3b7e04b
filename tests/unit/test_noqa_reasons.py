"""Every deliberate exception to a lint rule says why (``# noqa: RULE - why``), as the house
style asks, so a reader knows the exception was chosen rather than silenced."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TREES = ("src", "workbench", "kit", "adapters", "tests", "scripts", "infra")
BARE = re.compile(r"#\s*noqa(:\s*[A-Z]+[0-9]+(\s*,\s*[A-Z]+[0-9]+)*)?\s*$")


def test_every_noqa_gives_its_reason():
    bare = [
        f"{path.relative_to(ROOT)}:{n}"
        for tree in TREES
        for path in sorted((ROOT / tree).rglob("*.py"))
        if "__pycache__" not in path.parts and ".venv" not in path.parts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if BARE.search(line)
    ]
    assert bare == [], f"noqa without a reason (add ' - why'): {bare}"
