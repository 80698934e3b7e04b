"""The step in the middle, per style: what to do with the vendor's answer to a command.

A registry keyed by ``Style``; adding a style is adding a class here, not an ``if``.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Protocol

from skill.bulbs import BulbState, carry_zero
from skill.errors import EndpointUnreachable
from skill.pipeline._outcomes import DirectiveOutcome
from skill.plugins import Accepted, Style
from skill.records import PollTicket

if TYPE_CHECKING:
    from skill.pipeline._pipeline import Job
    from skill.plugins import Adapter

logger = logging.getLogger(__name__)

#: The longest wait before a poll: a longer hint would park the ticket past any deadline.
POLL_DELAY_MAX_SECONDS = 15


def poll_delay(adapter: Adapter) -> int:
    """Seconds before the next read of a polling command (the first and every later one): the
    adapter's ``poll_interval_seconds`` (the vendor's rate limit) rounded up, 1 to 15 s."""
    hint = float(getattr(adapter, "poll_interval_seconds", 1.0) or 1.0)
    return max(1, min(POLL_DELAY_MAX_SECONDS, math.ceil(hint)))


class StyleStrategy(Protocol):
    def prepare(self, job: Job) -> None:
        """Before the command goes to the vendor."""
        ...

    def abandon(self, job: Job) -> bool:
        """The vendor call failed: forget the command. False when it was answered meanwhile
        (a push beat the failure), so that the error is not a second answer."""
        ...

    def finish(self, job: Job, outcome: BulbState | Accepted) -> None:
        """Answer now (outbox) or arrange what will answer later."""
        ...


class _AnswersNow:
    """Styles whose answer is known when the vendor call returns: nothing to prepare."""

    def prepare(self, job: Job) -> None:
        pass

    def abandon(self, job: Job) -> bool:
        return True


class _AnswersLater:
    """Styles answered after the call (push, poll): the pending command is recorded *before*
    the vendor is called, so a push that beats the call's own answer still finds it."""

    def prepare(self, job: Job) -> None:
        job.services.pending.put_pending(job.pending_command(None))

    def abandon(self, job: Job) -> bool:
        job.outcome = DirectiveOutcome.ANSWERED
        return job.services.pending.delete_pending(job.endpoint_id, job.queued.message_id)

    def _answered_by_vendor(self, job: Job, state: BulbState) -> None:
        """The vendor said the result after all: answer now, unless a push already did."""
        if job.services.pending.delete_pending(job.endpoint_id, job.queued.message_id):
            job.outcome = DirectiveOutcome.ANSWERED
            job.respond(_answered_state(job, state))


def _answered_state(job: Job, outcome: BulbState | Accepted) -> BulbState:
    """The state to answer: the vendor's when it gave one (a light the command dimmed off still
    reports 0, whatever level the vendor keeps), else the expected state."""
    if isinstance(outcome, BulbState):
        return carry_zero(outcome, job.expected)
    return job.expected


class SyncStrategy(_AnswersNow):
    """The vendor's answer carries the new state: that is the Response."""

    def finish(self, job: Job, outcome: BulbState | Accepted) -> None:
        if not isinstance(outcome, BulbState):
            logger.warning("a sync adapter answered without a state; using the expected one")
        job.respond(_answered_state(job, outcome))


class OptimisticStrategy(_AnswersNow):
    """The vendor accepted: trust it, answer from the expected state, remember it as the last
    known state (a later sweep corrects it with a ChangeReport if the bulb disagrees)."""

    def finish(self, job: Job, outcome: BulbState | Accepted) -> None:
        job.respond(_answered_state(job, outcome))


class AsyncStrategy(_AnswersLater):
    """The vendor accepted and will push the result. When a poll queue is deployed, a watchdog
    ticket comes due just before the deadline, so that a push that never arrives still ends in
    one answer (the poller reads the bulb once more)."""

    def finish(self, job: Job, outcome: BulbState | Accepted) -> None:
        if isinstance(outcome, BulbState):
            self._answered_by_vendor(job, outcome)
            return
        if job.services.poll_queue is not None:
            ticket = PollTicket(endpoint_id=job.endpoint_id, message_id=job.queued.message_id)
            job.services.poll_queue.schedule(ticket, job.watchdog_delay())


class PollingStrategy(_AnswersLater):
    """The vendor accepted and has no push: the poll queue is the clock."""

    def finish(self, job: Job, outcome: BulbState | Accepted) -> None:
        if isinstance(outcome, BulbState):
            self._answered_by_vendor(job, outcome)
            return
        if job.services.poll_queue is None:
            raise EndpointUnreachable("no poll queue is deployed for the polling style")
        ticket = PollTicket(endpoint_id=job.endpoint_id, message_id=job.queued.message_id)
        job.services.poll_queue.schedule(ticket, poll_delay(job.adapter))


#: The strategies are stateless: one instance of each serves every directive.
STRATEGIES: dict[Style, StyleStrategy] = {
    Style.SYNC: SyncStrategy(),
    Style.OPTIMISTIC: OptimisticStrategy(),
    Style.ASYNC: AsyncStrategy(),
    Style.POLLING: PollingStrategy(),
}
