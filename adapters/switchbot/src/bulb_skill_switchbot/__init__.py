"""bulb-skill adapter for SwitchBot lights (SwitchBot API v1.1, style ``async`` with webhook push).

Registered under the ``bulb_skill.adapters`` entry-point group as ``switchbot``.

Example::

    from skill.plugins import AdapterContext, KeyAndSecret
    from bulb_skill_switchbot import create

    adapter = create(AdapterContext(vendor="switchbot"))
    devices = adapter.list_devices(KeyAndSecret.of("<open token>", "<secret key>"))
"""

from __future__ import annotations

from bulb_skill_switchbot._adapter import SwitchBotAdapter
from bulb_skill_switchbot._client import account_id, key_and_secret, sign
from skill.plugins import AdapterContext

__all__ = ["SwitchBotAdapter", "account_id", "create", "key_and_secret", "sign"]


def create(context: AdapterContext) -> SwitchBotAdapter:
    """The entry-point factory: one adapter (and one HTTP session) per container."""
    return SwitchBotAdapter(context)
