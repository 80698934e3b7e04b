"""bulb-skill adapter for Philips Hue lights through the Hue Remote API, CLIP v2 (``optimistic``).

Registered under the ``bulb_skill.adapters`` entry-point group as ``hue``; the skill builds it
with ``create(ctx)``. ``HUE_BASE_URL`` points it at another API root (a simulator),
``HUE_TOKEN_URL`` at another OAuth token endpoint, ``HUE_AUTHORIZE_URL`` at another authorize
page; the secret ``HUE_APPLICATION_KEY`` serves credentials that do not carry their own
application key.

Example::

    from skill.plugins import AdapterContext, OAuthToken
    from bulb_skill_hue import create

    adapter = create(AdapterContext(vendor="hue"))
    adapter.list_devices(
        OAuthToken.bearer("<access token>", application_key="<application key>")
    )
"""

from bulb_skill_hue._adapter import HueAdapter, create
from bulb_skill_hue._client import DEFAULT_BASE_URL, HueClient
from bulb_skill_hue._oauth import DEFAULT_AUTHORIZE_URL, DEFAULT_TOKEN_URL, HueTokenEndpoint

__all__ = [
    "DEFAULT_AUTHORIZE_URL",
    "DEFAULT_BASE_URL",
    "DEFAULT_TOKEN_URL",
    "HueAdapter",
    "HueClient",
    "HueTokenEndpoint",
    "create",
]
