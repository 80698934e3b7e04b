"""The sweep: read the lights of vendor accounts that do not push, on each account's cadence,
and report what changed outside Alexa (ChangeReport) and what was added or removed
(AddOrUpdateReport/DeleteReport).

``SweepScheduler`` (``_scheduler``) puts one message per due account on the sweep queue each
minute; ``SweepWorker`` reads the accounts of a batch of those messages concurrently with a
bounded pool, and moves an account's cadence when its activity or its vendor's quotas say so
(docs/scale.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from skill import bulbs, cadence
from skill.alexa import events
from skill.bulbs import BulbState, Features
from skill.errors import EndpointUnreachable, NoSuchEndpoint, RateLimited, SkillError
from skill.pipeline._answers import Answers
from skill.pipeline._services import PipelineServices
from skill.plugins import (
    Adapter,
    AnyCredential,
    Device,
    DeviceReading,
    PushAdapter,
    StateLister,
    call_deadline,
    decode_endpoint_id,
    encode_endpoint_id,
    quotas_of,
)
from skill.records import DeviceOwner, OutboxMessage, SweepAccount

logger = logging.getLogger(__name__)

#: Accounts one worker reads at once: Lambda bills wall time, and a read mostly waits on the
#: vendor, so a pool of threads turns the wait of many accounts into one.
DEFAULT_CONCURRENCY = 16
#: Vendor calls of one account's read end by then (the transport cuts its timeouts to it).
ACCOUNT_READ_SECONDS = 10.0
#: A worker starts no account read with less than this left of its invocation: the account is
#: due again at its next slot.
STOP_MARGIN_SECONDS = ACCOUNT_READ_SECONDS + 2.0


class SweepResult:
    """What one batch's read did. Plain slotted classes here and in ``_Read``: a dataclass
    costs about 0.4 ms to create at every cold start, and these need no generated methods."""

    __slots__ = ("events", "failed", "read", "skipped")

    def __init__(self) -> None:
        self.events = 0
        self.read = 0
        #: Positions (in the tickets given) whose events could not be stored: SQS delivers
        #: them again. Vendor failures are not here: the account is read at its next slot.
        self.failed: list[int] = []
        self.skipped = 0

    def __repr__(self) -> str:
        return (
            f"SweepResult(events={self.events}, read={self.read}, "
            f"failed={self.failed}, skipped={self.skipped})"
        )


class _Read:
    """What one account's read found: events to send, owner records to write or delete."""

    __slots__ = ("messages", "owners", "removed")

    def __init__(self) -> None:
        self.messages: list[OutboxMessage] = []
        self.owners: list[DeviceOwner] = []
        self.removed: list[DeviceOwner] = []


