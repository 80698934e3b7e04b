"""The adapters' HTTP transport (``skill.plugins.VendorTransport``), against ``responses``.

Sources: RFC 9110 section 10.2.3 (``Retry-After`` = HTTP-date / delay-seconds) and section 15.4
(redirect semantics); the ``requests`` documentation, "Redirection and History" and
``Session.rebuild_auth`` (only ``Authorization`` is dropped when a redirect changes host).
"""

from __future__ import annotations

import json

import pytest
import requests
import responses

from skill.errors import (
    BridgeUnreachable,
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidValue,
    NoSuchEndpoint,
    RateLimited,
)
from skill.plugins import USER_AGENT, VendorTransport, parse_retry_after

BASE = "https://api.vendor.example/v1"
ELSEWHERE = "https://collector.attacker.example/steal"
NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def transport() -> VendorTransport:
    return VendorTransport(
        "acme",
        BASE,
        timeout=(1.5, 3.0),
        secret_headers=["hue-application-key"],
        clock=lambda: NOW,
    )


# -- basics -----------------------------------------------------------------------------------


def test_every_call_has_the_user_agent_and_both_timeouts(transport, api):
    api.get(f"{BASE}/lights", json=[])
    assert transport.json("GET", "/lights") == []
    call = api.calls[0]
    assert call.request.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("bulb-skill/")
    assert call.request.req_kwargs["timeout"] == (1.5, 3.0)


def test_one_number_is_the_read_timeout_with_a_short_connect_timeout():
    assert VendorTransport("acme", BASE, timeout=3.0).timeout == (2.0, 3.0)
    assert VendorTransport("acme", BASE, timeout=1.0).timeout == (1.0, 1.0)
    with pytest.raises(ValueError):
        VendorTransport("acme", BASE, timeout=0)


def test_a_full_url_is_used_as_it_is(transport, api):
    api.post("https://auth.vendor.example/oauth/token", json={"ok": True})
    assert transport.json("POST", "https://auth.vendor.example/oauth/token") == {"ok": True}


def test_a_deadline_caps_both_timeouts(api):
    clock = {"now": 100.0}
    transport = VendorTransport("acme", BASE, timeout=(2.0, 3.0), monotonic=lambda: clock["now"])
    api.get(f"{BASE}/x", json={})
    transport.json("GET", "/x", deadline=101.0)
    connect, read = api.calls[0].request.req_kwargs["timeout"]
    assert connect == pytest.approx(1.0) and read == pytest.approx(1.0)


def test_no_call_is_started_without_time_left(api):
    transport = VendorTransport("acme", BASE, monotonic=lambda: 100.0)
    with pytest.raises(EndpointUnreachable, match="no time left"):
        transport.send("GET", "/x", deadline=100.01)
    assert len(api.calls) == 0


def test_the_session_is_kept_and_reused(transport):
    assert isinstance(transport.session, requests.Session)
    session = requests.Session()
    assert VendorTransport("acme", BASE, session=session).session is session


# -- Retry-After ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("-5", 0.0),  # never negative
        ("Tue, 14 Nov 2023 22:14:20 GMT", 60.0),  # RFC 9110 IMF-fixdate, NOW + 60 s
        ("Tuesday, 14-Nov-23 22:15:20 GMT", 120.0),  # obsolete RFC 850 form, still to be read
        ("Tue Nov 14 22:13:50 2023", 30.0),  # asctime form, no zone: GMT
        ("Tue, 14 Nov 2023 22:00:00 GMT", 0.0),  # already past
        ("", None),
        ("soon", None),
        ("nan", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(value, seconds):
    assert parse_retry_after(value, now=NOW) == seconds


def test_429_is_rate_limited_with_the_retry_after_seconds(transport, api):
    api.get(f"{BASE}/x", status=429, headers={"Retry-After": "52"})
    with pytest.raises(RateLimited) as caught:
        transport.request("GET", "/x")
    assert caught.value.retry_after == 52.0


def test_429_with_an_http_date(transport, api):
    api.get(f"{BASE}/x", status=429, headers={"Retry-After": "Tue, 14 Nov 2023 22:13:50 GMT"})
    with pytest.raises(RateLimited) as caught:
        transport.request("GET", "/x")
    assert caught.value.retry_after == 30.0


def test_429_without_a_hint(transport, api):
    api.get(f"{BASE}/x", status=429)
    with pytest.raises(RateLimited) as caught:
        transport.request("GET", "/x")
    assert caught.value.retry_after is None


# -- status and failures to typed errors ------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InvalidValue),
        (401, InvalidAuthorizationCredential),
        (403, InvalidAuthorizationCredential),
        (404, NoSuchEndpoint),
        (408, EndpointUnreachable),
        (418, InternalError),
        (422, InvalidValue),
        (500, EndpointUnreachable),
        (502, EndpointUnreachable),
        (503, EndpointUnreachable),
        (504, EndpointUnreachable),
    ],
)
def test_http_status_maps_to_a_typed_error(transport, api, status, error):
    api.get(f"{BASE}/x", status=status, json={"message": "no"})
    with pytest.raises(error):
        transport.request("GET", "/x")


