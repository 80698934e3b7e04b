"""Every way the Hue Remote API can fail, each mapped to the project's typed error."""

from __future__ import annotations

import pytest
import requests
from hue_payloads import COLOR_ID, clip, color_light, fault

from skill.bulbs import Change
from skill.errors import (
    BridgeUnreachable,
    EndpointUnreachable,
    ExpiredAuthorizationCredential,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidValue,
    NoSuchEndpoint,
    RateLimited,
)

# Each operation, with the request that is its first call.
OPERATIONS = {
    "identify_user": (lambda a, t: a.identify_user(t), "GET", "bridge"),
    "list_devices": (lambda a, t: a.list_devices(t), "GET", "light"),
    "read_state": (lambda a, t: a.read_state(t, COLOR_ID), "GET", f"light/{COLOR_ID}"),
    "execute": (lambda a, t: a.execute(t, COLOR_ID, Change(on=True)), "PUT", f"light/{COLOR_ID}"),
}

HTTP_FAILURES = [
    (
        401,
        fault("Invalid Access Token", "keymanagement.service.invalid_access_token"),
        InvalidAuthorizationCredential,
    ),
    (
        401,
        fault("Access Token expired", "keymanagement.service.access_token_expired"),
        ExpiredAuthorizationCredential,
    ),
    (401, clip([], ["unauthorized user"]), InvalidAuthorizationCredential),
    (403, clip([], ["Forbidden"]), InvalidAuthorizationCredential),
    (404, clip([], ["Not Found"]), NoSuchEndpoint),
    (400, clip([], ["body (.on.on) is not a boolean"]), InvalidValue),
    (405, clip([], ["Method Not Allowed"]), InternalError),
    (409, clip([], ["Conflict"]), InternalError),
    (500, clip([], ["Internal Server Error"]), EndpointUnreachable),
    (502, None, EndpointUnreachable),
    (507, clip([], ["Insufficient Storage"]), EndpointUnreachable),
    (503, clip([], ["Service Unavailable"]), BridgeUnreachable),
    (
        504,
        fault("Gateway Timeout", "messaging.adaptors.http.flow.GatewayTimeout"),
        BridgeUnreachable,
    ),
]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(
    ("status", "body", "expected"),
    HTTP_FAILURES,
    ids=[f"{s}-{e.__name__}" for s, _, e in HTTP_FAILURES],
)
def test_http_failures_map_to_typed_errors(
    adapter, vendor, credential, operation, status, body, expected
):
    call, method, resource = OPERATIONS[operation]
    if body is None:
        vendor.answer(method, resource, status=status, body="<html>502 Bad Gateway</html>")
    else:
        vendor.answer(method, resource, status=status, json=body)
    with pytest.raises(expected) as raised:
        call(adapter, credential)
    assert type(raised.value) is expected


def test_an_offline_bridge_is_retryable(adapter, vendor, credential) -> None:
    vendor.answer("GET", "light", status=503, json=clip([], ["Service Unavailable"]))
    with pytest.raises(BridgeUnreachable) as raised:
        adapter.list_devices(credential)
    assert raised.value.retryable


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
    call, method, resource = OPERATIONS[operation]
    vendor.answer(method, resource, body=exception)
    with pytest.raises(EndpointUnreachable) as raised:
        call(adapter, credential)
    assert raised.value.retryable


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(
    "body",
    [
        '{"errors": [], "data": [',
        "<html>maintenance</html>",
        "[]",
        '{"data": {"id": 1}}',
        '{"errors": [], "data": [42]}',
    ],
    ids=["truncated", "html", "array", "data-not-a-list", "data-not-resources"],
)
def test_malformed_bodies_are_endpoint_unreachable(adapter, vendor, credential, operation, body):
    call, method, resource = OPERATIONS[operation]
    vendor.answer(method, resource, status=200, body=body, content_type="application/json")
    with pytest.raises(EndpointUnreachable):
        call(adapter, credential)


def test_a_light_in_an_undocumented_shape_is_endpoint_unreachable(
    adapter, vendor, credential
) -> None:
    vendor.get(f"light/{COLOR_ID}", clip([color_light(on={"state": "on"})]))
    vendor.get("zigbee_connectivity", clip([]))
    with pytest.raises(EndpointUnreachable):
        adapter.read_state(credential, COLOR_ID)


def test_lights_in_an_undocumented_shape_are_endpoint_unreachable(
    adapter, vendor, credential
) -> None:
    vendor.get("light", clip([{"type": "light", "metadata": {"name": "no id"}}]))
    vendor.get("device", clip([]))
    with pytest.raises(EndpointUnreachable):
        adapter.list_devices(credential)


def test_failure_of_the_connectivity_read_is_mapped_too(adapter, vendor, credential) -> None:
    vendor.get(f"light/{COLOR_ID}", clip([color_light()]))
    vendor.answer("GET", "zigbee_connectivity", body=requests.exceptions.ReadTimeout())
    with pytest.raises(EndpointUnreachable):
        adapter.read_state(credential, COLOR_ID)


def test_a_bridge_without_zigbee_connectivity_resources_still_reads(adapter, vendor, credential):
    vendor.get(f"light/{COLOR_ID}", clip([color_light()]))
    vendor.get("zigbee_connectivity", clip([], ["Not Found"]), status=404)
    assert adapter.read_state(credential, COLOR_ID).reachable is True


def test_an_empty_answer_for_one_light_is_no_such_endpoint(adapter, vendor, credential) -> None:
    vendor.get(f"light/{COLOR_ID}", clip([]))
    with pytest.raises(NoSuchEndpoint):
        adapter.read_state(credential, COLOR_ID)


# -- rate limits ---------------------------------------------------------------------------------


def test_429_carries_retry_after_seconds(adapter, vendor, credential) -> None:
    vendor.get("light", clip([], ["Too Many Requests"]), status=429, headers={"Retry-After": "2"})
    with pytest.raises(RateLimited) as raised:
        adapter.list_devices(credential)
    assert raised.value.retry_after == 2 and raised.value.retryable


def test_429_from_the_cloud_quota_without_a_hint(adapter, vendor, credential) -> None:
    body = fault(
        "Rate limit quota violation. Quota limit  exceeded.", "policies.ratelimit.QuotaViolation"
    )
    vendor.put(f"light/{COLOR_ID}", body, status=429)
    with pytest.raises(RateLimited) as raised:
        adapter.execute(credential, COLOR_ID, Change(on=True))
    assert raised.value.retry_after is None


def test_429_with_an_http_date_retry_after(adapter, vendor, credential) -> None:
    adapter._client._clock = lambda: 1_700_000_000.0  # 2023-11-14T22:13:20Z
    vendor.get(
        "bridge",
        clip([], ["Too Many Requests"]),
        status=429,
        headers={"Retry-After": "Tue, 14 Nov 2023 22:13:25 GMT"},
    )
    with pytest.raises(RateLimited) as raised:
        adapter.identify_user(credential)
    assert raised.value.retry_after == 5
