"""Turning outcomes into outbox messages: Response, ErrorResponse, ChangeReport."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from skill.alexa import events, state_properties
from skill.bulbs import BulbState, Features
from skill.errors import SkillError
from skill.records import OutboxMessage


class Answers(NamedTuple):
    """Builds the events of one directive (or one push), stamped with the clock."""

    clock: Callable[[], float]

    def response(
        self,
        *,
        user_id: str,
        endpoint_id: str,
        correlation_token: str | None,
        features: Features,
        state: BulbState,
        received_at: float,
        deadline: float,
        correlation_id: str,
    ) -> OutboxMessage:
        message = events.response(
            correlation_token, endpoint_id, state_properties(features, state, self.clock())
        )
        return OutboxMessage(
            user_id=user_id,
            message=message,
            deadline=deadline,
            received_at=received_at,
            correlation_id=correlation_id,
            kind="Response",
        )

    def error(
        self,
        error: SkillError,
        *,
        user_id: str,
        endpoint_id: str,
        correlation_token: str | None,
        received_at: float,
        deadline: float,
        correlation_id: str,
    ) -> OutboxMessage:
        return OutboxMessage(
            user_id=user_id,
            message=events.error_response(error, correlation_token, endpoint_id),
            deadline=deadline,
            received_at=received_at,
            correlation_id=correlation_id,
            kind="ErrorResponse",
        )

    def change_report(
        self,
        *,
        user_id: str,
        endpoint_id: str,
        features: Features,
        before: BulbState | None,
        after: BulbState,
        cause: str,
    ) -> OutboxMessage | None:
        """A ChangeReport when ``after`` differs from ``before`` in a reported property."""
        now = self.clock()
        new = state_properties(features, after, now)
        old = state_properties(features, before, now) if before is not None else []
        old_values = {(p["namespace"], p["name"]): p["value"] for p in old}
        changed = [p for p in new if old_values.get((p["namespace"], p["name"])) != p["value"]]
        if not changed:
            return None
        unchanged = [p for p in new if p not in changed]
        return OutboxMessage(
            user_id=user_id,
            message=events.change_report(endpoint_id, changed, unchanged, cause=cause),
            kind="ChangeReport",
        )
