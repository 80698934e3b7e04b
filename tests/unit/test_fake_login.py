"""The local stand-in for Cognito's managed login: the code flow with PKCE against moto's
user pool, and every refusal a real login gives (wrong password, unregistered redirect, a code
used twice, a wrong verifier or client secret)."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest
from moto import mock_aws

from bulb_workbench.local._fake_login import FakeManagedLogin, moto_authenticator
from bulb_workbench.local._http import Request
from skill.aws.http import get_json
from skill.identity import CognitoIdentity
from skill.linking._signin import pkce_pair

CALLBACK = "http://127.0.0.1:9999/callback"


@pytest.fixture
def login():
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name="us-east-1")
        pool = idp.create_user_pool(PoolName="bulb-skill")["UserPool"]["Id"]
        client = idp.create_user_pool_client(
            UserPoolId=pool,
            ClientName="pages",
            GenerateSecret=True,
            ExplicitAuthFlows=["ADMIN_USER_PASSWORD_AUTH"],
        )["UserPoolClient"]
        idp.admin_create_user(UserPoolId=pool, Username="demo", TemporaryPassword="Temp-password-1")
        idp.admin_set_user_password(
            UserPoolId=pool, Username="demo", Password="Demo-password-1", Permanent=True
        )
        fake = FakeManagedLogin(
            {client["ClientId"]: client["ClientSecret"]},
            [CALLBACK],
            moto_authenticator(idp, pool),
            logout_uris=["http://127.0.0.1:9999/"],
        )
        yield fake, client, pool


def authorize_params(client_id: str, challenge: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "state": "st-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": "openid",
    } | extra


def sign_in(fake, client, challenge, password="Demo-password-1"):
    form = fake(
        Request(
            "GET", "/oauth2/authorize", urlencode(authorize_params(client["ClientId"], challenge))
        )
    )
    assert form.status == 200 and b"LOCAL STAND-IN" in form.body
    nonce = form.body.decode().split('name="form_nonce" value="', 1)[1].split('"', 1)[0]
    body = urlencode(
        authorize_params(
            client["ClientId"], challenge, form_nonce=nonce, username="demo", password=password
        )
    ).encode()
    return fake(Request("POST", "/oauth2/authorize", body=body))


def redeem(fake, client, code, verifier, secret=None):
    basic = base64.b64encode(
        f"{client['ClientId']}:{secret or client['ClientSecret']}".encode()
    ).decode()
    body = urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        }
    ).encode()
    return fake(
        Request("POST", "/oauth2/token", headers={"authorization": f"Basic {basic}"}, body=body)
    )


def test_the_code_flow_gives_an_access_token_the_pools_jwks_verifies(login):
    fake, client, pool = login
    verifier, challenge = pkce_pair()
    reply = sign_in(fake, client, challenge)
    assert reply.status == 303
    target = urlsplit(reply.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == CALLBACK
    query = parse_qs(target.query)
    assert query["state"] == ["st-1"]
    tokens = redeem(fake, client, query["code"][0], verifier)
    assert tokens.status == 200
    import json

    access = json.loads(tokens.body)["access_token"]
    identity = CognitoIdentity(
        f"https://cognito-idp.us-east-1.amazonaws.com/{pool}", client["ClientId"], fetch=get_json
    )
    assert identity.claims_of(access)["username"] == "demo"
    again = redeem(fake, client, query["code"][0], verifier)
    assert again.status == 400, "a code worked twice"


def test_a_wrong_password_shows_the_form_again_with_the_reason(login):
    fake, client, _ = login
    reply = sign_in(fake, client, pkce_pair()[1], password="guess")
    assert reply.status == 401 and b"Incorrect username or password" in reply.body


def test_a_wrong_verifier_or_client_secret_gets_no_tokens(login):
    fake, client, _ = login
    verifier, challenge = pkce_pair()
    code = parse_qs(urlsplit(sign_in(fake, client, challenge).headers["Location"]).query)["code"][0]
    assert redeem(fake, client, code, verifier, secret="wrong").status == 401
    assert redeem(fake, client, code, "another-verifier").status == 400


def test_an_unregistered_redirect_or_a_missing_challenge_is_refused(login):
    fake, client, _ = login
    evil = authorize_params(client["ClientId"], "c", redirect_uri="https://evil.example/cb")
    assert fake(Request("GET", "/oauth2/authorize", urlencode(evil))).status == 400
    plain = authorize_params(client["ClientId"], "")
    assert fake(Request("GET", "/oauth2/authorize", urlencode(plain))).status == 400
    assert (
        fake(Request("GET", "/logout", urlencode({"logout_uri": "https://evil.example/"}))).status
        == 400
    )


def test_a_login_form_post_without_its_nonce_is_refused(login):
    fake, client, _ = login
    body = urlencode(
        authorize_params(client["ClientId"], "c", username="demo", password="Demo-password-1")
    ).encode()
    reply = fake(Request("POST", "/oauth2/authorize", body=body))
    assert reply.status == 401 and b"expired" in reply.body
