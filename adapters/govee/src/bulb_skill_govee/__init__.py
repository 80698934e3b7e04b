"""bulb-skill adapter for Govee lights (Govee OpenAPI, style ``polling``).

Registered under the ``bulb_skill.adapters`` entry-point group as ``govee``.

Example::

    from skill.plugins import AdapterContext, ApiKey
    from bulb_skill_govee import create

    adapter = create(AdapterContext(vendor="govee"))
    devices = adapter.list_devices(ApiKey.of("<Govee API key>"))
"""

from __future__ import annotations

from bulb_skill_govee._adapter import GoveeAdapter
from bulb_skill_govee._mapping import device_id, split_device_id
from skill.plugins import AdapterContext

__all__ = ["GoveeAdapter", "create", "device_id", "split_device_id"]


def create(context: AdapterContext) -> GoveeAdapter:
    """The entry-point factory: one adapter (and one HTTP session) per container."""
    return GoveeAdapter(context)
