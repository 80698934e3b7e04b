"""``bulb_workbench.local.outage``: a vendor that fails every call, through the whole local stack.
The long version (with the recovery after the breaker's 30 s cool-down) runs in ``make load``."""

from __future__ import annotations

from bulb_workbench.local.outage import run_outage
from skill.composition import BREAKER_THRESHOLD

DOWN = 5


def test_a_vendor_outage_opens_the_breaker_and_every_directive_is_still_answered_once() -> None:
    """The bulb was discovered but never used: its first commands come while the vendor is
    down. Each directive carries its user id, so no vendor is asked whose it is: every call
    counted is a command tried (up to 4 per directive), and the breaker opens once
    ``BREAKER_THRESHOLD`` of them failed in a row, within 3 directives."""
    result = run_outage(down_directives=DOWN, recovery_timeout=0)

    assert result.down.answers == ["ENDPOINT_UNREACHABLE"] * DOWN
    opened = result.opened_after
    assert opened is not None and opened <= 3, result.lines()
    assert sum(result.down.vendor_calls[:opened]) == BREAKER_THRESHOLD, result.lines()
    assert result.down.vendor_calls[opened:] == [0] * (DOWN - opened), (
        "called a vendor behind an open breaker"
    )
    assert all(ms < 1000 for ms in result.down.latency_ms[opened:]), (
        "an open breaker answers at once"
    )
    assert result.spared_calls > 0
    assert (result.lost, result.duplicates) == (0, 0)
    assert not any(result.foreign.values())
    assert not result.ok  # no recovery was waited for
