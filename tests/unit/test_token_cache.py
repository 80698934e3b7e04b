"""The dispatcher's token cache: one LWA call per user per token lifetime, grant codes redeemed
once, dead grants forgotten, passing LWA failures retried."""

from __future__ import annotations

import logging
import threading
import time

import boto3
import pytest
from moto import mock_aws

from skill.aws.stores import DynamoTokenStore
from skill.delivery import RelinkRequired, TokenCache, TokensUnavailable
from skill.ports import LwaError
from skill.records import TokenRecord
from tests.fakes import FakeLwa, MemoryTokenStore

T0 = 1_000_000.0


class Clock:
    """Injectable time: ``sleep`` moves it forward instead of waiting."""

    def __init__(self, now: float = T0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class CountingStore(MemoryTokenStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.deleted: list[str] = []

    def get(self, user_id: str) -> TokenRecord | None:
        self.reads += 1
        return super().get(user_id)

    def delete(self, user_id: str, *, if_unchanged: TokenRecord | None = None) -> bool:
        self.deleted.append(user_id)
        return super().delete(user_id, if_unchanged=if_unchanged)


class ClockedLwa(FakeLwa):
    """FakeLwa whose tokens expire relative to the test's clock."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self._clock = clock

    def exchange(self, code):
        self.now = self._clock()
        return super().exchange(code)

    def refresh(self, refresh_token):
        self.now = self._clock()
        return super().refresh(refresh_token)

    @property
    def calls(self) -> int:
        return len(self.exchanged) + len(self.refreshed)


class Meter:
    def __init__(self) -> None:
        self.counts: list[tuple[str, dict]] = []
        self.values: list[tuple[str, float]] = []

    def count(self, name, dimensions=None):
        self.counts.append((name, dict(dimensions or {})))

    def milliseconds(self, name, value):
        self.values.append((name, value))

    def total(self, name, **dimensions) -> int:
        return sum(
            1
            for n, d in self.counts
            if n == name and all(d.get(k) == v for k, v in dimensions.items())
        )


class Logs(logging.Handler):
    """Every record of the skill's loggers, the service logger and the root, whatever
    propagation Powertools set up: the message, its arguments, extra keys, exception text."""

    NAMES = ("", "skill", "bulb-skill")

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._seen: set[int] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if id(record) not in self._seen:  # the same record can reach two of our loggers
            self._seen.add(id(record))
            self.records.append(record)

    @property
    def text(self) -> str:
        formatter = logging.Formatter()
        return "\n".join(
            f"{r.levelname} {r.getMessage()} "
            f"{formatter.formatException(r.exc_info) if r.exc_info else ''} {r.__dict__}"
            for r in self.records
        )

    def at(self, level: int) -> str:
        return "\n".join(r.getMessage() for r in self.records if r.levelno >= level)


@pytest.fixture
def logs():
    handler = Logs()
    saved = []
    for name in Logs.NAMES:
        log = logging.getLogger(name)
        saved.append((log, log.level))
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
    yield handler
    for log, level in saved:
        log.removeHandler(handler)
        log.setLevel(level)


def linked(
    user_id="user-1", *, expires_at=T0 + 3600, access="at-stored", refresh="rt-stored", region="NA"
):
    return TokenRecord(
        user_id=user_id,
        region=region,
        access_token=access,
        refresh_token=refresh,
        expires_at=expires_at,
    )


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store():
    return CountingStore()


@pytest.fixture
def lwa(clock):
    return ClockedLwa(clock)


@pytest.fixture
def meter():
    return Meter()


@pytest.fixture
def cache(store, lwa, clock, meter):
    return TokenCache(store, lwa, clock=clock, meter=meter)


def test_a_cached_token_is_served_without_reading_the_store_again(cache, store, lwa):
    store.put(linked())
    tokens = [cache.get("user-1") for _ in range(50)]
    assert {t.access_token for t in tokens} == {"at-stored"}
    assert store.reads == 1
    assert lwa.calls == 0


def test_a_stored_grant_code_is_exchanged_once_for_fifty_events(cache, store, lwa, meter):
    store.put(TokenRecord(user_id="user-1", region="EU", grant_code="code-1"))
    tokens = [cache.get("user-1") for _ in range(50)]

    assert lwa.exchanged == ["code-1"] and lwa.refreshed == []
    assert {t.access_token for t in tokens} == {"at-code-1"}
    assert tokens[0].region == "EU"
    saved = store.records["user-1"]
    assert (saved.access_token, saved.refresh_token, saved.grant_code, saved.region) == (
        "at-code-1",
        "rt-code-1",
        None,
        "EU",
    )
    assert meter.total("LwaCalls") == 1


def test_a_token_inside_the_refresh_margin_is_refreshed_before_use(cache, store, lwa):
    store.put(linked(expires_at=T0 + 30))
    tokens = cache.get("user-1")
    assert lwa.refreshed == ["rt-stored"]
    assert tokens.access_token == "at-r1"
    assert store.records["user-1"].access_token == "at-r1"
    assert store.records["user-1"].refresh_token == "rt-stored"


def test_crossing_the_expiry_costs_exactly_one_refresh(cache, store, lwa, clock):
    store.put(linked(expires_at=T0 + 3600))
    for _ in range(20):
        assert cache.get("user-1").access_token == "at-stored"
    clock.now = T0 + 3600 - 59  # inside the 60 s margin
    after = [cache.get("user-1").access_token for _ in range(20)]
    clock.now = T0 + 3600 + 600  # the refreshed token lives an hour from its refresh
    after += [cache.get("user-1").access_token for _ in range(20)]

    assert lwa.refreshed == ["rt-stored"]
    assert set(after) == {"at-r1"}


def test_a_token_refreshed_by_another_container_is_read_not_refreshed(cache, store, lwa, clock):
    store.put(linked(expires_at=T0 + 3600))
    cache.get("user-1")
    store.put(linked(access="at-elsewhere", expires_at=T0 + 7200))
    clock.now = T0 + 3590
    assert cache.get("user-1").access_token == "at-elsewhere"
    assert lwa.calls == 0


@pytest.mark.parametrize("stored", ["expired", "grant"])
def test_invalid_grant_deletes_the_tokens_and_asks_for_relinking(cache, store, lwa, stored, logs):
    store.put(
        linked(expires_at=T0 - 1)
        if stored == "expired"
        else TokenRecord(user_id="user-1", grant_code="c")
    )
    lwa.failure = LwaError("LWA refused: invalid_grant", invalid_grant=True)
    with pytest.raises(RelinkRequired):
        cache.get("user-1")

    assert "user-1" not in store.records and store.deleted == ["user-1"]
    assert "user must re-link the skill" in logs.at(logging.WARNING)
    assert "rt-stored" not in logs.text and "at-stored" not in logs.text
    assert cache.get("user-1") is None  # forgotten, also in memory


def test_invalid_grant_after_a_relink_keeps_the_new_tokens(store, clock):
    class RelinkingLwa(ClockedLwa):
        def refresh(self, refresh_token):
            # the user re-linked while this refresh was in flight
            store.records["user-1"] = linked(
                access="at-new", refresh="rt-new", expires_at=T0 + 3600
            )
            raise LwaError("LWA refused: invalid_grant", invalid_grant=True)

    cache = TokenCache(store, RelinkingLwa(clock), clock=clock)
    store.put(linked(expires_at=T0 - 1))
    assert cache.get("user-1").access_token == "at-new"
    assert store.records["user-1"].refresh_token == "rt-new"  # the delete of the dead grant refused


def test_a_relink_landing_just_before_the_dead_grant_is_deleted_survives(clock):
    """The delete is conditional on the refused credentials: a re-link between LWA's
    invalid_grant and the delete is not lost (it was, when the store was read and then
    deleted unconditionally)."""

    class RacingStore(CountingStore):
        def delete(self, user_id, *, if_unchanged=None):
            # the re-link's AcceptGrant writes right before this delete reaches the table
            self.records[user_id] = linked(access="at-new", refresh="rt-new", expires_at=T0 + 3600)
            return super().delete(user_id, if_unchanged=if_unchanged)

    store = RacingStore()
    lwa = ClockedLwa(clock)
    lwa.failure = LwaError("LWA refused: invalid_grant", invalid_grant=True)
    store.put(linked(expires_at=T0 - 1))

    assert TokenCache(store, lwa, clock=clock).get("user-1").access_token == "at-new"
    assert store.records["user-1"].refresh_token == "rt-new"


@pytest.mark.parametrize(
    "failure",
    [
        LwaError("LWA unreachable: ReadTimeout", transient=True),
        LwaError("LWA refused: http 503", transient=True),
    ],
)
def test_a_passing_lwa_failure_is_retried_later_and_keeps_the_tokens(cache, store, lwa, failure):
    store.put(linked(expires_at=T0 - 1))
    lwa.failure = failure
    with pytest.raises(TokensUnavailable) as raised:
        cache.get("user-1")
    assert raised.value.transient
    assert "user-1" in store.records
    lwa.failure = None
    assert cache.get("user-1").access_token == "at-r2"  # the next try refreshes


def test_a_token_only_inside_the_margin_is_used_while_lwa_fails(cache, store, lwa):
    store.put(linked(expires_at=T0 + 30))
    lwa.failure = LwaError("LWA unreachable: ConnectTimeout", transient=True)
    assert cache.get("user-1").access_token == "at-stored"


def test_lwa_refusing_the_client_is_a_configuration_fault_not_a_relink(cache, store, lwa, logs):
    store.put(linked(expires_at=T0 - 1))
    lwa.failure = LwaError("LWA refused: invalid_client")
    with pytest.raises(TokensUnavailable) as raised:
        cache.get("user-1")
    assert not raised.value.transient
    assert "configuration fault" in logs.at(logging.ERROR)
    assert "user-1" in store.records


def test_renewing_after_a_401_refreshes_the_rejected_token(cache, store, lwa):
    store.put(linked())
    rejected = cache.get("user-1").access_token
    assert cache.renew("user-1", rejected).access_token == "at-r1"
    assert lwa.refreshed == ["rt-stored"]
    assert cache.get("user-1").access_token == "at-r1"


def test_renewing_uses_a_newer_stored_token_without_lwa(cache, store, lwa):
    store.put(linked())
    rejected = cache.get("user-1").access_token
    store.put(linked(access="at-relinked"))
    assert cache.renew("user-1", rejected).access_token == "at-relinked"
    assert lwa.calls == 0


def test_a_forced_renewal_refreshes_whatever_the_store_holds(cache, store, lwa):
    """After a stored token was refused as well (finding L5), only LWA can say whether the
    grant still holds."""
    store.put(linked())
    cache.get("user-1")
    store.put(linked(access="at-elsewhere"))
    assert cache.renew("user-1", "at-stored").access_token == "at-elsewhere"
    assert cache.renew("user-1", "at-elsewhere", force_refresh=True).access_token == "at-r1"
    assert lwa.refreshed == ["rt-stored"]


def test_a_forced_renewal_while_lwa_fails_gives_no_refused_token(cache, store, lwa):
    store.put(linked(expires_at=T0 + 30))  # inside the margin: a last-resort token otherwise
    lwa.failure = LwaError("LWA refused: http 503", transient=True)
    with pytest.raises(TokensUnavailable):
        cache.renew("user-1", "at-other", force_refresh=True)


def test_concurrent_events_of_one_user_cost_one_lwa_call(store, clock):
    """The dispatcher delivers a batch's events at once: the second thread waits for the
    first one's exchange and finds the tokens cached (a grant code redeemed twice would
    come back invalid_grant and forget the user)."""

    class SlowLwa(ClockedLwa):
        def exchange(self, code):
            time.sleep(0.2)
            return super().exchange(code)

    lwa = SlowLwa(clock)
    cache = TokenCache(store, lwa, clock=clock)
    store.put(TokenRecord(user_id="user-1", grant_code="code-1"))
    got = []
    threads = [
        threading.Thread(target=lambda: got.append(cache.get("user-1").access_token))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)

    assert got == ["at-code-1"] * 4
    assert lwa.exchanged == ["code-1"]
    assert cache._loading == {}  # nothing kept per user once loaded


def test_users_without_tokens_have_none(cache, store, lwa):
    assert cache.get("stranger") is None
    store.put(TokenRecord(user_id="empty"))
    assert cache.get("empty") is None
    assert lwa.calls == 0


def test_forgetting_deletes_from_store_and_memory(cache, store):
    store.put(linked())
    cache.get("user-1")
    cache.forget("user-1")
    assert cache.get("user-1") is None


def test_the_cache_holds_a_bounded_number_of_users(store, lwa, clock):
    cache = TokenCache(store, lwa, clock=clock, max_users=2)
    for user in ("a", "b", "c"):
        store.put(linked(user))
        cache.get(user)
    reads = store.reads
    cache.get("c"), cache.get("b")
    assert store.reads == reads  # still cached
    cache.get("a")
    assert store.reads == reads + 1  # evicted first


def test_a_failed_store_write_after_a_refresh_still_gives_the_token(cache, store, lwa):
    store.put(linked(expires_at=T0 - 1))
    store.failure = RuntimeError("DynamoDB unavailable")
    assert cache.get("user-1").access_token == "at-r1"
    assert lwa.calls == 1


@pytest.fixture
def dynamodb(monkeypatch):
    """moto's DynamoDB with the tokens table (key ``user_id``), as template.yaml makes it."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="tokens",
            KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def test_an_exchanged_grant_is_stored_in_dynamodb(clock, dynamodb):
    store = DynamoTokenStore("tokens", dynamodb)
    store.put(TokenRecord(user_id="user-1", region="FE", grant_code="code-9"))
    lwa = ClockedLwa(clock)
    cache = TokenCache(store, lwa, clock=clock)

    assert [cache.get("user-1").access_token for _ in range(5)] == ["at-code-9"] * 5
    saved = store.get("user-1")
    assert (saved.access_token, saved.refresh_token, saved.grant_code, saved.region) == (
        "at-code-9",
        "rt-code-9",
        None,
        "FE",
    )
    assert saved.expires_at == T0 + 3600
    assert lwa.exchanged == ["code-9"]


def test_dynamodb_deletes_the_tokens_only_while_they_are_the_refused_ones(dynamodb):
    store = DynamoTokenStore("tokens", dynamodb)
    dead = TokenRecord(user_id="user-1", access_token="at-1", refresh_token="rt-1", expires_at=T0)
    relinked = TokenRecord(user_id="user-1", grant_code="code-2")

    store.put(relinked)
    assert store.delete("user-1", if_unchanged=dead) is False
    assert store.get("user-1") == relinked
    assert store.delete("user-1", if_unchanged=relinked) is True  # a grant code, no tokens
    assert store.get("user-1") is None
    store.put(dead)
    assert store.delete("user-1", if_unchanged=dead) is True and store.get("user-1") is None
    store.put(dead)
    assert store.delete("user-1") is True and store.get("user-1") is None
