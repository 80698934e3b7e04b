"""``skill.local.outage``: a vendor that fails every call, through the whole local stack. The
long version (with the recovery after the breaker's 30 s cool-down) runs in ``make load``."""

from __future__ import annotations

from skill.local.outage import run_outage


def test_a_vendor_outage_opens_the_breaker_and_every_directive_is_still_answered_once() -> None:
    """The bulb was discovered but never used: its first commands come while the vendor is
    down, and the pipeline learns whose they are from the owner record Discover wrote."""
    result = run_outage(down_directives=4, recovery_timeout=0)

    assert result.down.answers == ["ENDPOINT_UNREACHABLE"] * 4
    opened = result.opened_after
    assert opened is not None and opened <= 2, result.lines()
    assert result.down.vendor_calls[opened:] == [0] * (4 - opened), "called a vendor behind an open breaker"
    assert all(ms < 1000 for ms in result.down.latency_ms[opened:]), "an open breaker answers at once"
    assert result.spared_calls > 0
    assert (result.lost, result.duplicates) == (0, 0)
    assert not result.ok  # no recovery was waited for
