"""The scale run: the sweep over thousands of simulated vendor accounts for
one simulated day, with the vendors' quotas enforced by the simulator as the real vendors
enforce them.

``python -m bulb_workbench.bench.scale`` (or ``BENCH_ONLY=scale make bench``). Knobs:
``SCALE_ACCOUNTS`` (10000), ``SCALE_MINUTES`` (1440), ``SCALE_SEED`` (14).

What runs: ``VendorSimulator(enforce_quotas=True)`` on a virtual clock, with ``SCALE_ACCOUNTS``
accounts over the four simulated vendors (each with a real vendor's quota profile: sim-sync
LIFX, sim-optimistic Hue, sim-polling Govee, sim-async SwitchBot, see ``_sim_quotas``) and 1-12
bulbs each. Each virtual minute: the day's scripted events of that minute happen (commands of
the active accounts, changes made outside Alexa in the simulator), then the real
``SweepScheduler(schedule, queue).run(now)`` finds the due accounts from the slot index and the
real ``SweepWorker(services).read(tickets)`` reads them in batches of 100 with the real sim
adapters. The adapters reach the simulator in-process (``bulb_workbench.local._sim_inproc``: the
same routing, authentication, quotas and answers, no socket): loopback HTTP for millions of calls
would take hours on two cores. The stores are in memory (an index of slots, as the GSI).

A command is modelled by what the sweep sees of it: one vendor call charged to the account's
quota (refused when over it), the bulb changed in the simulator, the owner record updated with
the answered state and the account's activity recorded (``record_activity``), as the processor
does; the directive pipeline itself is not what this run measures.

Reported (``results()`` for ``bench/results.json``): the share of reads made within the
account's cadence, calls per account per day against each quota (max and p99 of the share used,
all calls and the sweep's alone), the 429s, and ChangeReports sent against outside changes made.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from typing import Any

from bulb_workbench.local._sim_inproc import IN_PROCESS_URL, in_process_session
from bulb_workbench.local.sim_adapters import (
    SimulatorAdapter,
    SimulatorListerAdapter,
    SimulatorPushAdapter,
    _bulb_state,
    _state_fields,
)
from bulb_workbench.local.simulator import VendorSimulator
from skill import cadence
from skill.credentials import Credentials
from skill.pipeline import PipelineServices, SweepScheduler, SweepWorker
from skill.plugins import (
    AdapterRegistry,
    ApiKey,
    CredentialKind,
    DeviceReading,
    KeyAndSecret,
    OAuthToken,
    StateLister,
    Style,
    decode_endpoint_id,
    encode_endpoint_id,
    quotas_of,
)
from skill.records import DeviceOwner, StoredCredential, SweepAccount

DAY0 = 20_000 * 86_400.0  # a UTC midnight: the simulated day is one quota day
#: Vendor mix of the accounts (share), each standing for a real vendor.
VENDOR_MIX = (
    ("sim-sync", 0.30),
    ("sim-optimistic", 0.25),
    ("sim-polling", 0.30),
    ("sim-async", 0.15),
)
#: Bulbs per account, drawn uniformly from this list (a few large homes).
BULBS = (1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 8, 12)
#: Share of accounts that use Alexa that day, and their commands (waking hours).
ACTIVE_SHARE = 0.25
COMMANDS = (1, 6)
#: Share of accounts whose bulbs someone changes outside Alexa (app, wall switch) that day.
OUTSIDE_SHARE = 0.30
OUTSIDE_CHANGES = (1, 3)
BATCH = 100  # the sweep queue's batch size (the consumer's BatchSize)
QUOTA_SHARE = cadence.DEFAULT_QUOTA_SHARE

_LAST: dict[str, Any] | None = None


class VirtualClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


# -- in-memory stores (a slot index, as the SweepSlots GSI) ------------------------------------


class _Vault:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], StoredCredential] = {}

    def get(self, user_id: str, vendor: str) -> StoredCredential | None:
        return self.items.get((user_id, vendor))

    def vendors_of(self, user_id: str) -> list[str]:
        return [v for (u, v) in self.items if u == user_id]

    def put(self, stored: StoredCredential, *, if_version: int | None = None) -> StoredCredential:
        self.items[(stored.user_id, stored.vendor)] = stored
        return stored

    def take_lease(self, *args: Any) -> bool:
        return True

    def delete(self, user_id: str, vendor: str) -> None:
        self.items.pop((user_id, vendor), None)


class _Pending:
    """Owner records and the sweep's schedule, indexed by slot like the GSI."""

    def __init__(self) -> None:
        self.by_user: dict[tuple[str, str], dict[str, DeviceOwner]] = defaultdict(dict)
        self.accounts: dict[tuple[str, str], tuple[SweepAccount, str | None]] = {}
        self.slots: dict[str, set[tuple[str, str]]] = defaultdict(set)

    # owners
    def put_owner(self, owner: DeviceOwner) -> None:
        self.by_user[(owner.user_id, owner.vendor)][owner.endpoint_id] = owner

    def put_owners(self, owners: list[DeviceOwner]) -> None:
        for owner in owners:
            self.put_owner(owner)

    def owners_of_user(self, user_id: str, vendor: str | None = None) -> list[DeviceOwner]:
        return list(self.by_user.get((user_id, vendor or ""), {}).values())

    def owner_of(self, endpoint_id: str, user_id: str) -> DeviceOwner | None:
        vendor = decode_endpoint_id(endpoint_id)[0]
        return self.by_user.get((user_id, vendor), {}).get(endpoint_id)

    def delete_owner(self, endpoint_id: str, user_id: str) -> None:
        for owners in self.by_user.values():
            owners.pop(endpoint_id, None)

    def pending_for(self, endpoint_id: str) -> list[Any]:
        return []

    # the schedule
    def put_sweep_account(self, account: SweepAccount, *, swept: bool = True) -> None:
        key = (account.vendor, account.user_id)
        old = self.accounts.get(key)
        if old is not None and old[1] is not None:
            self.slots[old[1]].discard(key)
        slot = cadence.slot_of(account.vendor, account.user_id, account.cadence) if swept else None
        self.accounts[key] = (account, slot)
        if slot is not None:
            self.slots[slot].add(key)

    def add_sweep_account(self, account: SweepAccount) -> bool:
        self.put_sweep_account(account)
        return True

    def reschedule_sweep_account(self, account: SweepAccount, *, seen: SweepAccount) -> bool:
        known = self.accounts.get((account.vendor, account.user_id))
        if known is None or known[1] is None or known[0].last_activity != seen.last_activity:
            return False
        self.put_sweep_account(account)
        return True

    def due_accounts(self, slot: str) -> list[SweepAccount]:
        return [self.accounts[key][0] for key in self.slots.get(slot, ())]

    def record_activity(self, vendor: str, user_id: str, now: float) -> None:
        known = self.accounts.get((vendor, user_id))
        if known is None or known[1] is None:
            return
        account = known[0]
        self.put_sweep_account(
            account.model_copy(update={"last_activity": now, "cadence": account.floor})
        )

    def delete_sweep_account(self, vendor: str, user_id: str) -> None:
        known = self.accounts.pop((vendor, user_id), None)
        if known is not None and known[1] is not None:
            self.slots[known[1]].discard((vendor, user_id))


