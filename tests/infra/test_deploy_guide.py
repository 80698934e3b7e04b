"""The deploy guide walked as an operator would, where a machine can check it without AWS:

- **an update keeps every choice**: what `sam deploy --guided` saved (written here by SAM CLI's
  own ``GuidedConfig.save_config``) and the command ``scripts/update.sh`` runs are given to SAM
  CLI's own ``deploy`` option and config-file handling, stopped before AWS: the change set gets
  every template parameter with the saved value, in the saved region and stack;
- the guided prompt about authentication: SAM CLI's own check finds exactly the resource the
  guide names, with the answer the guide gives;
- the region table and the config environments agree with samconfig.toml.

The SAM CLI checks need ``.tools/sam`` (``make sam``; ``make test`` makes it first) and fail
without it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.infra._composition import ROOT, load
from tests.infra._tools import require_sam

UPDATE = ROOT / "scripts" / "update.sh"
GUIDE = (ROOT / "docs" / "deploy.md").read_text()
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()
TEMPLATE = ROOT / "template.yaml"
PARAMETERS = list(load(TEMPLATE)["Parameters"])

#: A Philips Hue stack in Europe, every parameter answered, several unlike samconfig.toml's.
ANSWERS = {
    "SkillId": "amzn1.ask.skill.11111111-2222-3333-4444-555555555555",
    "EnableSync": "false",
    "EnableAsync": "false",
    "EnableOptimistic": "true",
    "EnablePolling": "false",
    "Adapters": "hue",
    "AdapterSettings": '{"hue": {"TIMEOUT_SECONDS": 2.5}}',
    "AlexaRegion": "",
    "DeadlineSeconds": "8",
    "LwaTokenUrl": "https://api.amazon.com/auth/o2/token",
    "AccountLinking": "cognito",
    "LinkingVendor": "",
    "AlexaRedirectUrls": "",
    "CognitoDomainPrefix": "my-lights-eu",
    "CredentialGraceDays": "14",
    "LinkingThrottlingRateLimit": "10",
    "LinkingThrottlingBurstLimit": "20",
    "EntrypointReservedConcurrency": "0",
    "ProcessorMaxConcurrency": "2",
    "DispatcherMaxConcurrency": "2",
    "AlarmEmail": "ops@example.com",
    "MetricsNamespace": "BulbSkill",
    "ServiceName": "bulb-skill",
    "LogLevel": "INFO",
    "LogRetentionInDays": "90",
    "EnableTracing": "false",
    "SnapStart": "Enabled",
}

#: `sam deploy --guided`'s save, done by SAM CLI itself.
SAVE = r"""
import json, sys
import click
from samcli.commands.deploy.guided_config import GuidedConfig
template, config_file, env, answers = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
with click.Context(click.Command("deploy"), info_name="deploy") as ctx:
    ctx.samconfig_dir = None
    GuidedConfig(template, "parameters").save_config(
        {k: {"Value": v, "Hidden": False} for k, v in answers["parameters"].items()},
        env, config_file,
        stack_name=answers["stack_name"], resolve_s3=True, s3_prefix=answers["stack_name"],
        image_repositories=None, resolve_image_repos=False, region=answers["region"], profile=None,
        confirm_changeset=True, capabilities=("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"),
        signing_profiles=None, disable_rollback=False,
    )
"""

#: `sam deploy ARGS` through SAM CLI's own options and config file, stopped before AWS: what the
#: change set would be made with.
DEPLOY = r"""
import inspect, json, sys
import samcli.commands.deploy.command as command
from samcli.commands.deploy.deploy_context import DeployContext
from samcli.commands.deploy.utils import sanitize_parameter_overrides
from samcli.yamlhelper import yaml_parse
ORIGINAL = command.do_cli
def capture(*args, **kwargs):
    values = dict(inspect.signature(ORIGINAL).bind(*args, **kwargs).arguments)
    with open(sys.argv[1]) as f:
        template = yaml_parse(f.read())
    overrides = sanitize_parameter_overrides(values["parameter_overrides"] or {})
    print("CAPTURED " + json.dumps({
        "stack_name": values["stack_name"], "region": values["region"], "tags": values["tags"],
        "fail_on_empty_changeset": values["fail_on_empty_changeset"],
        "capabilities": values["capabilities"],
        "parameters": DeployContext.merge_parameters(template, overrides)}, default=list))
