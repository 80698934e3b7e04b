"""How often the sweep reads a vendor account, and which accounts are due in a given minute.

An account is read every ``cadence`` minutes, at a fixed phase: it is due in minute ``m`` when
``m % cadence == phase``. Its schedule is therefore a *slot* string, ``cadence#phase#shard``,
that only changes with its cadence: the scheduler queries the due slots of each minute
(``due_slots``) and writes nothing per read. The cadence follows the account's activity and is
never shorter than what keeps the sweep within its share of the vendor's quotas.

Example::

    >>> activity_cadence(now=10_000.0, last_activity=10_000.0 - 2 * 3600)
    5
    >>> quota_floor(VendorQuotas(calls_per_day_per_account=10_000), calls_per_read=6, devices=5,
    ...             share=0.2)
    5
    >>> slot_of("lifx", "user-1", 1)
    '1#0#0'
    >>> len(due_slots(minute=12_345))  # one query per cadence (and shard) a minute
    12
"""

from __future__ import annotations

import hashlib
import math

from skill.plugins import VendorQuotas

#: The cadences an account may have, in minutes. A bounded ladder keeps the scheduler's
#: queries per minute fixed: one per cadence and shard.
CADENCES: tuple[int, ...] = (1, 2, 3, 5, 10, 15, 30, 60, 120, 240, 480, 1440)
#: Slots are split over this many shards (index partitions). One partition of the index serves
#: 3,000 reads and 1,000 writes a second, enough for the 1-minute slot of a million users
#: (docs/scale.md); each shard is one more query a minute. Raising it is compatible: accounts
#: written before stay in shard 0, which is still queried, and move as their cadence changes.
SHARDS = 1
#: Activity back-off: an account whose last command or outside change is younger than the
#: first figure (seconds) is read every second figure (minutes).
ACTIVITY_STEPS: tuple[tuple[float, int], ...] = ((3600, 1), (6 * 3600, 5), (24 * 3600, 15))
IDLE_CADENCE = 60
#: Share of each vendor quota the sweep may spend by default (the rest is for commands).
DEFAULT_QUOTA_SHARE = 0.2
MINUTES_PER_DAY = 1440


def activity_cadence(now: float, last_activity: float) -> int:
    """Minutes between reads for an account last active at ``last_activity``."""
    idle = max(0.0, now - last_activity)
    for within, minutes in ACTIVITY_STEPS:
        if idle < within:
            return minutes
    return IDLE_CADENCE


def calls_per_read(lists_states: bool, devices: int) -> int:
    """Vendor calls one read of an account costs: one when the vendor lists every light with
    its state, else the device list and one read per light."""
    return 1 if lists_states else 1 + devices


def quota_floor(quotas: VendorQuotas, calls_per_read: int, devices: int, share: float) -> int:
    """The shortest cadence (minutes, on the ladder) at which reads stay within ``share`` of
    every quota the vendor declares."""
    if share <= 0:
        return CADENCES[-1]
    minutes = 1.0
    limits: list[tuple[int | None, float, float]] = [
        # (limit, calls per read counted against it, minutes in the limit's window)
        (quotas.calls_per_day_per_account, calls_per_read, MINUTES_PER_DAY),
        (quotas.calls_per_minute_per_account, calls_per_read, 1),
        (quotas.calls_per_day_per_device, 1 if devices else 0, MINUTES_PER_DAY),
        (quotas.calls_per_minute_per_device, 1 if devices else 0, 1),
    ]
    for limit, calls, window in limits:
        if limit and calls:
            # reads per window allowed = share * limit / calls; minutes between reads:
            minutes = max(minutes, window * calls / (share * limit))
    return on_ladder(math.ceil(minutes - 1e-9))


def on_ladder(minutes: int) -> int:
    """The shortest cadence on the ladder that is at least ``minutes``."""
    for cadence in CADENCES:
        if cadence >= minutes:
            return cadence
    return CADENCES[-1]


def slower(cadence: int) -> int:
    """The next cadence up the ladder (after a vendor's 429)."""
    return on_ladder(cadence + 1)


def cadence_for(
    *,
    now: float,
    last_activity: float,
    quotas: VendorQuotas,
    lists_states: bool,
    devices: int,
    share: float,
) -> int:
    floor = quota_floor(quotas, calls_per_read(lists_states, devices), devices, share)
    return max(on_ladder(activity_cadence(now, last_activity)), floor)


def _hash(vendor: str, user_id: str) -> int:
    digest = hashlib.blake2b(f"{vendor}\0{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def slot_of(vendor: str, user_id: str, cadence: int) -> str:
    """The account's slot at ``cadence``: a stable phase spreads accounts of one cadence over
    its minutes, and a stable shard over the index's partitions."""
    h = _hash(vendor, user_id)
    return f"{cadence}#{h % cadence}#{h % SHARDS}"


def due_slots(minute: int) -> list[str]:
    """Every slot due in ``minute`` (minutes since the epoch)."""
    return [f"{c}#{minute % c}#{s}" for c in CADENCES for s in range(SHARDS)]
