"""The shared OAuth 2.0 token endpoint (``skill.plugins.OAuthTokenEndpoint``), against
``responses``.

Source: RFC 6749 section 4.1.3 (code exchange), section 5.1 (the token answer), section 5.2
(error bodies), section 6 (refresh).
"""

from __future__ import annotations

import base64
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from skill.errors import (
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    RateLimited,
)
from skill.plugins import ApiKey, OAuthToken, OAuthTokenEndpoint, TransportBacked

TOKEN_URL = "https://auth.acme.example/oauth/token"
AUTHORIZE_URL = "https://auth.acme.example/oauth/authorize"
NOW = 1_700_000_000.0


@pytest.fixture
def api():
    with responses.RequestsMock() as mock:
        yield mock


class AcmeTokens(OAuthTokenEndpoint):
    vendor = "Acme"
    secret_names = ("ACME_CLIENT_ID", "ACME_CLIENT_SECRET")
    default_authorize_url = AUTHORIZE_URL


class AcmeBasicTokens(AcmeTokens):
    client_auth = "basic"


class AcmeFaultTokens(AcmeTokens):
    def error_shape(self, body):
        return (body["fault"]["code"], "") if "fault" in body else None

    def client_fault(self, code):
        return "client" in code


def endpoint(kind: type[OAuthTokenEndpoint] = AcmeTokens, **kwargs) -> OAuthTokenEndpoint:
    options = {
        "client_credentials": lambda: ("cid", "csecret"),
        "session": requests.Session(),
        "timeout": (2.0, 3.0),
        "clock": lambda: NOW,
    }
    return kind(TOKEN_URL, **{**options, **kwargs})


def form(call) -> dict[str, list[str]]:
    return parse_qs(call.request.body)


def test_a_refresh_with_form_client_authentication_keeps_what_the_answer_lacks(api) -> None:
    api.post(TOKEN_URL, json={"access_token": "new", "expires_in": 3600})
    old = OAuthToken.bearer("old", refresh_token="r1", application_key="k", expires_at=0)

    fresh = endpoint().refresh(old)

    assert fresh.access_token.get_secret_value() == "new"
    assert fresh.refresh_token is not None and fresh.refresh_token.get_secret_value() == "r1"
    assert fresh.application_key is not None and fresh.application_key.get_secret_value() == "k"
    assert fresh.expires_at == NOW + 3600
    call = api.calls[0]
    assert form(call) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["r1"],
        "client_id": ["cid"],
        "client_secret": ["csecret"],
    }
    assert "Authorization" not in call.request.headers
    assert call.request.headers["Accept"] == "application/json"


def test_a_code_exchange_with_basic_client_authentication(api) -> None:
    api.post(TOKEN_URL, json={"access_token": "a", "refresh_token": "r", "expires_in": "60"})

    token = endpoint(AcmeBasicTokens).exchange("the-code", redirect_uri="https://me.example/cb")

    assert token.access_token.get_secret_value() == "a"
    assert token.refresh_token is not None and token.refresh_token.get_secret_value() == "r"
    assert token.expires_at == NOW + 60
    call = api.calls[0]
    assert form(call) == {
        "grant_type": ["authorization_code"],
        "code": ["the-code"],
        "redirect_uri": ["https://me.example/cb"],
    }
    expected = base64.b64encode(b"cid:csecret").decode()
    assert call.request.headers["Authorization"] == f"Basic {expected}"


def test_a_rotated_refresh_token_replaces_the_old_one_and_no_lifetime_is_no_expiry(api) -> None:
    api.post(TOKEN_URL, json={"access_token": "a", "refresh_token": "r2", "expires_in": True})
    fresh = endpoint().refresh(OAuthToken.bearer("old", refresh_token="r1"))
    assert fresh.refresh_token is not None and fresh.refresh_token.get_secret_value() == "r2"
    assert fresh.expires_at is None


