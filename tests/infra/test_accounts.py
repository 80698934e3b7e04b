"""Accounts in the templates (issue 11): the linking mode and its Rule, the Cognito user pool and
Alexa's app client, the credentials vault (table and key), what every function is given to use
it, data that survives the stack, and the entrypoint's reserved concurrency."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.infra._composition import (
    ROOT,
    STYLES,
    TEMPLATE,
    Composition,
    Function,
    Res,
    Statement,
    Sub,
    load,
    statements_of,
)

ENTRYPOINT = "skill.handlers.entrypoint.handler"
DISPATCHER = "skill.handlers.dispatcher.handler"
#: Every function that calls vendors, so reads (and writes) the vault.
VENDOR_CALLERS = {
    ENTRYPOINT,
    "skill.handlers.processors.sync.handler",
    "skill.handlers.processors.async_.handler",
    "skill.handlers.processors.optimistic.handler",
    "skill.handlers.processors.polling.handler",
    "skill.handlers.notifications.handler",
    "skill.handlers.poller.handler",
    "skill.handlers.sweep.handler",
    # cognito mode: connect stores a credential, the home page reads them
    "skill.handlers.linking_pages.handler",
}
COGNITO_TYPES = {
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::ManagedLoginBranding",
}
REDIRECTS = (
    "https://pitangui.amazon.com/api/skill/link/M2AAAAAAAAAAAA,"
    "https://layla.amazon.com/api/skill/link/M2AAAAAAAAAAAA,"
    "https://alexa.amazon.co.jp/api/skill/link/M2AAAAAAAAAAAA"
)
CREDENTIALS_TABLE = Res("", "CredentialsTable")
CREDENTIALS_KEY = Res("", "CredentialsKey")
VAULT_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
}
CONTEXT_CONDITION = {
    "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["user_id", "vendor"]},
    "Null": {
        "kms:EncryptionContextKeys": "false",
        "kms:EncryptionContext:user_id": "false",
        "kms:EncryptionContext:vendor": "false",
    },
}
CRYPTO = {
    "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:ReEncrypt*",
    "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext", "kms:GenerateMac", "kms:VerifyMac", "kms:Sign",
    "kms:Verify", "kms:CreateGrant", "kms:Decrypt*", "kms:Encrypt*", "kms:GenerateDataKey*",
}  # fmt: skip
ALL = Composition.with_styles(*STYLES)
VENDOR = Composition.with_styles(
    "Sync", AccountLinking="vendor", LinkingVendor="lifx", Adapters="lifx"
)
SUBSETS = [c for n in range(len(STYLES) + 1) for c in itertools.combinations(STYLES, n)]


def kinds(comp: Composition) -> set[str]:
    return {comp.type_of(res) for res, _ in comp.resources()}


def key_statements(comp: Composition) -> list[Statement]:
    return statements_of(comp.props(CREDENTIALS_KEY)["KeyPolicy"], str(CREDENTIALS_KEY))


def statements_on(fn: Function, resource: Res) -> list[Statement]:
    return [s for s in fn.statements() if resource in s.resources]


# -- the linking mode and its Rule ----------------------------------------------------------------


def rule_failures(**parameters: str) -> list[str]:
    return Composition(parameters).root.rule_failures()


def test_cognito_is_the_default_linking_mode():
    declared = load(TEMPLATE)["Parameters"]
    assert declared["AccountLinking"]["Default"] == "cognito"
    assert sorted(declared["AccountLinking"]["AllowedValues"]) == ["cognito", "vendor"]
    assert rule_failures() == []


@pytest.mark.parametrize("adapters", ["lifx,hue", "hue,lifx", "lifx,lifx", "", "hue"])
def test_the_rule_refuses_vendor_mode_unless_adapters_is_the_one_linking_vendor(adapters):
    failures = rule_failures(AccountLinking="vendor", LinkingVendor="lifx", Adapters=adapters)
    assert [f for f in failures if f.startswith("VendorLinkingHasExactlyOneAdapter:")], adapters


def test_the_rule_refuses_vendor_mode_without_a_linking_vendor():
    assert rule_failures(AccountLinking="vendor", Adapters="")  # both empty: equal, still refused
    assert rule_failures(AccountLinking="vendor", Adapters="lifx")


def test_the_rule_accepts_vendor_mode_with_exactly_one_adapter_and_leaves_cognito_alone():
    assert rule_failures(AccountLinking="vendor", LinkingVendor="lifx", Adapters="lifx") == []
    assert rule_failures(AccountLinking="cognito", Adapters="lifx,hue,govee") == []
    assert rule_failures(AccountLinking="cognito", Adapters="") == []


def test_linking_vendor_admits_one_adapter_name_only():
    import re

    pattern = load(TEMPLATE)["Parameters"]["LinkingVendor"]["AllowedPattern"]
    for good in ("", "lifx", "sim-sync", "my_vendor2"):
        assert re.fullmatch(pattern, good), good
    for bad in ("lifx,hue", "lifx ", "Hue", "a/b"):
        assert not re.fullmatch(pattern, bad), bad


# -- Cognito --------------------------------------------------------------------------------------


def test_cognito_resources_exist_only_in_cognito_mode():
    assert kinds(ALL) >= COGNITO_TYPES
    assert not COGNITO_TYPES & kinds(VENDOR)
    secrets = {res.logical_id for res, _ in VENDOR.resources("AWS::SecretsManager::Secret")}
    assert "AlexaClientSecret" not in secrets
    outputs = load(TEMPLATE)["Outputs"]
    for name in ("AuthorizationUri", "AccessTokenUri", "ClientId", "AlexaClientSecretArn"):
        assert outputs[name].get("Condition") == "CognitoLinking", name


def test_user_pool_signs_in_by_email_with_a_sensible_password_policy():
    pool = ALL.props(Res("", "UserPool"))
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["UserPoolTier"] in ("ESSENTIALS", "PLUS")  # managed login is not in Lite
    policy = pool["Policies"]["PasswordPolicy"]
    assert int(policy["MinimumLength"]) >= 12
    assert all(
        policy[k] == "true" for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers")
    )


def test_alexa_client_uses_the_code_grant_with_a_secret_and_the_alexa_redirect_urls():
    comp = Composition.with_styles("Sync", AlexaRedirectUrls=REDIRECTS)
    client = comp.props(Res("", "AlexaClient"))
    assert client["UserPoolId"] == Res("", "UserPool")
    assert client["GenerateSecret"] == "true"
    assert client["AllowedOAuthFlowsUserPoolClient"] == "true"
    assert client["AllowedOAuthFlows"] == ["code"]
    assert sorted(client["AllowedOAuthScopes"]) == ["email", "openid", "profile"]
    assert client["CallbackURLs"] == REDIRECTS.split(",")
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    units = client["TokenValidityUnits"]
    assert (client["AccessTokenValidity"], units["AccessToken"]) == ("60", "minutes")
    assert units["RefreshToken"] == "days" and int(client["RefreshTokenValidity"]) >= 365
    assert client["EnableTokenRevocation"] == "true"


def test_without_redirect_urls_the_client_has_no_oauth_flow_yet():
    """Cognito refuses the code flow without callback URLs: the first deploy, before the developer
    console's Alexa Redirect URLs are known, creates the client without OAuth."""
    client = ALL.props(Res("", "AlexaClient"))
    assert client["AllowedOAuthFlowsUserPoolClient"] == "false"
    assert not {"AllowedOAuthFlows", "AllowedOAuthScopes", "CallbackURLs"} & set(client)


