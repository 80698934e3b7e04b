"""Connect, disconnect and delete a user (skill.accounts): what each leaves behind, and the
DeleteReport Alexa gets."""

from __future__ import annotations

import pytest

from skill.accounts import Accounts
from skill.alexa.events import with_scope
from skill.bulbs import BulbState, Change
from skill.delivery import RelinkRequired, TokenCache
from skill.errors import InvalidAuthorizationCredential
from skill.plugins import ApiKey, OAuthToken, Style
from skill.ports import LwaError
from skill.records import DeviceOwner, PendingCommand, TokenRecord
from tests.fakes import (
    COLOR,
    USER,
    FakeAdapter,
    FakeLwa,
    MemoryOutbox,
    MemoryStateStore,
    MemoryTokenStore,
    credentials_of,
    registry_of,
    vault_with,
)
from tests.unit.test_entrypoint import RegisteringAdapter

HOOKS = "https://hooks.example/webhooks/{}/s3cret"


def world(*adapters):
    vault = vault_with(*adapters)
    pending, outbox, tokens = MemoryStateStore(), MemoryOutbox(), MemoryTokenStore()
    tokens.put(TokenRecord(user_id=USER, access_token="lwa", refresh_token="r", expires_at=9e9))
    accounts = Accounts(
        credentials_of(vault),
        registry_of(*adapters),
        pending,
        outbox,
        tokens,
        webhook_url_for=HOOKS.format,
    )
    return accounts, vault, pending, outbox, tokens


def own(pending, user, endpoint, vendor="fake"):
    pending.put_owner(
        DeviceOwner(
            endpoint_id=endpoint,
            user_id=user,
            vendor=vendor,
            features=COLOR,
            state=BulbState(on=True),
        )
    )


def command(endpoint, user, message_id):
    return PendingCommand(
        endpoint_id=endpoint,
        message_id=message_id,
        user_id=user,
        change=Change(on=True),
        expected=BulbState(on=True),
        features=COLOR,
        received_at=0,
        deadline=8,
    )


def test_disconnect_removes_everything_of_that_vendor_and_tells_alexa(assert_alexa_valid):
    pusher = RegisteringAdapter(name="fake", style=Style.ASYNC)
    pusher.registered = [(pusher.credential, HOOKS.format("fake"))]
    other = FakeAdapter(name="other", credential=OAuthToken.bearer("other-credential"))
    accounts, vault, pending, outbox, _ = world(pusher, other)
    for endpoint in ("fake:color-1", "fake:white-1"):
        own(pending, USER, endpoint)
    own(pending, USER, "other:color-1", vendor="other")
    pending.put_pending(command("fake:color-1", USER, "m-1"))

    done = accounts.disconnect(USER, "fake")

    assert done.endpoints == ["fake:color-1", "fake:white-1"] and done.pending_deleted == 1
    assert done.webhook_deregistered and pusher.registered == []
    assert ("user-1", "fake") not in vault.items and ("user-1", "other") in vault.items
    assert [o.endpoint_id for o in pending.owners()] == ["other:color-1"]
    assert pending.pending == {}
    [report] = outbox.messages
    assert report.kind == "DeleteReport" and report.user_id == USER
    assert_alexa_valid(with_scope(report.message, "lwa-token"))
    ids = [e["endpointId"] for e in report.message["event"]["payload"]["endpoints"]]
    assert ids == ["fake:color-1", "fake:white-1"]


def test_a_webhook_another_skill_user_still_needs_is_kept():
    pusher = RegisteringAdapter(name="fake", style=Style.ASYNC)
    pusher.registered = [(pusher.credential, HOOKS.format("fake"))]
    accounts, _vault, pending, _, _ = world(pusher)
    own(pending, USER, "fake:color-1")
    own(pending, "user-2", "fake:color-1")  # a second Alexa account on the same vendor account
    pending.put_pending(command("fake:color-1", "user-2", "m-2"))
    done = accounts.disconnect(USER, "fake")
    assert not done.webhook_deregistered and pusher.registered != []
    assert [o.user_id for o in pending.owners()] == ["user-2"]
    assert list(pending.pending) == [("fake:color-1", "m-2")], "another user's command was deleted"


