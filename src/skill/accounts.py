"""A skill user's vendor connections: connect (checked, then kept in the vault), disconnect
(everything of that vendor goes), and delete a whole user (support, data-deletion requests).

Used by the linking pages, the local stack and the ``skill users`` command.

``Accounts(credentials, adapters, pending, outbox, tokens)`` is built over the deployment's
stores; ``connect(user_id, vendor, credential)`` checks the credential with the vendor before
keeping it, and ``disconnect(user_id, vendor)`` removes the credential, the bulbs' owners and
pending items, and tells Alexa (DeleteReport). ``tests/unit/test_accounts.py`` runs them over the
in-memory stores.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from skill.alexa import events
from skill.credentials import Credentials
from skill.discovery import MAX_ENDPOINTS
from skill.errors import SkillError
from skill.plugins import AdapterRegistry, AnyCredential, WebhookRegistrar
from skill.ports import Outbox, StateStore, TokenStore
from skill.records import DeviceOwner, OutboxMessage, StoredCredential, SweepAccount

logger = logging.getLogger(__name__)


@dataclass
class Disconnected:
    """What a disconnect removed."""

    vendor: str
    endpoints: list[str] = field(default_factory=list)
    pending_deleted: int = 0
    webhook_deregistered: bool = False


class Accounts:
    def __init__(
        self,
        credentials: Credentials,
        adapters: AdapterRegistry,
        pending: StateStore,
        outbox: Outbox,
        tokens: TokenStore | None = None,
        *,
        webhook_url_for: Callable[[str], str | None] | None = None,
    ) -> None:
        self.credentials = credentials
        self.adapters = adapters
        self.pending = pending
        self.outbox = outbox
        self.tokens = tokens
        self.webhook_url_for = webhook_url_for

    def connect(self, user_id: str, vendor: str, credential: AnyCredential) -> StoredCredential:
        """Check the credential with one real call to its vendor, then keep it (encrypted).
        The vendor's refusal (``InvalidAuthorizationCredential``...) propagates and nothing
        is stored."""
        adapter = self.adapters.get(vendor)
        if credential.kind != adapter.credential_kind:
            raise ValueError(f"{vendor} takes a {adapter.credential_kind} credential")
        account_id = adapter.identify_user(credential)
        try:
            previous = self.credentials.vault.get(user_id, vendor)
        except Exception:  # noqa: BLE001 - no readable previous credential: stored as new
            previous = None
        stored = self.credentials.vault.put(
            StoredCredential(
                user_id=user_id,
                vendor=vendor,
                credential=credential,
                account_id=account_id,
                version=previous.version if previous else 0,
            )
        )
        self.credentials.forget(user_id, vendor)
        return stored

    def read_by_sweep(self, user_id: str, vendor: str, now: float) -> None:
        """The user kept another push URL at a one-webhook vendor: the sweep reads the account
        from now on, as it does for vendors that do not push."""
        stored = self.credentials.stored(user_id, vendor)
        self.credentials.vault.put(stored.model_copy(update={"push": False}))
        self.credentials.forget(user_id, vendor)
        self.pending.add_sweep_account(
            SweepAccount(vendor=vendor, user_id=user_id, last_activity=now)
        )

    def disconnect(self, user_id: str, vendor: str) -> Disconnected:
        """Delete the user's connection to ``vendor``: its webhook (when no other skill user
        owns those bulbs), pending commands, owner records and the credential; Alexa gets a
        ``DeleteReport`` for the bulbs."""
        result = self._remove(user_id, vendor)
        self._report_deleted(user_id, result.endpoints)
        logger.info(
            "user %s disconnected %s: %d bulbs, %d pending commands",
            user_id,
            vendor,
            len(result.endpoints),
            result.pending_deleted,
        )
        return result

    def delete_user(self, user_id: str) -> list[Disconnected]:
        """Everything of one user: every vendor connection (as ``disconnect``), owner records
        of vendors no longer installed, and the LWA tokens - at once when Alexa has no bulbs of
        the user to forget, else by the dispatcher right after the DeleteReport, which needs
        them to be sent."""
        done = [
            self._remove(user_id, vendor) for vendor in self.credentials.vault.vendors_of(user_id)
        ]
        endpoints = sorted({e for d in done for e in d.endpoints})
        for owner in self.pending.owners_of_user(user_id):  # vendors no longer installed too
            self.pending.delete_owner(owner.endpoint_id, user_id)
            self.pending.delete_sweep_account(owner.vendor, user_id)
        forget_later = self.tokens is not None and bool(endpoints)
        self._report_deleted(user_id, endpoints, forget_user_after=forget_later)
        if self.tokens is not None and not forget_later:
            self.tokens.delete(user_id)
        logger.info("user %s deleted: %d vendors, %d bulbs", user_id, len(done), len(endpoints))
        return done

    def _remove(self, user_id: str, vendor: str) -> Disconnected:
        result = Disconnected(vendor)
        owned = self.pending.owners_of_user(user_id, vendor)
        result.endpoints = sorted(o.endpoint_id for o in owned)
        result.webhook_deregistered = self._deregister_webhook(user_id, vendor, owned)
        for owner in owned:
            for command in self.pending.pending_for(owner.endpoint_id):
                if command.user_id == user_id and self.pending.delete_pending(
                    owner.endpoint_id, command.message_id
                ):
                    result.pending_deleted += 1
            self.pending.delete_owner(owner.endpoint_id, user_id)
        self.pending.delete_sweep_account(vendor, user_id)
        self.credentials.vault.delete(user_id, vendor)
        self.credentials.forget(user_id, vendor)
        return result

    def _report_deleted(
        self, user_id: str, endpoints: list[str], *, forget_user_after: bool = False
    ) -> None:
        """``DeleteReport``s for the bulbs (Alexa takes at most 300 per report; a user never has
        more, since Discover answers at most 300). Only the last one may carry the flag."""
        if not endpoints:
            return
        starts = range(0, len(endpoints), MAX_ENDPOINTS)
        self.outbox.put(
            [
                OutboxMessage(
                    user_id=user_id,
                    kind="DeleteReport",
                    message=events.delete_report(endpoints[i : i + MAX_ENDPOINTS]),
                    forget_user_after=forget_user_after and i == starts[-1],
                )
                for i in starts
            ]
        )

    def _deregister_webhook(self, user_id: str, vendor: str, owned: list[DeviceOwner]) -> bool:
        """Best effort: a vendor that cannot be reached keeps pushing to a URL that now
        ignores it (no owner records), which is harmless."""
        try:
            adapter = self.adapters.get(vendor)
        except SkillError:
            return False
        if not isinstance(adapter, WebhookRegistrar) or self.webhook_url_for is None:
            return False
        for owner in owned:  # another skill user on the same vendor account still needs it
            if any(o.user_id != user_id for o in self.pending.owners_of(owner.endpoint_id)):
                return False
        try:
            base_url = self.webhook_url_for(vendor)
            if not base_url:
                return False
            adapter.deregister_webhook(self.credentials.for_adapter(user_id, adapter), base_url)
        except Exception as error:  # noqa: BLE001 - a vendor fault must not block disconnecting
            logger.warning(
                "%s webhook not deregistered (%s)",
                vendor,
                getattr(error, "alexa_type", type(error).__name__),
            )
            return False
        return True
