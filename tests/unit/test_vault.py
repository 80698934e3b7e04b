"""The credentials vault on moto's DynamoDB and KMS: encrypted per (user, vendor), a ciphertext
useless as another user's, conditional refresh writes, the grace period; and ``Credentials``,
which renews an expiring OAuth credential once however many callers need it at that moment."""

from __future__ import annotations

import threading
import time

import boto3
import pytest
from moto import mock_aws

from skill.aws.stores import DynamoCredentialVault
from skill.credentials import Credentials, CredentialUnavailable
from skill.errors import InvalidAuthorizationCredential, NoSuchEndpoint
from skill.plugins import ApiKey, CredentialKind, KeyAndSecret, OAuthToken
from skill.ports import VaultError
from skill.records import StoredCredential
from tests.fakes import FakeAdapter, MemoryVault

TABLE = "bulb-skill-credentials"


@pytest.fixture
def aws():
    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        kms = boto3.client("kms", region_name="us-east-1")
        db.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "user_id", "KeyType": "HASH"},
                {"AttributeName": "vendor", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "user_id", "AttributeType": "S"},
                {"AttributeName": "vendor", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        key = kms.create_key(Description="vault")["KeyMetadata"]["KeyId"]
        yield db, kms, DynamoCredentialVault(TABLE, key, dynamodb=db, kms=kms)


def stored(user="user-1", vendor="lifx", credential=None, **fields) -> StoredCredential:
    return StoredCredential(
        user_id=user,
        vendor=vendor,
        credential=credential or OAuthToken.bearer("lifx-secret-token"),
        **fields,
    )


def test_a_credential_is_stored_encrypted_and_read_back(aws):
    db, _, vault = aws
    for credential in (
        OAuthToken.bearer("t", refresh_token="r", expires_at=5.0),
        ApiKey.of("govee-key"),
        KeyAndSecret.of("sb-token", "sb-secret"),
    ):
        vault.put(stored(vendor=credential.kind, credential=credential, account_id="acct-1"))
        assert vault.get("user-1", credential.kind).credential == credential
    raw = str(db.scan(TableName=TABLE)["Items"])
    for secret in ("govee-key", "sb-token", "sb-secret"):
        assert secret not in raw, "a credential rests in the table in plaintext"
    assert sorted(vault.vendors_of("user-1")) == sorted(k.value for k in CredentialKind)
    assert vault.get("user-2", "lifx") is None


def test_a_ciphertext_does_not_decrypt_as_another_users_or_another_vendors(aws):
    db, _, vault = aws
    vault.put(stored())
    item = db.get_item(TableName=TABLE, Key={"user_id": {"S": "user-1"}, "vendor": {"S": "lifx"}})[
        "Item"
    ]
    for user, vendor in (("user-2", "lifx"), ("user-1", "hue")):
        db.put_item(TableName=TABLE, Item={**item, "user_id": {"S": user}, "vendor": {"S": vendor}})
        with pytest.raises(VaultError):
            vault.get(user, vendor)  # the encryption context names user-1 and lifx


def test_a_refresh_writes_only_over_the_version_it_read(aws):
    _, _, vault = aws
    first = vault.put(stored())
    vault.put(
        first.model_copy(update={"credential": OAuthToken.bearer("new-1")}),
        if_version=first.version,
    )
    with pytest.raises(VaultError) as lost:
        vault.put(
            first.model_copy(update={"credential": OAuthToken.bearer("new-2")}),
            if_version=first.version,
        )
    assert lost.value.conflict
    assert vault.get("user-1", "lifx").credential == OAuthToken.bearer("new-1")


def test_one_refresh_lease_at_a_time(aws):
    _, _, vault = aws
    current = vault.put(stored())
    now = time.time()
    assert vault.take_lease("user-1", "lifx", current.version, now + 15, now)
    assert not vault.take_lease("user-1", "lifx", current.version, now + 15, now)
    assert vault.take_lease("user-1", "lifx", current.version, now + 60, now + 20)  # it lapsed
    assert not vault.take_lease("user-1", "lifx", current.version + 1, now + 90, now + 80)  # stale


def test_the_grace_period_hides_the_credentials_and_a_new_link_ends_it(aws):
    db, _, vault = aws
    vault.put(stored())
    vault.put(stored(vendor="govee", credential=ApiKey.of("k")))
    assert vault.expire_user("user-1", time.time() + 30 * 86400) == 2
    assert vault.get("user-1", "lifx").grace_until is not None
    vault.restore_user("user-1")
    assert vault.get("user-1", "lifx").grace_until is None
    vault.expire_user("user-1", time.time() - 1)  # the grace period is over
    assert vault.get("user-1", "lifx") is None, "an expired credential is still handed out"
    items = db.scan(TableName=TABLE)["Items"]
    assert all("expires_at" in i for i in items), "the TTL attribute DynamoDB deletes by"


def test_a_vault_that_cannot_be_read_is_a_vault_error(aws):
    _, _, _ = aws
    broken = DynamoCredentialVault(
        "no-such-table",
        "no-such-key",
        dynamodb=boto3.client("dynamodb", region_name="us-east-1"),
        kms=boto3.client("kms", region_name="us-east-1"),
    )
    with pytest.raises(VaultError):
        broken.get("user-1", "lifx")
    with pytest.raises(CredentialUnavailable):  # ENDPOINT_UNREACHABLE for a deferred directive
        Credentials(broken).for_adapter("user-1", FakeAdapter(name="lifx"))


# --- Credentials: renewal of expiring OAuth credentials -----------------------------------------


class RefreshingAdapter(FakeAdapter):
    """An OAuth vendor whose token endpoint is slow enough for callers to overlap."""

    refreshes: list[str]
    refuse: bool = False

    def refresh_credential(self, credential: OAuthToken) -> OAuthToken:
        self.refreshes.append(credential.refresh_token.get_secret_value())
        time.sleep(0.2)
        if self.refuse:
            raise InvalidAuthorizationCredential("invalid_grant")
        return credential.model_copy(
            update={
                "access_token": OAuthToken.bearer(f"fresh-{len(self.refreshes)}").access_token,
                "expires_at": time.time() + 3600,
            }
        )


def expiring(seconds: float) -> OAuthToken:
    return OAuthToken.bearer(
        "old-token", refresh_token="refresh-1", expires_at=time.time() + seconds
    )


def test_an_expiring_credential_is_renewed_once_under_concurrency(aws):
    _, _, vault = aws
    adapter = RefreshingAdapter(name="lifx")
    adapter.refreshes = []
    vault.put(stored(credential=expiring(60)))
    results: list[object] = []
    workers = [
        threading.Thread(
            target=lambda: results.append(Credentials(vault).for_adapter("user-1", adapter))
        )
        for _ in range(5)
    ]  # five containers
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert adapter.refreshes == ["refresh-1"], "the credential was renewed more than once"
    assert len(results) == 5
    current = vault.get("user-1", "lifx").credential
    assert current.access_token.get_secret_value() == "fresh-1"
    assert current.refresh_token.get_secret_value() == "refresh-1"


def test_an_expired_credential_waits_for_the_renewal_in_progress(aws):
    _, _, vault = aws
    adapter = RefreshingAdapter(name="lifx")
    adapter.refreshes = []
    vault.put(stored(credential=expiring(-10)))
    results: list[object] = []
    workers = [
        threading.Thread(
            target=lambda: results.append(
                Credentials(vault).for_adapter("user-1", adapter).access_token.get_secret_value()
            )
        )
        for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert adapter.refreshes == ["refresh-1"]
    assert results == ["fresh-1"] * 3, "a caller used the expired token"


def test_a_dead_refresh_token_is_invalid_authorization():
    vault = MemoryVault()
    adapter = RefreshingAdapter(name="lifx")
    adapter.refreshes, adapter.refuse = [], True
    vault.connect("user-1", "lifx", expiring(-10))
    with pytest.raises(InvalidAuthorizationCredential):
        Credentials(vault).for_adapter("user-1", adapter)


def test_a_credential_far_from_expiry_is_not_renewed_and_is_cached_briefly():
    vault = MemoryVault()
    adapter = RefreshingAdapter(name="lifx")
    adapter.refreshes = []
    vault.connect("user-1", "lifx", expiring(3600))
    credentials = Credentials(vault)
    for _ in range(3):
        credentials.for_adapter("user-1", adapter)
    assert adapter.refreshes == [] and vault.reads == 1


def test_a_vendor_the_user_never_connected_is_no_such_endpoint():
    with pytest.raises(NoSuchEndpoint):
        Credentials(MemoryVault()).for_adapter("user-1", FakeAdapter(name="lifx"))


def test_the_connected_vendors_are_cached_briefly_for_control_directives_only():
    from tests.fakes import Clock

    vault, clock = MemoryVault(), Clock()
    vault.connect("user-1", "lifx", OAuthToken.bearer("t"))
    calls = []
    original = vault.vendors_of
    vault.vendors_of = lambda user: (calls.append(user), original(user))[1]
    credentials = Credentials(vault, clock=clock)
    assert credentials.connected("user-1", cached=True) == ["lifx"]
    vault.connect("user-1", "govee", ApiKey.of("k"))
    assert credentials.connected("user-1", cached=True) == ["lifx"] and len(calls) == 1
    assert sorted(credentials.connected("user-1")) == ["govee", "lifx"], (
        "Discover must see a new vendor at once"
    )
    clock.now += 11
    assert len(credentials.connected("user-1", cached=True)) == 2 and len(calls) == 3
