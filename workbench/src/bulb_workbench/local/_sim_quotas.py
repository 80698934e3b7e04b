"""The simulated vendors' call quotas: each simulated vendor keeps the quota of the real vendor
it stands for, counts calls per account and per device in the vendor's windows, and answers
over-quota calls as that vendor does.

- ``sim-sync`` ~ LIFX (https://api.developer.lifx.com/docs/rate-limits): 120 calls per 60 s
  window per access token (one token per account). Over: 429 with ``X-RateLimit-Limit``,
  ``X-RateLimit-Remaining: 0`` and ``X-RateLimit-Reset`` (Unix time the next window begins);
  LIFX sends no ``Retry-After``.
- ``sim-async`` ~ SwitchBot API v1.1 (https://github.com/OpenWonderLabs/SwitchBotAPI#request-limit):
  10,000 calls a day per account. Over: SwitchBot's own words, ``statusCode`` 190 "Requests
  reached the daily limit", as a 429 (this simulator's API answers errors by status); no
  ``Retry-After`` (SwitchBot documents no reset time; the day is the UTC day).
- ``sim-optimistic`` ~ Hue (https://developers.meethue.com/things-you-need-know): about 10
  calls a second per bridge (one bridge per account). Over: 429, as the bridge answers since
  firmware 1.52 (https://developers.meethue.com/rate-limiting-status-code/), no ``Retry-After``.
- ``sim-polling`` ~ Govee (https://govee.readme.io/reference/rate-limiting): 10,000 calls a
  day per account, 10 state reads and commands a minute per device, 10 device lists a minute.
  Over: 429 with ``Retry-After`` and the window's headers (``API-RateLimit-*`` per minute,
  ``X-RateLimit-*`` per day), as Govee's sample answer shows.

Windows are fixed and aligned to the simulator's clock (minute ``t // 60``, UTC day
``t // 86400``), so a scale run on a virtual clock counts a simulated day. Every call an account
makes is counted whether or not quotas are enforced (``enforce``): the counters are how a run
shows what it would have spent.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from bulb_workbench.local._sim_http import SimResponse

DAY = 86_400
MINUTE = 60


@dataclass(frozen=True, slots=True)
class QuotaProfile:
    """One real vendor's limits (None: none) and how it says a call is over them."""

    like: str  # the real vendor and its page
    per_day_per_account: int | None = None
    per_minute_per_account: int | None = None
    per_second_per_account: int | None = None
    per_minute_per_device: int | None = None
    lists_per_minute: int | None = None
    style: str = "plain"  # "lifx" | "switchbot" | "govee" | "plain": the over-quota answer


PROFILES: dict[str, QuotaProfile] = {
    "sim-sync": QuotaProfile(
        "LIFX https://api.developer.lifx.com/docs/rate-limits",
        per_minute_per_account=120,
        style="lifx",
    ),
    "sim-async": QuotaProfile(
        "SwitchBot https://github.com/OpenWonderLabs/SwitchBotAPI#request-limit",
        per_day_per_account=10_000,
        style="switchbot",
    ),
    "sim-optimistic": QuotaProfile(
        "Hue https://developers.meethue.com/things-you-need-know",
        per_second_per_account=10,
    ),
    "sim-polling": QuotaProfile(
        "Govee https://govee.readme.io/reference/rate-limiting",
        per_day_per_account=10_000,
        per_minute_per_device=10,
        lists_per_minute=10,
        style="govee",
    ),
}

#: Route kinds that address one device (the per-device windows count them).
DEVICE_KINDS = frozenset({"state", "command"})


class _Window:
    """Calls in the current fixed window of one key, and the most any window of it saw."""

    __slots__ = ("count", "index", "peak")

    def __init__(self) -> None:
        self.index, self.count, self.peak = -1, 0, 0

    def would_exceed(self, index: int, limit: int | None) -> bool:
        current = self.count if index == self.index else 0
        return limit is not None and current >= limit

    def add(self, index: int) -> None:
        if index != self.index:
            self.index, self.count = index, 0
        self.count += 1
        self.peak = max(self.peak, self.count)


