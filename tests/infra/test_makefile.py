"""Every target the Makefile declares ``.PHONY`` is a rule with a recipe or prerequisites.

A phony name without a rule makes ``make <name>`` fail with "No rule to make target", and one
with an empty rule does nothing while looking like it worked.
"""

from __future__ import annotations

import re
from pathlib import Path

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"

#: A rule line: targets, one colon (not ``:=``, not ``::``), then prerequisites.
_RULE = re.compile(r"^(?P<targets>[^\s:=#][^:=#]*?)\s*:(?![:=])(?P<prerequisites>[^#]*)")


def _logical_lines(text: str) -> list[str]:
    """The Makefile's lines with backslash continuations joined (recipes keep their tab)."""
    return re.sub(r"\\\n\t?", " ", text).splitlines()


def phony_targets(text: str) -> set[str]:
    names: set[str] = set()
    for line in _logical_lines(text):
        match = _RULE.match(line)
        if match and match["targets"].strip() == ".PHONY":
            names.update(match["prerequisites"].split())
    return names


def rules(text: str) -> dict[str, tuple[list[str], list[str]]]:
    """Per target: its prerequisites and its recipe lines (over every rule that names it)."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    current: list[str] = []
    for line in _logical_lines(text):
        if line.startswith("\t"):
            for target in current:
                found[target][1].append(" ".join(line.split()))
            continue
        match = _RULE.match(line)
        if match is None or match["targets"].strip() == ".PHONY":
            if line.strip() and not line.startswith("#"):
                current = []
            continue
        current = match["targets"].split()
        prerequisites, _, inline = match["prerequisites"].partition(";")  # "a: b ; recipe"
        for target in current:
            found.setdefault(target, ([], []))
            found[target][0].extend(prerequisites.split())
            if inline.strip():
                found[target][1].append(inline.strip())
    return found


def test_the_parser_sees_the_makefiles_rules() -> None:
    text = "X := 1\n.PHONY: a b\n.PHONY: c\na: b\nb:\n\techo b \\\n\t  more\nc: ; echo c\nd:\n"
    assert phony_targets(text) == {"a", "b", "c"}
    assert rules(text) == {
        "a": (["b"], []),
        "b": ([], ["echo b more"]),
        "c": ([], ["echo c"]),
        "d": ([], []),
    }


def test_every_phony_target_has_a_recipe_or_prerequisites() -> None:
    text = MAKEFILE.read_text(encoding="utf-8")
    declared = phony_targets(text)
    assert {"test", "demo", "invoke"} <= declared
    defined = rules(text)
    empty = sorted(name for name in declared if not any(defined.get(name, ([], []))))
    assert not empty, f".PHONY declares targets with no recipe and no prerequisites: {empty}"
