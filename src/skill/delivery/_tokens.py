"""Users' Alexa event-gateway access tokens: read from the token store, obtained from Login with
Amazon when needed, and kept in memory across warm invocations.

One LWA call per user per token lifetime: a cached token is used until ``margin`` seconds
before it expires; then the store is read again first (another container may have refreshed
already, or the user re-linked), and only if the stored token is also about to expire is LWA
asked. A stored grant code that was never redeemed is exchanged once.

Safe to share between threads (the dispatcher delivers a batch's events concurrently): the
tokens of one user are loaded by one thread at a time, and the others then find them cached,
so one batch costs one LWA call per user, and a grant code is never redeemed twice at once.

Example, with the test suite's in-memory store and LWA::

    >>> from skill.records import TokenRecord
    >>> from tests.fakes import FakeLwa, MemoryTokenStore
    >>> store, lwa = MemoryTokenStore(), FakeLwa()
    >>> store.put(TokenRecord(user_id="user-1", grant_code="code-1"))  # AcceptGrant, LWA down
    >>> cache = TokenCache(store, lwa, clock=lambda: lwa.now)
    >>> cache.get("user-2") is None     # the user never linked, or was forgotten
    True
    >>> tokens = cache.get("user-1")    # the grant code is exchanged once, then cached
    >>> tokens.access_token, cache.get("user-1").access_token, lwa.exchanged
    ('at-code-1', 'at-code-1', ['code-1'])
    >>> tokens = cache.renew("user-1", rejected=tokens.access_token)   # after a 401
    >>> tokens = cache.renew("user-1", rejected=tokens.access_token, force_refresh=True)
    >>> tokens.access_token, len(lwa.refreshed)
    ('at-r2', 2)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache

from skill.ports import LwaError, Meter, NullMeter, TokenExchanger, TokenStore
from skill.records import LwaTokens, TokenRecord

logger = logging.getLogger("skill.delivery")

#: Refresh this long before the access token expires, so it never expires in flight.
REFRESH_MARGIN_SECONDS = 60.0
#: A token this close to expiry is not used even when LWA cannot give a new one.
_LAST_RESORT_SECONDS = 5.0


class RelinkRequired(Exception):
    """LWA answered ``invalid_grant``: the user's tokens were deleted; only re-linking the skill
    in the Alexa app brings them back."""


class TokensUnavailable(Exception):
    """LWA failed (timeout, 5xx, or a refusal that is not ``invalid_grant``): try again later."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True, slots=True)
class UserTokens:
    """What sending needs: the access token and which regional gateway the user belongs to."""

    user_id: str
    region: str
    access_token: str = field(repr=False)
    expires_at: float


