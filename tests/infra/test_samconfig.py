"""samconfig.toml: `sam deploy --guided` defaults, one config env per Alexa region."""

from __future__ import annotations

import shlex
import tomllib

import pytest

from tests.infra._composition import ROOT, load

CONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text())
REGIONS = {"default": "us-east-1", "eu": "eu-west-1", "fe": "us-west-2"}


@pytest.mark.parametrize(("env", "region"), REGIONS.items())
def test_each_alexa_region_deploys_with_the_capabilities_nested_apps_need(env, region):
    deploy = CONFIG[env]["deploy"]["parameters"]
    assert deploy["region"] == region
    assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
    assert deploy["resolve_s3"] is True and deploy["confirm_changeset"] is True
    assert CONFIG[env]["build"]["parameters"]["template_file"] == "template.yaml"


@pytest.mark.parametrize("env", REGIONS)
def test_parameter_overrides_name_template_parameters_and_leave_the_skill_id_to_the_user(env):
    overrides = dict(
        item.split("=", 1)
        for item in shlex.split(CONFIG[env]["deploy"]["parameters"]["parameter_overrides"])
    )
    declared = load(ROOT / "template.yaml")["Parameters"]
    assert set(overrides) <= set(declared)
    assert "SkillId" not in overrides  # --guided asks for it
    for name, value in overrides.items():
        allowed = declared[name].get("AllowedValues")
        assert allowed is None or value in [str(v) for v in allowed], name