def test_success_is_returned_as_it_came(transport, api):
    api.get(f"{BASE}/x", status=207, json={"results": []})
    assert transport.request("GET", "/x").status_code == 207


def test_an_adapter_overrides_the_mapping_for_its_vendor(api):
    def hue_like(response):
        if response.status_code in (503, 504):
            return BridgeUnreachable("the cloud cannot reach the bridge")
        return None  # everything else: the default

    transport = VendorTransport("acme", BASE, errors=hue_like)
    api.get(f"{BASE}/a", status=503)
    api.get(f"{BASE}/b", status=500)
    with pytest.raises(BridgeUnreachable):
        transport.request("GET", "/a")
    with pytest.raises(EndpointUnreachable):
        transport.request("GET", "/b")


@pytest.mark.parametrize(
    "exception",
    [
        requests.ConnectTimeout("connect"),
        requests.ReadTimeout("read"),
        requests.ConnectionError("connection reset by peer"),
        requests.exceptions.SSLError("bad certificate"),
    ],
    ids=["connect-timeout", "read-timeout", "reset", "tls"],
)
def test_no_answer_is_unreachable(transport, api, exception):
    api.get(f"{BASE}/x", body=exception)
    with pytest.raises(EndpointUnreachable):
        transport.request("GET", "/x")


def test_a_body_that_is_not_json_is_unreachable(transport, api):
    api.get(f"{BASE}/x", body="<html>gateway</html>", content_type="text/html")
    with pytest.raises(EndpointUnreachable, match="not JSON"):
        transport.json("GET", "/x")


def test_an_error_message_never_holds_a_credential(transport, api):
    api.get(f"{BASE}/x", status=401, json={"message": "Unauthorized"})
    with pytest.raises(InvalidAuthorizationCredential) as caught:
        transport.request("GET", "/x", headers={"Authorization": "Bearer s3cret-token"})
    assert "s3cret" not in str(caught.value) and "s3cret" not in caught.value.message


# -- redirects --------------------------------------------------------------------------------


def redirect(api, url: str, location: str, status: int = 302, method: str = "GET") -> None:
    api.add(method, url, status=status, headers={"Location": location})


def test_plain_requests_would_carry_a_custom_key_header_to_another_host(api):
    """Why the transport handles redirects itself: ``requests`` strips ``Authorization`` on a
    host change, but a vendor key in its own header goes along."""
    redirect(api, f"{BASE}/lights", ELSEWHERE)
    api.get(ELSEWHERE, json={})
    requests.get(
        f"{BASE}/lights",
        headers={"Authorization": "Bearer tok", "hue-application-key": "app-key"},
        timeout=1,
    )
    leaked = api.calls[1].request.headers
    assert "Authorization" not in leaked
    assert leaked["hue-application-key"] == "app-key"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer tok"},
        {"hue-application-key": "app-key"},  # marked secret by the adapter
        {"Govee-API-Key": "unmarked-key"},  # not marked: unknown headers stay home too
        {"sign": "ABC=", "t": "1700000000000", "nonce": "n"},  # SwitchBot's signature
        {"Cookie": "session=1"},
    ],
    ids=["authorization", "marked", "unmarked", "switchbot-sign", "cookie"],
)
def test_a_credentialed_request_is_never_redirected_to_another_host(transport, api, headers):
    redirect(api, f"{BASE}/lights", ELSEWHERE)
    api.get(ELSEWHERE, json={})
    with pytest.raises(EndpointUnreachable, match="another host"):
        transport.request("GET", "/lights", headers=headers)
    assert [c.request.url for c in api.calls] == [f"{BASE}/lights"]  # the other host got nothing


