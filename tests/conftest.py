"""Shared fixtures: the official-schema check every emitted message goes through."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bulb_workbench.local.schema import schema_errors

SAMPLES = Path(__file__).parent / "alexa_schema" / "sample_messages"


@pytest.fixture
def assert_alexa_valid():
    def check(message: Any) -> Any:
        errors = schema_errors(message)
        assert not errors, "not a valid Alexa message:\n" + "\n".join(errors[:5])
        return message

    return check


def sample(relative: str) -> dict[str, Any]:
    return json.loads((SAMPLES / relative).read_text())