command.do_cli = capture
from samcli.cli.main import cli
cli.main(args=["deploy", *sys.argv[2:]], prog_name="sam", standalone_mode=False)
"""

#: The resources `sam deploy --guided` asks "<resource> has no authentication. Is this okay?" about.
AUTH = r"""
import json, sys
from samcli.commands.deploy.auth_utils import auth_per_resource
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
stacks, _ = SamLocalStackProvider.get_stacks(
    sys.argv[1], parameter_overrides=json.loads(sys.argv[2]),
    global_parameter_overrides={"AWS::Region": "us-east-1"})
unauthorized = (name for name, authorized in auth_per_resource(stacks) if not authorized)
print("CAPTURED " + json.dumps(sorted(unauthorized)))
"""


def sam_python(script: str, *args: str, cwd: Path = ROOT) -> Any:
    result = subprocess.run(
        [str(require_sam()), "-c", script, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0", "SAM_CLI_DISABLE_UPDATE_CHECK": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    captured = [line for line in result.stdout.splitlines() if line.startswith("CAPTURED ")]
    return json.loads(captured[-1].removeprefix("CAPTURED ")) if captured else None


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """samconfig.local.toml after a guided deploy of ANSWERS to Europe, saved to env ``eu``."""
    path = tmp_path / "samconfig.local.toml"
    answers = {"stack_name": "bulb-skill", "region": "eu-west-1", "parameters": ANSWERS}
    sam_python(SAVE, str(TEMPLATE), str(path), "eu", json.dumps(answers), cwd=tmp_path)
    return path


@pytest.fixture
def recorder(tmp_path: Path) -> tuple[Path, Path]:
    """A stand-in for scripts/sam.sh that records its arguments (one per line) and does nothing."""
    out = tmp_path / "sam-args"
    stub = tmp_path / "sam.sh"
    stub.write_text(
        f'#!/usr/bin/env bash\nprintf "%s\\n" "$@" >> {shlex.quote(str(out))}\necho --- >> '
        f"{shlex.quote(str(out))}\n"
    )
    stub.chmod(0o755)
    return stub, out


def update(*args: str, sam: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": sys.executable}
    if sam is not None:
        env["SAM_SH"] = str(sam)
    return subprocess.run(
        ["bash", str(UPDATE), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )


def recorded_deploy(out: Path) -> list[str]:
    calls = [c.strip().splitlines() for c in out.read_text().split("---") if c.strip()]
    deploys = [c for c in calls if c[0] == "deploy"]
    assert len(deploys) == 1, calls
    return deploys[0][1:]


def change_set(args: list[str]) -> dict[str, Any]:
    return sam_python(DEPLOY, str(TEMPLATE), *args)


def given(parameters: list[dict[str, Any]]) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in parameters if "ParameterValue" in p}


# -- an update keeps the operator's choices -------------------------------------------------------


def test_update_runs_build_then_deploy_from_the_saved_file_and_environment(saved, recorder):
    stub, out = recorder
    result = update("--config-file", str(saved), "--config-env", "eu", sam=stub)
    assert result.returncode == 0, result.stderr
    calls = [c.strip().splitlines() for c in out.read_text().split("---") if c.strip()]
    assert [c[0] for c in calls] == ["build", "deploy"]
    args = recorded_deploy(out)
    assert args[:4] == ["--config-file", str(saved), "--config-env", "eu"]
    assert not any(a.startswith("--parameter-overrides") for a in args), (
        "would replace the saved parameters"
    )
    assert "Adapters = hue" in result.stderr  # it says what it deploys


def test_an_update_gives_the_change_set_every_saved_parameter_region_and_tags(saved, recorder):
    stub, out = recorder
    assert (
        update("--config-file", str(saved), "--config-env", "eu", "--no-build", sam=stub).returncode
        == 0
    )
    deployed = change_set(recorded_deploy(out))
    assert deployed["stack_name"] == "bulb-skill" and deployed["region"] == "eu-west-1"
    assert given(deployed["parameters"]) == ANSWERS, "a parameter is not the operator's choice"
    assert [
        p["ParameterKey"] for p in deployed["parameters"]
    ] == PARAMETERS  # every one, none previous
    assert deployed["tags"] == {
        "project": "bulb-skill"
    }  # samconfig.toml's tags, which the guided save drops
    assert (
        deployed["fail_on_empty_changeset"] is False
    )  # an update with nothing new is not an error
    assert set(deployed["capabilities"]) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}


def test_the_old_update_command_would_have_switched_the_stack_back_to_lifx(saved):
    """What this script replaces: `scripts/sam.sh deploy` reads samconfig.toml, whose overrides
    are the repository's LIFX defaults (and another region)."""
    deployed = change_set([])
    values = given(deployed["parameters"])
    assert values["Adapters"] == "lifx" and values["EnableOptimistic"] == "false"
    assert deployed["region"] == "us-east-1"


