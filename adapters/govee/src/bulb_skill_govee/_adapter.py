"""The Govee adapter: style ``polling`` (control is accepted; the poller reads state back)."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections import OrderedDict
from typing import Any

import requests

from bulb_skill_govee._client import DEFAULT_BASE_URL, GoveeClient, api_key_of
from bulb_skill_govee._mapping import (
    BadValue,
    capabilities_for,
    device_id,
    features_from,
    is_light,
    split_device_id,
    state_from,
)
from skill.bulbs import BulbState, Change
from skill.errors import EndpointUnreachable, NoSuchEndpoint
from skill.plugins import (
    Accepted,
    AdapterContext,
    AnyCredential,
    CredentialKind,
    Device,
    Style,
    VendorQuotas,
)

log = logging.getLogger(__name__)

#: Total time one ``execute`` may spend on Govee (several control calls), inside Alexa's 8 s.
DEFAULT_BUDGET_SECONDS = 6.0

#: Devices whose advertised capabilities this container remembers.
_CAPABILITY_CACHE_SIZE = 4096


class GoveeAdapter:
    """Govee lights through the Govee OpenAPI.

    Every operation takes the user's ``ApiKey``; a credential of any other kind is refused
    with ``InvalidAuthorizationCredential`` before any request is made.

    Example::

        adapter = create(AdapterContext(vendor="govee"))
        adapter.execute(ApiKey.of("<Govee API key>"), "H6601@9D:FA:85:EB:D3:00:8B:FF",
                        Change(on=True))
    """

    name = "govee"
    #: What the linking pages call the vendor, and where they tell the user to find the key
    #: (Govee's "Applying for an API Key",
    #: https://govee.readme.io/reference/applying-for-an-api-key: My Profile > Settings (gear
    #: icon) > Apply for API Key; the key is e-mailed; one key per account, each application
    #: replaces the previous key).
    display_name = "Govee"
    credential_help = (
        "In the Govee Home app, open Profile > Settings > Apply for API Key; the key arrives by "
        "e-mail (applying again replaces your previous key)."
    )
    style = Style.POLLING
    credential_kind = CredentialKind.API_KEY
    #: Govee's rate-limiting page: 10,000 calls a day per account ("Devices Per Day") and 10
    #: state reads and 10 commands a minute per device. Its "List Devices Per Minute: 10" binds
    #: the device list only, not every call of an account, so it is not declared as a per-minute
    #: account quota (the sweep lists once per read, at most once a minute).
    quotas = VendorQuotas(
        calls_per_day_per_account=10_000,
        calls_per_minute_per_device=10,
        source="https://govee.readme.io/reference/rate-limiting",
    )
    #: The settings the adapter reads (``ADAPTER_SETTINGS`` refuses any other for ``govee``).
    setting_names = frozenset({"BASE_URL", "TIMEOUT_SECONDS", "BUDGET_SECONDS"})
    #: Seconds between two state reads of one device that keep the poller inside Govee's
    #: "10 requests per minute per device" (60 s / 10). An optional hint for the poller.
    poll_interval_seconds: float = 6.0

    def __init__(self, context: AdapterContext, *, session: requests.Session | None = None) -> None:
        timeout = float(context.setting("TIMEOUT_SECONDS") or context.timeout_seconds)
        self._budget = float(context.setting("BUDGET_SECONDS") or DEFAULT_BUDGET_SECONDS)
        self.client = GoveeClient(
            context.setting("BASE_URL") or DEFAULT_BASE_URL,
            timeout=timeout,
            session=session or requests.Session(),
        )
        #: "<sku>@<device>" -> its advertised capabilities (device list); a product's ranges do
        #: not change, and ``execute`` clamps to them.
        self._capabilities: OrderedDict[str, list[Any]] = OrderedDict()

    def identify_user(self, credential: AnyCredential) -> str:
        """SHA-256 of the API key (32 hex chars), once Govee has accepted the key.

        The OpenAPI has no account endpoint; a key belongs to one account and changes only when
        the user applies for a new one (the account is then connected afresh).
        """
        api_key = api_key_of(credential)
        self._device_entries(credential)
        return hashlib.sha256(api_key.encode()).hexdigest()[:32]

    def list_devices(self, credential: AnyCredential) -> list[Device]:
        devices = []
        for entry in self._device_entries(credential):
            if not is_light(entry):
                continue
            sku, device = entry.get("sku"), entry.get("device")
            if not isinstance(sku, str) or not sku or not isinstance(device, str) or not device:
                continue
            name = entry.get("deviceName") or f"Govee {sku}"
            devices.append(
                Device(
                    id=device_id(sku, device),
                    name=str(name),
                    features=features_from(entry["capabilities"]),
                    manufacturer="Govee",
                    model=sku,
                    description=f"Govee {sku} light",
                )
            )
        return devices

    def read_state(self, credential: AnyCredential, device_id: str) -> BulbState:
        api_key_of(credential)  # another kind is refused before the device id is looked at
        sku, device = split_device_id(device_id)
        answer = self.client.request(
            credential,
            "POST",
            "/device/state",
            json={"requestId": str(uuid.uuid4()), "payload": {"sku": sku, "device": device}},
        )
        payload = answer.get("payload")
        capabilities = payload.get("capabilities") if isinstance(payload, dict) else None
        if not isinstance(capabilities, list):
            raise EndpointUnreachable("Govee device state without capabilities")
        try:
            return state_from(capabilities, self._capabilities.get(device_id))
        except (BadValue, ValueError) as exc:
            raise EndpointUnreachable(f"unreadable Govee state: {exc}") from exc

    def execute(self, credential: AnyCredential, device_id: str, change: Change) -> Accepted:
        """One control call per capability (Govee takes one per call; see ``capabilities_for``
        for the order). Their ``requestId`` is ``<reference>.<n>``; the reference is returned."""
        api_key_of(credential)
        sku, device = split_device_id(device_id)
        reference = str(uuid.uuid4())
        deadline = time.monotonic() + self._budget
        advertised = self._capabilities.get(device_id)
        if advertised is None and _needs_ranges(change):
            advertised = self._advertised(credential, device_id, deadline)
        for n, capability in enumerate(capabilities_for(change, advertised), start=1):
            answer = self.client.request(
                credential,
                "POST",
                "/device/control",
                json={
                    "requestId": f"{reference}.{n}",
                    "payload": {"sku": sku, "device": device, "capability": capability},
                },
                deadline=deadline,
            )
            _check_control(answer)
        return Accepted(reference=reference)

    def _device_entries(
        self, credential: AnyCredential, deadline: float | None = None
    ) -> list[dict[str, Any]]:
        answer = self.client.request(credential, "GET", "/user/devices", deadline=deadline)
        data = answer.get("data")
        if not isinstance(data, list):
            raise EndpointUnreachable("Govee device list without data")
        entries = [entry for entry in data if isinstance(entry, dict)]
        for entry in entries:
            sku, device, capabilities = (
                entry.get("sku"),
                entry.get("device"),
                entry.get("capabilities"),
            )
            if isinstance(sku, str) and isinstance(device, str) and isinstance(capabilities, list):
                self._remember(device_id(sku, device), capabilities)
        return entries

    def _advertised(self, credential: AnyCredential, device: str, deadline: float) -> list[Any]:
        """The device's advertised capabilities, from the device list (one call) when this
        container has not seen them; ``NoSuchEndpoint`` when the account has no such device."""
        self._device_entries(credential, deadline)
        advertised = self._capabilities.get(device)
        if advertised is None:
            raise NoSuchEndpoint(f"Govee lists no device {device[:64]!r} for this key")
        return advertised

    def _remember(self, device: str, capabilities: list[Any]) -> None:
        self._capabilities[device] = capabilities
        self._capabilities.move_to_end(device)
        while len(self._capabilities) > _CAPABILITY_CACHE_SIZE:
            self._capabilities.popitem(last=False)


def _needs_ranges(change: Change) -> bool:
    """Brightness (other than 0: off) and colour temperature are clamped to advertised ranges."""
    return bool(change.brightness) or change.color_temperature is not None


def _check_control(answer: dict[str, Any]) -> None:
    """A control answer echoes the capability with ``state.status``; anything but "success"
    means the device did not take it."""
    capability = answer.get("capability")
    state = capability.get("state") if isinstance(capability, dict) else None
    status = state.get("status") if isinstance(state, dict) else None
    if status is not None and str(status).lower() != "success":
        raise EndpointUnreachable(f"Govee reported control status {status!r}")