def test_basic_auth_is_never_redirected_to_another_host(transport, api):
    redirect(api, f"{BASE}/token", ELSEWHERE, status=307, method="POST")
    api.post(ELSEWHERE, json={})
    with pytest.raises(EndpointUnreachable):
        transport.request("POST", "/token", data={"grant_type": "x"}, auth=("id", "secret"))
    assert len(api.calls) == 1


def test_a_body_is_never_sent_again_to_another_host(transport, api):
    """A 307 repeats the body (an OAuth refresh token, a client secret): not to another host."""
    redirect(api, f"{BASE}/token", ELSEWHERE, status=307, method="POST")
    api.post(ELSEWHERE, json={})
    with pytest.raises(EndpointUnreachable):
        transport.request("POST", "/token", data={"refresh_token": "r", "client_secret": "s"})
    assert len(api.calls) == 1


def test_a_downgrade_to_http_on_the_same_host_is_another_origin(transport, api):
    redirect(api, f"{BASE}/lights", "http://api.vendor.example/v1/lights")
    api.get("http://api.vendor.example/v1/lights", json={})
    with pytest.raises(EndpointUnreachable):
        transport.request("GET", "/lights", headers={"hue-application-key": "k"})
    assert len(api.calls) == 1


def test_a_same_origin_redirect_is_followed_with_the_request_as_it_was(transport, api):
    redirect(api, f"{BASE}/lights", "/v2/lights", status=308)
    api.get("https://api.vendor.example/v2/lights", json=[{"id": "1"}])
    answer = transport.json(
        "GET", "/lights", headers={"Authorization": "Bearer tok", "hue-application-key": "k"}
    )
    assert answer == [{"id": "1"}]
    followed = api.calls[1].request
    assert followed.headers["Authorization"] == "Bearer tok"
    assert followed.headers["hue-application-key"] == "k"
    assert followed.req_kwargs["timeout"] == (1.5, 3.0)


def test_a_303_after_a_post_is_a_get_without_body(transport, api):
    redirect(api, f"{BASE}/commands", f"{BASE}/commands/42", status=303, method="POST")
    api.get(f"{BASE}/commands/42", json={"status": "done"})
    assert transport.json("POST", "/commands", json={"on": True}) == {"status": "done"}
    assert api.calls[1].request.method == "GET"
    assert api.calls[1].request.body is None


def test_a_307_repeats_the_post_on_the_same_origin(transport, api):
    redirect(api, f"{BASE}/commands", f"{BASE}/commands/v2", status=307, method="POST")
    api.post(f"{BASE}/commands/v2", json={"ok": True})
    transport.json("POST", "/commands", json={"on": True})
    assert json.loads(api.calls[1].request.body) == {"on": True}


def test_a_request_without_any_credential_may_follow_to_another_host(transport, api):
    redirect(api, f"{BASE}/status", "https://status.vendor-cdn.example/now")
    api.get("https://status.vendor-cdn.example/now", json={"up": True})
    assert transport.json("GET", "/status", headers={"Accept": "application/json"}) == {"up": True}


def test_redirect_loops_end(transport, api):
    redirect(api, f"{BASE}/a", f"{BASE}/b")
    redirect(api, f"{BASE}/b", f"{BASE}/a")
    with pytest.raises(EndpointUnreachable, match="redirected more than"):
        transport.request("GET", "/a")
    assert len(api.calls) == transport.max_redirects + 1
