"""The project's adapter conformance kit (``bulb_skill_kit``) against the Hue adapter.

The Hue Remote API is answered by ``responses`` with the documented bodies of ``hue_payloads``:
the remote route's 401 ``fault`` for a refused token (``access_token_expired`` for an expired
one), CLIP v2's 404 for an unknown light, 503 (the cloud cannot reach the bridge), 429 and
timeouts at the HTTP level. ``OFFLINE`` is claimed for reads and discovery only: for a light it
cannot reach, the bridge *accepts* a command and adds a warning ("communication issues ... may
not have effect"), which the adapter reports as accepted (see test_hue_fidelity); the light reads
as unreachable through ``zigbee_connectivity`` and is still listed. The lights live in a
``HueBridge`` that applies each ``PUT`` as CLIP v2 documents it, so the kit's command loop sees
what a user would. A command's own failures are staged on its ``PUT``; a refused token and an
unknown light on every request, as Hue answers them.
(Module name carries the vendor: every adapter's tests share one pytest session.)
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import requests
import responses
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

from bulb_skill_hue import HueAdapter
from bulb_skill_kit import (
    STANDARD_FAILURES,
    AdapterConformance,
    AdapterScenario,
    Failure,
    Operation,
    VendorCall,
    responses_vendor,
)
from skill.plugins import OAuthToken

INVALID_CREDENTIAL = OAuthToken.bearer("revoked0access0token0000000000", application_key=APP_KEY)
UNKNOWN_ID = "00000000-0000-4000-8000-0000000000ff"

#: Failures Hue answers on any request (the token check, an unknown resource id).
_EVERYWHERE = {Failure.UNAUTHORIZED, Failure.NOT_FOUND, Failure.EXPIRED}


class HueBridge:
    """The account's bridge as the remote API shows it: lights in a dict, each ``PUT`` applied as
    CLIP v2 documents it (``on.on``, ``dimming.brightness``, ``color.xy`` clearing the mirek,
    ``color_temperature.mirek``), so reads after a command show it."""

    def __init__(self) -> None:
        self.lights: dict[str, dict[str, Any]] = {light["id"]: light for light in lights()}

    def listed(self, without: str | None = None) -> dict[str, Any]:
        return clip([copy.deepcopy(v) for k, v in self.lights.items() if k != without])

    def light(self, light_id: str | None) -> dict[str, Any]:
        light = self.lights.get(light_id or "")
        return clip([copy.deepcopy(light)] if light else [])

    def put(self, request: Any) -> tuple[int, dict[str, str], str]:
        light_id = request.url.rsplit("/", 1)[-1]
        light, sent = self.lights[light_id], json.loads(request.body)
        if "on" in sent:
            light["on"] = {"on": bool(sent["on"]["on"])}
        if "dimming" in sent:
            light["dimming"]["brightness"] = float(sent["dimming"]["brightness"])
        if "color" in sent:
            light["color"]["xy"] = dict(sent["color"]["xy"])
            if "color_temperature" in light:
                light["color_temperature"]["mirek"] = None
                light["color_temperature"]["mirek_valid"] = False
        if "color_temperature" in sent:
            light["color_temperature"]["mirek"] = int(sent["color_temperature"]["mirek"])
            light["color_temperature"]["mirek_valid"] = True
        return 200, {}, json.dumps(put_ok(light_id))


def _answer(mock: responses.RequestsMock, method: str, url: str, failure: Failure) -> None:
    if failure is Failure.UNAUTHORIZED:
        body = fault("Invalid Access Token", "keymanagement.service.invalid_access_token")
        mock.add(method, url, json=body, status=401)
    elif failure is Failure.EXPIRED:
        body = fault("Access Token expired", "keymanagement.service.access_token_expired")
        mock.add(method, url, json=body, status=401)
    elif failure is Failure.NOT_FOUND:
        mock.add(method, url, json=clip([], ["Not Found"]), status=404)
    elif failure is Failure.SERVER_ERROR:
        mock.add(method, url, json=clip([], ["Service Unavailable"]), status=503)
    elif failure is Failure.RATE_LIMITED:
        mock.add(
            method,
            url,
            json=clip([], ["Too Many Requests"]),
            status=429,
            headers={"Retry-After": "2"},
        )
    elif failure is Failure.TIMEOUT:
        mock.add(method, url, body=requests.exceptions.ReadTimeout("read timed out"))


def _links(offline: str | None = None) -> dict[str, Any]:
    owners = {lt["id"]: lt["owner"]["rid"] for lt in lights()}
    return clip(
        [
            connectivity(owner, "disconnected" if light_id == offline else "connected")
            for light_id, owner in owners.items()
        ]
    )


def staging(bridge_: HueBridge) -> Any:
    def stage(mock: responses.RequestsMock, call: VendorCall) -> None:
        failure = call.failure
        if call.credential == INVALID_CREDENTIAL:
            failure = Failure.UNAUTHORIZED
        elif call.device_id == UNKNOWN_ID:
            failure = Failure.NOT_FOUND
        if call.operation is Operation.LIST_DEVICES and failure in (
            Failure.NOT_FOUND,
            Failure.OFFLINE,
        ):
            gone = call.device_id if failure is Failure.NOT_FOUND else None
            mock.add("GET", f"{CLIP}/light", json=bridge_.listed(without=gone))
            mock.add("GET", f"{CLIP}/device", json=clip(devices()))
            return
        if call.operation is Operation.READ_STATE and failure is Failure.OFFLINE:
            mock.add("GET", f"{CLIP}/light/{call.device_id}", json=bridge_.light(call.device_id))
            mock.add("GET", f"{CLIP}/zigbee_connectivity", json=_links(offline=call.device_id))
            return
        if call.operation is Operation.READ_ALL:  # GET /resource: every resource at once

            def everything(request: Any) -> tuple[int, dict[str, str], str]:
                data = bridge_.listed()["data"] + devices() + _links()["data"] + [bridge()]
                return 200, {}, json.dumps(clip(data))

            mock.add_callback("GET", CLIP, callback=everything)
            return
        if call.operation is Operation.IDENTIFY_USER:
            plan: list[tuple[str, str, Any]] = [("GET", f"{CLIP}/bridge", clip([bridge()]))]
        elif call.operation is Operation.LIST_DEVICES:
            plan = [
                ("GET", f"{CLIP}/light", bridge_.listed),
                ("GET", f"{CLIP}/device", clip(devices())),
            ]
        else:
            read = ("GET", f"{CLIP}/light/{call.device_id}", lambda: bridge_.light(call.device_id))
            if call.operation is Operation.READ_STATE:
                plan = [read, ("GET", f"{CLIP}/zigbee_connectivity", _links())]
            else:
                plan = [read, ("PUT", f"{CLIP}/light/{call.device_id}", bridge_.put)]
        for index, (method, url, body) in enumerate(plan):
            fails = failure is not None and (
                failure in _EVERYWHERE
                or call.operation is not Operation.EXECUTE
                or index == len(plan) - 1  # a command's failures come from its PUT
            )
            if fails:
                assert failure is not None
                _answer(mock, method, url, failure)
            elif method == "PUT":
                mock.add_callback(method, url, callback=body)
            elif callable(body):
                mock.add_callback(
                    method, url, callback=lambda r, b=body: (200, {}, json.dumps(b()))
                )
            else:
                mock.add(method, url, json=body)

    return stage


class TestHueConforms(AdapterConformance):
    @pytest.fixture
    def scenario(self, adapter: HueAdapter, credential: OAuthToken) -> AdapterScenario:
        return AdapterScenario(
            adapter=adapter,
            credential=credential,
            invalid_credential=INVALID_CREDENTIAL,
            vendor=responses_vendor(staging(HueBridge())),
            color_device=COLOR_ID,
            white_device=WHITE_ID,
            tunable_device=AMBIANCE_ID,
            devices=[COLOR_ID, AMBIANCE_ID, WHITE_ID, PLUG_ID],
            unknown_device=UNKNOWN_ID,
            # Hue says a light is offline when it is read (zigbee_connectivity) and still lists
            # it; a command to it is accepted with a warning (test_hue_fidelity), not refused.
            failures={
                *STANDARD_FAILURES,
                Failure.EXPIRED,
                (Operation.READ_STATE, Failure.OFFLINE),
                (Operation.LIST_DEVICES, Failure.OFFLINE),
            },
            stateful=True,
            # a refreshed token for the same bridge: the account (the bridge) is the same
            rotated_credential=OAuthToken.bearer(
                "bm90LXRoZS1zYW1lLXRva2Vu", application_key=APP_KEY
            ),
        )
