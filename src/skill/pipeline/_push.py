"""Vendor pushes (async style): match to a pending command -> Response; else ChangeReport.

A push changes something only when it is genuine, fresh, new and tied to a skill user:

- **Genuine.** The notifications function checks the vendor's path secret; the adapter's
  ``parse_notification`` checks the vendor's own signature or key (``InvalidNotification``:
  4xx, nothing processed).
- **Fresh.** ``Notification.sent_at`` is the push's own timestamp, read by the adapter from what
  the vendor vouches for. A push older than ``FRESHNESS_WINDOW_SECONDS``, more than
  ``MAX_CLOCK_SKEW_SECONDS`` in the future, or without a timestamp at all is refused
  (``InvalidNotification`` 401, counted ``PushesStale``): its age cannot be shown, so a replay
  of it could not be told from the original once its de-duplication record is gone.
- **New.** Before anything changes, a record of the push (its digest: a hash of the body, and
  of what the adapter read as its account and timestamp) is put conditionally
  (``PushLog.first_sighting``; in AWS ``skill.aws.stores.DynamoPushLog``). It lives until the
  push's freshness window has closed, after which a replay is stale anyway. A push seen before
  is answered 2xx and changes nothing (counted ``PushesReplayed``): a vendor retrying a push we
  processed must not keep retrying it. Processing that fails gives the record back
  (``release``), so the vendor's retry is processed.
- **Tied to a user.** ``Notification.user_id`` names the vendor account, as the vendor's
  signature or per-account key vouches for it. It reaches only the bulb's owners whose
  ``DeviceOwner.account_id`` is that account: an owner whose account is not recorded is not
  among them. A push that names no account (an adapter that cannot say whose push it is) can
  only answer a pending command it matches, and then changes only that command's user's record.

A genuine push tied to nobody - naming an account that owns no recorded owner of the bulb
(counted ``PushesForeign``), or naming none and matching no pending command (``PushesUntied``) -
is ignored and answered 2xx, not 4xx: the vendor sent it rightly (SwitchBot pushes every device
of an account, including ones nobody discovered, and a disconnected account's pushes may still
arrive), nothing the vendor could retry would change the outcome, and a 4xx would invite
retries, alarms or a disabled webhook for that account. Nothing changes either way; the
counters show it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Protocol

from skill import bulbs
from skill.bulbs import BulbState
from skill.errors import InvalidNotification
from skill.pipeline._answers import Answers
from skill.pipeline._services import PipelineServices
from skill.plugins import Notification, PushAdapter, WebhookRequest, encode_endpoint_id
from skill.records import DeviceOwner, OutboxMessage, PendingCommand

logger = logging.getLogger(__name__)

#: How old a push may be (by its own timestamp) and still change anything.
FRESHNESS_WINDOW_SECONDS = 300
#: How far in the future a push's timestamp may be (the vendor's clock ahead of ours).
MAX_CLOCK_SKEW_SECONDS = 30
#: A de-duplication record outlives the push's freshness window by this much.
DEDUPE_MARGIN_SECONDS = 60


class PushLog(Protocol):
    """Pushes already processed (``skill.aws.stores.DynamoPushLog``; ``MemoryPushLog`` here)."""

    def first_sighting(self, vendor: str, digest: str, expires_at: float, now: float) -> bool:
        """Record the push; False if it is recorded already and the record has not expired."""
        ...

    def release(self, vendor: str, digest: str) -> None:
        """Forget the push (it could not be processed)."""
        ...


class MemoryPushLog:
    """In-memory ``PushLog`` (tests, and a handler built without one): per instance only."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], float] = {}

    def first_sighting(self, vendor: str, digest: str, expires_at: float, now: float) -> bool:
        if len(self.records) > 10_000:
            self.records = {k: v for k, v in self.records.items() if v >= now}
        if self.records.get((vendor, digest), -1.0) >= now:
            return False
        self.records[(vendor, digest)] = expires_at
        return True

    def release(self, vendor: str, digest: str) -> None:
        self.records[(vendor, digest)] = 0.0