class _Outbox:
    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()

    def put(self, messages: list[Any]) -> None:
        self.kinds.update(m.kind for m in messages)


class _Queue:
    def __init__(self) -> None:
        self.sent: list[SweepAccount] = []

    def send(self, accounts: list[SweepAccount]) -> None:
        self.sent.extend(accounts)


# -- the simulated population ------------------------------------------------------------------


def _adapters(sim: VendorSimulator, clock: VirtualClock) -> dict[str, Any]:
    session = in_process_session(sim)
    client = lambda: ("sim-client", "sim-client-secret")  # noqa: E731 - a one-line stand-in for the LWA secret
    return {
        "sim-sync": SimulatorListerAdapter(
            "sim-sync", Style.SYNC, IN_PROCESS_URL, client=client, session=session, clock=clock
        ),
        "sim-optimistic": SimulatorListerAdapter(
            "sim-optimistic",
            Style.OPTIMISTIC,
            IN_PROCESS_URL,
            client=client,
            session=session,
            clock=clock,
        ),
        "sim-polling": SimulatorAdapter(
            "sim-polling",
            Style.POLLING,
            IN_PROCESS_URL,
            credential_kind=CredentialKind.API_KEY,
            session=session,
            clock=clock,
        ),
        "sim-async": SimulatorPushAdapter(
            "sim-async", IN_PROCESS_URL, lambda: "unused", session=session, clock=clock
        ),
    }


