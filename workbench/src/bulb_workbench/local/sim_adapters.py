"""The four built-in adapters: the vendor simulator's clouds, one per API style.

One HTTP client class serves all four; the vendor key, the declared style and the credential
differ, which is the point: the processor that runs an adapter is chosen by its style, not by
its code. Each takes its vendor's own kind of credential and sends it that vendor's way:

- ``sim-sync``, ``sim-optimistic``: ``OAUTH``, ``Authorization: Bearer <access token>`` (like
  LIFX and Hue); they renew credentials at ``<vendor>/oauth/token`` (``CredentialRefresher``)
  and connect users through the vendor's authorize page (``OAuthLinker``:
  ``authorization_url``, then ``exchange_code`` at the token endpoint). ``sim-optimistic``, like
  Hue, then also creates an application key (``POST <vendor>/v1/appkey``), kept in the
  credential's ``application_key`` and sent as ``X-App-Key`` on every call.
- ``sim-async``: ``KEY_AND_SECRET``, signed like SwitchBot API v1.1 (``Authorization: <key>``,
  ``t``, ``nonce``, ``sign``); also verifies the vendor's webhook pushes (``PushAdapter``) and
  keeps the account's one webhook URL (``WebhookRegistrar``, ``SingleWebhookVendor``): it never
  replaces a URL the account has for something else unless told to (``replace_webhooks``).
- ``sim-polling``: ``API_KEY``, ``X-Api-Key: <key>`` (like Govee's ``Govee-API-Key``).

Each has a ``display_name`` for the linking pages; the key ones a ``credential_help`` (where a
user finds the key, and the simulator's demo values).

A credential of another kind (another vendor's) is refused with
``InvalidAuthorizationCredential`` before any request is built, so it is never sent.

Settings: ``SIMULATOR_URL`` (default ``http://127.0.0.1:8765``); the webhook secret is the
secret ``SIM_WEBHOOK_SECRET`` when the context has a secret source, else the environment
variable of that name, else ``local-webhook-secret`` (the simulator's default). The OAuth client
is ``SIM_CLIENT_ID`` / ``SIM_CLIENT_SECRET`` (secret source, then environment), else the
simulator's fixed local client ``sim-client`` / ``sim-client-secret``.

Every vendor call (the API, the token endpoint's code and refresh exchanges, the application
key, the webhook calls) goes through the adapter's one ``skill.plugins.VendorTransport``: a
pooled session (``trust_env`` off, ``User-Agent: bulb-skill/sim-adapter``), a connect and a read
timeout on every call (cut to the directive's deadline when the core sets one), ``Retry-After``
as seconds or an HTTP-date, and redirects that never take a credential to another host
(``Authorization``, ``X-Api-Key``, ``X-App-Key``, ``sign``, ``t`` and ``nonce`` are marked
secret; a token request's form is a body, never re-sent elsewhere either). This module maps
only the simulator's bodies (``errors=``):

HTTP answers become ``skill.errors``, with the simulator's ``message``: 401/403 ->
``InvalidAuthorizationCredential``, 404 -> ``NoSuchEndpoint``, 429 -> ``RateLimited`` (with
``Retry-After``), 400 -> ``InvalidValue``, 5xx, timeouts, connection errors and malformed bodies
-> ``EndpointUnreachable`` (never ``BridgeUnreachable``: these clouds talk to bulbs directly, so
telling the user to check a hub would send them looking for one they do not have), other 4xx ->
``InternalError`` (our bug); 408 and 422, which the simulator never sends, keep the transport's
defaults (``EndpointUnreachable``, ``InvalidValue``). The token endpoint's answers follow
RFC 6749 section 5.2 (``_token_error``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import time
import uuid
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any, Literal, TypeVar, cast
from urllib.parse import quote, urlencode

import requests
from pydantic import SecretStr, ValidationError
from pydantic_core import from_json

from skill.bulbs import (
    ALEXA_MAX_KELVIN,
    ALEXA_MIN_KELVIN,
    BulbState,
    Change,
    Color,
    Features,
    KelvinRange,
)
from skill.errors import (
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidNotification,
    InvalidValue,
    NoSuchEndpoint,
    RateLimited,
    SkillError,
)
from skill.plugins import (
    NO_QUOTAS,
    Accepted,
    AdapterContext,
    AnyCredential,
    ApiKey,
    CredentialKind,
    Device,
    DeviceReading,
    KeyAndSecret,
    Notification,
    OAuthToken,
    Style,
    VendorQuotas,
    VendorTransport,
    WebhookRequest,
)

__all__ = [
    "CREDENTIAL_HELP",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_SIMULATOR_URL",
    "DEFAULT_WEBHOOK_SECRET",
    "DISPLAY_NAMES",
    "SIM_QUOTAS",
    "SimulatorAdapter",
    "SimulatorListerAdapter",
    "SimulatorOAuthAdapter",
    "SimulatorPushAdapter",
    "create_async",
    "create_optimistic",
    "create_polling",
    "create_sync",
]

_log = logging.getLogger(__name__)

DEFAULT_SIMULATOR_URL = "http://127.0.0.1:8765"
DEFAULT_WEBHOOK_SECRET = "local-webhook-secret"
DEFAULT_CLIENT_ID = "sim-client"
DEFAULT_CLIENT_SECRET = "sim-client-secret"
REQUEST_TIMEOUT_SECONDS = 2.0
#: What the simulator sees in ``User-Agent``.
SIM_USER_AGENT = "bulb-skill/sim-adapter"
#: Headers that carry a credential in some simulated vendor's scheme: never sent to another host
#: by a redirect (``Authorization`` always is; the transport knows it, it is named for clarity).
SECRET_HEADERS = ("Authorization", "X-Api-Key", "X-App-Key", "sign", "t", "nonce")
MAX_NOTIFICATION_BYTES = 64 * 1024
#: Replay window: a signed push older than this, or this far ahead of our clock, is refused.
MAX_NOTIFICATION_AGE_SECONDS = 300
MAX_NOTIFICATION_SKEW_SECONDS = 60

#: What the linking pages call each simulated vendor.
DISPLAY_NAMES = {
    "sim-sync": "Simulated sync cloud",
    "sim-async": "Simulated async cloud",
    "sim-optimistic": "Simulated optimistic cloud",
    "sim-polling": "Simulated polling cloud",
}
#: Where a user finds their key, for the vendors that take one (shown on the connect form).
CREDENTIAL_HELP = {
    "sim-async": (
        "A real vendor of this kind (SwitchBot) shows the token and the secret key in its app: "
        "Profile, Preferences, tap App Version ten times, then Developer Options. This is the "
        "vendor simulator: its demo account's token is demo-sim-async-credential and its "
        "secret key demo-sim-async-secret."
    ),
    "sim-polling": (
        "A real vendor of this kind (Govee) sends the API key by e-mail when you ask for it in "
        "its app: Profile, Settings, Apply for API Key. This is the vendor simulator: its demo "
        "account's API key is demo-sim-polling-credential."
    ),
}


#: Each simulated vendor's quotas, those of the real vendor it stands for (the simulator
#: enforces the same: ``bulb_workbench.local._sim_quotas``).
SIM_QUOTAS: dict[str, VendorQuotas] = {
    "sim-sync": VendorQuotas(
        calls_per_minute_per_account=120,
        source="https://api.developer.lifx.com/docs/rate-limits",
    ),
    "sim-async": VendorQuotas(
        calls_per_day_per_account=10_000,
        source="https://github.com/OpenWonderLabs/SwitchBotAPI#request-limit",
    ),
    "sim-optimistic": VendorQuotas(
        calls_per_minute_per_account=600,
        source="https://developers.meethue.com/things-you-need-know",
    ),
    "sim-polling": VendorQuotas(
        calls_per_day_per_account=10_000,
        calls_per_minute_per_device=10,
        source="https://govee.readme.io/reference/rate-limiting",
    ),
}


class SimulatorAdapter:
    """A simulated vendor's cloud over HTTP; ``style`` tells the processor how it answers,
    ``credential_kind`` what the user's credential is (and so how it is sent).

    ``clock`` and ``nonces`` are injectable so tests can check a signed request exactly.
    """

    def __init__(
        self,
        name: str,
        style: Style,
        base_url: str,
        *,
        credential_kind: CredentialKind,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        nonces: Callable[[], str] = lambda: str(uuid.uuid4()),
        display_name: str | None = None,
        credential_help: str | None = None,
    ) -> None:
        self.name = name
        self.style = style
        self.credential_kind = credential_kind
        #: What the linking pages call this vendor.
        self.display_name = display_name or DISPLAY_NAMES.get(name, name)
        #: Where a user finds their key (key vendors; None for OAuth ones).
        self.credential_help = (
            credential_help if credential_help is not None else (CREDENTIAL_HELP.get(name))
        )
        self.root_url = base_url.rstrip("/")
        self.base_url = f"{self.root_url}/{name}/v1"
        #: The one HTTP transport of every call this adapter makes to its vendor.
        self.transport = VendorTransport(
            name,
            self.base_url,
            timeout=timeout,
            session=session if session is not None else _session(),
            clock=clock,
            secret_headers=SECRET_HEADERS,
            errors=self._http_error,
            user_agent=SIM_USER_AGENT,
        )
        self._clock = clock
        self._nonces = nonces
        #: The real vendor's quotas this one keeps (``SIM_QUOTAS``).
        self.quotas = SIM_QUOTAS.get(name, NO_QUOTAS)

    @property
    def timeout(self) -> float:
        """The read timeout of each call, in seconds (the connect timeout is at most this)."""
        return self.transport.timeout[1]

    @timeout.setter
    def timeout(self, value: float) -> None:
        self.transport.timeout = value

    def identify_user(self, credential: AnyCredential) -> str:
        """The simulator's id of the account (never a part of the credential)."""
        return _parse("user", _user_id, self._call("GET", credential, "/me"))

    def list_devices(self, credential: AnyCredential) -> list[Device]:
        answer = self._call("GET", credential, "/devices")
        try:
            return [_device(entry) for entry in _array(answer)]
        except ValueError as exc:
            raise EndpointUnreachable(f"{self.name} sent a malformed device list: {exc}") from exc

    def read_state(self, credential: AnyCredential, device_id: str) -> BulbState:
        answer = self._call("GET", credential, _device_path(device_id, "state"))
        return _bulb_state(_parse("state", _state_fields, answer))

    def execute(
        self, credential: AnyCredential, device_id: str, change: Change
    ) -> BulbState | Accepted:
        """Send ``change``; a sync vendor answers with the state, the others with a receipt."""
        body = change.model_dump(mode="json", exclude_none=True)
        answer = self._call("POST", credential, _device_path(device_id, "commands"), body)
        if _is_offline(answer):
            raise EndpointUnreachable(f"{self.name} says device {device_id!r} is offline")
        if self.style is Style.SYNC:
            return _bulb_state(_parse("state", _state_fields, answer))
        return Accepted(reference=_parse("receipt", _request_id, answer))

    def auth_headers(self, credential: AnyCredential) -> dict[str, str]:
        """How this vendor is shown ``credential``; ``InvalidAuthorizationCredential`` for a
        credential of another kind or a malformed one (then nothing is sent)."""
        kind = self.credential_kind
        if getattr(credential, "kind", None) != kind:
            other = getattr(credential, "kind", type(credential).__name__)
            raise InvalidAuthorizationCredential(
                f"{self.name} takes {kind} credentials, not {other}: not this vendor's"
            )
        if isinstance(credential, OAuthToken):
            headers = {"Authorization": f"Bearer {_part(self.name, credential.access_token)}"}
            if credential.application_key is not None:
                headers["X-App-Key"] = _part(self.name, credential.application_key)
            return headers
        if isinstance(credential, ApiKey):
            return {"X-Api-Key": _part(self.name, credential.api_key)}
        if isinstance(credential, KeyAndSecret):
            key, secret = _part(self.name, credential.key), _part(self.name, credential.secret)
            t = str(round(self._clock() * 1000))
            nonce = self._nonces()
            return {
                "Authorization": key,
                "t": t,
                "nonce": nonce,
                "sign": request_signature(key, secret, t, nonce),
            }
        raise InvalidAuthorizationCredential(f"{self.name} cannot use this credential")

    def _call(self, method: str, credential: AnyCredential, path: str, body: Any = None) -> Any:
        """One vendor request: errors mapped, JSON decoded (a non-JSON body is malformed)."""
        return self.transport.json(method, path, headers=self.auth_headers(credential), json=body)

    def _send(
        self, method: str, credential: AnyCredential, path: str, body: Any = None
    ) -> requests.Response:
        """One vendor request, its answer as it came whatever the status (no answer at all ->
        ``EndpointUnreachable``); the credential is checked before anything is sent."""
        return self.transport.send(method, path, headers=self.auth_headers(credential), json=body)

    def _http_error(self, response: requests.Response) -> SkillError | None:
        """``errors=`` of the transport: the simulator's API answer (status >= 400) as a typed
        error with the ``message`` of its body; ``None`` (the transport's default) for 408 and
        422, which the simulator never sends."""
        status = response.status_code
        if status in (408, 422):
            return None
        message = f"{self.name} answered {status}: {_vendor_message(response)}"
        if status in (401, 403):
            return InvalidAuthorizationCredential(message)
        if status == 404:
            return NoSuchEndpoint(message)
        if status == 429:
            return RateLimited(message, retry_after=self.transport.retry_after(response.headers))
        if status == 400:
            return InvalidValue(message)
        if status >= 500:
            return EndpointUnreachable(message)
        return InternalError(message)


