"""The project's adapter conformance kit (``skill.testing``) against the LIFX adapter.

LIFX is answered by ``responses`` with the documented bodies of ``lifx_payloads``: 401 for a
refused token, 404 ``Could not find id:...`` for an unknown light, a 207 ``offline`` result for
an offline one, 5xx / 429 (``X-RateLimit-*``) / timeouts at the HTTP level. ``execute`` reads
the light first, then ``PUT``s its state: failures of the vendor's side of a command are staged
on the ``PUT``, a refused token and an unknown light on the first request, as LIFX answers them.
(Module name carries the vendor: every adapter's tests share one pytest session.)
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses

from skill.plugins import OAuthToken
from skill.testing import AdapterConformance, AdapterScenario, Failure, Operation, VendorCall
from skill.testing import responses_vendor

from bulb_skill_lifx import LifxAdapter
from lifx_payloads import (
    BASE,
    COLOR_ID,
    NOW,
    OFFLINE_ID,
    WARM_ID,
    WHITE_ID,
    all_lights,
    error,
    rate_headers,
    results,
)

INVALID_CREDENTIAL = OAuthToken.bearer("0" * 64)
UNKNOWN_ID = "d073d5ffffff"
LIGHTS: dict[str, dict[str, Any]] = {light["id"]: light for light in all_lights()}

#: The failures LIFX answers on the first request of an operation, whatever it is.
_ON_FIRST_REQUEST = {Failure.UNAUTHORIZED, Failure.NOT_FOUND}


def _failure(mock: responses.RequestsMock, method: str, url: str, failure: Failure) -> None:
    if failure is Failure.UNAUTHORIZED:
        mock.add(method, url, json=error("Invalid bearer token"), status=401)
    elif failure is Failure.NOT_FOUND:
        device = url.rsplit("id:", 1)[-1].removesuffix("/state")
        mock.add(method, url, json=error(f"Could not find id:{device}."), status=404)
    elif failure is Failure.SERVER_ERROR:
        mock.add(method, url, body="<html>Bad Gateway</html>", status=502)
    elif failure is Failure.RATE_LIMITED:
        mock.add(method, url, json=error("Too Many Requests"), status=429,
                 headers=rate_headers(remaining=0, reset=int(NOW) + 30))
    elif failure is Failure.TIMEOUT:
        mock.add(method, url, body=requests.exceptions.ReadTimeout("read timed out"))
    elif failure is Failure.OFFLINE:
        device = url.rsplit("id:", 1)[-1].removesuffix("/state")
        mock.add(method, url, json=results(device, "offline"), status=207)


def stage(mock: responses.RequestsMock, call: VendorCall) -> None:
    failure = call.failure
    if call.credential == INVALID_CREDENTIAL:
        failure = Failure.UNAUTHORIZED
    elif call.device_id == UNKNOWN_ID:
        failure = Failure.NOT_FOUND
    if call.operation in (Operation.IDENTIFY_USER, Operation.LIST_DEVICES):
        plan = [("GET", f"{BASE}/lights/all", all_lights())]
    else:
        selector = f"{BASE}/lights/id:{call.device_id}"
        light = LIGHTS.get(call.device_id or "")
        plan = [("GET", selector, [light] if light else [])]
        if call.operation is Operation.EXECUTE:
            plan.append(("PUT", f"{selector}/state", results(call.device_id or "")))
    failing = 0 if failure in _ON_FIRST_REQUEST else len(plan) - 1
    for index, (method, url, body) in enumerate(plan):
        if failure is not None and index == failing:
            _failure(mock, method, url, failure)
            return  # nothing after a failed request is sent
        mock.add(method, url, json=body, status=207 if method == "PUT" else 200)


class TestLifxConforms(AdapterConformance):
    @pytest.fixture
    def scenario(self, adapter: LifxAdapter, credential: OAuthToken) -> AdapterScenario:
        return AdapterScenario(
            adapter=adapter,
            credential=credential,
            invalid_credential=INVALID_CREDENTIAL,
            vendor=responses_vendor(stage),
            color_device=COLOR_ID,
            white_device=WHITE_ID,
            tunable_device=WARM_ID,
            devices=[COLOR_ID, WHITE_ID, WARM_ID, OFFLINE_ID],
            unknown_device=UNKNOWN_ID,
            failures=set(Failure),
        )