def test_the_authorize_url_names_the_client_first() -> None:
    url = endpoint().authorize_url_with({"response_type": "code", "state": "s t"})
    assert url.startswith(AUTHORIZE_URL + "?client_id=cid&")
    assert parse_qs(urlsplit(url).query) == {
        "client_id": ["cid"],
        "response_type": ["code"],
        "state": ["s t"],
    }


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (400, {"error": "invalid_grant"}, InvalidAuthorizationCredential, "link Acme again"),
        (401, {}, InvalidAuthorizationCredential, "the refresh token"),
        (400, {"error": "invalid_client"}, InternalError, "ACME_CLIENT_SECRET"),
        (400, {"error": "invalid_scope"}, InternalError, "ACME_CLIENT_ID"),
        (429, {"error": "slow_down"}, RateLimited, "throttled the refresh"),
        (503, {}, EndpointUnreachable, "failed (503)"),
        (418, {"error": "teapot", "error_description": "x" * 300}, InternalError, "teapot"),
    ],
)
def test_refusals_are_typed(api, status, body, error, words) -> None:
    api.post(TOKEN_URL, json=body, status=status, headers={"Retry-After": "7"})
    with pytest.raises(error) as raised:
        endpoint().refresh(OAuthToken.bearer("old", refresh_token="r"))
    assert words in str(raised.value)
    assert "x" * 201 not in str(raised.value)
    if error is RateLimited:
        assert raised.value.retry_after == 7


def test_a_refused_code_asks_the_user_to_connect_again(api) -> None:
    api.post(TOKEN_URL, json={"error": "invalid_grant"}, status=400)
    with pytest.raises(InvalidAuthorizationCredential, match="please connect Acme again"):
        endpoint().exchange("c")


def test_a_vendor_error_shape_and_client_fault_are_read_first(api) -> None:
    api.post(TOKEN_URL, json={"fault": {"code": "bad_client_key"}}, status=401)
    tokens = endpoint(AcmeFaultTokens)
    with pytest.raises(InternalError, match="bad_client_key"):
        tokens.refresh(OAuthToken.bearer("old", refresh_token="r"))


@pytest.mark.parametrize(
    "answer",
    [{"json": ["a list"]}, {"json": {"expires_in": 5}}, {"body": "<html>not json</html>"}],
)
def test_answers_without_a_token_are_the_endpoint_being_unreachable(api, answer) -> None:
    api.post(TOKEN_URL, **answer)
    with pytest.raises(EndpointUnreachable):
        endpoint().refresh(OAuthToken.bearer("old", refresh_token="r"))


@pytest.mark.parametrize("code", ["", "a b", "x" * 2049, "a\x00"])
def test_a_code_that_cannot_be_one_is_refused_unsent(api, code) -> None:
    with pytest.raises(InvalidAuthorizationCredential, match="no usable authorization code"):
        endpoint().exchange(code)


@pytest.mark.parametrize(
    "credential", [ApiKey.of("k"), OAuthToken.bearer("a")], ids=["other kind", "no refresh"]
)
def test_what_cannot_be_renewed_is_refused_unsent(api, credential) -> None:
    with pytest.raises(InvalidAuthorizationCredential):
        endpoint().refresh(credential)


def _unset() -> tuple[str, str]:
    raise KeyError("ACME_CLIENT_ID")  # as ctx.secret does for a secret that is not set


@pytest.mark.parametrize(
    ("credentials", "message"),
    [(lambda: ("", "s"), "set ACME_CLIENT_ID and"), (_unset, "set the secrets ACME_CLIENT_ID")],
)
def test_a_missing_client_is_a_configuration_error(api, credentials, message) -> None:
    tokens = endpoint(client_credentials=credentials)
    with pytest.raises(InternalError, match=message):
        tokens.refresh(OAuthToken.bearer("a", refresh_token="r"))


def test_transport_backed_shows_the_transport() -> None:
    tokens = endpoint()
    assert isinstance(tokens, TransportBacked)
    assert tokens.timeout == (2.0, 3.0)
    assert tokens.session is tokens.transport.session
    assert tokens.authorize_url == AUTHORIZE_URL
    assert endpoint(authorize_url="https://x.example/a").authorize_url == "https://x.example/a"
    tokens._clock = lambda: 5.0
    assert tokens.transport.clock() == 5.0


def test_the_package_does_not_load_the_oauth_helper_or_requests_until_asked() -> None:
    code = (
        "import sys, skill.plugins; "
        "assert 'requests' not in sys.modules and 'skill.plugins._oauth' not in sys.modules; "
        "skill.plugins.OAuthTokenEndpoint; "
        "assert 'skill.plugins._oauth' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
