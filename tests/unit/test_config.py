"""``skill.config``: the environment read into ``Settings`` as AWS and the local stack set it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from skill.config import Settings, settings, settings_from


def test_nothing_set_gives_every_default():
    config = settings_from({})
    assert config.state_table == "bulb-skill-state"
    assert config.deadline_seconds == 8.0
    assert config.alexa_region == "NA" and config.gateway_url is None
    assert config.local_secrets_from_env is False
    styles = ("sync", "async", "optimistic", "polling")
    assert config.directives_queue_urls == dict.fromkeys(styles, "")


def test_variables_are_read_and_typed():
    config = settings_from(
        {
            "STATE_TABLE": "t",
            "DEADLINE_SECONDS": "7.5",
            "SWEEP_CONCURRENCY": "4",
            "LOCAL_SECRETS_FROM_ENV": "true",
            "DIRECTIVES_QUEUE_POLLING_URL": "https://q/polling.fifo",
            "ADAPTERS": " lifx, hue ,",
        }
    )
    assert config.state_table == "t" and config.deadline_seconds == 7.5
    assert config.sweep_concurrency == 4 and config.local_secrets_from_env is True
    assert config.directives_queue_urls["polling"] == "https://q/polling.fifo"
    assert config.enabled_adapters == ["lifx", "hue"]


def test_an_empty_variable_counts_as_unset():
    assert settings_from({"STATE_TABLE": "", "DEADLINE_SECONDS": ""}).state_table == (
        "bulb-skill-state"
    )


def test_names_are_case_sensitive_and_unknown_ones_ignored():
    config = settings_from({"state_table": "lower", "SOMETHING_ELSE": "x"})
    assert config.state_table == "bulb-skill-state"


def test_the_first_of_several_names_wins():
    assert settings_from({"WEBHOOK_SECRET_NAME": "old"}).vendor_secrets_name == "old"
    both = {"VENDOR_SECRETS_NAME": "new", "WEBHOOK_SECRET_NAME": "old"}
    assert settings_from(both).vendor_secrets_name == "new"
    assert settings_from({"AWS_DEFAULT_REGION": "eu-west-1"}).aws_region == "eu-west-1"


@pytest.mark.parametrize(
    ("region", "alexa"), [("us-east-1", "NA"), ("eu-west-1", "EU"), ("us-west-2", "FE")]
)
def test_the_alexa_region_follows_the_aws_region_unless_set(region, alexa):
    assert settings_from({"AWS_REGION": region}).alexa_region == alexa
    assert settings_from({"AWS_REGION": region, "ALEXA_REGION": "EU"}).alexa_region == "EU"


def test_a_value_of_the_wrong_type_fails_at_once_naming_the_variable():
    with pytest.raises(ValidationError, match="DEADLINE_SECONDS"):
        settings_from({"DEADLINE_SECONDS": "soon"})


def test_settings_are_frozen():
    with pytest.raises(ValidationError):
        settings_from({}).state_table = "other"  # type: ignore[misc]


def test_settings_reads_the_process_environment_when_called(monkeypatch):
    monkeypatch.setenv("STATE_TABLE", "from-env")
    assert settings().state_table == "from-env"
    monkeypatch.setenv("STATE_TABLE", "changed")
    assert settings().state_table == "changed"
    assert isinstance(settings(), Settings)
