"""Renewing a LIFX credential at LIFX's OAuth token endpoint (``refresh_credential``).

Sources: LIFX's *OAuth Integration Guide* (https://gist.github.com/smarthall/b6977ce828dd786e2802)
gives the token URL ``https://cloud.lifx.com/oauth/token`` and the ``client_id`` /
``client_secret`` parameters of a token request; LIFX documents nothing more about renewal, so
the request and the answers are OAuth 2.0's (RFC 6749 section 6 for the request, 5.1 for the
answer, 5.2 for ``invalid_grant`` and the other error codes).
"""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import requests
from lifx_payloads import (
    CLIENT_ID,
    CLIENT_SECRET,
    NOW,
    REFRESH_TOKEN,
    TOKEN,
    TOKEN_URL,
    all_lights,
    oauth_error,
    token_answer,
)

import bulb_skill_lifx
from bulb_skill_lifx import DEFAULT_TOKEN_URL
from skill.errors import (
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    RateLimited,
)
from skill.plugins import (
    AdapterContext,
    ApiKey,
    CredentialKind,
    CredentialRefresher,
    KeyAndSecret,
    OAuthToken,
)

NEW_ACCESS = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"
NEW_REFRESH = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"


def _form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


# -- what the adapter declares ------------------------------------------------------------------


def test_lifx_takes_an_oauth_credential_and_can_renew_it(adapter) -> None:
    assert adapter.credential_kind is CredentialKind.OAUTH
    assert isinstance(adapter, CredentialRefresher)


def test_the_token_url_defaults_to_the_one_lifx_documents() -> None:
    adapter = bulb_skill_lifx.create(AdapterContext(vendor="lifx", environ={}))
    assert DEFAULT_TOKEN_URL == "https://cloud.lifx.com/oauth/token"
    assert adapter._tokens.token_url == DEFAULT_TOKEN_URL
    assert adapter._tokens.timeout == adapter._client.timeout


def test_client_secrets_are_read_only_when_refreshing(adapter, vendor, credential) -> None:
    vendor.lights("all", all_lights())
    adapter.list_devices(credential)
    assert adapter.secret_reads == []
    vendor.token(token_answer())
    adapter.refresh_credential(credential)
    assert sorted(adapter.secret_reads) == ["LIFX_CLIENT_ID", "LIFX_CLIENT_SECRET"]


# -- a successful refresh -----------------------------------------------------------------------


def test_refresh_posts_the_refresh_grant_with_the_client_credentials(
    adapter, vendor, credential
) -> None:
    vendor.token(token_answer(NEW_ACCESS, refresh_token=NEW_REFRESH, expires_in=7200))
    adapter.refresh_credential(credential)
    (call,) = vendor.calls
    assert call.request.method == "POST" and call.request.url == TOKEN_URL
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert _form(call) == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH_TOKEN,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert "Authorization" not in call.request.headers  # the old access token is not sent
    assert call.request.req_kwargs["timeout"] == adapter._client.timeout


def test_refresh_gives_the_new_tokens_and_expiry_from_the_clock(
    adapter, vendor, credential
) -> None:
    vendor.token(token_answer(NEW_ACCESS, refresh_token=NEW_REFRESH, expires_in=7200))
    fresh = adapter.refresh_credential(credential)
    assert isinstance(fresh, OAuthToken)
    assert fresh.access_token.get_secret_value() == NEW_ACCESS
    assert fresh.refresh_token is not None
    assert fresh.refresh_token.get_secret_value() == NEW_REFRESH
    assert fresh.expires_at == NOW + 7200
    assert not fresh.expires_within(7199, now=NOW) and fresh.expires_within(7200, now=NOW)


def test_a_refresh_token_lifx_does_not_rotate_is_kept(adapter, vendor, credential) -> None:
    vendor.token(token_answer(NEW_ACCESS, refresh_token=None, expires_in=3600))
    fresh = adapter.refresh_credential(credential)
    assert fresh.access_token.get_secret_value() == NEW_ACCESS
    assert fresh.refresh_token is not None
    assert fresh.refresh_token.get_secret_value() == REFRESH_TOKEN
    assert fresh.expires_at == NOW + 3600


def test_an_answer_without_a_lifetime_has_no_known_expiry(adapter, vendor, credential) -> None:
    vendor.token(token_answer(NEW_ACCESS, expires_in=None))
    assert adapter.refresh_credential(credential).expires_at is None