class QuotaMeter:
    """Counts each account's calls (and each device's) in its vendor's windows; with
    ``enforce``, refuses those over a quota with the vendor's answer. Thread-safe."""

    def __init__(self, enforce: bool = False) -> None:
        self.enforce = enforce
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            #: (vendor, user) -> {UTC day: calls}
            self._days: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
            self._windows: dict[tuple[Any, ...], _Window] = defaultdict(_Window)
            self._throttled: dict[str, int] = defaultdict(int)
            self._throttled_accounts: dict[tuple[str, str], int] = defaultdict(int)

    def charge(
        self, vendor: str, user: str, kind: str, device_id: str | None, now: float
    ) -> SimResponse | None:
        """Count one call of ``user`` at ``vendor``; the vendor's over-quota answer (and the
        call not counted) when ``enforce`` and a quota is spent, else None."""
        profile = PROFILES.get(vendor)
        if profile is None:
            return None
        day, minute, second = int(now // DAY), int(now // MINUTE), int(now)
        checks: list[tuple[tuple[Any, ...], int, int | None, str]] = [
            (("m", vendor, user), minute, profile.per_minute_per_account, "minute"),
            (("s", vendor, user), second, profile.per_second_per_account, "second"),
        ]
        if kind in DEVICE_KINDS and device_id is not None:
            checks.append(
                (("d", vendor, user, device_id), minute, profile.per_minute_per_device, "minute")
            )
        if kind == "devices":
            checks.append((("l", vendor, user), minute, profile.lists_per_minute, "minute"))
        with self._lock:
            days = self._days[(vendor, user)]
            if self.enforce:
                if profile.per_day_per_account is not None and (
                    days.get(day, 0) >= profile.per_day_per_account
                ):
                    return self._refuse(vendor, user, profile, "day", now)
                for key, index, limit, window in checks:
                    if self._windows[key].would_exceed(index, limit):
                        return self._refuse(vendor, user, profile, window, now, limit)
            days[day] = days.get(day, 0) + 1
            for key, index, _limit, _window in checks:
                self._windows[key].add(index)
        return None

    # -- counters ---------------------------------------------------------------------------

    def calls_per_day(self, vendor: str) -> dict[str, dict[int, int]]:
        """``{user: {UTC day: calls}}`` of ``vendor``'s accounts (calls it took)."""
        with self._lock:
            return {u: dict(d) for (v, u), d in self._days.items() if v == vendor}

    def peak_per_minute(self, vendor: str) -> dict[str, int]:
        """``{user: most calls the account made in one minute}``."""
        return self._peaks("m", vendor)

    def peak_per_second(self, vendor: str) -> dict[str, int]:
        return self._peaks("s", vendor)

    def peak_per_device_minute(self, vendor: str) -> dict[str, int]:
        """``{user: most calls one of the account's devices took in one minute}``."""
        return self._peaks("d", vendor)

    def throttled(self) -> dict[str, int]:
        """Per vendor, the calls it refused as over a quota."""
        with self._lock:
            return {vendor: self._throttled.get(vendor, 0) for vendor in PROFILES}

    def throttled_accounts(self, vendor: str) -> dict[str, int]:
        with self._lock:
            return {u: n for (v, u), n in self._throttled_accounts.items() if v == vendor}

    def _peaks(self, scope: str, vendor: str) -> dict[str, int]:
        peaks: dict[str, int] = {}
        with self._lock:
            for key, window in self._windows.items():
                if key[0] == scope and key[1] == vendor:
                    peaks[key[2]] = max(peaks.get(key[2], 0), window.peak)
        return peaks

    # -- the vendors' answers ------------------------------------------------------------------

    def _refuse(
        self,
        vendor: str,
        user: str,
        profile: QuotaProfile,
        window: str,
        now: float,
        limit: int | None = None,
    ) -> SimResponse:
        self._throttled[vendor] += 1
        self._throttled_accounts[(vendor, user)] += 1
        length = {"day": DAY, "minute": MINUTE, "second": 1}[window]
        reset = (math.floor(now / length) + 1) * length
        wait = max(1, math.ceil(reset - now))
        message = f"{vendor} allows {limit or profile.per_day_per_account} calls a {window}"
        if profile.style == "lifx":
            headers = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(reset)),
            }
            return SimResponse.json(429, {"error": "Too Many Requests"}, headers)
        if profile.style == "switchbot":
            return SimResponse.json(
                429, {"statusCode": 190, "message": "Requests reached the daily limit"}
            )
        if profile.style == "govee":
            prefix = "X" if window == "day" else "API"
            total = profile.per_day_per_account if window == "day" else limit
            headers = {
                f"{prefix}-RateLimit-Limit": str(total),
                f"{prefix}-RateLimit-Remaining": "0",
                f"{prefix}-RateLimit-Reset": str(int(reset)),
                "Retry-After": str(wait),
            }
            return SimResponse.json(429, {"code": 429, "message": message}, headers)
        return SimResponse.error(429, "too_many_requests", message)