def test_managed_login_domain_has_a_branding_style_for_the_alexa_client():
    domain = ALL.props(Res("", "UserPoolDomain"))
    assert domain["UserPoolId"] == Res("", "UserPool") and domain["ManagedLoginVersion"] == "2"
    named = Composition.with_styles("Sync", CognitoDomainPrefix="my-bulbs")
    assert named.props(Res("", "UserPoolDomain"))["Domain"] == "my-bulbs"
    brandings = [ALL.props(res) for res, _ in ALL.resources("AWS::Cognito::ManagedLoginBranding")]
    # Alexa's client and the linking pages' client each get Cognito's default style
    assert brandings == [
        {
            "UserPoolId": Res("", "UserPool"),
            "ClientId": Res("", "AlexaClient"),
            "UseCognitoProvidedValues": "true",
        },
        {
            "UserPoolId": Res("", "UserPool"),
            "ClientId": Res("LinkingPages", "LinkingClient"),
            "UseCognitoProvidedValues": "true",
        },
    ]


def test_outputs_give_the_console_what_account_linking_needs_and_never_the_secret():
    comp = Composition.with_styles("Sync", CognitoDomainPrefix="my-bulbs")
    authorize, token = comp.root.output("AuthorizationUri"), comp.root.output("AccessTokenUri")
    assert (
        authorize.text == "https://${Prefix}.auth.${AWS::Region}.amazoncognito.com/oauth2/authorize"
    )
    assert token.text == "https://${Prefix}.auth.${AWS::Region}.amazoncognito.com/oauth2/token"
    assert authorize.refs[0] == token.refs[0] == "my-bulbs"
    assert comp.root.output("ClientId") == Res("", "AlexaClient")
    assert comp.root.output("AlexaClientSecretArn") == Res("", "AlexaClientSecret")
    assert "get-secret-value" in load(TEMPLATE)["Outputs"]["AlexaClientSecretArn"]["Description"]


