"""Deliver one outbox message to the Alexa event gateway and react to the answer.

Policy (each branch is tested in ``tests/unit/test_dispatcher.py``):

- past its ``deadline``: dropped, ``LateDrops`` + 1, never sent late;
- no tokens for the user (never linked, forgotten): dropped, ``DroppedEvents{reason=no_tokens}``;
- LWA ``invalid_grant``: tokens deleted (by the token cache), dropped (``relink``);
- LWA timeout/5xx/429/unreadable answer: with a deadline, asked again here after 0.25 s, then
  0.5 s, 1 s, 2 s (``RetryPolicy.backoff``), only while the deadline leaves room for the wait
  and a send, else dropped as late (SQS would redeliver only after the outbox's visibility
  timeout, long after Alexa stopped waiting); without a deadline, and for an LWA refusal that is not
  passing (a configuration fault), ``RetryLater`` (the SQS record fails, SQS delivers it again);
- 202: done; for an answer to a directive (it has a deadline), ``DeferredLatencyMs`` =
  now - received_at;
- 401: the token is renewed and the event sent again, at most ``max_renewals`` (3) times: the
  first time with the stored token if it differs from the refused one, else, and every later
  time, with one refreshed by LWA. When the last renewed token is refused too:
  with a deadline, dropped, ``DroppedEvents{reason=unauthorized}`` (a redrive would come after
  Alexa stopped waiting); without one, dead-lettered;
- 403 ``SKILL_DISABLED``, 404 ``ACCOUNT/SKILL_NOT_FOUND``: the user's tokens are deleted,
  dropped (``forgotten``);
- 403 ``SKILL_NEVER_ENABLED`` / ``INSUFFICIENT_PERMISSION``: logged as a configuration fault
  and dead-lettered (the skill is misconfigured; the user keeps their tokens);
- 413: a discovery report is split in halves, each sent on its own; anything else is
  dead-lettered;
- 429, 5xx, no answer: with a deadline, retried here after 0.25 s, then 0.5 s, 1 s, 2 s (or
  Retry-After when longer), at most ``max_attempts`` sends, only while the deadline leaves room for
  another try (SQS would redeliver only after the visibility timeout, long after Alexa stopped
  waiting); without a deadline, ``RetryLater`` at once: SQS's visibility timeout is the backoff and
  the redrive policy bounds the attempts;
- 400 and any other answer: a bug; dead-lettered with the gateway's answer.

"Dead-lettered" means: put on the outbox's DLQ by the dispatcher itself with the gateway's
answer as attributes, and the record reported as processed. A permanent fault left to the
redrive policy would be sent ``maxReceiveCount`` times first. Without a DLQ configured the
record fails with ``Undeliverable`` and the redrive policy moves it.
"""

from __future__ import annotations

import enum
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from skill.alexa.events import with_scope
from skill.delivery._tokens import RelinkRequired, TokenCache, TokensUnavailable, UserTokens
from skill.ports import (
    DeadLetters,
    EventGateway,
    GatewayAnswer,
    GatewayUnreachable,
    Meter,
    NullMeter,
    Verdict,
)
from skill.records import OutboxMessage
from skill.retry import Backoff, Stop

logger = logging.getLogger("skill.delivery")

CONFIG_FAULT_MESSAGE = "configuration fault: wrong region or missing Send Alexa Events permission"
_DISCOVERY_REPORTS = frozenset({"AddOrUpdateReport", "DeleteReport"})


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    LATE = "late"  # deadline passed: not sent (or not sent again)
    NO_TOKENS = "no_tokens"
    RELINK = "relink"  # LWA invalid_grant: tokens deleted
    FORGOTTEN = "forgotten"  # 403 SKILL_DISABLED / 404: tokens deleted
    UNAUTHORIZED = "unauthorized"  # 401 to every renewed token, and a deadline: dropped
    DEAD_LETTERED = "dead_lettered"
    GAVE_UP = "gave_up"  # retries used up before the deadline


