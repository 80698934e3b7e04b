"""A good adapter for an imaginary polling vendor, and its vendor as a
``bulb_skill_kit.VendorStub``: the kit's own reference, which its mutants (``test_kit_mutants``)
break one way each.

Acme Cloud (style ``polling``: a command is accepted, the bulb shows it a moment later):

    GET  /me                  -> {"account": "acc_42"}
    GET  /lamps               -> {"lamps": [{"id", "label", "dimmable", "color",
                                             "kelvin_min", "kelvin_max"}]}
    GET  /lamps/{id}          -> {"id", "power": "on" | "off", "level": 0-100, "hue": 0-360,
                                  "sat": 0-1000, "kelvin": int, "mode": "color" | "white",
                                  "online": bool}
    POST /lamps/{id}/commands {"power"?, "level"?, "hue"?, "sat"?, "kelvin"?}
                              -> 202 {"command_id"}; 409 {"error": "offline"}
    errors: 401 bad key, 404 unknown lamp, 429 + Retry-After, 5xx

Saturation is 0-1000 on the wire (Alexa's is 0-1): the conversion a careless adapter gets wrong.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from typing import Any
from urllib.parse import quote

import requests

from bulb_skill_kit import (
    AdapterScenario,
    Failure,
    Operation,
    StubAnswer,
    StubRequest,
    VendorCall,
    VendorStub,
)
from skill.bulbs import BulbState, Change, Color, Features, KelvinRange
from skill.errors import EndpointUnreachable, InvalidAuthorizationCredential, SkillError
from skill.plugins import (
    Accepted,
    AdapterContext,
    AnyCredential,
    ApiKey,
    CredentialKind,
    Device,
    Style,
    VendorTransport,
)

BASE = "https://acme.test/v1"
CREDENTIAL = ApiKey.of("acme-good-key-0123456789")
INVALID = ApiKey.of("acme-revoked-key-9876543210")
COLOUR, WHITE, TUNABLE, UNKNOWN = "lamp-1", "lamp-2", "lamp-3", "lamp-404"
SATURATION_SCALE = 1000

LAMPS = [
    {
        "id": COLOUR,
        "label": "Desk",
        "dimmable": True,
        "color": True,
        "kelvin_min": 2200,
        "kelvin_max": 6500,
    },
    {
        "id": WHITE,
        "label": "Hall",
        "dimmable": True,
        "color": False,
        "kelvin_min": None,
        "kelvin_max": None,
    },
    {
        "id": TUNABLE,
        "label": "Bedroom",
        "dimmable": True,
        "color": False,
        "kelvin_min": 2700,
        "kelvin_max": 6500,
    },
]
STATES = {
    COLOUR: {
        "id": COLOUR,
        "power": "on",
        "level": 80,
        "hue": 30,
        "sat": 1000,
        "kelvin": 4000,
        "mode": "color",
        "online": True,
    },
    WHITE: {
        "id": WHITE,
        "power": "off",
        "level": 100,
        "hue": 0,
        "sat": 0,
        "kelvin": 2700,
        "mode": "white",
        "online": True,
    },
    TUNABLE: {
        "id": TUNABLE,
        "power": "on",
        "level": 60,
        "hue": 0,
        "sat": 0,
        "kelvin": 3000,
        "mode": "white",
        "online": True,
    },
}


# -- the adapter -------------------------------------------------------------------------------


class AcmeAdapter:
    name = "acme"
    style = Style.POLLING
    credential_kind = CredentialKind.API_KEY
    setting_names = frozenset({"BASE_URL"})

    def __init__(self, context: AdapterContext) -> None:
        self.transport = VendorTransport(
            "Acme",
            context.setting("BASE_URL") or BASE,
            timeout=min(context.timeout_seconds, 3.0),
            secret_headers=["X-Acme-Key"],
            errors=self.error,
        )

    def identify_user(self, credential: AnyCredential) -> str:
        me = self.call("GET", "/me", credential)
        account = me.get("account") if isinstance(me, dict) else None
        if not isinstance(account, str) or not account:
            raise EndpointUnreachable("Acme sent no account")
        return f"acme-{account}"

    def list_devices(self, credential: AnyCredential) -> list[Device]:
        answer = self.call("GET", "/lamps", credential)
        lamps = answer.get("lamps") if isinstance(answer, dict) else None
        if not isinstance(lamps, list):
            raise EndpointUnreachable("Acme listed no lamps")
        try:
            return [self.device(lamp) for lamp in lamps]
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise EndpointUnreachable(
                f"Acme listed a lamp in an unexpected shape: {exc!r}"
            ) from exc

    def read_state(self, credential: AnyCredential, device_id: str) -> BulbState:
        return self.state(self.call("GET", f"/lamps/{quote(device_id, safe='')}", credential))

    def execute(
        self,
        credential: AnyCredential,
        device_id: str,
        change: Change,
        known: BulbState | None = None,
    ) -> Accepted:
        answer = self.call(
            "POST", f"/lamps/{quote(device_id, safe='')}/commands", credential, self.body(change)
        )
        reference = answer.get("command_id") if isinstance(answer, dict) else None
        return Accepted(reference=reference if isinstance(reference, str) else None)

    # -- the parts a mutant replaces --------------------------------------------------------

    def call(self, method: str, path: str, credential: AnyCredential, body: Any = None) -> Any:
        if not isinstance(credential, ApiKey):
            raise InvalidAuthorizationCredential("Acme takes an API key")
        key = credential.api_key.get_secret_value()
        return self.transport.json(method, path, json=body, headers={"X-Acme-Key": key})

    def error(self, response: requests.Response) -> SkillError | None:
        if response.status_code == 409:
            return EndpointUnreachable("the lamp is offline")
        return None  # the transport's defaults: 401, 404, 429 (+ Retry-After), 5xx

    @staticmethod
    def device(lamp: dict[str, Any]) -> Device:
        kelvin = None
        if lamp.get("kelvin_min") and lamp.get("kelvin_max"):
            kelvin = KelvinRange(minimum=int(lamp["kelvin_min"]), maximum=int(lamp["kelvin_max"]))
        return Device(
            id=str(lamp["id"]),
            name=str(lamp.get("label") or "Acme lamp"),
            features=Features(
                dimmable=bool(lamp.get("dimmable")),
                color=bool(lamp.get("color")),
                color_temperature=kelvin,
            ),
            manufacturer="Acme",
        )

    def state(self, lamp: Any) -> BulbState:
        try:
            power = lamp["power"]
            if power not in ("on", "off"):
                raise ValueError(f"power {power!r}")
            level = lamp["level"]
            if isinstance(level, bool) or not isinstance(level, int):
                raise ValueError(f"level {level!r}")
            online = lamp.get("online", True)
            if not isinstance(online, bool):
                raise ValueError(f"online {online!r}")
            mode = lamp.get("mode")
            color = temperature = None
            if isinstance(lamp.get("hue"), int | float) and isinstance(
                lamp.get("sat"), int | float
            ):
                color = Color(
                    hue=lamp["hue"] % 360, saturation=lamp["sat"] / SATURATION_SCALE, brightness=1.0
                )
            if isinstance(lamp.get("kelvin"), int) and not isinstance(lamp["kelvin"], bool):
                temperature = lamp["kelvin"]
            return BulbState(
                on=power == "on",
                brightness=level,
                color=color,
                color_temperature=temperature,
                color_mode={"color": "color", "white": "temperature"}.get(mode),
                reachable=online,
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise EndpointUnreachable(
                f"Acme sent a lamp state in an unexpected shape: {exc!r}"
            ) from exc

    @staticmethod
    def body(change: Change) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if change.on is not None:
            body["power"] = "on" if change.on else "off"
        if change.brightness is not None:
            if change.brightness == 0:
                body["power"] = "off"
            else:
                body["level"] = change.brightness
        if change.color is not None:
            body["hue"] = round(change.color.hue) % 360
            body["sat"] = round(change.color.saturation * SATURATION_SCALE)
        if change.color_temperature is not None:
            body["kelvin"] = change.color_temperature
        return body


def create(context: AdapterContext) -> AcmeAdapter:
    return AcmeAdapter(context)


# -- the vendor, as a stub that keeps state ---------------------------------------------------


def acme_stub() -> VendorStub:
    """Acme Cloud from its documentation: lamps in a dict, commands applied at once."""
    stub = VendorStub("acme", credential=CREDENTIAL)
    lamps = copy.deepcopy(LAMPS)
    states = copy.deepcopy(STATES)
    commands = itertools.count(1)

    def authorised(request: StubRequest) -> bool:
        return request.headers.get("x-acme-key") == CREDENTIAL.api_key.get_secret_value()

    def refused() -> tuple[int, dict[str, str]]:
        return 401, {"error": "invalid key"}

    @stub.route("GET", "/me")
    def me(request: StubRequest) -> Any:
        return {"account": "acc_42"} if authorised(request) else refused()

    @stub.route("GET", "/lamps")
    def listed(request: StubRequest) -> Any:
        return {"lamps": lamps} if authorised(request) else refused()

    @stub.route("GET", "/lamps/{lamp_id}")
    def lamp(request: StubRequest, lamp_id: str) -> Any:
        if not authorised(request):
            return refused()
        if lamp_id not in states:
            return 404, {"error": "no such lamp"}
        return states[lamp_id]

    @stub.route("POST", "/lamps/{lamp_id}/commands")
    def command(request: StubRequest, lamp_id: str) -> Any:
        if not authorised(request):
            return refused()
        if lamp_id not in states:
            return 404, {"error": "no such lamp"}
        state, sent = states[lamp_id], request.json() or {}
        if not state["online"]:
            return 409, {"error": "offline"}
        for key in ("power", "level", "hue", "sat", "kelvin"):
            if key in sent:
                state[key] = sent[key]
        if "hue" in sent or "sat" in sent:
            state["mode"] = "color"
        if "kelvin" in sent:
            state["mode"] = "white"
        return 202, {"command_id": f"cmd-{next(commands)}"}

    stub.lamps, stub.states = lamps, states  # type: ignore[attr-defined]
    return stub


def fail(call: VendorCall, request: StubRequest) -> Any:
    """The failures the kit asks for, as Acme answers them."""
    failure, lamp_id = call.failure, call.device_id
    if failure is Failure.UNAUTHORIZED or failure is Failure.EXPIRED:
        return 401, {"error": "invalid key"}
    if failure is Failure.SERVER_ERROR:
        return 503, {"error": "maintenance"}
    if failure is Failure.RATE_LIMITED:
        return 429, {"error": "slow down"}, {"Retry-After": "5"}
    if failure is Failure.TIMEOUT:
        return StubAnswer.hang()
    about_lamp = lamp_id is not None and request.path.startswith(f"/lamps/{lamp_id}")
    if failure is Failure.NOT_FOUND:
        if call.operation is Operation.LIST_DEVICES and request.path == "/lamps":
            return {"lamps": [lamp for lamp in LAMPS if lamp["id"] != lamp_id]}
        return (404, {"error": "no such lamp"}) if about_lamp else None
    if failure is Failure.OFFLINE and about_lamp:  # the lamp is offline, whoever asks
        if request.method == "GET":
            return {**STATES[lamp_id], "online": False}
        return 409, {"error": "offline"}
    return None


def scenario(
    adapter: Any = None, *, stub: VendorStub | None = None, vendor: Any = None, **changes: Any
) -> AdapterScenario:
    """The reference scenario: ``adapter`` (default: the good one) against a fresh stub."""
    stub = stub or acme_stub()
    fields: dict[str, Any] = {
        "failures": set(Failure),
        "stateful": True,
        "check_entry_point": False,
        "settle_seconds": 0.2,  # the stub applies a command at once
        **changes,
    }
    return AdapterScenario(
        adapter=adapter or create(AdapterContext(vendor="acme", environ={})),
        credential=CREDENTIAL,
        invalid_credential=INVALID,
        vendor=vendor or stub.responses_vendor(BASE, fail=fail),
        color_device=COLOUR,
        white_device=WHITE,
        tunable_device=TUNABLE,
        devices=[COLOUR, WHITE, TUNABLE],
        unknown_device=UNKNOWN,
        **fields,
    )


def account_hash(credential: ApiKey) -> str:
    """What an adapter may answer when the vendor has no "who am I": a hash, never the key."""
    return hashlib.sha256(credential.api_key.get_secret_value().encode()).hexdigest()[:32]
