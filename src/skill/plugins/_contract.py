"""What a vendor adapter is: a style and five operations, raising ``skill.errors`` types.

An adapter never builds Alexa JSON: it speaks the vendor's API and the project's bulb model
(``skill.bulbs``). The processor that runs it is chosen by its ``style``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from skill.plugins._style import Style

if TYPE_CHECKING:
    # annotations only: the contract loads without the bulb and credential models
    from skill.bulbs import BulbState, Change, Features
    from skill.plugins._credentials import AnyCredential, CredentialKind, OAuthToken


class Device(NamedTuple):
    """One bulb as the vendor lists it. ``id`` is the vendor's id (any string)."""

    id: str
    name: str
    features: Features
    manufacturer: str = "Unknown"
    model: str = "Light"
    description: str = "Light bulb"


class Accepted(NamedTuple):
    """The vendor took the command but did not say the result (async, optimistic, polling)."""

    reference: str | None = None  # the vendor's request id, when it gives one


class Notification(NamedTuple):
    """A verified vendor push: a device's new state, and the request it answers if known."""

    device_id: str
    state: BulbState
    reference: str | None = None
    user_id: str | None = None  # the vendor account it belongs to, when the push says
    #: When the vendor sent it (seconds since the epoch), read from what the vendor vouches
    #: for (a signed header, the body). None: the push cannot be shown fresh and is refused.
    sent_at: float | None = None


class WebhookRequest(NamedTuple):
    """The vendor's HTTP request as the notifications function received it."""

    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    query: Mapping[str, str] = MappingProxyType({})  # read-only: one empty mapping for all
    path: str = "/"


@dataclass(frozen=True, slots=True)
class AdapterContext:
    """What an adapter factory gets: its settings, a way to read secrets, its call timeout.

    ``setting("BASE_URL")`` reads the environment variable ``<VENDOR>_BASE_URL`` (e.g.
    ``LIFX_BASE_URL``: tests and local runs point an adapter at a stub that way), else this
    vendor's entry of the deployment's adapter settings (``settings``: the ``ADAPTER_SETTINGS``
    JSON of a deployed function, the stack parameter ``AdapterSettings``), else ``default``.
    ``secret(name)`` reads Secrets Manager through Powertools parameters (cached) in Lambda, and
    the environment locally. ``timeout_seconds`` is the budget of one vendor call: the setting
    ``TIMEOUT_SECONDS`` when the deployment gives one, else 3 s.

    Example::

        >>> context = AdapterContext(
        ...     vendor="acme", environ={"ACME_TIMEOUT_SECONDS": "5"},
        ...     settings={"BASE_URL": "https://eu.api.acme.example/v1", "TIMEOUT_SECONDS": "2"})
        >>> context.setting("BASE_URL")
        'https://eu.api.acme.example/v1'
        >>> context.setting("TIMEOUT_SECONDS")   # the environment wins over the settings
        '5'
        >>> context.setting("REGION", "eu")
        'eu'
    """

    vendor: str
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    secrets: Callable[[str], str] | None = None
    timeout_seconds: float = 3.0
    #: This vendor's settings from the deployment (``ADAPTER_SETTINGS``), values as strings.
    settings: Mapping[str, str] = field(default_factory=dict)

    def setting(self, name: str, default: str | None = None) -> str | None:
        value = self.environ.get(f"{setting_prefix(self.vendor)}_{name}")
        if value is None:
            value = self.settings.get(name)
        return default if value is None else value

    def secret(self, name: str) -> str:
        if self.secrets is None:
            raise KeyError(f"no secret source configured for {name}")
        return self.secrets(name)


def setting_prefix(vendor: str) -> str:
    """The environment-variable prefix of a vendor's settings: ``sim-sync`` -> ``SIM_SYNC``."""
    return vendor.upper().replace("-", "_")


@runtime_checkable
class Adapter(Protocol):
    """A vendor's cloud, seen through the operations the skill needs.

    Every method receives the user's credential for this vendor (of ``credential_kind``),
    never the token Alexa sent, and may raise the typed errors of ``skill.errors``: a rejected
    credential -> ``InvalidAuthorizationCredential``, unknown device -> ``NoSuchEndpoint``,
    vendor down -> ``EndpointUnreachable``/``BridgeUnreachable``, throttled -> ``RateLimited``.
    """

    #: Short vendor key ([a-z0-9_-]), the prefix of every endpoint id of this adapter.
    name: str
    style: Style
    #: What the user's credential for this vendor is (the linking pages ask for it).
    credential_kind: CredentialKind

    def identify_user(self, credential: AnyCredential) -> str:
        """The vendor's stable id for the account the credential belongs to; no part of the
        credential itself."""
        ...

    def list_devices(self, credential: AnyCredential) -> list[Device]:
        """Every bulb the account owns, with its real features."""
        ...

    def read_state(self, credential: AnyCredential, device_id: str) -> BulbState:
        """The bulb's state now, as the vendor knows it."""
        ...

    def execute(
        self,
        credential: AnyCredential,
        device_id: str,
        change: Change,
        known: BulbState | None = None,
    ) -> BulbState | Accepted:
        """Apply ``change``: a ``BulbState`` when the vendor says the result (sync), else
        ``Accepted``.

        ``known`` (optional parameter; the core passes it only to adapters whose ``execute``
        declares it) is the bulb as the vendor showed it a moment ago: the core read it just
        before this command. An adapter that needs the current state to build a command (LIFX
        reports the prior state with the change applied) uses it instead of reading again.
        None: nothing is known; read if you must."""
        ...


