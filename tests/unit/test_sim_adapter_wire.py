"""How the simulator adapters read their vendor's JSON, answer by answer: what each accepts (with
fields the vendor added, and the defaults of fields it left out) and the error each refusal is.

Through the adapters' public methods, against ``responses`` (API answers) and signed pushes, so
the tables hold whatever parses the answers inside."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from bulb_workbench.local.sim_adapters import (
    SimulatorAdapter,
    SimulatorListerAdapter,
    SimulatorPushAdapter,
)
from bulb_workbench.local.simulator import sign
from skill.bulbs import BulbState, Change, Color, Features, KelvinRange
from skill.errors import EndpointUnreachable, InvalidNotification
from skill.plugins import (
    Accepted,
    ApiKey,
    CredentialKind,
    Device,
    DeviceReading,
    KeyAndSecret,
    Notification,
    OAuthToken,
    Style,
    WebhookRequest,
)

BASE = "http://vendor.test"
NOW = 1_700_000_000.0
SECRET = "wire-test-secret"
#: What the errors of an answer not shaped as documented, or out of range, say.
MALFORMED = "malformed|out of range"
INVALID_PUSH = "not a valid push|out of range"
TOKEN = OAuthToken.bearer("access-1", refresh_token="refresh-1")
KEY = ApiKey.of("api-key-1")
SIGNED = KeyAndSecret.of("key-1", "secret-1")

#: A state as the simulator sends it.
STATE = {
    "on": True,
    "brightness": 42,
    "color": None,
    "color_temperature": 3000,
    "color_mode": "temperature",
    "online": True,
}
#: Fields a vendor may add some day (ignored).
EXTRA = {"firmware": "1.2.3", "nested": {"anything": [1, 2]}}
HUE = {"hue": 120, "saturation": 0.5, "brightness": 1}
LISTING = {
    "id": "color-1",
    "name": "Desk",
    "manufacturer": "SimSync Lighting",
    "model": "SIM-C",
    "features": {"dimmable": True, "color": True, "ct_min": 2700, "ct_max": 6500},
}


@pytest.fixture
def vendor() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def sync_adapter() -> SimulatorListerAdapter:
    return SimulatorListerAdapter("sim-sync", Style.SYNC, BASE, clock=lambda: NOW)


def answering(mock: responses.RequestsMock, method: str, path: str, answer: Any) -> None:
    """The vendor answers ``path`` with ``answer`` as JSON (``bytes``: as they are)."""
    body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
    mock.add(method, f"{BASE}{path}", body=body, content_type="application/json")


# -- states: read_state, a sync command's answer, a push --------------------------------------

ACCEPTED_STATES: list[tuple[dict[str, Any], BulbState]] = [
    (STATE, BulbState(on=True, brightness=42, color_temperature=3000, color_mode="temperature")),
    (
        {**STATE, **EXTRA},
        BulbState(on=True, brightness=42, color_temperature=3000, color_mode="temperature"),
    ),
    ({"on": False, "brightness": 0}, BulbState(on=False, brightness=0)),
    (
        {"on": True, "brightness": 100, "color": HUE, "color_mode": "color"},
        BulbState(
            on=True,
            brightness=100,
            color=Color(hue=120, saturation=0.5, brightness=1),
            color_mode="color",
        ),
    ),
    (
        {
            "on": True,
            "brightness": 7,
            "color": {"hue": 359.5, "saturation": 0.25, "brightness": 0.07},
        },
        BulbState(on=True, brightness=7, color=Color(hue=359.5, saturation=0.25, brightness=0.07)),
    ),
    (
        {**STATE, "online": False},
        BulbState(
            on=True,
            brightness=42,
            color_temperature=3000,
            color_mode="temperature",
            reachable=False,
        ),
    ),
    ({**STATE, "color_temperature": None, "color_mode": None}, BulbState(on=True, brightness=42)),
    (
        {"on": True, "brightness": 5.0, "color_temperature": 3000.0},
        BulbState(on=True, brightness=5, color_temperature=3000),
    ),
    (
        {"on": True, "brightness": 100, "color_temperature": 1000},
        BulbState(on=True, brightness=100, color_temperature=1000),
    ),
    (
        {"on": True, "brightness": 100, "color_temperature": 10000},
        BulbState(on=True, brightness=100, color_temperature=10000),
    ),
]

#: States the skill cannot show: a colour temperature outside Alexa's 1000-10000 K.
OUT_OF_RANGE_STATES: dict[str, Any] = {
    "kelvin-below-alexa": {**STATE, "color_temperature": 999},
    "kelvin-above-alexa": {**STATE, "color_temperature": 10001},
    "kelvin-zero": {**STATE, "color_temperature": 0},
}

#: States not shaped as the simulator sends them.
MALFORMED_STATES: dict[str, Any] = {
    "not-an-object": [STATE],
    "a-string": "on",
    "null": None,
    "no-on": {"brightness": 5},
    "no-brightness": {"on": True},
    "on-null": {**STATE, "on": None},
    "on-a-word": {**STATE, "on": "maybe"},
    "on-two": {**STATE, "on": 2},
    "brightness-null": {**STATE, "brightness": None},
    "brightness-negative": {**STATE, "brightness": -1},
    "brightness-over-100": {**STATE, "brightness": 101},
    "brightness-fraction": {**STATE, "brightness": 5.5},
    "brightness-a-word": {**STATE, "brightness": "high"},
    "brightness-a-list": {**STATE, "brightness": [5]},
    "kelvin-fraction": {**STATE, "color_temperature": 3000.5},
    "kelvin-a-word": {**STATE, "color_temperature": "warm"},
    "mode-capitalised": {**STATE, "color_mode": "Temperature"},
    "mode-unknown": {**STATE, "color_mode": "white"},
    "mode-a-number": {**STATE, "color_mode": 1},
    "color-a-word": {**STATE, "color": "red"},
    "color-a-list": {**STATE, "color": [120, 1, 1]},
    "color-hue-over-360": {**STATE, "color": {**HUE, "hue": 361}},
    "color-saturation-over-1": {**STATE, "color": {**HUE, "saturation": 1.5}},
    "color-brightness-negative": {**STATE, "color": {**HUE, "brightness": -0.1}},
    "color-no-brightness": {**STATE, "color": {"hue": 1, "saturation": 1}},
    "color-extra-field": {**STATE, "color": {**HUE, "kelvin": 3000}},
    "color-hue-a-word": {**STATE, "color": {**HUE, "hue": "red"}},
    "color-hue-a-numeric-string": {**STATE, "color": {**HUE, "hue": "120"}},
    "color-saturation-a-boolean": {**STATE, "color": {**HUE, "saturation": True}},
    "color-hue-null": {**STATE, "color": {**HUE, "hue": None}},
    "online-null": {**STATE, "online": None},
    "online-a-word": {**STATE, "online": "maybe"},
}


@pytest.mark.parametrize(("answer", "expected"), ACCEPTED_STATES)
def test_read_state_accepts_the_simulators_states(
    vendor: responses.RequestsMock, answer: dict[str, Any], expected: BulbState
) -> None:
    answering(vendor, "GET", "/sim-sync/v1/devices/d1/state", answer)
    assert sync_adapter().read_state(TOKEN, "d1") == expected


REFUSED_STATES = {**MALFORMED_STATES, **OUT_OF_RANGE_STATES}


@pytest.mark.parametrize("answer", REFUSED_STATES.values(), ids=REFUSED_STATES)
def test_read_state_refuses_a_malformed_state(vendor: responses.RequestsMock, answer: Any) -> None:
    answering(vendor, "GET", "/sim-sync/v1/devices/d1/state", answer)
    with pytest.raises(EndpointUnreachable, match=MALFORMED):
        sync_adapter().read_state(TOKEN, "d1")


@pytest.mark.parametrize(("answer", "expected"), ACCEPTED_STATES)
def test_a_sync_command_answers_with_the_state(
    vendor: responses.RequestsMock, answer: dict[str, Any], expected: BulbState
) -> None:
    answering(vendor, "POST", "/sim-sync/v1/devices/d1/commands", answer)
    assert sync_adapter().execute(TOKEN, "d1", Change(on=True)) == expected


@pytest.mark.parametrize("answer", REFUSED_STATES.values(), ids=REFUSED_STATES)
def test_a_sync_command_refuses_a_malformed_state(
    vendor: responses.RequestsMock, answer: Any
) -> None:
    answering(vendor, "POST", "/sim-sync/v1/devices/d1/commands", answer)
    with pytest.raises(EndpointUnreachable, match=MALFORMED):
        sync_adapter().execute(TOKEN, "d1", Change(on=True))


# -- devices: list_devices -----------------------------------------------------------------

ACCEPTED_DEVICES: list[tuple[dict[str, Any], Device]] = [
    (
        LISTING,
        Device(
            id="color-1",
            name="Desk",
            features=Features(
                dimmable=True, color=True, color_temperature=KelvinRange(minimum=2700, maximum=6500)
            ),
            manufacturer="SimSync Lighting",
            model="SIM-C",
            description="SimSync Lighting SIM-C",
        ),
    ),
    (
        {**LISTING, **EXTRA, "features": {**LISTING["features"], "effects": True}},
        Device(
            id="color-1",
            name="Desk",
            features=Features(
                dimmable=True, color=True, color_temperature=KelvinRange(minimum=2700, maximum=6500)
            ),
            manufacturer="SimSync Lighting",
            model="SIM-C",
            description="SimSync Lighting SIM-C",
        ),
    ),
    (
        {"id": "w", "name": "W", "features": {}},
        Device(
            id="w",
            name="W",
            features=Features(),
            manufacturer="Unknown",
            model="Light",
            description="Unknown Light",
        ),
    ),
    (
        {"id": "w", "name": "W", "manufacturer": "", "model": "", "features": {"dimmable": True}},
        Device(
            id="w",
            name="W",
            features=Features(dimmable=True),
            manufacturer="",
            model="",
            description=" ",
        ),
    ),
    (
        {"id": " ", "name": " ", "features": {"ct_min": 500, "ct_max": 20000}},
        Device(
            id=" ",
            name=" ",
            features=Features(color_temperature=KelvinRange(minimum=1000, maximum=10000)),
            description="Unknown Light",
        ),
    ),
    (
        {"id": "w", "name": "W", "features": {"ct_min": 2700.0, "ct_max": 6500.0}},
        Device(
            id="w",
            name="W",
            features=Features(color_temperature=KelvinRange(minimum=2700, maximum=6500)),
            description="Unknown Light",
        ),
    ),
    (
        {"id": "w", "name": "W", "features": {"ct_min": 2700, "ct_max": None}},
        Device(id="w", name="W", features=Features(), description="Unknown Light"),
    ),
    (
        {"id": "w", "name": "W", "features": {"ct_min": 20000, "ct_max": 500}},
        Device(
            id="w",
            name="W",
            features=Features(color_temperature=KelvinRange(minimum=10000, maximum=1000)),
            description="Unknown Light",
        ),
    ),
]

REFUSED_DEVICES: dict[str, Any] = {
    "entry-missing-id": {k: v for k, v in LISTING.items() if k != "id"},
    "entry-empty-id": {**LISTING, "id": ""},
    "entry-id-a-number": {**LISTING, "id": 5},
    "entry-missing-name": {k: v for k, v in LISTING.items() if k != "name"},
    "entry-empty-name": {**LISTING, "name": ""},
    "entry-name-null": {**LISTING, "name": None},
    "entry-manufacturer-null": {**LISTING, "manufacturer": None},
    "entry-model-a-number": {**LISTING, "model": 5},
    "entry-missing-features": {k: v for k, v in LISTING.items() if k != "features"},
    "entry-features-null": {**LISTING, "features": None},
    "entry-features-a-list": {**LISTING, "features": []},
    "entry-dimmable-null": {**LISTING, "features": {"dimmable": None}},
    "entry-color-a-word": {**LISTING, "features": {"color": "maybe"}},
    "entry-ct-min-fraction": {**LISTING, "features": {"ct_min": 2700.5, "ct_max": 6500}},
    "entry-ct-max-a-word": {**LISTING, "features": {"ct_min": 2700, "ct_max": "cool"}},
    "entry-a-string": "color-1",
    "entry-null": None,
}


@pytest.mark.parametrize(("listing", "expected"), ACCEPTED_DEVICES)
def test_list_devices_accepts_the_simulators_listings(
    vendor: responses.RequestsMock, listing: dict[str, Any], expected: Device
) -> None:
    answering(vendor, "GET", "/sim-sync/v1/devices", [listing, LISTING])
    devices = sync_adapter().list_devices(TOKEN)
    assert devices == [expected, ACCEPTED_DEVICES[0][1]]


@pytest.mark.parametrize("entry", REFUSED_DEVICES.values(), ids=REFUSED_DEVICES)
def test_list_devices_refuses_the_list_when_one_entry_is_malformed(
    vendor: responses.RequestsMock, entry: Any
) -> None:
    answering(vendor, "GET", "/sim-sync/v1/devices", [LISTING, entry])
    with pytest.raises(EndpointUnreachable, match=MALFORMED):
        sync_adapter().list_devices(TOKEN)


@pytest.mark.parametrize("answer", [{"devices": [LISTING]}, LISTING, "devices", None, 5])
def test_list_devices_refuses_an_answer_that_is_not_a_list(
    vendor: responses.RequestsMock, answer: Any
) -> None:
    answering(vendor, "GET", "/sim-sync/v1/devices", answer)
    with pytest.raises(EndpointUnreachable, match=MALFORMED):
        sync_adapter().list_devices(TOKEN)


def test_an_empty_device_list_is_no_devices(vendor: responses.RequestsMock) -> None:
    answering(vendor, "GET", "/sim-sync/v1/devices", [])
    assert sync_adapter().list_devices(TOKEN) == []


# -- every device with its state: read_all -------------------------------------------------

DESK = ACCEPTED_DEVICES[0][1]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        *ACCEPTED_STATES[:2],
        ({**STATE, "online": False}, None),  # offline: unreachable, not an error
        *((state, None) for state in OUT_OF_RANGE_STATES.values()),  # read_state refuses them
        ({**STATE, "color_temperature": 50, "online": False}, None),
    ],
)
def test_read_all_pairs_each_device_with_its_state(
    vendor: responses.RequestsMock, state: dict[str, Any], expected: BulbState | None
) -> None:
    answering(vendor, "GET", "/sim-sync/v1/states", [{**LISTING, "state": state}])
    assert sync_adapter().read_all(TOKEN) == [DeviceReading(DESK, expected)]


MALFORMED_ENTRIES: list[Any] = [
    LISTING,  # no state
    {**LISTING, "state": None},
    *({**LISTING, "state": state} for state in MALFORMED_STATES.values()),
    {**LISTING, "state": {**STATE, "brightness": 500, "online": False}},  # offline, still
    *({**entry, "state": STATE} for entry in REFUSED_DEVICES.values() if isinstance(entry, dict)),
    "color-1",
]


@pytest.mark.parametrize("entry", MALFORMED_ENTRIES)
def test_read_all_refuses_the_list_when_one_entry_is_malformed(
    vendor: responses.RequestsMock, entry: Any
) -> None:
    answering(vendor, "GET", "/sim-sync/v1/states", [{**LISTING, "state": STATE}, entry])
    with pytest.raises(EndpointUnreachable, match=MALFORMED):
        sync_adapter().read_all(TOKEN)


@pytest.mark.parametrize("answer", [{"states": []}, None, "x"])
def test_read_all_refuses_an_answer_that_is_not_a_list(
    vendor: responses.RequestsMock, answer: Any
) -> None:
    answering(vendor, "GET", "/sim-sync/v1/states", answer)
    with pytest.raises(EndpointUnreachable, match=MALFORMED):
        sync_adapter().read_all(TOKEN)


# -- a deferred command's receipt, and the offline answer -----------------------------------


def polling_adapter() -> SimulatorAdapter:
    return SimulatorAdapter(
        "sim-polling", Style.POLLING, BASE, credential_kind=CredentialKind.API_KEY
    )


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"request_id": "req-1"}, "req-1"),
        ({"request_id": "req-1", **EXTRA}, "req-1"),
        ({"request_id": " "}, " "),
        ({"request_id": "req-1", "status": "queued"}, "req-1"),
        ({"request_id": "req-1", "status": None}, "req-1"),
    ],
)
def test_a_deferred_command_answers_with_the_vendors_request_id(
    vendor: responses.RequestsMock, answer: dict[str, Any], expected: str
) -> None:
    answering(vendor, "POST", "/sim-polling/v1/devices/d1/commands", answer)
    assert polling_adapter().execute(KEY, "d1", Change(on=True)) == Accepted(reference=expected)


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"request_id": ""},
        {"request_id": None},
        {"request_id": 7},
        {"id": "req-1"},
        [],
        "r",
        None,
    ],
)
def test_a_receipt_without_a_request_id_is_refused(
    vendor: responses.RequestsMock, answer: Any
) -> None:
    answering(vendor, "POST", "/sim-polling/v1/devices/d1/commands", answer)
    with pytest.raises(EndpointUnreachable, match=MALFORMED):
        polling_adapter().execute(KEY, "d1", Change(on=True))


@pytest.mark.parametrize(
    ("path", "adapter", "credential"),
    [
        ("/sim-polling/v1/devices/d1/commands", polling_adapter, KEY),
        ("/sim-sync/v1/devices/d1/commands", sync_adapter, TOKEN),
    ],
)
@pytest.mark.parametrize(
    "answer",
    [
        {"status": "offline"},
        {"status": "offline", "request_id": "req-1", **EXTRA},
        {**STATE, "status": "offline"},
    ],
)
def test_the_offline_answer_is_endpoint_unreachable(
    vendor: responses.RequestsMock, path: str, adapter: Any, credential: Any, answer: Any
) -> None:
    answering(vendor, "POST", path, answer)
    with pytest.raises(EndpointUnreachable, match="offline"):
        adapter().execute(credential, "d1", Change(on=True))


@pytest.mark.parametrize("status", ["Offline", "online", 0, None, ["offline"]])
def test_only_the_exact_offline_status_is_offline(
    vendor: responses.RequestsMock, status: Any
) -> None:
    answering(
        vendor, "POST", "/sim-polling/v1/devices/d1/commands", {"status": status, "request_id": "r"}
    )
    assert polling_adapter().execute(KEY, "d1", Change(on=True)) == Accepted(reference="r")


# -- the account: identify_user -------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"user_id": "demo-user"}, "demo-user"),
        ({"user_id": "u", **EXTRA}, "u"),
        ({"user_id": " "}, " "),
    ],
)
def test_identify_user_reads_the_user_id(
    vendor: responses.RequestsMock, answer: dict[str, Any], expected: str
) -> None:
    answering(vendor, "GET", "/sim-sync/v1/me", answer)
    assert sync_adapter().identify_user(TOKEN) == expected


@pytest.mark.parametrize(
    "answer",
    [{}, {"user_id": ""}, {"user_id": None}, {"user_id": 42}, {"id": "u"}, ["u"], "u", None],
)
def test_identify_user_refuses_an_answer_without_a_user_id(
    vendor: responses.RequestsMock, answer: Any
) -> None:
    answering(vendor, "GET", "/sim-sync/v1/me", answer)
    with pytest.raises(EndpointUnreachable, match=MALFORMED):
        sync_adapter().identify_user(TOKEN)


# -- the token endpoint: exchange_code, refresh_credential ----------------------------------

TOKEN_URL = "/sim-sync/oauth/token"
GOOD_TOKENS = {"access_token": "access-2", "refresh_token": "refresh-2", "expires_in": 3600}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            {**GOOD_TOKENS, "token_type": "bearer", "scope": "lights", **EXTRA},
            {"access_token": "access-2", "refresh_token": "refresh-2", "expires_at": NOW + 3600},
        ),
        (
            {"access_token": "access-2"},
            {"access_token": "access-2", "refresh_token": "refresh-1", "expires_at": None},
        ),
        (
            {"access_token": "access-2", "refresh_token": None, "expires_in": None},
            {"access_token": "access-2", "refresh_token": "refresh-1", "expires_at": None},
        ),
        (
            {"access_token": "access-2", "refresh_token": ""},  # empty: the old one stays
            {"access_token": "access-2", "refresh_token": "refresh-1", "expires_at": None},
        ),
        (
            {"access_token": "access-2", "expires_in": 0},
            {"access_token": "access-2", "refresh_token": "refresh-1", "expires_at": NOW},
        ),
        (
            {"access_token": "access-2", "expires_in": 1.5, "token_type": "Bearer"},
            {"access_token": "access-2", "refresh_token": "refresh-1", "expires_at": NOW + 1.5},
        ),
        (
            {"access_token": "access-2", "token_type": ""},
            {"access_token": "access-2", "refresh_token": "refresh-1", "expires_at": None},
        ),
        (
            b'{"access_token": "access-2", "expires_in": 1e400}',  # a number too large: infinity
            {"access_token": "access-2", "refresh_token": "refresh-1", "expires_at": float("inf")},
        ),
        (
            b' {"access_token": "x", "access_token": "access-2"}\n',  # the last one counts
            {"access_token": "access-2", "refresh_token": "refresh-1", "expires_at": None},
        ),
    ],
)
def test_a_refresh_reads_the_token_answer(
    vendor: responses.RequestsMock, answer: Any, expected: dict[str, Any]
) -> None:
    answering(vendor, "POST", TOKEN_URL, answer)
    renewed = sync_adapter().refresh_credential(
        OAuthToken.bearer("access-1", refresh_token="refresh-1", application_key="app-1")
    )
    assert renewed.access_token.get_secret_value() == expected["access_token"]
    assert renewed.refresh_token is not None
    assert renewed.refresh_token.get_secret_value() == expected["refresh_token"]
    assert renewed.expires_at == expected["expires_at"]
    assert renewed.application_key is not None
    assert renewed.application_key.get_secret_value() == "app-1"


#: Token answers refused as malformed (RFC 6749 section 5.1 and the simulator's types).
MALFORMED_TOKENS: dict[str, Any] = {
    "not-json": b"<html>ok</html>",
    "empty-body": b"",
    "truncated": b'{"access_token": "a"',
    "trailing-garbage": b'{"access_token": "a"} x',
    "utf8-bom": b'\xef\xbb\xbf{"access_token": "a"}',
    "utf16": '{"access_token": "a"}'.encode("utf-16"),
    "not-utf8": b'{"access_token": "a\xff"}',
    "lone-surrogate": b'{"access_token": "a\\ud800"}',
    "a-list": [GOOD_TOKENS],
    "a-string": "access-2",
    "null": None,
    "no-access-token": {"refresh_token": "r", "expires_in": 60},
    "empty-access-token": {**GOOD_TOKENS, "access_token": ""},
    "access-token-null": {**GOOD_TOKENS, "access_token": None},
    "access-token-a-number": {**GOOD_TOKENS, "access_token": 12345},
    "refresh-token-a-number": {**GOOD_TOKENS, "refresh_token": 12345},
    "refresh-token-a-list": {**GOOD_TOKENS, "refresh_token": ["r"]},
    "negative-lifetime": {**GOOD_TOKENS, "expires_in": -1},
    "nan-lifetime": b'{"access_token": "a", "expires_in": NaN}',
    "minus-infinity-lifetime": b'{"access_token": "a", "expires_in": -Infinity}',
    "lifetime-a-word": {**GOOD_TOKENS, "expires_in": "soon"},
    "lifetime-a-list": {**GOOD_TOKENS, "expires_in": [60]},
    "token-type-null": {**GOOD_TOKENS, "token_type": None},
    "token-type-a-number": {**GOOD_TOKENS, "token_type": 1},
}


@pytest.mark.parametrize("answer", MALFORMED_TOKENS.values(), ids=MALFORMED_TOKENS)
def test_a_malformed_token_answer_is_endpoint_unreachable(
    vendor: responses.RequestsMock, answer: Any
) -> None:
    answering(vendor, "POST", TOKEN_URL, answer)
    with pytest.raises(EndpointUnreachable, match="token endpoint"):
        sync_adapter().refresh_credential(TOKEN)


@pytest.mark.parametrize("answer", MALFORMED_TOKENS.values(), ids=MALFORMED_TOKENS)
def test_a_malformed_token_answer_fails_the_code_exchange(
    vendor: responses.RequestsMock, answer: Any
) -> None:
    answering(vendor, "POST", TOKEN_URL, answer)
    with pytest.raises(EndpointUnreachable, match="token endpoint"):
        sync_adapter().exchange_code("code-1", "https://skill.test/back")


@pytest.mark.parametrize(
    ("answer", "refresh", "expires_at"),
    [
        (GOOD_TOKENS, "refresh-2", NOW + 3600),
        ({"access_token": "access-2"}, None, None),
        ({"access_token": "access-2", "refresh_token": ""}, "", None),
    ],
)
def test_a_code_exchange_reads_the_token_answer(
    vendor: responses.RequestsMock, answer: Any, refresh: str | None, expires_at: float | None
) -> None:
    answering(vendor, "POST", TOKEN_URL, answer)
    credential = sync_adapter().exchange_code("code-1", "https://skill.test/back")
    assert credential.access_token.get_secret_value() == "access-2"
    shown = (
        None if credential.refresh_token is None else credential.refresh_token.get_secret_value()
    )
    assert shown == refresh
    assert credential.expires_at == expires_at
    assert credential.application_key is None


# -- the application key (sim-optimistic's code exchange) -----------------------------------


def optimistic_adapter() -> SimulatorListerAdapter:
    return SimulatorListerAdapter(
        "sim-optimistic", Style.OPTIMISTIC, BASE, application_key=True, clock=lambda: NOW
    )


@pytest.mark.parametrize(
    ("answer", "expected"),
    [({"application_key": "app-9"}, "app-9"), ({"application_key": "app-9", **EXTRA}, "app-9")],
)
def test_the_optimistic_exchange_keeps_the_application_key(
    vendor: responses.RequestsMock, answer: Any, expected: str
) -> None:
    answering(vendor, "POST", "/sim-optimistic/oauth/token", GOOD_TOKENS)
    answering(vendor, "POST", "/sim-optimistic/v1/appkey", answer)
    credential = optimistic_adapter().exchange_code("code-1", "https://skill.test/back")
    assert credential.application_key is not None
    assert credential.application_key.get_secret_value() == expected
    assert credential.expires_at == NOW + 3600


@pytest.mark.parametrize(
    "answer",
    [{}, {"application_key": ""}, {"application_key": None}, {"application_key": 9}, ["k"], None],
)
def test_an_answer_without_an_application_key_fails_the_exchange(
    vendor: responses.RequestsMock, answer: Any
) -> None:
    answering(vendor, "POST", "/sim-optimistic/oauth/token", GOOD_TOKENS)
    answering(vendor, "POST", "/sim-optimistic/v1/appkey", answer)
    with pytest.raises(EndpointUnreachable, match=MALFORMED):
        optimistic_adapter().exchange_code("code-1", "https://skill.test/back")


# -- the account's webhook URLs (sim-async) ---------------------------------------------------


def push_adapter() -> SimulatorPushAdapter:
    return SimulatorPushAdapter("sim-async", BASE, lambda: SECRET, clock=lambda: NOW)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"urls": []}, []),
        ({"urls": ["https://a.test/hook"]}, ["https://a.test/hook"]),
        ({"urls": ["a", "b", ""], **EXTRA}, ["a", "b", ""]),
    ],
)
def test_webhook_urls_reads_the_accounts_urls(
    vendor: responses.RequestsMock, answer: Any, expected: list[str]
) -> None:
    answering(vendor, "POST", "/sim-async/v1/webhook", answer)
    assert push_adapter().webhook_urls(SIGNED) == expected


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"urls": None},
        {"urls": "a"},
        {"urls": ["a", 1]},
        {"urls": [None]},
        {"urls": {"a": 1}},
        ["a"],
        None,
    ],
)
def test_webhook_urls_refuses_an_answer_without_a_list_of_urls(
    vendor: responses.RequestsMock, answer: Any
) -> None:
    answering(vendor, "POST", "/sim-async/v1/webhook", answer)
    with pytest.raises(EndpointUnreachable, match=MALFORMED):
        push_adapter().webhook_urls(SIGNED)


# -- pushes: parse_notification --------------------------------------------------------------

PUSH = {"device_id": "color-1", "request_id": "req-1", "user_id": "demo-user", "state": STATE}


def pushed(body: Any) -> list[Notification]:
    """``body`` (JSON; ``bytes`` as they are) signed as the simulator signs a push, read."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = str(int(NOW))
    headers = {"x-sim-timestamp": timestamp, "x-sim-signature": sign(SECRET, timestamp, raw)}
    return push_adapter().parse_notification(WebhookRequest(headers=headers, body=raw))


