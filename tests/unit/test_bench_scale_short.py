"""A short run of the bench's scale run (``bulb_workbench.bench.scale``): 40 accounts over one
simulated day, the same code ``make bench`` runs over 10,000. It must read every due account
within its cadence, stay inside each vendor's quotas (the simulator refuses with 429 as the
vendors do) and report exactly the changes made outside Alexa."""

from __future__ import annotations

from bulb_workbench.bench import scale


def test_a_day_of_40_accounts_reads_each_due_account_inside_the_quotas():
    figures = scale.run(accounts=40, minutes=1440, seed=3, log=lambda message: None)

    assert figures["reads_due"] > 40, "the day read almost nothing"
    assert figures["reads_made"] == figures["reads_due"]
    assert figures["share_read_within_cadence"] == 1.0
    assert figures["commands_sent"] > 0 and figures["outside_changes"] > 0
    assert figures["change_reports"] == figures["outside_changes"]
    assert set(figures["throttled_429"].values()) == {0}
    for vendor, quotas in figures["quotas"].items():
        for limit, use in quotas.items():
            if isinstance(use, dict) and "max_share" in use:
                assert use["max_share"] <= 1.0, (vendor, limit, use)
            if isinstance(use, dict) and "sweep_max_share" in use:
                assert use["sweep_max_share"] <= 0.2, (vendor, limit, use)
