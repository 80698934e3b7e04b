"""bulb-skill adapter for LIFX bulbs through the LIFX HTTP API (``sync`` style).

Registered under the ``bulb_skill.adapters`` entry-point group as ``lifx``; the skill builds it
with ``create(ctx)``. ``LIFX_BASE_URL`` points it at another API root (a simulator).

Example::

    from skill.plugins import AdapterContext
    from bulb_skill_lifx import create

    adapter = create(AdapterContext(vendor="lifx"))
    adapter.list_devices(token)
"""

from bulb_skill_lifx._adapter import LifxAdapter, create
from bulb_skill_lifx._client import DEFAULT_BASE_URL, LifxClient

__all__ = ["DEFAULT_BASE_URL", "LifxAdapter", "LifxClient", "create"]
