"""The small interfaces the core needs from the outside world, and the types they answer with.

AWS- and HTTP-backed versions live in ``skill.aws`` (wired by ``skill.composition``), fakes in
the tests.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

from skill.plugins import Style
from skill.records import (
    DeviceOwner,
    LwaTokens,
    OutboxMessage,
    PendingCommand,
    PollTicket,
    QueuedDirective,
    StoredCredential,
    SweepAccount,
    TokenRecord,
)


class LwaError(Exception):
    """Login with Amazon refused or failed. ``invalid_grant``: the code or refresh token is dead
    (the user must re-link); ``transient``: worth retrying (timeout, 5xx)."""

    def __init__(self, message: str, *, invalid_grant: bool = False, transient: bool = False):
        super().__init__(message)
        self.invalid_grant = invalid_grant
        self.transient = transient


class VaultError(Exception):
    """The credentials vault could not be read or written. ``conflict``: a conditional write
    lost to another writer (someone else refreshed the credential)."""

    def __init__(self, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.conflict = conflict


class CredentialVault(Protocol):
    """Vendor credentials per (skill user, vendor), encrypted; see ``skill.aws.stores``."""

    def get(self, user_id: str, vendor: str) -> StoredCredential | None:
        """Decrypted, or None when the user has not connected the vendor; ``VaultError``
        when the vault cannot be read."""
        ...

    def vendors_of(self, user_id: str) -> list[str]: ...

    def put(self, stored: StoredCredential, *, if_version: int | None = None) -> StoredCredential:
        """Store (encrypted); with ``if_version``, only over that version (else
        ``VaultError(conflict=True)``). Returns what is stored now (its new version)."""
        ...

    def take_lease(self, user_id: str, vendor: str, version: int, until: float, now: float) -> bool:
        """The right to refresh the credential until ``until``, one holder at a time."""
        ...

    def delete(self, user_id: str, vendor: str) -> None: ...

    def expire_user(self, user_id: str, at: float) -> int:
        """Let every credential of the user expire at ``at`` (a grace period)."""
        ...

    def restore_user(self, user_id: str) -> None:
        """The user linked the skill again: end the grace period."""
        ...


class IdentityError(Exception):
    """The token Alexa sent does not identify a skill user (missing, malformed, expired,
    signed by someone else, for another client)."""


class Identity(Protocol):
    """Who a directive is for: the skill user its bearer token identifies."""

    def user_of(self, token: str | None) -> str:
        """The user id, or ``IdentityError``."""
        ...


class TokenExchanger(Protocol):
    def exchange(self, code: str) -> LwaTokens: ...

    def refresh(self, refresh_token: str) -> LwaTokens: ...


class TokenStore(Protocol):
    def get(self, user_id: str) -> TokenRecord | None: ...

    def put(self, record: TokenRecord) -> None: ...

    def delete(self, user_id: str, *, if_unchanged: TokenRecord | None = None) -> bool:
        """Delete the user's tokens; with ``if_unchanged``, only while the stored access
        token, refresh token and grant code are still that record's (a re-link that landed
        meanwhile is kept). False when nothing was deleted for that reason."""
        ...


class DirectiveQueue(Protocol):
    def enqueue(self, style: Style, directive: QueuedDirective) -> None:
        """Store the directive durably on the queue of ``style``'s processor, or raise."""
        ...


class Outbox(Protocol):
    def put(self, messages: list[OutboxMessage]) -> None:
        """Store events for the dispatcher durably, or raise."""
        ...


class PollQueue(Protocol):
    def schedule(self, ticket: PollTicket, delay_seconds: int) -> None:
        """Put a poll ticket back on the queue, visible after ``delay_seconds``."""
        ...


class StateStore(Protocol):
    """Pending commands, last known states and device owners (one DynamoDB table)."""

    def put_pending(self, command: PendingCommand) -> None: ...

    def pending_for(self, endpoint_id: str) -> list[PendingCommand]: ...

    def get_pending(self, endpoint_id: str, message_id: str) -> PendingCommand | None: ...

    def delete_pending(self, endpoint_id: str, message_id: str) -> bool:
        """Delete it; False if it was already gone (someone else answered it)."""
        ...

    def put_owner(self, owner: DeviceOwner) -> None: ...

    def put_owners(self, owners: list[DeviceOwner]) -> None:
        """Write each record over the one stored (the sweep's changed bulbs, in one call)."""
        ...

    def add_owners(self, owners: list[DeviceOwner]) -> int:
        """Record the (bulb, user) owners not recorded yet (known ones keep their state); how
        many were new."""
        ...

    def owner_of(self, endpoint_id: str, user_id: str) -> DeviceOwner | None: ...

    def owners_of(self, endpoint_id: str) -> list[DeviceOwner]:
        """Every skill user who owns the bulb."""
        ...

    def owners(self) -> list[DeviceOwner]:
        """Every owner of every bulb: a scan, for operators' tools only."""
        ...

    def owners_of_user(self, user_id: str, vendor: str | None = None) -> list[DeviceOwner]:
        """The user's bulbs (of one vendor, when given), from the index by user."""
        ...

    def delete_owner(self, endpoint_id: str, user_id: str) -> None: ...

    def put_sweep_account(self, account: SweepAccount, *, swept: bool = True) -> None:
        """Record the account's schedule; ``swept=False`` keeps the record out of every slot
        (a vendor that pushes, a user who unlinked the skill)."""
        ...

    def reschedule_sweep_account(self, account: SweepAccount, *, seen: SweepAccount) -> bool:
        """Rewrite a swept account's schedule as the sweep decided from ``seen`` (the schedule
        it read), unless it changed since: a command's activity or a disconnect landing during
        the read wins. Whether it was written."""
        ...

    def add_sweep_account(self, account: SweepAccount) -> bool:
        """Schedule the account unless it is swept already (a known schedule is kept); whether
        it was (re)scheduled."""
        ...

    def due_accounts(self, slot: str) -> list[SweepAccount]:
        """The swept accounts in ``slot`` (``skill.cadence.due_slots``)."""
        ...

    def record_activity(self, vendor: str, user_id: str, now: float) -> None:
        """A command for the account: read it each minute again (only if it is swept)."""
        ...

    def delete_sweep_account(self, vendor: str, user_id: str) -> None: ...