@pytest.mark.parametrize(("state", "expected"), ACCEPTED_STATES)
def test_a_push_carries_the_state(state: dict[str, Any], expected: BulbState) -> None:
    assert pushed({**PUSH, "state": state}) == [
        Notification("color-1", expected, reference="req-1", user_id="demo-user", sent_at=NOW)
    ]


@pytest.mark.parametrize(
    ("push", "reference", "user_id"),
    [
        ({**PUSH, **EXTRA}, "req-1", "demo-user"),
        ({**PUSH, "request_id": None}, None, "demo-user"),
        ({**PUSH, "request_id": ""}, None, "demo-user"),  # empty: no request
        ({k: v for k, v in PUSH.items() if k != "request_id"}, None, "demo-user"),
        ({**PUSH, "user_id": None}, "req-1", None),
        ({**PUSH, "user_id": ""}, "req-1", ""),
        ({"device_id": "color-1", "state": STATE}, None, None),
    ],
)
def test_a_push_names_its_request_and_account_when_it_has_them(
    push: dict[str, Any], reference: str | None, user_id: str | None
) -> None:
    [notification] = pushed(push)
    assert notification.device_id == "color-1"
    assert (notification.reference, notification.user_id) == (reference, user_id)


MALFORMED_PUSHES: dict[str, Any] = {
    "not-json": b"{not json",
    "empty-body": b"",
    "utf8-bom": b"\xef\xbb\xbf" + json.dumps(PUSH).encode(),
    "not-utf8": json.dumps(PUSH).encode().replace(b"color-1", b"color-\xff"),
    "lone-surrogate": json.dumps(PUSH).encode().replace(b"color-1", b"color-\\udc00"),
    "a-list": [PUSH],
    "a-string": "color-1",
    "null": None,
    "no-device-id": {k: v for k, v in PUSH.items() if k != "device_id"},
    "empty-device-id": {**PUSH, "device_id": ""},
    "device-id-null": {**PUSH, "device_id": None},
    "device-id-a-number": {**PUSH, "device_id": 1},
    "request-id-a-number": {**PUSH, "request_id": 7},
    "user-id-a-list": {**PUSH, "user_id": ["u"]},
    "no-state": {k: v for k, v in PUSH.items() if k != "state"},
    **{f"state-{name}": {**PUSH, "state": state} for name, state in REFUSED_STATES.items()},
}


