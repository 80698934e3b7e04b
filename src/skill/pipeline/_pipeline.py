"""One pipeline for every style: parse -> adapter -> bulb semantics -> strategy -> outbox.

A processor builds ``Pipeline(PipelineServices(adapters, credentials, outbox, pending,
poll_queue))`` once (``skill.composition``) and calls ``pipeline.process(directive)`` with each
``QueuedDirective`` its queue delivers; ``tests/unit/test_pipeline.py`` does the same over the
in-memory stores.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from skill import bulbs
from skill.alexa import SUPPORTED, parse_envelope
from skill.bulbs import BulbState, Features
from skill.errors import (
    EndpointUnreachable,
    InvalidAuthorizationCredential,
    RateLimited,
    SkillError,
)
from skill.pipeline._answers import Answers
from skill.pipeline._outcomes import DirectiveOutcome
from skill.pipeline._services import BACKOFF_MAX_SECONDS, PipelineServices
from skill.pipeline._styles import STRATEGIES
from skill.plugins import (
    Adapter,
    AnyCredential,
    Style,
    call_deadline,
    decode_endpoint_id,
)
from skill.plugins._contract import execute_accepts_known
from skill.records import DeviceOwner, OutboxMessage, PendingCommand, QueuedDirective
from skill.retry import Backoff, Stop, leaves_room

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Leave this much of the deadline for the outbox -> dispatcher -> gateway leg: the SQS hop,
#: and three sends to the gateway (the dispatcher's first two back-offs, 0.25 + 0.5 s, and its
#: per-send timeout of 1 s), so a gateway failing one send in three still gets the answer.
#: Vendor calls and their retries stop this long before Alexa's deadline.
DELIVERY_MARGIN_SECONDS = 2.5
#: A 429 without Retry-After backs its credential off this long; no back-off lasts longer
#: than BACKOFF_MAX_SECONDS in memory (a daily quota is the adapter's to remember).
DEFAULT_BACKOFF_SECONDS = 2.0
#: Tries of one vendor call, the first included, and the waits between them; a vendor's
#: Retry-After replaces the planned wait.
VENDOR_RETRIES = Backoff(delays=(0.25, 0.5, 1.0), max_tries=4, hint_wins=True)


class Pipeline:
    def __init__(self, services: PipelineServices) -> None:
        self.services = services
        self.answers = Answers(services.clock)

    def process(self, queued: QueuedDirective) -> DirectiveOutcome:
        """Carry one stored directive to the vendor and record or send its answer.

        Returns what happened; raises only when the answer could not be stored (so SQS
        delivers the directive again).
        """
        services = self.services
        if services.clock() > queued.deadline:
            logger.warning("directive arrived after its deadline; dropped")
            services.count("LateDrops", 1)
            return DirectiveOutcome.LATE
        vendor, device_id = decode_endpoint_id(queued.endpoint_id)
        job = Job(self, queued, vendor, device_id)
        try:
            job.adapter = services.adapters.get(vendor)
            if services.paused(vendor):
                raise EndpointUnreachable(f"{vendor} is paused by the operators")
            job.credential = services.credentials.for_adapter(queued.user_id, job.adapter)
            job.account_id = services.credentials.stored(queued.user_id, vendor).account_id
            job.run()
        except SkillError as error:
            services.count("VendorErrors", 1)
            job.send([job.error(error)])
            self._record_activity(vendor, queued.user_id)
            return DirectiveOutcome.ANSWERED
        self._record_activity(vendor, queued.user_id)
        return job.outcome

    def _record_activity(self, vendor: str, user_id: str) -> None:
        """A command: the sweep reads the account each minute again for the next hour. Best
        effort, after the answer: the sweep's cadence must not cost a command."""
        try:
            self.services.pending.record_activity(vendor, user_id, self.services.clock())
        except Exception as error:  # noqa: BLE001 - activity is advisory: the directive goes on
            logger.warning("account activity not recorded (%s)", type(error).__name__)

    def call(
        self,
        adapter: Adapter,
        operation: Callable[[], T],
        *,
        deadline: float,
        breaker: bool = True,
        credential_key: tuple[str, str] | None = None,
    ) -> T:
        """Run a vendor call through its circuit breaker, retrying retryable failures while the
        deadline allows. An open breaker raises at once with its cool-down as ``retry_after``,
        which is longer than the time left: the answer is ENDPOINT_UNREACHABLE without waiting.

        A 429 backs off only the credential it was about (``credential_key``): its calls wait
        out ``Retry-After`` when the deadline allows, else answer ENDPOINT_UNREACHABLE at once;
        other users of the vendor are not touched, and the breaker does not count it."""
        circuit = self.services.breaker_for(adapter.name) if breaker else None
        guarded = operation if circuit is None else (lambda: circuit.guard(operation))
        failures = 0
        while True:
            self._wait_out_backoff(adapter, credential_key, deadline)
            try:
                left = deadline - DELIVERY_MARGIN_SECONDS - self.services.clock()
                with call_deadline(time.time() + left):  # the pipeline's clock may be a test's
                    return guarded()
            except SkillError as error:
                if isinstance(error, InvalidAuthorizationCredential) or not error.retryable:
                    raise
                failures += 1
                hint = getattr(error, "retry_after", None)
                if isinstance(error, RateLimited) and credential_key is not None:
                    until = self.services.clock() + min(
                        hint or DEFAULT_BACKOFF_SECONDS, BACKOFF_MAX_SECONDS
                    )
                    self.services.backoff[credential_key] = max(
                        until, self.services.backoff.get(credential_key, 0)
                    )
                    self.services.count("RateLimited", 1)
                    if VENDOR_RETRIES.exhausted(failures):
                        raise EndpointUnreachable(
                            f"{adapter.name} rate-limits this account"
                        ) from None
                    continue  # the back-off decides: wait, or answer at once
                wait = VENDOR_RETRIES.next_wait(
                    failures,
                    now=self.services.clock(),
                    deadline=deadline,
                    reserve=DELIVERY_MARGIN_SECONDS,
                    hint=hint,
                )
                if isinstance(wait, Stop):
                    raise
                logger.info(
                    "vendor %s: %s, retrying in %.2fs", adapter.name, error.alexa_type, wait
                )
                self.services.sleep(wait)

    def _wait_out_backoff(
        self, adapter: Adapter, key: tuple[str, str] | None, deadline: float
    ) -> None:
        if key is None:
            return
        until = self.services.backoff.get(key, 0.0)
        now = self.services.clock()
        wait = until - now
        if wait <= 0:
            return
        if not leaves_room(wait, now=now, end=deadline, reserve=DELIVERY_MARGIN_SECONDS):
            raise EndpointUnreachable(f"{adapter.name} rate-limits this account; try again shortly")
        logger.info("vendor %s: this account is rate limited, waiting %.2fs", adapter.name, wait)
        self.services.sleep(wait)


