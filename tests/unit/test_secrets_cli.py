"""``skill secrets`` against a deployed stack (moto): one key changed, the others kept, values
never printed, the stack found in its own region."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bulb_workbench.cli import main

STACK = "bulb-skill"
GENERATED = "generated-path-secret-0123456789abcdefghij"
SWITCHBOT = "switchbot-webhook-secret-value-0123456789"


def deploy(
    region: str, vendor: dict[str, str], lwa: dict[str, str] | None = None
) -> dict[str, str]:
    """A stack whose outputs name its secrets, as template.yaml's do."""
    sm = boto3.client("secretsmanager", region_name=region)
    vendor_arn = sm.create_secret(Name=f"VendorSecrets-{region}", SecretString=json.dumps(vendor))[
        "ARN"
    ]
    lwa_arn = sm.create_secret(
        Name=f"LwaSecret-{region}",
        SecretString=json.dumps(
            lwa or {"client_id": "REPLACE-WITH-ALEXA-SKILL-CLIENT-ID", "client_secret": "generated"}
        ),
    )["ARN"]
    template = {
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {"VendorSecretsArn": {"Value": vendor_arn}, "LwaSecretArn": {"Value": lwa_arn}},
    }
    boto3.client("cloudformation", region_name=region).create_stack(
        StackName=STACK, TemplateBody=json.dumps(template)
    )
    return {"vendor": vendor_arn, "lwa": lwa_arn}


def secret(arn: str, region: str = "eu-west-1") -> dict[str, Any]:
    sm = boto3.client("secretsmanager", region_name=region)
    return json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])


@pytest.fixture
def aws(monkeypatch) -> Iterator[dict[str, str]]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield deploy("eu-west-1", {"WEBHOOK_PATH_SECRET": GENERATED})


def skill(
    capsys, *args: str, stdin: str | None = None, monkeypatch=None
) -> tuple[int, dict[str, Any] | None, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["secrets", *args])
    captured = capsys.readouterr()
    lines = [line for line in captured.out.splitlines() if line.strip()]
    return code, (json.loads(lines[-1]) if lines else None), captured.out + captured.err


WHERE = ("--stack", STACK, "--region", "eu-west-1")


def test_set_adds_one_key_keeps_the_others_and_never_prints_the_value(aws, capsys):
    code, result, printed = skill(capsys, "set", "SWITCHBOT_WEBHOOK_SECRET", SWITCHBOT, *WHERE)
    assert code == 0, printed
    assert secret(aws["vendor"]) == {
        "WEBHOOK_PATH_SECRET": GENERATED,
        "SWITCHBOT_WEBHOOK_SECRET": SWITCHBOT,
    }
    assert result["change"] == "added" and result["key"] == "SWITCHBOT_WEBHOOK_SECRET"
    assert result["keys"] == ["SWITCHBOT_WEBHOOK_SECRET", "WEBHOOK_PATH_SECRET"]
    assert result["secret"] == aws["vendor"]
    assert SWITCHBOT not in printed and GENERATED not in printed


def test_set_replaces_a_value_and_a_same_value_writes_no_new_version(aws, capsys):
    skill(capsys, "set", "LIFX_CLIENT_ID", "first", *WHERE)
    _, replaced, _ = skill(capsys, "set", "LIFX_CLIENT_ID", "second", *WHERE)
    assert replaced["change"] == "replaced" and secret(aws["vendor"])["LIFX_CLIENT_ID"] == "second"
    _, same, _ = skill(capsys, "set", "LIFX_CLIENT_ID", "second", *WHERE)
    assert same["change"] == "unchanged" and same["version_id"] == replaced["version_id"]


def test_a_value_from_stdin_or_generated_is_never_printed(aws, capsys, monkeypatch):
    code, _result, printed = skill(
        capsys,
        "set",
        "HUE_CLIENT_SECRET",
        "-",
        *WHERE,
        stdin="from-stdin-value\n",
        monkeypatch=monkeypatch,
    )
    assert code == 0 and secret(aws["vendor"])["HUE_CLIENT_SECRET"] == "from-stdin-value"
    assert "from-stdin-value" not in printed
    code, _result, printed = skill(capsys, "set", "SWITCHBOT_WEBHOOK_SECRET", "--generate", *WHERE)
    generated = secret(aws["vendor"])["SWITCHBOT_WEBHOOK_SECRET"]
    assert code == 0 and len(generated) == 64 and int(generated, 16) >= 0
    assert generated not in printed


def test_unset_removes_one_key_and_list_shows_names_only(aws, capsys):
    skill(capsys, "set", "HUE_APPLICATION_KEY", "fallback-key", *WHERE)
    code, listed, printed = skill(capsys, "list", *WHERE)
    assert code == 0 and listed["keys"] == ["HUE_APPLICATION_KEY", "WEBHOOK_PATH_SECRET"]
    assert "fallback-key" not in printed and GENERATED not in printed
    _, removed, _ = skill(capsys, "unset", "HUE_APPLICATION_KEY", *WHERE)
    assert removed["change"] == "removed" and secret(aws["vendor"]) == {
        "WEBHOOK_PATH_SECRET": GENERATED
    }
    _, absent, _ = skill(capsys, "unset", "HUE_APPLICATION_KEY", *WHERE)
    assert absent["change"] == "absent"


