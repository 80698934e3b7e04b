"""Settings at deploy time: the stack parameter ``AdapterSettings`` (a JSON object of adapter ->
settings) reaches every function that runs adapters as ``ADAPTER_SETTINGS``, in every
combination of styles; the function's own environment, read as it would be at start, builds the
adapter with those settings (base URL, per-call timeout); and a value that is not usable stops
the function at start with a message that says what is wrong."""

from __future__ import annotations

import json
import re

import pytest

from skill.plugins import AdapterRegistry
from skill.plugins._registry import AdapterSettingsError
from tests.infra._composition import ROOT, Composition, Function, Res, load
from tests.infra.test_templates import COMBINATIONS, VENDOR_CALLERS, style_params

SETTINGS = {
    "lifx": {"BASE_URL": "https://eu.lifx.example/v1", "TIMEOUT_SECONDS": 2.5},
    "hue": {"BASE_URL": "https://hue.example/route"},
}
TEXT = json.dumps(SETTINGS)


def composed(styles: tuple[str, ...], **parameters: str) -> Composition:
    return Composition.with_styles(*styles, Adapters="lifx,hue", AdapterSettings=TEXT, **parameters)


def environment_of(fn: Function) -> dict[str, str]:
    """The function's environment as Lambda would set it: resources become placeholder names."""
    return {
        name: (f"<{value}>" if isinstance(value, Res) else str(value))
        for name, value in fn.environment.items()
    }


def runs_adapters(fn: Function) -> bool:
    return fn.handler in VENDOR_CALLERS


@pytest.mark.parametrize("styles", COMBINATIONS, ids=style_params)
def test_every_function_that_runs_adapters_gets_the_settings(styles: tuple[str, ...]) -> None:
    comp = composed(styles)
    callers = [fn for fn in comp.functions() if runs_adapters(fn)]
    assert callers  # the entrypoint and the linking pages at least
    for fn in callers:
        assert fn.environment.get("ADAPTER_SETTINGS") == TEXT, fn.handler
    for fn in comp.functions():
        if not runs_adapters(fn):  # the dispatcher calls no vendor
            assert "ADAPTER_SETTINGS" not in fn.environment, fn.handler


def test_settings_reach_the_deployed_adapter() -> None:
    """Each function's environment, as deployed, builds LIFX with the base URL and the timeout
    of the parameter (and Hue with its own base URL)."""
    comp = composed(("Sync", "Async", "Optimistic", "Polling"))
    for fn in comp.functions():
        if not runs_adapters(fn):
            continue
        registry = AdapterRegistry.from_environment(environment_of(fn))
        lifx = registry.context_for("lifx")
        assert lifx.setting("BASE_URL") == "https://eu.lifx.example/v1", fn.handler
        assert lifx.timeout_seconds == 2.5, fn.handler
        adapter = registry.get("lifx")
        assert adapter._client.base_url == "https://eu.lifx.example/v1"
        assert adapter._client.timeout == (2.0, 2.5)
        hue = registry.get("hue")
        assert hue._client.base_url == "https://hue.example/route"
        assert registry.context_for("hue").timeout_seconds == 3.0  # the default


def test_without_settings_the_functions_get_an_empty_object() -> None:
    comp = Composition.with_styles("Sync")
    for fn in comp.functions():
        if runs_adapters(fn):
            assert fn.environment["ADAPTER_SETTINGS"] == "{}"
            AdapterRegistry.from_environment(environment_of(fn))  # starts


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('{"lifx": {"BASE_URL": "https://x"', "is not JSON"),
        ('{"lifx": ["BASE_URL"]}', "must be an object of NAME -> value"),
        ('{"lifx": {"base_url": "https://x"}}', "setting names are upper-case"),
        ('{"lifx": {"BASE_URL": {"eu": "https://x"}}}', "must be a string, a number or a boolean"),
        ('{"lifx": {"TIMEOUT_SECONDS": 30}}', "TIMEOUT_SECONDS'] must be a number of seconds"),
        ('{"lifz": {"BASE_URL": "https://x"}}', "does not enable: ['lifz']"),
        ('{"lifx": {"REGION": "eu"}}', "which the lifx adapter does not read"),
    ],
)
def test_a_function_refuses_to_start_with_unusable_settings(value: str, says: str) -> None:
    comp = Composition.with_styles("Sync", Adapters="lifx", AdapterSettings=value)
    fn = comp.function("skill.handlers.processors.sync.handler")
    with pytest.raises(AdapterSettingsError) as refused:
        AdapterRegistry.from_environment(environment_of(fn)).all()
    assert says in str(refused.value)
    assert "ADAPTER_SETTINGS" in str(refused.value)


def test_the_parameter_takes_only_json_objects() -> None:
    """CloudFormation's own check before any function runs (AllowedPattern)."""
    spec = load(ROOT / "template.yaml")["Parameters"]["AdapterSettings"]
    pattern = re.compile(spec["AllowedPattern"])
    assert spec["Default"] == "{}" and pattern.fullmatch(spec["Default"])
    assert pattern.fullmatch(TEXT) and pattern.fullmatch(' {\n "lifx": {}\n} ')
    for bad in ("", "lifx", '["lifx"]', '"{}"', "BASE_URL=https://x"):
        assert not pattern.fullmatch(bad), bad


def test_every_brick_that_runs_adapters_declares_the_parameter_and_passes_it_on() -> None:
    template = load(ROOT / "template.yaml")
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Application":
            continue
        given = resource["Properties"].get("Parameters", {})
        brick = load((ROOT / resource["Properties"]["Location"]).resolve())
        if "Adapters" in given:
            assert given.get("AdapterSettings") == {"Ref": "AdapterSettings"}, name
            assert "AdapterSettings" in brick["Parameters"], name


def test_an_adapter_reads_its_settings_through_its_context() -> None:
    """The environment variable wins (a local run pointing at a stub), then the adapter's own
    entry, then ``"*"``; values come back as strings."""
    registry = AdapterRegistry.from_environment(
        {
            "ADAPTERS": "lifx,hue",
            "ADAPTER_SETTINGS": json.dumps(
                {
                    "*": {"TIMEOUT_SECONDS": 2, "REGION": "eu"},
                    "lifx": {
                        "BASE_URL": "https://eu.lifx.example/v1",
                        "TIMEOUT_SECONDS": 1.5,
                        "FAST": True,
                    },
                }
            ),
            "HUE_BASE_URL": "http://127.0.0.1:9999",
        }
    )
    lifx, hue = registry.context_for("lifx"), registry.context_for("hue")
    assert lifx.setting("BASE_URL") == "https://eu.lifx.example/v1"
    assert (lifx.timeout_seconds, lifx.setting("FAST"), lifx.setting("REGION")) == (
        1.5,
        "true",
        "eu",
    )
    assert hue.timeout_seconds == 2.0 and hue.setting("BASE_URL") == "http://127.0.0.1:9999"
    assert hue.setting("MISSING", "default") == "default"


def test_a_timeout_from_the_environment_is_checked_too() -> None:
    registry = AdapterRegistry.from_environment({"ADAPTERS": "lifx", "LIFX_TIMEOUT_SECONDS": "0"})
    with pytest.raises(AdapterSettingsError, match="lifx TIMEOUT_SECONDS must be a number"):
        registry.get("lifx")