@pytest.mark.parametrize("body", MALFORMED_PUSHES.values(), ids=MALFORMED_PUSHES)
def test_a_malformed_push_is_refused_with_400(body: Any) -> None:
    with pytest.raises(InvalidNotification, match=INVALID_PUSH) as caught:
        pushed(body)
    assert caught.value.status == 400


# -- stricter than pydantic's lax mode, which the adapters parsed with before -----------------
# The simulator (``_sim_model``, strict) sends JSON booleans and numbers; a flag written "true"
# or 1, or a number written as a string, is not the vendor's type, and is refused now.

LAX_STATES: dict[str, Any] = {
    "on-the-word-true": {**STATE, "on": "true"},
    "on-yes": {**STATE, "on": "yes"},
    "on-one": {**STATE, "on": 1},
    "on-zero-float": {**STATE, "on": 0.0},
    "online-the-word-false": {**STATE, "online": "false"},
    "online-zero": {**STATE, "online": 0},
    "brightness-a-numeric-string": {**STATE, "brightness": "5"},
    "brightness-true": {**STATE, "brightness": True},
    "kelvin-a-numeric-string": {**STATE, "color_temperature": "3000"},
}
LAX_FEATURES: dict[str, Any] = {
    "dimmable-yes": {"dimmable": "yes"},
    "color-one": {"color": 1},
    "ct-min-a-numeric-string": {"ct_min": "2700", "ct_max": 6500},
    "ct-max-true": {"ct_min": 2700, "ct_max": True},
}
LAX_LIFETIMES: dict[str, Any] = {"a-numeric-string": "3600", "true": True}


