"""The notifications function (``skill.handlers.notifications.handler``) as API Gateway calls it:
each vendor's own path secret, current and previous accepted, rotated-out refused, cached with a
TTL; then a genuine push is processed once, a replay or a stale push changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from skill.aws.secrets import PATH_SECRET_TTL_SECONDS, PathSecrets, matches_any, path_secret_name
from skill.composition import Composition, using
from skill.handlers import notifications
from skill.pipeline import PushHandler
from skill.pipeline._push import FRESHNESS_WINDOW_SECONDS, MemoryPushLog
from tests.fakes import Clock, FakeAdapter
from tests.unit.test_push_security import World, push

CURRENT = "current-path-secret-9f3a1c"
PREVIOUS = "previous-path-secret-04be7d"
RETIRED = "retired-path-secret-5c21aa"
SHARED = "shared-path-secret-77d0e2"


class Secrets(dict):
    """A vendor secrets JSON object as ``skill.aws.secrets.secret_source`` reads it; counts
    reads."""

    reads = 0
    failure: Exception | None = None

    def __call__(self, name: str) -> str:
        self.reads += 1
        if self.failure is not None:
            raise self.failure
        if name not in self:
            raise KeyError(name)
        return self[name]


class Hook:
    def __init__(self) -> None:
        self.world = World()
        self.secrets = Secrets(
            {
                "WEBHOOK_PATH_SECRET": SHARED,
                "WEBHOOK_PATH_SECRET_FAKE": CURRENT,
                "WEBHOOK_PATH_SECRET_FAKE_PREVIOUS": PREVIOUS,
            }
        )
        self.ticks = Clock(0.0)
        self.paths = PathSecrets(self.secrets, clock=self.ticks)
        self.handler = PushHandler(self.world.services, seen=MemoryPushLog())
        self.calls: list[str] = []
        parse = self.world.adapter.parse_notification

        def counted(request):
            self.calls.append("parse")
            return parse(request)

        self.world.adapter.parse_notification = counted

    def post(self, secret: str = CURRENT, request=None, *, vendor: str = "fake") -> dict[str, Any]:
        request = request if request is not None else push(ref="req-1")
        answer = notifications.handler(
            http_event(vendor, secret, request.body, dict(request.headers)), None
        )
        answer["json"] = json.loads(answer["body"]) if answer.get("body") else None
        return answer


@pytest.fixture
def hook() -> Iterator[Hook]:
    hook = Hook()
    with using(Composition(push_handler=hook.handler, path_secrets=hook.paths)):
        yield hook


def http_event(vendor: str, secret: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event as the ``$default`` stage delivers it."""
    path = f"/webhooks/{vendor}/{secret}"
    return {
        "version": "2.0",
        "routeKey": "POST /webhooks/{vendor}/{secret}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **headers},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api1234",
            "domainName": "api1234.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "api1234",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "vendor-push/1.0",
            },
            "requestId": "req-abc",
            "routeKey": "POST /webhooks/{vendor}/{secret}",
            "stage": "$default",
            "time": "22/Nov/2026:18:00:00 +0000",
            "timeEpoch": 1795370400000,
        },
        "pathParameters": {"vendor": vendor, "secret": secret},
        "body": body.decode(),
        "isBase64Encoded": False,
    }


# --- path secrets ------------------------------------------------------------------------------


def test_the_current_secret_is_accepted_and_the_push_processed(hook):
    answer = hook.post(CURRENT)
    assert answer["statusCode"] == 200, answer
    assert sorted(m.kind for m in hook.world.outbox.messages) == ["ChangeReport", "Response"]


@pytest.mark.parametrize(
    "secret", ["wrong", CURRENT[:-1], CURRENT + "x", CURRENT.upper(), SHARED, "%00"]
)
def test_a_wrong_secret_is_not_found_and_never_reaches_the_adapter(hook, secret):
    before = hook.world.snapshot()
    answer = hook.post(secret)
    assert answer["statusCode"] == 404
    assert hook.calls == [] and hook.world.snapshot() == before


