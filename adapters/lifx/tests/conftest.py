"""Fixtures: the adapter under test and a stub of the LIFX HTTP API (``responses``, no socket).

Named as a conformance kit would want them: ``adapter`` (built through the real factory),
``token``, and ``vendor`` (stages LIFX answers and records what was sent).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from lifx_payloads import BASE, NOW, TOKEN
from skill.plugins import AdapterContext

import bulb_skill_lifx
from bulb_skill_lifx import LifxAdapter, LifxClient


class LifxStub:
    """Stages LIFX answers on a ``responses`` mock and reads back what the adapter sent."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock

    def lights(self, selector: str, body: Any, status: int = 200, **kwargs: Any) -> None:
        self.mock.get(f"{BASE}/lights/{selector}", json=body, status=status, **kwargs)

    def set_state(self, selector: str, body: Any, status: int = 207, **kwargs: Any) -> None:
        self.mock.put(f"{BASE}/lights/{selector}/state", json=body, status=status, **kwargs)

    def answer(self, method: str, selector: str, **kwargs: Any) -> None:
        suffix = "/state" if method == "PUT" else ""
        self.mock.add(method, f"{BASE}/lights/{selector}{suffix}", **kwargs)

    @property
    def calls(self) -> list[Any]:
        return list(self.mock.calls)

    def sent(self, index: int = -1) -> dict[str, Any]:
        return json.loads(self.mock.calls[index].request.body)


@pytest.fixture
def vendor() -> Iterator[LifxStub]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield LifxStub(mock)


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
def adapter() -> LifxAdapter:
    """Built by the entry-point factory, pointed at the stub, with a fixed clock."""
    built = bulb_skill_lifx.create(AdapterContext(vendor="lifx", environ={"LIFX_BASE_URL": BASE}))
    built._client._clock = lambda: NOW  # retry-after arithmetic is checked against NOW
    return built


@pytest.fixture
def client() -> LifxClient:
    return LifxClient(BASE, timeout=(2.0, 3.0), clock=lambda: NOW)