def _credential(vendor: str, user: str) -> Any:
    if vendor in ("sim-sync", "sim-optimistic"):
        return OAuthToken.bearer(f"{vendor}-{user}-token", refresh_token=f"{vendor}-{user}-refresh")
    if vendor == "sim-polling":
        return ApiKey.of(f"{vendor}-{user}-key")
    return KeyAndSecret.of(f"{vendor}-{user}-key", f"{vendor}-{user}-secret")


def _bulbs(vendor: str, count: int) -> list[dict[str, Any]]:
    bulbs = []
    for i in range(count):
        if i % 3 == 0:
            features = {"dimmable": True, "color": True, "ct_min": 2000, "ct_max": 9000}
            state = {
                "on": False,
                "brightness": 80,
                "color_temperature": 2700,
                "color_mode": "temperature",
            }
        elif i % 3 == 1:
            features = {"dimmable": True, "ct_min": 2700, "ct_max": 6500}
            state = {
                "on": False,
                "brightness": 60,
                "color_temperature": 4000,
                "color_mode": "temperature",
            }
        else:
            features, state = {"dimmable": True}, {"on": False, "brightness": 100}
        bulbs.append({"id": f"bulb-{i}", "name": f"Bulb {i}", "features": features, "state": state})
    return bulbs


def _minutes(rng: random.Random, count: int, first: int, last: int) -> list[int]:
    return sorted(rng.randint(first, last) for _ in range(count))


def _population(n: int, rng: random.Random) -> list[tuple[str, str, int]]:
    vendors, weights = zip(*VENDOR_MIX, strict=True)
    return [
        (rng.choices(vendors, weights)[0], f"user-{i:06d}", rng.choice(BULBS)) for i in range(n)
    ]


def _owner_state(sim: VendorSimulator, vendor: str, user: str, device_id: str) -> Any:
    return _bulb_state(_state_fields(sim.state(vendor, device_id, user=user)))


# -- the run -------------------------------------------------------------------------------------


