"""The four built-in adapters: the vendor simulator's clouds, one per API style.

One HTTP client class serves all four; only the vendor key and the declared style differ, which
is the point: the processor that runs an adapter is chosen by its style, not by its code.
The async one adds webhook verification (``PushAdapter``).

Settings: ``SIMULATOR_URL`` (default ``http://127.0.0.1:8765``); the webhook secret is the
secret ``SIM_WEBHOOK_SECRET`` when the context has a secret source, else the environment
variable of that name, else ``local-webhook-secret`` (the simulator's default).

HTTP answers become ``skill.errors``: 401/403 -> ``InvalidAuthorizationCredential``,
404 -> ``NoSuchEndpoint``, 429 -> ``RateLimited`` (with ``Retry-After``), 400 -> ``InvalidValue``,
5xx, timeouts, connection errors and malformed bodies -> ``EndpointUnreachable`` (never
``BridgeUnreachable``: these clouds talk to bulbs directly, so telling the user to check a hub
would send them looking for one they do not have), other 4xx -> ``InternalError`` (our bug).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import requests
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from skill.bulbs import (
    ALEXA_MAX_KELVIN,
    ALEXA_MIN_KELVIN,
    BulbState,
    Change,
    Color,
    Features,
    KelvinRange,
)
from skill.errors import (
    EndpointUnreachable,
    InternalError,
    InvalidAuthorizationCredential,
    InvalidNotification,
    InvalidValue,
    NoSuchEndpoint,
    RateLimited,
)
from skill.plugins import (
    Accepted,
    AdapterContext,
    Device,
    Notification,
    Style,
    WebhookRequest,
)

__all__ = [
    "DEFAULT_SIMULATOR_URL",
    "DEFAULT_WEBHOOK_SECRET",
    "SimulatorAdapter",
    "SimulatorPushAdapter",
    "create_async",
    "create_optimistic",
    "create_polling",
    "create_sync",
]

DEFAULT_SIMULATOR_URL = "http://127.0.0.1:8765"
DEFAULT_WEBHOOK_SECRET = "local-webhook-secret"
REQUEST_TIMEOUT_SECONDS = 2.0
MAX_NOTIFICATION_BYTES = 64 * 1024
#: Replay window: a signed push older than this, or this far ahead of our clock, is refused.
MAX_NOTIFICATION_AGE_SECONDS = 300
MAX_NOTIFICATION_SKEW_SECONDS = 60


# -- the vendor's wire format (extra fields ignored: vendors add fields without notice) ---------


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Me(_Wire):
    user_id: str = Field(min_length=1)


class _Features(_Wire):
    dimmable: bool = False
    color: bool = False
    ct_min: int | None = None
    ct_max: int | None = None


class _Device(_Wire):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    manufacturer: str = "Unknown"
    model: str = "Light"
    features: _Features


class _State(_Wire):
    on: bool
    brightness: int = Field(ge=0, le=100)
    color: Color | None = None
    color_temperature: int | None = None
    color_mode: Literal["color", "temperature"] | None = None
    online: bool = True


class _Receipt(_Wire):
    request_id: str = Field(min_length=1)


class _Offline(_Wire):
    status: Literal["offline"]


class _Push(_Wire):
    device_id: str = Field(min_length=1)
    request_id: str | None = None
    user_id: str | None = None
    state: _State


_DEVICES = TypeAdapter(list[_Device])
W = TypeVar("W", bound=_Wire)


class SimulatorAdapter:
    """A simulated vendor's cloud over HTTP; ``style`` tells the processor how it answers."""

    def __init__(
        self,
        name: str,
        style: Style,
        base_url: str,
        *,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
    ) -> None:
        self.name = name
        self.style = style
        self.base_url = f"{base_url.rstrip('/')}/{name}/v1"
        self.timeout = timeout
        self._session = session or _session()

    def identify_user(self, token: str) -> str:
        return _parse(_Me, self._call("GET", token, "/me")).user_id

    def list_devices(self, token: str) -> list[Device]:
        try:
            devices = _DEVICES.validate_python(self._call("GET", token, "/devices"))
        except ValidationError as exc:
            raise EndpointUnreachable(f"{self.name} sent a malformed device list") from exc
        return [_device(device) for device in devices]

    def read_state(self, token: str, device_id: str) -> BulbState:
        answer = self._call("GET", token, _device_path(device_id, "state"))
        return _bulb_state(_parse(_State, answer))

    def execute(self, token: str, device_id: str, change: Change) -> BulbState | Accepted:
        """Send ``change``; a sync vendor answers with the state, the others with a receipt."""
        body = change.model_dump(mode="json", exclude_none=True)
        answer = self._call("POST", token, _device_path(device_id, "commands"), body)
        if _is_offline(answer):
            raise EndpointUnreachable(f"{self.name} says device {device_id!r} is offline")
        if self.style is Style.SYNC:
            return _bulb_state(_parse(_State, answer))
        return Accepted(reference=_parse(_Receipt, answer).request_id)

    def _call(self, method: str, token: str, path: str, body: Any = None) -> Any:
        """One vendor request: errors mapped, JSON decoded (a non-JSON body is malformed)."""
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                headers={"Authorization": f"Bearer {token}"},
                json=body,
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            raise EndpointUnreachable(f"{self.name} did not answer in {self.timeout} s") from exc
        except requests.RequestException as exc:
            raise EndpointUnreachable(f"{self.name} cannot be reached") from exc
        _raise_for_status(self.name, response)
        try:
            return response.json()
        except ValueError as exc:
            raise EndpointUnreachable(f"{self.name} sent a body that is not JSON") from exc