@pytest.mark.parametrize("answer", LAX_STATES.values(), ids=LAX_STATES)
def test_a_state_in_other_json_types_is_refused(
    vendor: responses.RequestsMock, answer: Any
) -> None:
    answering(vendor, "GET", "/sim-sync/v1/devices/d1/state", answer)
    with pytest.raises(EndpointUnreachable, match=MALFORMED):
        sync_adapter().read_state(TOKEN, "d1")


@pytest.mark.parametrize("state", LAX_STATES.values(), ids=LAX_STATES)
def test_a_push_in_other_json_types_is_refused(state: Any) -> None:
    with pytest.raises(InvalidNotification, match=INVALID_PUSH):
        pushed({**PUSH, "state": state})


@pytest.mark.parametrize("features", LAX_FEATURES.values(), ids=LAX_FEATURES)
def test_features_in_other_json_types_are_refused(
    vendor: responses.RequestsMock, features: Any
) -> None:
    answering(vendor, "GET", "/sim-sync/v1/devices", [{**LISTING, "features": features}])
    with pytest.raises(EndpointUnreachable, match=MALFORMED):
        sync_adapter().list_devices(TOKEN)


@pytest.mark.parametrize("lifetime", LAX_LIFETIMES.values(), ids=LAX_LIFETIMES)
def test_a_lifetime_in_other_json_types_is_refused(
    vendor: responses.RequestsMock, lifetime: Any
) -> None:
    answering(vendor, "POST", TOKEN_URL, {**GOOD_TOKENS, "expires_in": lifetime})
    with pytest.raises(EndpointUnreachable, match="token endpoint"):
        sync_adapter().refresh_credential(TOKEN)


