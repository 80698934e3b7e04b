"""In-memory stand-ins for the core's ports and a vendor adapter, for unit tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from skill.bulbs import BulbState, Change, Color, Features, KelvinRange
from skill.errors import InvalidAuthorizationCredential, NoSuchEndpoint, SkillError
from skill.plugins import Accepted, AdapterRegistry, Device, Style
from skill.ports import LwaError
from skill.records import LwaTokens, QueuedDirective, TokenRecord

TOKEN = "demo-token"

COLOR = Features(dimmable=True, color=True, color_temperature=KelvinRange(minimum=2000, maximum=9000))
TUNABLE = Features(dimmable=True, color_temperature=KelvinRange(minimum=2700, maximum=6500))
WHITE = Features(dimmable=True)


@dataclass
class FakeAdapter:
    """A vendor with three bulbs; ``failure`` makes every call raise it."""

    name: str = "fake"
    style: Style = Style.SYNC
    token: str = TOKEN
    failure: SkillError | None = None
    states: dict[str, BulbState] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    _refs: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        if not self.devices:
            for device in (
                Device("color-1", "Colour Bulb", COLOR, "Fake", "C1"),
                Device("tunable-1", "Tunable Bulb", TUNABLE, "Fake", "T1"),
                Device("white-1", "White Bulb", WHITE, "Fake", "W1"),
            ):
                self.devices[device.id] = device
                self.states[device.id] = BulbState(on=False, brightness=60)

    def _check(self, token: str, device_id: str | None = None) -> None:
        if self.failure is not None:
            raise self.failure
        if token != self.token:
            raise InvalidAuthorizationCredential("token rejected")
        if device_id is not None and device_id not in self.devices:
            raise NoSuchEndpoint(device_id)

    def identify_user(self, token: str) -> str:
        self.calls.append(("identify", ""))
        self._check(token)
        return "user-1"

    def list_devices(self, token: str) -> list[Device]:
        self.calls.append(("list", ""))
        self._check(token)
        return list(self.devices.values())

    def read_state(self, token: str, device_id: str) -> BulbState:
        self.calls.append(("read", device_id))
        self._check(token, device_id)
        return self.states[device_id]

    def execute(self, token: str, device_id: str, change: Change) -> BulbState | Accepted:
        self.calls.append(("execute", device_id))
        self._check(token, device_id)
        update = {k: v for k, v in change.model_dump(exclude_none=True).items()}
        if change.color is not None:
            update.update(color=change.color, color_mode="color")
        if change.color_temperature is not None:
            update.update(color_mode="temperature")
        new = self.states[device_id].model_copy(update=update)
        self.states[device_id] = new
        if self.style is Style.SYNC:
            return new
        return Accepted(reference=f"ref-{next(self._refs)}")


def registry_of(*adapters: FakeAdapter) -> AdapterRegistry:
    return AdapterRegistry({a.name: (lambda _ctx, a=a: a) for a in adapters}, environ={})


class MemoryTokenStore:
    def __init__(self) -> None:
        self.records: dict[str, TokenRecord] = {}
        self.failure: Exception | None = None

    def get(self, user_id: str) -> TokenRecord | None:
        return self.records.get(user_id)

    def put(self, record: TokenRecord) -> None:
        if self.failure:
            raise self.failure
        self.records[record.user_id] = record

    def delete(self, user_id: str, *, if_unchanged: TokenRecord | None = None) -> bool:
        current = self.records.get(user_id)
        if if_unchanged is not None and current is not None and _credentials(current) != _credentials(if_unchanged):
            return False
        self.records.pop(user_id, None)
        return True


class FakeLwa:
    def __init__(self) -> None:
        self.failure: LwaError | None = None
        self.exchanged: list[str] = []
        self.refreshed: list[str] = []
        self.now = 1_000_000.0

    def exchange(self, code: str) -> LwaTokens:
        self.exchanged.append(code)
        if self.failure:
            raise self.failure
        return LwaTokens(access_token=f"at-{code}", refresh_token=f"rt-{code}", expires_at=self.now + 3600)

    def refresh(self, refresh_token: str) -> LwaTokens:
        self.refreshed.append(refresh_token)
        if self.failure:
            raise self.failure
        n = len(self.refreshed)
        return LwaTokens(access_token=f"at-r{n}", refresh_token=refresh_token, expires_at=self.now + 3600)


class MemoryQueue:
    def __init__(self) -> None:
        self.messages: list[tuple[Style, QueuedDirective]] = []
        self.failure: Exception | None = None

    def enqueue(self, style: Style, directive: QueuedDirective) -> None:
        if self.failure:
            raise self.failure
        self.messages.append((style, directive))


def color(hue: float, saturation: float, brightness: float) -> Color:
    return Color(hue=hue, saturation=saturation, brightness=brightness)


class MemoryOutbox:
    def __init__(self) -> None:
        self.messages: list = []
        self.failure: Exception | None = None

    def put(self, messages) -> None:
        if self.failure:
            raise self.failure
        self.messages += messages


class MemoryPendingStore:
    def __init__(self) -> None:
        self.pending: dict[tuple[str, str], object] = {}
        self.owners_by_endpoint: dict[str, object] = {}

    def put_pending(self, command) -> None:
        self.pending[(command.endpoint_id, command.message_id)] = command

    def pending_for(self, endpoint_id):
        return [c for (e, _), c in self.pending.items() if e == endpoint_id]

    def get_pending(self, endpoint_id, message_id):
        return self.pending.get((endpoint_id, message_id))

    def delete_pending(self, endpoint_id, message_id) -> bool:
        return self.pending.pop((endpoint_id, message_id), None) is not None

    def put_owner(self, owner) -> None:
        self.owners_by_endpoint[owner.endpoint_id] = owner

    def add_owners(self, owners) -> int:
        new = [o for o in owners if o.endpoint_id not in self.owners_by_endpoint]
        for owner in new:
            self.owners_by_endpoint[owner.endpoint_id] = owner
        return len(new)

    def owner_of(self, endpoint_id):
        return self.owners_by_endpoint.get(endpoint_id)

    def owners(self):
        return list(self.owners_by_endpoint.values())

    def delete_owner(self, endpoint_id) -> None:
        self.owners_by_endpoint.pop(endpoint_id, None)


class MemoryPollQueue:
    def __init__(self) -> None:
        self.tickets: list = []

    def schedule(self, ticket, delay_seconds: int) -> None:
        self.tickets.append((ticket, delay_seconds))


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _credentials(record: TokenRecord) -> tuple[str | None, str | None, str | None]:
    return record.access_token, record.refresh_token, record.grant_code