class VendorQuotas(NamedTuple):
    """The call limits the vendor documents, declared by an adapter as ``quotas``: the sweep
    spends at most a set share of each (``SWEEP_QUOTA_SHARE``), so commands always have room.
    None: the vendor states no such limit."""

    calls_per_day_per_account: int | None = None
    calls_per_minute_per_account: int | None = None
    calls_per_day_per_device: int | None = None
    calls_per_minute_per_device: int | None = None
    #: Where the vendor states them (a documentation URL).
    source: str = ""


#: An adapter that declares no quotas: nothing limits the sweep but its cadence.
NO_QUOTAS = VendorQuotas()


def quotas_of(adapter: Any) -> VendorQuotas:
    quotas = getattr(adapter, "quotas", None)
    return quotas if isinstance(quotas, VendorQuotas) else NO_QUOTAS


class DeviceReading(NamedTuple):
    """One light and its state from a call that lists every light at once; ``state`` None:
    the vendor lists the light but cannot reach it."""

    device: Device
    state: BulbState | None


@runtime_checkable
class StateLister(Protocol):
    """An adapter whose vendor lists every light with its state in one call (LIFX, Hue): the
    sweep reads an account with that one call instead of a list and a read per light."""

    def read_all(self, credential: AnyCredential) -> list[DeviceReading]: ...


@runtime_checkable
class PushAdapter(Adapter, Protocol):
    """An ``async`` adapter: the vendor pushes state changes to our webhook."""

    def parse_notification(self, request: WebhookRequest) -> list[Notification]:
        """Verify the request came from the vendor and read it; raise
        ``skill.errors.InvalidNotification`` otherwise."""
        ...


@runtime_checkable
class WebhookRegistrar(Protocol):
    """An adapter whose vendor must be told, per account, where to push (SwitchBot). Optional:
    the entrypoint calls it at each Discover for every account the adapter lists devices of,
    and a disconnect calls ``deregister_webhook``."""

    def register_webhook(self, credential: AnyCredential, base_url: str) -> str:
        """Make the account push to ``base_url`` (idempotent: a no-op when it already does);
        return the URL registered."""
        ...

    def deregister_webhook(self, credential: AnyCredential, base_url: str) -> None:
        """Stop the account pushing to ``base_url`` (a no-op when it does not); leave any
        other URL the account has alone."""
        ...


@runtime_checkable
class CredentialRefresher(Protocol):
    """An adapter whose OAuth credentials expire (LIFX, Hue): renews one through the vendor's
    token endpoint. The vault calls it shortly before expiry, one refresh per credential at a
    time, and stores the answer."""

    def refresh_credential(self, credential: OAuthToken) -> OAuthToken:
        """A fresh credential (keeping fields the vendor does not return, such as Hue's
        application key); ``InvalidAuthorizationCredential`` when the refresh token is dead."""
        ...


@runtime_checkable
class SingleWebhookVendor(Protocol):
    """A vendor that keeps one push URL per account (SwitchBot): registering ours would replace
    one the user set up for something else, so the linking pages ask first."""

    def other_webhooks(self, credential: AnyCredential, base_url: str) -> list[str]:
        """The URLs the account pushes to that are not this deployment's."""
        ...

    def replace_webhooks(self, credential: AnyCredential, base_url: str) -> str:
        """Remove the account's other URLs and register ours; the URL registered."""
        ...


@runtime_checkable
class OAuthLinker(Protocol):
    """An OAuth vendor's authorization-code flow, for the linking pages' Connect button: the
    user signs in at the vendor, which redirects back with a code."""

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """The vendor's authorize page for this deployment's client, with ``state``."""
        ...

    def exchange_code(self, code: str, redirect_uri: str) -> OAuthToken:
        """The user's credential for the code (Hue: also creates the application key);
        ``InvalidAuthorizationCredential`` when the vendor refuses the code."""
        ...


AdapterFactory = Callable[[AdapterContext], Adapter]


def execute_accepts_known(adapter: Any) -> bool:
    """Whether ``adapter.execute`` takes ``known=`` (the state the core read before the command).

    Adapters written before ``known`` existed (and test doubles replacing ``execute``) take three
    arguments: the core then calls them as before."""
    execute = getattr(adapter, "execute", None)
    if execute is None:
        return False
    function = getattr(execute, "__func__", execute)
    try:
        return _takes_known_cached(function)
    except TypeError:  # an unhashable callable
        return _takes_known(function)


@lru_cache(maxsize=512)
def _takes_known_cached(function: Callable[..., Any]) -> bool:
    return _takes_known(function)


def _takes_known(function: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    known = parameters.get("known")
    if known is not None:
        return known.kind in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        )
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
