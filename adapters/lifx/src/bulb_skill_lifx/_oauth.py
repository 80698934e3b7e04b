"""LIFX's OAuth endpoints: connecting a user (``authorization_url``, ``exchange_code``) and
renewing their credential (``refresh_credential``).

What LIFX documents, in its *LIFX OAuth Integration Guide* (the guide LIFX hands OAuth partners,
https://gist.github.com/smarthall/b6977ce828dd786e2802):

1. the authorize page ``https://cloud.lifx.com/oauth/authorize``, opened with ``client_id``,
   ``scope`` (e.g. ``remote_control:all``), ``state`` and ``response_type=code``; LIFX sends the
   user back to the partner's registered ``redirect_uri`` with ``code`` and ``state``;
2. the token URL ``https://cloud.lifx.com/oauth/token``: a ``POST`` carrying ``client_id``,
   ``client_secret`` and the ``code`` exchanges the code for the user's access token. LIFX's own
   SmartThings integration (SmartThingsCommunity/SmartThingsPublic,
   ``smartapps/smartthings/lifx-connect.src/lifx-connect.groovy``, "Copyright 2015 LIFX") sends
   exactly ``client_id``, ``client_secret``, ``grant_type=authorization_code`` and ``code``.

The authorize URL also names ``redirect_uri`` (RFC 6749 section 4.1.1: the page's own callback,
which must be the one registered with LIFX), and the code exchange repeats it, as RFC 6749
section 4.1.3 requires when the authorization request carried one.

LIFX's public pages say nothing more about renewal, so the refresh is the standard OAuth 2.0 one
(RFC 6749 section 6) at that URL, with the client authenticated the way the guide shows::

    POST https://cloud.lifx.com/oauth/token
    Content-Type: application/x-www-form-urlencoded

    grant_type=refresh_token&refresh_token=...&client_id=...&client_secret=...

and the answer read as RFC 6749 section 5.1 defines it: ``access_token`` (required),
``expires_in`` (seconds, optional), ``refresh_token`` (optional: when absent the old one stays
valid and is kept), ``token_type``, ``scope``. Errors are RFC 6749 section 5.2 bodies
(``{"error": "invalid_grant", "error_description": ...}``):

- ``invalid_grant`` (the refresh token is revoked, expired or already used), or any other
  400/401/403 that names no client problem -> ``InvalidAuthorizationCredential``: the user must
  link LIFX again;
- ``invalid_client``, ``unauthorized_client``, ``unsupported_grant_type``, ``invalid_request``,
  ``invalid_scope`` -> ``InternalError``: this deployment's OAuth client (the ``LIFX_CLIENT_ID`` /
  ``LIFX_CLIENT_SECRET`` secrets) or request is wrong, the user's credential may well be fine;
- 429 -> ``RateLimited``; 5xx, timeouts, connection errors, a body without ``access_token`` ->
  ``EndpointUnreachable`` (retry later: the refresh token was not spent).

A code exchange fails the same way: a refused code (``invalid_grant``: unknown, spent, expired,
or issued for another ``redirect_uri``) is ``InvalidAuthorizationCredential`` ("connect LIFX
again"), a refused client is ``InternalError``, LIFX down is ``EndpointUnreachable``.
"""

from __future__ import annotations

from skill.plugins import OAuthToken, OAuthTokenEndpoint

DEFAULT_TOKEN_URL = "https://cloud.lifx.com/oauth/token"
DEFAULT_AUTHORIZE_URL = "https://cloud.lifx.com/oauth/authorize"
#: The scope LIFX's guide names: control of every light of the account.
SCOPE = "remote_control:all"
CLIENT_ID_SECRET = "LIFX_CLIENT_ID"
CLIENT_SECRET_SECRET = "LIFX_CLIENT_SECRET"


class LifxTokenEndpoint(OAuthTokenEndpoint):
    """LIFX's OAuth endpoints: the authorize page, and the token endpoint that exchanges codes
    and renews users' credentials (``skill.plugins.OAuthTokenEndpoint`` with the client's id
    and secret as form fields).
    """

    vendor = "LIFX"
    secret_names = (CLIENT_ID_SECRET, CLIENT_SECRET_SECRET)
    client_auth = "form"
    default_authorize_url = DEFAULT_AUTHORIZE_URL

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """LIFX's authorize page for this deployment's client: ``client_id``, ``scope``,
        ``state``, ``response_type=code`` (the guide's four) and ``redirect_uri``."""
        return self.authorize_url_with(
            {"scope": SCOPE, "state": state, "response_type": "code", "redirect_uri": redirect_uri}
        )

    def exchange(self, code: str, redirect_uri: str) -> OAuthToken:  # type: ignore[override]
        """The user's credential for an authorization code (RFC 6749 section 4.1.3): the access
        token, the refresh token, ``expires_at = now + expires_in``; see the module for errors.
        A code that cannot be one (empty, spaces, control characters) is refused unsent."""
        return super().exchange(code, redirect_uri=redirect_uri)
