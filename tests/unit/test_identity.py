"""Who a directive is for: Cognito access tokens verified as the issue asks (signature against
the pool's JWKS, issuer, client_id, token_use, expiry), and the vendor passthrough mode."""

from __future__ import annotations

import time
from typing import Any

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from moto import mock_aws

from skill.aws.http import get_json
from skill.identity import CognitoIdentity, JwksCache, VendorIdentity
from skill.plugins import OAuthToken
from skill.ports import IdentityError
from tests.fakes import FakeAdapter

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool123"
CLIENT = "alexa-client-id"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY, OTHER_KEY, ROTATED_KEY = rsa_key(), rsa_key(), rsa_key()


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**public, "kid": kid, "alg": "RS256", "use": "sig"}


class Jwks:
    """The pool's JWKS endpoint: counts fetches; ``keys`` may change (a key rotation)."""

    def __init__(self, *keys: tuple[rsa.RSAPrivateKey, str]) -> None:
        self.keys = list(keys)
        self.fetches = 0

    def __call__(self, url: str) -> dict[str, Any]:
        self.fetches += 1
        return {"keys": [jwk(key, kid) for key, kid in self.keys]}


def access_token(key=KEY, kid="k1", **claims: Any) -> str:
    now = int(time.time())
    body = {
        "sub": "user-sub-1",
        "iss": ISSUER,
        "client_id": CLIENT,
        "token_use": "access",
        "scope": "openid",
        "iat": now,
        "exp": now + 3600,
        "username": "demo",
    }
    body.update(claims)
    return jwt.encode(
        {k: v for k, v in body.items() if v is not None},
        key,
        algorithm="RS256",
        headers={"kid": kid},
    )


@pytest.fixture
def jwks():
    return Jwks((KEY, "k1"))


@pytest.fixture
def identity(jwks):
    return CognitoIdentity(ISSUER, CLIENT, jwks=JwksCache("https://example/jwks.json", fetch=jwks))


def test_a_valid_access_token_identifies_its_subject(identity, jwks):
    assert identity.user_of(access_token()) == "user-sub-1"
    assert identity.user_of(access_token()) == "user-sub-1"
    assert jwks.fetches == 1, "the JWKS is fetched once per container"


