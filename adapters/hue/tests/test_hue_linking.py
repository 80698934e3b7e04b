"""Connecting a Hue account from the linking pages (``skill.plugins.OAuthLinker``): the
authorize page, the code exchange, and the application key created on the user's bridge.

Sources:

- Philips Hue's *Remote Authentication* page
  (https://developers.meethue.com/develop/hue-api/remote-authentication-oauth/): authorize at
  ``https://api.meethue.com/v2/oauth2/authorize`` (``client_id``, ``response_type=code``,
  ``state``), Hue redirects to the app's registered callback URL; the code is exchanged at
  ``https://api.meethue.com/v2/oauth2/token`` (``grant_type=authorization_code&code=...``, the
  client id and secret as HTTP Basic or Digest); then ``PUT /route/api/0/config
  {"linkbutton": true}`` and ``POST /route/api {"devicetype": ...}`` with the Bearer token,
  answered ``[{"success": {"username": "<application key>"}}]``.
- Q42.HueApi (michielpost/Q42.HueApi): ``RemoteAuthenticationClient.BuildAuthorizeUri`` (the
  authorize URL: ``client_id``, ``response_type``, ``state``, ``appid``, ``deviceid``,
  ``devicename``; no ``redirect_uri``), ``GetToken`` (form ``code`` + ``grant_type=
  authorization_code``), ``RemoteHueClient.RegisterAsync`` (``{"linkbutton": true}`` to
  ``.../0/config``, then ``{"devicetype": appId}``, reading ``[0].success.username``).
- node-hue-api (peter-murray/node-hue-api, ``lib/api/http/RemoteApi.ts``,
  ``createRemoteUsername``): the same two calls, ``res.data[0].success.username``, and a
  ``wasSuccessful`` check of the link-button answer.
- Hue v1 error bodies (the bridge's *Error Messages* page):
  ``[{"error": {"type": 101, "address": "", "description": "link button not pressed"}}]``.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hue_payloads import (
    BASE,
    CLIENT_ID,
    CLIENT_SECRET,
    NOW,
    TOKEN_URL,
    bridge,
    clip,
    fault,
    oauth_error,
    token_answer,
)

import bulb_skill_hue
from bulb_skill_hue import DEFAULT_AUTHORIZE_URL
from skill.errors import (
    BridgeUnreachable,
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
)
from skill.plugins import AdapterContext, OAuthToken
from skill.plugins._contract import OAuthLinker  # not re-exported by skill.plugins (yet)

REDIRECT = "https://links.example.com/connect/hue/callback"
STATE = "k2Jd9QwX1vB7nM4cT8pR3sL6yH0fG5aE"
CODE = "hVb1T9xy"
ACCESS = "AYZXfqbJXzSXetwcg9HS7V3ZmyAA"
REFRESH = "NeeoF9HkPS50xAUJX8R8q2kMxUOGBGsb"
NEW_KEY = "8cQ3tuHqZ7PkP2m5Zr0nWx1Ya4Bv6Ds9Ef0Gh2Jk"
LINKBUTTON = f"{BASE}/api/0/config"
REGISTER = f"{BASE}/api"

PRESSED = [{"success": {"/config/linkbutton": True}}]
CREATED = [{"success": {"username": NEW_KEY}}]
NOT_PRESSED = [{"error": {"type": 101, "address": "", "description": "link button not pressed"}}]


def _form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def _basic(client_id: str, client_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


def _connect(vendor, *, pressed=PRESSED, created=CREATED) -> None:
    """Stage a successful exchange, link-button press and key creation."""
    vendor.token(token_answer(ACCESS, refresh_token=REFRESH, expires_in=604800))
    vendor.mock.put(LINKBUTTON, json=pressed)
    if created is not None:
        vendor.mock.post(REGISTER, json=created)


# -- what the adapter declares ------------------------------------------------------------------


def test_hue_offers_its_sign_in_to_the_linking_pages(adapter) -> None:
    assert isinstance(adapter, OAuthLinker)
    assert adapter.display_name == "Philips Hue"


# -- the authorize page -------------------------------------------------------------------------


def test_the_authorize_url_is_hues_page_with_client_id_response_type_and_state(adapter) -> None:
    parts = urlsplit(adapter.authorization_url(REDIRECT, STATE))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == DEFAULT_AUTHORIZE_URL
    assert DEFAULT_AUTHORIZE_URL == "https://api.meethue.com/v2/oauth2/authorize"
    assert parse_qs(parts.query) == {
        "client_id": [CLIENT_ID],
        "response_type": ["code"],
        "state": [STATE],
    }


def test_the_authorize_url_sends_no_redirect_uri_and_no_secret(adapter) -> None:
    # Q42.HueApi and node-hue-api send none: Hue uses the app's registered callback URL.
    url = adapter.authorization_url(REDIRECT, STATE)
    assert "redirect_uri" not in url and CLIENT_SECRET not in url


def test_the_authorize_page_can_be_pointed_at_a_simulator() -> None:
    built = bulb_skill_hue.create(
        AdapterContext(
            vendor="hue",
            environ={"HUE_AUTHORIZE_URL": "http://127.0.0.1:8765/hue/oauth/authorize"},
            secrets={"HUE_CLIENT_ID": CLIENT_ID, "HUE_CLIENT_SECRET": CLIENT_SECRET}.__getitem__,
        )
    )
    assert built.authorization_url(REDIRECT, STATE).startswith(
        "http://127.0.0.1:8765/hue/oauth/authorize?"
    )


def test_without_a_client_id_there_is_no_authorize_url(make_adapter) -> None:
    with pytest.raises(InternalError, match="HUE_CLIENT_ID"):
        make_adapter({}).authorization_url(REDIRECT, STATE)


# -- exchange, then the application key ---------------------------------------------------------


def test_the_code_is_exchanged_with_basic_client_authentication(adapter, vendor) -> None:
    _connect(vendor)
    adapter.exchange_code(CODE, REDIRECT)
    exchange = vendor.calls[0]
    assert exchange.request.method == "POST" and exchange.request.url == TOKEN_URL
    assert _form(exchange) == {"grant_type": "authorization_code", "code": CODE}
    assert exchange.request.headers["Authorization"] == _basic(CLIENT_ID, CLIENT_SECRET)
    assert CLIENT_SECRET not in (exchange.request.body or "")


def test_then_the_link_button_is_pressed_and_the_key_created_with_the_new_token(
    adapter, vendor
) -> None:
    _connect(vendor)
    adapter.exchange_code(CODE, REDIRECT)
    _, press, register = vendor.calls
    assert (press.request.method, press.request.url) == ("PUT", LINKBUTTON)
    assert json.loads(press.request.body) == {"linkbutton": True}
    assert (register.request.method, register.request.url) == ("POST", REGISTER)
    assert json.loads(register.request.body) == {"devicetype": "bulb-skill"}
    for call in (press, register):
        assert call.request.headers["Authorization"] == f"Bearer {ACCESS}"
        assert "hue-application-key" not in call.request.headers


def test_the_credential_carries_tokens_expiry_and_the_new_application_key(adapter, vendor) -> None:
    _connect(vendor)
    credential = adapter.exchange_code(CODE, REDIRECT)
    assert isinstance(credential, OAuthToken)
    assert credential.access_token.get_secret_value() == ACCESS
    assert credential.refresh_token is not None
    assert credential.refresh_token.get_secret_value() == REFRESH
    assert credential.expires_at == NOW + 604800
    assert credential.application_key is not None
    assert credential.application_key.get_secret_value() == NEW_KEY


def test_the_new_credential_reaches_the_bridge_with_both_headers(adapter, vendor) -> None:
    _connect(vendor)
    vendor.get("bridge", clip([bridge()]))
    adapter.identify_user(adapter.exchange_code(CODE, REDIRECT))
    sent = vendor.calls[-1].request.headers
    assert sent["Authorization"] == f"Bearer {ACCESS}" and sent["hue-application-key"] == NEW_KEY


def test_a_refresh_keeps_the_application_key_created_at_connect(adapter, vendor) -> None:
    _connect(vendor)
    credential = adapter.exchange_code(CODE, REDIRECT)
    vendor.token(token_answer("DAGDLjhx4BEPvrbUjXEBvtlpcMUD"))
    fresh = adapter.refresh_credential(credential)
    assert fresh.application_key is not None
    assert fresh.application_key.get_secret_value() == NEW_KEY


# -- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, oauth_error("invalid_grant", "authorization code is invalid")),
        (401, fault("Invalid Authorization Code", "oauth.v2.InvalidAuthorizationCode")),
    ],
    ids=["rfc6749-invalid_grant", "gateway-fault"],
)
def test_a_refused_code_is_invalid_authorization_and_nothing_else_is_called(
    adapter, vendor, status, body
) -> None:
    vendor.token(body, status=status)
    with pytest.raises(InvalidAuthorizationCredential) as raised:
        adapter.exchange_code(CODE, REDIRECT)
    message = str(raised.value)
    assert "authorization code" in message and "connect Hue again" in message
    assert CLIENT_SECRET not in message
    assert len(vendor.calls) == 1  # no link button, no key


def test_a_refused_client_is_this_deployments_fault(adapter, vendor) -> None:
    vendor.token(oauth_error("invalid_client"), status=401)
    with pytest.raises(InternalError) as raised:
        adapter.exchange_code(CODE, REDIRECT)
    assert type(raised.value) is InternalError and "HUE_CLIENT_SECRET" in str(raised.value)


def test_a_bridge_that_will_not_create_a_key_is_a_refused_sign_in(adapter, vendor) -> None:
    _connect(vendor, created=NOT_PRESSED)
    with pytest.raises(InvalidAuthorizationCredential) as raised:
        adapter.exchange_code(CODE, REDIRECT)
    assert "link button not pressed" in str(raised.value)
    assert ACCESS not in str(raised.value)


def test_a_refused_link_button_press_creates_no_key(adapter, vendor) -> None:
    refused = [{"error": {"type": 1, "address": "/config", "description": "unauthorized user"}}]
    _connect(vendor, pressed=refused, created=None)
    with pytest.raises(InvalidAuthorizationCredential, match="unauthorized user"):
        adapter.exchange_code(CODE, REDIRECT)
    assert [c.request.method for c in vendor.calls] == ["POST", "PUT"]


def test_the_cloud_refusing_the_new_token_is_invalid_authorization(adapter, vendor) -> None:
    vendor.token(token_answer(ACCESS, refresh_token=REFRESH))
    vendor.mock.put(
        LINKBUTTON,
        json=fault("Invalid Access Token", "keymanagement.service.invalid_access_token"),
        status=401,
    )
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.exchange_code(CODE, REDIRECT)


@pytest.mark.parametrize("status", [503, 504])
def test_an_offline_bridge_is_bridge_unreachable(adapter, vendor, status) -> None:
    vendor.token(token_answer(ACCESS, refresh_token=REFRESH))
    vendor.mock.put(LINKBUTTON, body="Service Unavailable", status=status)
    with pytest.raises(BridgeUnreachable):
        adapter.exchange_code(CODE, REDIRECT)


@pytest.mark.parametrize(
    "created",
    [[{"success": {}}], {"success": {"username": NEW_KEY}}, []],
    ids=["no-username", "not-a-list", "empty"],
)
def test_a_key_answer_in_another_shape_is_endpoint_unreachable(adapter, vendor, created) -> None:
    _connect(vendor, created=created)
    with pytest.raises(EndpointUnreachable):
        adapter.exchange_code(CODE, REDIRECT)


def test_a_token_endpoint_that_does_not_answer_is_endpoint_unreachable(adapter, vendor) -> None:
    vendor.token(body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(EndpointUnreachable):
        adapter.exchange_code(CODE, REDIRECT)


@pytest.mark.parametrize("code", ["", "a b", "x\n"], ids=["empty", "space", "newline"])
def test_a_code_that_cannot_be_one_is_refused_unsent(adapter, vendor, code) -> None:
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.exchange_code(code, REDIRECT)
    assert vendor.calls == []
