"""The project's adapter conformance kit (``skill.testing``) against the Hue adapter.

The Hue Remote API is answered by ``responses`` with the documented bodies of ``hue_payloads``:
the remote route's 401 ``fault`` for a refused token, CLIP v2's 404 for an unknown light, 503
(the cloud cannot reach the bridge), 429 and timeouts at the HTTP level. ``OFFLINE`` is not
claimed: for a light it cannot reach, the bridge *accepts* the command and adds a warning
("communication issues ... may not have effect"), which the adapter reports as accepted (see
test_hue_fidelity); the light then reads as unreachable through ``zigbee_connectivity``. A
command's own failures are staged on its ``PUT``; a refused token and an unknown light on every
request, as Hue answers them.
(Module name carries the vendor: every adapter's tests share one pytest session.)
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses

from skill.plugins import OAuthToken
from skill.testing import (
    STANDARD_FAILURES,
    AdapterConformance,
    AdapterScenario,
    Failure,
    Operation,
    VendorCall,
)
from skill.testing import responses_vendor

from bulb_skill_hue import HueAdapter
from hue_payloads import (
    AMBIANCE_ID,
    APP_KEY,
    CLIP,
    COLOR_ID,
    PLUG_ID,
    WHITE_ID,
    bridge,
    clip,
    connectivity,
    devices,
    fault,
    lights,
    put_ok,
)

INVALID_CREDENTIAL = OAuthToken.bearer("revoked0access0token0000000000", application_key=APP_KEY)
UNKNOWN_ID = "00000000-0000-4000-8000-0000000000ff"
LIGHTS: dict[str, dict[str, Any]] = {light["id"]: light for light in lights()}

#: Failures Hue answers on any request (the token check, an unknown resource id).
_EVERYWHERE = {Failure.UNAUTHORIZED, Failure.NOT_FOUND}


def _answer(mock: responses.RequestsMock, method: str, url: str, failure: Failure) -> None:
    if failure is Failure.UNAUTHORIZED:
        body = fault("Invalid Access Token", "keymanagement.service.invalid_access_token")
        mock.add(method, url, json=body, status=401)
    elif failure is Failure.NOT_FOUND:
        mock.add(method, url, json=clip([], ["Not Found"]), status=404)
    elif failure is Failure.SERVER_ERROR:
        mock.add(method, url, json=clip([], ["Service Unavailable"]), status=503)
    elif failure is Failure.RATE_LIMITED:
        mock.add(method, url, json=clip([], ["Too Many Requests"]), status=429,
                 headers={"Retry-After": "2"})
    elif failure is Failure.TIMEOUT:
        mock.add(method, url, body=requests.exceptions.ReadTimeout("read timed out"))


def _plan(call: VendorCall) -> list[tuple[str, str, Any]]:
    """The requests an operation may make, with Hue's answers when all is well."""
    if call.operation is Operation.IDENTIFY_USER:
        return [("GET", f"{CLIP}/bridge", clip([bridge()]))]
    if call.operation is Operation.LIST_DEVICES:
        return [
            ("GET", f"{CLIP}/light", clip(lights())),
            ("GET", f"{CLIP}/device", clip(devices())),
        ]
    light = LIGHTS.get(call.device_id or "")
    read = ("GET", f"{CLIP}/light/{call.device_id}", clip([light] if light else []))
    if call.operation is Operation.READ_STATE:
        owners = [lt["owner"]["rid"] for lt in LIGHTS.values()]
        links = clip([connectivity(owner) for owner in owners])
        return [read, ("GET", f"{CLIP}/zigbee_connectivity", links)]
    return [read, ("PUT", f"{CLIP}/light/{call.device_id}", put_ok(call.device_id or ""))]


def stage(mock: responses.RequestsMock, call: VendorCall) -> None:
    failure = call.failure
    if call.credential == INVALID_CREDENTIAL:
        failure = Failure.UNAUTHORIZED
    elif call.device_id == UNKNOWN_ID:
        failure = Failure.NOT_FOUND
    plan = _plan(call)
    for index, (method, url, body) in enumerate(plan):
        fails = failure is not None and (
            failure in _EVERYWHERE
            or call.operation is not Operation.EXECUTE
            or index == len(plan) - 1  # a command's failures come from its PUT
        )
        if fails:
            assert failure is not None
            _answer(mock, method, url, failure)
        else:
            mock.add(method, url, json=body)


class TestHueConforms(AdapterConformance):
    @pytest.fixture
    def scenario(self, adapter: HueAdapter, credential: OAuthToken) -> AdapterScenario:
        return AdapterScenario(
            adapter=adapter,
            credential=credential,
            invalid_credential=INVALID_CREDENTIAL,
            vendor=responses_vendor(stage),
            color_device=COLOR_ID,
            white_device=WHITE_ID,
            tunable_device=AMBIANCE_ID,
            devices=[COLOR_ID, AMBIANCE_ID, WHITE_ID, PLUG_ID],
            unknown_device=UNKNOWN_ID,
            failures=set(STANDARD_FAILURES),
        )
