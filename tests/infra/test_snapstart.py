"""The SnapStart parameter: ``Disabled`` (the default) deploys exactly what the stack deployed
without it; ``Enabled`` publishes versions with SnapStart on every function of a command's path
and makes everything that invokes them (Alexa, the queues, the webhook API) use the alias.

Two views: the composition (tests/infra/_composition.py) for what the templates say, and SAM's
own translator run as CloudFormation runs the bricks' transforms (AWS::LanguageExtensions, then
AWS::Serverless), for the resources that come out of it. The local stack resolves both variants.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from bulb_workbench.local._resources import read_template
from tests.infra._composition import ROOT, STYLES, TEMPLATE, Composition, Res, load
from tests.infra._tools import require_sam

#: The functions a command goes through (and the webhook's), by handler: SnapStart's reach.
LATENCY_PATH = {
    "skill.handlers.entrypoint.handler",
    "skill.handlers.dispatcher.handler",
    "skill.handlers.processors.sync.handler",
    "skill.handlers.processors.async_.handler",
    "skill.handlers.processors.optimistic.handler",
    "skill.handlers.processors.polling.handler",
    "skill.handlers.poller.handler",
    "skill.handlers.notifications.handler",
}
#: Their bricks (all get the parameter and the LanguageExtensions transform).
BRICKS = [
    "entrypoint",
    "dispatcher",
    "processor-sync",
    "processor-async",
    "processor-optimistic",
    "processor-polling",
]
SNAPSTART_PROPERTIES = ("AutoPublishAlias", "VersionDeletionPolicy", "SnapStart")


def composed(snapstart: str | None) -> Composition:
    parameters = {} if snapstart is None else {"SnapStart": snapstart}
    return Composition.with_styles(*STYLES, **parameters)


DEFAULT, DISABLED, ENABLED = composed(None), composed("Disabled"), composed("Enabled")


def test_the_parameter_is_off_by_default_and_reaches_every_brick_of_the_path():
    spec = load(TEMPLATE)["Parameters"]["SnapStart"]
    assert spec["Default"] == "Disabled" and spec["AllowedValues"] == ["Enabled", "Disabled"]
    for brick in BRICKS:
        stack = next(s for s in ENABLED.stacks.values() if s.path.stem == brick)
        assert stack.given.get("SnapStart") == {"Ref": "SnapStart"}, brick
        assert stack.template["Transform"] == [
            "AWS::LanguageExtensions",
            "AWS::Serverless-2016-10-31",
        ], (
            f"{brick}: LanguageExtensions must resolve the conditions before SAM reads "
            "AutoPublishAlias"
        )


@pytest.mark.parametrize("comp", [DEFAULT, DISABLED], ids=["default", "Disabled"])
def test_disabled_functions_have_no_version_alias_or_snapshot(comp):
    for fn in comp.functions():
        assert not set(SNAPSTART_PROPERTIES) & set(fn.props), fn.res
    entrypoint = comp.function("skill.handlers.entrypoint.handler")
    assert permission_target(comp) == entrypoint.res
    assert comp.root.output("EntrypointFunctionArn") == entrypoint.res


def test_enabled_publishes_snapstart_versions_behind_the_alias_live():
    reached = set()
    for fn in ENABLED.functions():
        if fn.handler in LATENCY_PATH:
            reached.add(fn.handler)
            assert fn.props["AutoPublishAlias"] == "live", fn.res
            assert fn.props["SnapStart"] == {"ApplyOn": "PublishedVersions"}, fn.res
            assert fn.props["VersionDeletionPolicy"] == "Delete", (
                f"{fn.res}: old snapshots stay cached"
            )
        else:  # the sweep and the linking pages: off the path of a command
            assert not set(SNAPSTART_PROPERTIES) & set(fn.props), fn.res
    assert reached == LATENCY_PATH


def test_enabled_alexa_may_invoke_the_alias_only_and_the_endpoint_to_paste_is_the_alias():
    alias = Res("Entrypoint", "EntrypointFunctionAliaslive")
    assert permission_target(ENABLED) == alias
    assert ENABLED.root.output("EntrypointFunctionArn") == alias


def permission_target(comp: Composition) -> Any:
    (permission,) = [
        comp.props(res)
        for res, _ in comp.resources("AWS::Lambda::Permission")
        if comp.props(res).get("Principal") == "alexa-connectedhome.amazon.com"
    ]
    return permission["FunctionName"]


@pytest.mark.parametrize("snapstart", ["Disabled", "Enabled"])
def test_the_local_stack_resolves_both_variants_alike(snapstart):
    params = {f"Enable{s}": "true" for s in STYLES} | {
        "SkillId": "amzn1.ask.skill.0",
        "SnapStart": snapstart,
    }
    model = read_template(TEMPLATE, params)
    baseline = read_template(TEMPLATE, params | {"SnapStart": "Disabled"})
    assert {k: (f.handler, f.sqs_sources, f.http_routes) for k, f in model.functions.items()} == {
        k: (f.handler, f.sqs_sources, f.http_routes) for k, f in baseline.functions.items()
    }
    assert model.queues.keys() == baseline.queues.keys()


# -- as CloudFormation transforms the bricks -------------------------------------------------------

#: Each brick through SAM CLI's AWS::LanguageExtensions processing and SAM's translator, for
#: SnapStart Disabled and Enabled, and once as it was before the parameter (its parameter and
#: condition removed, every ``Fn::If [SnapStartEnabled, ...]`` replaced by its false branch).
TRANSLATE = r"""
import copy, json, sys
import yaml
from samcli.lib.translate.sam_template_validator import SamTemplateValidator
from samcli.yamlhelper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

