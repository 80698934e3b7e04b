"""The poller (polling style): read the bulb until it shows the command, or the deadline."""

from __future__ import annotations

import logging

from skill import bulbs
from skill.bulbs import BulbState
from skill.errors import EndpointUnreachable, SkillError
from skill.pipeline._answers import Answers
from skill.pipeline._outcomes import PollOutcome
from skill.pipeline._pipeline import DELIVERY_MARGIN_SECONDS
from skill.pipeline._services import PipelineServices
from skill.pipeline._styles import poll_delay
from skill.plugins import decode_endpoint_id
from skill.records import OutboxMessage, PendingCommand, PollTicket

logger = logging.getLogger(__name__)


class PollHandler:
    def __init__(self, services: PipelineServices) -> None:
        self.services = services
        self.answers = Answers(services.clock)

    def handle(self, ticket: PollTicket) -> PollOutcome:
        pending = self.services.pending.get_pending(ticket.endpoint_id, ticket.message_id)
        if pending is None:
            return PollOutcome.GONE  # answered already (or expired)
        vendor, device_id = decode_endpoint_id(ticket.endpoint_id)
        adapter = self.services.adapters.get(vendor)
        now = self.services.clock()
        try:
            credential = self.services.credentials.for_adapter(pending.user_id, adapter)
            state = adapter.read_state(credential, device_id)
        except SkillError as error:
            if not error.retryable:
                return self._finish(pending, self._error(pending, error))
            state = None
        if state is not None and bulbs.converged(state, pending.expected, pending.change):
            state = bulbs.carry_zero(state, pending.expected)  # dimmed off: reports 0
            return self._finish(pending, self._response(pending, state), state)
        delay = poll_delay(adapter)
        if now + delay < pending.deadline - DELIVERY_MARGIN_SECONDS:
            assert self.services.poll_queue is not None
            next_ticket = ticket.model_copy(update={"attempt": ticket.attempt + 1})
            self.services.poll_queue.schedule(next_ticket, delay)
            return PollOutcome.WAITING
        late = EndpointUnreachable("the light did not confirm the change in time")
        return self._finish(pending, self._error(pending, late))

    def _finish(
        self, pending: PendingCommand, message: OutboxMessage, state: BulbState | None = None
    ) -> PollOutcome:
        if not self.services.pending.delete_pending(pending.endpoint_id, pending.message_id):
            return PollOutcome.GONE
        if state is not None:
            owner = self.services.pending.owner_of(pending.endpoint_id, pending.user_id)
            if owner is not None:
                self.services.pending.put_owner(owner.model_copy(update={"state": state}))
        self.services.outbox.put([message])
        return PollOutcome.ANSWERED

    def _response(self, pending: PendingCommand, state: BulbState) -> OutboxMessage:
        return self.answers.response(
            user_id=pending.user_id,
            endpoint_id=pending.endpoint_id,
            correlation_token=pending.correlation_token,
            features=pending.features,
            state=state,
            received_at=pending.received_at,
            deadline=pending.deadline,
            correlation_id=pending.message_id,
        )

    def _error(self, pending: PendingCommand, error: SkillError) -> OutboxMessage:
        return self.answers.error(
            error,
            user_id=pending.user_id,
            endpoint_id=pending.endpoint_id,
            correlation_token=pending.correlation_token,
            received_at=pending.received_at,
            deadline=pending.deadline,
            correlation_id=pending.message_id,
        )
