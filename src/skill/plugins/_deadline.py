"""The moment by which the current vendor call must be over, for every adapter at once.

The core sets it around each adapter call (``call_deadline``); ``VendorTransport`` cuts its
timeouts to it, so an adapter that never heard of deadlines still stops in time for the answer
to reach Alexa. No HTTP library here: the core imports this module.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

#: Epoch seconds (``time.time``), or None for no deadline.
CALL_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "bulb_skill_call_deadline", default=None
)


@contextlib.contextmanager
def call_deadline(epoch_seconds: float | None) -> Iterator[None]:
    """Within this block, every ``VendorTransport`` call ends by ``epoch_seconds``."""
    token = CALL_DEADLINE.set(epoch_seconds)
    try:
        yield
    finally:
        CALL_DEADLINE.reset(token)
