"""Request signing and the credential (SwitchBot README, "Authentication" > "How to Sign?")."""

from __future__ import annotations

import pytest
import responses
from switchbot_support import BASE, CREDENTIAL, OPEN_TOKEN, SECRET_KEY, ok

from bulb_skill_switchbot import account_id, key_and_secret, sign
from bulb_skill_switchbot._client import SwitchBotClient
from skill.errors import InvalidAuthorizationCredential
from skill.plugins import (
    ApiKey,
    CredentialKind,
    KeyAndSecret,
    OAuthToken,
    credential_from_linking_token,
)

T = "1661927531000"  # the docs' example timestamp
NONCE = "6b1e0f39-3f2c-4c59-9d0e-2a7a1c5b8e44"
# Computed outside Python, with the docs' procedure:
#   printf '%s%s%s' "$TOKEN" 1661927531000 "$NONCE" \
#     | openssl dgst -sha256 -hmac "$SECRET" -binary | base64 | tr 'a-z' 'A-Z'
WORKED_SIGN = "88/0F0Q7QLFSOPWGCY9VSDFKFABCH+4CSOYX9CM7P3E="


def test_sign_matches_independently_computed_example():
    assert sign(OPEN_TOKEN, SECRET_KEY, T, NONCE) == WORKED_SIGN


def test_every_request_carries_token_timestamp_nonce_and_signature():
    client = SwitchBotClient(BASE, timeout=2.0, clock=lambda: 1661927531.0, nonces=lambda: NONCE)
    with responses.RequestsMock() as api:
        api.get(f"{BASE}/devices", json=ok({"deviceList": [], "infraredRemoteList": []}))
        client.request(CREDENTIAL, "GET", "/devices")
        sent = api.calls[0].request.headers
    assert sent["Authorization"] == OPEN_TOKEN
    assert sent["t"] == T
    assert sent["nonce"] == NONCE
    assert sent["sign"] == WORKED_SIGN
    assert sent["Content-Type"].startswith("application/json")


def test_each_request_gets_a_fresh_nonce_and_timestamp():
    client = SwitchBotClient(BASE, timeout=2.0)
    first, second = client.headers(CREDENTIAL), client.headers(CREDENTIAL)
    assert first["nonce"] != second["nonce"]
    assert len(first["t"]) == 13 and first["t"].isdigit()


def test_the_client_refuses_another_kind_of_credential_before_sending():
    client = SwitchBotClient(BASE, timeout=2.0)
    with responses.RequestsMock() as api:  # strict: any request would fail the test
        for foreign in (OAuthToken.bearer("an-oauth-token"), ApiKey.of("a-govee-key")):
            with pytest.raises(InvalidAuthorizationCredential):
                client.request(foreign, "GET", "/devices")
        assert len(api.calls) == 0


@pytest.mark.parametrize(
    ("key", "secret"), [("", "secret"), ("token", ""), ("tok en", "secret"), ("token", "sec\tret")]
)
def test_a_malformed_pair_is_invalid_authorization(key, secret):
    with pytest.raises(InvalidAuthorizationCredential):
        key_and_secret(KeyAndSecret.of(key, secret))


def test_vendor_linking_mode_builds_the_pair_from_token_colon_secret():
    credential = credential_from_linking_token(
        CredentialKind.KEY_AND_SECRET, f"{OPEN_TOKEN}:{SECRET_KEY}"
    )
    assert credential == CREDENTIAL
    assert key_and_secret(credential) is credential


@pytest.mark.parametrize("bad", ["", "just-a-token", ":secret", "token:"])
def test_vendor_linking_mode_refuses_a_token_without_both_halves(bad):
    with pytest.raises(ValueError):
        credential_from_linking_token(CredentialKind.KEY_AND_SECRET, bad)


def test_the_credential_never_shows_in_repr():
    assert OPEN_TOKEN not in repr(CREDENTIAL) and SECRET_KEY not in repr(CREDENTIAL)


def test_account_id_is_stable_and_does_not_reveal_the_token():
    one = account_id(CREDENTIAL)
    assert one == account_id(KeyAndSecret.of(OPEN_TOKEN, SECRET_KEY))
    assert len(one) == 32 and OPEN_TOKEN[:16] not in one and SECRET_KEY[:16] not in one
    assert one != account_id(KeyAndSecret.of("another-open-token", SECRET_KEY))