class SimulatorOAuthAdapter(SimulatorAdapter):
    """A simulated OAuth vendor (``sim-sync``, ``sim-optimistic``): also renews credentials at
    the vendor's token endpoint (``CredentialRefresher``) and connects users through its
    authorize page (``OAuthLinker``), a separate class so that only these adapters satisfy those
    protocols.

    ``client`` returns ``(client id, client secret)``, called when a URL or request needs it,
    never at construction. ``application_key``: the vendor, like Hue, wants an application key
    created after the code exchange (``sim-optimistic``).
    """

    def __init__(
        self,
        name: str,
        style: Style,
        base_url: str,
        *,
        client: Callable[[], tuple[str, str]] = lambda: (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        application_key: bool = False,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        display_name: str | None = None,
    ) -> None:
        super().__init__(
            name,
            style,
            base_url,
            credential_kind=CredentialKind.OAUTH,
            timeout=timeout,
            session=session,
            clock=clock,
            display_name=display_name,
        )
        self.token_url = f"{self.root_url}/{name}/oauth/token"
        self.authorize_url = f"{self.root_url}/{name}/oauth/authorize"
        self.creates_application_key = application_key
        self._client = client

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """The vendor's authorize page for this deployment's client (``SIM_CLIENT_ID``): the
        user picks a simulator account there, and is sent back to ``redirect_uri`` with a code
        and ``state``."""
        client_id, _ = self._client()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{self.authorize_url}?{query}"

    def exchange_code(self, code: str, redirect_uri: str) -> OAuthToken:
        """The user's credential for an authorization code (RFC 6749 section 4.1.3), with
        ``expires_at`` from ``expires_in``; for a vendor that wants one, with the application
        key it then creates (a second call, authorised by the new token).

        A refused code (400 ``invalid_grant``: unknown, spent, expired, another redirect URI)
        or a refused application key -> ``InvalidAuthorizationCredential``; the client refused
        -> ``InternalError``; 429 -> ``RateLimited``; 5xx, timeouts, a malformed answer ->
        ``EndpointUnreachable``.
        """
        if not code or any(char.isspace() or not char.isprintable() for char in code):
            raise InvalidAuthorizationCredential(f"{self.name} sent no usable authorization code")
        client_id, client_secret = self._client()
        access_token, refresh_token, lifetime = self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "client_secret": client_secret,
            },
            refused="the authorization code was refused; please connect again",
        )
        credential = OAuthToken.model_validate(
            {
                "access_token": access_token,
                "refresh_token": refresh_token,
                "expires_at": None if lifetime is None else self._clock() + lifetime,
            }
        )
        if not self.creates_application_key:
            return credential
        created = self._call("POST", credential, "/appkey", {"devicetype": "bulb-skill"})
        key = _parse("application key", _application_key, created)
        return credential.model_copy(update={"application_key": SecretStr(key)})

    def refresh_credential(self, credential: OAuthToken) -> OAuthToken:
        """A fresh credential from ``POST <vendor>/oauth/token`` (RFC 6749 section 6): the new
        access token, the rotated refresh token (the old one when the answer has none),
        ``expires_at`` from ``expires_in`` (None when absent), other fields kept.

        A dead refresh token (400 ``invalid_grant``, any other 400/401/403 that does not blame
        the client) -> ``InvalidAuthorizationCredential``; the client refused
        (``invalid_client`` and the like) -> ``InternalError``; 429 -> ``RateLimited``; 5xx,
        timeouts, a body without ``access_token`` -> ``EndpointUnreachable``.
        """
        if not isinstance(credential, OAuthToken):
            kind = getattr(credential, "kind", type(credential).__name__)
            raise InvalidAuthorizationCredential(
                f"{self.name} renews OAuth credentials, not {kind}"
            )
        if credential.refresh_token is None or not credential.refresh_token.get_secret_value():
            raise InvalidAuthorizationCredential(
                f"this {self.name} credential has no refresh token: connect {self.name} again"
            )
        client_id, client_secret = self._client()
        access_token, refresh_token, lifetime = self._token_request(
            {
                "grant_type": "refresh_token",
                "refresh_token": credential.refresh_token.get_secret_value(),
                "client_id": client_id,
                "client_secret": client_secret,
            },
            refused=f"connect {self.name} again",
        )
        return OAuthToken.model_validate(
            {
                "access_token": access_token,
                "refresh_token": refresh_token or credential.refresh_token,
                "expires_at": None if lifetime is None else self._clock() + lifetime,
                "application_key": credential.application_key,
            }
        )

    def _token_request(self, form: dict[str, str], *, refused: str) -> _Tokens:
        """One token-endpoint request (a form, no credential header: the client authenticates
        in the body); ``refused`` ends the message of a refused grant. Its refusals are
        RFC 6749's, not the API's, so they are mapped here (``_token_error``); its answer is
        ``_token_answer``'s."""
        response = self.transport.send("POST", self.token_url, data=form)
        if response.status_code >= 400:
            raise _token_error(
                self.name,
                response,
                refused=refused,
                retry_after=self.transport.retry_after(response.headers),
            )
        try:
            return _token_answer(_object(from_json(response.content), "the answer"))
        except ValueError as exc:  # from_json raises it too, for a body that is not JSON
            raise EndpointUnreachable(
                f"{self.name}'s token endpoint sent a malformed answer: {exc}"
            ) from exc


