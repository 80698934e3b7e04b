"""A bulb-vendor cloud simulator: one real HTTP server hosting a cloud per API style.

Adapters and the local stack talk to it over loopback exactly as they would to a vendor, so the
whole path (auth, latency, 202 then convergence, signed webhook pushes) is exercised for real.

Vendors (path prefix ``/<vendor>/v1``) and how they answer a command:

- ``sim-sync``        200 with the new state
- ``sim-async``       202 ``{"request_id"}``, then a signed POST to ``webhook_url`` once it lands
- ``sim-optimistic``  202 ``{"request_id"}``, nothing more
- ``sim-polling``     202 ``{"request_id"}``, nothing more (read the state until it changes)

Example::

    >>> import requests
    >>> with VendorSimulator(latency=0, transition=0.1) as sim:
    ...     devices = requests.get(f"{sim.url}/sim-sync/v1/devices", timeout=5,
    ...                            headers={"Authorization": "Bearer demo-sim-sync-credential"})
    ...     outside = sim.set_state("sim-async", "color-1", on=True)  # made outside Alexa
    ...     accepted = requests.post(f"{sim.url}/sim-polling/v1/devices/white-1/commands",
    ...                              headers={"X-Api-Key": "demo-sim-polling-credential"},
    ...                              json={"brightness": 30}, timeout=5)
    ...     commands = sim.commands("sim-polling")  # what the vendor was asked to do
    ...     idle = sim.wait_idle()  # the 202-command has reached the bulb
    ...     brightness = sim.state("sim-polling", "white-1")["brightness"]
    ...     foreign = sim.foreign_credentials()
    >>> [device["id"] for device in devices.json()]
    ['color-1', 'white-tunable-1', 'white-1']
    >>> outside["on"], accepted.status_code, [c["body"] for c in commands], idle, brightness
    (True, 202, [{'brightness': 30}], True, 30)
    >>> foreign
    {'sim-sync': 0, 'sim-async': 0, 'sim-optimistic': 0, 'sim-polling': 0}

Accounts and credentials: each vendor takes its own kind of credential (``CREDENTIAL_KINDS``),
sent its own way, and knows its accounts by their key (``accounts=`` ``{vendor: {key: user}}``,
``add_account``). Every vendor starts with the demo user ``demo-user`` (``demo_credential``):

- ``sim-sync``, ``sim-optimistic`` (OAuth, like LIFX and Hue): ``Authorization: Bearer <access
  token>``. Access tokens expire after ``token_lifetime``; ``POST /<vendor>/oauth/token``
  (form ``grant_type=refresh_token``, ``refresh_token``, ``client_id`` ``sim-client``,
  ``client_secret`` ``sim-client-secret``) answers ``{"access_token", "refresh_token",
  "expires_in", "token_type": "bearer"}`` and spends the refresh token; an unknown one is
  400 ``{"error": "invalid_grant"}``. New users connect through the authorization-code flow,
  as with the real vendors: ``GET /<vendor>/oauth/authorize?response_type=code&client_id=
  sim-client&redirect_uri=<http(s) URL>&state=...`` is a small consent page (plain HTML, no
  script, marked as a local stand-in) asking for a simulator user id (default ``demo-user``),
  with Allow and Deny. Its form posts to the same path and is answered with a 303 to
  ``redirect_uri`` with ``code`` and ``state`` (Deny: ``error=access_denied`` and ``state``;
  a response type other than ``code``: ``error=unsupported_response_type``); a wrong
  ``client_id`` or a ``redirect_uri`` that is not an absolute http(s) URL gets a 400 page and
  no redirect. The token endpoint takes the code with ``grant_type=authorization_code``,
  ``code``, the same ``redirect_uri`` and the client, and answers as a refresh does with a new
  credential for that user's account (a new user id opens an account with the catalogue; an
  existing account keeps its devices). A code is single-use, bound to its client and
  redirect URI, and lives ``AUTHORIZATION_CODE_LIFETIME`` seconds; anything else is 400
  ``invalid_grant``.
- ``sim-optimistic`` also plays Hue's application key: ``POST /sim-optimistic/v1/appkey``
  (bearer token) answers 201 ``{"application_key"}``. A token issued through the
  authorization-code flow (and its renewals, and one added with an ``application_key``) must
  then be sent with ``X-App-Key: <key>``, as Hue wants ``hue-application-key``; a key shown
  must be one of the account's. Tokens added without a key (the demo user's) need none.
- ``sim-async`` (key and secret, like SwitchBot API v1.1): ``Authorization: <key>``, ``t`` (ms
  since the epoch, within 5 minutes), ``nonce``, and ``sign`` = upper-case base64 of
  HMAC-SHA256(secret, key + t + nonce) (``request_signature``). Like SwitchBot, it keeps one
  webhook URL per account: ``POST /sim-async/v1/webhook`` (signed) with ``{"action":
  "query"}`` -> ``{"urls": [...]}``, ``{"action": "setup", "url"}`` (409 when the account
  already has another URL: delete it first) and ``{"action": "delete", "url"}`` (404 when it is
  not the account's). An account's changes are pushed to its own URL when it has one, else to
  the global ``webhook_url``.
- ``sim-polling`` (API key, like Govee's ``Govee-API-Key``): ``X-Api-Key: <key>``.

A vendor refuses any other credential with 401, and counts every *foreign* credential it is
shown, anywhere in the headers, query, a token request's form or a JSON body: a value another
simulated vendor issued or was given, or a JWT (the skill's own Cognito tokens; no vendor here
issues one). ``foreign_credentials()`` must stay all zeros: a skill that shows one vendor's
secret to another has a leak. At the authorize page, a person's browser, only the authorization
request's parameters are looked at: not the browser's headers (the local pages share the host,
so their cookies come along) nor what the person types.

Vendor API (latency applies):
``GET /<vendor>/v1/me``, ``GET /<vendor>/v1/devices``, ``GET /<vendor>/v1/devices/{id}/state``,
``GET /<vendor>/v1/states`` (every device with its ``state``; ``sim-sync`` and ``sim-optimistic``,
which list states in one call as LIFX and Hue do),
``POST /<vendor>/v1/devices/{id}/commands`` (body: any of on, brightness, color,
color_temperature), ``POST /<vendor>/oauth/token``, ``GET``/``POST /<vendor>/oauth/authorize``
(OAuth vendors), ``POST /sim-optimistic/v1/appkey``, ``POST /sim-async/v1/webhook``. An offline
bulb answers a command with 200 ``{"status": "offline"}``.

Test hooks (no auth, no latency, loopback clients only), mirroring the Python methods:
``GET /_sim/health``, ``POST /_sim/reset``, ``POST /_sim/webhook`` ``{"url", "secret"?}``,
``POST /_sim/wait-idle?timeout=s``, ``GET /_sim/log?vendor=&kind=&device_id=``,
``GET /_sim/deliveries``, ``GET /_sim/foreign`` (foreign credentials seen, per vendor),
``GET /_sim/refreshes`` (OAuth refreshes, per vendor), ``GET``/``POST /_sim/<vendor>/webhook``
(a push vendor's account's own webhook URL, ``{"url": str | null}``, set without the vendor
API's checks, as if the user had set one up for something else), ``POST
/_sim/<vendor>/devices`` (a device), and on ``/_sim/<vendor>/devices/{id}``: ``GET`` (state),
``PATCH`` (a physical change: attributes and/or ``online``), ``DELETE``. Hooks act on
``demo-user`` unless ``?user=<id>``; ``reset`` clears the accounts' own webhook URLs.

Quotas: each vendor counts its accounts' calls in the windows of the real vendor it stands for
(``sim-sync`` LIFX 120 a minute per token, ``sim-async`` SwitchBot 10,000 a day per account,
``sim-optimistic`` Hue 10 a second per bridge, ``sim-polling`` Govee 10,000 a day per account and
10 a minute per device; see ``_sim_quotas``) on the simulator's ``clock``; ``quotas`` holds the
counters, and with ``enforce_quotas=True`` a call over a quota gets the vendor's 429.

``dispatch`` is the single place a request is decided; a fault-injection layer wraps it
(``sim.dispatch = faulty(sim.dispatch)``) without touching HTTP.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType, TracebackType
from typing import Any, Self

from bulb_workbench.local._http import LoopbackServer
from bulb_workbench.local._sim_http import (
    SimRequest,
    SimResponse,
    consent_page,
    loopback,
    message_page,
)
from bulb_workbench.local._sim_model import (
    APP_KEY_VENDORS,
    AUTHORIZATION_CODE_LIFETIME,
    CREDENTIAL_KINDS,
    DEFAULT_TOKEN_LIFETIME,
    DEMO_USER,
    OAUTH_CLIENT_ID,
    OAUTH_CLIENT_SECRET,
    VENDORS,
    Accounts,
    Attributes,
    BadRequest,
    Conflict,
    NotFound,
    OAuthError,
    PhysicalChange,
    SimDevice,
    Unauthorized,
    applied,
    brand,
    check_supported,
    demo_credential,
    initial_devices,
    looks_like_jwt,
    parse,
)
from bulb_workbench.local._sim_quotas import QuotaMeter
from bulb_workbench.local._sim_scheduler import Lane
from skill.plugins import AnyCredential, CredentialKind, OAuthToken

__all__ = [
    "APP_KEY_VENDORS",
    "AUTHORIZATION_CODE_LIFETIME",
    "CREDENTIAL_KINDS",
    "DEFAULT_TOKEN_LIFETIME",
    "DEFAULT_WEBHOOK_SECRET",
    "DEMO_USER",
    "OAUTH_CLIENT_ID",
    "OAUTH_CLIENT_SECRET",
    "VENDORS",
    "SimRequest",
    "SimResponse",
    "VendorSimulator",
    "demo_credential",
    "request_signature",
    "sign",
]

_log = logging.getLogger(__name__)

DEFAULT_WEBHOOK_SECRET = "local-webhook-secret"  # the sim adapters' default too
PUSH_TIMEOUT_SECONDS = 2.0
#: The request and delivery logs keep this many entries, so a long demo run stays small.
LOG_LIMIT = 10_000
#: A failed push (connection error or 5xx) is tried again after these delays, as vendors do.
PUSH_RETRY_DELAYS = (0.2, 1.0)
#: ``sim-async`` refuses a signed request whose ``t`` is further than this from its clock.
SIGNATURE_WINDOW_SECONDS = 300.0
#: Foreign-credential sightings kept (each: when, which vendor, whose credential, where).
SIGHTINGS_LIMIT = 1000
#: Vendors that list every device with its state in one call (``GET /<vendor>/v1/states``),
#: as LIFX (``GET /lights/all``) and Hue (``GET /clip/v2/resource``) do.
STATE_LISTERS = frozenset({"sim-sync", "sim-optimistic"})
#: A simulator user id typed on an authorize page.
_USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
#: The parameters of an authorization request, in the order the consent form carries them.
_AUTHORIZE_FIELDS = ("response_type", "client_id", "redirect_uri", "state", "scope")
#: Longest redirect URI or webhook URL a vendor takes.
MAX_URL_LENGTH = 2000


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``X-Sim-Signature`` value: ``sha256=`` HMAC-SHA256 of ``"{timestamp}.{body}"``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def request_signature(key: str, secret: str, t: str, nonce: str) -> str:
    """``sim-async``'s ``sign`` header, as SwitchBot API v1.1 defines it: upper-case base64 of
    HMAC-SHA256(secret, key + t + nonce)."""
    digest = hmac.new(secret.encode(), f"{key}{t}{nonce}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode().upper()


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    kind: str  # log name of vendor API routes (me, devices, state, command, token), else hook
    handler: str  # method name on VendorSimulator
    api: bool = False  # vendor API (latency, logged) rather than a test hook
    #: How an API route is authorised: "credential" (the vendor's own), "client" (OAuth client
    #: in the form: the token endpoint), "user" (a person at the authorize page).
    auth: str = "credential"


def _route(
    method: str, path: str, kind: str, handler: str, api: bool = False, auth: str = "credential"
) -> _Route:
    return _Route(method, re.compile(f"^{path}$"), kind, handler, api, auth)


_VENDOR = r"/(?P<vendor>[a-z0-9_-]+)"
_DEVICE = r"/devices/(?P<device_id>[^/]+)"

_ROUTES = (
    _route("GET", "/_sim/health", "hook", "_hook_health"),
    _route("POST", "/_sim/reset", "hook", "_hook_reset"),
    _route("POST", "/_sim/webhook", "hook", "_hook_webhook"),
    _route("POST", "/_sim/wait-idle", "hook", "_hook_wait_idle"),
    _route("GET", "/_sim/log", "hook", "_hook_log"),
    _route("GET", "/_sim/deliveries", "hook", "_hook_deliveries"),
    _route("GET", "/_sim/foreign", "hook", "_hook_foreign"),
    _route("GET", "/_sim/refreshes", "hook", "_hook_refreshes"),
    _route("GET", f"/_sim{_VENDOR}/webhook", "hook", "_hook_account_webhook"),
    _route("POST", f"/_sim{_VENDOR}/webhook", "hook", "_hook_set_account_webhook"),
    _route("POST", f"/_sim{_VENDOR}/devices", "hook", "_hook_add_device"),
    _route("GET", f"/_sim{_VENDOR}{_DEVICE}", "hook", "_hook_read_device"),
    _route("PATCH", f"/_sim{_VENDOR}{_DEVICE}", "hook", "_hook_change_device"),
    _route("DELETE", f"/_sim{_VENDOR}{_DEVICE}", "hook", "_hook_remove_device"),
    _route("GET", f"{_VENDOR}/v1/me", "me", "_api_me", api=True),
    _route("GET", f"{_VENDOR}/v1/devices", "devices", "_api_devices", api=True),
    _route("GET", f"{_VENDOR}/v1/states", "states", "_api_states", api=True),
    _route("GET", f"{_VENDOR}/v1{_DEVICE}/state", "state", "_api_state", api=True),
    _route("POST", f"{_VENDOR}/v1{_DEVICE}/commands", "command", "_api_command", api=True),
    _route("POST", f"{_VENDOR}/v1/appkey", "appkey", "_api_app_key", api=True),
    _route("POST", f"{_VENDOR}/v1/webhook", "webhook", "_api_webhook", api=True),
    _route("POST", f"{_VENDOR}/oauth/token", "token", "_api_token", api=True, auth="client"),
    _route(
        "GET",
        f"{_VENDOR}/oauth/authorize",
        "authorize",
        "_api_authorize_page",
        api=True,
        auth="user",
    ),
    _route(
        "POST", f"{_VENDOR}/oauth/authorize", "authorize", "_api_authorize", api=True, auth="user"
    ),
)


class VendorSimulator:
    """The simulated vendor clouds, on a real HTTP server on loopback.

    ``latency`` is the mean answer time of the vendor API (jittered, from a seeded RNG so runs
    repeat); ``transition`` is how long a 202-command takes to reach the bulb.

    ``accounts`` is ``{vendor: {credential key: user id}}``, the key being the access token
    (OAuth), the key (key and secret) or the API key; the secret (``sim-async``) or refresh token
    (OAuth) of an account given this way is the key with its ``-credential`` suffix replaced by
    ``-secret`` / ``-refresh``. None (the default): ``demo-user`` at every vendor with
    ``demo_credential(vendor)``. A vendor left out has no account; ``add_account`` adds any
    credential. Each new account starts with ``default_catalogue``. OAuth access tokens live
    ``token_lifetime`` seconds (None: forever); ``clock`` is the vendors' time (inject a
    virtual one to run a simulated day).

    Each vendor keeps the call quotas of the real vendor it stands for (``_sim_quotas``):
    ``quotas`` (counters, always kept: calls per account per UTC day, peaks per minute, calls
    refused) and, with ``enforce_quotas``, a call over a quota is answered as that vendor
    answers it (429). Off by default: the demo user and the load run share one account across
    far more calls than a real vendor would take from one.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.05,
        transition: float = 0.6,
        webhook_url: str | None = None,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        accounts: Mapping[str, Mapping[str, str]] | None = None,
        token_lifetime: float | None = DEFAULT_TOKEN_LIFETIME,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        enforce_quotas: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.latency = latency
        self.transition = transition
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self._clock = clock
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        #: Every account's calls in its vendor's quota windows (``_sim_quotas.QuotaMeter``).
        self.quotas = QuotaMeter(enforce=enforce_quotas)
        self._accounts = Accounts(token_lifetime, clock)
        self._initial: dict[str, dict[str, list[SimDevice]]] = {vendor: {} for vendor in VENDORS}
        self._devices: dict[str, dict[str, dict[str, SimDevice]]] = {v: {} for v in VENDORS}
        self._foreign = dict.fromkeys(VENDORS, 0)
        self._sightings: deque[dict[str, Any]] = deque(maxlen=SIGHTINGS_LIMIT)
        self._refreshes = dict.fromkeys(VENDORS, 0)
        #: Push vendors' per-account webhook URLs: ``{vendor: {user: url}}``.
        self._hooks: dict[str, dict[str, str]] = {v: {} for v in VENDORS if VENDORS[v] == "push"}
        self._log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
        self._deliveries: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
        if accounts is None:
            for vendor in VENDORS:
                self.add_account(vendor, DEMO_USER, demo_credential(vendor))
        else:
            for vendor, keys in accounts.items():
                for key, user in keys.items():
                    self._accounts.add_key(vendor, key, user)
                    self._open(vendor, user, None)
        self._transitions = Lane("sim-transitions")
        self._pushes = Lane("sim-pushes")
        self._server: LoopbackServer | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> VendorSimulator:
        """Bind and serve in a daemon thread; ``url`` is valid from here on."""
        if self._server is not None:
            return self
        self._transitions.start()
        self._pushes.start()
        self._server = loopback(
            self._serve, name="vendor-simulator", host=self.host, port=self.port
        )
        self.port = self._server.start().port
        _log.info("vendor simulator on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, close open connections, drop pending transitions and pushes."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stop()
        self._transitions.stop()
        self._pushes.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- test hooks (Python) -----------------------------------------------------------------

    def reset(self) -> None:
        """Every account back to the devices it started with and without a webhook URL of its
        own; clears logs, counters (foreign credentials, refreshes) and what is in flight. Keeps
        the global webhook and the accounts with their current credentials (a credential
        renewed since stays the valid one)."""
        self._transitions.cancel_all()
        self._pushes.cancel_all()
        with self._lock:
            self._devices = {
                vendor: {user: _copies(devices) for user, devices in users.items()}
                for vendor, users in self._initial.items()
            }
            self._log.clear()
            self._deliveries.clear()
            self._foreign = dict.fromkeys(VENDORS, 0)
            self._sightings.clear()
            self._refreshes = dict.fromkeys(VENDORS, 0)
            for hooks in self._hooks.values():
                hooks.clear()
        self.quotas.reset()

    # -- accounts ------------------------------------------------------------------------------

    def add_account(
        self,
        vendor: str,
        user_id: str,
        credential: AnyCredential,
        *,
        devices: Iterable[SimDevice | Mapping[str, Any]] | None = None,
    ) -> None:
        """``vendor`` accepts ``credential`` (of its kind: ``ValueError`` otherwise) for the
        account ``user_id``. A new account starts with ``devices`` (default: the catalogue);
        an existing one (another credential for the same account) keeps its devices. An OAuth
        token without ``expires_at`` lives ``token_lifetime`` from now; its refresh token, if
        any, can be renewed at the token endpoint."""
        self._accounts.add(vendor, user_id, credential)
        self._open(vendor, user_id, devices)

    def revoke(self, vendor: str, credential: AnyCredential) -> None:
        """``vendor`` forgets ``credential`` (401 from now on); the account and its devices
        stay. A no-op for a credential it does not know."""
        self._accounts.revoke(vendor, credential)

    def demo_credential(self, vendor: str) -> AnyCredential:
        """The demo user's credential at ``vendor`` (``demo_credential(vendor)``), with the
        expiry this simulator gave its access token (OAuth)."""
        credential = demo_credential(vendor)
        if isinstance(credential, OAuthToken):
            access = credential.access_token.get_secret_value()
            return demo_credential(vendor, expires_at=self._accounts.expires_at(vendor, access))
        return credential

    @property
    def accounts(self) -> Mapping[str, Mapping[str, str]]:
        """``{vendor: {credential key: user id}}``, read-only (``add_account`` / ``revoke``)."""
        return MappingProxyType(
            {vendor: MappingProxyType(keys) for vendor, keys in self._accounts.by_key().items()}
        )

    def foreign_credentials(self) -> dict[str, int]:
        """Per vendor (every vendor, zeros included), how many foreign credentials it was shown:
        another simulated vendor's, or a JWT. Anything but zeros is a leak."""
        with self._lock:
            return dict(self._foreign)

    def foreign_sightings(self) -> list[dict[str, Any]]:
        """Each foreign credential seen, oldest first: ``at, vendor, path, owner`` (the vendor
        whose it is, or ``"jwt"``) and ``where`` (``header <name>``, ``query <name>``, ``form
        <name>``); never the value itself."""
        with self._lock:
            return [dict(entry) for entry in self._sightings]

    def refreshes(self) -> dict[str, int]:
        """Per vendor (every vendor, zeros included), how many OAuth refreshes it granted."""
        with self._lock:
            return dict(self._refreshes)

    def account_webhook(self, vendor: str, *, user: str = DEMO_USER) -> str | None:
        """The URL ``user``'s account at the push ``vendor`` has set up (None: none, so its
        changes go to the global ``webhook_url``)."""
        with self._lock:
            return self._hooks_of(vendor).get(user)

    def set_account_webhook(self, vendor: str, url: str | None, *, user: str = DEMO_USER) -> None:
        """Set (or, with None, remove) the account's own webhook URL, as if the user had set it
        up for something else; no questions asked (the vendor API refuses to replace one)."""
        if url is not None:
            _check_url(url, "url")
        with self._lock:
            hooks = self._hooks_of(vendor)
            if url is None:
                hooks.pop(user, None)
            else:
                hooks[user] = url

    def state(self, vendor: str, device_id: str, *, user: str = DEMO_USER) -> dict[str, Any]:
        """The bulb's physical state (what the vendor API would report), without logging a call."""
        with self._lock:
            return self._device(vendor, user, device_id).state_json()

    def set_state(
        self, vendor: str, device_id: str, *, user: str = DEMO_USER, **attributes: Any
    ) -> dict[str, Any]:
        """Change a bulb by hand (wall switch, vendor app); push vendors notify the webhook.

        Takes the command attributes plus ``online``; returns the new state.
        """
        return self._change(vendor, user, device_id, parse(PhysicalChange, attributes))

    def set_online(
        self, vendor: str, device_id: str, online: bool, *, user: str = DEMO_USER
    ) -> dict[str, Any]:
        return self.set_state(vendor, device_id, user=user, online=online)

    def add_device(
        self, vendor: str, device: SimDevice | Mapping[str, Any], *, user: str = DEMO_USER
    ) -> SimDevice:
        """Add a bulb to an account (``Conflict`` if the id is taken)."""
        new = device if isinstance(device, SimDevice) else parse(SimDevice, device)
        with self._lock:
            devices = self._account(vendor, user)
            if new.id in devices:
                raise Conflict(f"device {new.id!r} already exists")
            devices[new.id] = new.model_copy(deep=True)
        return new

    def remove_device(self, vendor: str, device_id: str, *, user: str = DEMO_USER) -> None:
        with self._lock:
            self._device(vendor, user, device_id)
            del self._account(vendor, user)[device_id]

    def log(
        self, vendor: str | None = None, kind: str | None = None, device_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Vendor API calls received, oldest first: ``at, vendor, kind, method, path, user_id,
        device_id, body, status, request_id``; ``kind`` is me/devices/state/command."""
        wanted = {"vendor": vendor, "kind": kind, "device_id": device_id}
        with self._lock:
            return [
                dict(entry)
                for entry in self._log
                if all(value is None or entry[key] == value for key, value in wanted.items())
            ]

    def commands(
        self, vendor: str | None = None, device_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The commands a vendor received (to assert it was called exactly once)."""
        return self.log(vendor, "command", device_id)

    def deliveries(self) -> list[dict[str, Any]]:
        """Every webhook push attempt: ``at, url, attempt, status, error, body``."""
        with self._lock:
            return [dict(entry) for entry in self._deliveries]

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no transition or push is pending; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        while self._transitions.busy() or self._pushes.busy():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._transitions.wait_idle(remaining)
            self._pushes.wait_idle(max(0.0, deadline - time.monotonic()))
        return True

    # -- the one decision point --------------------------------------------------------------

    def dispatch(self, request: SimRequest) -> SimResponse:
        """Decide a request: route, authorise, run the handler, log vendor API calls."""
        match = _match(request)
        if isinstance(match, SimResponse):
            return match
        route, params = match
        if not route.api and not _is_loopback(request.client):
            return SimResponse.error(403, "forbidden", "test hooks answer loopback clients only")
        user: str | None = None
        try:
            if route.api:
                self._cloud(params["vendor"])
            refused = None
            if route.api and route.auth == "credential":
                user = self._authenticate(request, params["vendor"], route.kind != "appkey")
                params["user"] = user
                refused = self.quotas.charge(
                    params["vendor"], user, route.kind, params.get("device_id"), self._clock()
                )
            response = refused or getattr(self, route.handler)(request, **params)
        except Unauthorized as exc:
            response = _unauthorized(params.get("vendor", ""), str(exc))
        except OAuthError as exc:
            response = SimResponse.json(
                exc.status,
                {"error": exc.code, "error_description": exc.description},
                {"Cache-Control": "no-store"},
            )
        except NotFound as exc:
            response = SimResponse.error(404, "not_found", str(exc))
        except BadRequest as exc:
            response = SimResponse.error(400, "bad_request", str(exc))
        except Conflict as exc:
            response = SimResponse.error(409, "conflict", str(exc))
        if route.api:
            self._record(request, route, params, user, response)
        return response

    def _serve(self, request: SimRequest) -> SimResponse:
        """What the HTTP server calls: foreign credentials counted (before ``dispatch`` and any
        fault layer wrapped around it, so every one shown is seen), vendor latency, then
        ``dispatch``; a crash is a 500."""
        try:
            self._inspect(request)
        except Exception:
            _log.exception("simulator failed to inspect %s %s", request.method, request.path)
        if not request.path.startswith("/_sim/"):
            time.sleep(self._latency())
        try:
            return self.dispatch(request)
        except Exception:
            _log.exception("simulator failed on %s %s", request.method, request.path)
            return SimResponse.error(500, "internal", "simulator error")

    # -- vendor API ----------------------------------------------------------------------------

    def _api_me(self, request: SimRequest, vendor: str, user: str) -> SimResponse:
        return SimResponse.json(200, {"user_id": user})

    def _api_devices(self, request: SimRequest, vendor: str, user: str) -> SimResponse:
        with self._lock:
            devices = self._account(vendor, user).values()
            return SimResponse.json(200, [device.listing() for device in devices])

    def _api_states(self, request: SimRequest, vendor: str, user: str) -> SimResponse:
        """Every device with its state, in one call (``STATE_LISTERS`` only)."""
        if vendor not in STATE_LISTERS:
            raise NotFound(f"{vendor} lists no states: read each device")
        with self._lock:
            devices = self._account(vendor, user).values()
            return SimResponse.json(
                200, [{**device.listing(), "state": device.state_json()} for device in devices]
            )

    def _api_state(
        self, request: SimRequest, vendor: str, user: str, device_id: str
    ) -> SimResponse:
        with self._lock:
            return SimResponse.json(200, self._device(vendor, user, device_id).state_json())

    def _api_command(
        self, request: SimRequest, vendor: str, user: str, device_id: str
    ) -> SimResponse:
        with self._lock:
            device = self._device(vendor, user, device_id)
            attributes = parse(Attributes, request.body)
            check_supported(attributes, device.features)
            if not device.online:
                return SimResponse.json(200, {"status": "offline"})
            request_id = str(uuid.uuid4())
            headers = {"X-Request-Id": request_id}
            if VENDORS[vendor] == "sync":
                device.state = applied(device.state, attributes)
                return SimResponse.json(200, device.state_json(), headers)
            land = partial(self._land, vendor, user, device_id, attributes, request_id)
            self._transitions.call_later(self.transition, land)
        return SimResponse.json(202, {"request_id": request_id}, headers)

    def _land(
        self, vendor: str, user: str, device_id: str, attributes: Attributes, request_id: str
    ) -> None:
        """A 202-command reaches the bulb; one that went offline or away meanwhile is lost."""
        with self._lock:
            device = self._account(vendor, user).get(device_id)
            if device is None or not device.online:
                return
            device.state = applied(device.state, attributes)
            state = device.state_json()
        self._notify(vendor, user, device_id, state, request_id)

    def _api_token(self, request: SimRequest, vendor: str) -> SimResponse:
        """The OAuth token endpoint (RFC 6749 section 6): renew with a refresh token."""
        if CREDENTIAL_KINDS[vendor] is not CredentialKind.OAUTH:
            raise NotFound(f"{vendor} has no OAuth token endpoint")
        form = _form(request)
        if form is None:
            raise OAuthError(400, "invalid_request", "the body must be a form (urlencoded)")
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        if not (
            hmac.compare_digest(client_id.encode(), OAUTH_CLIENT_ID.encode())
            and hmac.compare_digest(client_secret.encode(), OAUTH_CLIENT_SECRET.encode())
        ):
            raise OAuthError(401, "invalid_client", "unknown client or wrong client secret")
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "grant_type is missing")
        if grant_type == "authorization_code":
            return self._exchange_code(vendor, form)
        if grant_type != "refresh_token":
            raise OAuthError(
                400,
                "unsupported_grant_type",
                f"{vendor} takes the authorization_code and refresh_token grants only",
            )
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            raise OAuthError(400, "invalid_request", "refresh_token is missing")
        answer = self._accounts.refresh(vendor, refresh_token)
        with self._lock:
            self._refreshes[vendor] += 1
        return SimResponse.json(200, answer, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _exchange_code(self, vendor: str, form: Mapping[str, str]) -> SimResponse:
        """The authorization-code grant (RFC 6749 section 4.1.3), the client already checked:
        a fresh credential for the account the code names (a new account gets the catalogue)."""
        code, redirect_uri = form.get("code"), form.get("redirect_uri")
        if not code:
            raise OAuthError(400, "invalid_request", "code is missing")
        if not redirect_uri:
            raise OAuthError(400, "invalid_request", "redirect_uri is missing")
        user, answer = self._accounts.redeem_code(
            vendor, code, form.get("client_id", ""), redirect_uri
        )
        self._open(vendor, user, None)
        return SimResponse.json(200, answer, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _api_authorize_page(self, request: SimRequest, vendor: str) -> SimResponse:
        """``GET /<vendor>/oauth/authorize``: the consent page (RFC 6749 section 4.1.1)."""
        fields = self._authorization_request(vendor, request.query)
        if isinstance(fields, SimResponse):
            return fields
        return SimResponse.html(
            200, consent_page(vendor, brand(vendor), fields, username=DEMO_USER)
        )

    def _api_authorize(self, request: SimRequest, vendor: str) -> SimResponse:
        """``POST /<vendor>/oauth/authorize``: the consent form's answer, a 303 back to the
        client with ``code`` and ``state`` (Allow) or ``error=access_denied`` (Deny)."""
        form = _form(request)
        if form is None:
            return SimResponse.html(
                400,
                message_page(
                    vendor,
                    "This sign-in cannot go on",
                    "The page sent no form. Please start again.",
                ),
            )
        fields = self._authorization_request(vendor, form)
        if isinstance(fields, SimResponse):
            return fields
        redirect_uri, state = fields["redirect_uri"], fields.get("state")
        decision = form.get("decision")
        if decision == "deny":
            denied = _with_query(redirect_uri, error="access_denied", state=state)
            return SimResponse.redirect(denied)
        if decision != "allow":
            return SimResponse.html(
                400,
                consent_page(
                    vendor,
                    brand(vendor),
                    fields,
                    username=form.get("username", DEMO_USER)[:64],
                    error="Choose Allow or Deny.",
                ),
            )
        username = form.get("username", "").strip()
        if not _USER_ID.fullmatch(username):
            return SimResponse.html(
                400,
                consent_page(
                    vendor,
                    brand(vendor),
                    fields,
                    username=username[:64],
                    error="A simulator user id is 1 to 64 letters, digits or . _ @ + - "
                    "(starting with a letter or digit).",
                ),
            )
        code = self._accounts.issue_code(vendor, username, fields["client_id"], redirect_uri)
        return SimResponse.redirect(_with_query(redirect_uri, code=code, state=state))

    def _authorization_request(
        self, vendor: str, params: Mapping[str, str]
    ) -> dict[str, str] | SimResponse:
        """The request's parameters, or the answer to a bad one: a page when the client or the
        redirect URI is wrong (RFC 6749 section 4.1.2.1: never redirect then), a redirect with
        ``unsupported_response_type`` for another response type."""
        if CREDENTIAL_KINDS[vendor] is not CredentialKind.OAUTH:
            raise NotFound(f"{vendor} has no OAuth authorize page")
        client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
        if not hmac.compare_digest(client_id.encode(), OAUTH_CLIENT_ID.encode()):
            return SimResponse.html(
                400,
                message_page(
                    vendor,
                    "Unknown app",
                    "The app that sent you here is not registered with "
                    f"{brand(vendor)} (client_id). Nothing was shared.",
                ),
            )
        try:
            _check_url(redirect_uri, "redirect_uri")
        except BadRequest:
            return SimResponse.html(
                400,
                message_page(
                    vendor,
                    "This sign-in cannot go on",
                    "The app that sent you here gave no valid "
                    "address to return to (redirect_uri). Nothing was shared.",
                ),
            )
        fields = {name: params[name] for name in _AUTHORIZE_FIELDS if params.get(name)}
        if params.get("response_type") != "code":
            return SimResponse.redirect(
                _with_query(
                    redirect_uri, error="unsupported_response_type", state=params.get("state")
                )
            )
        return fields

    def _api_app_key(self, request: SimRequest, vendor: str, user: str) -> SimResponse:
        """``POST /<vendor>/v1/appkey`` (Hue's ``POST /api`` after the link button): a new
        application key for the token's account, to send as ``X-App-Key`` from now on."""
        if vendor not in APP_KEY_VENDORS:
            raise NotFound(f"{vendor} has no application keys")
        key = self._accounts.create_app_key(vendor, user)
        return SimResponse.json(201, {"application_key": key})

    def _api_webhook(self, request: SimRequest, vendor: str, user: str) -> SimResponse:
        """``POST /<vendor>/v1/webhook`` (SwitchBot's one webhook URL per account): ``{"action":
        "query"}`` -> ``{"urls"}``; ``"setup"`` with ``"url"`` (409 when the account already has
        another URL: delete it first); ``"delete"`` with ``"url"`` (404 when it is not the
        account's)."""
        hooks = self._hooks_of(vendor)
        body = _json_object(request.body)
        action = body.get("action")
        if action not in ("query", "setup", "delete"):
            raise BadRequest("action must be query, setup or delete")
        with self._lock:
            current = hooks.get(user)
            if action == "query":
                return SimResponse.json(200, {"urls": [current] if current else []})
            url = body.get("url")
            if not isinstance(url, str):
                raise BadRequest("url: a string is required")
            if action == "setup":
                _check_url(url, "url")
                if current is not None and current != url:
                    raise Conflict("the account already has a webhook URL: delete it first")
                hooks[user] = url
                return SimResponse.json(200, {"urls": [url]})
            if current != url:
                raise NotFound("the account has no such webhook URL")
            del hooks[user]
            return SimResponse.json(200, {"urls": []})

    def _hooks_of(self, vendor: str) -> dict[str, str]:
        self._cloud(vendor)
        hooks = self._hooks.get(vendor)
        if hooks is None:
            raise NotFound(f"{vendor} does not push: it has no webhooks")
        return hooks

    # -- test hooks (HTTP) ---------------------------------------------------------------------

    def _hook_health(self, request: SimRequest) -> SimResponse:
        return SimResponse.json(200, {"ok": True, "vendors": VENDORS})

    def _hook_reset(self, request: SimRequest) -> SimResponse:
        self.reset()
        return SimResponse.json(200, {"ok": True})

    def _hook_webhook(self, request: SimRequest) -> SimResponse:
        config = _json_object(request.body)
        url, secret = config.get("url"), config.get("secret", self.webhook_secret)
        if not (url is None or isinstance(url, str)) or not isinstance(secret, str):
            raise BadRequest('expected {"url": str | null, "secret"?: str}')
        self.webhook_url, self.webhook_secret = url, secret
        return SimResponse.json(200, {"url": url})

    def _hook_wait_idle(self, request: SimRequest) -> SimResponse:
        try:
            timeout = min(float(request.query.get("timeout", "5")), 30.0)
        except ValueError as exc:
            raise BadRequest("timeout must be a number of seconds") from exc
        return SimResponse.json(200, {"idle": self.wait_idle(timeout)})

    def _hook_log(self, request: SimRequest) -> SimResponse:
        query = request.query
        return SimResponse.json(
            200, self.log(query.get("vendor"), query.get("kind"), query.get("device_id"))
        )

    def _hook_deliveries(self, request: SimRequest) -> SimResponse:
        return SimResponse.json(200, self.deliveries())

    def _hook_foreign(self, request: SimRequest) -> SimResponse:
        return SimResponse.json(200, self.foreign_credentials())

    def _hook_refreshes(self, request: SimRequest) -> SimResponse:
        return SimResponse.json(200, self.refreshes())

    def _hook_account_webhook(self, request: SimRequest, vendor: str) -> SimResponse:
        return SimResponse.json(200, {"url": self.account_webhook(vendor, user=_user(request))})

    def _hook_set_account_webhook(self, request: SimRequest, vendor: str) -> SimResponse:
        url = _json_object(request.body).get("url")
        if not (url is None or isinstance(url, str)):
            raise BadRequest('expected {"url": str | null}')
        self.set_account_webhook(vendor, url, user=_user(request))
        return SimResponse.json(200, {"url": url})

    def _hook_add_device(self, request: SimRequest, vendor: str) -> SimResponse:
        device = self.add_device(vendor, parse(SimDevice, request.body), user=_user(request))
        return SimResponse.json(201, device.listing())

    def _hook_read_device(self, request: SimRequest, vendor: str, device_id: str) -> SimResponse:
        return SimResponse.json(200, self.state(vendor, device_id, user=_user(request)))

    def _hook_change_device(self, request: SimRequest, vendor: str, device_id: str) -> SimResponse:
        change = parse(PhysicalChange, request.body)
        return SimResponse.json(200, self._change(vendor, _user(request), device_id, change))

    def _hook_remove_device(self, request: SimRequest, vendor: str, device_id: str) -> SimResponse:
        self.remove_device(vendor, device_id, user=_user(request))
        return SimResponse.json(200, {"removed": device_id})

    # -- internals -----------------------------------------------------------------------------

    def _change(
        self, vendor: str, user: str, device_id: str, change: PhysicalChange
    ) -> dict[str, Any]:
        with self._lock:
            device = self._device(vendor, user, device_id)
            check_supported(change, device.features)
            device.state = applied(device.state, change)
            if change.online is not None:
                device.online = change.online
            state = device.state_json()
        self._notify(vendor, user, device_id, state, None)
        return state

    def _cloud(self, vendor: str) -> dict[str, dict[str, SimDevice]]:
        cloud = self._devices.get(vendor)
        if cloud is None:
            raise NotFound(f"no vendor {vendor!r}")
        return cloud

    def _account(self, vendor: str, user: str) -> dict[str, SimDevice]:
        return self._cloud(vendor).setdefault(user, {})

    def _device(self, vendor: str, user: str, device_id: str) -> SimDevice:
        device = self._account(vendor, user).get(device_id)
        if device is None:
            raise NotFound(f"no device {device_id!r}")
        return device

    def _open(
        self, vendor: str, user: str, devices: Iterable[SimDevice | Mapping[str, Any]] | None
    ) -> None:
        """Give a new account its first devices (and remember them for ``reset``)."""
        with self._lock:
            if user in self._initial[vendor]:
                return
            start = initial_devices(vendor, devices)
            self._initial[vendor][user] = start
            current = self._devices[vendor].setdefault(user, {})
            for device_id, device in _copies(start).items():
                current.setdefault(device_id, device)

    def _authenticate(self, request: SimRequest, vendor: str, app_key: bool = True) -> str:
        """The account the request's credential is for, checked the vendor's way (``app_key``
        False: the request creates the application key, so cannot show one yet)."""
        headers = request.headers
        kind = CREDENTIAL_KINDS[vendor]
        if kind is CredentialKind.OAUTH:
            scheme, _, token = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("missing bearer token")
            user, needs_app_key = self._accounts.bearer_account(vendor, token.strip())
            if vendor in APP_KEY_VENDORS:
                self._check_app_key(
                    vendor, user, headers.get("x-app-key", "").strip(), needs_app_key and app_key
                )
            return user
        if kind is CredentialKind.API_KEY:
            key = headers.get("x-api-key", "").strip()
            if not key:
                raise Unauthorized("missing X-Api-Key header")
            return self._accounts.api_key(vendor, key)
        key = headers.get("authorization", "").strip()
        t, nonce = headers.get("t", "").strip(), headers.get("nonce", "").strip()
        signature = headers.get("sign", "").strip()
        if not (key and t and nonce and signature):
            raise Unauthorized("missing Authorization, t, nonce or sign header")
        user, secret = self._accounts.key_and_secret(vendor, key)
        expected = request_signature(key, secret, t, nonce).encode()
        if not hmac.compare_digest(expected, signature.upper().encode()):
            raise Unauthorized("the request signature is wrong")
        try:
            sent = int(t)
        except ValueError as exc:
            raise Unauthorized("t must be milliseconds since the epoch") from exc
        if abs(self._clock() * 1000 - sent) > SIGNATURE_WINDOW_SECONDS * 1000:
            raise Unauthorized("t is too far from the vendor's clock (milliseconds expected)")
        return user

    def _check_app_key(self, vendor: str, user: str, shown: str, required: bool) -> None:
        """Like Hue's ``hue-application-key``: a key shown must be one made for this account;
        a token issued through the authorize page must come with one."""
        if shown:
            if self._accounts.app_key_user(vendor, shown) != user:
                raise Unauthorized("unknown application key (X-App-Key)")
        elif required:
            raise Unauthorized("this token needs the account's application key (X-App-Key)")

    def _inspect(self, request: SimRequest) -> None:
        """Count the foreign credentials a request to a vendor shows, each value once."""
        vendor = request.path.lstrip("/").partition("/")[0]
        if vendor not in VENDORS:
            return
        seen: dict[str, str] = {}
        # The authorize page is a person's browser: its headers (cookies the browser keeps for
        # this host, which the local pages share) and what the person types are not the skill's
        # doing; the authorization request's parameters are.
        browser = request.path == f"/{vendor}/oauth/authorize"
        form = _form(request) or {}
        if browser:
            form = {name: value for name, value in form.items() if name in _AUTHORIZE_FIELDS}
        for name, value in () if browser else request.headers.items():
            for piece in _pieces(value):
                seen.setdefault(piece, f"header {name}")
        for name, value in request.query.items():
            for piece in _pieces(value):
                seen.setdefault(piece, f"query {name}")
        for name, value in form.items():
            for piece in _pieces(value):
                seen.setdefault(piece, f"form {name}")
        for value in () if browser else _json_strings(request):
            for piece in _pieces(value):
                seen.setdefault(piece, "body")
        sightings = []
        for value, where in seen.items():
            owners = self._accounts.owners(value)
            if vendor in owners:
                continue
            if owners:
                owner = ",".join(sorted(owners))
            elif looks_like_jwt(value):
                owner = "jwt"
            else:
                continue
            sightings.append(
                {
                    "at": time.time(),
                    "vendor": vendor,
                    "path": request.path[:200],
                    "owner": owner,
                    "where": where,
                }
            )
        if not sightings:
            return
        with self._lock:
            self._foreign[vendor] += len(sightings)
            self._sightings.extend(sightings)
        for sighting in sightings:
            _log.warning(
                "%s was shown a foreign credential (%s's, in the %s)",
                vendor,
                sighting["owner"],
                sighting["where"],
            )

    def _latency(self) -> float:
        if self.latency <= 0:
            return 0.0
        with self._lock:
            jittered = self._rng.gauss(self.latency, self.latency / 4)
        return min(max(jittered, self.latency / 2), self.latency * 3)

    def _record(
        self,
        request: SimRequest,
        route: _Route,
        params: Mapping[str, str],
        user: str | None,
        response: SimResponse,
    ) -> None:
        # A token request's form carries the refresh token or code and the client secret, an
        # authorize form the state: never logged.
        form = _form(request) or {}
        if route.kind == "token":
            body: Any = {"grant_type": form.get("grant_type")}
        elif route.kind == "authorize":
            body = {"decision": form.get("decision")} if request.method == "POST" else None
        else:
            body = _readable(request.body)
        entry = {
            "at": time.time(),
            "vendor": params.get("vendor"),
            "kind": route.kind,
            "method": request.method,
            "path": request.path,
            "user_id": user,
            "device_id": params.get("device_id"),
            "body": body,
            "status": response.status,
            "request_id": response.headers.get("X-Request-Id"),
        }
        with self._lock:
            self._log.append(entry)

    # -- webhook push --------------------------------------------------------------------------

    def _notify(
        self, vendor: str, user: str, device_id: str, state: dict[str, Any], request_id: str | None
    ) -> None:
        if VENDORS[vendor] != "push":
            return
        payload = {
            "device_id": device_id,
            "request_id": request_id,
            "user_id": user,
            "state": state,
        }
        deliver = partial(self._deliver, json.dumps(payload).encode(), 1, vendor, user)
        self._pushes.call_later(0, deliver)

    def _deliver(self, body: bytes, attempt: int, vendor: str, user: str) -> None:
        """POST one signed notification to the account's webhook URL, else the global one;
        retry connection errors and 5xx a couple of times."""
        with self._lock:
            url = self._hooks_of(vendor).get(user) or self.webhook_url
        secret = self.webhook_secret
        status, error = None, None
        if url is None:
            error = "no webhook_url configured"
        else:
            status, error = self._post_signed(url, secret, body)
        with self._lock:
            self._deliveries.append(
                {
                    "at": time.time(),
                    "url": url,
                    "attempt": attempt,
                    "status": status,
                    "error": error,
                    "body": json.loads(body),
                }
            )
        failed = url is not None and (status is None or status >= 500)
        if failed and attempt <= len(PUSH_RETRY_DELAYS):
            retry = partial(self._deliver, body, attempt + 1, vendor, user)
            self._pushes.call_later(PUSH_RETRY_DELAYS[attempt - 1], retry)

    def _post_signed(self, url: str, secret: str, body: bytes) -> tuple[int | None, str | None]:
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Sim-Timestamp": timestamp,
                "X-Sim-Signature": sign(secret, timestamp, body),
            },
        )
        try:
            with self._opener.open(request, timeout=PUSH_TIMEOUT_SECONDS) as response:
                return response.status, None
        except urllib.error.HTTPError as exc:
            return exc.code, None
        except (urllib.error.URLError, OSError) as exc:
            return None, str(exc)


def _unauthorized(vendor: str, message: str) -> SimResponse:
    headers = {}
    if CREDENTIAL_KINDS.get(vendor) is CredentialKind.OAUTH:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return SimResponse.error(401, "unauthorized", message, headers)


def _form(request: SimRequest) -> dict[str, str] | None:
    """A urlencoded form body as a dict (last value wins), or None if the body is not one."""
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return None
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))


