"""Feature flags switch a vendor's style, pause it, or stop the sweep, with no redeploy."""

from __future__ import annotations

import json
import os

from skill.flags import flags_from
from skill.pipeline import Pipeline
from skill.plugins import Style
from tests.unit.test_pipeline import build, queued

STYLE_RULE = {
    "vendor_style": {
        "default": "",
        "boolean_type": False,
        "rules": {
            "fake webhooks down": {
                "when_match": "optimistic",
                "conditions": [{"action": "EQUALS", "key": "vendor", "value": "fake"}],
            }
        },
    }
}


def write(path, config):
    path.write_text(json.dumps(config))
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 1))  # a new mtime even within one second


def test_without_configuration_every_flag_is_its_default():
    f = flags_from({})
    assert f.style_for("fake") is None and not f.paused("fake") and f.sweep_enabled()


def test_a_flag_switches_an_async_vendor_to_optimistic_and_back(tmp_path, assert_alexa_valid):
    path = tmp_path / "flags.json"
    write(path, STYLE_RULE)
    f = flags_from({"FEATURE_FLAGS_FILE": str(path)})
    _adapter, services, _ = build(Style.ASYNC)
    services.style_override = f.style_for
    assert Pipeline(services).process(queued()) == "answered"  # optimistic: a Response at once
    assert_alexa_valid(services.outbox.messages[0].message)
    assert f.style_for("other-vendor") is None
    write(path, {})
    turn_off = queued("Alexa.PowerController", "TurnOff")
    assert Pipeline(services).process(turn_off) == "pending"  # async again: waits for the push


def test_a_paused_vendor_is_answered_bridge_unreachable_without_a_call(
    tmp_path, assert_alexa_valid
):
    path = tmp_path / "flags.json"
    write(path, {"vendor_paused": {"default": True}})
    f = flags_from({"FEATURE_FLAGS_FILE": str(path)})
    adapter, services, _ = build(Style.SYNC)
    Pipeline(services).process(queued())  # before the pause: known owner
    services.outbox.messages.clear()
    adapter.calls.clear()
    services.paused = f.paused
    Pipeline(services).process(queued())
    [answer] = services.outbox.messages
    assert_alexa_valid(answer.message)
    assert answer.message["event"]["payload"]["type"] == "ENDPOINT_UNREACHABLE"
    assert [c for c in adapter.calls if c[0] != "identify"] == []
    write(path, {"vendor_paused": {"default": False}})
    assert not f.paused("fake")


def test_the_sweep_can_be_turned_off(tmp_path):
    path = tmp_path / "flags.json"
    write(path, {"sweep_enabled": {"default": False}})
    from skill.composition import Composition, using
    from skill.handlers import sweep_scheduler

    # the scheduler puts no account on the queue (it would fail reaching any store)
    with using(Composition(environ={"FEATURE_FLAGS_FILE": str(path)})) as composition:
        assert sweep_scheduler.handler({"id": "tick"}, None) == {"accounts": 0}
        assert not composition.flags.sweep_enabled()
