"""What a vendor adapter is: a style and five operations, raising ``skill.errors`` types.

An adapter never builds Alexa JSON: it speaks the vendor's API and the project's bulb model
(``skill.bulbs``). The processor that runs it is chosen by its ``style``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from skill.bulbs import BulbState, Change, Features
from skill.plugins._credentials import ApiKey, CredentialKind, KeyAndSecret, OAuthToken

#: The credential an adapter receives: always of the kind it declares, for its own vendor.
AnyCredential = OAuthToken | ApiKey | KeyAndSecret


class Style(StrEnum):
    """How the vendor's API answers a command; decides which processor runs the adapter."""

    SYNC = "sync"  # the answer carries the new state
    ASYNC = "async"  # 202 now, the new state arrives later on a webhook
    OPTIMISTIC = "optimistic"  # 202 now, no push: trust it and answer from the expected state
    POLLING = "polling"  # 202 now, no push: read the state until it converges


@dataclass(frozen=True, slots=True)
class Device:
    """One bulb as the vendor lists it. ``id`` is the vendor's id (any string)."""

    id: str
    name: str
    features: Features
    manufacturer: str = "Unknown"
    model: str = "Light"
    description: str = "Light bulb"


@dataclass(frozen=True, slots=True)
class Accepted:
    """The vendor took the command but did not say the result (async, optimistic, polling)."""

    reference: str | None = None  # the vendor's request id, when it gives one


@dataclass(frozen=True, slots=True)
class Notification:
    """A verified vendor push: a device's new state, and the request it answers if known."""

    device_id: str
    state: BulbState
    reference: str | None = None
    user_id: str | None = None  # the vendor account it belongs to, when the push says
    #: When the vendor sent it (seconds since the epoch), read from what the vendor vouches
    #: for (a signed header, the body). None: the push cannot be shown fresh and is refused.
    sent_at: float | None = None


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """The vendor's HTTP request as the notifications function received it."""

    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    query: Mapping[str, str] = field(default_factory=dict)
    path: str = "/"


@dataclass(frozen=True, slots=True)
class AdapterContext:
    """What an adapter factory gets: settings and a way to read secrets.

    ``setting("BASE_URL")`` reads ``<VENDOR>_BASE_URL`` (e.g. ``LIFX_BASE_URL``) so tests and the
    local stack can point an adapter at a simulator; ``secret(name)`` reads Secrets Manager
    through Powertools parameters (cached) in Lambda, and the environment locally.
    """

    vendor: str
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    secrets: Callable[[str], str] | None = None
    timeout_seconds: float = 3.0

    def setting(self, name: str, default: str | None = None) -> str | None:
        prefix = self.vendor.upper().replace("-", "_")
        return self.environ.get(f"{prefix}_{name}", default)

    def secret(self, name: str) -> str:
        if self.secrets is None:
            raise KeyError(f"no secret source configured for {name}")
        return self.secrets(name)


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
        self, credential: AnyCredential, device_id: str, change: Change
    ) -> BulbState | Accepted:
        """Apply ``change``: a ``BulbState`` when the vendor says the result (sync), else
        ``Accepted``."""
        ...


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
