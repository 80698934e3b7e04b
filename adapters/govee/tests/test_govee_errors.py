"""Every Govee failure becomes the project's typed error (never a raw exception)."""

from __future__ import annotations

import pytest
import requests
from govee_support import BASE, CREDENTIAL, DEVICE_ID, DEVICES, failure

from skill.bulbs import Change
from skill.errors import (
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidValue,
    NoSuchEndpoint,
    RateLimited,
)

CONTROL = f"{BASE}/device/control"
STATE = f"{BASE}/device/state"

# Govee's rate-limiting page, "Sample HTTP Responses": 429, text/plain, per-minute window used up.
THROTTLED_HEADERS = {
    "API-RateLimit-Remaining": "0",
    "API-RateLimit-Reset": "1674744661",
    "API-RateLimit-Limit": "10",
    "Retry-After": "52",
    "X-RateLimit-Limit": "10000",
    "X-RateLimit-Remaining": "9785",
    "X-RateLimit-Reset": "1674777066",
}


@pytest.mark.parametrize(
    "msg", ["devices not exist", "devices not belong you"], ids=["not-exist", "not-yours"]
)
def test_an_unknown_device_in_the_answer_body_is_no_such_endpoint(adapter, api, msg):
    api.post(STATE, json=failure(msg))  # HTTP 200, failure in "code"
    with pytest.raises(NoSuchEndpoint):
        adapter.read_state(CREDENTIAL, DEVICE_ID)


def test_any_other_400_in_the_body_is_an_invalid_value(adapter, api):
    api.get(f"{BASE}/user/devices", json=DEVICES)  # the brightness range, read once
    api.post(CONTROL, json=failure("Parameter value out of range"))
    with pytest.raises(InvalidValue):
        adapter.execute(CREDENTIAL, DEVICE_ID, Change(brightness=50))


def test_an_offline_device_in_the_body_is_unreachable(adapter, api):
    api.post(CONTROL, json=failure("device offline"))
    with pytest.raises(EndpointUnreachable):
        adapter.execute(CREDENTIAL, DEVICE_ID, Change(on=True))


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, "", InvalidAuthorizationCredential),
        (401, '{"code": 401, "message": "Unauthorized"}', InvalidAuthorizationCredential),
        (403, "", InvalidAuthorizationCredential),
        (404, "", NoSuchEndpoint),
        (400, '{"code": 400, "msg": "devices not exist"}', NoSuchEndpoint),
        (400, "Bad Request", InternalError),
        (500, "", EndpointUnreachable),
        (502, "<html>Bad Gateway</html>", EndpointUnreachable),
        (503, "", EndpointUnreachable),
    ],
    ids=["401", "401-json", "403", "404", "400-json", "400-text", "500", "502", "503"],
)
def test_http_statuses_map_to_typed_errors(adapter, api, status, body, error):
    api.post(STATE, body=body, status=status)
    with pytest.raises(error):
        adapter.read_state(CREDENTIAL, DEVICE_ID)


def test_a_code_401_in_the_body_is_invalid_authorization(adapter, api):
    api.get(f"{BASE}/user/devices", json={"code": 401, "message": "Unauthorized"})
    with pytest.raises(InvalidAuthorizationCredential):
        adapter.list_devices(CREDENTIAL)


def test_429_is_rate_limited_with_retry_after(adapter, api):
    api.post(
        CONTROL,
        body="Too many requests, please try again later",
        status=429,
        content_type="text/plain; charset=utf-8",
        headers=THROTTLED_HEADERS,
    )
    with pytest.raises(RateLimited) as caught:
        adapter.execute(CREDENTIAL, DEVICE_ID, Change(on=True))
    assert caught.value.retry_after == 52.0


def test_429_without_retry_after_waits_for_the_window_that_is_used_up(adapter, api):
    adapter.client._clock = lambda: 1674744609.0
    headers = {k: v for k, v in THROTTLED_HEADERS.items() if k != "Retry-After"}
    api.post(CONTROL, body="Too many requests", status=429, headers=headers)
    with pytest.raises(RateLimited) as caught:
        adapter.execute(CREDENTIAL, DEVICE_ID, Change(on=True))
    assert caught.value.retry_after == 52.0  # API-RateLimit-Reset - now


def test_429_when_the_daily_quota_is_spent(adapter, api):
    adapter.client._clock = lambda: 1674777000.0
    headers = {
        "X-RateLimit-Limit": "10000",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1674777066",
    }
    api.get(f"{BASE}/user/devices", body="Too many requests", status=429, headers=headers)
    with pytest.raises(RateLimited) as caught:
        adapter.list_devices(CREDENTIAL)
    assert caught.value.retry_after == 66.0


def test_429_without_any_hint(adapter, api):
    api.post(STATE, body="Too many requests", status=429)
    with pytest.raises(RateLimited) as caught:
        adapter.read_state(CREDENTIAL, DEVICE_ID)
    assert caught.value.retry_after is None


def test_a_code_429_in_the_body_is_rate_limited(adapter, api):
    api.post(STATE, json=failure("rate limit", code=429), headers={"Retry-After": "7"})
    with pytest.raises(RateLimited) as caught:
        adapter.read_state(CREDENTIAL, DEVICE_ID)
    assert caught.value.retry_after == 7.0


def test_a_5xx_code_in_the_body_is_unreachable(adapter, api):
    api.post(STATE, json=failure("internal error", code=500))
    with pytest.raises(EndpointUnreachable):
        adapter.read_state(CREDENTIAL, DEVICE_ID)


@pytest.mark.parametrize(
    "exception",
    [
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectionError("connection reset"),
    ],
    ids=["connect-timeout", "read-timeout", "connection-error"],
)
def test_network_failures_are_unreachable(adapter, api, exception):
    api.post(CONTROL, body=exception)
    with pytest.raises(EndpointUnreachable):
        adapter.execute(CREDENTIAL, DEVICE_ID, Change(on=True))


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", ""], ids=["malformed", "array", "empty"])
def test_malformed_answers_are_unreachable(adapter, api, body):
    api.post(STATE, body=body, status=200, content_type="application/json")
    with pytest.raises(EndpointUnreachable):
        adapter.read_state(CREDENTIAL, DEVICE_ID)


def test_a_failure_midway_stops_the_sequence(adapter, api):
    api.get(f"{BASE}/user/devices", json=DEVICES)  # the brightness range, read once
    api.post(
        CONTROL,
        json={
            "requestId": "r.1",
            "msg": "success",
            "code": 200,
            "capability": {
                "type": "devices.capabilities.on_off",
                "instance": "powerSwitch",
                "state": {"status": "success"},
                "value": 1,
            },
        },
    )
    api.post(CONTROL, body="Too many requests", status=429, headers={"Retry-After": "40"})
    with pytest.raises(RateLimited):
        adapter.execute(CREDENTIAL, DEVICE_ID, Change(on=True, brightness=40))
    assert len(api.calls) == 3  # the device list, then two controls
