"""bulb-skill adapter for LIFX bulbs through the LIFX HTTP API (``sync`` style).

Registered under the ``bulb_skill.adapters`` entry-point group as ``lifx``; the skill builds it
with ``create(ctx)``. ``LIFX_BASE_URL`` points it at another API root (a simulator),
``LIFX_TOKEN_URL`` at another OAuth token endpoint, ``LIFX_AUTHORIZE_URL`` at another authorize
page.

Example::

    from skill.plugins import AdapterContext, OAuthToken
    from bulb_skill_lifx import create

    adapter = create(AdapterContext(vendor="lifx"))
    adapter.list_devices(OAuthToken.bearer("<access token>"))
"""

from bulb_skill_lifx._adapter import LifxAdapter, create
from bulb_skill_lifx._client import DEFAULT_BASE_URL, LifxClient
from bulb_skill_lifx._oauth import DEFAULT_AUTHORIZE_URL, DEFAULT_TOKEN_URL, LifxTokenEndpoint

__all__ = [
    "DEFAULT_AUTHORIZE_URL",
    "DEFAULT_BASE_URL",
    "DEFAULT_TOKEN_URL",
    "LifxAdapter",
    "LifxClient",
    "LifxTokenEndpoint",
    "create",
]