class Job:
    """The work on one directive; strategies call back into it."""

    adapter: Adapter
    credential: AnyCredential
    account_id: str | None = None

    def __init__(
        self, pipeline: Pipeline, queued: QueuedDirective, vendor: str, device_id: str
    ) -> None:
        self.pipeline = pipeline
        self.services = pipeline.services
        self.queued = queued
        self.vendor = vendor
        self.device_id = device_id
        self.user_id = queued.user_id
        self.outcome = DirectiveOutcome.ANSWERED
        self.features: Features = queued.features or Features()
        #: The (bulb, user) owner record as read before the command, if any.
        self.owner: DeviceOwner | None = None
        #: What the skill answered for the last command while the vendor does not show it yet.
        self.in_flight: BulbState | None = None
        #: The bulb as the user knows it (the vendor's state, a dimmed-off level carried over).
        self.current = BulbState()
        self.expected = BulbState()
        self.change = bulbs.Change()

    @property
    def endpoint_id(self) -> str:
        return self.queued.endpoint_id

    def run(self) -> None:
        queued, adapter = self.queued, self.adapter
        directive = parse_envelope({"directive": queued.directive}).directive
        command = SUPPORTED[directive.key].command(directive)
        key = (self.vendor, self.user_id)

        def call(adapter: Adapter, operation: Callable[[], T], *, deadline: float) -> T:
            return self.pipeline.call(adapter, operation, deadline=deadline, credential_key=key)

        if queued.features is None:
            # a directive without the cookie's features (rare): only then load Discover's code
            from skill import discovery

            device = call(
                adapter,
                lambda: discovery.find_device(adapter, self.credential, self.device_id),
                deadline=queued.deadline,
            )
            self.features = device.features
        actual = call(
            adapter,
            lambda: adapter.read_state(self.credential, self.device_id),
            deadline=queued.deadline,
        )
        if not actual.reachable:  # EndpointHealth UNREACHABLE: no Response saying it obeyed
            raise EndpointUnreachable("the vendor says the light is not connected")
        self.owner = self._owner()
        # The command acts on the bulb as the user knows it (a light dimmed to 0 still is at 0);
        # the vendor is asked for what its own state lacks.
        current = self.current = bulbs.carry_zero(actual, self.owner.state if self.owner else None)
        self.expected = bulbs.apply_command(current, command, self.features)
        change = bulbs.changes_for(actual, self.expected)
        in_flight = self.in_flight = self._unconfirmed_answer(actual)
        if in_flight is not None:  # the vendor may still carry out the last command: undo it too
            change = change.merged(bulbs.changes_for(in_flight, self.expected))
        self.change = change
        if change.is_empty():
            self.respond(self.expected, confirmed=True)  # already so: nothing to ask the vendor
            return
        strategy = STRATEGIES[Style(self.services.style_override(adapter.name) or adapter.style)]
        strategy.prepare(self)  # before the vendor can answer by another way (a fast push)
        # The state just read goes along to adapters that take it, so they need not read again.
        known = {"known": actual} if execute_accepts_known(adapter) else {}
        try:
            outcome = call(
                adapter,
                lambda: adapter.execute(self.credential, self.device_id, change, **known),
                deadline=queued.deadline,
            )
        except Exception:
            if not strategy.abandon(self):
                logger.info("the vendor failed, but its push had already answered the command")
                return
            raise
        strategy.finish(self, outcome)

    # --- callbacks for the strategies -------------------------------------------------------

    def respond(self, state: BulbState, *, confirmed: bool = False) -> None:
        """Answer ``state``. Unless the vendor already shows it (``confirmed``), it stands as the
        bulb's expected state for ``EXPECTED_STATE_WINDOW_SECONDS`` (read-your-writes)."""
        self.remember(state, window="close" if confirmed else "open")
        self.send([self.response(state)])

    def response(self, state: BulbState) -> OutboxMessage:
        return self.pipeline.answers.response(
            user_id=self.user_id,
            endpoint_id=self.endpoint_id,
            correlation_token=self.queued.header.get("correlationToken"),
            features=self.features,
            state=state,
            received_at=self.queued.received_at,
            deadline=self.queued.deadline,
            correlation_id=self.queued.message_id,
        )

    def error(self, error: SkillError) -> OutboxMessage:
        return self.pipeline.answers.error(
            error,
            user_id=self.user_id,
            endpoint_id=self.endpoint_id,
            correlation_token=self.queued.header.get("correlationToken"),
            received_at=self.queued.received_at,
            deadline=self.queued.deadline,
            correlation_id=self.queued.message_id,
        )

    def send(self, messages: list[OutboxMessage]) -> None:
        self.services.outbox.put(messages)

    def remember(self, state: BulbState, *, window: str = "keep") -> None:
        """Record the bulb's owner and last known state, for ReportState, pushes and the sweep.

        ``window``: ``open`` when the skill just answered ``state`` before the vendor showed it
        (the bulb's expected state for a short window), ``close`` when it answered what the
        vendor shows, ``keep`` when nothing was answered yet (a window stays while the vendor
        still does not show it)."""
        now = self.services.clock()
        expected: BulbState | None = None
        until = 0.0
        if window == "open":
            expected, until = state, now + bulbs.EXPECTED_STATE_WINDOW_SECONDS
        elif window == "keep" and self.owner is not None and self.in_flight is not None:
            expected, until = self.in_flight, self.owner.expected_until  # still not shown
        self.services.pending.put_owner(
            DeviceOwner(
                endpoint_id=self.endpoint_id,
                user_id=self.user_id,
                vendor=self.vendor,
                features=self.features,
                state=state,
                updated_at=now,
                account_id=self.account_id,
                expected=expected,
                expected_until=until,
            )
        )

    def _unconfirmed_answer(self, actual: BulbState) -> BulbState | None:
        """The state the skill answered for the last command while the vendor does not show it
        yet (its window open), else None."""
        owner = self.owner
        if owner is None or owner.expected is None:
            return None
        _, stands = bulbs.standing(
            actual,
            last=owner.state,
            expected=owner.expected,
            expected_until=owner.expected_until,
            now=self.services.clock(),
        )
        return owner.expected if stands else None

    def _owner(self) -> DeviceOwner | None:
        """The owner record, or None when there is none or it cannot be read (the command then
        acts on the vendor's state alone: a read failure must not fail the command)."""
        try:
            return self.services.pending.owner_of(self.endpoint_id, self.user_id)
        except Exception as error:  # noqa: BLE001 - best effort
            logger.warning(
                "owner record not read (%s); using the vendor's state", type(error).__name__
            )
            return None

    def pending_command(self, reference: str | None) -> PendingCommand:
        self.outcome = DirectiveOutcome.PENDING
        self.remember(self.current)
        return PendingCommand(
            endpoint_id=self.endpoint_id,
            message_id=self.queued.message_id,
            correlation_token=self.queued.header.get("correlationToken"),
            user_id=self.user_id,
            reference=reference,
            change=self.change,
            expected=self.expected,
            features=self.features,
            received_at=self.queued.received_at,
            deadline=self.queued.deadline,
        )

    def watchdog_delay(self) -> int:
        """Seconds until the last useful moment to read the bulb before the deadline."""
        left = self.queued.deadline - DELIVERY_MARGIN_SECONDS - 1.5 - self.services.clock()
        return max(1, int(left))
