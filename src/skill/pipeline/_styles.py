"""The step in the middle, per style: what to do with the vendor's answer to a command.

A registry keyed by ``Style``; adding a style is adding a class here, not an ``if``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from skill.bulbs import BulbState
from skill.errors import EndpointUnreachable
from skill.plugins import Accepted, Style
from skill.records import PendingCommand, PollTicket

if TYPE_CHECKING:
    from skill.pipeline._pipeline import Job

logger = logging.getLogger(__name__)


class StyleStrategy(Protocol):
    def finish(self, job: Job, outcome: BulbState | Accepted) -> None:
        """Answer now (outbox) or record what will answer later."""
        ...


def _answered_state(job: Job, outcome: BulbState | Accepted) -> BulbState:
    if isinstance(outcome, BulbState):
        return outcome
    return job.expected


@dataclass(frozen=True)
class SyncStrategy:
    """The vendor's answer carries the new state: that is the Response."""

    def finish(self, job: Job, outcome: BulbState | Accepted) -> None:
        if not isinstance(outcome, BulbState):
            logger.warning("a sync adapter answered without a state; using the expected one")
        job.respond(_answered_state(job, outcome))


@dataclass(frozen=True)
class OptimisticStrategy:
    """The vendor accepted: trust it, answer from the expected state, remember it as the last
    known state (a later sweep corrects it with a ChangeReport if the bulb disagrees)."""

    def finish(self, job: Job, outcome: BulbState | Accepted) -> None:
        job.respond(_answered_state(job, outcome))


@dataclass(frozen=True)
class AsyncStrategy:
    """The vendor accepted and will push the result: record the pending command. When a poll
    queue is deployed, a watchdog ticket comes due just before the deadline, so that a push that
    never arrives still ends in one answer (the poller reads the bulb once more)."""

    def finish(self, job: Job, outcome: BulbState | Accepted) -> None:
        if isinstance(outcome, BulbState):  # the vendor said the result after all
            job.respond(outcome)
            return
        command = job.pending_command(outcome.reference)
        job.services.pending.put_pending(command)
        if job.services.poll_queue is not None:
            ticket = PollTicket(endpoint_id=command.endpoint_id, message_id=command.message_id)
            job.services.poll_queue.schedule(ticket, job.watchdog_delay())


@dataclass(frozen=True)
class PollingStrategy:
    """The vendor accepted and has no push: record it and let the poll queue be the clock."""

    def finish(self, job: Job, outcome: BulbState | Accepted) -> None:
        if isinstance(outcome, BulbState):
            job.respond(outcome)
            return
        command: PendingCommand = job.pending_command(outcome.reference)
        job.services.pending.put_pending(command)
        if job.services.poll_queue is None:
            raise EndpointUnreachable("no poll queue is deployed for the polling style")
        ticket = PollTicket(endpoint_id=command.endpoint_id, message_id=command.message_id)
        job.services.poll_queue.schedule(ticket, job.poll_delay())


STRATEGIES: dict[Style, StyleStrategy] = {
    Style.SYNC: SyncStrategy(),
    Style.OPTIMISTIC: OptimisticStrategy(),
    Style.ASYNC: AsyncStrategy(),
    Style.POLLING: PollingStrategy(),
}
