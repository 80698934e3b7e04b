"""The answers `sam deploy --guided` saved (samconfig.local.toml), read and changed safely.

Used by scripts/update.sh; standard library only (Python 3.11+: tomllib).

    python3 scripts/saved_config.py check FILE ENV TEMPLATE
        one JSON line: the stack, region and parameters the saved environment deploys with, the
        template parameters it does not name, whether it keeps tags; exit 2 (and why, on
        stderr) when ENV is not a saved guided deploy of this template
    python3 scripts/saved_config.py set FILE ENV TEMPLATE NAME=VALUE...
        write the values into the saved parameter_overrides (the rest kept as they are), so that
        every later update deploys them too; the file is rewritten in place, its previous text
        kept as .aws-sam/FILE.bak next to it

SAM writes a parameter override as NAME="VALUE" with the value's double quotes escaped (\\"), all
of them on one line: parameter_overrides = "SkillId=\\"amzn1...\\" EnableSync=\\"true\\" ...".
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import tomllib
from pathlib import Path
from typing import Any

#: Template parameters without which a saved environment cannot be a guided deploy's answers.
REQUIRED = ("SkillId",)


class Refused(Exception):
    pass


def template_parameters(template: Path) -> list[str]:
    """The names under the template's top-level ``Parameters:`` (no YAML library needed: the
    section's keys are the lines indented by exactly two spaces)."""
    names: list[str] = []
    inside = False
    for line in template.read_text().splitlines():
        if re.match(r"^\S", line):
            inside = line.rstrip() == "Parameters:"
            continue
        found = re.match(r"^  ([A-Za-z0-9]+):\s*$", line)
        if inside and found:
            names.append(found.group(1))
    return names


def parse_overrides(text: str) -> dict[str, str]:
    """``NAME="VALUE" NAME2=VALUE2`` as SAM writes and reads them."""
    overrides: dict[str, str] = {}
    for item in shlex.split(text, posix=True):
        name, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9]+", name):
            raise Refused(f"parameter_overrides: cannot read {item!r}")
        overrides[name] = value
    return overrides


def format_overrides(overrides: dict[str, str]) -> str:
    """The same, as SAM's guided deploy writes them (``GuidedConfig.quote_parameter_values``)."""
    return " ".join(
        f'{name}="{value.replace(chr(34), chr(92) + chr(34))}"' for name, value in overrides.items()
    )


def _section(config: dict[str, Any], env: str, command: str) -> dict[str, Any]:
    return ((config.get(env) or {}).get(command) or {}).get("parameters") or {}


def saved(path: Path, env: str, template: Path) -> dict[str, Any]:
    if not path.exists():
        raise Refused(
            f"{path} does not exist: deploy once with `scripts/sam.sh deploy --guided` and save "
            f"the answers to it (docs/deploy.md, section 2)"
        )
    config = tomllib.loads(path.read_text())
    deploy = {**_section(config, env, "global"), **_section(config, env, "deploy")}
    if not deploy:
        envs = sorted(e for e in config if isinstance(config[e], dict) and "deploy" in config[e])
        raise Refused(
            f"{path} has no [{env}.deploy.parameters] (it has: {', '.join(envs) or 'none'}); "
            f"give --config-env as you saved it"
        )
    overrides = parse_overrides(str(deploy.get("parameter_overrides", "")))
    missing = [name for name in REQUIRED if not overrides.get(name)]
    if missing:
        raise Refused(
            f"[{env}] of {path} saves no {', '.join(missing)}: it is not the answers of a guided "
            "deploy, and deploying it would set every parameter it does not name back to a default "
            "(a Hue or SwitchBot stack to LIFX). Use the file you saved the guided answers to."
        )
    declared = template_parameters(template)
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise Refused(
            f"[{env}] of {path} sets {', '.join(unknown)}, which {template.name} does not declare"
        )
    return {
        "file": str(path),
        "env": env,
        "stack_name": deploy.get("stack_name", ""),
        "region": deploy.get("region", ""),
        "parameters": overrides,
        # template parameters the saved answers do not name (new since): the update keeps their
        # deployed value (CloudFormation's UsePreviousValue), or the default for a new stack
        "unnamed": [name for name in declared if name not in overrides],
        "has_tags": bool(deploy.get("tags")),
        "has_fail_on_empty_changeset": "fail_on_empty_changeset" in deploy,
    }


def set_values(path: Path, env: str, template: Path, assignments: list[str]) -> dict[str, Any]:
    current = saved(path, env, template)
    overrides = dict(current["parameters"])
    declared = template_parameters(template)
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep or name not in declared:
            raise Refused(
                f"--set {assignment!r}: not NAME=VALUE with NAME a parameter of {template.name}"
            )
        overrides[name] = value
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    header = re.compile(
        r"^\s*\[\s*" + re.escape(env) + r"\s*\.\s*deploy\s*\.\s*parameters\s*\]\s*$"
    )
    start = next((i for i, line in enumerate(lines) if header.match(line.rstrip("\n"))), None)
    if start is None:
        raise Refused(f"{path}: no [{env}.deploy.parameters] table to write to")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines)
    )
    key = re.compile(r"^\s*parameter_overrides\s*=")
    found = [i for i in range(start + 1, end) if key.match(lines[i])]
    if len(found) != 1:
        raise Refused(
            f"{path}: [{env}.deploy.parameters] has {len(found)} parameter_overrides lines"
        )
    (index,) = found
    if not lines[index].rstrip().endswith('"') or '"""' in lines[index]:
        raise Refused(f"{path}: parameter_overrides is not a one-line string; edit it by hand")
    lines[index] = "parameter_overrides = " + json.dumps(format_overrides(overrides)) + "\n"
    new_text = "".join(lines)
    check = tomllib.loads(new_text)
    written = parse_overrides(str(_section(check, env, "deploy").get("parameter_overrides", "")))
    if written != overrides:
        raise Refused(f"{path}: the rewritten parameter_overrides would not read back the same")
    backup = path.parent / ".aws-sam" / (path.name + ".bak")  # git-ignored, like the file itself
    backup.parent.mkdir(exist_ok=True)
    backup.write_text(text)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(new_text)
    os.replace(temporary, path)
    return saved(path, env, template)


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[0] not in ("check", "set"):
        print(__doc__, file=sys.stderr)
        return 64
    command, path, env, template = argv[0], Path(argv[1]), argv[2], Path(argv[3])
    try:
        result = (
            saved(path, env, template)
            if command == "check"
            else set_values(path, env, template, argv[4:])
        )
    except (Refused, tomllib.TOMLDecodeError, ValueError) as error:
        print(f"scripts/update.sh: {error}", file=sys.stderr)
        return 2
    # parameter values are the operator's choices, not secrets; printed for the dry run
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
