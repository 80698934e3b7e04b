"""Every way LIFX can fail, each mapped to the project's typed error (one table per cause)."""

from __future__ import annotations

import pytest
import requests
from lifx_payloads import COLOR_ID, NOW, all_lights, color_light, error, rate_headers, results

from skill.bulbs import Change
from skill.errors import (
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidValue,
    NoSuchEndpoint,
    RateLimited,
)
from skill.plugins import ApiKey, KeyAndSecret, OAuthToken

# The four operations, each staged so that its *first* request is the one that fails.
OPERATIONS = {
    "identify_user": (lambda a, t: a.identify_user(t), "GET", "all"),
    "list_devices": (lambda a, t: a.list_devices(t), "GET", "all"),
    "read_state": (lambda a, t: a.read_state(t, COLOR_ID), "GET", f"id:{COLOR_ID}"),
    "execute": (lambda a, t: a.execute(t, COLOR_ID, Change(on=True)), "GET", f"id:{COLOR_ID}"),
}

HTTP_FAILURES = [
    # status, documented body, expected error
    (401, error("Invalid bearer token"), InvalidAuthorizationCredential),
    (403, error("Permission denied: bad OAuth scope"), InvalidAuthorizationCredential),
    (404, error(f"Could not find id:{COLOR_ID}."), NoSuchEndpoint),
    (400, error("Request was invalid"), InvalidValue),
    (422, error("color is missing", field="color"), InvalidValue),
    (426, error("Please use HTTPS"), InternalError),
    (500, error("Internal server error"), EndpointUnreachable),
    (502, None, EndpointUnreachable),
    (503, None, EndpointUnreachable),
    (523, None, EndpointUnreachable),
]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(("status", "body", "expected"), HTTP_FAILURES)
def test_http_failures_map_to_typed_errors(
    adapter, vendor, credential, operation, status, body, expected
):
    call, method, selector = OPERATIONS[operation]
    if body is None:
        vendor.answer(method, selector, status=status, body="<html>Bad Gateway</html>")
    else:
        vendor.answer(method, selector, status=status, json=body)
    with pytest.raises(expected):
        call(adapter, credential)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(
    "exception",
    [
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectionError("connection refused"),
        requests.exceptions.SSLError("certificate verify failed"),
    ],
    ids=["connect-timeout", "read-timeout", "connection-error", "tls-error"],
)
def test_network_failures_are_endpoint_unreachable(
    adapter, vendor, credential, operation, exception
):
    call, method, selector = OPERATIONS[operation]
    vendor.answer(method, selector, body=exception)
    with pytest.raises(EndpointUnreachable) as raised:
        call(adapter, credential)
    assert raised.value.retryable


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(
    "body",
    ['[{"id": "d073d5141876", "power": ', "<html>maintenance</html>", '{"lights": []}', "[42]"],
    ids=["truncated", "html", "not-a-list", "not-lights"],
)
def test_malformed_bodies_are_endpoint_unreachable(adapter, vendor, credential, operation, body):
    call, method, selector = OPERATIONS[operation]
    vendor.answer(method, selector, status=200, body=body, content_type="application/json")
    with pytest.raises(EndpointUnreachable):
        call(adapter, credential)


def test_malformed_multi_status_is_endpoint_unreachable(adapter, vendor, credential) -> None:
    vendor.lights(f"id:{COLOR_ID}", [color_light()])
    vendor.answer("PUT", f"id:{COLOR_ID}", status=207, body="{not json")
    with pytest.raises(EndpointUnreachable):
        adapter.execute(credential, COLOR_ID, Change(on=True))


def test_failure_of_the_write_after_a_good_read_is_mapped_too(adapter, vendor, credential) -> None:
    vendor.lights(f"id:{COLOR_ID}", [color_light()])
    vendor.answer("PUT", f"id:{COLOR_ID}", body=requests.exceptions.ReadTimeout())
    with pytest.raises(EndpointUnreachable):
        adapter.execute(credential, COLOR_ID, Change(on=True))


def test_a_light_with_an_undocumented_shape_is_endpoint_unreachable(adapter, vendor, credential):
    vendor.lights(f"id:{COLOR_ID}", [color_light(brightness="bright")])
    with pytest.raises(EndpointUnreachable):
        adapter.read_state(credential, COLOR_ID)


def test_a_product_in_an_undocumented_shape_is_endpoint_unreachable(adapter, vendor, credential):
    light = color_light()
    light["product"] = "Color 1000"
    vendor.lights("all", [light])
    with pytest.raises(EndpointUnreachable):
        adapter.list_devices(credential)