def test_the_previous_secret_is_still_accepted(hook):
    assert hook.post(PREVIOUS)["statusCode"] == 200
    assert len(hook.world.outbox.messages) == 2


def test_a_rotated_out_secret_is_refused_once_the_cache_has_expired(hook):
    hook.secrets.update(
        {
            "WEBHOOK_PATH_SECRET_FAKE": "next-path-secret-a81f02",
            "WEBHOOK_PATH_SECRET_FAKE_PREVIOUS": CURRENT,
        }
    )
    hook.post(CURRENT)  # the cached secrets still have CURRENT as current
    hook.ticks.now += PATH_SECRET_TTL_SECONDS + 1
    before = hook.world.snapshot()
    for secret in (PREVIOUS, RETIRED):  # PREVIOUS is rotated out now
        assert hook.post(secret, push(sent_at=1000.0, state={"on": False})).get("statusCode") == 404
    assert hook.world.snapshot() == before and hook.calls == ["parse"]
    assert hook.post(CURRENT, push(state={"on": False}))["statusCode"] == 200  # now the previous
    assert hook.post("next-path-secret-a81f02", push(state={"on": True}))["statusCode"] == 200


def test_the_path_secrets_are_cached_for_their_ttl(hook):
    for _ in range(5):
        hook.post("wrong")
    reads = hook.secrets.reads
    assert reads == 2  # the vendor's current and previous, once
    hook.ticks.now += PATH_SECRET_TTL_SECONDS - 1
    hook.post("wrong")
    assert hook.secrets.reads == reads
    hook.ticks.now += 2
    hook.post("wrong")
    assert hook.secrets.reads == reads + 2


def test_each_vendor_has_its_own_secret(hook):
    """One vendor's URL (a user can read back their SwitchBot webhook URL) opens no other."""
    other = FakeAdapter(name="other")
    other.parse_notification = lambda request: pytest.fail("reached the other vendor's adapter")
    hook.world.services.adapters = type(hook.world.services.adapters)(
        {"fake": lambda _c: hook.world.adapter, "other": lambda _c: other}, environ={}
    )
    hook.secrets["WEBHOOK_PATH_SECRET_OTHER"] = "other-path-secret-11aa22"
    assert hook.post(CURRENT, vendor="other")["statusCode"] == 404
    assert hook.post("other-path-secret-11aa22", vendor="fake")["statusCode"] == 404
    assert hook.calls == []


def test_a_vendor_without_its_own_secret_uses_the_deployment_wide_one(hook):
    paths = PathSecrets(
        Secrets({"WEBHOOK_PATH_SECRET": SHARED, "WEBHOOK_PATH_SECRET_FAKE": CURRENT})
    )
    assert paths.accepted("fake") == (CURRENT,)  # the shared one no longer opens it
    assert paths.accepted("sim-async") == (SHARED,)
    assert path_secret_name("sim-async") == "WEBHOOK_PATH_SECRET_SIM_ASYNC"


def test_a_vendor_without_any_secret_is_not_found(hook):
    with using(Composition(push_handler=hook.handler, path_secrets=PathSecrets(Secrets({})))):
        assert hook.post(CURRENT)["statusCode"] == 404
    assert hook.calls == []


def test_an_unreadable_secret_store_is_a_503_so_that_the_vendor_retries(hook):
    hook.secrets.failure = RuntimeError("Secrets Manager unavailable")
    assert hook.post(CURRENT)["statusCode"] == 503
    hook.secrets.failure = None
    assert hook.post(CURRENT)["statusCode"] == 200  # the failure was not cached


@pytest.mark.parametrize("vendor", ["FAKE", "a" * 33, "fa ke", "fake%2F", "fake\n"])
def test_a_vendor_name_no_adapter_could_have_is_not_found(hook, vendor):
    reads = hook.secrets.reads
    answer = hook.post(CURRENT, vendor=vendor)
    assert answer["statusCode"] == 404 and hook.calls == []
    assert hook.secrets.reads == reads, "a secret was looked up for it"