class SweepQueue(Protocol):
    def send(self, accounts: list[SweepAccount]) -> None:
        """One message per account for the sweep's readers, or raise."""
        ...


# -- the Alexa event gateway (``skill.aws.gateway`` is the HTTP client) -------------------------


class Verdict(enum.Enum):
    """What the dispatcher should do after the gateway answered."""

    ACCEPTED = "accepted"  # 2xx (202): done
    REFRESH_TOKEN = "refresh_token"  # 401: the access token is expired or revoked
    FORGET_USER = "forget_user"  # 403 SKILL_DISABLED, 404 ACCOUNT/SKILL_NOT_FOUND
    CONFIG_FAULT = "config_fault"  # 403 SKILL_NEVER_ENABLED / INSUFFICIENT_PERMISSION
    TOO_LARGE = "too_large"  # 413
    RETRY = "retry"  # 429, 5xx: try again later
    REJECTED = "rejected"  # 400 and any other answer: the event itself is wrong


#: 403/404 codes after which the user's tokens are worthless (the user disabled the skill, or
#: Alexa no longer knows the account or skill).
FORGET_CODES = frozenset(
    {"SKILL_DISABLED_EXCEPTION", "ACCOUNT_NOT_FOUND_EXCEPTION", "SKILL_NOT_FOUND_EXCEPTION"}
)
#: 403 codes that mean the skill is misconfigured (wrong region or no "Send Alexa Events"
#: permission), not that this user did anything.
CONFIG_FAULT_CODES = frozenset(
    {"SKILL_NEVER_ENABLED_EXCEPTION", "INSUFFICIENT_PERMISSION_EXCEPTION"}
)


def classify(status: int, code: str | None) -> Verdict:
    """The verdict for a gateway answer.

    Only the documented codes delete a user's tokens: a 404 without ``ACCOUNT_NOT_FOUND`` or
    ``SKILL_NOT_FOUND`` (a wrong ``GATEWAY_URL``, a proxy's page) is ``REJECTED``, not a reason
    to forget anyone.
    """
    if 200 <= status < 300:
        return Verdict.ACCEPTED
    if status == 401:
        return Verdict.REFRESH_TOKEN
    if status in (403, 404) and code in FORGET_CODES:
        return Verdict.FORGET_USER
    if status == 403 and code in CONFIG_FAULT_CODES:
        return Verdict.CONFIG_FAULT
    if status == 413:
        return Verdict.TOO_LARGE
    if status == 429 or status >= 500:
        return Verdict.RETRY
    return Verdict.REJECTED


class GatewayAnswer(NamedTuple):
    """The gateway's status and, for errors, its ``payload.code`` and ``payload.description``."""

    status: int
    code: str | None = None
    description: str | None = None
    retry_after: float | None = None  # seconds, from a Retry-After header

    @property
    def verdict(self) -> Verdict:
        return classify(self.status, self.code)

    def describe(self) -> str:
        """``"400 INVALID_REQUEST_EXCEPTION: <description>"``, for logs and dead letters."""
        text = str(self.status)
        if self.code:
            text += f" {self.code}"
        if self.description:
            text += f": {self.description}"
        return text


class GatewayUnreachable(Exception):
    """No answer: connection refused, DNS, TLS, or the timeout passed. Worth retrying."""


class EventGateway(Protocol):
    def send(
        self, url: str, message: dict[str, Any], token: str, *, timeout: float
    ) -> GatewayAnswer:
        """POST ``message`` with ``Authorization: Bearer <token>``; raise
        ``GatewayUnreachable`` when there is no answer."""
        ...


class DeadLetters(Protocol):
    def put(self, body: str, attributes: Mapping[str, str]) -> None:
        """Keep ``body`` (an outbox message's JSON) with why it was not delivered, or raise."""
        ...


class Meter(Protocol):
    def count(self, name: str, dimensions: Mapping[str, str] | None = None) -> None: ...

    def milliseconds(self, name: str, value: float) -> None: ...


class NullMeter:
    def count(self, name: str, dimensions: Mapping[str, str] | None = None) -> None:
        pass

    def milliseconds(self, name: str, value: float) -> None:
        pass
