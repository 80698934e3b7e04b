"""The linking pages in the templates (issue 12): infra/linking.yaml, composed by template.yaml in
cognito mode only. Its HTTP API (throttled, every route to the one function), the pages' app
client (back to the API's /callback), the function's environment and least-privilege role, the
keys' policies naming that role, the session secret, the outputs; and no circular dependency in
any template, SAM's implicit ones included."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from tests.infra._composition import (
    ROOT,
    STYLES,
    TEMPLATE,
    Composition,
    Res,
    Statement,
    Sub,
    load,
    statements_of,
)

LINKING = "skill.handlers.linking_pages.handler"
STACK = "LinkingPages"
API = Res(STACK, "LinkingApi")
CLIENT = Res(STACK, "LinkingClient")
CLIENT_SECRET = Res(STACK, "LinkingClientSecret")
SESSION_SECRET = Res("", "SessionSecret")
USER_POOL = Res("", "UserPool")
OWNERS_BY_USER = Sub("${StateTableArn}/index/OwnersByUser", (Res("", "StateTable"),))
BASE_URL = "https://${LinkingApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
CONTEXT_CONDITION = {
    "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["user_id", "vendor"]},
    "Null": {
        "kms:EncryptionContextKeys": "false",
        "kms:EncryptionContext:user_id": "false",
        "kms:EncryptionContext:vendor": "false",
    },
}
#: Every variable the pages read (skill.handlers.linking_pages, skill.config, the adapters).
ENVIRONMENT = {
    "LINKING_BASE_URL",
    "COGNITO_DOMAIN",
    "COGNITO_ISSUER",
    "LINKING_CLIENT_SECRET_NAME",
    "SESSION_SECRET_NAME",
    "USER_POOL_ID",
    "ACCOUNT_LINKING",
    "CREDENTIALS_TABLE",
    "CREDENTIALS_KEY_ID",
    "STATE_TABLE",
    "TOKENS_TABLE",
    "OUTBOX_QUEUE_URL",
    "VENDOR_SECRETS_NAME",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_TRACE_DISABLED",
}
ALL = Composition.with_styles(*STYLES)
SYNC = Composition.with_styles("Sync")
VENDOR = Composition.with_styles(
    "Sync", AccountLinking="vendor", LinkingVendor="lifx", Adapters="lifx"
)


def of_type(comp: Composition, kind: str) -> list[tuple[Res, dict[str, Any]]]:
    return [(res, comp.props(res)) for res, _ in comp.resources(kind)]


def linking_resources(comp: Composition, kind: str) -> list[tuple[Res, dict[str, Any]]]:
    return [(res, props) for res, props in of_type(comp, kind) if res.stack == STACK]


# -- the HTTP API ---------------------------------------------------------------------------------


def test_the_api_throttles_every_route_on_its_default_stage():
    ((stage_res, stage),) = linking_resources(ALL, "AWS::ApiGatewayV2::Stage")
    assert (
        stage["ApiId"] == API and stage["StageName"] == "$default" and stage["AutoDeploy"] == "true"
    )
    assert stage["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": "10",
        "ThrottlingBurstLimit": "20",
    }
    declared = load(TEMPLATE)["Parameters"]
    assert declared["LinkingThrottlingRateLimit"]["Default"] == 10
    assert declared["LinkingThrottlingBurstLimit"]["Default"] == 20
    tuned = Composition.with_styles(
        "Sync", LinkingThrottlingRateLimit="3", LinkingThrottlingBurstLimit="6"
    )
    ((_, stage),) = linking_resources(tuned, "AWS::ApiGatewayV2::Stage")
    assert stage["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": "3",
        "ThrottlingBurstLimit": "6",
    }
    # no route overrides the default settings, and no other stage serves the API
    assert "RouteSettings" not in stage
    assert [
        res for res, props in of_type(ALL, "AWS::ApiGatewayV2::Stage") if props["ApiId"] == API
    ] == [stage_res]


def test_both_routes_go_to_the_linking_function_and_only_this_api_may_invoke_it():
    fn = ALL.function(LINKING)
    ((integration_res, integration),) = linking_resources(ALL, "AWS::ApiGatewayV2::Integration")
    assert integration["ApiId"] == API
    assert (
        integration["IntegrationType"] == "AWS_PROXY"
        and integration["PayloadFormatVersion"] == "2.0"
    )
    assert integration["IntegrationUri"] == fn.res
    assert fn.timeout * 1000 < int(integration["TimeoutInMillis"]) <= 30000, (
        "the page's answer must reach the API"
    )
    routes = {
        props["RouteKey"]: props for _, props in linking_resources(ALL, "AWS::ApiGatewayV2::Route")
    }
    assert set(routes) == {"ANY /", "ANY /{proxy+}"}
    for route in routes.values():
        assert route["ApiId"] == API
        target = route["Target"]
        assert isinstance(target, Sub) and target.text == "integrations/${LinkingIntegration}"
        assert target.refs == (integration_res,)
        assert (
            "AuthorizationType" not in route or route["AuthorizationType"] == "NONE"
        )  # the pages sign users in
    permissions = [
        p for _, p in of_type(ALL, "AWS::Lambda::Permission") if p["FunctionName"] == fn.res
    ]
    assert len(permissions) == 1
    permission = permissions[0]
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["Principal"] == "apigateway.amazonaws.com"
    source = permission["SourceArn"]
    assert isinstance(source, Sub) and API in source.refs
    api_arn = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${LinkingApi}/"
    assert source.text.startswith(api_arn)
    assert not fn.events, (
        "the routes are the API's own resources, not SAM events (see infra/README.md)"
    )


def test_the_function_runs_the_pages_with_the_bundle_build():
    fn = ALL.function(LINKING)
    assert fn.res.stack == STACK
    raw = ALL.raw(fn.res)
    assert raw["Metadata"] == {"BuildMethod": "makefile"}
    assert fn.props["CodeUri"] == "lambda/" and fn.props["Runtime"] == "python3.13"
    assert fn.props["Architectures"] == ["arm64"]
    assert 10 <= fn.timeout < 30


# -- the pages' app client ------------------------------------------------------------------------


def test_linking_client_uses_the_code_grant_back_to_the_apis_callback():
    client = ALL.props(CLIENT)
    assert client["UserPoolId"] == USER_POOL
    assert client["GenerateSecret"] == "true"
    assert client["AllowedOAuthFlowsUserPoolClient"] == "true"
    assert client["AllowedOAuthFlows"] == ["code"]
    assert sorted(client["AllowedOAuthScopes"]) == ["email", "openid", "profile"]
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    (callback,), (logout,) = client["CallbackURLs"], client["LogoutURLs"]
    assert (
        isinstance(callback, Sub)
        and callback.text == BASE_URL + "/callback"
        and API in callback.refs
    )
    assert isinstance(logout, Sub) and logout.text == BASE_URL + "/" and API in logout.refs
    # the same URL the function builds its redirect_uri from
    base = ALL.function(LINKING).environment["LINKING_BASE_URL"]
    assert isinstance(base, Sub) and base.text == BASE_URL and base.refs == callback.refs


def test_linking_client_is_not_alexas_and_has_its_branding():
    alexa = ALL.props(Res("", "AlexaClient"))
    assert ALL.props(CLIENT)["ClientName"] != alexa["ClientName"]
    brandings = [
        p for _, p in of_type(ALL, "AWS::Cognito::ManagedLoginBranding") if p["ClientId"] == CLIENT
    ]
    assert brandings == [
        {"UserPoolId": USER_POOL, "ClientId": CLIENT, "UseCognitoProvidedValues": "true"}
    ]
    # the brick (so its branding) comes after the managed login domain
    assert ALL.raw(Res("", STACK)).get("DependsOn") == "UserPoolDomain"


def test_linking_client_id_and_secret_reach_the_function_through_a_secret_only():
    secret = ALL.props(CLIENT_SECRET)["SecretString"]
    assert isinstance(secret, Sub) and set(secret.refs) == {CLIENT}
    assert '"client_id": "${LinkingClient}"' in secret.text
    assert '"client_secret": "${LinkingClient.ClientSecret}"' in secret.text
    env = ALL.function(LINKING).environment
    assert env["LINKING_CLIENT_SECRET_NAME"] == CLIENT_SECRET
    assert CLIENT not in env.values()


# -- the function's environment -------------------------------------------------------------------


@pytest.mark.parametrize("comp", [SYNC, ALL], ids=["sync", "all-styles"])
def test_the_function_gets_every_variable_the_pages_read(comp):
    env = comp.function(LINKING).environment
    missing = ENVIRONMENT - set(env)
    assert not missing, sorted(missing)
    assert env["ACCOUNT_LINKING"] == "cognito"
    assert env["SESSION_SECRET_NAME"] == SESSION_SECRET
    assert env["USER_POOL_ID"] == USER_POOL
    assert env["CREDENTIALS_TABLE"] == Res("", "CredentialsTable")
    assert env["CREDENTIALS_KEY_ID"] == Res("", "CredentialsKey")
    assert env["STATE_TABLE"] == Res("", "StateTable")
    assert env["TOKENS_TABLE"] == Res("", "TokensTable")
    assert env["OUTBOX_QUEUE_URL"] == Res("", "OutboxQueue")
    assert env["VENDOR_SECRETS_NAME"] == Res("", "VendorSecrets")
    issuer = env["COGNITO_ISSUER"]
    assert isinstance(issuer, Sub)
    assert issuer.text == "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
    domain = env["COGNITO_DOMAIN"]
    assert (
        isinstance(domain, Sub)
        and domain.text == "https://${Prefix}.auth.${AWS::Region}.amazoncognito.com"
    )
    # the same domain as the AuthorizationUri output gives Alexa
    assert domain.refs[0] == comp.root.output("AuthorizationUri").refs[0]


def test_the_domain_follows_the_prefix_parameter():
    comp = Composition.with_styles("Sync", CognitoDomainPrefix="my-bulbs")
    assert comp.function(LINKING).environment["COGNITO_DOMAIN"].refs[0] == "my-bulbs"


def test_webhook_base_url_only_when_the_async_style_is_deployed():
    assert "WEBHOOK_BASE_URL" not in SYNC.function(LINKING).environment
    assert (
        ALL.function(LINKING).environment["WEBHOOK_BASE_URL"]
        == ALL.function("skill.handlers.entrypoint.handler").environment["WEBHOOK_BASE_URL"]
    )


def test_adapters_follow_the_parameter():
    assert "ADAPTERS" not in SYNC.function(LINKING).environment
    comp = Composition.with_styles("Sync", Adapters="lifx,hue")
    assert comp.function(LINKING).environment["ADAPTERS"] == "lifx,hue"


# -- least privilege ------------------------------------------------------------------------------


def granted(statements: list[Statement]) -> dict[Res, set[str]]:
    by_resource: dict[Res, set[str]] = {}
    for statement in statements:
        assert statement.effect == "Allow"
        for resource in statement.resources:
            by_resource.setdefault(resource, set()).update(statement.actions)
    return by_resource


def test_the_role_may_do_exactly_what_the_pages_need():
    fn = ALL.function(LINKING)
    statements = fn.statements()
    assert granted(statements) == {
        Res(STACK, "LinkingLogGroup"): {"logs:CreateLogStream", "logs:PutLogEvents"},
        CLIENT_SECRET: {"secretsmanager:GetSecretValue"},
        SESSION_SECRET: {"secretsmanager:GetSecretValue"},
        Res("", "VendorSecrets"): {"secretsmanager:GetSecretValue"},
        Res("", "CredentialsTable"): {
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        },
        Res("", "CredentialsKey"): {"kms:Encrypt", "kms:Decrypt"},
        Res("", "StateTable"): {"dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:PutItem"},
        OWNERS_BY_USER: {"dynamodb:Query"},
        Res("", "TokensTable"): {"dynamodb:DeleteItem"},
        Res("", "TokensKey"): {"kms:Decrypt", "kms:DescribeKey"},
        Res("", "OutboxQueue"): {"sqs:SendMessage"},
        USER_POOL: {"cognito-idp:AdminDeleteUser"},
    }
    assert fn.role == Res("", "LinkingRole")


def test_pending_items_are_reached_only_by_their_owner_pending_and_account_keys():
    """Disconnect deletes the user's owners, pending commands and account schedule; the user's
    bulbs come from the OwnersByUser index (no Scan of the table)."""
    statements = [
        s for s in ALL.function(LINKING).statements() if Res("", "StateTable") in s.resources
    ]
    assert statements
    for statement in statements:
        assert set(statement.actions) <= {
            "dynamodb:Query",
            "dynamodb:DeleteItem",
            "dynamodb:PutItem",
        }
        assert statement.condition == {
            "ForAllValues:StringLike": {
                "dynamodb:LeadingKeys": ["owner#*", "pending#*", "account#*"]
            }
        }, statement.origin
    assert not any("dynamodb:Scan" in s.actions for s in ALL.function(LINKING).statements())


def test_keys_are_used_only_under_their_conditions():
    for statement in ALL.function(LINKING).statements():
        if Res("", "CredentialsKey") in statement.resources:
            assert statement.condition == CONTEXT_CONDITION
        if Res("", "TokensKey") in statement.resources:
            via = statement.condition["StringEquals"]["kms:ViaService"]
            assert isinstance(via, Sub) and via.text == "dynamodb.${AWS::Region}.amazonaws.com"


def test_the_credentials_key_policy_names_the_linking_role_with_the_context_condition():
    role = Res("", "LinkingRole")
    key = Res("", "CredentialsKey")
    statements = [
        s for s in statements_of(ALL.props(key)["KeyPolicy"], str(key)) if role in s.principals
    ]
    assert len(statements) == 1
    (statement,) = statements
    assert set(statement.actions) == {"kms:Encrypt", "kms:Decrypt"}
    assert statement.condition == CONTEXT_CONDITION
    # made in template.yaml (trust only), so that it exists before the key that names it
    assert role.stack == "" and ALL.type_of(role) == "AWS::IAM::Role"
    assert "Policies" not in ALL.props(role)
    assert ALL.raw(role)["Condition"] == "CognitoLinking"


def test_the_tokens_key_policy_lets_the_linking_role_only_decrypt_through_dynamodb():
    role = Res("", "LinkingRole")
    key = Res("", "TokensKey")
    statements = [
        s for s in statements_of(ALL.props(key)["KeyPolicy"], str(key)) if role in s.principals
    ]
    assert len(statements) == 1
    (statement,) = statements
    assert statement.principals == [role]
    assert set(statement.actions) == {"kms:Decrypt", "kms:DescribeKey"}
    via = statement.condition["StringEquals"]["kms:ViaService"]
    assert isinstance(via, Sub) and via.text == "dynamodb.${AWS::Region}.amazonaws.com"


# -- secrets and what outlives the stack ----------------------------------------------------------


def test_the_session_secret_is_generated_and_retained():
    raw = ALL.raw(SESSION_SECRET)
    assert raw["Type"] == "AWS::SecretsManager::Secret" and raw["Condition"] == "CognitoLinking"
    assert raw["DeletionPolicy"] == "Retain" and raw["UpdateReplacePolicy"] == "Retain"
    generated = ALL.props(SESSION_SECRET)["GenerateSecretString"]
    assert generated["PasswordLength"] == "64" and generated["ExcludePunctuation"] == "true"
    # a plain string (the signing key itself), not a JSON object
    assert "SecretStringTemplate" not in generated and "GenerateStringKey" not in generated


# -- vendor mode ----------------------------------------------------------------------------------


def test_no_linking_resources_in_vendor_mode():
    assert STACK not in VENDOR.stacks
    names = {res.logical_id for res, _ in VENDOR.resources()}
    assert not {"LinkingRole", "SessionSecret", STACK} & names
    assert LINKING not in {fn.handler for fn in VENDOR.functions()}
    assert not list(VENDOR.resources("AWS::ApiGatewayV2::Api"))
    for key in ("CredentialsKey", "TokensKey"):
        policy = VENDOR.props(Res("", key))["KeyPolicy"]
        principals = {str(p) for s in statements_of(policy, key) for p in s.principals}
        assert not any("Linking" in p for p in principals), key
    outputs = load(TEMPLATE)["Outputs"]
    for name in ("LinkingPagesUrl", "VendorOAuthRedirectUri"):
        assert outputs[name]["Condition"] == "CognitoLinking", name
    resources = load(TEMPLATE)["Resources"]
    assert resources[STACK]["Condition"] == "CognitoLinking"


def test_cognito_mode_deploys_the_pages_whatever_the_styles():
    for styles in ((), ("Sync",), tuple(STYLES)):
        comp = Composition.with_styles(*styles)
        assert STACK in comp.stacks and comp.function(LINKING)


# -- outputs --------------------------------------------------------------------------------------


def test_outputs_give_the_pages_url_and_the_vendor_redirect_uri():
    url = ALL.root.output("LinkingPagesUrl")
    assert isinstance(url, Sub) and url.text == "${Base}/"
    (base,) = url.refs
    assert isinstance(base, Sub) and base.text == BASE_URL and API in base.refs
    redirect = ALL.root.output("VendorOAuthRedirectUri")
    assert isinstance(redirect, Sub) and redirect.text == "${Base}/connect/{vendor}/callback"
    assert redirect.refs == (base,)
    described = load(TEMPLATE)["Outputs"]["VendorOAuthRedirectUri"]["Description"]
    assert "connect/lifx/callback" in described and "connect/hue/callback" in described
    # what the pages send vendors as redirect_uri: services().url(f"/connect/{vendor}/callback")
    source = (ROOT / "src" / "skill" / "linking" / "_app.py").read_text()
    assert 'url(f"/connect/{vendor}/callback")' in source
    assert 'url("/callback")' in source


def test_the_brick_is_documented():
    readme = (ROOT / "infra" / "README.md").read_text()
    assert "`linking.yaml`" in readme and "LinkingPages" in readme
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    for needle in (
        "LinkingPagesUrl",
        "VendorOAuthRedirectUri",
        "connect/lifx/callback",
        "connect/hue/callback",
    ):
        assert needle in deploy, needle


# -- circular dependencies ------------------------------------------------------------------------

#: SAM event types that put the function's ARN into the API's OpenAPI body (the API then depends
#: on the function).
_API_EVENTS = {"HttpApi": "ApiId", "Api": "RestApiId"}


def _names(node: Any, resources: set[str], local: frozenset[str] = frozenset()) -> set[str]:
    """The resources ``node`` refers to (Ref, GetAtt, Sub variables)."""
    found: set[str] = set()
    if isinstance(node, dict):
        if len(node) == 1:
            ((key, args),) = node.items()
            if key == "Ref" and isinstance(args, str):
                return {args} & resources
            if key == "Fn::GetAtt":
                name = args.split(".", 1)[0] if isinstance(args, str) else str(args[0])
                return {name} & resources
            if key == "Fn::Sub":
                text, variables = (args, {}) if isinstance(args, str) else (args[0], args[1])
                for var in re.findall(r"\$\{([^}!][^}]*)\}", str(text)):
                    name = var.split(".", 1)[0]
                    if var not in variables and name in resources:
                        found.add(name)
                return found | _names(variables, resources)
        for value in node.values():
            found |= _names(value, resources)
    elif isinstance(node, list):
        for value in node:
            found |= _names(value, resources)
    return found


def dependencies(template: dict[str, Any]) -> dict[str, set[str]]:
    """Resource -> the resources it depends on, as CloudFormation sees them after SAM's transform:
    references and DependsOn, plus, for each API event of a function, the API's dependency on
    that function (SAM writes the function's ARN into the API's definition); a function does
    not depend on the API of its events (SAM's permission does)."""
    resources = template.get("Resources", {})
    names = set(resources)
    graph: dict[str, set[str]] = {name: set() for name in names}
    for name, resource in resources.items():
        props = dict(resource.get("Properties", {}) or {})
        events = props.pop("Events", {}) if resource["Type"] == "AWS::Serverless::Function" else {}
        graph[name] |= _names(props, names)
        depends = resource.get("DependsOn", [])
        graph[name] |= set([depends] if isinstance(depends, str) else depends) & names
        for event in (events or {}).values():
            event_props = event.get("Properties", {}) or {}
            api_key = _API_EVENTS.get(event.get("Type"))
            if api_key and api_key in event_props:
                for api in _names(event_props[api_key], names):
                    graph[api].add(name)
            others = {k: v for k, v in event_props.items() if k != api_key}
            graph[name] |= _names(others, names)
    return graph


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


TEMPLATES = [TEMPLATE, *sorted((ROOT / "infra").glob("*.yaml"))]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_template_has_a_circular_dependency(path: Path):
    assert cycle_in(dependencies(load(path))) is None


SAM_CYCLE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: python3.13
      InlineCode: "def handler(e, c): pass"
      Environment:
        Variables:
          URL: !Sub https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}
      Events:
        Root:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: ANY
            Path: /
"""


def test_the_cycle_check_sees_the_cycle_sam_hides(tmp_path: Path):
    """A function whose environment names the HttpApi its own event is on: SAM puts the
    function's ARN into the API's body, so CloudFormation refuses the stack (sam validate --lint
    passes it). This is the shape infra/linking.yaml avoids."""
    path = tmp_path / "cycle.yaml"
    path.write_text(SAM_CYCLE)
    assert sorted(set(cycle_in(dependencies(cfn_yaml.load(str(path)))) or [])) == ["Api", "Fn"]
    named = "          URL: !Sub https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}\n"
    path.write_text(SAM_CYCLE.replace(named, "          URL: fixed\n"))
    assert cycle_in(dependencies(cfn_yaml.load(str(path)))) is None
