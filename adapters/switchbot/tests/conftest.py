"""Fixtures: an adapter built the way the registry builds it, and a strict HTTP mock."""

from __future__ import annotations

import pytest
import responses
from switchbot_support import context

from bulb_skill_switchbot import SwitchBotAdapter, create


@pytest.fixture
def adapter() -> SwitchBotAdapter:
    return create(context())


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
