"""Renewing a Hue credential at the Hue Remote API's OAuth token endpoint (``refresh_credential``).

Source: Philips Hue's *Remote Authentication* page
(https://developers.meethue.com/develop/hue-api/remote-authentication-oauth/): ``POST
https://api.meethue.com/v2/oauth2/token`` with ``grant_type=refresh_token&refresh_token=...``,
the app's client id and secret as HTTP Basic credentials (Digest is the page's alternative),
answered with ``access_token``, ``expires_in`` (7 days), ``refresh_token``, ``token_type``.
Refused grants: RFC 6749 section 5.2 bodies, or the remote API gateway's ``fault`` body.
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import pytest
import requests
from hue_payloads import (
    ACCESS_TOKEN,
    APP_KEY,
    BRIDGE_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    NOW,
    REFRESH_TOKEN,
    TOKEN_URL,
    bridge,
    clip,
    fault,
    oauth_error,
    token_answer,
)

import bulb_skill_hue
from bulb_skill_hue import DEFAULT_TOKEN_URL
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

NEW_ACCESS = "DAGDLjhx4BEPvrbUjXEBvtlpcMUD"
NEW_REFRESH = "4mEPZpc2s5q0xAOjpzoweOl2VULRvTfl"


def _form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def _basic(client_id: str, client_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


# -- what the adapter declares ------------------------------------------------------------------


def test_hue_takes_an_oauth_credential_and_can_renew_it(adapter) -> None:
    assert adapter.credential_kind is CredentialKind.OAUTH
    assert isinstance(adapter, CredentialRefresher)


def test_the_token_url_defaults_to_the_one_hue_documents() -> None:
    adapter = bulb_skill_hue.create(AdapterContext(vendor="hue", environ={}))
    assert DEFAULT_TOKEN_URL == "https://api.meethue.com/v2/oauth2/token"
    assert adapter._tokens.token_url == DEFAULT_TOKEN_URL
    assert adapter._tokens.timeout == adapter._client.timeout


def test_client_secrets_are_read_only_when_refreshing(adapter, vendor, credential) -> None:
    vendor.get("bridge", clip([bridge()]))
    adapter.identify_user(credential)
    assert adapter.secret_reads == []
    vendor.token(token_answer())
    adapter.refresh_credential(credential)
    assert sorted(adapter.secret_reads) == ["HUE_CLIENT_ID", "HUE_CLIENT_SECRET"]


# -- a successful refresh -----------------------------------------------------------------------


def test_refresh_posts_the_refresh_grant_with_basic_client_credentials(
    adapter, vendor, credential
) -> None:
    vendor.token(token_answer(NEW_ACCESS, refresh_token=NEW_REFRESH))
    adapter.refresh_credential(credential)
    (call,) = vendor.calls
    assert call.request.method == "POST" and call.request.url == TOKEN_URL
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert _form(call) == {"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN}
    assert call.request.headers["Authorization"] == _basic(CLIENT_ID, CLIENT_SECRET)
    assert "hue-application-key" not in call.request.headers
    assert ACCESS_TOKEN not in str(call.request.headers)  # the old access token is not sent
    assert call.request.req_kwargs["timeout"] == adapter._client.timeout


def test_refresh_gives_the_new_tokens_an_expiry_from_the_clock_and_keeps_the_key(
    adapter, vendor, credential
) -> None:
    vendor.token(token_answer(NEW_ACCESS, refresh_token=NEW_REFRESH, expires_in=604800))
    fresh = adapter.refresh_credential(credential)
    assert isinstance(fresh, OAuthToken)
    assert fresh.access_token.get_secret_value() == NEW_ACCESS
    assert fresh.refresh_token is not None
    assert fresh.refresh_token.get_secret_value() == NEW_REFRESH
    assert fresh.expires_at == NOW + 604800
    assert fresh.application_key is not None
    assert fresh.application_key.get_secret_value() == APP_KEY


def test_a_refresh_token_that_is_not_rotated_is_kept(adapter, vendor, credential) -> None:
    vendor.token(token_answer(NEW_ACCESS, refresh_token=None, expires_in=3600))
    fresh = adapter.refresh_credential(credential)
    assert fresh.refresh_token is not None
    assert fresh.refresh_token.get_secret_value() == REFRESH_TOKEN
    assert fresh.expires_at == NOW + 3600


def test_a_credential_without_its_own_key_stays_without_one(adapter, vendor) -> None:
    vendor.token(token_answer(NEW_ACCESS))
    fresh = adapter.refresh_credential(OAuthToken.bearer(ACCESS_TOKEN, refresh_token="r-123"))
    assert fresh.application_key is None  # the deployment key keeps serving it


def test_an_answer_without_a_lifetime_has_no_known_expiry(adapter, vendor, credential) -> None:
    vendor.token(token_answer(NEW_ACCESS, expires_in=None))
    assert adapter.refresh_credential(credential).expires_at is None


def test_the_renewed_credential_is_the_one_sent_next(adapter, vendor, credential) -> None:
    vendor.token(token_answer(NEW_ACCESS))
    vendor.get("bridge", clip([bridge()]))
    user = adapter.identify_user(adapter.refresh_credential(credential))
    headers = vendor.calls[-1].request.headers
    assert headers["Authorization"] == f"Bearer {NEW_ACCESS}"
    assert headers["hue-application-key"] == APP_KEY
    assert user == f"hue-{BRIDGE_ID.lower()}"


# -- a dead refresh token -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, oauth_error("invalid_grant", "refresh token is invalid or expired")),
        (401, oauth_error("invalid_grant")),
        (400, fault("Invalid Refresh Token", "keymanagement.service.invalid_refresh_token")),
        (401, {"message": "unauthorized"}),
    ],
    ids=["400-invalid_grant", "401-invalid_grant", "400-fault", "401-undocumented-body"],
)
def test_a_dead_refresh_token_is_invalid_authorization(
    adapter, vendor, credential, status, body
) -> None:
    vendor.token(body, status=status)
    with pytest.raises(InvalidAuthorizationCredential) as raised:
        adapter.refresh_credential(credential)
    message = str(raised.value)
    assert REFRESH_TOKEN not in message and CLIENT_SECRET not in message


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, oauth_error("invalid_client", "Client authentication failed")),
        (400, oauth_error("unsupported_grant_type")),
        (
            401,
            fault(
                "Invalid client identifier {0}",
                "keymanagement.service.invalid_client-invalid_client_id",
            ),
        ),
    ],
    ids=["invalid_client", "unsupported_grant_type", "fault-invalid-client"],
)
def test_a_refused_client_is_this_deployments_fault_not_the_users(
    adapter, vendor, credential, status, body
) -> None:
    vendor.token(body, status=status)
    with pytest.raises(InternalError) as raised:
        adapter.refresh_credential(credential)
    assert type(raised.value) is InternalError and "HUE_CLIENT_SECRET" in str(raised.value)


def test_a_credential_without_a_refresh_token_is_refused_unsent(adapter, vendor) -> None:
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.refresh_credential(OAuthToken.bearer(ACCESS_TOKEN, application_key=APP_KEY))
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
    adapter = make_adapter({"HUE_APPLICATION_KEY": "deployment-key"})
    with pytest.raises(InternalError, match="HUE_CLIENT_ID"):
        adapter.refresh_credential(credential)
    assert vendor.calls == []


# -- Hue down -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_token_endpoint_that_fails_is_endpoint_unreachable(
    adapter, vendor, credential, status
) -> None:
    vendor.token(status=status, body="<html>Service Unavailable</html>", content_type="text/html")
    with pytest.raises(EndpointUnreachable) as raised:
        adapter.refresh_credential(credential)
    assert type(raised.value) is EndpointUnreachable and raised.value.retryable


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
    body = fault("Rate limit quota violation.", "policies.ratelimit.QuotaViolation")
    vendor.token(body, status=429, headers={"Retry-After": "12"})
    with pytest.raises(RateLimited) as raised:
        adapter.refresh_credential(credential)
    assert raised.value.retry_after == 12


@pytest.mark.parametrize(
    "body",
    ['{"token_type": "bearer", "expires_in": 604800}', "<html>maintenance</html>", "[]"],
    ids=["no-access-token", "html", "not-an-object"],
)
def test_an_answer_in_an_undocumented_shape_is_endpoint_unreachable(
    adapter, vendor, credential, body
) -> None:
    vendor.token(body=body, content_type="application/json")
    with pytest.raises(EndpointUnreachable):
        adapter.refresh_credential(credential)
