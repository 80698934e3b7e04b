"""A skill user's credential for one vendor: from the vault, cached briefly, renewed before it
expires. The only way the core hands an adapter a credential, so a credential can reach no
adapter but its own vendor's.

Example, with the test suite's in-memory vault and vendor::

    >>> from tests.fakes import FakeAdapter, MemoryVault
    >>> vault, adapter = MemoryVault(), FakeAdapter(name="lifx")
    >>> vault.connect("user-1", "lifx", adapter.credential)
    >>> credentials = Credentials(vault)
    >>> credential = credentials.for_adapter("user-1", adapter)  # the user's, for adapter.name only
    >>> adapter.read_state(credential, "white-1").brightness
    60
    >>> credentials.for_adapter("user-2", adapter)
    Traceback (most recent call last):
    ...
    skill.errors.NoSuchEndpoint: the user has not connected lifx
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from cachetools import TTLCache

from skill.errors import (
    EndpointUnreachable,
    InvalidAuthorizationCredential,
    NoSuchEndpoint,
    SkillError,
)
from skill.plugins import Adapter, AnyCredential, CredentialRefresher, OAuthToken
from skill.ports import CredentialVault, VaultError
from skill.records import StoredCredential

logger = logging.getLogger(__name__)

#: How long a decrypted credential is kept in memory (saves a DynamoDB read and a KMS call per
#: vendor call; a disconnect is seen by every container within this time).
CACHE_SECONDS = 60.0
#: Renew an OAuth credential this long before it expires.
REFRESH_MARGIN_SECONDS = 300.0
#: How long one refresher holds the right to refresh (longer than one vendor token call).
LEASE_SECONDS = 15.0
#: How long a container trusts its list of a user's connected vendors for a control directive
#: (Discover always reads it afresh, so a vendor just connected is found at once).
CONNECTED_CACHE_SECONDS = 10.0


class CredentialUnavailable(EndpointUnreachable):
    """The vault could not be read: the vendor cannot be called on the user's behalf now."""


class Credentials:
    def __init__(
        self,
        vault: CredentialVault,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        cache_seconds: float = CACHE_SECONDS,
        refresh_margin: float = REFRESH_MARGIN_SECONDS,
    ) -> None:
        self.vault = vault
        self._clock = clock
        self._sleep = sleep
        self._margin = refresh_margin
        self._cache: TTLCache[tuple[str, str], StoredCredential] = TTLCache(
            maxsize=4096, ttl=cache_seconds, timer=clock
        )
        self._connected: TTLCache[str, list[str]] = TTLCache(
            maxsize=4096, ttl=min(cache_seconds, CONNECTED_CACHE_SECONDS), timer=clock
        )
        self._lock = threading.Lock()

    def connected(self, user_id: str, *, cached: bool = False) -> list[str]:
        """The vendors the user has connected (``VaultError`` when the vault cannot say);
        ``cached``: a list this container read in the last few seconds will do."""
        if cached:
            with self._lock:
                known = self._connected.get(user_id)
            if known is not None:
                return known
        vendors = self.vault.vendors_of(user_id)
        with self._lock:
            self._connected[user_id] = vendors
        return vendors

    def for_adapter(self, user_id: str, adapter: Adapter) -> AnyCredential:
        """The user's credential for ``adapter``'s vendor, fresh enough to use.

        ``NoSuchEndpoint``: the user has not connected this vendor; ``CredentialUnavailable``
        (ENDPOINT_UNREACHABLE): the vault cannot be read; ``InvalidAuthorizationCredential``:
        the credential is dead (its refresh was refused).
        """
        stored = self.stored(user_id, adapter.name)
        if stored.credential.kind != adapter.credential_kind:
            # Never hand a credential of another shape to an adapter: it is not this vendor's.
            raise InvalidAuthorizationCredential(
                f"the stored credential is not a {adapter.credential_kind} credential"
            )
        credential = stored.credential
        if isinstance(credential, OAuthToken) and credential.expires_within(
            self._margin, self._clock()
        ):
            credential = self._renew(stored, adapter)
        return credential

    def stored(self, user_id: str, vendor: str) -> StoredCredential:
        key = (user_id, vendor)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        try:
            stored = self.vault.get(user_id, vendor)
        except VaultError as error:
            raise CredentialUnavailable(str(error)) from None
        if stored is None:
            raise NoSuchEndpoint(f"the user has not connected {vendor}")
        with self._lock:
            self._cache[key] = stored
        return stored

    def forget(self, user_id: str, vendor: str) -> None:
        with self._lock:
            self._cache.pop((user_id, vendor), None)
            self._connected.pop(user_id, None)

    def _renew(self, stored: StoredCredential, adapter: Adapter) -> AnyCredential:
        """One refresh per credential at a time: whoever takes the lease calls the vendor's
        token endpoint and writes over the version it read; the others wait for that write."""
        credential = stored.credential
        assert isinstance(credential, OAuthToken)
        now = self._clock()
        expired = credential.expires_within(0, now)
        if not isinstance(adapter, CredentialRefresher) or credential.refresh_token is None:
            if expired:
                raise InvalidAuthorizationCredential(f"the {adapter.name} credential has expired")
            return credential
        try:
            leased = self.vault.take_lease(
                stored.user_id, stored.vendor, stored.version, now + LEASE_SECONDS, now
            )
        except Exception as error:  # noqa: BLE001 - any store failure is CredentialUnavailable
            raise CredentialUnavailable(
                f"the vault could not be written ({type(error).__name__})"
            ) from None
        if not leased:
            return self._await_refresh(stored, adapter.name, expired)
        try:
            fresh = adapter.refresh_credential(credential)
        except InvalidAuthorizationCredential:
            logger.warning(
                "%s refused to renew a credential; the user must connect it again", adapter.name
            )
            raise
        except SkillError:
            if expired:
                raise
            logger.info("%s: renewal failed; the current credential is still valid", adapter.name)
            return credential
        try:
            renewed = self.vault.put(
                stored.model_copy(update={"credential": fresh}), if_version=stored.version
            )
        except VaultError as error:
            # The vendor issued the new token: use it for this call even when it could not be
            # kept (a later call renews again, its refresh token permitting).
            logger.warning("a renewed %s credential could not be stored (%s)", adapter.name, error)
            return fresh
        with self._lock:
            self._cache[(stored.user_id, stored.vendor)] = renewed
        return fresh

    def _await_refresh(self, stored: StoredCredential, vendor: str, expired: bool) -> AnyCredential:
        if not expired:
            return stored.credential  # still valid: someone else is renewing it
        for _ in range(12):  # up to 3 s: the deferred answer has 8 in all
            self._sleep(0.25)
            self.forget(stored.user_id, vendor)
            current = self.stored(stored.user_id, vendor)
            if current.version != stored.version:
                return current.credential
        raise CredentialUnavailable(f"the {vendor} credential is being renewed; try again")