def before_the_parameter(template):
    template = copy.deepcopy(template)
    template["Parameters"].pop("SnapStart")
    template["Conditions"].pop("SnapStartEnabled")
    def strip(node):
        if isinstance(node, dict):
            if list(node) == ["Fn::If"] and node["Fn::If"][0] == "SnapStartEnabled":
                return strip(node["Fn::If"][2])
            return {k: strip(v) for k, v in node.items()}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node
    return strip(template)

def translate(template, overrides, extensions):
    validator = SamTemplateValidator(
        template, NoManagedPolicies(), region="us-east-1", parameter_overrides=overrides,
        language_extensions_enabled=extensions)
    return yaml.safe_load(validator.get_translated_template_if_valid())

out = {}
for path in sys.argv[1:]:
    with open(path) as f:
        source = yaml_parse(f.read())
    for value in ("Disabled", "Enabled"):
        out[f"{path}|{value}"] = translate(copy.deepcopy(source), {"SnapStart": value}, True)
    out[f"{path}|before"] = translate(before_the_parameter(source), {}, True)
print("CAPTURED " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def translated() -> dict[str, dict[str, Any]]:
    sam_python = require_sam()
    env = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "SAM_CLI_DISABLE_UPDATE_CHECK": "1",
        "AWS_ACCESS_KEY_ID": "offline",
        "AWS_SECRET_ACCESS_KEY": "offline",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.pop("AWS_PROFILE", None)
    paths = [str(ROOT / "infra" / f"{b}.yaml") for b in BRICKS]
    result = subprocess.run(
        [str(sam_python), "-c", TRANSLATE, *paths],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("CAPTURED "))
    return {k.replace(str(ROOT / "infra") + "/", ""): v for k, v in json.loads(line[9:]).items()}


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


@pytest.mark.parametrize("brick", BRICKS)
def test_disabled_transforms_to_the_resources_of_before_the_parameter(translated, brick):
    disabled, before = translated[f"{brick}.yaml|Disabled"], translated[f"{brick}.yaml|before"]
    assert disabled["Resources"] == before["Resources"]  # the same resources, property by property
    assert disabled.get("Outputs") == before.get("Outputs")
    assert not of_type(disabled, "AWS::Lambda::Version") and not of_type(
        disabled, "AWS::Lambda::Alias"
    )


@pytest.mark.parametrize("brick", BRICKS)
def test_enabled_transforms_to_a_snapstart_version_and_alias_that_every_trigger_invokes(
    translated, brick
):
    enabled = translated[f"{brick}.yaml|Enabled"]
    functions = of_type(enabled, "AWS::Lambda::Function")
    aliases = of_type(enabled, "AWS::Lambda::Alias")
    versions = of_type(enabled, "AWS::Lambda::Version")
    assert set(aliases) == {f"{name}Aliaslive" for name in functions}
    assert len(versions) == len(functions)
    for name, function in functions.items():
        assert function["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}, name
    for name, version in versions.items():
        assert version["DeletionPolicy"] == "Delete", (
            f"{name}: a replaced version would stay cached"
        )
    alias_refs = [{"Ref": alias} for alias in aliases]
    for name, mapping in of_type(enabled, "AWS::Lambda::EventSourceMapping").items():
        assert mapping["Properties"]["FunctionName"] in alias_refs, f"{name} invokes $LATEST"
    for name, permission in of_type(enabled, "AWS::Lambda::Permission").items():
        assert permission["Properties"]["FunctionName"] in alias_refs, f"{name} allows $LATEST"
    for name, api in of_type(enabled, "AWS::ApiGatewayV2::Api").items():
        body = json.dumps(api["Properties"]["Body"])
        assert any("${" + alias + "}" in body for alias in aliases), f"{name} integrates $LATEST"
        assert ".Arn}/invocations" not in body, f"{name} integrates $LATEST"
    if brick == "entrypoint":
        assert enabled["Outputs"]["FunctionArn"]["Value"] == {"Ref": "EntrypointFunctionAliaslive"}


def test_bricks_off_the_command_path_are_untouched():
    for brick in ("sweep", "linking"):
        template = load(ROOT / "infra" / f"{brick}.yaml")
        assert "SnapStart" not in template.get("Parameters", {}), brick
        assert template["Transform"] == "AWS::Serverless-2016-10-31", brick


def test_the_deploy_guide_prices_snapstart_and_names_its_sources():
    guide = (ROOT / "docs" / "deploy.md").read_text()
    section = guide.split("## SnapStart", 1)[1].split("\n## ", 1)[0]
    for needed in (
        "SnapStart=Enabled",
        "live",
        "per GB-second",
        "per GB restored",
        "docs.aws.amazon.com/lambda/latest/dg/snapstart",
        "aws.amazon.com/lambda/pricing",
    ):
        assert needed in section, needed
