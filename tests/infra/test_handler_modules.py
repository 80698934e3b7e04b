"""Every ``Handler:`` the templates name imports and is callable.

The handlers are read from every function of template.yaml and its bricks, with every style on
and each style alone (conditions decide which functions deploy). Each is imported in a fresh
interpreter, with no environment beyond what Lambda always sets, as a cold start would: a
renamed or missing handler module fails here instead of at the first deploy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.infra._composition import STYLES, Composition

HANDLERS = sorted(
    {
        fn.handler
        for styles in (STYLES, *((s,) for s in STYLES))
        for fn in Composition.with_styles(*styles).functions()
    }
)

IMPORT = r"""
import importlib, json, sys, traceback
found = {}
for path in sys.argv[1:]:
    module, _, name = path.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module), name, None)
        found[path] = "ok" if callable(handler) else f"{module} has no callable {name!r}"
    except BaseException:
        found[path] = traceback.format_exc(limit=-3)
print("IMPORTED " + json.dumps(found))
"""


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # the region any Lambda function has, nothing a test set; run where no source tree is on
    # sys.path, so the handlers come from the installed package
    env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1"}
    cwd = tmp_path_factory.mktemp("cold-start")
    result = subprocess.run(
        [sys.executable, "-c", IMPORT, *HANDLERS],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("IMPORTED "))
    return json.loads(line.removeprefix("IMPORTED "))


def test_the_handlers_are_read_from_the_templates() -> None:
    # an empty list would leave the test below with nothing to check (pytest skips it)
    assert (
        "skill.handlers.entrypoint.handler" in HANDLERS
        and "skill.handlers.sweep.handler" in HANDLERS
    )


@pytest.mark.parametrize("handler", HANDLERS)
def test_every_template_handler_imports_and_is_callable(
    imported: dict[str, str], handler: str
) -> None:
    assert imported[handler] == "ok", f"{handler} does not import:\n{imported[handler]}"