def run(
    accounts: int | None = None,
    minutes: int | None = None,
    seed: int | None = None,
    log: Any = None,
) -> dict[str, Any]:
    """One simulated day; the figures (also kept for ``results()``). Defaults from the
    environment (``SCALE_ACCOUNTS``, ``SCALE_MINUTES``, ``SCALE_SEED``); ``log`` gets progress."""
    accounts = accounts or int(os.environ.get("SCALE_ACCOUNTS", "10000"))
    minutes = minutes or int(os.environ.get("SCALE_MINUTES", "1440"))
    seed = seed if seed is not None else int(os.environ.get("SCALE_SEED", "14"))
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    rng = random.Random(seed)
    clock = VirtualClock(DAY0 - 3600)  # set up in the previous quota day
    sim = VendorSimulator(
        latency=0, transition=0, token_lifetime=None, clock=clock, enforce_quotas=True
    )
    adapters = _adapters(sim, clock)
    vault, pending, outbox, queue = _Vault(), _Pending(), _Outbox(), _Queue()
    services = PipelineServices(
        adapters=AdapterRegistry(
            {name: (lambda _c, a=a: a) for name, a in adapters.items()}, environ={}
        ),
        credentials=Credentials(vault, clock=clock, cache_seconds=3600.0),
        outbox=outbox,
        pending=pending,
        clock=clock,
        sleep=clock.sleep,
    )
    started = time.perf_counter()
    population = _population(accounts, rng)
    events: dict[int, list[tuple[str, str, str, int]]] = defaultdict(list)
    for vendor, user, bulbs in population:
        credential = _credential(vendor, user)
        sim.add_account(vendor, user, credential, devices=_bulbs(vendor, bulbs))
        vault.put(
            StoredCredential(
                user_id=user, vendor=vendor, credential=credential, account_id=user, push=False
            )
        )
        adapter = adapters[vendor]
        if isinstance(adapter, StateLister):
            readings = adapter.read_all(credential)
        else:
            readings = [
                DeviceReading(d, adapter.read_state(credential, d.id))
                for d in adapter.list_devices(credential)
            ]
        for reading in readings:  # what Discover recorded
            pending.put_owner(
                DeviceOwner(
                    endpoint_id=encode_endpoint_id(vendor, reading.device.id),
                    user_id=user,
                    vendor=vendor,
                    features=reading.device.features,
                    state=reading.state,
                    updated_at=clock(),
                    account_id=user,
                )
            )
        floor = cadence.quota_floor(
            quotas_of(adapter),
            cadence.calls_per_read(isinstance(adapter, StateLister), bulbs),
            bulbs,
            QUOTA_SHARE,
        )
        every = max(cadence.activity_cadence(DAY0, DAY0 - 2 * 86_400), floor)
        pending.add_sweep_account(
            SweepAccount(
                vendor=vendor,
                user_id=user,
                cadence=every,
                last_activity=DAY0 - 2 * 86_400,
                devices=bulbs,
                floor=floor,
            )
        )
        if rng.random() < ACTIVE_SHARE:
            for minute in _minutes(rng, rng.randint(*COMMANDS), 7 * 60, 23 * 60 + 30):
                events[minute].append(("command", vendor, user, rng.randrange(bulbs)))
        if rng.random() < OUTSIDE_SHARE:
            for minute in _minutes(rng, rng.randint(*OUTSIDE_CHANGES), 6 * 60, 1439):
                events[minute].append(("outside", vendor, user, rng.randrange(bulbs)))
    setup_seconds = time.perf_counter() - started
    sim.quotas.reset()  # the day's counters start at midnight

    worker = SweepWorker(services, concurrency=1, quota_share=QUOTA_SHARE)
    scheduler = SweepScheduler(pending, queue, clock=clock, concurrency=1)
    last_read: dict[tuple[str, str], tuple[float, int]] = {}
    gaps_within = gaps_late = due = read = 0
    commands = Counter[str]()
    command_calls: dict[tuple[str, str], int] = Counter()
    outside = 0
    swept_at = time.perf_counter()
    for minute in range(minutes):
        clock.now = DAY0 + 60 * minute
        for kind, vendor, user, bulb in events.get(minute, ()):
            device_id = f"bulb-{bulb}"
            now = sim.state(vendor, device_id, user=user)
            if kind == "outside":  # the app or a wall switch: a new level, or off
                level = rng.choice(
                    [b for b in (10, 25, 40, 55, 70, 85, 100) if b != now["brightness"]]
                )
                sim.set_state(
                    vendor,
                    device_id,
                    user=user,
                    **(
                        {"on": False}
                        if now["on"] and rng.random() < 0.3
                        else {"on": True, "brightness": level}
                    ),
                )
                outside += 1
                continue
            refused = sim.quotas.charge(vendor, user, "command", device_id, clock())
            if refused is not None:
                commands["throttled"] += 1
                continue
            commands["sent"] += 1
            command_calls[(vendor, user)] += 1
            sim.set_state(vendor, device_id, user=user, on=not now["on"])
            endpoint_id = encode_endpoint_id(vendor, device_id)
            owner = pending.owner_of(endpoint_id, user)
            if owner is not None:
                pending.put_owner(
                    owner.model_copy(
                        update={
                            "state": _owner_state(sim, vendor, user, device_id),
                            "updated_at": clock(),
                        }
                    )
                )
            pending.record_activity(vendor, user, clock())
        scheduler.run(clock())
        tickets, queue.sent = queue.sent, []
        due += len(tickets)
        for start in range(0, len(tickets), BATCH):
            batch = tickets[start : start + BATCH]
            result = worker.read(batch)
            read += result.read
            for ticket in batch:
                key = (ticket.vendor, ticket.user_id)
                previous = last_read.get(key)
                if previous is not None:
                    gap = (clock() - previous[0]) / 60
                    if gap <= max(previous[1], ticket.cadence):
                        gaps_within += 1
                    else:
                        gaps_late += 1
                last_read[key] = (clock(), ticket.cadence)
        if minute % 240 == 239:
            log(
                f"bench: scale run: {minute + 1} virtual minutes, {read} account reads, "
                f"{time.perf_counter() - swept_at:.0f} s"
            )
    sweep_seconds = time.perf_counter() - swept_at
    figures = _figures(sim, population, command_calls, minutes)
    figures.update(
        {
            "accounts": accounts,
            "virtual_minutes": minutes,
            "vendors": {v: sum(1 for p in population if p[0] == v) for v, _ in VENDOR_MIX},
            "bulbs": sum(p[2] for p in population),
            "reads_due": due,
            "reads_made": read,
            "share_read_within_cadence": round(gaps_within / max(1, gaps_within + gaps_late), 4),
            "share_of_due_reads_made": round(read / max(1, due), 4),
            "commands_sent": commands["sent"],
            "commands_throttled": commands["throttled"],
            "outside_changes": outside,
            "change_reports": outbox.kinds.get("ChangeReport", 0),
            "other_events": {k: v for k, v in outbox.kinds.items() if k != "ChangeReport"},
            "throttled_429": sim.quotas.throttled(),
            "seconds": {"setup": round(setup_seconds, 1), "sweep": round(sweep_seconds, 1)},
            "transport": "in-process (bulb_workbench.local._sim_inproc), no socket",
        }
    )
    global _LAST  # noqa: PLW0603 - the last run, kept for --render
    _LAST = figures
    return figures


