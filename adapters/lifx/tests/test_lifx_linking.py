"""Connecting a LIFX account from the linking pages (``skill.plugins.OAuthLinker``).

Sources:

- LIFX's *OAuth Integration Guide* (https://gist.github.com/smarthall/b6977ce828dd786e2802):
  the authorize page ``https://cloud.lifx.com/oauth/authorize`` with ``client_id``, ``scope``
  (``remote_control:all``), ``state``, ``response_type=code``; LIFX redirects back with ``code``
  and ``state``; the code is exchanged by a ``POST`` to ``https://cloud.lifx.com/oauth/token``
  carrying ``client_id``, ``client_secret`` and the code.
- LIFX's own SmartThings integration (SmartThingsCommunity/SmartThingsPublic,
  ``smartapps/smartthings/lifx-connect.src/lifx-connect.groovy``): the same authorize parameters,
  and the exchange body ``client_id``, ``client_secret``, ``grant_type=authorization_code``,
  ``code``; it reads ``access_token`` from the answer.
- RFC 6749: ``redirect_uri`` in the authorization request (4.1.1) and repeated in the exchange
  (4.1.3); the answer (5.1) and its errors (5.2, ``invalid_grant`` for a refused code).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from lifx_payloads import (
    CLIENT_ID,
    CLIENT_SECRET,
    NOW,
    TOKEN_URL,
    all_lights,
    oauth_error,
    token_answer,
)

import bulb_skill_lifx
from bulb_skill_lifx import DEFAULT_AUTHORIZE_URL
from skill.errors import (
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    RateLimited,
)
from skill.plugins import AdapterContext, OAuthToken
from skill.plugins._contract import OAuthLinker  # not re-exported by skill.plugins (yet)

REDIRECT = "https://links.example.com/connect/lifx/callback"
STATE = "Vq3xkz8mJ1r0fW2bP9sY4nA7cL5eH6dG"
CODE = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
ACCESS = "3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b"
REFRESH = "7a6b5c4d3e2f10fedcba98765432100f7a6b5c4d3e2f10fedcba98765432100f"


def _form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


# -- what the adapter declares ------------------------------------------------------------------


def test_lifx_offers_its_sign_in_to_the_linking_pages(adapter) -> None:
    assert isinstance(adapter, OAuthLinker)
    assert adapter.display_name == "LIFX"


# -- the authorize page -------------------------------------------------------------------------


def test_the_authorize_url_is_the_guides_page_with_its_four_parameters_and_our_callback(
    adapter,
) -> None:
    url = adapter.authorization_url(REDIRECT, STATE)
    parts = urlsplit(url)
    assert DEFAULT_AUTHORIZE_URL == "https://cloud.lifx.com/oauth/authorize"
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == DEFAULT_AUTHORIZE_URL
    assert dict(parse_qs(parts.query).items()) == {
        "client_id": [CLIENT_ID],
        "scope": ["remote_control:all"],
        "state": [STATE],
        "response_type": ["code"],
        "redirect_uri": [REDIRECT],
    }


def test_the_authorize_url_never_carries_the_client_secret(adapter) -> None:
    assert CLIENT_SECRET not in adapter.authorization_url(REDIRECT, STATE)


def test_the_authorize_page_can_be_pointed_at_a_simulator() -> None:
    built = bulb_skill_lifx.create(
        AdapterContext(
            vendor="lifx",
            environ={"LIFX_AUTHORIZE_URL": "http://127.0.0.1:8765/lifx/oauth/authorize"},
            secrets={"LIFX_CLIENT_ID": CLIENT_ID, "LIFX_CLIENT_SECRET": CLIENT_SECRET}.__getitem__,
        )
    )
    assert built.authorization_url(REDIRECT, STATE).startswith(
        "http://127.0.0.1:8765/lifx/oauth/authorize?"
    )


def test_without_a_client_id_there_is_no_authorize_url(make_adapter) -> None:
    with pytest.raises(InternalError, match="LIFX_CLIENT_ID"):
        make_adapter({}).authorization_url(REDIRECT, STATE)


# -- the code exchange --------------------------------------------------------------------------


def test_the_code_is_exchanged_with_the_authorization_code_grant(adapter, vendor) -> None:
    vendor.token(token_answer(ACCESS, refresh_token=REFRESH, expires_in=7200))
    adapter.exchange_code(CODE, REDIRECT)
    (call,) = vendor.calls
    assert call.request.method == "POST" and call.request.url == TOKEN_URL
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert _form(call) == {
        "grant_type": "authorization_code",
        "code": CODE,
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert "Authorization" not in call.request.headers
    assert call.request.req_kwargs["timeout"] == adapter._client.timeout


def test_the_exchange_gives_the_users_credential_with_its_expiry(adapter, vendor) -> None:
    vendor.token(token_answer(ACCESS, refresh_token=REFRESH, expires_in=7200))
    credential = adapter.exchange_code(CODE, REDIRECT)
    assert isinstance(credential, OAuthToken)
    assert credential.access_token.get_secret_value() == ACCESS
    assert credential.refresh_token is not None
    assert credential.refresh_token.get_secret_value() == REFRESH
    assert credential.expires_at == NOW + 7200
    assert credential.application_key is None


def test_an_answer_without_lifetime_or_refresh_token_gives_a_credential_without_them(
    adapter, vendor
) -> None:
    vendor.token(token_answer(ACCESS, refresh_token=None, expires_in=None))
    credential = adapter.exchange_code(CODE, REDIRECT)
    assert credential.refresh_token is None and credential.expires_at is None


def test_the_new_credential_is_the_one_the_adapter_sends(adapter, vendor) -> None:
    vendor.token(token_answer(ACCESS, refresh_token=REFRESH))
    vendor.lights("all", all_lights())
    adapter.list_devices(adapter.exchange_code(CODE, REDIRECT))
    assert vendor.calls[-1].request.headers["Authorization"] == f"Bearer {ACCESS}"


# -- a refused exchange -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, oauth_error("invalid_grant", "The provided authorization grant is invalid")),
        (401, oauth_error("invalid_grant")),
        (400, {"message": "code expired"}),
    ],
    ids=["400-invalid_grant", "401-invalid_grant", "400-undocumented-body"],
)
def test_a_refused_code_is_invalid_authorization_and_says_to_connect_again(
    adapter, vendor, status, body
) -> None:
    vendor.token(body, status=status)
    with pytest.raises(InvalidAuthorizationCredential) as raised:
        adapter.exchange_code(CODE, REDIRECT)
    message = str(raised.value)
    assert "authorization code" in message and "connect LIFX again" in message
    assert CLIENT_SECRET not in message and CODE not in message


@pytest.mark.parametrize("code", ["invalid_client", "unauthorized_client", "invalid_request"])
def test_a_refused_client_is_this_deployments_fault(adapter, vendor, code) -> None:
    vendor.token(oauth_error(code), status=401 if code == "invalid_client" else 400)
    with pytest.raises(InternalError) as raised:
        adapter.exchange_code(CODE, REDIRECT)
    assert type(raised.value) is InternalError and "LIFX_CLIENT_SECRET" in str(raised.value)


@pytest.mark.parametrize(
    "code", ["", "   ", "abc def", "abc\x00"], ids=["empty", "blank", "space", "nul"]
)
def test_a_code_that_cannot_be_one_is_refused_unsent(adapter, vendor, code) -> None:
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.exchange_code(code, REDIRECT)
    assert vendor.calls == []


def test_without_the_client_secret_nothing_is_sent(make_adapter, vendor) -> None:
    with pytest.raises(InternalError, match="LIFX_CLIENT_SECRET"):
        make_adapter({"LIFX_CLIENT_ID": CLIENT_ID}).exchange_code(CODE, REDIRECT)
    assert vendor.calls == []


# -- LIFX down ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_failing_token_endpoint_is_endpoint_unreachable(adapter, vendor, status) -> None:
    vendor.token(status=status, body="<html>Bad Gateway</html>", content_type="text/html")
    with pytest.raises(EndpointUnreachable):
        adapter.exchange_code(CODE, REDIRECT)


def test_a_token_endpoint_that_does_not_answer_is_endpoint_unreachable(adapter, vendor) -> None:
    vendor.token(body=requests.exceptions.ConnectTimeout("connect timed out"))
    with pytest.raises(EndpointUnreachable):
        adapter.exchange_code(CODE, REDIRECT)


def test_a_throttled_exchange_is_rate_limited(adapter, vendor) -> None:
    vendor.token({"error": "Too Many Requests"}, status=429, headers={"Retry-After": "20"})
    with pytest.raises(RateLimited) as raised:
        adapter.exchange_code(CODE, REDIRECT)
    assert raised.value.retry_after == 20


@pytest.mark.parametrize(
    "body",
    ['{"token_type": "Bearer"}', "<html>maintenance</html>", "[]"],
    ids=["no-access-token", "html", "not-an-object"],
)
def test_an_answer_in_an_undocumented_shape_is_endpoint_unreachable(adapter, vendor, body) -> None:
    vendor.token(body=body, content_type="application/json")
    with pytest.raises(EndpointUnreachable):
        adapter.exchange_code(CODE, REDIRECT)
