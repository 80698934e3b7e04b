"""What became of a directive or a poll ticket, as delivery's ``Outcome`` says it for events.

String enums: the processors publish a directive's outcome as the metric
``Directives_<value>``, and Powertools' idempotency stores it as JSON.
"""

from enum import StrEnum


class DirectiveOutcome(StrEnum):
    """What ``Pipeline.process`` did with a directive."""

    ANSWERED = "answered"  # its Response or ErrorResponse is in the outbox
    PENDING = "pending"  # a push or a poll will answer it
    LATE = "late"  # past its deadline on arrival: dropped


class PollOutcome(StrEnum):
    """What ``PollHandler.handle`` did with a poll ticket."""

    ANSWERED = "answered"  # the bulb showed the command, or the time ran out: answered
    WAITING = "waiting"  # not yet: the next ticket is on the poll queue
    GONE = "gone"  # answered already by a push or an earlier poll (or expired)
