"""The Login with Amazon client (``skill.aws.lwa.LwaClient``) over ``responses``: what each answer
of the token endpoint becomes, and what the token cache and AcceptGrant do with it.

A success answer without a readable token (a body cut off on the way, a proxy's empty 200) is a
passing fault: the token cache retries it and does not call it a configuration fault (section 6
of docs/reliability.md, "Observations"). AcceptGrant still fails then.
"""

from __future__ import annotations

import json

import pytest
import requests
import responses

from skill.aws.lwa import LwaClient
from skill.delivery import RelinkRequired, TokenCache, TokensUnavailable
from skill.ports import LwaError
from skill.records import TokenRecord
from skill.routing import EntrypointServices, build_router
from tests.fakes import (
    TOKEN,
    FakeAdapter,
    FakeIdentity,
    MemoryQueue,
    MemoryTokenStore,
    credentials_of,
    registry_of,
    vault_with,
)
from tests.unit.test_token_cache import T0, Clock, linked, logs  # noqa: F401 - a fixture

LWA_URL = "https://lwa.test/auth/o2/token"
ISSUED = {
    "access_token": "Atza|new",
    "refresh_token": "Atzr|new",
    "token_type": "bearer",
    "expires_in": 3600,
}
CUT_OFF = json.dumps(ISSUED)[:30]


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def lwa_answering(http, *answers) -> LwaClient:
    """An LwaClient whose token endpoint gives ``answers`` in turn: (status, body text) or an
    exception to raise."""
    script = list(answers)

    def answer(request):
        item = script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item[0], {}, item[1]

    http.add_callback(responses.POST, LWA_URL, callback=answer)
    return LwaClient(LWA_URL, lambda: ("cid", "secret"), clock=Clock())


def oauth_error(error: str) -> str:
    return json.dumps({"error": error, "error_description": "explained by LWA"})


def test_a_token_answer_gives_the_tokens(http):
    tokens = lwa_answering(http, (200, json.dumps(ISSUED))).refresh("Atzr|old")
    assert (tokens.access_token, tokens.refresh_token, tokens.expires_at) == (
        "Atza|new",
        "Atzr|new",
        T0 + 3600,
    )


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, CUT_OFF),
        (200, ""),
        (200, json.dumps({"token_type": "bearer"})),
        (200, json.dumps({**ISSUED, "access_token": ""})),
        (200, json.dumps({**ISSUED, "expires_in": "soon"})),
        (200, "<html><body>OK</body></html>"),
    ],
    ids=["cut-off", "empty", "no-token", "empty-token", "bad-expiry", "html"],
)
def test_a_success_without_a_readable_token_is_a_passing_fault(http, status, body):
    with pytest.raises(LwaError) as raised:
        lwa_answering(http, (status, body)).refresh("Atzr|old")
    assert raised.value.transient and not raised.value.invalid_grant
    assert "without a readable token" in str(raised.value)


@pytest.mark.parametrize(
    ("answer", "transient", "invalid_grant"),
    [
        ((400, oauth_error("invalid_grant")), False, True),
        ((401, oauth_error("invalid_client")), False, False),
        ((400, oauth_error("unauthorized_client")), False, False),
        ((429, oauth_error("TooManyRequests")), True, False),
        ((503, oauth_error("ServerError")), True, False),
        ((502, "<html>Bad Gateway</html>"), True, False),
        (requests.ReadTimeout("slow"), True, False),
        (requests.ConnectionError("reset"), True, False),
    ],
    ids=[
        "invalid_grant",
        "invalid_client",
        "unauthorized_client",
        "429",
        "503",
        "html-502",
        "timeout",
        "reset",
    ],
)
def test_what_each_failure_is(http, answer, transient, invalid_grant):
    with pytest.raises(LwaError) as raised:
        lwa_answering(http, answer).refresh("Atzr|old")
    assert (raised.value.transient, raised.value.invalid_grant) == (transient, invalid_grant)


def test_the_token_cache_retries_a_cut_off_answer_and_logs_no_configuration_fault(http, logs):
    """Before: a 200 with half a body was 'not transient', so the cache logged "configuration
    fault ... check the skill's client id and secret" and sent the operator the wrong way."""
    store = MemoryTokenStore()
    store.put(linked(expires_at=T0 - 1))
    lwa = lwa_answering(http, (200, CUT_OFF), (200, json.dumps(ISSUED)))
    cache = TokenCache(store, lwa, clock=Clock())

    with pytest.raises(TokensUnavailable) as raised:
        cache.get("user-1")
    assert raised.value.transient
    assert "configuration fault" not in logs.text
    assert cache.get("user-1").access_token == "Atza|new"  # the next try gets the tokens


# -- AcceptGrant -----------------------------------------------------------------------------------


def accept_grant(code: str) -> dict:
    header = {
        "namespace": "Alexa.Authorization",
        "name": "AcceptGrant",
        "payloadVersion": "3",
        "messageId": "m-1",
    }
    payload = {
        "grant": {"type": "OAuth2.AuthorizationCode", "code": code},
        "grantee": {"type": "BearerToken", "token": TOKEN},
    }
    return {"directive": {"header": header, "payload": payload}}


def entrypoint_with(lwa: LwaClient, store: MemoryTokenStore):
    adapter = FakeAdapter()
    services = EntrypointServices(
        adapters=registry_of(adapter),
        identity=FakeIdentity(),
        credentials=credentials_of(vault_with(adapter)),
        tokens=store,
        lwa=lwa,
        queue=MemoryQueue(),
        clock=lambda: T0,
    )
    return build_router(services)


def test_accept_grant_answered_with_a_cut_off_body_fails_and_the_spent_code_ends_in_a_relink(
    http, assert_alexa_valid
):
    """The code was redeemed (LWA issued tokens nobody could read): AcceptGrant fails, as it
    did. The code is now kept, as for any passing fault; the dispatcher's one try to redeem it
    gets invalid_grant and forgets the user, who must link again (Alexa said so already)."""
    store = MemoryTokenStore()
    lwa = lwa_answering(http, (200, CUT_OFF), (400, oauth_error("invalid_grant")))

    reply = assert_alexa_valid(entrypoint_with(lwa, store).answer(accept_grant("code-1")))["event"]

    assert reply["payload"]["type"] == "ACCEPT_GRANT_FAILED"
    assert store.records["user-1"].grant_code == "code-1"
    with pytest.raises(RelinkRequired):
        TokenCache(store, lwa, clock=Clock()).get("user-1")
    assert "user-1" not in store.records


def test_a_re_link_answered_with_a_cut_off_body_fails_and_the_user_keeps_working_tokens(
    http, assert_alexa_valid
):
    store = MemoryTokenStore()
    store.put(linked())  # at-stored / rt-stored, valid for an hour
    lwa = lwa_answering(http, (200, CUT_OFF), (200, json.dumps(ISSUED)))

    reply = assert_alexa_valid(entrypoint_with(lwa, store).answer(accept_grant("code-2")))["event"]

    assert reply["payload"]["type"] == "ACCEPT_GRANT_FAILED"
    cache = TokenCache(store, lwa, clock=Clock())
    assert cache.get("user-1").access_token == "at-stored"  # no LWA call
    assert cache.renew("user-1", "at-stored").access_token == "Atza|new"  # refreshed, not redeemed
    assert http.calls[-1].request.body.count("grant_type=refresh_token") == 1
    assert store.records["user-1"] == TokenRecord(
        user_id="user-1",
        region="NA",
        access_token="Atza|new",
        refresh_token="Atzr|new",
        expires_at=T0 + 3600,
    )
