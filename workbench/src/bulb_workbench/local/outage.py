"""A vendor outage in the local stack, to measure what the circuit breaker does for the user.

``skill load --outage`` (and ``run_outage``): one user sends SetBrightness directives to one
bulb of one vendor, one after the other, through the whole stack:

0. **Linked.** The user (the local stack's demo user: a user of the local Cognito pool who
   connected every simulated vendor; Alexa's token is its access token) links the skill and
   discovers the bulbs (Discover records who owns each), and has never used the bulb: its
   first command comes during the outage. Every directive carries the user id the entrypoint
   stored with it, so whose it is never depends on the vendor.
1. **Down.** The vendor simulator fails every API call of that vendor (HTTP 5xx or a reset
   connection, no waiting timeouts). Each directive is retried by the pipeline until the
   breaker opens; from then on it is answered at once, without a vendor call.
2. **Recovered.** The vendor answers again. Directives keep coming every ``interval`` seconds;
   while the breaker cools down they are still answered ``ENDPOINT_UNREACHABLE`` without a call,
   then one probe closes it and the bulb answers.

Reported: the vendor calls and the answer latency per directive in each phase, after how many
directives the breaker opened, how many vendor calls it spared while open (against the
calls per directive before it opened), and the time from the vendor's recovery to the first
``Response``. Every directive must end in exactly one final answer (``lost`` and
``duplicates`` are counted as in the load run), and no vendor may be shown another vendor's
credential (``foreign``, from the simulator's counters).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bulb_workbench.local.faults import FaultProfile

#: The fast faults of a vendor that is down: no held connection, so the run is short.
DOWN_KINDS = ("5xx", "reset")


@dataclass
class Phase:
    """The directives of one phase, in order."""

    answers: list[str] = field(default_factory=list)  # Response / ErrorResponse type / (none)
    vendor_calls: list[int] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    breaker: list[str] = field(default_factory=list)  # the breaker's state after each one

    def record(self, answer: str, calls: int, latency_ms: float, breaker: str) -> None:
        self.answers.append(answer)
        self.vendor_calls.append(calls)
        self.latency_ms.append(latency_ms)
        self.breaker.append(breaker)


@dataclass
class OutageResult:
    vendor: str
    cooldown_s: float
    down: Phase
    recovered: Phase
    recovered_after_s: float | None  # vendor back -> first Response at the gateway
    lost: int
    duplicates: int
    foreign: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Nothing lost or answered twice, the breaker opened, the bulb answered again, and no
        vendor was shown a credential not its own."""
        return (
            self.lost == 0
            and self.duplicates == 0
            and self.opened_after is not None
            and self.recovered_after_s is not None
            and not any(self.foreign.values())
        )

    @property
    def opened_after(self) -> int | None:
        """Directives sent while down until the breaker was open (None: it never opened)."""
        return next((i + 1 for i, s in enumerate(self.down.breaker) if s == "open"), None)

    @property
    def spared_calls(self) -> float:
        """Vendor calls the open breaker spared while down: the directives answered without a
        call, times the calls each directive made before the breaker opened."""
        opened = self.opened_after or len(self.down.answers)
        before = self.down.vendor_calls[:opened]
        per_directive = sum(before) / len(before) if before else 0.0
        fast = sum(1 for c in self.down.vendor_calls[opened:] if c == 0)
        return fast * per_directive

    def lines(self) -> list[str]:
        def summary(phase: Phase) -> str:
            answers = ", ".join(f"{k} {v}" for k, v in Counter(phase.answers).items())
            return (
                f"{len(phase.answers)} directives ({answers}); vendor calls per directive "
                f"{phase.vendor_calls}; latency ms {[round(x) for x in phase.latency_ms]}"
            )

        opened = self.opened_after
        return [
            f"vendor {self.vendor} down (every call 5xx or reset): {summary(self.down)}",
            f"  breaker open after {opened} directive(s); vendor calls spared while open: "
            f"{self.spared_calls:.0f}"
            if opened
            else "  breaker never opened",
            f"vendor {self.vendor} back: {summary(self.recovered)}",
            f"  first Response {self.recovered_after_s:.1f} s after the vendor recovered "
            f"(breaker cool-down {self.cooldown_s:g} s)"
            if self.recovered_after_s is not None
            else "  no Response after the vendor recovered",
            f"lost {self.lost}, duplicates {self.duplicates}; foreign credentials seen: "
            + (", ".join(f"{k} {v}" for k, v in self.foreign.items() if v) or "none"),
        ]


def run_outage(
    *,
    vendor: str = "sim-sync",
    down_directives: int = 6,
    interval: float = 2.0,
    recovery_timeout: float = 60.0,
    latency: float = 0.05,
) -> OutageResult:
    """Run the two phases on a fresh ``LocalStack`` (see the module docstring)."""
    from bulb_workbench.local.stack import LocalStack, discover, set_brightness

    profile = FaultProfile(kinds=DOWN_KINDS)
    with LocalStack(latency=latency, transition=0.0, faults=profile) as stack:
        token = stack.demo_token()
        stack.link_demo_user(token)
        assert stack.faults is not None
        injector = stack.faults.injectors["vendor"]
        breaker = _breaker(vendor)
        finals: Counter[str] = Counter()

        def send(phase: Phase, brightness: int) -> str:
            event, correlation = set_brightness(f"{vendor}:color-1", brightness, token)
            calls_before, started = injector.calls, time.perf_counter()
            stack.invoke(event)
            final = [m for m in stack.wait_for_answer(correlation) if _final(m)]
            latency_ms = (time.perf_counter() - started) * 1000
            finals[correlation] = len(final)
            answer = _describe(final[0]) if final else "(none)"
            phase.record(answer, injector.calls - calls_before, latency_ms, breaker.state().value)
            return answer

        found = stack.invoke(discover(token))
        assert found["event"]["header"]["name"] == "Discover.Response", found
        down = Phase()
        injector.rate = 1.0
        for i in range(down_directives):
            send(down, 10 + i)
        recovered = Phase()
        injector.rate = 0.0
        back = time.perf_counter()
        recovered_after = None
        while time.perf_counter() - back < recovery_timeout:
            if send(recovered, 50 + len(recovered.answers) % 40) == "Response":
                recovered_after = time.perf_counter() - back
                break
            time.sleep(interval)
        stack.wait_idle(3)
        return OutageResult(
            vendor=vendor,
            cooldown_s=breaker.cooldown,
            down=down,
            recovered=recovered,
            recovered_after_s=recovered_after,
            lost=sum(1 for n in finals.values() if n == 0),
            duplicates=sum(1 for n in finals.values() if n > 1),
            foreign=dict(stack.simulator.foreign_credentials()),
        )


def _breaker(vendor: str) -> Any:
    """The warm pipeline's breaker for ``vendor`` (the processors in this process share it)."""
    from skill.composition import current

    return current().pipeline_services.breaker_for(vendor)


def _final(message: dict[str, Any]) -> bool:
    return message.get("event", {}).get("header", {}).get("name") in ("Response", "ErrorResponse")


def _describe(message: dict[str, Any]) -> str:
    event = message["event"]
    if event["header"]["name"] == "ErrorResponse":
        return str(event["payload"].get("type"))
    return "Response"
