"""The small interfaces the core needs from the outside world; AWS- and HTTP-backed versions
live in ``skill.stores``, ``skill.lwa`` and ``skill.gateway``, fakes in the tests."""

from __future__ import annotations

from typing import Protocol

from skill.plugins import Style
from skill.records import LwaTokens, QueuedDirective, TokenRecord


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

    def delete(self, user_id: str) -> None: ...


class DirectiveQueue(Protocol):
    def enqueue(self, style: Style, directive: QueuedDirective) -> None:
        """Store the directive durably on the queue of ``style``'s processor, or raise."""
        ...