class RetryLater(Exception):
    """A passing fault (LWA or the gateway): the SQS record must fail and come back."""


class Undeliverable(Exception):
    """A permanent fault and no DLQ to put the message on: the record fails, and the queue's
    redrive policy moves it to the DLQ after ``maxReceiveCount`` receives."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    # Sends of one event for 429/5xx, the first included. The deadline is the real bound (an
    # event is never sent late); this only stops a hopeless loop when it has no deadline.
    max_attempts: int = 6
    # Seconds before the 2nd, 3rd... send: short first, so that a deferred answer gets three
    # sends within the pipeline's delivery margin (skill.pipeline DELIVERY_MARGIN_SECONDS).
    backoff: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
    min_gap: float = 0.25  # never two sends closer than this
    # Per send, shortened to what the deadline leaves. The gateway answers in well under a
    # second; a longer wait only makes the rest of the batch late.
    read_timeout: float = 1.0
    min_timeout: float = 0.25  # no send with less time than this before the deadline
    # Token renewals after a 401, per event. The first may take the stored token; the later
    # ones are refreshed by LWA. More than one LWA refresh: a token can be revoked between its
    # refresh and its send (the load run expires every token every 10 s).
    max_renewals: int = 3

    @property
    def sends(self) -> Backoff:
        """The gateway sends of one event (after a 429, a 5xx or no answer)."""
        return Backoff(self.backoff, max_tries=self.max_attempts, min_gap=self.min_gap)

    @property
    def lwa(self) -> Backoff:
        """LWA's tries for one event's token: only the deadline bounds them."""
        return Backoff(self.backoff, min_gap=self.min_gap)


class Dispatcher:
    """Sends outbox messages through the gateway of each user's region.

    Built by the composition root from a ``TokenCache``, the gateway client, the gateway URL
    of each region, the dead-letter store and the meter. Per SQS record: ``parse(body)`` (None
    for a body that is not an outbox message), then ``deliver(message)``, which raises
    ``RetryLater`` when SQS should deliver the record again.
    """

    def __init__(
        self,
        tokens: TokenCache,
        gateway: EventGateway,
        gateway_for: Callable[[str], str],
        *,
        dead_letters: DeadLetters | None = None,
        meter: Meter | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy = RetryPolicy(),
    ) -> None:
        self._tokens = tokens
        self._gateway = gateway
        self._gateway_for = gateway_for
        self._dead_letters = dead_letters
        self._meter = meter or NullMeter()
        self._clock = clock
        self._sleep = sleep
        self._policy = policy

    def parse(self, body: str) -> OutboxMessage | None:
        """The outbox message in an SQS body; an unreadable body is dead-lettered (None)."""
        try:
            message = OutboxMessage.model_validate_json(body)
            with_scope(message.message, "-")  # an Alexa event with somewhere to put the token
        except ValidationError as error:
            logger.error(
                "unreadable outbox message (%d errors): dead-lettered", error.error_count()
            )
        except (KeyError, TypeError, AttributeError):
            logger.error("outbox message without an Alexa event to send: dead-lettered")
        else:
            return message
        self._dead_letter(body, "unreadable", None)
        return None

    def deliver(self, message: OutboxMessage, *, finish_by: float | None = None) -> Outcome:
        """Send ``message``; ``finish_by`` (epoch seconds) is when the Lambda must be done.
        Raises ``RetryLater`` or ``Undeliverable`` when the SQS record must fail."""
        if not message.forget_user_after:
            return self._deliver(message, finish_by)
        try:
            outcome = self._deliver(message, finish_by)
        except RetryLater:
            raise  # sent again later: the tokens are still needed
        except Exception:
            self._tokens.forget(message.user_id)
            raise
        self._tokens.forget(message.user_id)
        logger.info("user %s deleted: LWA tokens deleted after the last report", message.user_id)
        return outcome

    def _deliver(self, message: OutboxMessage, finish_by: float | None) -> Outcome:
        if self._late(message):
            return self._late_drop(message, "before sending")
        tokens = self._tokens_for(message, lambda: self._tokens.get(message.user_id), finish_by)
        if isinstance(tokens, Outcome):
            return tokens
        if self._late(message):
            return self._late_drop(message, "after getting the token")
        return _Attempts(self, message, tokens, finish_by).send(message.message)

    # -- shared by the attempts --------------------------------------------------------------

    def _tokens_for(
        self,
        message: OutboxMessage,
        fetch: Callable[[], UserTokens | None],
        finish_by: float | None,
    ) -> UserTokens | Outcome:
        """The tokens ``fetch`` gives, asked again while LWA fails and the deadline allows, or
        the outcome. Raises RetryLater when SQS should deliver the record again."""
        failures = 0
        while True:
            try:
                tokens = fetch()
            except RelinkRequired:
                return self._drop(message, Outcome.RELINK)
            except TokensUnavailable as error:
                failures += 1
                wait = self._lwa_backoff(message, error, failures, finish_by)
                if isinstance(wait, Outcome):
                    return wait
                self._sleep(wait)
                continue
            if tokens is None:
                logger.warning(
                    "no tokens for user %s (never linked, or forgotten): %s dropped",
                    message.user_id,
                    message.kind,
                )
                return self._drop(message, Outcome.NO_TOKENS)
            return tokens

    def _lwa_backoff(
        self,
        message: OutboxMessage,
        error: TokensUnavailable,
        failures: int,
        finish_by: float | None,
    ) -> float | Outcome:
        """Seconds to wait before asking LWA again, or the outcome when there will be no other
        try. Raises RetryLater when SQS should deliver the record again."""
        policy = self._policy
        if self._late(message):
            return self._late_drop(message, f"while LWA was failing ({error})")
        if message.deadline is None or not error.transient:
            logger.warning(
                "%s: the %s for user %s is retried later", error, message.kind, message.user_id
            )
            raise RetryLater(str(error))
        wait = policy.lwa.next_wait(
            failures,
            now=self._clock(),
            deadline=message.deadline,
            reserve=policy.min_timeout,
            limit=finish_by,
        )
        if wait is Stop.LIMIT:
            raise RetryLater(f"{error}; no Lambda time left to wait")
        if isinstance(wait, Stop):
            return self._late_drop(message, f"while LWA was failing ({error})")
        logger.warning(
            "%s: asking again in %.1f s for the %s of user %s",
            error,
            wait,
            message.kind,
            message.user_id,
        )
        return wait

    def _late(self, message: OutboxMessage) -> bool:
        return message.deadline is not None and self._clock() >= message.deadline

    def _late_drop(self, message: OutboxMessage, when: str) -> Outcome:
        self._meter.count("LateDrops")
        logger.warning(
            "%s for user %s dropped: deadline passed %s", message.kind, message.user_id, when
        )
        return Outcome.LATE

    def _drop(self, message: OutboxMessage, outcome: Outcome) -> Outcome:
        self._meter.count("DroppedEvents", {"reason": outcome.value})
        return outcome

    def _dead_letter(
        self, body: str, reason: str, answer: GatewayAnswer | None, **extra: str | None
    ) -> Outcome:
        attributes = {"Reason": reason, **{k: v for k, v in extra.items() if v}}
        if answer is not None:
            attributes["GatewayStatus"] = str(answer.status)
            if answer.code:
                attributes["GatewayCode"] = answer.code
            if answer.description:
                attributes["GatewayDescription"] = answer.description
        if self._dead_letters is None:
            raise Undeliverable(f"{reason}: no OUTBOX_DLQ_URL to put the message on")
        self._dead_letters.put(body, attributes)
        self._meter.count("DeadLettered", {"reason": reason})
        return Outcome.DEAD_LETTERED


class _Attempts:
    """The sends of one outbox message (and of its halves, after a 413)."""

    def __init__(
        self, owner: Dispatcher, message: OutboxMessage, tokens: UserTokens, finish_by: float | None
    ) -> None:
        self._d = owner
        self._message = message
        self._tokens = tokens
        self._finish_by = finish_by
        self._renewals = 0  # after 401s, per message, halves included

    def send(self, event: dict[str, Any]) -> Outcome:
        busy = 0  # answers 429/5xx or none so far
        while True:
            answer = self._post(event)
            if answer is None or answer.verdict is Verdict.RETRY:
                busy += 1
                wait = self._backoff(busy, answer)
                if isinstance(wait, Outcome):
                    return wait
                self._d._sleep(wait)
                continue
            outcome = self._react(event, answer)
            if outcome is not None:
                return outcome
            # a new token after a 401: send again

    def _react(self, event: dict[str, Any], answer: GatewayAnswer) -> Outcome | None:
        d, message = self._d, self._message
        verdict = answer.verdict
        if verdict is Verdict.ACCEPTED:
            if message.deadline is not None and message.received_at is not None:
                # a deferred answer: from the directive's receipt to the gateway's 202
                d._meter.milliseconds(
                    "DeferredLatencyMs", (d._clock() - message.received_at) * 1000
                )
            logger.info("%s delivered for user %s", message.kind, message.user_id)
            return Outcome.DELIVERED
        if verdict is Verdict.REFRESH_TOKEN:
            return self._renew(event, answer)
        if verdict is Verdict.FORGET_USER:
            d._tokens.forget(message.user_id)
            logger.warning(
                "gateway answered %s: tokens of user %s deleted, %s dropped",
                answer.describe(),
                message.user_id,
                message.kind,
            )
            return d._drop(message, Outcome.FORGOTTEN)
        if verdict is Verdict.CONFIG_FAULT:
            logger.error(
                "%s (gateway %s answered %s for user %s): dead-lettered",
                CONFIG_FAULT_MESSAGE,
                self._tokens.region,
                answer.describe(),
                message.user_id,
            )
            return self._dead_letter(event, "config_fault", answer)
        if verdict is Verdict.TOO_LARGE:
            halves = _halves(event)
            if halves is None:
                logger.error("gateway answered 413 to a %s: dead-lettered", message.kind)
                return self._dead_letter(event, "too_large", answer)
            logger.warning("gateway answered 413: sending the %s in two halves", message.kind)
            outcomes = [self.send(half) for half in halves]
            return next((o for o in outcomes if o is not Outcome.DELIVERED), Outcome.DELIVERED)
        logger.error(
            "gateway rejected a %s for user %s (%s): a bug, dead-lettered",
            message.kind,
            message.user_id,
            answer.describe(),
        )
        reason = "invalid_request" if answer.status == 400 else "rejected"
        return self._dead_letter(event, reason, answer)

    def _post(self, event: dict[str, Any]) -> GatewayAnswer | None:
        d, token = self._d, self._tokens.access_token
        try:
            answer = d._gateway.send(
                d._gateway_for(self._tokens.region),
                with_scope(event, token),
                token,
                timeout=self._timeout(),
            )
        except GatewayUnreachable as error:
            d._meter.count("GatewayAnswers", {"status": "unreachable"})
            logger.warning("%s", error)
            return None
        d._meter.count("GatewayAnswers", {"status": str(answer.status)})
        return answer

    def _timeout(self) -> float:
        policy, now = self._d._policy, self._d._clock()
        limit = policy.read_timeout
        for end in (self._message.deadline, self._finish_by):
            if end is not None:
                limit = min(limit, end - now)
        return max(limit, policy.min_timeout)

    def _renew(self, event: dict[str, Any], answer: GatewayAnswer) -> Outcome | None:
        """After a 401: None once a new token is in hand (send again), else the outcome."""
        d, message = self._d, self._message
        if self._renewals >= d._policy.max_renewals:
            return self._unauthorized(event, answer)
        self._renewals += 1
        # the first renewal may take the stored token; once a renewed token is refused, only
        # LWA can tell whether the user's grant still holds
        force = self._renewals > 1
        logger.info(
            "gateway answered %s for user %s: renewing the token (%s)",
            answer.describe(),
            message.user_id,
            "refreshed by LWA" if force else "stored or refreshed",
        )
        rejected = self._tokens.access_token
        tokens = d._tokens_for(
            message,
            lambda: d._tokens.renew(message.user_id, rejected, force_refresh=force),
            self._finish_by,
        )
        if isinstance(tokens, Outcome):
            return tokens
        self._tokens = tokens
        if d._late(message):
            return d._late_drop(message, "after renewing the token")
        return None

    def _unauthorized(self, event: dict[str, Any], answer: GatewayAnswer) -> Outcome:
        """Every renewed token was refused as well, the later ones fresh from LWA: the fault is
        not the token's (a revoked grant, the wrong LWA client). An answer with a deadline is
        dropped and counted: a redrive from the DLQ would come after Alexa stopped waiting."""
        d, message = self._d, self._message
        what = "dropped" if message.deadline is not None else "dead-lettered"
        logger.error(
            "gateway answered %s to %d renewed tokens (refreshed by LWA after the first) for "
            "user %s: %s %s (check the skill's LWA client id and secret)",
            answer.describe(),
            self._renewals,
            message.user_id,
            message.kind,
            what,
        )
        if message.deadline is not None:
            return d._drop(message, Outcome.UNAUTHORIZED)
        return self._dead_letter(event, "unauthorized", answer)

    def _backoff(self, busy: int, answer: GatewayAnswer | None) -> float | Outcome:
        """Seconds to wait before sending again, or the outcome when there will be no other
        send. Raises RetryLater when SQS should deliver the record again."""
        d, policy, message = self._d, self._d._policy, self._message
        what = answer.describe() if answer is not None else "no answer"
        if message.deadline is None:
            raise RetryLater(f"gateway: {what}; SQS delivers the event again")
        hinted = answer.retry_after if answer is not None else None
        wait = policy.sends.next_wait(
            busy,
            now=d._clock(),
            deadline=message.deadline,
            reserve=policy.min_timeout,
            hint=hinted,
            limit=self._finish_by,
        )
        if wait is Stop.DEADLINE:
            return d._late_drop(message, f"before the gateway accepted it ({what})")
        if wait is Stop.TRIES:  # the deadline would allow another: a hopeless loop
            logger.warning(
                "gateway still failing after %d sends (%s): %s for user %s dropped",
                busy,
                what,
                message.kind,
                message.user_id,
            )
            return d._drop(message, Outcome.GAVE_UP)
        if wait is Stop.LIMIT:
            raise RetryLater(f"gateway: {what}; no Lambda time left to wait")
        logger.warning("gateway: %s; sending again in %.1f s", what, wait)
        return wait

    def _dead_letter(self, event: dict[str, Any], reason: str, answer: GatewayAnswer) -> Outcome:
        kept = self._message.model_copy(update={"message": event})
        return self._d._dead_letter(
            kept.model_dump_json(),
            reason,
            answer,
            UserId=self._message.user_id,
            CorrelationId=self._message.correlation_id,
            Region=self._tokens.region,
        )


def _halves(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A discovery report with two or more endpoints as two reports of half the endpoints each
    (new messageIds); None for anything else."""
    header = event.get("event", {}).get("header", {})
    if header.get("namespace") != "Alexa.Discovery" or header.get("name") not in _DISCOVERY_REPORTS:
        return None
    endpoints = event["event"].get("payload", {}).get("endpoints", [])
    if len(endpoints) < 2:
        return None
    middle = len(endpoints) // 2
    return _with_endpoints(event, endpoints[:middle]), _with_endpoints(event, endpoints[middle:])


def _with_endpoints(event: dict[str, Any], endpoints: list[Any]) -> dict[str, Any]:
    inner = event["event"]
    header = {**inner["header"], "messageId": str(uuid.uuid4())}
    payload = {**inner["payload"], "endpoints": endpoints}
    return {**event, "event": {**inner, "header": header, "payload": payload}}