class TokenCache:
    """Access tokens per user id, cached in process (LRU, ``max_users`` entries)."""

    def __init__(
        self,
        store: TokenStore,
        lwa: TokenExchanger,
        *,
        clock: Callable[[], float] = time.time,
        meter: Meter | None = None,
        margin: float = REFRESH_MARGIN_SECONDS,
        max_users: int = 10_000,
        on_unlinked: Callable[[str], None] | None = None,
    ) -> None:
        #: Called with the user id once LWA or the gateway says the user unlinked the skill:
        #: their vendor credentials start their grace period (``skill.ports.CredentialVault``).
        self._on_unlinked = on_unlinked
        self._store = store
        self._lwa = lwa
        self._clock = clock
        self._meter = meter or NullMeter()
        self._margin = margin
        self._cache: LRUCache[str, UserTokens] = LRUCache(maxsize=max_users)
        self._guard = threading.Lock()  # the cache and the table of users being loaded
        self._loading: dict[str, list[Any]] = {}  # user id -> [lock, threads holding or waiting]

    def get(self, user_id: str) -> UserTokens | None:
        """The user's access token, valid for at least ``margin`` seconds; None when the user
        has no tokens. Raises ``RelinkRequired`` or ``TokensUnavailable``."""
        cached = self._cached(user_id)
        if cached is not None:
            return cached
        with self._one_loader(user_id):
            cached = self._cached(user_id)  # loaded by another thread meanwhile
            if cached is not None:
                return cached
            return self._load(user_id, rejected=None)

    def renew(
        self, user_id: str, rejected: str, *, force_refresh: bool = False
    ) -> UserTokens | None:
        """A different access token after the gateway rejected ``rejected`` (401): the stored
        one if the store has a newer one, else a refreshed one. ``force_refresh``: refreshed by
        LWA whatever the store holds (the stored token was refused too)."""
        with self._one_loader(user_id):
            if not force_refresh:
                cached = self._cached(user_id)  # renewed by another thread meanwhile
                if cached is not None and cached.access_token != rejected:
                    return cached
            self._uncache(user_id)
            return self._load(user_id, rejected=rejected, force_refresh=force_refresh)

    def forget(self, user_id: str) -> None:
        """Delete the user's tokens (skill disabled, account gone): nothing is sent for them
        until they link the skill again."""
        self._uncache(user_id)
        self._store.delete(user_id)
        self._unlinked(user_id)

    def _unlinked(self, user_id: str) -> None:
        if self._on_unlinked is None:
            return
        try:
            self._on_unlinked(user_id)
        except Exception as error:  # noqa: BLE001 - the tokens are gone already; the TTL is a clean-up
            logger.warning(
                "vendor credentials of user %s not marked for deletion (%s)",
                user_id,
                type(error).__name__,
            )

    # -- internals ---------------------------------------------------------------------------

    def _fresh(self, expires_at: float) -> bool:
        return expires_at - self._margin > self._clock()

    def _cached(self, user_id: str) -> UserTokens | None:
        with self._guard:
            cached = self._cache.get(user_id)  # a hit is the most recently used
            if cached is None or not self._fresh(cached.expires_at):
                return None
            return cached

    def _uncache(self, user_id: str) -> None:
        with self._guard:
            self._cache.pop(user_id, None)

    @contextmanager
    def _one_loader(self, user_id: str) -> Iterator[None]:
        """One thread at a time loads (reads, refreshes, redeems) a user's tokens."""
        with self._guard:
            entry = self._loading.setdefault(user_id, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._loading[user_id]

    def _load(
        self, user_id: str, *, rejected: str | None, force_refresh: bool = False
    ) -> UserTokens | None:
        record = self._store.get(user_id)
        for _ in range(2):  # a second pass only when the store changed under a dead grant
            if record is None:
                self._uncache(user_id)
                return None
            usable = (
                not force_refresh
                and record.access_token is not None
                and record.access_token != rejected
            )
            if usable and self._fresh(record.expires_at):
                return self._remember(record)
            try:
                return self._obtain(record, usable=usable)
            except _GrantDead:
                # delete only what LWA refused: a re-link or a refresh elsewhere that landed
                # meanwhile is read back and used instead
                if not self._store.delete(user_id, if_unchanged=record):
                    record = self._store.get(user_id)
                    continue
                self._uncache(user_id)
                self._unlinked(user_id)
                logger.warning(
                    "LWA answered invalid_grant for user %s: tokens deleted, "
                    "the user must re-link the skill",
                    user_id,
                )
                raise RelinkRequired(f"user {user_id} must re-link the skill") from None
        raise RelinkRequired(f"user {user_id} must re-link the skill")

    def _obtain(self, record: TokenRecord, *, usable: bool) -> UserTokens | None:
        """New tokens from LWA: refresh when there is a refresh token, else redeem the grant
        code; None when the record holds neither."""
        call: Callable[[str], LwaTokens]
        if record.refresh_token:
            kind, call, secret = "refresh", self._lwa.refresh, record.refresh_token
        elif record.grant_code and not record.access_token:
            kind, call, secret = "exchange", self._lwa.exchange, record.grant_code
        else:
            return None
        self._meter.count("LwaCalls")
        try:
            tokens = call(secret)
        except LwaError as error:
            if error.invalid_grant:
                raise _GrantDead() from None
            return self._without_lwa(record, kind, error, usable=usable)
        return self._remember(self._stored(record, tokens))

    def _without_lwa(
        self, record: TokenRecord, kind: str, error: LwaError, *, usable: bool
    ) -> UserTokens:
        current = record.access_token if usable else None
        if current and record.expires_at - _LAST_RESORT_SECONDS > self._clock():
            # only inside the refresh margin: still good for this event (not cached, so the
            # next event asks LWA again)
            logger.warning(
                "LWA %s failed (%s); using the current token until it expires", kind, error
            )
            return UserTokens(record.user_id, record.region, current, record.expires_at)
        if not error.transient:
            logger.error(
                "configuration fault: LWA refused the %s for user %s (%s); check the skill's "
                "client id and secret",
                kind,
                record.user_id,
                error,
            )
        raise TokensUnavailable(f"LWA {kind} failed: {error}", transient=error.transient)

    def _stored(self, record: TokenRecord, tokens: LwaTokens) -> TokenRecord:
        fresh = TokenRecord(
            user_id=record.user_id,
            region=record.region,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token or record.refresh_token,
            expires_at=tokens.expires_at,
        )
        try:
            self._store.put(fresh)
        except Exception as exc:  # noqa: BLE001 - the tokens work; the next refresh stores them again
            logger.warning(
                "could not store new tokens for user %s: %s", record.user_id, type(exc).__name__
            )
        return fresh

    def _remember(self, record: TokenRecord) -> UserTokens:
        tokens = UserTokens(
            record.user_id, record.region, record.access_token or "", record.expires_at
        )
        with self._guard:
            self._cache[record.user_id] = tokens  # the least recently used user goes
        return tokens


class _GrantDead(Exception):
    pass