def test_delete_user_removes_every_connection_and_the_tokens_go_after_the_delete_report(
    assert_alexa_valid,
):
    accounts, vault, pending, outbox, tokens = world(FakeAdapter(), FakeAdapter(name="other"))
    own(pending, USER, "fake:color-1")
    own(pending, USER, "other:white-1", vendor="other")
    own(pending, USER, "gone:1", vendor="gone")  # a vendor no longer installed
    own(pending, "user-2", "fake:color-1")
    done = accounts.delete_user(USER)
    assert sorted(d.vendor for d in done) == ["fake", "other"]
    assert [k for k in vault.items if k[0] == USER] == []
    assert [o.user_id for o in pending.owners()] == ["user-2"]
    [report] = outbox.messages  # one report for every vendor's bulbs
    assert report.forget_user_after and report.kind == "DeleteReport"
    assert [e["endpointId"] for e in report.message["event"]["payload"]["endpoints"]] == [
        "fake:color-1",
        "other:white-1",
    ]
    assert_alexa_valid(with_scope(report.message, "lwa-token"))
    assert tokens.get(USER) is not None, "the tokens the DeleteReport is sent with are gone already"


def test_a_user_with_no_bulbs_loses_the_tokens_at_once():
    accounts, _vault, _pending, outbox, tokens = world(FakeAdapter())
    accounts.delete_user(USER)
    assert outbox.messages == [] and tokens.get(USER) is None


@pytest.mark.parametrize("gateway_status", [202, 403])
def test_the_dispatcher_forgets_a_deleted_user_after_sending_the_last_report(gateway_status):
    from skill.delivery import Dispatcher
    from skill.ports import GatewayAnswer
    from skill.records import OutboxMessage

    class Gateway:
        def __init__(self):
            self.sent = []

        def send(self, url, message, token, *, timeout):
            self.sent.append(token)
            code = None if gateway_status == 202 else "SKILL_DISABLED_EXCEPTION"
            return GatewayAnswer(status=gateway_status, code=code)

    store, lwa = MemoryTokenStore(), FakeLwa()
    store.put(
        TokenRecord(
            user_id=USER, access_token="lwa-1", refresh_token="r", expires_at=lwa.now + 3600
        )
    )
    gateway = Gateway()
    dispatcher = Dispatcher(
        TokenCache(store, lwa, clock=lambda: lwa.now),
        gateway,
        lambda region: "https://gw",
        clock=lambda: lwa.now,
    )
    from skill.alexa import events

    message = OutboxMessage(
        user_id=USER,
        kind="DeleteReport",
        message=events.delete_report(["fake:1"]),
        forget_user_after=True,
    )
    dispatcher.deliver(message)
    assert gateway.sent == ["lwa-1"], "the report was not sent with the user's token"
    assert store.get(USER) is None


def test_connect_checks_the_credential_with_the_vendor_before_storing_it():
    adapter = FakeAdapter()
    accounts, vault, _, _, _ = world()
    accounts.adapters = registry_of(adapter)
    with pytest.raises(InvalidAuthorizationCredential):
        accounts.connect("user-9", "fake", OAuthToken.bearer("wrong"))
    assert ("user-9", "fake") not in vault.items
    with pytest.raises(ValueError):
        accounts.connect("user-9", "fake", ApiKey.of("of-another-kind"))
    stored = accounts.connect("user-9", "fake", adapter.credential)
    assert (
        stored.account_id == "fake-account-1"
        and vault.items[("user-9", "fake")].credential == adapter.credential
    )


@pytest.mark.parametrize("how", ["lwa_invalid_grant", "gateway_skill_disabled"])
def test_an_unlinked_user_keeps_vendor_credentials_only_for_the_grace_period(how):
    vault = vault_with(FakeAdapter())
    store, lwa = MemoryTokenStore(), FakeLwa()
    store.put(TokenRecord(user_id=USER, access_token="old", refresh_token="r", expires_at=0))
    unlinked = []
    cache = TokenCache(
        store,
        lwa,
        clock=lambda: lwa.now,
        on_unlinked=lambda user: (
            unlinked.append(user),
            vault.expire_user(user, lwa.now + 30 * 86400),
        ),
    )
    if how == "lwa_invalid_grant":
        lwa.failure = LwaError("invalid_grant", invalid_grant=True)
        with pytest.raises(RelinkRequired):
            cache.get(USER)
    else:
        cache.forget(USER)
    assert unlinked == [USER]
    assert store.get(USER) is None, "the LWA tokens go at once"
    assert vault.items[(USER, "fake")].grace_until == lwa.now + 30 * 86400
