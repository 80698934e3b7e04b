"""Every route of the linking pages, over fakes (HTTP API payload 2.0 events, as API Gateway
sends them): sign-in with state, sessions that expire or are tampered with, CSRF, the redirect
allow-list, connect by key or by OAuth (wrong key, vendor down), webhooks, disconnect, delete."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from skill.accounts import Accounts
from skill.alexa.events import with_scope
from skill.errors import EndpointUnreachable, InvalidAuthorizationCredential
from skill.linking import CookieSigner, LinkingServices, SignInFailed, build_app
from skill.plugins import ApiKey, CredentialKind, KeyAndSecret, OAuthToken, Style
from tests.fakes import (
    Clock,
    FakeAdapter,
    MemoryOutbox,
    MemoryStateStore,
    MemoryTokenStore,
    MemoryVault,
    credentials_of,
    registry_of,
)

SECRET = "s" * 40
KEY = "the-right-govee-key"


class FakeLogin:
    host = "login.example"

    def __init__(self) -> None:
        self.verifiers: dict[str, str] = {}
        self.evil = False

    def start(self, redirect_uri: str):
        state, verifier = f"state-{len(self.verifiers)}", f"verifier-{len(self.verifiers)}"
        self.verifiers[state] = verifier
        host = "evil.example" if self.evil else self.host
        return SimpleNamespace(
            url=f"https://{host}/oauth2/authorize?state={state}", state=state, verifier=verifier
        )

    def finish(self, code: str, verifier: str, redirect_uri: str) -> tuple[str, str]:
        if code != "good-code" or verifier not in self.verifiers.values():
            raise SignInFailed("The sign-in was not accepted. Please sign in again.")
        return "user-1", "demo@example.com"

    def logout_url(self, return_to: str) -> str:
        return f"https://{self.host}/logout?{urlencode({'logout_uri': return_to})}"


class KeyedAdapter(FakeAdapter):
    """A vendor whose credential is an API key (like Govee)."""


class OAuthAdapter(FakeAdapter):
    """A vendor with an OAuth sign-in (like LIFX)."""

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        query = urlencode({"state": state, "redirect_uri": redirect_uri})
        return f"https://vendor.example/authorize?{query}"

    def exchange_code(self, code: str, redirect_uri: str) -> OAuthToken:
        if code != "vendor-code":
            raise InvalidAuthorizationCredential("the code was refused")
        return self.credential


class OneWebhookAdapter(FakeAdapter):
    """A push vendor with one webhook URL per account (like SwitchBot)."""

    hooks: list[str]

    def register_webhook(self, credential, base_url):
        self.hooks.append(base_url)
        return base_url

    def deregister_webhook(self, credential, base_url):
        self.hooks.remove(base_url)

    def other_webhooks(self, credential, base_url):
        return [h for h in self.hooks if h != base_url]

    def replace_webhooks(self, credential, base_url):
        self.hooks[:] = [base_url]
        return base_url


@dataclass
class World:
    app: Any
    vault: MemoryVault
    outbox: MemoryOutbox
    pending: MemoryStateStore
    clock: Clock
    login: FakeLogin
    keyed: KeyedAdapter
    oauth: OAuthAdapter
    pusher: OneWebhookAdapter
    deleted: list[str]
    cookies: dict[str, str]

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        keep: bool = True,
    ) -> dict[str, Any]:
        event = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": urlencode(query or {}),
            "queryStringParameters": query or None,
            "cookies": [f"{k}={v}" for k, v in self.cookies.items()],
            "headers": {
                "host": "pages.example",
                "content-type": "application/x-www-form-urlencoded",
            },
            "requestContext": {
                "http": {
                    "method": method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": "test",
                },
                "requestId": "r",
                "routeKey": "$default",
                "stage": "$default",
                "accountId": "1",
                "apiId": "a",
                "domainName": "pages.example",
                "domainPrefix": "pages",
                "time": "04/Dec/2026:00:00:00 +0000",
                "timeEpoch": 0,
            },
            "body": urlencode(form or {}),
            "isBase64Encoded": False,
        }
        response = self.app.resolve(event, None)
        if keep:
            for header in response.get("cookies") or []:
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                if "Max-Age=0" in header or not value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        return response

    def sign_in(self) -> None:
        response = self.request("GET", "/signin")
        state = parse_qs(urlsplit(response["headers"]["Location"]).query)["state"][0]
        assert (
            self.request("GET", "/callback", query={"state": state, "code": "good-code"})[
                "statusCode"
            ]
            == 303
        )

    def csrf(self) -> str:
        body = self.request("GET", "/")["body"]
        return body.split('name="csrf" value="', 1)[1].split('"', 1)[0]


@pytest.fixture
def world() -> World:
    clock = Clock(1_000_000.0)
    keyed = KeyedAdapter(
        name="keyed",
        style=Style.POLLING,
        credential=ApiKey.of(KEY),
        credential_kind=CredentialKind.API_KEY,
    )
    oauth = OAuthAdapter(name="oauthy", credential=OAuthToken.bearer("vendor-oauth-token"))
    pusher = OneWebhookAdapter(
        name="pusher",
        style=Style.ASYNC,
        credential=KeyAndSecret.of("sb-token", "sb-secret"),
        credential_kind=CredentialKind.KEY_AND_SECRET,
    )
    pusher.hooks = []
    vault, outbox, pending = MemoryVault(), MemoryOutbox(), MemoryStateStore()
    accounts = Accounts(
        credentials_of(vault),
        registry_of(keyed, oauth, pusher),
        pending,
        outbox,
        MemoryTokenStore(),
        webhook_url_for=lambda v: f"https://hooks.example/{v}/secret",
    )
    deleted: list[str] = []
    login = FakeLogin()
    services = LinkingServices(
        accounts=accounts,
        login=login,
        cookies=CookieSigner(SECRET, clock=clock),
        base_url="https://pages.example/",
        clock=clock,
        users=SimpleNamespace(delete=deleted.append),
    )
    return World(
        build_app(lambda: services),
        vault,
        outbox,
        pending,
        clock,
        login,
        keyed,
        oauth,
        pusher,
        deleted,
        {},
    )


def assert_safe_page(response: dict[str, Any]) -> None:
    headers = response["headers"]
    csp = headers["Content-Security-Policy"]
    assert (
        "frame-ancestors 'none'" in csp and "script-src" not in csp and "default-src 'none'" in csp
    )
    assert headers["X-Frame-Options"] == "DENY"
    body = response.get("body") or ""
    assert (
        "<script" not in body.lower()
        and " style=" not in body.lower()
        and "onclick" not in body.lower()
    )


def test_a_visitor_who_is_not_signed_in_sees_how_to_sign_in(world):
    response = world.request("GET", "/")
    assert response["statusCode"] == 200 and 'href="/signin"' in response["body"]
    assert_safe_page(response)


def test_sign_in_goes_to_the_login_with_state_and_comes_back_with_a_secure_session(world):
    response = world.request("GET", "/signin")
    assert response["statusCode"] == 303
    assert urlsplit(response["headers"]["Location"]).hostname == "login.example"
    [flow] = response["cookies"]
    assert all(flag in flow for flag in ("HttpOnly", "Secure", "SameSite=Lax"))
    state = parse_qs(urlsplit(response["headers"]["Location"]).query)["state"][0]
    back = world.request("GET", "/callback", query={"state": state, "code": "good-code"})
    assert back["statusCode"] == 303 and back["headers"]["Location"] == "/"
    session = next(c for c in back["cookies"] if c.startswith("bulb_skill_session="))
    assert all(flag in session for flag in ("HttpOnly", "Secure", "SameSite=Lax", "Max-Age="))
    home = world.request("GET", "/")
    assert "Signed in as demo@example.com" in home["body"] and "Your lights" in home["body"]


@pytest.mark.parametrize(
    "query", [{"state": "forged", "code": "good-code"}, {"code": "good-code"}, {"state": "x"}]
)
def test_a_callback_without_the_state_this_browser_was_given_is_refused(world, query):
    world.request("GET", "/signin")
    response = world.request("GET", "/callback", query=query)
    assert response["statusCode"] == 400 and "bulb_skill_session" not in world.cookies


def test_a_login_that_refuses_the_code_says_so_in_plain_words(world):
    response = world.request("GET", "/signin")
    state = parse_qs(urlsplit(response["headers"]["Location"]).query)["state"][0]
    failed = world.request("GET", "/callback", query={"state": state, "code": "stolen-code"})
    assert failed["statusCode"] == 502 and "sign in again" in failed["body"]


def test_an_expired_session_must_sign_in_again(world):
    world.sign_in()
    world.clock.now += 8 * 3600 + 1
    response = world.request("GET", "/connect/keyed")
    assert response["statusCode"] == 401 and "session has ended" in response["body"]


def test_a_tampered_session_cookie_is_no_session(world):
    world.sign_in()
    value = world.cookies["bulb_skill_session"]
    world.cookies["bulb_skill_session"] = value[:-4] + (
        "AAAA" if not value.endswith("AAAA") else "BBBB"
    )
    assert world.request("GET", "/connect/keyed")["statusCode"] == 401
    forged = CookieSigner("f" * 40).seal(
        "session", {"sub": "user-1", "name": "x", "csrf": "c"}, lifetime=600
    )
    world.cookies["bulb_skill_session"] = forged
    assert (
        world.request("POST", "/connect/keyed", form={"csrf": "c", "api_key": KEY})["statusCode"]
        == 401
    )
    assert world.vault.items == {}


@pytest.mark.parametrize("csrf", [None, "", "wrong-token"])
def test_a_form_without_the_sessions_csrf_token_changes_nothing(world, csrf):
    world.sign_in()
    form = {"api_key": KEY} | ({"csrf": csrf} if csrf is not None else {})
    response = world.request("POST", "/connect/keyed", form=form)
    assert response["statusCode"] == 403 and world.vault.items == {}
    world.vault.connect("user-1", "keyed", ApiKey.of(KEY))
    assert world.request("POST", "/disconnect/keyed", form=form)["statusCode"] == 403
    assert ("user-1", "keyed") in world.vault.items
    assert world.request("POST", "/account/delete", form=form)["statusCode"] == 403
    assert world.deleted == []


def test_the_connect_form_asks_for_what_the_vendor_needs(world):
    world.sign_in()
    keyed = world.request("GET", "/connect/keyed")["body"]
    assert '<label for="api_key">API key</label>' in keyed and 'name="csrf"' in keyed
    pair = world.request("GET", "/connect/pusher")["body"]
    assert (
        '<label for="key">Token</label>' in pair
        and '<label for="secret">Secret key</label>' in pair
    )
    oauth = world.request("GET", "/connect/oauthy")["body"]
    assert (
        'href="/connect/oauthy/start"' in oauth
        and "<form" not in oauth.split("<main>")[1].split("</main>")[0]
    )


def test_a_wrong_key_is_refused_with_the_vendors_reason_and_nothing_is_stored(world, caplog):
    world.sign_in()
    caplog.set_level(logging.DEBUG)
    response = world.request(
        "POST", "/connect/keyed", form={"csrf": world.csrf(), "api_key": "a-wrong-key-typed"}
    )
    assert response["statusCode"] == 400
    assert (
        "did not accept this: credential rejected" in response["body"]
        and 'role="alert"' in response["body"]
    )
    assert "a-wrong-key-typed" not in response["body"] and "a-wrong-key-typed" not in caplog.text
    assert world.vault.items == {}


def test_the_right_key_is_checked_stored_and_its_bulbs_shown(world, caplog):
    world.sign_in()
    caplog.set_level(logging.DEBUG)
    response = world.request("POST", "/connect/keyed", form={"csrf": world.csrf(), "api_key": KEY})
    assert response["statusCode"] == 303 and response["headers"]["Location"] == "/?done=connected"
    assert world.vault.items[("user-1", "keyed")].credential == ApiKey.of(KEY)
    assert ("identify", "") in world.keyed.calls, "the key was stored without one real call"
    home = world.request("GET", "/", query={"done": "connected"})
    assert "Colour Bulb: reachable" in home["body"] and "Connected." in home["body"]
    assert KEY not in home["body"] and KEY not in caplog.text
    assert_safe_page(home)


def test_a_vendor_that_is_down_while_connecting_saves_nothing(world):
    world.sign_in()
    world.keyed.failure = EndpointUnreachable("down")
    response = world.request("POST", "/connect/keyed", form={"csrf": world.csrf(), "api_key": KEY})
    assert response["statusCode"] == 503 and "could not be reached" in response["body"]
    assert world.vault.items == {}


def test_an_empty_field_is_asked_again(world):
    world.sign_in()
    response = world.request(
        "POST", "/connect/pusher", form={"csrf": world.csrf(), "key": "sb-token", "secret": " "}
    )
    assert response["statusCode"] == 400 and "fill in every field" in response["body"]


def test_oauth_connect_goes_to_the_vendor_and_stores_what_it_gives(world):
    world.sign_in()
    start = world.request("GET", "/connect/oauthy/start")
    assert start["statusCode"] == 303
    target = urlsplit(start["headers"]["Location"])
    assert target.hostname == "vendor.example"
    state = parse_qs(target.query)["state"][0]
    bad = world.request(
        "GET", "/connect/oauthy/callback", query={"state": "forged", "code": "vendor-code"}
    )
    assert bad["statusCode"] == 400 and world.vault.items == {}
    refused = world.request(
        "GET", "/connect/oauthy/callback", query={"state": state, "code": "old-code"}
    )
    assert refused["statusCode"] == 400 and "did not accept the sign-in" in refused["body"]
    done = world.request(
        "GET", "/connect/oauthy/callback", query={"state": state, "code": "vendor-code"}
    )
    assert done["statusCode"] == 303
    assert world.vault.items[("user-1", "oauthy")].credential == world.oauth.credential


def test_a_redirect_target_not_on_the_allow_list_is_refused(world):
    world.login.evil = True
    response = world.request("GET", "/signin")
    assert response["statusCode"] == 400 and "Location" not in response["headers"]


def test_a_one_webhook_vendor_asks_before_replacing_another_url(world):
    world.sign_in()
    world.pusher.hooks = ["https://other-home-system.example/hook"]
    form = {"csrf": world.csrf(), "key": "sb-token", "secret": "sb-secret"}
    question = world.request("POST", "/connect/pusher", form=form)
    assert question["statusCode"] == 200 and "other-home-system.example" in question["body"]
    kept = world.request(
        "POST", "/connect/pusher/webhook", form={"csrf": world.csrf(), "replace": "no"}
    )
    assert kept["headers"]["Location"] == "/?done=polling"
    assert world.pusher.hooks == ["https://other-home-system.example/hook"]
    assert world.vault.items[("user-1", "pusher")].push is False
    assert "read every few minutes" in world.request("GET", "/", query={"done": "polling"})["body"]
    replaced = world.request(
        "POST", "/connect/pusher/webhook", form={"csrf": world.csrf(), "replace": "yes"}
    )
    assert replaced["headers"]["Location"] == "/?done=connected"
    assert world.pusher.hooks == ["https://hooks.example/pusher/secret"]
    assert world.vault.items[("user-1", "pusher")].push is True


def test_a_push_vendor_without_another_url_is_registered_at_once(world):
    world.sign_in()
    world.request(
        "POST",
        "/connect/pusher",
        form={"csrf": world.csrf(), "key": "sb-token", "secret": "sb-secret"},
    )
    assert world.pusher.hooks == ["https://hooks.example/pusher/secret"]


def test_disconnect_removes_the_credential_and_tells_alexa(world, assert_alexa_valid):
    from skill.records import DeviceOwner
    from tests.fakes import WHITE

    world.sign_in()
    world.request("POST", "/connect/keyed", form={"csrf": world.csrf(), "api_key": KEY})
    world.pending.put_owner(
        DeviceOwner(endpoint_id="keyed:white-1", user_id="user-1", vendor="keyed", features=WHITE)
    )
    response = world.request("POST", "/disconnect/keyed", form={"csrf": world.csrf()})
    assert response["headers"]["Location"] == "/?done=disconnected"
    assert ("user-1", "keyed") not in world.vault.items and world.pending.owners() == []
    [report] = world.outbox.messages
    assert report.kind == "DeleteReport"
    assert_alexa_valid(with_scope(report.message, "lwa-token"))
    assert "Disconnected." in world.request("GET", "/", query={"done": "disconnected"})["body"]


def test_deleting_the_account_removes_everything_and_signs_out(world):
    world.sign_in()
    world.request("POST", "/connect/keyed", form={"csrf": world.csrf(), "api_key": KEY})
    page = world.request("GET", "/account/delete")
    assert "cannot be undone" in page["body"]
    response = world.request("POST", "/account/delete", form={"csrf": world.csrf()})
    assert response["statusCode"] == 200 and "Your account is deleted" in response["body"]
    assert world.vault.items == {} and world.deleted == ["user-1"]
    assert "bulb_skill_session" not in world.cookies


def test_sign_out_clears_the_session_and_ends_the_managed_login(world):
    world.sign_in()
    response = world.request("POST", "/signout", form={"csrf": world.csrf()})
    assert response["statusCode"] == 303
    assert urlsplit(response["headers"]["Location"]).hostname == "login.example"
    assert "bulb_skill_session" not in world.cookies
    assert world.request("GET", "/connect/keyed")["statusCode"] == 401


def test_an_unknown_vendor_or_page_is_not_found(world):
    world.sign_in()
    assert world.request("GET", "/connect/nobody")["statusCode"] == 404
    assert world.request("GET", "/nowhere")["statusCode"] == 404


def test_the_stylesheet_is_served_and_every_page_is_guarded(world):
    css = world.request("GET", "/static/style.css")
    assert css["statusCode"] == 200 and css["headers"]["Content-Type"].startswith("text/css")
    world.sign_in()
    for path in ("/", "/connect/keyed", "/connect/pusher", "/connect/oauthy", "/account/delete"):
        assert_safe_page(world.request("GET", path))