class SweepWorker:
    def __init__(
        self,
        services: PipelineServices,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        quota_share: float = cadence.DEFAULT_QUOTA_SHARE,
        time_left: Callable[[], float] | None = None,
    ) -> None:
        self.services = services
        self.answers = Answers(services.clock)
        self.concurrency = max(1, concurrency)
        self.quota_share = quota_share
        self.time_left = time_left

    def read(self, tickets: list[SweepAccount]) -> SweepResult:
        result = SweepResult()
        if not tickets:
            return result
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(tickets))) as pool:
            futures = [pool.submit(self._read_in_time, ticket) for ticket in tickets]
        for position, future in enumerate(futures):
            try:
                sent = future.result()
            except Exception:  # the events were not stored: SQS delivers it again
                logger.exception("sweep of one account failed")
                result.failed.append(position)
                continue
            if sent is None:
                result.skipped += 1
            else:
                result.read += 1
                result.events += sent
        self.services.count("SweepAccountsRead", result.read)
        if result.skipped:
            self.services.count("SweepAccountsSkipped", result.skipped)
        return result

    def _read_in_time(self, ticket: SweepAccount) -> int | None:
        if self.time_left is not None and self.time_left() < STOP_MARGIN_SECONDS:
            return None
        # wall time, as the transport compares it with (the services' clock may be virtual)
        with call_deadline(time.time() + ACCOUNT_READ_SECONDS):
            return self.read_account(ticket)

    def read_account(self, ticket: SweepAccount) -> int | None:
        """Read one account; the events sent, or None when it was not read (vendor failure,
        throttled, no longer swept)."""
        services = self.services
        vendor, user_id = ticket.vendor, ticket.user_id
        try:
            adapter = services.adapters.get(vendor)
            stored = services.credentials.stored(user_id, vendor)
        except NoSuchEndpoint:  # the vendor is gone, or the user disconnected it
            services.pending.delete_sweep_account(vendor, user_id)
            return None
        if (isinstance(adapter, PushAdapter) and stored.push) or stored.grace_until is not None:
            # the vendor tells us itself, or the user unlinked the skill: nobody to report to
            services.pending.put_sweep_account(ticket, swept=False)
            return None
        now = services.clock()
        if services.backoff.get((vendor, user_id), 0.0) > now:
            return None
        try:
            credential = services.credentials.for_adapter(user_id, adapter)
            readings = self._readings(adapter, credential)
        except RateLimited as error:
            services.backoff[(vendor, user_id)] = now + (error.retry_after or 60.0)
            slower = cadence.slower(ticket.cadence)
            services.pending.reschedule_sweep_account(
                ticket.model_copy(update={"cadence": slower}), seen=ticket
            )
            services.count("SweepThrottled", 1)
            return None
        except SkillError as error:
            logger.info("sweep of %s skipped: %s", vendor, error.alexa_type)
            return None
        owners = services.pending.owners_of_user(user_id, vendor)
        found = self._compare(adapter, user_id, readings, owners, stored.account_id)
        if found.messages:
            services.outbox.put(found.messages)  # before the owners: a failure reads again
        if found.owners:
            services.pending.put_owners(found.owners)
        for owner in found.removed:
            services.pending.delete_owner(owner.endpoint_id, user_id)
        self._reschedule(ticket, adapter, len(readings), changed=bool(found.messages), now=now)
        return len(found.messages)

    def _readings(self, adapter: Adapter, credential: AnyCredential) -> list[DeviceReading]:
        if isinstance(adapter, StateLister):
            return adapter.read_all(credential)
        readings = []
        for device in adapter.list_devices(credential):
            try:
                state: BulbState | None = adapter.read_state(credential, device.id)
            except EndpointUnreachable:
                state = None  # the vendor answers but cannot reach this light
            readings.append(DeviceReading(device, state))
        return readings

    def _reschedule(
        self, ticket: SweepAccount, adapter: Adapter, devices: int, *, changed: bool, now: float
    ) -> None:
        last_activity = now if changed else ticket.last_activity
        floor = cadence.quota_floor(
            quotas_of(adapter),
            cadence.calls_per_read(isinstance(adapter, StateLister), devices),
            devices,
            self.quota_share,
        )
        every = max(cadence.on_ladder(cadence.activity_cadence(now, last_activity)), floor)
        account = ticket.model_copy(
            update={
                "cadence": every,
                "last_activity": last_activity,
                "devices": devices,
                "floor": floor,
            }
        )
        if account != ticket:
            self.services.pending.reschedule_sweep_account(account, seen=ticket)

    def _compare(
        self,
        adapter: Adapter,
        user_id: str,
        readings: list[DeviceReading],
        owners: list[DeviceOwner],
        account_id: str | None,
    ) -> _Read:
        found = _Read()
        devices = {r.device.id: r for r in readings}
        known = {decode_endpoint_id(o.endpoint_id)[1]: o for o in owners}
        added: list[Device] = [r.device for i, r in devices.items() if i not in known]
        removed = [o for i, o in known.items() if i not in devices]
        if added:
            # a new bulb at the vendor (rare): only then load Discover's code
            from skill import discovery

            endpoints = [discovery.discovery_endpoint(adapter, d) for d in added]
            found.messages.append(
                OutboxMessage(
                    user_id=user_id,
                    kind="AddOrUpdateReport",
                    message=events.add_or_update_report(endpoints),
                )
            )
        if removed:
            found.messages.append(
                OutboxMessage(
                    user_id=user_id,
                    kind="DeleteReport",
                    message=events.delete_report([o.endpoint_id for o in removed]),
                )
            )
            found.removed = removed
        for device_id, reading in devices.items():
            owner = known.get(device_id)
            actual, cached = reading.state, False
            if actual is None:
                # unreachable: its last known values, with connectivity UNREACHABLE
                # (EndpointHealth is proactively reported)
                if owner is None or owner.state is None:
                    continue
                actual, cached = owner.state.model_copy(update={"reachable": False}), True
            self._observe(
                found,
                adapter.name,
                user_id,
                encode_endpoint_id(adapter.name, device_id),
                reading.device.features,
                owner,
                actual,
                account_id,
                cached=cached,
            )
        return found

    def _observe(
        self,
        found: _Read,
        vendor: str,
        user_id: str,
        endpoint_id: str,
        features: Features,
        owner: DeviceOwner | None,
        actual: BulbState,
        account_id: str | None,
        *,
        cached: bool = False,
    ) -> None:
        """Compare what the vendor shows with what the user was told; a ChangeReport when they
        differ. Within the window after a command's answer, the answered state stands while
        the vendor does not show it yet: no ChangeReport in the other direction. ``cached``:
        the values are the owner record's (the light could not be read), so they keep the time
        they were recorded."""
        now = self.services.clock()
        state, standing = actual, False
        if owner is not None:
            state, standing = bulbs.standing(
                actual,
                last=owner.state,
                expected=owner.expected,
                expected_until=owner.expected_until,
                now=now,
            )
            window_unchanged = owner.expected is None or standing
            if owner.state == state and owner.features == features and window_unchanged:
                return  # nothing changed: no write, no event (the common case)
            if self.services.pending.pending_for(endpoint_id):
                return  # a command is in flight: its answer will say the state
        if owner is not None and owner.state is not None:
            report = self.answers.change_report(
                user_id=user_id,
                endpoint_id=endpoint_id,
                features=features,
                before=owner.state,
                after=state,
                cause="PERIODIC_POLL",
            )
            if report is not None:  # None: no reportable property changed
                found.messages.append(report)
        found.owners.append(
            DeviceOwner(
                endpoint_id=endpoint_id,
                user_id=user_id,
                vendor=vendor,
                features=features,
                state=state,
                updated_at=owner.updated_at if cached and owner is not None else now,
                account_id=account_id,
                expected=owner.expected if owner is not None and standing else None,
                expected_until=owner.expected_until if owner is not None and standing else 0.0,
            )
        )