def _p99(values: list[float]) -> float:
    if not values:
        return 0.0
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def _figures(
    sim: VendorSimulator,
    population: list[tuple[str, str, int]],
    command_calls: dict[tuple[str, str], int],
    minutes: int,
) -> dict[str, Any]:
    """Calls per account against each quota: share used, max and p99 (all calls; sweep only)."""
    meter = sim.quotas
    scale = 1440 / max(1, minutes)  # a shorter run is scaled to a day for the daily quotas
    quotas: dict[str, Any] = {}
    users = defaultdict(list)
    for vendor, user, _bulbs in population:
        users[vendor].append(user)
    for vendor, members in users.items():
        day = meter.calls_per_day(vendor)
        calls = [sum(day.get(u, {}).values()) for u in members]
        sweep = [c - command_calls.get((vendor, u), 0) for c, u in zip(calls, members, strict=True)]
        entry: dict[str, Any] = {
            "accounts": len(members),
            "calls_per_account_per_day": {
                "mean": round(statistics.fmean(calls) * scale, 1),
                "max": round(max(calls) * scale),
            },
        }
        profile = {
            "sim-sync": ("calls_per_minute_per_account", 120, meter.peak_per_minute(vendor)),
            "sim-optimistic": ("calls_per_second_per_account", 10, meter.peak_per_second(vendor)),
            "sim-polling": ("calls_per_day_per_account", 10_000, None),
            "sim-async": ("calls_per_day_per_account", 10_000, None),
        }[vendor]
        name, limit, peaks = profile
        if peaks is None:
            shares = [c * scale / limit for c in calls]
            sweep_shares = [c * scale / limit for c in sweep]
        else:
            shares = [peaks.get(u, 0) / limit for u in members]
            sweep_shares = []  # a peak window: commands and reads share it, not told apart
        entry[name] = {
            "limit": limit,
            "max_share": round(max(shares), 4),
            "p99_share": round(_p99(shares), 4),
        }
        if sweep_shares:
            entry[name] |= {
                "sweep_max_share": round(max(sweep_shares), 4),
                "sweep_p99_share": round(_p99(sweep_shares), 4),
            }
        if vendor == "sim-polling":
            device = meter.peak_per_device_minute(vendor)
            per_device = [device.get(u, 0) / 10 for u in members]
            entry["calls_per_minute_per_device"] = {
                "limit": 10,
                "max_share": round(max(per_device), 4),
                "p99_share": round(_p99(per_device), 4),
            }
        quotas[vendor] = entry
    return {"quotas": quotas}


