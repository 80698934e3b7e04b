"""The Hue Remote API's OAuth endpoints: connecting a user (``authorization_url``,
``exchange_code``) and renewing their credential (``refresh_credential``).

Connecting (Philips Hue's *Remote Authentication* page, and what Q42.HueApi's
``RemoteAuthenticationClient`` and node-hue-api's ``RemoteApi`` implement): the user is sent to::

    https://api.meethue.com/v2/oauth2/authorize?client_id=<client id>&response_type=code&state=...

signs in with their Hue account, grants access, and Hue redirects to the **callback URL
registered with the app** on the Hue developer portal, with ``code`` and ``state``. Neither
Q42.HueApi (``BuildAuthorizeUri``: ``client_id``, ``response_type``, ``state``, ``appid``,
``deviceid``, ``devicename``) nor node-hue-api sends a ``redirect_uri``, so none is sent here:
the deployment registers its linking pages' ``/connect/hue/callback`` as the app's callback URL.
The code is exchanged at the token endpoint with the client authenticated as for a refresh::

    POST https://api.meethue.com/v2/oauth2/token
    Authorization: Basic base64(<client id>:<client secret>)

    grant_type=authorization_code&code=<code>

(Q42.HueApi's ``GetToken`` sends the same form with Digest authentication; Basic is the
page's alternative, as for the refresh below.) The application key is then created on the
user's bridge through the remote API (``HueClient.create_application_key``).

Renewing, as Philips Hue documents it on its developer portal (*Remote Authentication*,
https://developers.meethue.com/develop/hue-api/remote-authentication-oauth/, behind a developer
login; the same flow is what the maintained Hue client libraries implement, e.g. Q42.HueApi's
``RemoteAuthenticationClient``): the access token lives about 7 days, the refresh token longer,
and both are renewed with::

    POST https://api.meethue.com/v2/oauth2/token
    Authorization: Basic base64(<client id>:<client secret>)
    Content-Type: application/x-www-form-urlencoded

    grant_type=refresh_token&refresh_token=<refresh token>

answered with ``{"access_token": ..., "expires_in": <seconds>, "refresh_token": ...,
"token_type": "bearer"}``. The client (the app registered on the Hue developer portal)
authenticates with HTTP Basic, which the page documents beside Digest; Basic costs one request
instead of the Digest challenge round trip and travels over TLS. The application key is not an
OAuth field: it was created on the bridge when the user connected and is kept as it is.

Failures (the remote API answers errors either as RFC 6749 ``{"error": ...}`` bodies or as its
gateway's ``{"fault": {"faultstring", "detail": {"errorcode"}}}``):

- a refused refresh token (``invalid_grant``, ``...invalid_refresh_token``, any other 400/401/403
  that names no client problem) -> ``InvalidAuthorizationCredential``: the user must link Hue
  again;
- a refused client (``invalid_client``, ``unauthorized_client``, ``unsupported_grant_type``,
  ``invalid_request``, an ``errorcode`` naming the client) -> ``InternalError``: the
  ``HUE_CLIENT_ID`` / ``HUE_CLIENT_SECRET`` secrets are wrong, not the user's credential;
- 429 -> ``RateLimited``; 5xx, timeouts, connection errors, an answer without ``access_token``
  -> ``EndpointUnreachable`` (retry later: the refresh token was not spent).

A code exchange fails the same way, a refused code (``invalid_grant``) being
``InvalidAuthorizationCredential`` ("connect Hue again").
"""

from __future__ import annotations

from typing import Any

from skill.plugins import OAuthTokenEndpoint

DEFAULT_TOKEN_URL = "https://api.meethue.com/v2/oauth2/token"
DEFAULT_AUTHORIZE_URL = "https://api.meethue.com/v2/oauth2/authorize"
CLIENT_ID_SECRET = "HUE_CLIENT_ID"
CLIENT_SECRET_SECRET = "HUE_CLIENT_SECRET"


class HueTokenEndpoint(OAuthTokenEndpoint):
    """The Hue Remote API's OAuth endpoints: the authorize page, and the token endpoint that
    exchanges codes and renews users' credentials (``skill.plugins.OAuthTokenEndpoint`` with
    HTTP Basic client authentication and the gateway's ``fault`` error bodies).
    """

    vendor = "Hue"
    secret_names = (CLIENT_ID_SECRET, CLIENT_SECRET_SECRET)
    client_auth = "basic"
    default_authorize_url = DEFAULT_AUTHORIZE_URL

    def error_shape(self, body: dict[str, Any]) -> tuple[str, str] | None:
        """``(errorcode, faultstring)`` of the gateway's ``fault`` body; ``None`` for any other
        (read as RFC 6749)."""
        fault = body.get("fault")
        if not isinstance(fault, dict):
            return None
        detail = fault.get("detail")
        code = detail.get("errorcode") if isinstance(detail, dict) else None
        text = fault.get("faultstring")
        return code if isinstance(code, str) else "", text[:200] if isinstance(text, str) else ""

    def client_fault(self, code: str) -> bool:
        """An ``errorcode`` naming the client (the gateway's own codes) blames the client."""
        return "client" in code.lower()

    def authorization_url(self, state: str) -> str:
        """Hue's authorize page for this deployment's client: ``client_id``,
        ``response_type=code``, ``state`` (Hue redirects to the app's registered callback)."""
        return self.authorize_url_with({"response_type": "code", "state": state})
