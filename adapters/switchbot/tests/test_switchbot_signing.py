"""Request signing and credentials (SwitchBot README, "Authentication" > "How to Sign?")."""

from __future__ import annotations

import pytest
import responses

from skill.errors import InvalidAuthorizationCredential

from bulb_skill_switchbot import Credentials, sign
from bulb_skill_switchbot._client import SwitchBotClient
from switchbot_support import BASE, OPEN_TOKEN, SECRET_KEY, TOKEN, ok

T = "1661927531000"  # the docs' example timestamp
NONCE = "6b1e0f39-3f2c-4c59-9d0e-2a7a1c5b8e44"
# Computed outside Python, with the docs' procedure:
#   printf '%s%s%s' "$TOKEN" 1661927531000 "$NONCE" \
#     | openssl dgst -sha256 -hmac "$SECRET" -binary | base64 | tr 'a-z' 'A-Z'
WORKED_SIGN = "88/0F0Q7QLFSOPWGCY9VSDFKFABCH+4CSOYX9CM7P3E="


def test_sign_matches_independently_computed_example():
    assert sign(OPEN_TOKEN, SECRET_KEY, T, NONCE) == WORKED_SIGN


def test_every_request_carries_token_timestamp_nonce_and_signature():
    client = SwitchBotClient(
        BASE, timeout=2.0, clock=lambda: 1661927531.0, nonces=lambda: NONCE
    )
    with responses.RequestsMock() as api:
        api.get(f"{BASE}/devices", json=ok({"deviceList": [], "infraredRemoteList": []}))
        client.request(Credentials.parse(TOKEN), "GET", "/devices")
        sent = api.calls[0].request.headers
    assert sent["Authorization"] == OPEN_TOKEN
    assert sent["t"] == T
    assert sent["nonce"] == NONCE
    assert sent["sign"] == WORKED_SIGN
    assert sent["Content-Type"].startswith("application/json")


def test_each_request_gets_a_fresh_nonce_and_timestamp():
    client = SwitchBotClient(BASE, timeout=2.0)
    credentials = Credentials.parse(TOKEN)
    first, second = client.headers(credentials), client.headers(credentials)
    assert first["nonce"] != second["nonce"]
    assert len(first["t"]) == 13 and first["t"].isdigit()


@pytest.mark.parametrize("bad", ["", "just-a-token", ":secret", "token:", "tok en:secret"])
def test_linking_token_must_be_token_colon_secret(bad):
    with pytest.raises(InvalidAuthorizationCredential):
        Credentials.parse(bad)


def test_credentials_never_show_in_repr():
    credentials = Credentials.parse(TOKEN)
    assert OPEN_TOKEN not in repr(credentials) and SECRET_KEY not in repr(credentials)


def test_account_id_is_stable_and_does_not_reveal_the_token():
    one = Credentials.parse(TOKEN).account_id()
    assert one == Credentials.parse(f"{OPEN_TOKEN}:{SECRET_KEY}").account_id()
    assert len(one) == 32 and OPEN_TOKEN[:16] not in one
