"""Fixtures: the adapter under test and a stub of the LIFX HTTP API (``responses``, no socket).

Named as a conformance kit would want them: ``adapter`` (built through the real factory),
``credential`` (a LIFX ``OAuthToken``), and ``vendor`` (stages LIFX answers, those of its API and
of its OAuth token endpoint, and records what was sent).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from lifx_payloads import BASE, CLIENT_ID, CLIENT_SECRET, NOW, REFRESH_TOKEN, TOKEN, TOKEN_URL

import bulb_skill_lifx
from bulb_skill_lifx import LifxAdapter, LifxClient
from skill.plugins import AdapterContext, OAuthToken


class LifxStub:
    """Stages LIFX answers on a ``responses`` mock and reads back what the adapter sent."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock

    def lights(self, selector: str, body: Any, status: int = 200, **kwargs: Any) -> None:
        self.mock.get(f"{BASE}/lights/{selector}", json=body, status=status, **kwargs)

    def set_state(self, selector: str, body: Any, status: int = 207, **kwargs: Any) -> None:
        self.mock.put(f"{BASE}/lights/{selector}/state", json=body, status=status, **kwargs)

    def token(self, json: Any = None, status: int = 200, **kwargs: Any) -> None:
        """Stage LIFX's OAuth token endpoint's answer: ``json``, or ``body=`` (text, exception)."""
        if json is not None:
            kwargs["json"] = json
        self.mock.post(TOKEN_URL, status=status, **kwargs)

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
def credential() -> OAuthToken:
    """The user's LIFX credential as the vault holds it: about to expire, with a refresh token."""
    return OAuthToken.bearer(TOKEN, refresh_token=REFRESH_TOKEN, expires_at=NOW + 60)


#: The deployment's LIFX OAuth client, as ``ctx.secret`` serves it.
SECRETS = {"LIFX_CLIENT_ID": CLIENT_ID, "LIFX_CLIENT_SECRET": CLIENT_SECRET}


def build(secrets: dict[str, str] | None = None) -> LifxAdapter:
    """Built by the entry-point factory, pointed at the stubs, with a fixed clock. Every secret
    read is recorded in ``adapter.secret_reads`` (to show they happen only at refresh time)."""
    secrets = SECRETS if secrets is None else secrets
    reads: list[str] = []

    def secret(name: str) -> str:
        reads.append(name)
        return secrets[name]  # KeyError when absent, as AdapterContext.secret's sources do

    built = bulb_skill_lifx.create(
        AdapterContext(
            vendor="lifx",
            environ={"LIFX_BASE_URL": BASE, "LIFX_TOKEN_URL": TOKEN_URL},
            secrets=secret,
        )
    )
    built._client._clock = lambda: NOW  # retry-after arithmetic is checked against NOW
    built._tokens._clock = lambda: NOW  # and expires_at against it
    built.secret_reads = reads  # type: ignore[attr-defined]
    return built


@pytest.fixture
def adapter() -> LifxAdapter:
    return build()


@pytest.fixture
def make_adapter():
    """``make_adapter(secrets)``: an adapter whose ``ctx.secret`` reads ``secrets``."""
    return build


@pytest.fixture
def client() -> LifxClient:
    return LifxClient(BASE, timeout=(2.0, 3.0), clock=lambda: NOW)