def test_the_client_secret_goes_only_into_its_secrets_manager_secret():
    def mentions(node: Any, where: str) -> list[str]:
        if isinstance(node, dict):
            return [m for k, v in node.items() for m in mentions(v, f"{where}.{k}")]
        if isinstance(node, list):
            return [m for i, v in enumerate(node) for m in mentions(v, f"{where}[{i}]")]
        text = str(
            node
        )  # !GetAtt AlexaClient.ClientSecret, or ${AlexaClient.ClientSecret} in a !Sub
        return [where] if text == "ClientSecret" or ".ClientSecret" in text else []

    found = []
    for path in [TEMPLATE, *sorted((ROOT / "infra").glob("*.yaml"))]:
        template = load(path)
        for section in ("Resources", "Outputs"):
            found += mentions(template.get(section, {}), f"{path.name}:{section}")
    assert found == [
        "template.yaml:Resources.AlexaClientSecret.Properties.SecretString.Fn::Sub",
        "linking.yaml:Resources.LinkingClientSecret.Properties.SecretString.Fn::Sub",
    ]


def test_entrypoint_verifies_tokens_of_the_pool_and_client_in_cognito_mode():
    env = ALL.function(ENTRYPOINT).environment
    assert env["ACCOUNT_LINKING"] == "cognito"
    issuer = env["COGNITO_ISSUER"]
    assert isinstance(issuer, Sub)
    assert issuer.text == "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
    assert Res("", "UserPool") in issuer.refs
    assert env["COGNITO_CLIENT_ID"] == Res("", "AlexaClient")
    assert "LINKING_VENDOR" not in env


def test_entrypoint_knows_its_one_vendor_and_no_pool_in_vendor_mode():
    env = VENDOR.function(ENTRYPOINT).environment
    assert env["ACCOUNT_LINKING"] == "vendor"
    assert env["LINKING_VENDOR"] == "lifx" and env["ADAPTERS"] == "lifx"
    assert not {"COGNITO_ISSUER", "COGNITO_CLIENT_ID"} & set(env)


# -- the vault: table ----------------------------------------------------------------------------


