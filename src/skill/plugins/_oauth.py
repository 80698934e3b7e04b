"""An OAuth 2.0 token endpoint (RFC 6749) for vendor adapters, on top of ``VendorTransport``.

A vendor that connects users through OAuth (Hue, LIFX) has the same token endpoint: a form
``POST`` exchanging an authorization code (section 4.1.3) or renewing with a refresh token
(section 6), answered with ``access_token``, ``refresh_token`` (optional: the old one stays
valid when absent) and ``expires_in`` (section 5.1), and refused with ``{"error": ...,
"error_description": ...}`` bodies (section 5.2). ``OAuthTokenEndpoint`` does that once; the
adapter's subclass gives its vendor's name, secrets' names, authorize URL, how the client
authenticates (``client_auth="basic"``: HTTP Basic; ``"form"``: ``client_id`` /
``client_secret`` form fields) and any other error body its endpoint answers
(``error_shape``).

Failures:

- a refused grant (``invalid_grant``, any other 400/401/403 naming no client problem) ->
  ``InvalidAuthorizationCredential``: the user must link the vendor again;
- a refused client (``invalid_client``, ``unauthorized_client``, ``unsupported_grant_type``,
  ``invalid_request``, ``invalid_scope``, or what ``client_fault`` also names) ->
  ``InternalError``: the deployment's client secrets are wrong, not the user's credential;
- 429 -> ``RateLimited``; 5xx, timeouts, connection errors, a body that is not JSON or has no
  ``access_token`` -> ``EndpointUnreachable`` (retry later: the refresh token was not spent).

A vendor's endpoint is a subclass that names the vendor, its client secrets, how the client
authenticates and where users authorize (``vendor = "Acme"``, ``secret_names =
("ACME_CLIENT_ID", "ACME_CLIENT_SECRET")``, ``client_auth = "form"``,
``default_authorize_url``), built with the token URL, ``client_credentials``, the adapter's
``session`` and ``timeout``; ``endpoint.refresh(credential)`` is then the renewed
``OAuthToken``. The LIFX and Hue adapters (``bulb_skill_lifx._oauth``, ``bulb_skill_hue._oauth``)
are complete examples.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal
from urllib.parse import urlencode

import requests

from skill.errors import (
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    RateLimited,
    SkillError,
)
from skill.plugins._credentials import AnyCredential, OAuthToken
from skill.plugins._transport import TransportBacked, VendorTransport, parse_retry_after

#: RFC 6749 section 5.2 codes that blame the client or the request, not the user's grant.
CLIENT_ERRORS = frozenset(
    {
        "invalid_client",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_request",
        "invalid_scope",
    }
)

#: Which grant a token request carries.
Grant = Literal["refresh", "code"]

#: ``(code, description)`` of an error body in the vendor's own shape, or ``None`` to read it
#: as RFC 6749 section 5.2 (``OAuthTokenEndpoint.error_shape``).
ErrorShape = Callable[[dict[str, Any]], "tuple[str, str] | None"]


def oauth_error(response: requests.Response, shape: ErrorShape | None = None) -> tuple[str, str]:
    """``(error, error_description)`` of a token endpoint's error body (``shape`` first, then
    RFC 6749 section 5.2), descriptions cut at 200 characters; ``("", "")`` when unreadable."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    described = shape(body) if shape is not None else None
    if described is not None:
        return described
    code = body.get("error")
    description = body.get("error_description")
    return (
        code if isinstance(code, str) else "",
        description[:200] if isinstance(description, str) else "",
    )


def token_from_answer(credential: OAuthToken, body: Any, *, now: float, vendor: str) -> OAuthToken:
    """The credential a token answer ``body`` gives: its access token, its refresh token if it
    rotated one (else ``credential``'s), ``expires_at = now + expires_in`` (``None`` when the
    answer gives no lifetime), and every field the answer lacks (the application key) kept."""
    if not isinstance(body, dict):
        raise EndpointUnreachable(f"{vendor}'s token endpoint answered JSON that is not an object")
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise EndpointUnreachable(f"{vendor}'s token endpoint answered without an access_token")
    rotated = body.get("refresh_token")
    refresh: Any = rotated if isinstance(rotated, str) and rotated else credential.refresh_token
    lifetime = _seconds(body.get("expires_in"))
    return OAuthToken.model_validate(
        {
            "access_token": access,
            "refresh_token": refresh,
            "expires_at": None if lifetime is None else now + lifetime,
            "application_key": credential.application_key,
        }
    )


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