_SEPARATORS = re.compile(r"[\s,;]+")


def _pieces(value: str) -> set[str]:
    """Where a credential may sit in a header value: the whole, each word of it (the token of
    ``Bearer <token>``) and the value of each ``name=value`` word, quotes stripped."""
    words = {value.strip(), *_SEPARATORS.split(value)}
    words |= {word.partition("=")[2] for word in words if "=" in word}
    return {word.strip("\"'") for word in words} - {""}


#: JSON bodies up to this size are searched for foreign credentials too (commands are tiny).
_JSON_SEARCH_BYTES = 64 * 1024


def _json_strings(request: SimRequest) -> list[str]:
    """Every string (keys and values) in a JSON request body, or none if it is not JSON."""
    if not request.body or len(request.body) > _JSON_SEARCH_BYTES:
        return []
    try:
        value = json.loads(request.body)
    except ValueError:
        return []
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            found.extend(key for key in item if isinstance(key, str))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _match(request: SimRequest) -> tuple[_Route, dict[str, str]] | SimResponse:
    """The route for a request, or the 404/405 answer; path parameters are percent-decoded."""
    allowed = []
    for route in _ROUTES:
        found = route.pattern.match(request.path)
        if found is None:
            continue
        if route.method == request.method:
            params = {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
            return route, params
        allowed.append(route.method)
    if allowed:
        return SimResponse.error(
            405, "method_not_allowed", "method not allowed", {"Allow": ", ".join(allowed)}
        )
    return SimResponse.error(404, "not_found", f"no route {request.path[:100]}")


def _is_loopback(client: str) -> bool:
    try:
        return ipaddress.ip_address(client).is_loopback
    except ValueError:
        return False


def _check_url(url: str, what: str) -> None:
    """An absolute http(s) URL without fragment or white space (``BadRequest`` otherwise)."""
    problem = BadRequest(f"{what}: an absolute http(s) URL without fragment is required")
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise problem from exc
    if (
        not host
        or len(url) > MAX_URL_LENGTH
        or parts.scheme not in ("http", "https")
        or parts.fragment
        or any(char.isspace() or not char.isprintable() for char in url)
    ):
        raise problem


def _with_query(url: str, **params: str | None) -> str:
    """``url`` with ``params`` (those not None) added to its query."""
    parts = urllib.parse.urlsplit(url)
    extra = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urllib.parse.urlunsplit(parts._replace(query=query))


def _user(request: SimRequest) -> str:
    return request.query.get("user", DEMO_USER)


def _copies(devices: list[SimDevice]) -> dict[str, SimDevice]:
    return {device.id: device.model_copy(deep=True) for device in devices}


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"null")
    except ValueError as exc:
        raise BadRequest("body is not JSON") from exc
    if not isinstance(value, dict):
        raise BadRequest("body must be a JSON object")
    return value


