"""The LIFX adapter: the ``skill.plugins.Adapter`` operations over the LIFX HTTP API."""

from __future__ import annotations

import re
from typing import Any

from skill.bulbs import BulbState, Change
from skill.errors import EndpointUnreachable, NoSuchEndpoint
from skill.plugins import Accepted, AdapterContext, Device, Style

from bulb_skill_lifx._client import DEFAULT_BASE_URL, LifxClient
from bulb_skill_lifx._mapping import (
    Light,
    account_id,
    applied,
    device_of,
    features_of,
    set_state_body,
    state_of,
)

#: LIFX light ids are the bulb's serial (12 hex digits); anything else cannot be one.
_LIGHT_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")


class LifxAdapter:
    """LIFX bulbs through https://api.lifx.com/v1, ``sync`` style.

    ``execute`` costs two requests (read the light, then ``PUT .../state`` with ``fast: false``)
    and returns the state LIFX confirmed: the prior state with the request applied. See the
    package README for why this beats write-then-read under LIFX's 120 requests / 60 s limit.

    Example::

        adapter = LifxAdapter(LifxClient("https://api.lifx.com/v1", timeout=(2.0, 3.0)))
        for device in adapter.list_devices(token):
            print(device.id, adapter.read_state(token, device.id))
    """

    name = "lifx"
    style = Style.SYNC

    def __init__(self, client: LifxClient) -> None:
        self._client = client

    def identify_user(self, token: str) -> str:
        user = account_id(self._lights(token))
        if user is None:
            raise NoSuchEndpoint("this LIFX account has no lights to identify it by; add one")
        return user

    def list_devices(self, token: str) -> list[Device]:
        # Lights LIFX sees as disconnected are listed too: they are the user's, only offline.
        try:
            return [device_of(light) for light in self._lights(token)]
        except (AttributeError, TypeError, ValueError) as exc:
            raise EndpointUnreachable(
                f"LIFX listed a light in an unexpected shape: {exc!r}"
            ) from exc

    def read_state(self, token: str, device_id: str) -> BulbState:
        return state_of(self._light(token, device_id))

    def execute(self, token: str, device_id: str, change: Change) -> BulbState | Accepted:
        light = self._light(token, device_id)
        before, features = state_of(light), features_of(light)
        if change.is_empty():
            return before
        body = set_state_body(change, features)
        answer = self._client.request(
            "PUT", f"/lights/{_selector(device_id)}/state", token, json=body
        )
        _require_ok(answer, device_id)
        return applied(before, change, features)

    # -- helpers -------------------------------------------------------------------------------

    def _lights(self, token: str, selector: str = "all") -> list[Light]:
        lights = self._client.request("GET", f"/lights/{selector}", token)
        if not isinstance(lights, list) or not all(
            isinstance(light, dict) and light.get("id") for light in lights
        ):
            raise EndpointUnreachable("LIFX listed lights in an unexpected shape")
        return lights

    def _light(self, token: str, device_id: str) -> Light:
        for light in self._lights(token, _selector(device_id)):
            if str(light["id"]).lower() == device_id.lower():
                return light
        raise NoSuchEndpoint(f"LIFX has no light {device_id!r} in this account")


def _selector(device_id: str) -> str:
    if not _LIGHT_ID.match(device_id):
        raise NoSuchEndpoint(f"{device_id[:64]!r} is not a LIFX light id")
    return f"id:{device_id}"


def _require_ok(answer: Any, device_id: str) -> None:
    """Read the 207 multi-status body: ``ok`` or the light did not take the command.

    https://api.developer.lifx.com/docs/reachability: ``timed_out`` (LIFX got no
    acknowledgement) and ``offline`` (powered off or not connected) are both unreachable.
    """
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list):
        raise EndpointUnreachable("LIFX answered set-state without results")
    mine = [
        r
        for r in results
        if isinstance(r, dict) and str(r.get("id", "")).lower() == device_id.lower()
    ]
    if not mine:
        raise EndpointUnreachable(f"LIFX did not report on light {device_id!r}")
    status = mine[0].get("status")
    if status != "ok":
        raise EndpointUnreachable(f"LIFX light {device_id!r} did not take the command: {status}")


def create(ctx: AdapterContext) -> LifxAdapter:
    """The ``bulb_skill.adapters`` entry point: ``LIFX_BASE_URL`` overrides the API root."""
    base_url = ctx.setting("BASE_URL") or DEFAULT_BASE_URL
    read = float(ctx.timeout_seconds)
    return LifxAdapter(LifxClient(base_url, timeout=(min(2.0, read), read)))
