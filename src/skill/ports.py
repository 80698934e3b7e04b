"""The small interfaces the core needs from the outside world; AWS- and HTTP-backed versions
live in ``skill.stores``, ``skill.lwa`` and ``skill.gateway``, fakes in the tests."""

from __future__ import annotations

from typing import Protocol

from skill.plugins import Style
from skill.records import (
    DeviceOwner,
    LwaTokens,
    OutboxMessage,
    PendingCommand,
    PollTicket,
    QueuedDirective,
    TokenRecord,
)


class LwaError(Exception):
    """Login with Amazon refused or failed. ``invalid_grant``: the code or refresh token is dead
    (the user must re-link); ``transient``: worth retrying (timeout, 5xx)."""

    def __init__(self, message: str, *, invalid_grant: bool = False, transient: bool = False):
        super().__init__(message)
        self.invalid_grant = invalid_grant
        self.transient = transient


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


class PendingStore(Protocol):
    """Pending commands, last known states and device owners (one DynamoDB table)."""

    def put_pending(self, command: PendingCommand) -> None: ...

    def pending_for(self, endpoint_id: str) -> list[PendingCommand]: ...

    def get_pending(self, endpoint_id: str, message_id: str) -> PendingCommand | None: ...

    def delete_pending(self, endpoint_id: str, message_id: str) -> bool:
        """Delete it; False if it was already gone (someone else answered it)."""
        ...

    def put_owner(self, owner: DeviceOwner) -> None: ...

    def add_owners(self, owners: list[DeviceOwner]) -> int:
        """Record the owners of bulbs not recorded yet (known ones keep their state); how many
        were new."""
        ...

    def owner_of(self, endpoint_id: str) -> DeviceOwner | None: ...

    def owners(self) -> list[DeviceOwner]: ...

    def delete_owner(self, endpoint_id: str) -> None: ...
