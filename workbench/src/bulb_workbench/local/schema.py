"""Validation of outgoing messages against Amazon's official Smart Home message schema.

The schema (draft-04) and its licence live in ``tests/alexa_schema`` of the repository; the
fake gateway and the tests both validate with this module. ``DeleteReport`` is not in that
schema: it is checked against ``tests/alexa_schema_extra/DeleteReport.schema.json``, written
from the Alexa.Discovery documentation.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parents[4]  # the checkout (workbench/src/bulb_workbench/local)


def _schema_dir() -> Path:
    return Path(os.environ.get("ALEXA_SCHEMA_DIR", _REPO / "tests"))


@cache
def _validators() -> tuple[Any, Any]:
    from jsonschema import Draft4Validator

    base = _schema_dir()
    official = json.loads(
        (base / "alexa_schema/validation_schemas/alexa_smart_home_message_schema.json").read_text()
    )
    extra = json.loads((base / "alexa_schema_extra/DeleteReport.schema.json").read_text())
    return Draft4Validator(official), Draft4Validator(extra)


def schema_errors(message: Any) -> list[str]:
    """Why ``message`` is not a valid Smart Home message (empty when it is)."""
    official, delete_report = _validators()
    try:
        name = message["event"]["header"]["name"]
    except (TypeError, KeyError):
        name = None
    validator = delete_report if name == "DeleteReport" else official
    return [_describe(e) for e in validator.iter_errors(message)]


def _describe(error: Any) -> str:
    # the official schema is one big oneOf: name the best sub-error, not the whole union
    from jsonschema.exceptions import best_match

    best = best_match([error]) if not error.context else best_match(error.context)
    path = "/".join(str(p) for p in best.absolute_path)
    return f"{path}: {best.message[:300]}"


def assert_valid(message: Any) -> None:
    errors = schema_errors(message)
    if errors:
        raise AssertionError("not a valid Alexa message:\n" + "\n".join(errors[:5]))
