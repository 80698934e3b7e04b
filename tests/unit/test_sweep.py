"""The sweep's schedule and reads (docs/scale.md): due slots instead of a scan, one message per
account, a bounded pool of reads, the adaptive cadence and the vendors' quota floors."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from skill import cadence
from skill.bulbs import BulbState
from skill.errors import RateLimited
from skill.pipeline import Pipeline, PipelineServices, SweepScheduler, SweepWorker
from skill.plugins import DeviceReading, Style, VendorQuotas
from skill.records import SweepAccount
from tests.fakes import (
    USER,
    Clock,
    FakeAdapter,
    MemoryOutbox,
    MemoryPollQueue,
    MemoryStateStore,
    MemorySweepQueue,
    credentials_of,
    registry_of,
    vault_with,
)
from tests.unit.test_pipeline import queued

HOUR = 3600.0


# -- the cadence ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("idle_hours", "minutes"),
    [(0, 1), (0.99, 1), (1, 5), (5.9, 5), (6, 15), (23.9, 15), (24, 60), (500, 60)],
)
def test_an_account_is_read_each_minute_while_active_and_backs_off_when_idle(idle_hours, minutes):
    now = 100 * HOUR
    assert cadence.activity_cadence(now, now - idle_hours * HOUR) == minutes


def test_quota_floors_keep_the_sweep_within_its_share_of_each_vendor_quota():
    switchbot = VendorQuotas(calls_per_day_per_account=10_000)
    # 5 bulbs: a list and 5 reads = 6 calls; 20 % of 10,000 a day = 2,000 -> every 4.32 min -> 5
    assert cadence.quota_floor(switchbot, calls_per_read=6, devices=5, share=0.2) == 5
    assert cadence.quota_floor(switchbot, calls_per_read=2, devices=1, share=0.2) == 2
    lifx = VendorQuotas(calls_per_minute_per_account=120)  # one call lists every light
    assert cadence.quota_floor(lifx, calls_per_read=1, devices=40, share=0.2) == 1
    govee = VendorQuotas(calls_per_day_per_account=10_000, calls_per_minute_per_device=10)
    assert cadence.quota_floor(govee, calls_per_read=4, devices=3, share=0.2) == 3
    assert cadence.quota_floor(VendorQuotas(), calls_per_read=50, devices=49, share=0.2) == 1


@pytest.mark.parametrize("devices", [1, 3, 8, 40, 200])
@pytest.mark.parametrize("share", [0.05, 0.2, 1.0])
def test_reads_at_the_floor_never_exceed_the_share_of_any_quota(devices, share):
    quotas = VendorQuotas(
        calls_per_day_per_account=10_000,
        calls_per_minute_per_account=120,
        calls_per_minute_per_device=10,
        calls_per_day_per_device=1_000,
    )
    calls = cadence.calls_per_read(False, devices)
    floor = cadence.quota_floor(quotas, calls, devices, share)
    reads_per_day = 1440 / floor
    assert reads_per_day * calls <= share * 10_000 or floor == cadence.CADENCES[-1]
    assert calls / floor <= share * 120 or floor == cadence.CADENCES[-1]
    assert reads_per_day <= share * 1_000


def test_every_account_is_due_exactly_once_per_cadence():
    accounts = [(f"vendor-{i % 3}", f"user-{i}") for i in range(200)]
    for every in cadence.CADENCES[:8]:
        slots = {a: cadence.slot_of(*a, every) for a in accounts}
        for minute in range(3 * every):
            due = set(cadence.due_slots(minute))
            hits = [a for a, slot in slots.items() if slot in due]
            # over any `every` consecutive minutes, each account is due once
            assert all(slots[a].startswith(f"{every}#") for a in hits)
        window = [set(cadence.due_slots(m)) for m in range(100, 100 + every)]
        assert all(sum(slot in w for w in window) == 1 for slot in slots.values())


# -- the scheduler ----------------------------------------------------------------------------


class NoScanStore(MemoryStateStore):
    def owners(self):
        raise AssertionError("the sweep scanned the table")


def test_the_scheduler_queues_exactly_the_due_accounts_without_a_scan():
    store, queue = NoScanStore(), MemorySweepQueue()
    minute = 10_000
    active = SweepAccount(vendor="lifx", user_id="u1", cadence=1)
    idle = SweepAccount(vendor="lifx", user_id="u2", cadence=60)
    for account in (active, idle):
        store.put_sweep_account(account)
    store.put_sweep_account(SweepAccount(vendor="hue", user_id="u3"), swept=False)  # pushes
    phase = int(cadence.slot_of("lifx", "u2", 60).split("#")[1])
    due_minutes = [m for m in range(minute, minute + 60) if m % 60 == phase]
    for m in range(minute, minute + 60):
        SweepScheduler(store, queue).run(now=m * 60.0)
    sent = queue.take()
    assert sum(a.user_id == "u1" for a in sent) == 60
    assert sum(a.user_id == "u2" for a in sent) == len(due_minutes) == 1
    assert not any(a.user_id == "u3" for a in sent)


# -- the worker -------------------------------------------------------------------------------


@dataclass
class ListingAdapter(FakeAdapter):
    """A vendor that lists every light with its state in one call (LIFX, Hue)."""

    def read_all(self, credential):
        self.calls.append(("read_all", ""))
        self._check(credential)
        return [DeviceReading(d, self.states[i]) for i, d in self.devices.items()]


def world(adapter_class=FakeAdapter, style=Style.POLLING, now=100 * HOUR):
    adapter = adapter_class(style=style)
    clock = Clock(now)
    services = PipelineServices(
        adapters=registry_of(adapter),
        credentials=credentials_of(vault_with(adapter)),
        outbox=MemoryOutbox(),
        pending=MemoryStateStore(),
        poll_queue=MemoryPollQueue(),
        clock=clock,
        sleep=clock.sleep,
    )
    services.pending.add_sweep_account(SweepAccount(vendor="fake", user_id=USER, last_activity=now))
    return adapter, services, clock


def tick(services, clock, **worker):
    queue = MemorySweepQueue()
    SweepScheduler(services.pending, queue, clock=clock).run()
    return SweepWorker(services, **worker).read(queue.take())


def account(services) -> tuple[SweepAccount, str | None]:
    return services.pending.accounts[("fake", USER)]


def test_a_vendor_that_lists_states_is_read_with_one_call_per_account():
    adapter, services, clock = world(ListingAdapter)
    tick(services, clock)
    assert adapter.calls == [("read_all", "")]
    adapter.calls.clear()
    adapter2, services2, clock2 = world(FakeAdapter)
    tick(services2, clock2)
    assert [c for c, _ in adapter2.calls] == ["list", "read", "read", "read"]


def test_the_first_read_learns_the_bulbs_and_a_change_made_outside_alexa_is_reported(
    assert_alexa_valid,
):
    from skill.alexa.events import with_scope

    adapter, services, clock = world()
    first = tick(services, clock)
    assert first.read == 1 and [m.kind for m in services.outbox.messages] == ["AddOrUpdateReport"]
    services.outbox.messages.clear()
    assert tick(services, clock).events == 0  # nothing changed: nothing sent
    adapter.states["white-1"] = BulbState(on=True, brightness=5)
    clock.now += 60
    assert tick(services, clock).events == 1
    [report] = services.outbox.messages
    assert report.kind == "ChangeReport"
    assert_alexa_valid(with_scope(report.message, "lwa-token"))


def test_an_idle_account_backs_off_and_a_command_brings_it_back_to_each_minute():
    _adapter, services, clock = world(now=100 * HOUR)
    tick(services, clock)
    clock.now += 2 * HOUR  # nothing happened for two hours
    # read at its slot: find the minute the 1-minute slot is due (always) and read
    tick(services, clock)
    assert account(services)[0].cadence == 5
    clock.now += 30 * HOUR
    for _ in range(60):  # an hour of minutes: it is read once, at its phase
        tick(services, clock)
        clock.now += 60
    assert account(services)[0].cadence == 60
    Pipeline(services).process(queued(received=clock.now))  # a command
    swept, slot = account(services)
    assert swept.cadence == 1 and swept.last_activity == clock.now and slot.startswith("1#")


def test_an_outside_change_counts_as_activity():
    adapter, services, clock = world(now=100 * HOUR)
    tick(services, clock)
    clock.now += 7 * HOUR
    tick(services, clock)
    assert account(services)[0].cadence == 15
    adapter.states["white-1"] = BulbState(on=True, brightness=5)
    for _ in range(15):
        clock.now += 60
        tick(services, clock)
    assert account(services)[0].cadence == 1


def test_a_vendor_quota_sets_the_floor_of_the_cadence():
    adapter, services, clock = world()
    adapter.quotas = VendorQuotas(calls_per_day_per_account=10_000)  # 3 bulbs: 4 calls a read
    tick(services, clock)
    swept, slot = account(services)
    assert swept.floor == 3 and swept.cadence == 3 and slot.startswith("3#")
    Pipeline(services).process(queued(received=clock.now))
    assert account(services)[0].cadence == 3  # a command: as often as the quota allows, no more


def test_a_throttled_account_slows_down_and_backs_off_its_credential():
    adapter, services, clock = world()
    adapter.failure = RateLimited("429", retry_after=120)
    result = tick(services, clock)
    assert result.skipped == 1 and result.failed == []
    assert account(services)[0].cadence == 2
    adapter.failure, adapter.calls[:] = None, []
    clock.now += 60
    tick(services, clock)
    assert adapter.calls == []  # still within Retry-After


def test_a_command_during_a_read_is_not_undone_by_the_sweep():
    adapter, services, clock = world(now=100 * HOUR)
    tick(services, clock)
    clock.now += 2 * HOUR  # idle: this read would move the account to every 5 minutes
    original = adapter.list_devices

    def command_meanwhile(credential):
        services.pending.record_activity("fake", USER, clock.now)  # a command lands
        return original(credential)

    adapter.list_devices = command_meanwhile
    tick(services, clock)
    swept, slot = account(services)
    assert swept.cadence == 1 and swept.last_activity == clock.now and slot.startswith("1#")


def test_push_accounts_and_unlinked_users_leave_the_schedule_and_disconnected_ones_are_forgotten():
    adapter, services, clock = world()
    services.vault = services.credentials.vault
    services.vault.expire_user(USER, clock.now + 30 * 86400)
    tick(services, clock)
    assert account(services)[1] is None and adapter.calls == []
    services.pending.add_sweep_account(SweepAccount(vendor="fake", user_id=USER))  # Discover again
    assert account(services)[1] is not None
    services.vault.delete(USER, "fake")
    tick(services, clock)
    assert ("fake", USER) not in services.pending.accounts


def test_a_read_whose_events_cannot_be_stored_is_delivered_again_and_reports_again():
    adapter, services, clock = world()
    tick(services, clock)
    adapter.states["white-1"] = BulbState(on=True, brightness=5)
    services.outbox.failure = RuntimeError("SQS down")
    result = tick(services, clock)
    assert result.failed == [0] and result.events == 0
    services.outbox.failure = None
    assert tick(services, clock).events == 1, "the change was lost with the failed batch"


def test_the_pool_reads_accounts_concurrently_and_never_more_than_its_bound():
    adapter, services, _clock = world()
    inside, most, lock = [0], [0], threading.Lock()
    barrier = threading.Barrier(4, timeout=5)
    list_devices = adapter.list_devices

    def slow_list(credential):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            barrier.wait()  # four reads must be in flight at once to pass
        except threading.BrokenBarrierError:
            pass
        finally:
            with lock:
                inside[0] -= 1
        return list_devices(credential)

    adapter.list_devices = slow_list
    tickets = [SweepAccount(vendor="fake", user_id=USER) for _ in range(12)]
    result = SweepWorker(services, concurrency=4).read(tickets)
    assert result.read == 12 and most[0] == 4


def test_a_worker_near_its_timeout_starts_no_more_reads():
    adapter, services, _clock = world()
    tickets = [SweepAccount(vendor="fake", user_id=USER) for _ in range(3)]
    result = SweepWorker(services, time_left=lambda: 5.0).read(tickets)
    assert result.skipped == 3 and adapter.calls == []


def test_vendor_calls_get_a_wall_clock_deadline_whatever_the_services_clock():
    """The transport compares its deadline with ``time.time()``: a virtual clock (the scale
    run's) must not make every call look late."""
    import time

    from skill.plugins._deadline import CALL_DEADLINE

    adapter, services, clock = world(now=1_000.0)  # far in the past
    seen = []
    list_devices = adapter.list_devices
    adapter.list_devices = lambda credential: (
        seen.append(CALL_DEADLINE.get()),
        list_devices(credential),
    )[1]
    tick(services, clock)
    assert seen and abs(seen[0] - (time.time() + 10)) < 5