def test_the_lwa_secret_takes_only_client_id_and_client_secret(aws, capsys):
    code, _, _ = skill(
        capsys, "set", "client_id", "amzn1.application-oa2-client.abc", *WHERE, "--secret", "lwa"
    )
    assert code == 0 and secret(aws["lwa"])["client_id"] == "amzn1.application-oa2-client.abc"
    assert secret(aws["lwa"])["client_secret"] == "generated"  # kept
    code, _, printed = skill(capsys, "set", "LIFX_CLIENT_ID", "x", *WHERE, "--secret", "lwa")
    assert code == 1 and "not a key of this secret" in printed


def test_each_region_has_its_own_stack_and_secrets(aws, capsys):
    us = deploy("us-east-1", {"WEBHOOK_PATH_SECRET": "another"})
    skill(capsys, "set", "GOVEE_NOTHING", "us-only", "--stack", STACK, "--region", "us-east-1")
    assert secret(us["vendor"], "us-east-1")["GOVEE_NOTHING"] == "us-only"
    assert "GOVEE_NOTHING" not in secret(aws["vendor"])
    code, _, printed = skill(capsys, "list", "--stack", STACK, "--region", "us-west-2")
    assert code == 1 and "wrong name or region" in printed


def test_names_that_are_not_keys_and_missing_values_are_refused(aws, capsys):
    for args in (
        ("set", "lower_case", "v"),
        ("set", "NAME"),
        ("set", "NAME", "v", "--generate"),
        ("set", "NAME", " padded "),
    ):
        code, _, _printed = skill(capsys, *args, *WHERE)
        assert code == 1, args
    assert secret(aws["vendor"]) == {"WEBHOOK_PATH_SECRET": GENERATED}


def test_a_secret_that_is_not_a_json_object_is_left_alone(aws, capsys):
    sm = boto3.client("secretsmanager", region_name="eu-west-1")
    sm.put_secret_value(SecretId=aws["vendor"], SecretString="not json")
    code, _, printed = skill(capsys, "set", "NAME", "v", *WHERE)
    assert code == 1 and "does not hold a JSON object" in printed and "not json" not in printed
    assert sm.get_secret_value(SecretId=aws["vendor"])["SecretString"] == "not json"


def test_a_change_made_meanwhile_is_merged_not_lost(aws, capsys, monkeypatch):
    """Someone puts another key between our read and our write: we read again and keep both."""
    from bulb_workbench import cli_secrets

    sm = boto3.client("secretsmanager", region_name="eu-west-1")
    original = cli_secrets.SecretKeys._read
    calls = []

    def read_then_race(self):
        values = original(self)
        if not calls:
            sm.put_secret_value(
                SecretId=aws["vendor"],
                SecretString=json.dumps({**secret(aws["vendor"]), "OTHER": "x"}),
            )
        calls.append(1)
        return values

    monkeypatch.setattr(cli_secrets.SecretKeys, "_read", read_then_race)
    code, _result, printed = skill(capsys, "set", "MINE", "y", *WHERE)
    assert code == 0, printed
    assert secret(aws["vendor"]) == {"WEBHOOK_PATH_SECRET": GENERATED, "OTHER": "x", "MINE": "y"}
    assert len(calls) == 2


def test_rotating_a_webhook_path_secret_keeps_the_old_one_accepted(aws, capsys):
    """PathSecrets (skill.aws.secrets) accepts the new current secret and the previous one."""
    from skill.aws.secrets import PathSecrets

    code, result, printed = skill(capsys, "rotate-webhook", "switchbot", *WHERE)
    assert code == 0, printed
    values = secret(aws["vendor"])
    new = values["WEBHOOK_PATH_SECRET_SWITCHBOT"]
    assert values["WEBHOOK_PATH_SECRET_SWITCHBOT_PREVIOUS"] == GENERATED and new != GENERATED
    assert new not in printed and GENERATED not in printed
    assert "unset WEBHOOK_PATH_SECRET_SWITCHBOT_PREVIOUS" in result["next"]
    paths = PathSecrets(lambda name: values[name])
    assert paths.current("switchbot") == new
    assert paths.accepts("switchbot", GENERATED) and paths.accepts("switchbot", new)
    skill(capsys, "unset", "WEBHOOK_PATH_SECRET_SWITCHBOT_PREVIOUS", *WHERE)
    after = secret(aws["vendor"])
    assert not PathSecrets(lambda name: after[name]).accepts("switchbot", GENERATED)


def test_a_secret_can_be_named_directly(aws, capsys):
    code, listed, _ = skill(capsys, "list", "--secret-id", aws["vendor"], "--region", "eu-west-1")
    assert code == 0 and listed["keys"] == ["WEBHOOK_PATH_SECRET"]
    code, _, printed = skill(capsys, "list")
    assert code == 1 and "--stack" in printed