def results(raw: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The figures for ``bench/results.json``'s ``scale_run`` key: those of a run's raw results
    (``raw["scale"]``, as ``bulb_workbench.bench.run`` keeps them for ``--render``), else of the
    last run in this process; None when there was none."""
    if raw is not None:
        return raw.get("scale")
    return _LAST


def markdown(figures: dict[str, Any] | None) -> str:
    """The run's figures as a docs section (docs/benchmarks.md, docs/scale.md)."""
    if not figures:
        return "The scale run has not been run (`BENCH_ONLY=scale make bench`)."
    f = figures
    lines = [
        (
            f"{f['accounts']:,} accounts "
            f"({', '.join(f'{v} {n:,}' for v, n in f['vendors'].items())}), {f['bulbs']:,} bulbs, "
            f"{f['virtual_minutes']:,} virtual minutes; {f['reads_made']:,} account reads of "
            f"{f['reads_due']:,} due; {f['seconds']['sweep']:.0f} s of sweep on this machine "
            f"({f['transport']})."
        ),
        "",
        (
            f"- reads made within the account's cadence: **{f['share_read_within_cadence']:.2%}**; "
            f"due reads made: {f['share_of_due_reads_made']:.2%}"
        ),
        (
            f"- 429s (calls the simulated vendors refused): {f['throttled_429']}; commands refused "
            f"over quota: {f['commands_throttled']} of "
            f"{f['commands_sent'] + f['commands_throttled']}"
        ),
        (
            f"- ChangeReports sent: **{f['change_reports']:,}** for {f['outside_changes']:,} "
            "changes made outside Alexa (changes to one bulb between two reads make one report); "
            f"other events: {f['other_events'] or 'none'}"
        ),
        "",
        (
            "| vendor (quota of) | accounts | calls / account / day (mean, max) | quota | share "
            "used: max, p99 (sweep alone: max, p99) |"
        ),
        "|---|---|---|---|---|",
    ]
    like = {
        "sim-sync": "LIFX",
        "sim-optimistic": "Hue",
        "sim-polling": "Govee",
        "sim-async": "SwitchBot",
    }
    for vendor, q in f["quotas"].items():
        per_day = q["calls_per_account_per_day"]
        for name, value in q.items():
            if not isinstance(value, dict) or "limit" not in value:
                continue
            sweep = (
                f"({value['sweep_max_share']:.1%}, {value['sweep_p99_share']:.1%})"
                if "sweep_max_share" in value
                else "(with commands)"
            )
            lines.append(
                f"| {vendor} ({like.get(vendor, vendor)}) | {q['accounts']:,} | "
                f"{per_day['mean']:,.0f}, {per_day['max']:,} | {value['limit']:,} "
                f"{name.replace('_', ' ')} | {value['max_share']:.1%}, {value['p99_share']:.1%} "
                f"{sweep} |"
            )
    lines.append("")
    lines.append(
        "Per-minute and per-second shares are peaks of one window; every call of a "
        "virtual minute lands in its first second, so the per-second share is an upper "
        "bound."
    )
    return "\n".join(lines)


def main() -> None:
    print(json.dumps(run(), indent=2))


if __name__ == "__main__":
    main()
