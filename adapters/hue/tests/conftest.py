"""Fixtures: the adapter under test and a stub of the Hue Remote API (``responses``, no socket).

Named as a conformance kit would want them: ``adapter`` (built through the real factory),
``credential`` (a Hue ``OAuthToken`` with its application key), and ``vendor`` (stages the
answers of the Hue Remote API and of its OAuth token endpoint, and records what was sent).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from hue_payloads import (
    ACCESS_TOKEN,
    APP_KEY,
    BASE,
    CLIENT_ID,
    CLIENT_SECRET,
    CLIP,
    NOW,
    REFRESH_TOKEN,
    TOKEN_URL,
)

import bulb_skill_hue
from bulb_skill_hue import HueAdapter
from skill.plugins import AdapterContext, OAuthToken


class HueStub:
    """Stages CLIP v2 answers on a ``responses`` mock and reads back what the adapter sent."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock

    def get(self, resource: str, body: Any, status: int = 200, **kwargs: Any) -> None:
        self.mock.get(f"{CLIP}/{resource}", json=body, status=status, **kwargs)

    def put(self, resource: str, body: Any, status: int = 200, **kwargs: Any) -> None:
        self.mock.put(f"{CLIP}/{resource}", json=body, status=status, **kwargs)

    def token(self, json: Any = None, status: int = 200, **kwargs: Any) -> None:
        """Stage the OAuth token endpoint's answer: ``json``, or ``body=`` (text, exception)."""
        if json is not None:
            kwargs["json"] = json
        self.mock.post(TOKEN_URL, status=status, **kwargs)

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
def credential() -> OAuthToken:
    """The user's Hue credential as the vault holds it: about to expire, with a refresh token
    and the application key created on the user's bridge."""
    return OAuthToken.bearer(
        ACCESS_TOKEN, refresh_token=REFRESH_TOKEN, expires_at=NOW + 60, application_key=APP_KEY
    )


#: The deployment's Hue OAuth client, as ``ctx.secret`` serves it (no deployment-wide key).
SECRETS = {"HUE_CLIENT_ID": CLIENT_ID, "HUE_CLIENT_SECRET": CLIENT_SECRET}


def build(secrets: dict[str, str] | None = None) -> HueAdapter:
    """Built by the entry-point factory, pointed at the stubs, with a fixed clock for the token
    endpoint. Every secret read is recorded in ``adapter.secret_reads``."""
    secrets = SECRETS if secrets is None else secrets
    reads: list[str] = []

    def secret(name: str) -> str:
        reads.append(name)
        return secrets[name]  # KeyError when absent, as AdapterContext.secret's sources do

    built = bulb_skill_hue.create(
        AdapterContext(
            vendor="hue",
            environ={"HUE_BASE_URL": BASE, "HUE_TOKEN_URL": TOKEN_URL},
            secrets=secret,
        )
    )
    built._tokens._clock = lambda: NOW  # expires_at is checked against NOW
    built.secret_reads = reads  # type: ignore[attr-defined]
    return built


@pytest.fixture
def adapter() -> HueAdapter:
    """Built by the entry-point factory, pointed at the stub, no deployment-wide key."""
    return build()


@pytest.fixture
def make_adapter():
    """``make_adapter(secrets)``: an adapter whose ``ctx.secret`` reads ``secrets``."""
    return build