def _readable(body: bytes) -> Any:
    """A logged body: its JSON when it parses, else its text (to see what a 400 was about)."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode(errors="replace")


def main(argv: list[str] | None = None) -> None:
    """``python -m bulb_workbench.local.simulator --port 8765``: run the simulator until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Run the bulb-vendor simulator on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--transition", type=float, default=0.6)
    parser.add_argument("--webhook-url")
    parser.add_argument("--webhook-secret", default=DEFAULT_WEBHOOK_SECRET)
    parser.add_argument(
        "--token-lifetime",
        type=float,
        default=DEFAULT_TOKEN_LIFETIME,
        help="seconds an OAuth access token lives (sim-sync, sim-optimistic)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    simulator = VendorSimulator(
        host=args.host,
        port=args.port,
        latency=args.latency,
        transition=args.transition,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        token_lifetime=args.token_lifetime,
    )
    with simulator:
        print(f"vendor simulator on {simulator.url} (Ctrl-C to stop)", flush=True)
        for vendor, kind in CREDENTIAL_KINDS.items():
            print(f"  {vendor}: {kind}, demo user's credential demo-{vendor}-credential")
            if kind is CredentialKind.OAUTH:
                print(
                    f"    authorize page {simulator.url}/{vendor}/oauth/authorize "
                    f"(client {OAUTH_CLIENT_ID})"
                )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