def test_the_renewed_credential_is_the_one_sent_next(adapter, vendor, credential) -> None:
    vendor.token(token_answer(NEW_ACCESS))
    vendor.lights("all", all_lights())
    adapter.list_devices(adapter.refresh_credential(credential))
    assert vendor.calls[-1].request.headers["Authorization"] == f"Bearer {NEW_ACCESS}"


# -- a dead refresh token -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, oauth_error("invalid_grant", "The provided authorization grant is invalid")),
        (401, oauth_error("invalid_grant")),
        (400, {"message": "refresh token revoked"}),  # no RFC 6749 code: still the grant
    ],
    ids=["400-invalid_grant", "401-invalid_grant", "400-undocumented-body"],
)
def test_a_dead_refresh_token_is_invalid_authorization(
    adapter, vendor, credential, status, body
) -> None:
    vendor.token(body, status=status)
    with pytest.raises(InvalidAuthorizationCredential) as raised:
        adapter.refresh_credential(credential)
    assert REFRESH_TOKEN not in str(raised.value) and CLIENT_SECRET not in str(raised.value)


@pytest.mark.parametrize(
    ("status", "code"),
    [(401, "invalid_client"), (400, "unauthorized_client"), (400, "unsupported_grant_type")],
)
def test_a_refused_client_is_this_deployments_fault_not_the_users(
    adapter, vendor, credential, status, code
) -> None:
    vendor.token(oauth_error(code, "Client authentication failed"), status=status)
    with pytest.raises(InternalError) as raised:
        adapter.refresh_credential(credential)
    assert type(raised.value) is InternalError and "LIFX_CLIENT_SECRET" in str(raised.value)


def test_a_credential_without_a_refresh_token_is_refused_unsent(adapter, vendor) -> None:
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.refresh_credential(OAuthToken.bearer(TOKEN))
    assert vendor.calls == []


@pytest.mark.parametrize(
    "foreign",
    [ApiKey.of("govee-api-key-0123456789"), KeyAndSecret.of("open-token", "secret-key")],
    ids=["api-key", "key-and-secret"],
)
def test_refreshing_another_kind_of_credential_is_refused_unsent(adapter, vendor, foreign):
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.refresh_credential(foreign)
    assert vendor.calls == []


def test_without_the_client_secrets_nothing_is_sent(make_adapter, vendor, credential) -> None:
    adapter = make_adapter({"LIFX_CLIENT_ID": CLIENT_ID})
    with pytest.raises(InternalError, match="LIFX_CLIENT_SECRET"):
        adapter.refresh_credential(credential)
    assert vendor.calls == []


# -- LIFX down ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 523])
def test_a_token_endpoint_that_fails_is_endpoint_unreachable(
    adapter, vendor, credential, status
) -> None:
    vendor.token(status=status, body="<html>Bad Gateway</html>", content_type="text/html")
    with pytest.raises(EndpointUnreachable) as raised:
        adapter.refresh_credential(credential)
    assert raised.value.retryable


@pytest.mark.parametrize(
    "exception",
    [
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectionError("connection refused"),
    ],
    ids=["connect-timeout", "read-timeout", "connection-error"],
)
def test_a_token_endpoint_that_does_not_answer_is_endpoint_unreachable(
    adapter, vendor, credential, exception
) -> None:
    vendor.token(body=exception)
    with pytest.raises(EndpointUnreachable):
        adapter.refresh_credential(credential)


def test_a_throttled_refresh_is_rate_limited(adapter, vendor, credential) -> None:
    vendor.token({"error": "Too Many Requests"}, status=429, headers={"Retry-After": "30"})
    with pytest.raises(RateLimited) as raised:
        adapter.refresh_credential(credential)
    assert raised.value.retry_after == 30


@pytest.mark.parametrize(
    "body",
    ['{"token_type": "Bearer", "expires_in": 7200}', "<html>maintenance</html>", "[]"],
    ids=["no-access-token", "html", "not-an-object"],
)
def test_an_answer_in_an_undocumented_shape_is_endpoint_unreachable(
    adapter, vendor, credential, body
) -> None:
    vendor.token(body=body, content_type="application/json")
    with pytest.raises(EndpointUnreachable):
        adapter.refresh_credential(credential)
