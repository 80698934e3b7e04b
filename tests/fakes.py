"""In-memory stand-ins for the core's ports and a vendor adapter, for unit tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from skill.bulbs import BulbState, Change, Color, Features, KelvinRange
from skill.credentials import Credentials
from skill.errors import InvalidAuthorizationCredential, NoSuchEndpoint, SkillError
from skill.plugins import Accepted, AdapterRegistry, CredentialKind, Device, OAuthToken, Style
from skill.ports import IdentityError, LwaError, VaultError
from skill.records import LwaTokens, QueuedDirective, StoredCredential, TokenRecord

#: The bearer token Alexa sends (a skill user's access token); it identifies ``USER``.
TOKEN = "demo-token"
USER = "user-1"
#: The user's credential at the fake vendor (what the vault holds; never the Alexa token).
CREDENTIAL = OAuthToken.bearer("fake-vendor-credential")

COLOR = Features(
    dimmable=True, color=True, color_temperature=KelvinRange(minimum=2000, maximum=9000)
)
TUNABLE = Features(dimmable=True, color_temperature=KelvinRange(minimum=2700, maximum=6500))
WHITE = Features(dimmable=True)


@dataclass
class FakeAdapter:
    """A vendor with three bulbs; ``failure`` makes every call raise it."""

    name: str = "fake"
    style: Style = Style.SYNC
    credential: OAuthToken = CREDENTIAL
    credential_kind: CredentialKind = CredentialKind.OAUTH
    failure: SkillError | None = None
    states: dict[str, BulbState] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    #: The ``known`` state each ``execute`` was handed (what the core read before the command).
    known: list[BulbState | None] = field(default_factory=list)
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

    def _check(self, credential, device_id: str | None = None) -> None:
        if self.failure is not None:
            raise self.failure
        if credential != self.credential:
            raise InvalidAuthorizationCredential("credential rejected")
        if device_id is not None and device_id not in self.devices:
            raise NoSuchEndpoint(device_id)

    def identify_user(self, credential) -> str:
        self.calls.append(("identify", ""))
        self._check(credential)
        return "fake-account-1"

    def list_devices(self, credential) -> list[Device]:
        self.calls.append(("list", ""))
        self._check(credential)
        return list(self.devices.values())

    def read_state(self, credential, device_id: str) -> BulbState:
        self.calls.append(("read", device_id))
        self._check(credential, device_id)
        return self.states[device_id]

    def execute(
        self, credential, device_id: str, change: Change, known: BulbState | None = None
    ) -> BulbState | Accepted:
        self.calls.append(("execute", device_id))
        self.known.append(known)
        self._check(credential, device_id)
        update = dict(change.model_dump(exclude_none=True).items())
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
        if (
            if_unchanged is not None
            and current is not None
            and _credentials(current) != _credentials(if_unchanged)
        ):
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
        return LwaTokens(
            access_token=f"at-{code}", refresh_token=f"rt-{code}", expires_at=self.now + 3600
        )

    def refresh(self, refresh_token: str) -> LwaTokens:
        self.refreshed.append(refresh_token)
        if self.failure:
            raise self.failure
        n = len(self.refreshed)
        return LwaTokens(
            access_token=f"at-r{n}", refresh_token=refresh_token, expires_at=self.now + 3600
        )


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


class FakeIdentity:
    """Tokens -> skill user ids; anything else is refused."""

    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.users = dict(users or {TOKEN: USER})

    def user_of(self, token):
        if not token or token not in self.users:
            raise IdentityError("unknown token")
        return self.users[token]


class MemoryVault:
    """The credentials vault in memory (no encryption: what it stores is what the tests see)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], StoredCredential] = {}
        self.leases: dict[tuple[str, str], float] = {}
        self.failure: Exception | None = None
        self.reads = 0

    def connect(self, user_id: str, vendor: str, credential, account_id: str | None = None) -> None:
        self.items[(user_id, vendor)] = StoredCredential(
            user_id=user_id, vendor=vendor, credential=credential, account_id=account_id, version=1
        )

    def get(self, user_id, vendor):
        self.reads += 1
        if self.failure:
            raise VaultError("vault down")
        return self.items.get((user_id, vendor))

    def vendors_of(self, user_id):
        if self.failure:
            raise VaultError("vault down")
        return [v for (u, v) in self.items if u == user_id]

    def put(self, stored, *, if_version=None):
        current = self.items.get((stored.user_id, stored.vendor))
        if if_version is not None and current is not None and current.version != if_version:
            raise VaultError("changed", conflict=True)
        version = (if_version if if_version is not None else stored.version) + 1
        new = stored.model_copy(update={"version": version, "grace_until": None})
        self.items[(stored.user_id, stored.vendor)] = new
        self.leases.pop((stored.user_id, stored.vendor), None)
        return new

    def take_lease(self, user_id, vendor, version, until, now):
        current = self.items.get((user_id, vendor))
        if current is None or current.version != version:
            return False
        if self.leases.get((user_id, vendor), 0) >= now:
            return False
        self.leases[(user_id, vendor)] = until
        return True

    def delete(self, user_id, vendor):
        self.items.pop((user_id, vendor), None)

    def expire_user(self, user_id, at):
        keys = [k for k in self.items if k[0] == user_id]
        for key in keys:
            self.items[key] = self.items[key].model_copy(update={"grace_until": at})
        return len(keys)

    def restore_user(self, user_id):
        for key in [k for k in self.items if k[0] == user_id]:
            self.items[key] = self.items[key].model_copy(update={"grace_until": None})