def test_credentials_table_is_keyed_by_user_and_vendor_with_ttl_and_point_in_time_recovery():
    table = ALL.props(CREDENTIALS_TABLE)
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {
        "user_id": "HASH",
        "vendor": "RANGE",
    }
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": "true"}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": "true"}
    sse = table["SSESpecification"]
    assert sse["SSEEnabled"] == "true"
    # the AWS-managed key, or the vault key; never a key the vendor callers could not use
    assert sse.get("KMSMasterKeyId") in (None, CREDENTIALS_KEY)


@pytest.mark.parametrize("comp", [ALL, VENDOR], ids=["cognito", "vendor"])
def test_vendor_calling_functions_may_read_and_write_the_vault(comp):
    for fn in comp.functions():
        actions = {
            a
            for s in statements_on(fn, CREDENTIALS_TABLE)
            if s.effect == "Allow"
            for a in s.actions
        }
        if fn.handler in VENDOR_CALLERS:
            assert actions == VAULT_ACTIONS, fn.handler
        elif fn.handler == DISPATCHER:
            assert actions == {"dynamodb:Query", "dynamodb:UpdateItem"}, (
                "the dispatcher only sets a TTL"
            )
        else:
            assert not actions, fn.handler
        assert not any("Scan" in a or "Batch" in a for a in actions), fn.handler


# -- the vault: key -------------------------------------------------------------------------------


def vendor_caller_roles(comp: Composition) -> set[Res]:
    return {fn.role for fn in comp.functions() if fn.handler in VENDOR_CALLERS}


def test_credentials_key_rotates_and_is_no_table_key_of_anyone_else():
    props = ALL.props(CREDENTIALS_KEY)
    assert props["EnableKeyRotation"] == "true"
    for res, _ in ALL.resources("AWS::DynamoDB::Table"):
        if res != CREDENTIALS_TABLE:
            assert (
                ALL.props(res).get("SSESpecification", {}).get("KMSMasterKeyId") != CREDENTIALS_KEY
            ), res


@pytest.mark.parametrize("styles", SUBSETS, ids=lambda s: "+".join(s) or "none")
def test_key_policy_grants_crypto_only_to_vendor_callers_with_user_and_vendor_context(styles):
    comp = Composition.with_styles(*styles)
    callers = vendor_caller_roles(comp)
    granted: set[Res] = set()
    for statement in key_statements(comp):
        crypto = CRYPTO & set(statement.actions)
        if not crypto:
            continue
        assert statement.effect == "Allow"
        assert set(statement.actions) == {"kms:Encrypt", "kms:Decrypt"}, statement.origin
        assert statement.condition == CONTEXT_CONDITION, statement.origin
        assert set(statement.principals) <= callers, f"{statement.origin}: {statement.principals}"
        granted |= set(statement.principals)
    assert granted == callers
    dispatcher = comp.function(DISPATCHER).role
    assert all(dispatcher not in s.principals for s in key_statements(comp))


def test_the_account_only_administers_the_credentials_key():
    root = [
        s
        for s in key_statements(ALL)
        if any(isinstance(p, Sub) and ":root" in p.text for p in s.principals)
    ]
    assert root, "the account must be able to administer the key"
    for statement in root:
        assert not CRYPTO & set(statement.actions), statement.actions
        assert "kms:PutKeyPolicy" in statement.actions


def test_vendor_caller_roles_exist_before_the_key_that_names_them():
    """A key policy may name only roles that exist: they are made in template.yaml, not in the
    bricks, which get them as parameters."""
    for role in vendor_caller_roles(ALL):
        assert role.stack == "", role
        assert ALL.type_of(role) == "AWS::IAM::Role"
        assert "Policies" not in ALL.props(role), f"{role}: its permissions belong to its brick"


def test_function_policies_use_the_credentials_key_only_with_the_context():
    for fn in ALL.functions():
        on_key = statements_on(fn, CREDENTIALS_KEY)
        if fn.handler not in VENDOR_CALLERS:
            assert not on_key, f"{fn.handler} may use the credentials key"
            continue
        assert on_key, fn.handler
        for statement in on_key:
            assert set(statement.actions) == {"kms:Encrypt", "kms:Decrypt"}, fn.handler
            assert statement.condition == CONTEXT_CONDITION, fn.handler


