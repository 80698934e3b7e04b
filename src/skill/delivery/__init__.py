"""Delivery of outbox events to the Alexa event gateway: tokens, sending, reacting.

The dispatcher's core. It imports no AWS and no HTTP library: the token store, LWA, the
gateway client and the dead-letter queue are given to it as ports (``skill.ports``;
``skill.composition`` wires the real ones, tests give fakes).
"""

from skill.delivery._batch import MAX_CONCURRENT_SENDS, threaded_sends
from skill.delivery._sender import (
    CONFIG_FAULT_MESSAGE,
    Dispatcher,
    Outcome,
    RetryLater,
    RetryPolicy,
    Undeliverable,
)
from skill.delivery._tokens import (
    REFRESH_MARGIN_SECONDS,
    RelinkRequired,
    TokenCache,
    TokensUnavailable,
    UserTokens,
)
from skill.ports import DeadLetters, EventGateway, Meter, NullMeter

__all__ = [
    "CONFIG_FAULT_MESSAGE",
    "MAX_CONCURRENT_SENDS",
    "REFRESH_MARGIN_SECONDS",
    "DeadLetters",
    "Dispatcher",
    "EventGateway",
    "Meter",
    "NullMeter",
    "Outcome",
    "RelinkRequired",
    "RetryLater",
    "RetryPolicy",
    "TokenCache",
    "TokensUnavailable",
    "Undeliverable",
    "UserTokens",
    "threaded_sends",
]
