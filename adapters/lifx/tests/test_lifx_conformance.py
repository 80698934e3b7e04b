"""The project's adapter conformance kit (``bulb_skill_kit``) against the LIFX adapter.

LIFX is answered by ``responses`` with the documented bodies of ``lifx_payloads``: 401 for a
refused (or expired) token, 404 ``Could not find id:...`` for an unknown light, a 207
``offline`` result for an offline one (``connected: false`` when it is read or listed), 5xx /
429 (``X-RateLimit-*``) / timeouts at the HTTP level. The lights live in a ``LifxCloud`` that
applies each ``PUT .../state`` as LIFX documents it, so the kit's command loop sees what a user
would. ``execute`` reads the light first (unless the core hands it the state it just read), then
``PUT``s its state: failures of the vendor's side of a command are staged on the ``PUT``, a
refused token and an unknown light on the first request, as LIFX answers them.
(Module name carries the vendor: every adapter's tests share one pytest session.)
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses
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

from bulb_skill_kit import (
    AdapterConformance,
    AdapterScenario,
    Failure,
    Operation,
    VendorCall,
    responses_vendor,
)
from bulb_skill_lifx import LifxAdapter
from skill.plugins import OAuthToken

INVALID_CREDENTIAL = OAuthToken.bearer("0" * 64)
UNKNOWN_ID = "d073d5ffffff"

#: The failures LIFX answers on the first request of an operation, whatever it is (an expired
#: token is a 401 like a revoked one: LIFX does not tell them apart).
_ON_FIRST_REQUEST = {Failure.UNAUTHORIZED, Failure.NOT_FOUND, Failure.EXPIRED}


class LifxCloud:
    """The account's lights as LIFX keeps them; ``PUT .../state`` changes them as LIFX documents
    (``power``, ``brightness`` 0-1, ``color`` ``"hue:<h> saturation:<s>"`` keeping kelvin, or
    ``"kelvin:<k>"`` setting saturation to 0), so reads after a command show it."""

    def __init__(self) -> None:
        self.lights: dict[str, dict[str, Any]] = {light["id"]: light for light in all_lights()}

    def listed(
        self, without: str | None = None, offline: str | None = None
    ) -> list[dict[str, Any]]:
        lights = [copy.deepcopy(light) for i, light in self.lights.items() if i != without]
        for light in lights:
            if light["id"] == offline:
                light["connected"] = False
        return lights

    def set_state(self, request: Any) -> tuple[int, dict[str, str], str]:
        light_id = request.url.rsplit("id:", 1)[-1].removesuffix("/state")
        light, sent = self.lights[light_id], json.loads(request.body)
        if "power" in sent:
            light["power"] = sent["power"]
        if "brightness" in sent:
            light["brightness"] = float(sent["brightness"])
        colour = sent.get("color")
        if isinstance(colour, str):
            fields = dict(part.split(":", 1) for part in colour.split())
            if "kelvin" in fields:
                light["color"] = {
                    **light["color"],
                    "kelvin": int(fields["kelvin"]),
                    "saturation": 0,
                }
            if "hue" in fields:
                light["color"]["hue"] = float(fields["hue"])
            if "saturation" in fields:
                light["color"]["saturation"] = float(fields["saturation"])
        return 207, {}, json.dumps(results(light_id))


def _failure(mock: responses.RequestsMock, method: str, url: str, failure: Failure) -> None:
    if failure in (Failure.UNAUTHORIZED, Failure.EXPIRED):
        mock.add(method, url, json=error("Invalid bearer token"), status=401)
    elif failure is Failure.NOT_FOUND:
        device = url.rsplit("id:", 1)[-1].removesuffix("/state")
        mock.add(method, url, json=error(f"Could not find id:{device}."), status=404)
    elif failure is Failure.SERVER_ERROR:
        mock.add(method, url, body="<html>Bad Gateway</html>", status=502)
    elif failure is Failure.RATE_LIMITED:
        mock.add(
            method,
            url,
            json=error("Too Many Requests"),
            status=429,
            headers=rate_headers(remaining=0, reset=int(NOW) + 30),
        )
    elif failure is Failure.TIMEOUT:
        mock.add(method, url, body=requests.exceptions.ReadTimeout("read timed out"))
    elif failure is Failure.OFFLINE:
        device = url.rsplit("id:", 1)[-1].removesuffix("/state")
        mock.add(method, url, json=results(device, "offline"), status=207)


def staging(cloud: LifxCloud) -> Callable[[responses.RequestsMock, VendorCall], None]:
    def stage(mock: responses.RequestsMock, call: VendorCall) -> None:
        failure = call.failure
        if call.credential == INVALID_CREDENTIAL:
            failure = Failure.UNAUTHORIZED
        elif call.device_id == UNKNOWN_ID:
            failure = Failure.NOT_FOUND
        if call.operation in (Operation.IDENTIFY_USER, Operation.LIST_DEVICES, Operation.READ_ALL):
            url = f"{BASE}/lights/all"
            if failure in (Failure.NOT_FOUND, Failure.OFFLINE) and call.device_id:
                # one light removed from the account, or unplugged: the list says so
                gone = call.device_id if failure is Failure.NOT_FOUND else None
                offline = call.device_id if failure is Failure.OFFLINE else None
                mock.add("GET", url, json=cloud.listed(without=gone, offline=offline))
            elif failure is not None:
                _failure(mock, "GET", url, failure)
            else:
                mock.add_callback(
                    "GET", url, callback=lambda r: (200, {}, json.dumps(cloud.listed()))
                )
            return
        selector = f"{BASE}/lights/id:{call.device_id}"
        light = cloud.lights.get(call.device_id or "")
        if call.operation is Operation.READ_STATE and failure is Failure.OFFLINE:
            assert light is not None
            mock.add("GET", selector, json=[{**copy.deepcopy(light), "connected": False}])
            return
        plan = ["GET"] + (["PUT"] if call.operation is Operation.EXECUTE else [])
        failing = 0 if failure in _ON_FIRST_REQUEST else len(plan) - 1
        for index, method in enumerate(plan):
            url = f"{selector}/state" if method == "PUT" else selector
            if failure is not None and index == failing:
                _failure(mock, method, url, failure)
                return  # nothing after a failed request is sent
            if method == "GET":
                mock.add_callback(
                    "GET",
                    url,
                    callback=lambda r: (
                        200,
                        {},
                        json.dumps([copy.deepcopy(light)] if light else []),
                    ),
                )
            else:
                mock.add_callback("PUT", url, callback=cloud.set_state)

    return stage


class TestLifxConforms(AdapterConformance):
    @pytest.fixture
    def scenario(self, adapter: LifxAdapter, credential: OAuthToken) -> AdapterScenario:
        cloud = LifxCloud()
        return AdapterScenario(
            adapter=adapter,
            credential=credential,
            invalid_credential=INVALID_CREDENTIAL,
            vendor=responses_vendor(staging(cloud)),
            color_device=COLOR_ID,
            white_device=WHITE_ID,
            tunable_device=WARM_ID,
            devices=[COLOR_ID, WHITE_ID, WARM_ID, OFFLINE_ID],
            unknown_device=UNKNOWN_ID,
            failures=set(Failure),
            stateful=True,
            # LIFX's OAuth refresh may hand out a new access token: the account is the same
            rotated_credential=OAuthToken.bearer("f" * 64, refresh_token="e" * 64),
        )
