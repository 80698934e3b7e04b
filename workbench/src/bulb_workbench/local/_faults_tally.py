"""What the skill itself says became of each answer, for the load run and the fault tests.

The fake gateway shows what arrived; this shows what the skill decided when nothing arrived:
the dispatcher's outcome for each outbox event (``delivered``, ``late``, ``gave_up``,
``dead_lettered``... or the exception that sent it back to SQS, ``RetryLater``), by the
directive's correlationToken, and the pipeline's counters (``LateDrops``, ``Undeliverable``,
``VendorErrors``). A directive with no final event at the gateway is a *late drop* when the
skill counted it so, else *lost*.

It taps the process's warm handler objects, as a test double would: the container's
``Composition.dispatcher`` (its public ``deliver``) and ``Composition.pipeline_services``
(its ``count`` sink), built at ``tapped()`` if they are not yet, restored afterwards. Nothing
they do changes. Use it inside a running ``LocalStack`` (whose ``cold_start`` makes new ones).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

FINAL_NAMES = frozenset({"Response", "ErrorResponse"})
#: Dispatcher outcomes after which the event is not sent again.
TERMINAL = frozenset(
    {"delivered", "late", "no_tokens", "relink", "forgotten", "dead_lettered", "gave_up"}
)


class Outcomes:
    """Dispatcher outcomes per correlationToken and pipeline counters, while ``tapped()``."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self.outcomes: dict[str, list[str]] = {}
        self.counts: Counter[str] = Counter()

    @contextmanager
    def tapped(self) -> Iterator[Outcomes]:
        from skill.composition import current

        delivery = current().dispatcher
        services = current().pipeline_services
        deliver, count = delivery.deliver, services.count

        def tapped_deliver(message: Any, *, finish_by: float | None = None) -> Any:
            token = correlation_token(message)
            try:
                outcome = deliver(message, finish_by=finish_by)
            except Exception as exc:
                self._record(token, message, type(exc).__name__)
                raise
            self._record(token, message, str(getattr(outcome, "value", outcome)))
            return outcome

        def tapped_count(name: str, value: float) -> None:
            with self._cv:
                self.counts[name] += value
                self._cv.notify_all()
            count(name, value)

        delivery.deliver = tapped_deliver  # type: ignore[method-assign]
        services.count = tapped_count
        try:
            yield self
        finally:
            delivery.__dict__.pop("deliver", None)
            services.count = count

    def of(self, token: str) -> list[str]:
        """The dispatcher's outcomes for one directive's answer, oldest first."""
        with self._cv:
            return list(self.outcomes.get(token, []))

    def count(self, name: str) -> float:
        with self._cv:
            return self.counts.get(name, 0)

    def wait(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``condition()`` (checked at each outcome or count, and every 0.1 s)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cv.wait(min(remaining, 0.1))
            return True

    def _record(self, token: str | None, message: Any, outcome: str) -> None:
        if token is None or getattr(message, "kind", None) not in FINAL_NAMES:
            return
        with self._cv:
            self.outcomes.setdefault(token, []).append(outcome)
            self._cv.notify_all()


def correlation_token(message: Any) -> str | None:
    """The correlationToken of an ``OutboxMessage``'s event (None for unsolicited events)."""
    try:
        return message.message["event"]["header"].get("correlationToken")
    except (AttributeError, KeyError, TypeError):
        return None
