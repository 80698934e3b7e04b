"""What the delivery core needs from outside: the event gateway, a dead-letter queue, metrics.
AWS- and HTTP-backed versions are wired in ``skill.dispatcher``; tests give fakes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from skill.gateway import GatewayAnswer


class EventGateway(Protocol):
    def send(
        self, url: str, message: dict[str, Any], token: str, *, timeout: float
    ) -> GatewayAnswer:
        """POST ``message`` with ``Authorization: Bearer <token>``; raise
        ``skill.gateway.GatewayUnreachable`` when there is no answer."""
        ...


class DeadLetters(Protocol):
    def put(self, body: str, attributes: Mapping[str, str]) -> None:
        """Keep ``body`` (an outbox message's JSON) with why it was not delivered, or raise."""
        ...


class Meter(Protocol):
    def count(self, name: str, dimensions: Mapping[str, str] | None = None) -> None: ...

    def milliseconds(self, name: str, value: float) -> None: ...


class NullMeter:
    def count(self, name: str, dimensions: Mapping[str, str] | None = None) -> None:
        pass

    def milliseconds(self, name: str, value: float) -> None:
        pass