# -- rate limits ---------------------------------------------------------------------------------


def test_429_carries_the_wait_until_the_window_resets(adapter, vendor, credential) -> None:
    headers = rate_headers(remaining=0, reset=int(NOW) + 42)
    vendor.lights("all", error("Too Many Requests"), status=429, headers=headers)
    with pytest.raises(RateLimited) as raised:
        adapter.list_devices(credential)
    assert raised.value.retry_after == 42 and raised.value.retryable


def test_429_prefers_retry_after_when_given(adapter, vendor, credential) -> None:
    headers = rate_headers(remaining=0, reset=int(NOW) + 42) | {"Retry-After": "7"}
    vendor.lights("all", error("Too Many Requests"), status=429, headers=headers)
    with pytest.raises(RateLimited) as raised:
        adapter.list_devices(credential)
    assert raised.value.retry_after == 7


def test_429_without_headers_has_no_hint(adapter, vendor, credential) -> None:
    vendor.lights("all", error("Too Many Requests"), status=429)
    with pytest.raises(RateLimited) as raised:
        adapter.list_devices(credential)
    assert raised.value.retry_after is None


def test_429_on_the_write_is_rate_limited(adapter, vendor, credential) -> None:
    vendor.lights(f"id:{COLOR_ID}", [color_light()])
    vendor.set_state(
        f"id:{COLOR_ID}",
        error("Too Many Requests"),
        status=429,
        headers=rate_headers(remaining=0, reset=int(NOW) + 3),
    )
    with pytest.raises(RateLimited) as raised:
        adapter.execute(credential, COLOR_ID, Change(on=True))
    assert raised.value.retry_after == 3


def test_a_used_up_window_is_respected_without_asking_lifx(adapter, vendor, credential) -> None:
    vendor.lights("all", all_lights(), headers=rate_headers(remaining=0, reset=int(NOW) + 30))
    adapter.list_devices(credential)  # succeeds, but the window is now used up
    with pytest.raises(RateLimited) as raised:
        adapter.list_devices(credential)
    assert raised.value.retry_after == 30
    assert len(vendor.calls) == 1


def test_a_used_up_window_ends_at_reset(adapter, vendor, credential) -> None:
    vendor.lights("all", all_lights(), headers=rate_headers(remaining=0, reset=int(NOW) + 30))
    vendor.lights("all", all_lights(), headers=rate_headers(remaining=119, reset=int(NOW) + 90))
    adapter.list_devices(credential)
    adapter._client._clock = lambda: NOW + 31
    assert len(adapter.list_devices(credential)) == 4


def test_the_window_is_per_token(adapter, vendor, credential) -> None:
    vendor.lights("all", all_lights(), headers=rate_headers(remaining=0, reset=int(NOW) + 30))
    vendor.lights("all", all_lights(), headers=rate_headers(remaining=100, reset=int(NOW) + 30))
    adapter.list_devices(credential)
    assert len(adapter.list_devices(OAuthToken.bearer("another-users-token"))) == 4


def test_remaining_requests_keep_the_door_open(adapter, vendor, credential) -> None:
    vendor.lights(f"id:{COLOR_ID}", [color_light()], headers=rate_headers(1, int(NOW) + 30))
    vendor.set_state(f"id:{COLOR_ID}", results(COLOR_ID), headers=rate_headers(0, int(NOW) + 30))
    assert adapter.execute(credential, COLOR_ID, Change(on=False)).on is False
    with pytest.raises(RateLimited):
        adapter.read_state(credential, COLOR_ID)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(
    "foreign",
    [
        ApiKey.of("govee-api-key-0123456789"),
        KeyAndSecret.of("switchbot-open-token", "switchbot-secret"),
        OAuthToken.bearer(""),
    ],
    ids=["api-key", "key-and-secret", "empty-oauth-token"],
)
def test_a_credential_lifx_cannot_use_is_refused_before_any_request(
    adapter, vendor, operation, foreign
) -> None:
    """Another vendor's credential (or an empty token) never reaches LIFX."""
    call, _, _ = OPERATIONS[operation]
    with pytest.raises(InvalidAuthorizationCredential):
        call(adapter, foreign)
    assert vendor.calls == []


def test_the_token_never_follows_a_redirect_to_another_host(adapter, vendor, credential):
    """The adapter's transport (``skill.plugins.VendorTransport``) follows no redirect of a
    credentialed request to another host."""
    vendor.answer("GET", "all", status=302, headers={"Location": "https://collector.example/x"})
    with pytest.raises(EndpointUnreachable):
        adapter.list_devices(credential)
    assert len(vendor.calls) == 1
