"""Fixtures: the adapter under test and a stub of the Hue Remote API (``responses``, no socket).

Named as a conformance kit would want them: ``adapter`` (built through the real factory),
``token``, and ``vendor`` (stages Hue answers and records what was sent).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from hue_payloads import BASE, CLIP, TOKEN
from skill.plugins import AdapterContext

import bulb_skill_hue
from bulb_skill_hue import HueAdapter


class HueStub:
    """Stages CLIP v2 answers on a ``responses`` mock and reads back what the adapter sent."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock

    def get(self, resource: str, body: Any, status: int = 200, **kwargs: Any) -> None:
        self.mock.get(f"{CLIP}/{resource}", json=body, status=status, **kwargs)

    def put(self, resource: str, body: Any, status: int = 200, **kwargs: Any) -> None:
        self.mock.put(f"{CLIP}/{resource}", json=body, status=status, **kwargs)

    def answer(self, method: str, resource: str, **kwargs: Any) -> None:
        self.mock.add(method, f"{CLIP}/{resource}", **kwargs)

    @property
    def calls(self) -> list[Any]:
        return list(self.mock.calls)

    def sent(self, index: int = -1) -> dict[str, Any]:
        return json.loads(self.mock.calls[index].request.body)


@pytest.fixture
def vendor() -> Iterator[HueStub]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield HueStub(mock)


@pytest.fixture
def token() -> str:
    return TOKEN


def build(secrets: dict[str, str] | None = None) -> HueAdapter:
    secrets = secrets or {}

    def secret(name: str) -> str:
        return secrets[name]  # KeyError when absent, as AdapterContext.secret's sources do

    return bulb_skill_hue.create(
        AdapterContext(vendor="hue", environ={"HUE_BASE_URL": BASE}, secrets=secret)
    )


@pytest.fixture
def adapter() -> HueAdapter:
    """Built by the entry-point factory, pointed at the stub, no deployment-wide key."""
    return build()


@pytest.fixture
def make_adapter():
    """``make_adapter(secrets)``: an adapter whose ``ctx.secret`` reads ``secrets``."""
    return build