def test_a_value_set_with_the_update_is_saved_and_kept_by_the_next_one(saved, recorder):
    stub, out = recorder
    urls = "https://pitangui.amazon.com/api/skill/link/M1,https://layla.amazon.com/api/skill/link/M1,https://alexa.amazon.co.jp/api/skill/link/M1"
    result = update(
        "--config-file",
        str(saved),
        "--config-env",
        "eu",
        "--no-build",
        "--set",
        f"AlexaRedirectUrls={urls}",
        sam=stub,
    )
    assert result.returncode == 0, result.stderr
    assert (saved.parent / ".aws-sam" / (saved.name + ".bak")).exists()
    out.unlink()
    assert (
        update("--config-file", str(saved), "--config-env", "eu", "--no-build", sam=stub).returncode
        == 0
    )
    values = given(change_set(recorded_deploy(out))["parameters"])
    assert values == {**ANSWERS, "AlexaRedirectUrls": urls}


def test_set_refuses_a_name_the_template_does_not_have(saved, recorder):
    stub, _ = recorder
    result = update(
        "--config-file",
        str(saved),
        "--config-env",
        "eu",
        "--no-build",
        "--set",
        "Adaptors=hue",
        sam=stub,
    )
    assert result.returncode == 2 and "not NAME=VALUE with NAME a parameter" in result.stderr
    assert 'Adapters=\\"hue\\"' in saved.read_text()


def test_update_refuses_what_is_not_a_saved_guided_deploy(saved, recorder, tmp_path):
    stub, out = recorder
    repository_defaults = update("--config-file", "samconfig.toml", sam=stub)
    assert repository_defaults.returncode == 2 and "saves no SkillId" in repository_defaults.stderr
    missing = update("--config-file", str(tmp_path / "nothing.toml"), sam=stub)
    assert missing.returncode == 2 and "deploy --guided" in missing.stderr
    wrong_env = update("--config-file", str(saved), "--config-env", "fe", sam=stub)
    assert wrong_env.returncode == 2 and "has no [fe.deploy.parameters]" in wrong_env.stderr
    overrides = update(
        "--config-file", str(saved), "--config-env", "eu", "--parameter-overrides", "A=b", sam=stub
    )
    assert overrides.returncode == 2 and "--set" in overrides.stderr
    assert not out.exists(), "nothing may be deployed"


def test_dry_run_deploys_nothing_and_shows_the_command(saved, recorder):
    stub, out = recorder
    result = update("--config-file", str(saved), "--config-env", "eu", "--dry-run", sam=stub)
    assert result.returncode == 0, result.stderr
    assert "deploy --config-file" in result.stdout and "--config-env eu" in result.stdout
    assert not out.exists()


# -- the guide -------------------------------------------------------------------------------------


def commands(text: str) -> list[str]:
    """Shell lines of the docs' code blocks and inline code."""
    blocks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    inline = [
        m.group(1)
        for m in re.finditer(r"`([^`\n]*(?:sam\.sh|update\.sh)[^`\n]*)`", text)
        if not text[max(0, m.start() - 12) : m.start()].endswith("Never run ")
    ]  # the warning itself
    return lines + inline


def test_the_guide_updates_only_through_the_saved_answers():
    for line in commands(GUIDE) + commands(OPERATIONS):
        if re.search(r"sam\.sh deploy\b", line):
            assert "--guided" in line, f"a deploy that reads samconfig.toml's defaults: {line}"
    assert "scripts/update.sh" in GUIDE and "samconfig.local.toml" in GUIDE
    for env in ("eu", "fe"):
        assert f"scripts/update.sh --config-env {env}" in GUIDE


def test_the_guide_names_the_authentication_prompt_and_its_answer():
    assert "NotificationsFunction has no authentication. Is this okay? [y/N]" in GUIDE
    section = GUIDE.split("NotificationsFunction has no authentication", 1)[1][:1500]
    assert "**y**" in section and "path secret" in section


