"""Vendor pushes (async style): match to a pending command -> Response; else ChangeReport."""

from __future__ import annotations

import logging

from skill import bulbs
from skill.pipeline._answers import Answers
from skill.pipeline._pipeline import PipelineServices
from skill.plugins import Notification, PushAdapter, WebhookRequest, encode_endpoint_id
from skill.errors import InvalidNotification
from skill.records import DeviceOwner, OutboxMessage, PendingCommand

logger = logging.getLogger(__name__)


class PushHandler:
    def __init__(self, services: PipelineServices) -> None:
        self.services = services
        self.answers = Answers(services.clock)

    def handle(self, vendor: str, request: WebhookRequest) -> int:
        """Verify and apply one webhook request; returns how many events it produced.

        Raises ``InvalidNotification`` (-> 4xx, nothing processed) when it is not genuine.
        """
        try:
            adapter = self.services.adapters.get(vendor)
        except Exception:
            raise InvalidNotification("unknown vendor", status=404) from None
        if not isinstance(adapter, PushAdapter):
            raise InvalidNotification("this vendor does not push", status=404)
        notifications = adapter.parse_notification(request)
        messages: list[OutboxMessage] = []
        for notification in notifications:
            messages += self._apply(vendor, notification)
        if messages:
            self.services.outbox.put(messages)
        return len(messages)

    def _apply(self, vendor: str, notification: Notification) -> list[OutboxMessage]:
        try:
            endpoint_id = encode_endpoint_id(vendor, notification.device_id)
        except ValueError:
            logger.info("push for a device id Alexa cannot address ignored")
            return []
        owners = self.services.pending.owners_of(endpoint_id)
        if notification.user_id:  # the push names the vendor account: only its owners
            owners = [o for o in owners if o.account_id in (None, notification.user_id)]
        if not owners:
            # A device nobody discovered, or someone else's: nothing to report.
            logger.info("push for an unknown or foreign device ignored")
            return []
        answered = self._answer_pending(endpoint_id, notification, owners)
        messages = [answered] if answered else []
        answered_user = answered.user_id if answered else None
        for owner in owners:
            if owner.user_id != answered_user:  # every other skill user on this vendor account
                report = self.answers.change_report(
                    user_id=owner.user_id,
                    endpoint_id=endpoint_id,
                    features=owner.features,
                    before=owner.state,
                    after=notification.state,
                    cause="PHYSICAL_INTERACTION",
                )
                if report:
                    messages.append(report)
            self.services.pending.put_owner(owner.model_copy(update={"state": notification.state}))
        return messages

    def _answer_pending(
        self, endpoint_id: str, notification: Notification, owners: list[DeviceOwner]
    ) -> OutboxMessage | None:
        """The Response to a pending command this push confirms, if any (late: counted, not
        sent); the command's user then hears no ChangeReport for the same change."""
        users = {o.user_id for o in owners}
        for pending in self.services.pending.pending_for(endpoint_id):
            if pending.user_id not in users or not self._matches(pending, notification):
                continue
            if not self.services.pending.delete_pending(endpoint_id, pending.message_id):
                continue  # the poller or a duplicate push answered it first
            if self.services.clock() > pending.deadline:
                self.services.count("LateDrops", 1)
                return None
            return self.answers.response(
                user_id=pending.user_id,
                endpoint_id=endpoint_id,
                correlation_token=pending.correlation_token,
                features=pending.features,
                state=notification.state,
                received_at=pending.received_at,
                deadline=pending.deadline,
                correlation_id=pending.message_id,
            )
        return None

    @staticmethod
    def _matches(pending: PendingCommand, notification: Notification) -> bool:
        if pending.reference and notification.reference:
            return pending.reference == notification.reference
        return bulbs.converged(notification.state, pending.expected, pending.change)