def test_a_vendor_name_that_spells_another_key_opens_nothing(hook):
    """``fake_previous`` reads ``WEBHOOK_PATH_SECRET_FAKE_PREVIOUS`` as its current secret, but
    no adapter has that name: still nothing reaches an adapter."""
    answer = hook.post(PREVIOUS, vendor="fake_previous")
    assert answer["statusCode"] == 404 and hook.calls == []


def test_secrets_are_compared_with_every_accepted_one():
    assert matches_any("b", ("a", "b")) and matches_any("a", ("a", "b"))
    assert not matches_any("", ("", "a")) and not matches_any("c", ("a", "b"))


# --- what gets through -------------------------------------------------------------------------


def test_a_replayed_push_is_answered_2xx_and_changes_nothing(hook):
    request = push(ref="req-1")
    assert hook.post(CURRENT, request)["statusCode"] == 200
    hook.world.command("user-1", "m-2", None)
    before = hook.world.snapshot()
    for secret in (CURRENT, PREVIOUS):
        answer = hook.post(secret, request)
        assert answer["statusCode"] == 200 and answer["json"] == {"message": "accepted 0"}
    assert hook.world.snapshot() == before


def test_a_stale_push_is_refused(hook):
    before = hook.world.snapshot()
    answer = hook.post(CURRENT, push(ref="req-1", sent_at=1000.0 - FRESHNESS_WINDOW_SECONDS - 1))
    assert answer["statusCode"] == 401
    assert hook.world.snapshot() == before


def test_a_push_for_a_foreign_account_is_answered_2xx_and_changes_nothing(hook):
    before = hook.world.snapshot()
    answer = hook.post(CURRENT, push(ref="req-1", account="acct-stranger"))
    assert answer["statusCode"] == 200 and answer["json"] == {"message": "accepted 0"}
    assert hook.world.snapshot() == before


def test_a_push_with_no_user_and_no_pending_command_is_answered_2xx_and_changes_nothing(hook):
    hook.world.pending.pending.clear()
    before = hook.world.snapshot()
    answer = hook.post(CURRENT, push(account=None))
    assert answer["statusCode"] == 200 and answer["json"] == {"message": "accepted 0"}
    assert hook.world.snapshot() == before
    assert hook.world.counts("PushesUntied") == 1


def test_a_bad_signature_is_refused(hook):
    before = hook.world.snapshot()
    assert hook.post(CURRENT, push(secret="guess"))["statusCode"] == 401
    assert hook.world.snapshot() == before


# --- wiring ------------------------------------------------------------------------------------


def test_vendors_are_given_their_current_secret(monkeypatch):
    from skill.composition import webhook_urls

    monkeypatch.delenv("VENDOR_SECRETS_NAME", raising=False)
    monkeypatch.delenv("WEBHOOK_SECRET_NAME", raising=False)
    monkeypatch.setenv("LOCAL_SECRETS_FROM_ENV", "1")
    monkeypatch.setenv("WEBHOOK_PATH_SECRET", SHARED)
    monkeypatch.setenv("WEBHOOK_PATH_SECRET_SWITCHBOT", CURRENT)
    monkeypatch.setenv("WEBHOOK_PATH_SECRET_SWITCHBOT_PREVIOUS", PREVIOUS)
    url_for = webhook_urls("https://abc.execute-api.us-east-1.amazonaws.com/webhooks/")
    assert (
        url_for("switchbot")
        == f"https://abc.execute-api.us-east-1.amazonaws.com/webhooks/switchbot/{CURRENT}"
    )
    assert (
        url_for("sim-async")
        == f"https://abc.execute-api.us-east-1.amazonaws.com/webhooks/sim-async/{SHARED}"
    )


def test_the_function_records_pushes_in_the_state_table():
    from skill.aws.stores import DynamoPushLog

    services = World().services
    composed = Composition(environ={"STATE_TABLE": "the-pending-table"}, pipeline_services=services)
    handler = composed.push_handler
    assert isinstance(handler.seen, DynamoPushLog) and handler.seen._table == "the-pending-table"
    assert handler.services is services