class OAuthTokenEndpoint(TransportBacked):
    """One vendor's OAuth authorize page and token endpoint; see the module.

    A vendor subclasses it and sets ``vendor`` (its name in messages), ``secret_names`` (the
    deployment secrets holding the client's id and secret, named in configuration errors),
    ``client_auth`` and ``default_authorize_url``, and overrides ``error_shape`` (an error body
    of its own) and ``client_fault`` (a code that blames the client beyond ``CLIENT_ERRORS``)
    when it needs to.

    ``client_credentials`` returns ``(client id, client secret)``; it is called when a URL or a
    request needs it (a factory reads the secrets through ``ctx.secret``, which caches them),
    never at start.
    """

    vendor: ClassVar[str]
    secret_names: ClassVar[tuple[str, str]]
    client_auth: ClassVar[Literal["basic", "form"]] = "form"
    default_authorize_url: ClassVar[str] = ""

    def __init__(
        self,
        token_url: str,
        *,
        client_credentials: Callable[[], tuple[str, str]],
        session: requests.Session,
        timeout: tuple[float, float],
        clock: Callable[[], float] = time.time,
        authorize_url: str | None = None,
    ) -> None:
        self.token_url = token_url
        self.authorize_url = authorize_url or self.default_authorize_url
        #: Shares the API client's session; errors are RFC 6749 bodies (``_error``).
        self.transport = VendorTransport(
            f"{self.vendor}'s token endpoint",
            timeout=timeout,
            session=session,
            clock=clock,
            errors=self._error,
        )
        self._client_credentials = client_credentials

    def error_shape(self, body: dict[str, Any]) -> tuple[str, str] | None:
        """``(code, description)`` of an error body in the vendor's own shape, or ``None`` to
        read it as RFC 6749 section 5.2."""
        return None

    def client_fault(self, code: str) -> bool:
        """Whether an error code outside ``CLIENT_ERRORS`` blames the client."""
        return False

    def authorize_url_with(self, query: Mapping[str, str]) -> str:
        """The authorize page for this deployment's client: ``client_id`` then ``query``."""
        client_id, _ = self._client()
        return f"{self.authorize_url}?{urlencode({'client_id': client_id, **query})}"

    def exchange(self, code: str, **fields: str) -> OAuthToken:
        """The user's credential for an authorization code (RFC 6749 section 4.1.3; ``fields``
        such as ``redirect_uri`` are sent too). A code that cannot be one (empty, too long,
        spaces, control characters) is refused unsent."""
        if not code or len(code) > 2048 or any(c.isspace() or not c.isprintable() for c in code):
            raise InvalidAuthorizationCredential(
                f"{self.vendor} sent back no usable authorization code"
            )
        body = self._post({"grant_type": "authorization_code", "code": code, **fields}, "code")
        return token_from_answer(
            OAuthToken.bearer("-"), body, now=self._clock(), vendor=self.vendor
        )

    def refresh(self, credential: AnyCredential) -> OAuthToken:
        """A fresh credential for ``credential`` (its refresh token spent; RFC 6749 section 6)."""
        if not isinstance(credential, OAuthToken):
            kind = getattr(credential, "kind", type(credential).__name__)
            raise InvalidAuthorizationCredential(
                f"{self.vendor} renews OAuth credentials only, not a {kind} credential"
            )
        refresh_token = (
            credential.refresh_token.get_secret_value() if credential.refresh_token else ""
        )
        if not refresh_token:
            raise InvalidAuthorizationCredential(
                f"this {self.vendor} credential has no refresh token: the user must link "
                f"{self.vendor} again"
            )
        body = self._post({"grant_type": "refresh_token", "refresh_token": refresh_token})
        return token_from_answer(credential, body, now=self._clock(), vendor=self.vendor)

    # -- helpers ----------------------------------------------------------------------------------

    def _post(self, form: dict[str, str], grant: Grant = "refresh") -> Any:
        client_id, client_secret = self._client()
        auth: tuple[str, str] | None = None
        if self.client_auth == "basic":
            auth = (client_id, client_secret)
        else:
            form = {**form, "client_id": client_id, "client_secret": client_secret}
        response = self.transport.send(
            "POST", self.token_url, data=form, auth=auth, headers={"Accept": "application/json"}
        )
        if response.status_code >= 400:
            raise self._error(response, grant)
        try:
            return response.json()
        except ValueError as exc:
            raise EndpointUnreachable(
                f"{self.transport.vendor} answered with a body that is not JSON"
            ) from exc

    def _client(self) -> tuple[str, str]:
        id_name, secret_name = self.secret_names
        try:
            client_id, client_secret = self._client_credentials()
        except KeyError as exc:
            raise InternalError(
                f"the {self.vendor} OAuth client is not configured: set the secrets {id_name} "
                f"and {secret_name}"
            ) from exc
        if not client_id or not client_secret:
            raise InternalError(
                f"the {self.vendor} OAuth client is not configured: set {id_name} and {secret_name}"
            )
        return client_id, client_secret

    def _error(self, response: requests.Response, grant: Grant = "refresh") -> SkillError:
        vendor = self.vendor
        status = response.status_code
        code, description = oauth_error(response, self.error_shape)
        detail = f"{code or status}: {description}" if description else str(code or status)
        refused, request, remedy = _GRANTS[grant]
        remedy = remedy.format(vendor=vendor)
        if status in (400, 401, 403):
            if code in CLIENT_ERRORS or self.client_fault(code):
                id_name, secret_name = self.secret_names
                return InternalError(
                    f"{vendor} refused this deployment's token request ({detail}); check "
                    f"{id_name} and {secret_name}"
                )
            return InvalidAuthorizationCredential(
                f"{vendor} refused {refused} ({detail}): {remedy}"
            )
        if status == 429:
            return RateLimited(
                f"{vendor}'s token endpoint throttled {request} ({detail})",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status >= 500:
            return EndpointUnreachable(f"{vendor}'s token endpoint failed ({status})")
        return InternalError(f"unexpected answer from {vendor}'s token endpoint: {detail}")


#: Which grant a token request carried: what a refusal condemns, what was throttled, and what
#: the user must do.
_GRANTS = {
    "refresh": ("the refresh token", "the refresh", "the user must link {vendor} again"),
    "code": ("the authorization code", "the sign-in", "please connect {vendor} again"),
}