# -- what a refusal says --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ({"brightness": 5}, "on is missing"),
        ({**STATE, "on": None}, "on is not true or false"),
        ({**STATE, "brightness": 101}, "brightness is not 0-100"),
        ({**STATE, "brightness": 5.5}, "brightness is not a whole number"),
        ({**STATE, "color": {**HUE, "hue": 361}}, "color is not a colour"),
        ({**STATE, "color_mode": "white"}, "color_mode is neither"),
        ([STATE], "not an object"),
        ({**STATE, "color_temperature": 999}, "out of range"),
    ],
)
def test_a_refused_state_says_which_field(
    vendor: responses.RequestsMock, answer: Any, says: str
) -> None:
    answering(vendor, "GET", "/sim-sync/v1/devices/d1/state", answer)
    with pytest.raises(EndpointUnreachable, match=says):
        sync_adapter().read_state(TOKEN, "d1")


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ({**LISTING, "id": ""}, "malformed device list: id is empty"),
        ({**LISTING, "features": None}, "malformed device list: features is not an object"),
        ({**LISTING, "model": 5}, "malformed device list: model is not a string"),
    ],
)
def test_a_refused_device_list_says_which_field(
    vendor: responses.RequestsMock, entry: Any, says: str
) -> None:
    answering(vendor, "GET", "/sim-sync/v1/devices", [entry])
    with pytest.raises(EndpointUnreachable, match=says):
        sync_adapter().list_devices(TOKEN)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ({"refresh_token": "r"}, "access_token is missing"),
        ({**GOOD_TOKENS, "expires_in": -1}, "expires_in is not a number of seconds >= 0"),
        ({**GOOD_TOKENS, "token_type": None}, "token_type is not a string"),
        (b"<html>", "malformed answer: expected value"),
    ],
)
def test_a_refused_token_answer_says_why(
    vendor: responses.RequestsMock, answer: Any, says: str
) -> None:
    answering(vendor, "POST", TOKEN_URL, answer)
    with pytest.raises(EndpointUnreachable, match=says):
        sync_adapter().refresh_credential(TOKEN)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({**PUSH, "device_id": ""}, "device_id is empty"),
        ({**PUSH, "request_id": 7}, "request_id is not a string"),
        ({**PUSH, "state": {**STATE, "online": None}}, "online is not true or false"),
        (b"{not json", "not a valid push: "),
    ],
)
def test_a_refused_push_says_why(body: Any, says: str) -> None:
    with pytest.raises(InvalidNotification, match=says):
        pushed(body)