class SimulatorPushAdapter(SimulatorAdapter):
    """The ``async`` simulator adapter: also verifies and reads the vendor's webhook pushes.

    A separate class so that only this adapter satisfies ``PushAdapter``.
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        secret: Callable[[], str],
        *,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name, Style.ASYNC, base_url, timeout=timeout, session=session)
        self._secret_source = secret
        self._clock = clock

    @cached_property
    def _secret(self) -> bytes:
        """Fetched at the first push, not at construction: Discover never needs it."""
        return self._secret_source().encode()

    def parse_notification(self, request: WebhookRequest) -> list[Notification]:
        """Verify size, signature and age, then read the push; ``InvalidNotification`` if not."""
        if len(request.body) > MAX_NOTIFICATION_BYTES:
            raise InvalidNotification("notification body too large", status=413)
        timestamp = request.headers.get("x-sim-timestamp", "")
        signature = request.headers.get("x-sim-signature", "")
        self._verify_signature(timestamp, signature, request.body)
        self._verify_age(timestamp)
        try:
            push = _Push.model_validate_json(request.body)
        except ValidationError as exc:
            raise InvalidNotification("notification is not a valid push", status=400) from exc
        notification = Notification(
            device_id=push.device_id,
            state=_bulb_state(push.state, error=lambda m: InvalidNotification(m, status=400)),
            reference=push.request_id or None,
            user_id=push.user_id,
        )
        return [notification]

    def _verify_signature(self, timestamp: str, signature: str, body: bytes) -> None:
        digest = hmac.new(self._secret, timestamp.encode() + b"." + body, hashlib.sha256)
        expected = f"sha256={digest.hexdigest()}".encode()
        if not timestamp or not hmac.compare_digest(expected, signature.encode()):
            raise InvalidNotification("bad or missing notification signature")

    def _verify_age(self, timestamp: str) -> None:
        try:
            sent = int(timestamp)
        except ValueError as exc:
            raise InvalidNotification("notification timestamp is not unix seconds") from exc
        age = self._clock() - sent
        if age > MAX_NOTIFICATION_AGE_SECONDS or age < -MAX_NOTIFICATION_SKEW_SECONDS:
            raise InvalidNotification("notification timestamp is outside the replay window")


# -- factories (entry points ``sim-*`` of ``bulb_skill.adapters``) -------------------------------


def create_sync(ctx: AdapterContext) -> SimulatorAdapter:
    return SimulatorAdapter("sim-sync", Style.SYNC, _base_url(ctx), timeout=_timeout(ctx))


def create_async(ctx: AdapterContext) -> SimulatorPushAdapter:
    return SimulatorPushAdapter(
        "sim-async", _base_url(ctx), lambda: _webhook_secret(ctx), timeout=_timeout(ctx)
    )


def create_optimistic(ctx: AdapterContext) -> SimulatorAdapter:
    return SimulatorAdapter(
        "sim-optimistic", Style.OPTIMISTIC, _base_url(ctx), timeout=_timeout(ctx)
    )


def create_polling(ctx: AdapterContext) -> SimulatorAdapter:
    return SimulatorAdapter("sim-polling", Style.POLLING, _base_url(ctx), timeout=_timeout(ctx))


def _base_url(ctx: AdapterContext) -> str:
    return ctx.environ.get("SIMULATOR_URL") or DEFAULT_SIMULATOR_URL


def _timeout(ctx: AdapterContext) -> float:
    return min(ctx.timeout_seconds, REQUEST_TIMEOUT_SECONDS)


def _webhook_secret(ctx: AdapterContext) -> str:
    if ctx.secrets is not None:
        return ctx.secret("SIM_WEBHOOK_SECRET")
    return ctx.environ.get("SIM_WEBHOOK_SECRET") or DEFAULT_WEBHOOK_SECRET


# -- helpers ---------------------------------------------------------------------------------


def _session() -> requests.Session:
    """One pooled session per adapter; ``trust_env`` off so a developer's HTTP proxy never
    captures loopback calls to the simulator."""
    session = requests.Session()
    session.trust_env = False
    session.headers.update({"Accept": "application/json", "User-Agent": "bulb-skill/sim-adapter"})
    return session


def _device_path(device_id: str, leaf: str) -> str:
    return f"/devices/{quote(device_id, safe='')}/{leaf}"


def _raise_for_status(vendor: str, response: requests.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    message = f"{vendor} answered {status}: {_vendor_message(response)}"
    if status in (401, 403):
        raise InvalidAuthorizationCredential(message)
    if status == 404:
        raise NoSuchEndpoint(message)
    if status == 429:
        raise RateLimited(message, retry_after=_retry_after(response.headers.get("Retry-After")))
    if status == 400:
        raise InvalidValue(message)
    if status >= 500:
        raise EndpointUnreachable(message)
    raise InternalError(message)


def _vendor_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or "no details"
    message = body.get("message") if isinstance(body, dict) else None
    return str(message or response.reason or "no details")[:200]


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _parse(model: type[W], data: Any) -> W:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise EndpointUnreachable(f"malformed vendor answer ({model.__name__[1:]})") from exc


def _is_offline(answer: Any) -> bool:
    try:
        _Offline.model_validate(answer)
    except ValidationError:
        return False
    return True


def _device(device: _Device) -> Device:
    return Device(
        id=device.id,
        name=device.name,
        features=_features(device.features),
        manufacturer=device.manufacturer,
        model=device.model,
        description=f"{device.manufacturer} {device.model}",
    )


def _features(features: _Features) -> Features:
    kelvin = None
    if features.ct_min is not None and features.ct_max is not None:
        kelvin = KelvinRange(
            minimum=max(ALEXA_MIN_KELVIN, min(features.ct_min, ALEXA_MAX_KELVIN)),
            maximum=min(ALEXA_MAX_KELVIN, max(features.ct_max, ALEXA_MIN_KELVIN)),
        )
    return Features(dimmable=features.dimmable, color=features.color, color_temperature=kelvin)


def _bulb_state(
    state: _State, error: Callable[[str], Exception] = EndpointUnreachable
) -> BulbState:
    try:
        return BulbState(
            on=state.on,
            brightness=state.brightness,
            color=state.color,
            color_temperature=state.color_temperature,
            color_mode=state.color_mode,
            reachable=state.online,
        )
    except ValidationError as exc:
        raise error(f"vendor state out of range: {exc.error_count()} problem(s)") from exc