class SimulatorListerAdapter(SimulatorOAuthAdapter):
    """A simulated OAuth vendor that lists every device with its state in one call
    (``GET <vendor>/v1/states``), as LIFX and Hue do: a ``skill.plugins.StateLister``."""

    def read_all(self, credential: AnyCredential) -> list[DeviceReading]:
        """Mapped as ``list_devices`` and ``read_state`` map the same answers; an offline
        device (or one whose state ``read_state`` could not read) has state None."""
        answer = self._call("GET", credential, "/states")
        try:
            return [_listed(entry) for entry in _array(answer)]
        except ValueError as exc:
            raise EndpointUnreachable(f"{self.name} sent a malformed state list: {exc}") from exc


class SimulatorPushAdapter(SimulatorAdapter):
    """The ``async`` simulator adapter (key and secret, signed requests): also verifies and
    reads the vendor's webhook pushes.

    A separate class so that only this adapter satisfies ``PushAdapter``.
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        secret: Callable[[], str],
        *,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        nonces: Callable[[], str] = lambda: str(uuid.uuid4()),
        display_name: str | None = None,
        credential_help: str | None = None,
    ) -> None:
        super().__init__(
            name,
            Style.ASYNC,
            base_url,
            credential_kind=CredentialKind.KEY_AND_SECRET,
            timeout=timeout,
            session=session,
            clock=clock,
            nonces=nonces,
            display_name=display_name,
            credential_help=credential_help,
        )
        self._secret_source = secret

    # -- the account's one webhook URL (WebhookRegistrar, SingleWebhookVendor) -----------------

    def webhook_urls(self, credential: AnyCredential) -> list[str]:
        """The URLs the account pushes to (``{"action": "query"}``): none or one."""
        answer = self._call("POST", credential, "/webhook", {"action": "query"})
        return _parse("webhooks", _hook_urls, answer)

    def register_webhook(self, credential: AnyCredential, base_url: str) -> str:
        """Make the account push to ``base_url``; a no-op when it already does. When the account
        pushes to another URL (set up for something else), that URL is left alone and nothing
        is registered: returns ``""`` then (``replace_webhooks`` replaces it, when the user says
        so); else ``base_url``."""
        urls = self.webhook_urls(credential)
        if base_url in urls:
            return base_url
        if urls or not self._setup_webhook(credential, base_url):
            _log.info("%s: the account pushes to another URL; ours is not registered", self.name)
            return ""
        return base_url

    def deregister_webhook(self, credential: AnyCredential, base_url: str) -> None:
        """Stop the account pushing to ``base_url``; a no-op when it does not. Any other URL
        stays."""
        if base_url in self.webhook_urls(credential):
            self._delete_webhook(credential, base_url)

    def other_webhooks(self, credential: AnyCredential, base_url: str) -> list[str]:
        """The URLs the account pushes to that are not ``base_url``."""
        return [url for url in self.webhook_urls(credential) if url != base_url]

    def replace_webhooks(self, credential: AnyCredential, base_url: str) -> str:
        """Delete the account's other URLs and register ``base_url``; returns it.
        ``EndpointUnreachable`` when another URL appeared meanwhile and ours could not be set."""
        urls = self.webhook_urls(credential)
        for url in urls:
            if url != base_url:
                self._delete_webhook(credential, url)
        if base_url not in urls and not self._setup_webhook(credential, base_url):
            raise EndpointUnreachable(f"{self.name} kept another webhook URL; try again")
        return base_url

    def _setup_webhook(self, credential: AnyCredential, url: str) -> bool:
        """``setup``; False when the vendor refuses because the account has another URL (409)."""
        response = self._send("POST", credential, "/webhook", {"action": "setup", "url": url})
        if response.status_code == 409:
            return False
        if response.status_code >= 400:
            raise self.transport.error_for(response)
        return True

    def _delete_webhook(self, credential: AnyCredential, url: str) -> None:
        """``delete``; a URL already gone (404) is fine."""
        response = self._send("POST", credential, "/webhook", {"action": "delete", "url": url})
        if response.status_code >= 400 and response.status_code != 404:
            raise self.transport.error_for(response)

    @cached_property
    def _secret(self) -> bytes:
        """Fetched at the first push, not at construction: Discover never needs it."""
        return self._secret_source().encode()

    def parse_notification(self, request: WebhookRequest) -> list[Notification]:
        """Verify size, signature and age, then read the push; ``InvalidNotification`` if not."""
        if len(request.body) > MAX_NOTIFICATION_BYTES:
            raise InvalidNotification("notification body too large", status=413)
        timestamp = request.headers.get("x-sim-timestamp", "")
        signature = request.headers.get("x-sim-signature", "")
        self._verify_signature(timestamp, signature, request.body)
        self._verify_age(timestamp)
        try:
            device_id, request_id, user_id, state = _push(
                _object(from_json(request.body), "the push")
            )
        except ValueError as exc:  # from_json raises it too, for a body that is not JSON
            raise InvalidNotification(
                f"notification is not a valid push: {exc}", status=400
            ) from exc
        notification = Notification(
            device_id=device_id,
            state=_bulb_state(state, error=lambda m: InvalidNotification(m, status=400)),
            reference=request_id or None,
            user_id=user_id,
            sent_at=float(timestamp),  # signed with the body and checked by _verify_age
        )
        return [notification]

    def _verify_signature(self, timestamp: str, signature: str, body: bytes) -> None:
        digest = hmac.new(self._secret, timestamp.encode() + b"." + body, hashlib.sha256)
        expected = f"sha256={digest.hexdigest()}".encode()
        if not timestamp or not hmac.compare_digest(expected, signature.encode()):
            raise InvalidNotification("bad or missing notification signature")

    def _verify_age(self, timestamp: str) -> None:
        try:
            sent = int(timestamp)
        except ValueError as exc:
            raise InvalidNotification("notification timestamp is not unix seconds") from exc
        age = self._clock() - sent
        if age > MAX_NOTIFICATION_AGE_SECONDS or age < -MAX_NOTIFICATION_SKEW_SECONDS:
            raise InvalidNotification("notification timestamp is outside the replay window")


# -- factories (entry points ``sim-*`` of ``bulb_skill.adapters``) -------------------------------


def create_sync(ctx: AdapterContext) -> SimulatorListerAdapter:
    return SimulatorListerAdapter(
        "sim-sync",
        Style.SYNC,
        _base_url(ctx),
        client=lambda: _oauth_client(ctx),
        timeout=_timeout(ctx),
    )


def create_async(ctx: AdapterContext) -> SimulatorPushAdapter:
    return SimulatorPushAdapter(
        "sim-async", _base_url(ctx), lambda: _webhook_secret(ctx), timeout=_timeout(ctx)
    )


def create_optimistic(ctx: AdapterContext) -> SimulatorListerAdapter:
    return SimulatorListerAdapter(
        "sim-optimistic",
        Style.OPTIMISTIC,
        _base_url(ctx),
        client=lambda: _oauth_client(ctx),
        application_key=True,
        timeout=_timeout(ctx),
    )


def create_polling(ctx: AdapterContext) -> SimulatorAdapter:
    return SimulatorAdapter(
        "sim-polling",
        Style.POLLING,
        _base_url(ctx),
        credential_kind=CredentialKind.API_KEY,
        timeout=_timeout(ctx),
    )


def _base_url(ctx: AdapterContext) -> str:
    return ctx.environ.get("SIMULATOR_URL") or DEFAULT_SIMULATOR_URL


def _timeout(ctx: AdapterContext) -> float:
    return min(ctx.timeout_seconds, REQUEST_TIMEOUT_SECONDS)


def _webhook_secret(ctx: AdapterContext) -> str:
    if ctx.secrets is not None:
        return ctx.secret("SIM_WEBHOOK_SECRET")
    return ctx.environ.get("SIM_WEBHOOK_SECRET") or DEFAULT_WEBHOOK_SECRET


def _oauth_client(ctx: AdapterContext) -> tuple[str, str]:
    """``(client id, client secret)``: the secret source, the environment, the local default."""

    def setting(name: str, default: str) -> str:
        if ctx.secrets is not None:
            try:
                return ctx.secret(name)
            except KeyError:
                pass
        return ctx.environ.get(name) or default

    return setting("SIM_CLIENT_ID", DEFAULT_CLIENT_ID), setting(
        "SIM_CLIENT_SECRET", DEFAULT_CLIENT_SECRET
    )


# -- helpers ---------------------------------------------------------------------------------


def _session() -> requests.Session:
    """The transport's pooled session; ``trust_env`` off so a developer's HTTP proxy never
    captures loopback calls to the simulator (the transport sets ``User-Agent``)."""
    session = requests.Session()
    session.trust_env = False
    session.headers.update({"Accept": "application/json"})
    return session


def request_signature(key: str, secret: str, t: str, nonce: str) -> str:
    """``sign`` header of ``sim-async`` (SwitchBot API v1.1's scheme): upper-case base64 of
    HMAC-SHA256(secret, key + t + nonce)."""
    digest = hmac.new(secret.encode(), f"{key}{t}{nonce}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode().upper()


def _part(vendor: str, value: Any) -> str:
    """A secret part of a credential, fit for a header; ``InvalidAuthorizationCredential``
    when empty or holding white space (it could not be a credential of this vendor)."""
    text = value.get_secret_value() if value is not None else ""
    if not text or any(char.isspace() or not char.isprintable() for char in text):
        raise InvalidAuthorizationCredential(f"the {vendor} credential is empty or malformed")
    return text


_NOT_THE_USERS_FAULT = frozenset(
    {
        "invalid_client",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_request",
        "invalid_scope",
    }
)


def _token_error(
    vendor: str,
    response: requests.Response,
    *,
    refused: str | None = None,
    retry_after: float | None = None,
) -> SkillError:
    """A token endpoint's refusal (RFC 6749 section 5.2) as a typed error; ``refused`` ends the
    message of a refused grant (default: connect again); ``retry_after`` (seconds, the
    transport's reading of ``Retry-After``) goes with a 429."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    code = body.get("error") if isinstance(body, dict) else None
    code = code if isinstance(code, str) else ""
    detail = f"{vendor}'s token endpoint answered {status} {code}".rstrip()
    if status in (400, 401, 403):
        if code in _NOT_THE_USERS_FAULT:
            return InternalError(f"{detail}: this deployment's OAuth client or request is wrong")
        return InvalidAuthorizationCredential(f"{detail}: {refused or f'connect {vendor} again'}")
    if status == 429:
        return RateLimited(detail, retry_after=retry_after)
    if status >= 500:
        return EndpointUnreachable(detail)
    return InternalError(detail)


def _device_path(device_id: str, leaf: str) -> str:
    return f"/devices/{quote(device_id, safe='')}/{leaf}"


def _vendor_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or "no details"
    message = body.get("message") if isinstance(body, dict) else None
    return str(message or response.reason or "no details")[:200]


# -- the vendor's wire format --------------------------------------------------------------------
# Pure functions over the decoded JSON, as the real adapters' ``_mapping`` modules: no model
# classes to build at a cold start. Fields the simulator does not send are ignored (vendors add
# fields without notice). A field that is missing, null where the simulator never sends null, or
# of another JSON type than the simulator's (``_sim_model``: a flag is true or false, not "true"
# or 1; a whole number may be written 5.0, not "5") raises ``ValueError`` naming it, which each
# caller turns into its own error: ``_parse`` and ``list_devices``, ``read_all``,
# ``_token_request`` -> ``EndpointUnreachable``; ``parse_notification`` -> ``InvalidNotification``.

_Object = Mapping[str, Any]
#: ``BulbState``'s fields, read from a simulator state; ``BulbState`` checks their ranges.
_StateFields = dict[str, Any]
#: A token answer: ``(access token, refresh token, lifetime in seconds)``.
_Tokens = tuple[str, str | None, float | None]
_ColorMode = Literal["color", "temperature"]
_T = TypeVar("_T")
#: The ``default`` of a field that has none: it must be there.
_REQUIRED: Any = object()


def _parse(what: str, parse: Callable[[_Object], _T], answer: Any) -> _T:
    """``parse`` of an answer object; one not shaped as the simulator sends it ->
    ``EndpointUnreachable``."""
    try:
        return parse(_object(answer, "the answer"))
    except ValueError as exc:
        raise EndpointUnreachable(f"malformed vendor answer ({what}): {exc}") from exc


def _user_id(me: _Object) -> str:
    """``GET /me``: ``{"user_id"}``."""
    return _identifier(me, "user_id")


def _request_id(receipt: _Object) -> str:
    """A deferred command's 202: ``{"request_id"}``."""
    return _identifier(receipt, "request_id")


def _application_key(created: _Object) -> str:
    """``POST /appkey``: ``{"application_key"}``."""
    return _identifier(created, "application_key")


def _hook_urls(hooks: _Object) -> list[str]:
    """The webhook ``query``: ``{"urls": [...]}``."""
    urls = _field(hooks, "urls")
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        raise ValueError("urls is not a list of strings")
    return list(urls)


def _is_offline(answer: Any) -> bool:
    """A command for an offline bulb: ``{"status": "offline"}``."""
    return isinstance(answer, Mapping) and answer.get("status") == "offline"


def _device(value: Any) -> Device:
    """A device of ``GET /devices`` and ``GET /states`` (``SimDevice.listing``)."""
    device = _object(value, "a device")
    manufacturer = _text(device, "manufacturer", default="Unknown")
    model = _text(device, "model", default="Light")
    return Device(
        id=_identifier(device, "id"),
        name=_identifier(device, "name"),
        features=_features(_object(_field(device, "features"), "features")),
        manufacturer=manufacturer,
        model=model,
        description=f"{manufacturer} {model}",
    )


def _features(features: _Object) -> Features:
    """A colour temperature range only when both ends are given, clamped to Alexa's."""
    ct_min, ct_max = _optional_whole(features, "ct_min"), _optional_whole(features, "ct_max")
    kelvin = None
    if ct_min is not None and ct_max is not None:
        kelvin = KelvinRange(
            minimum=max(ALEXA_MIN_KELVIN, min(ct_min, ALEXA_MAX_KELVIN)),
            maximum=min(ALEXA_MAX_KELVIN, max(ct_max, ALEXA_MIN_KELVIN)),
        )
    return Features(
        dimmable=_flag(features, "dimmable", default=False),
        color=_flag(features, "color", default=False),
        color_temperature=kelvin,
    )


def _listed(value: Any) -> DeviceReading:
    """An entry of ``GET /states``: a device with its ``state``. A malformed state (a
    brightness outside 0-100 included) is a malformed entry, offline or not; a state
    ``BulbState`` refuses (a colour temperature outside Alexa's range) or an offline device
    reads as None."""
    entry = _object(value, "a device")
    device = _device(entry)
    return DeviceReading(device, _reading(_state_in(entry)))


def _state_in(wire: _Object) -> _StateFields:
    """The ``state`` of a listed device or a push."""
    return _state_fields(_object(_field(wire, "state"), "state"))


def _state_fields(state: _Object) -> _StateFields:
    """A state (``SimDevice.state_json``) as ``BulbState``'s fields, ``online`` as
    ``reachable``."""
    return {
        "on": _flag(state, "on"),
        "brightness": _percent(state, "brightness"),
        "color": _color(state.get("color")),
        "color_temperature": _optional_whole(state, "color_temperature"),
        "color_mode": _color_mode(state.get("color_mode")),
        "reachable": _flag(state, "online", default=True),
    }


def _push(push: _Object) -> tuple[str, str | None, str | None, _StateFields]:
    """A push (``simulator._notify``): ``(device_id, request_id, user_id, state)``."""
    return (
        _identifier(push, "device_id"),
        _optional_text(push, "request_id"),
        _optional_text(push, "user_id"),
        _state_in(push),
    )


def _token_answer(answer: _Object) -> _Tokens:
    """RFC 6749 section 5.1. ``token_type`` is checked, not used: bearer is the only type the
    simulator issues."""
    _text(answer, "token_type", default="bearer")
    access_token = _identifier(answer, "access_token")
    return access_token, _optional_text(answer, "refresh_token"), _lifetime(answer)


def _reading(fields: _StateFields) -> BulbState | None:
    if not fields["reachable"]:
        return None
    try:
        return _bulb_state(fields)
    except EndpointUnreachable:
        return None


def _bulb_state(
    fields: _StateFields, error: Callable[[str], Exception] = EndpointUnreachable
) -> BulbState:
    try:
        return BulbState(**fields)
    except ValidationError as exc:
        raise error(f"vendor state out of range: {exc.error_count()} problem(s)") from exc


# -- the JSON types of the wire's fields -----------------------------------------------------


def _object(value: Any, what: str) -> _Object:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} is not an object")
    return value


def _array(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError("the answer is not a list")
    return value


def _field(wire: _Object, key: str, default: Any = _REQUIRED) -> Any:
    """``wire[key]``, ``default`` when it is absent (an explicit null stays null)."""
    value = wire.get(key, default)
    if value is _REQUIRED:
        raise ValueError(f"{key} is missing")
    return value


def _text(wire: _Object, key: str, *, default: Any = _REQUIRED) -> str:
    value = _field(wire, key, default)
    if not isinstance(value, str):
        raise ValueError(f"{key} is not a string")
    return value


def _identifier(wire: _Object, key: str) -> str:
    """A string that must be there and not be empty (an id, a key, a token)."""
    value = _text(wire, key)
    if not value:
        raise ValueError(f"{key} is empty")
    return value


def _optional_text(wire: _Object, key: str) -> str | None:
    return None if wire.get(key) is None else _text(wire, key)


def _flag(wire: _Object, key: str, *, default: Any = _REQUIRED) -> bool:
    value = _field(wire, key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{key} is not true or false")
    return value


def _whole(wire: _Object, key: str) -> int:
    """A whole number, which JSON may write 5 or 5.0 (``bool`` is no number)."""
    value = _field(wire, key)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} is not a whole number")
    return value


def _optional_whole(wire: _Object, key: str) -> int | None:
    return None if wire.get(key) is None else _whole(wire, key)


def _percent(wire: _Object, key: str) -> int:
    value = _whole(wire, key)
    if not 0 <= value <= 100:
        raise ValueError(f"{key} is not 0-100")
    return value


def _lifetime(answer: _Object) -> float | None:
    """``expires_in``: seconds, >= 0; None when the answer gives none."""
    value = answer.get("expires_in")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError("expires_in is not a number of seconds >= 0")
    try:
        return float(value)
    except OverflowError:  # an integer beyond any float: as long as a float can say
        return math.inf


def _color(value: Any) -> Color | None:
    """``Color``'s own checks: hue 0-360, saturation and brightness 0-1, no other field."""
    if value is None:
        return None
    try:
        return Color.model_validate(value, strict=True)  # JSON's numbers only (ints pass)
    except ValidationError as exc:
        raise ValueError(f"color is not a colour: {exc.error_count()} problem(s)") from exc


def _color_mode(value: Any) -> _ColorMode | None:
    if value is not None and value not in ("color", "temperature"):
        raise ValueError("color_mode is neither color nor temperature")
    return cast(_ColorMode | None, value)
