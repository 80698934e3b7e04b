"""The Govee quotas the sweep keeps to, as Govee's rate-limiting page states them
(https://govee.readme.io/reference/rate-limiting): "Devices Per Day 10,000 / Day", "Get Device
State Per Minute 10 / Minute Per Device", "Control Device Per Minute 10 / Minute Per Device"."""

from __future__ import annotations

from bulb_skill_govee import GoveeAdapter
from skill.plugins import StateLister, VendorQuotas, quotas_of


def test_declares_govees_documented_limits() -> None:
    assert quotas_of(GoveeAdapter) == VendorQuotas(
        calls_per_day_per_account=10_000,
        calls_per_minute_per_device=10,
        source="https://govee.readme.io/reference/rate-limiting",
    )


def test_reads_each_device_on_its_own() -> None:
    # Govee's OpenAPI has no call that lists every device with its state.
    assert not issubclass(GoveeAdapter, StateLister)