@dataclass(frozen=True, slots=True)
class _Match:
    """A pending command a push confirmed: its user, the Response (None when late) and the
    state the skill answered for it."""

    user_id: str
    answer: OutboxMessage | None
    expected: BulbState | None


class PushHandler:
    def __init__(self, services: PipelineServices, seen: PushLog | None = None) -> None:
        self.services = services
        self.answers = Answers(services.clock)
        self.seen: PushLog = seen if seen is not None else MemoryPushLog()
        self._claimed: list[PendingCommand] = []  # taken by the push being handled

    def handle(self, vendor: str, request: WebhookRequest) -> int:
        """Verify and apply one webhook request; returns how many events it produced.

        Raises ``InvalidNotification`` (-> 4xx, nothing processed) when it is not genuine or
        not fresh; a replayed or untied push returns 0 and changes nothing.
        """
        try:
            adapter = self.services.adapters.get(vendor)
        except Exception:  # noqa: BLE001 - any lookup failure is an unknown vendor
            raise InvalidNotification("unknown vendor", status=404) from None
        if not isinstance(adapter, PushAdapter):
            raise InvalidNotification("this vendor does not push", status=404)
        notifications = adapter.parse_notification(request)
        if not notifications:
            return 0
        now = self.services.clock()
        self._check_fresh(notifications, now)
        digest = push_digest(request.body, notifications)
        expires_at = max(n.sent_at or 0.0 for n in notifications) + (
            FRESHNESS_WINDOW_SECONDS + DEDUPE_MARGIN_SECONDS
        )
        if not self.seen.first_sighting(vendor, digest, expires_at, now):
            logger.info("replayed push ignored")
            self.services.count("PushesReplayed", 1)
            return 0
        self._claimed = []
        try:
            messages: list[OutboxMessage] = []
            states: list[DeviceOwner] = []
            for notification in notifications:
                produced, updated = self._plan(vendor, notification)
                messages += produced
                states += updated
            if messages:
                self.services.outbox.put(messages)
            for owner in states:  # once the events are stored: a retry still reports them
                self.services.pending.put_owner(owner)
        except Exception:
            self._restore_claimed()  # the vendor's retry must still answer those commands
            try:
                self.seen.release(vendor, digest)
            except Exception as error:  # noqa: BLE001 - the original failure matters more
                logger.warning("push record not released (%s)", type(error).__name__)
            raise
        return len(messages)

    def _check_fresh(self, notifications: list[Notification], now: float) -> None:
        for notification in notifications:
            sent_at = notification.sent_at
            if sent_at is None:
                reason = "push without a timestamp"
            elif now - sent_at > FRESHNESS_WINDOW_SECONDS:
                reason = "push older than the freshness window"
            elif sent_at - now > MAX_CLOCK_SKEW_SECONDS:
                reason = "push timestamp in the future"
            else:
                continue
            self.services.count("PushesStale", 1)
            raise InvalidNotification(reason, status=401)

    def _apply(self, vendor: str, notification: Notification) -> list[OutboxMessage]:
        """One notification's events, its owners' new states written at once."""
        messages, states = self._plan(vendor, notification)
        for owner in states:
            self.services.pending.put_owner(owner)
        return messages

    def _plan(
        self, vendor: str, notification: Notification
    ) -> tuple[list[OutboxMessage], list[DeviceOwner]]:
        """The events one notification produces, and the owner records to write after them
        (answering a pending command it confirms deletes that command at once: that claims
        the right to answer it)."""
        try:
            endpoint_id = encode_endpoint_id(vendor, notification.device_id)
        except ValueError:
            logger.info("push for a device id Alexa cannot address ignored")
            return [], []
        owners = self.services.pending.owners_of(endpoint_id)
        account = notification.user_id
        if account:  # the vendor vouches for the account: only its owners
            owners = [o for o in owners if o.account_id is not None and o.account_id == account]
            if not owners:
                # A device nobody discovered, someone else's, or an owner whose account is
                # unknown: nothing to report.
                logger.info("push for an unknown or foreign device ignored")
                self.services.count("PushesForeign", 1)
                return [], []
        match = self._answer_pending(endpoint_id, notification, owners)
        if not account:  # only the pending command it confirms ties it to a user
            if match is None:
                logger.info("push naming no account and matching no pending command ignored")
                self.services.count("PushesUntied", 1)
                return [], []
            owners = [o for o in owners if o.user_id == match.user_id]
        answered = match.answer if match else None
        messages = [answered] if answered else []
        states: list[DeviceOwner] = []
        answered_user = answered.user_id if answered else None
        for owner in owners:
            # As the user knows it: a light dimmed off still reports 0 (skill.bulbs.carry_zero).
            known = match.expected if match and owner.user_id == answered_user else owner.state
            after = bulbs.carry_zero(notification.state, known)
            if owner.user_id != answered_user:  # every other skill user on this vendor account
                report = self.answers.change_report(
                    user_id=owner.user_id,
                    endpoint_id=endpoint_id,
                    features=owner.features,
                    before=owner.state,
                    after=after,
                    cause="PHYSICAL_INTERACTION",
                )
                if report:
                    messages.append(report)
            states.append(owner.model_copy(update={"state": after}))
        return messages, states

    def _answer_pending(
        self, endpoint_id: str, notification: Notification, owners: list[DeviceOwner]
    ) -> _Match | None:
        """The pending command of one of ``owners`` this push confirms, if any, with its
        Response (None when late: counted, not sent) and the command's expected state; the
        command's user then hears no ChangeReport for the same change."""
        users = {o.user_id for o in owners}
        for pending in self.services.pending.pending_for(endpoint_id):
            if pending.user_id not in users or not self._matches(pending, notification):
                continue
            if not self.services.pending.delete_pending(endpoint_id, pending.message_id):
                continue  # the poller or a duplicate push answered it first
            self._claimed.append(pending)
            if self.services.clock() > pending.deadline:
                self.services.count("LateDrops", 1)
                return _Match(pending.user_id, None, None)
            return _Match(
                pending.user_id,
                self.answers.response(
                    user_id=pending.user_id,
                    endpoint_id=endpoint_id,
                    correlation_token=pending.correlation_token,
                    features=pending.features,
                    state=bulbs.carry_zero(notification.state, pending.expected),
                    received_at=pending.received_at,
                    deadline=pending.deadline,
                    correlation_id=pending.message_id,
                ),
                pending.expected,
            )
        return None

    def _restore_claimed(self) -> None:
        """Put back the pending commands this push took when its answers could not be stored:
        the poller or the vendor's retry can then still answer them (never two answers: the
        conditional delete lets only one of them take each again)."""
        for pending in self._claimed:
            try:
                self.services.pending.put_pending(pending)
            except Exception as error:  # noqa: BLE001 - the original failure is re-raised
                logger.warning("pending command not restored (%s)", type(error).__name__)

    @staticmethod
    def _matches(pending: PendingCommand, notification: Notification) -> bool:
        if pending.reference and notification.reference:
            return pending.reference == notification.reference
        return bulbs.converged(notification.state, pending.expected, pending.change)


def push_digest(body: bytes, notifications: list[Notification]) -> str:
    """What makes a push itself: its body, and the account and timestamp the adapter read
    (a vendor may sign them outside the body: a header, the URL's per-account key). A replay
    has the same digest; two real pushes with the same body differ by their timestamps."""
    stamp = json.dumps([[n.user_id, n.sent_at] for n in notifications]).encode()
    return hashlib.sha256(body + b"\0" + stamp).hexdigest()