def credentials_of(vault: MemoryVault, clock=None) -> Credentials:
    """A ``Credentials`` over ``vault`` with no in-memory cache (tests see every read)."""
    if clock is None:
        return Credentials(vault, cache_seconds=0.000001)
    return Credentials(
        vault, clock=clock, sleep=getattr(clock, "sleep", lambda s: None), cache_seconds=0.000001
    )


def vault_with(*adapters: FakeAdapter, user_id: str = USER) -> MemoryVault:
    """A vault where ``user_id`` connected every adapter given, each with its own credential."""
    vault = MemoryVault()
    for adapter in adapters:
        vault.connect(user_id, adapter.name, adapter.credential, account_id="fake-account-1")
    return vault


class MemoryStateStore:
    def __init__(self) -> None:
        self.pending: dict[tuple[str, str], object] = {}
        self.owners_by_key: dict[tuple[str, str], object] = {}
        self.accounts: dict[tuple[str, str], tuple[object, str | None]] = {}

    def put_pending(self, command) -> None:
        self.pending[(command.endpoint_id, command.message_id)] = command

    def pending_for(self, endpoint_id):
        return [c for (e, _), c in self.pending.items() if e == endpoint_id]

    def get_pending(self, endpoint_id, message_id):
        return self.pending.get((endpoint_id, message_id))

    def delete_pending(self, endpoint_id, message_id) -> bool:
        return self.pending.pop((endpoint_id, message_id), None) is not None

    def put_owner(self, owner) -> None:
        self.owners_by_key[(owner.endpoint_id, owner.user_id)] = owner

    def put_owners(self, owners) -> None:
        for owner in owners:
            self.put_owner(owner)

    def add_owners(self, owners) -> int:
        new = [o for o in owners if (o.endpoint_id, o.user_id) not in self.owners_by_key]
        for owner in new:
            self.owners_by_key[(owner.endpoint_id, owner.user_id)] = owner
        return len(new)

    def owner_of(self, endpoint_id, user_id):
        return self.owners_by_key.get((endpoint_id, user_id))

    def owners_of(self, endpoint_id):
        return [o for (e, _), o in self.owners_by_key.items() if e == endpoint_id]

    def owners(self):
        return list(self.owners_by_key.values())

    def delete_owner(self, endpoint_id, user_id) -> None:
        self.owners_by_key.pop((endpoint_id, user_id), None)

    def owners_of_user(self, user_id, vendor=None):
        return [
            o
            for (_, u), o in self.owners_by_key.items()
            if u == user_id and (vendor is None or o.vendor == vendor)
        ]

    # the sweep's schedule: (vendor, user) -> (account, slot or None), as DynamoStateStore
    def put_sweep_account(self, account, *, swept: bool = True) -> None:
        from skill import cadence

        slot = cadence.slot_of(account.vendor, account.user_id, account.cadence) if swept else None
        self.accounts[(account.vendor, account.user_id)] = (account, slot)

    def reschedule_sweep_account(self, account, *, seen) -> bool:
        known = self.accounts.get((account.vendor, account.user_id))
        if known is None or known[1] is None or known[0].last_activity != seen.last_activity:
            return False
        self.put_sweep_account(account)
        return True

    def add_sweep_account(self, account) -> bool:
        known = self.accounts.get((account.vendor, account.user_id))
        if known is not None and known[1] is not None:
            return False
        self.put_sweep_account(account)
        return True

    def due_accounts(self, slot):
        return [a for a, s in self.accounts.values() if s == slot]

    def record_activity(self, vendor, user_id, now) -> None:
        from skill import cadence

        known = self.accounts.get((vendor, user_id))
        if known is None or known[1] is None:
            return
        account = known[0].model_copy(update={"last_activity": now, "cadence": known[0].floor})
        self.accounts[(vendor, user_id)] = (
            account,
            cadence.slot_of(vendor, user_id, account.cadence),
        )

    def delete_sweep_account(self, vendor, user_id) -> None:
        self.accounts.pop((vendor, user_id), None)


class MemorySweepQueue:
    def __init__(self) -> None:
        self.sent: list = []

    def send(self, accounts) -> None:
        self.sent.extend(accounts)

    def take(self) -> list:
        taken, self.sent = self.sent, []
        return taken


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


def sweep_tick(services) -> int:
    """One sweep minute in-process: the scheduler's due accounts, read by a worker; the events
    sent. Every account that owns a bulb is scheduled first, as Discover schedules it (these
    tests learn their bulbs through commands, not Discover)."""
    from skill.pipeline import SweepScheduler, SweepWorker
    from skill.records import SweepAccount

    for owner in services.pending.owners():
        services.pending.add_sweep_account(
            SweepAccount(vendor=owner.vendor, user_id=owner.user_id, last_activity=services.clock())
        )
    queue = MemorySweepQueue()
    SweepScheduler(services.pending, queue, clock=services.clock).run()
    return SweepWorker(services).read(queue.take()).events