@pytest.mark.parametrize("async_", ["false", "true"])
def test_sam_asks_about_authentication_for_the_webhook_function_only(async_):
    """SAM CLI reads every nested template without evaluating conditions, so it asks even when
    the async style is off; the linking pages' API (plain ApiGatewayV2 resources) is not asked
    about."""
    overrides = {"SkillId": ANSWERS["SkillId"], "EnableAsync": async_}
    assert sam_python(AUTH, str(TEMPLATE), json.dumps(overrides)) == ["NotificationsFunction"]


REGIONS = {"us-east-1": "default", "eu-west-1": "eu", "us-west-2": "fe"}
LANGUAGES = {
    "English (US)": "us-east-1",
    "English (CA)": "us-east-1",
    "French (CA)": "us-east-1",
    "Portuguese (BR)": "us-east-1",
    "Spanish (MX)": "us-east-1",
    "Spanish (US)": "us-east-1",
    "English (UK)": "eu-west-1",
    "English (IN)": "eu-west-1",
    "Hindi (IN)": "eu-west-1",
    "German (DE)": "eu-west-1",
    "French (FR)": "eu-west-1",
    "Italian (IT)": "eu-west-1",
    "Spanish (ES)": "eu-west-1",
    "Arabic (SA)": "eu-west-1",
    "Dutch (NL)": "eu-west-1",
    "Japanese (JP)": "us-west-2",
    "English (AU)": "us-west-2",
}


def test_the_language_table_sends_each_language_to_its_region_and_config_env():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    rows = [r for r in GUIDE.splitlines() if r.startswith("| ") and "`" in r]
    for language, region in LANGUAGES.items():
        row = next((r for r in rows if language in r), None)
        assert row is not None, f"{language} is not in the language table"
        assert f"`{region}`" in row and f"`{REGIONS[region]}`" in row, row
        assert config[REGIONS[region]]["deploy"]["parameters"]["region"] == region
    assert "No new devices found" in GUIDE


def test_the_guide_checks_the_accounts_concurrency_and_the_defaults_leave_the_entrypoint_room():
    declared = load(TEMPLATE)["Parameters"]
    processor, dispatcher = (
        int(declared[p]["Default"]) for p in ("ProcessorMaxConcurrency", "DispatcherMaxConcurrency")
    )
    assert processor + dispatcher <= 5, (
        "a sync-only stack may take at most half of a new account's 10"
    )
    assert int(declared["EntrypointReservedConcurrency"]["Default"]) == 0
    assert "aws lambda get-account-settings" in GUIDE and "L-B99A9384" in GUIDE


# -- day 2 -----------------------------------------------------------------------------------------


def test_every_alarm_has_a_row_in_the_operations_guide():
    from tests.infra._composition import STYLES, Composition

    comp = Composition.with_styles(*STYLES)
    alarms = {str(res) for res, _ in comp.resources("AWS::CloudWatch::Alarm")}
    section = OPERATIONS.split("## Alarms, and what to do", 1)[1].split("\n## ", 1)[0]
    for alarm in alarms:
        logical = alarm.split("/")[-1]
        style = alarm.split("/")[0]
        named = f"`{alarm}`" in section or (
            logical in ("DirectivesDLQAlarm", "ProcessorErrorsAlarm") and f"{logical}`" in section
        )
        assert named, f"{alarm}: no row says what to do when it fires"
        assert style in section or "<Style>" in section or "/" not in alarm, alarm


def test_the_operations_guide_says_what_deleting_keeps_and_loses():
    from tests.infra._composition import STYLES, Composition

    comp = Composition.with_styles(*STYLES)
    retained = {
        res.logical_id
        for res, resource in comp.resources()
        if resource.get("DeletionPolicy") == "Retain"
    }
    section = OPERATIONS.split("## Deleting a stack", 1)[1]
    for logical_id in retained:
        assert f"`{logical_id}`" in section, logical_id
    for lost in ("log group", "dead letters", "idempotency table", "dashboard"):
        assert lost in section, lost


def test_the_guides_link_each_other_and_the_readme_links_day_two():
    readme = (ROOT / "README.md").read_text().split("## Deploy it", 1)[1].split("\n## ", 1)[0]
    assert "docs/operations.md" in readme and "docs/deploy.md" in readme
    assert "(operations.md)" in GUIDE and "(deploy.md)" in OPERATIONS
    for needed in (
        "skill dlq list --stack",
        "skill dlq show outbox",
        "skill dlq redrive",
        "correlation_id",
        "DashboardUrl",
        "## What a stack costs a month",
        "Per user",
    ):
        assert needed in OPERATIONS, needed