@pytest.mark.parametrize(
    ("token", "why"),
    [
        (lambda: access_token(exp=int(time.time()) - 120), "expired"),
        (
            lambda: access_token(iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"),
            "wrong issuer",
        ),
        (lambda: access_token(client_id="another-client"), "wrong client"),
        (lambda: access_token(token_use="id", client_id=None, aud=CLIENT), "an ID token"),
        (lambda: access_token(key=OTHER_KEY), "signed by another key under a known kid"),
        (lambda: access_token(sub=None), "no subject"),
        (lambda: access_token(exp=None), "no expiry"),
        (
            lambda: jwt.encode(
                {
                    "sub": "x",
                    "iss": ISSUER,
                    "client_id": CLIENT,
                    "token_use": "access",
                    "exp": int(time.time()) + 60,
                },
                "secret",
                algorithm="HS256",
                headers={"kid": "k1"},
            ),
            "HS256 with a guessed secret",
        ),
        (lambda: access_token()[:-10], "a cut-off signature"),
        (lambda: "demo-token", "not a JWT"),
        (lambda: "", "empty"),
        (lambda: None, "missing"),
    ],
)
def test_a_token_that_must_not_pass_is_refused(identity, token, why):
    with pytest.raises(IdentityError):
        identity.user_of(token())


def test_an_unknown_kid_refetches_the_jwks_once_and_accepts_a_rotated_key(identity, jwks):
    assert identity.user_of(access_token()) == "user-sub-1"
    jwks.keys.append((ROTATED_KEY, "k2"))  # the pool rotated its keys
    assert identity.user_of(access_token(key=ROTATED_KEY, kid="k2")) == "user-sub-1"
    assert jwks.fetches == 2


def test_a_forged_kid_refetches_at_most_once_a_minute(identity, jwks):
    identity.user_of(access_token())
    for n in range(5):
        with pytest.raises(IdentityError):
            identity.user_of(access_token(key=OTHER_KEY, kid=f"forged-{n}"))
    assert jwks.fetches == 2, "every forged kid made the JWKS be fetched again"


def test_a_jwks_that_cannot_be_read_refuses_the_token():
    def down(url: str) -> dict[str, Any]:
        raise ValueError("not JSON")

    identity = CognitoIdentity(
        ISSUER, CLIENT, jwks=JwksCache("https://example/jwks.json", fetch=down)
    )
    with pytest.raises(IdentityError):
        identity.user_of(access_token())


def test_an_access_token_moto_cognito_issued_verifies_against_its_jwks():
    """The real shape of Cognito's tokens: a user pool, an app client and a user on moto,
    whose JWKS the verifier fetches over (mocked) HTTP."""
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name="us-east-1")
        pool = idp.create_user_pool(PoolName="bulb-skill")["UserPool"]["Id"]
        client = idp.create_user_pool_client(
            UserPoolId=pool, ClientName="alexa", ExplicitAuthFlows=["ADMIN_USER_PASSWORD_AUTH"]
        )["UserPoolClient"]["ClientId"]
        idp.admin_create_user(UserPoolId=pool, Username="demo", TemporaryPassword="Temp-password-1")
        idp.admin_set_user_password(
            UserPoolId=pool, Username="demo", Password="Demo-password-1", Permanent=True
        )
        auth = idp.admin_initiate_auth(
            UserPoolId=pool,
            ClientId=client,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "demo", "PASSWORD": "Demo-password-1"},
        )["AuthenticationResult"]
        sub = next(
            a["Value"]
            for a in idp.admin_get_user(UserPoolId=pool, Username="demo")["UserAttributes"]
            if a["Name"] == "sub"
        )
        identity = CognitoIdentity(
            f"https://cognito-idp.us-east-1.amazonaws.com/{pool}", client, fetch=get_json
        )
        assert identity.user_of(auth["AccessToken"]) == sub
        with pytest.raises(IdentityError):
            identity.user_of(auth["IdToken"])  # an ID token is not an access token
        with pytest.raises(IdentityError):
            CognitoIdentity(
                f"https://cognito-idp.us-east-1.amazonaws.com/{pool}", "other", fetch=get_json
            ).user_of(auth["AccessToken"])


def test_cognito_identity_needs_its_settings():
    with pytest.raises(RuntimeError):
        CognitoIdentity("", CLIENT)


def test_vendor_identity_asks_the_one_vendor_with_the_token_as_its_credential():
    adapter = FakeAdapter(credential=OAuthToken.bearer("vendor-oauth-token"))
    identity = VendorIdentity(adapter)
    assert identity.user_of("vendor-oauth-token") == "fake-account-1"
    assert identity.user_of("vendor-oauth-token") == "fake-account-1"
    assert [c for c in adapter.calls if c[0] == "identify"] == [("identify", "")], "not cached"
    with pytest.raises(IdentityError):
        identity.user_of("another-token")
    with pytest.raises(IdentityError):
        identity.user_of("")


def test_the_pages_show_the_verified_id_tokens_email(identity):
    id_token = access_token(token_use="id", client_id=None, aud=CLIENT, email="ada@example.com")
    assert identity.email_of(id_token, CLIENT, "user-sub-1") == "ada@example.com"
    assert identity.email_of(id_token, "another-client", "user-sub-1") is None
    assert identity.email_of(id_token, CLIENT, "someone-else") is None
    assert (
        identity.email_of(
            access_token(
                key=OTHER_KEY, token_use="id", client_id=None, aud=CLIENT, email="x@example.com"
            ),
            CLIENT,
            "user-sub-1",
        )
        is None
    )
    assert identity.email_of(None, CLIENT, "user-sub-1") is None
