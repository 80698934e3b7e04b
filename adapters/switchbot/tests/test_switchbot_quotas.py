"""The SwitchBot quota the sweep keeps to, as the API v1.1 README states it
(https://github.com/OpenWonderLabs/SwitchBotAPI#request-limit): "The amount of API calls per day
is limited to 10000 times"."""

from __future__ import annotations

from bulb_skill_switchbot import SwitchBotAdapter
from skill.plugins import StateLister, VendorQuotas, quotas_of


def test_declares_switchbots_documented_daily_limit() -> None:
    assert quotas_of(SwitchBotAdapter) == VendorQuotas(
        calls_per_day_per_account=10_000,
        source="https://github.com/OpenWonderLabs/SwitchBotAPI#request-limit",
    )


def test_reads_each_device_on_its_own() -> None:
    # SwitchBot lists devices without their state: one status call per device.
    assert not issubclass(SwitchBotAdapter, StateLister)