def test_no_policy_grants_kms_on_every_key():
    for fn in ALL.functions():
        for statement in fn.statements():
            if any(a.startswith("kms:") for a in statement.actions):
                assert "*" not in statement.resources, statement.origin


# -- environment ----------------------------------------------------------------------------------


@pytest.mark.parametrize("comp", [ALL, VENDOR], ids=["cognito", "vendor"])
def test_every_vendor_caller_is_given_the_vault_and_the_linking_mode(comp):
    mode = comp.parameters.get("AccountLinking", "cognito")
    for fn in comp.functions():
        env = fn.environment
        if fn.handler in VENDOR_CALLERS:
            assert env["ACCOUNT_LINKING"] == mode, fn.handler
            assert env["CREDENTIALS_TABLE"] == CREDENTIALS_TABLE, fn.handler
            assert env["CREDENTIALS_KEY_ID"] == CREDENTIALS_KEY, fn.handler
        else:
            assert "CREDENTIALS_KEY_ID" not in env, fn.handler


def test_dispatcher_gets_the_vault_table_and_the_grace_period():
    env = ALL.function(DISPATCHER).environment
    assert env["CREDENTIALS_TABLE"] == CREDENTIALS_TABLE
    assert env["CREDENTIAL_GRACE_DAYS"] == "30"
    comp = Composition.with_styles("Sync", CredentialGraceDays="7")
    assert comp.function(DISPATCHER).environment["CREDENTIAL_GRACE_DAYS"] == "7"


# -- data that outlives the stack -----------------------------------------------------------------

#: Every resource that holds user data (or the key to it); idempotency records and queues do not.
USER_DATA = {
    "TokensTable", "TokensKey", "StateTable", "CredentialsTable", "CredentialsKey", "UserPool",
    "LwaSecret", "VendorSecrets", "AlexaClientSecret", "SessionSecret",
}  # fmt: skip
#: Data resources that hold no user data: the idempotency records, and the linking pages' app
#: client secret (made again with its client, read by nobody outside the stack).
NOT_USER_DATA = {"IdempotencyTable", "LinkingClientSecret"}
DATA_TYPES = {
    "AWS::DynamoDB::Table",
    "AWS::KMS::Key",
    "AWS::SecretsManager::Secret",
    "AWS::Cognito::UserPool",
}


def test_every_table_key_and_secret_that_holds_user_data_is_retained():
    deployed = {res.logical_id: raw for res, raw in ALL.resources() if res.stack == ""}
    assert set(deployed) >= USER_DATA
    for name in USER_DATA:
        raw = deployed[name]
        assert raw.get("DeletionPolicy") == "Retain", name
        assert raw.get("UpdateReplacePolicy") == "Retain", name
    for res, raw in ALL.resources():
        if raw["Type"] in DATA_TYPES and res.logical_id not in USER_DATA:
            assert res.logical_id in NOT_USER_DATA, (
                f"{res}: does it hold user data? add it to USER_DATA"
            )


# -- reserved concurrency -------------------------------------------------------------------------


def test_entrypoint_reserves_no_concurrency_by_default():
    """New accounts often have a total concurrency of 10 and Lambda keeps 100 unreserved: any
    reservation would fail their first deploy."""
    assert load(TEMPLATE)["Parameters"]["EntrypointReservedConcurrency"]["Default"] == 0
    for fn in ALL.functions():
        assert "ReservedConcurrentExecutions" not in fn.props, fn.handler


def test_entrypoint_reserved_concurrency_follows_its_parameter():
    comp = Composition.with_styles(*STYLES, EntrypointReservedConcurrency="25")
    for fn in comp.functions():
        if fn.handler == ENTRYPOINT:
            assert fn.props["ReservedConcurrentExecutions"] == "25"
        else:
            assert "ReservedConcurrentExecutions" not in fn.props, fn.handler
