"""The credentials vault: one vendor credential per (skill user, vendor), encrypted with KMS.

Each credential is encrypted client-side under the vault's customer-managed key with the
encryption context ``{"user_id": <user>, "vendor": <vendor>}``: a ciphertext copied to another
user's item, or read as another vendor's, does not decrypt. Items:

- ``user_id`` / ``vendor`` (keys), ``ciphertext`` (B), ``account_id`` (the vendor's account id,
  not a secret), ``version`` (N, bumped by every write), ``lease_until`` (N, the refresh lease),
  ``expires_at`` (N, TTL: set only for the grace period after the user unlinked the skill).

``DynamoCredentialVault(table_name, key_id=...)`` needs DynamoDB and KMS (moto in the tests):
``put(StoredCredential(...))`` encrypts and writes, ``get(user_id, vendor)`` reads and
decrypts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from skill.aws.stores._dynamo import DynamoTable
from skill.plugins import credential_from_json, credential_to_json
from skill.ports import VaultError
from skill.records import StoredCredential


class DynamoCredentialVault(DynamoTable):
    def __init__(self, table_name: str, key_id: str, dynamodb: Any = None, kms: Any = None) -> None:
        super().__init__(table_name, dynamodb)
        self._key_id = key_id
        self._kms_client = kms

    @property
    def _kms(self) -> Any:
        if self._kms_client is None:
            from skill.aws import client

            self._kms_client = client("kms")
        return self._kms_client

    @staticmethod
    def _context(user_id: str, vendor: str) -> dict[str, str]:
        return {"user_id": user_id, "vendor": vendor}

    @staticmethod
    def _key(user_id: str, vendor: str) -> dict[str, dict[str, str]]:
        return {"user_id": {"S": user_id}, "vendor": {"S": vendor}}

    # --- reads --------------------------------------------------------------------------------

    def get(self, user_id: str, vendor: str) -> StoredCredential | None:
        try:
            item = self._db.get_item(
                TableName=self._table, Key=self._key(user_id, vendor), ConsistentRead=True
            ).get("Item")
        except Exception as error:  # noqa: BLE001 - any AWS failure is a VaultError
            raise VaultError(f"the vault could not be read ({type(error).__name__})") from None
        if item is None:
            return None
        if "expires_at" in item and float(item["expires_at"]["N"]) <= time.time():
            return None  # past its grace period; DynamoDB's TTL removes it within days
        try:
            plaintext = self._kms.decrypt(
                CiphertextBlob=item["ciphertext"]["B"],
                EncryptionContext=self._context(user_id, vendor),
                KeyId=self._key_id,
            )["Plaintext"]
        except Exception as error:  # noqa: BLE001 - any KMS failure is a VaultError
            raise VaultError(
                f"a credential could not be decrypted ({type(error).__name__})"
            ) from None
        return StoredCredential(
            user_id=user_id,
            vendor=vendor,
            credential=credential_from_json(plaintext),
            account_id=item.get("account_id", {}).get("S"),
            version=int(item.get("version", {}).get("N", "0")),
            grace_until=float(item["expires_at"]["N"]) if "expires_at" in item else None,
            push=item.get("push", {}).get("BOOL", True),
        )

    def vendors_of(self, user_id: str) -> list[str]:
        """The vendors the user has connected (no decryption)."""
        try:
            vendors = list(self._vendor_names(user_id, consistent=True))
        except Exception as error:  # noqa: BLE001 - any AWS failure is a VaultError
            raise VaultError(f"the vault could not be read ({type(error).__name__})") from None
        return vendors

    # --- writes -------------------------------------------------------------------------------

    def put(self, stored: StoredCredential, *, if_version: int | None = None) -> StoredCredential:
        """Encrypt and store; with ``if_version`` only while the stored version is that one (a
        refresh that lost the race writes nothing and raises ``VaultError(conflict=True)``).
        A write clears the grace-period TTL: the user is back."""
        context = self._context(stored.user_id, stored.vendor)
        ciphertext = self._kms.encrypt(
            KeyId=self._key_id,
            Plaintext=credential_to_json(stored.credential),
            EncryptionContext=context,
        )["CiphertextBlob"]
        version = (if_version or stored.version) + 1
        item: dict[str, Any] = {
            **self._key(stored.user_id, stored.vendor),
            "ciphertext": {"B": ciphertext},
            "version": {"N": str(version)},
            "updated_at": {"N": str(int(time.time()))},
        }
        if stored.account_id:
            item["account_id"] = {"S": stored.account_id}
        if not stored.push:
            item["push"] = {"BOOL": False}
        condition: dict[str, Any] = {}
        if if_version is not None:
            condition = {
                "ConditionExpression": "#v = :v OR attribute_not_exists(#v)",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":v": {"N": str(if_version)}},
            }
        try:
            self._db.put_item(TableName=self._table, Item=item, **condition)
        except self._db.exceptions.ConditionalCheckFailedException:
            raise VaultError("the credential changed meanwhile", conflict=True) from None
        return stored.model_copy(update={"version": version, "grace_until": None})

    def take_lease(self, user_id: str, vendor: str, version: int, until: float, now: float) -> bool:
        """The right to refresh one credential: one holder at a time, while ``version`` is
        still the stored one. False when someone else holds it or has refreshed already."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._key(user_id, vendor),
                UpdateExpression="SET lease_until = :until",
                ConditionExpression=(
                    "#v = :v AND (attribute_not_exists(lease_until) OR lease_until < :now)"
                ),
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={
                    ":v": {"N": str(version)},
                    ":until": {"N": str(int(until))},
                    ":now": {"N": str(int(now))},
                },
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def delete(self, user_id: str, vendor: str) -> None:
        self._db.delete_item(TableName=self._table, Key=self._key(user_id, vendor))

    def restore_user(self, user_id: str) -> None:
        """The user linked the skill again: their credentials no longer expire."""
        self._set_expiry(user_id, None)

    def expire_user(self, user_id: str, at: float) -> int:
        """Start the grace period of every credential of the user: DynamoDB's TTL removes them
        at ``at`` unless the user links again (a ``put`` clears it). How many were marked."""
        return self._set_expiry(user_id, at)

    def _set_expiry(self, user_id: str, at: float | None) -> int:
        update: dict[str, Any] = (
            {"UpdateExpression": "REMOVE expires_at"}
            if at is None
            else {
                "UpdateExpression": "SET expires_at = :at",
                "ExpressionAttributeValues": {":at": {"N": str(int(at))}},
            }
        )
        marked = 0
        for vendor in self._vendor_names(user_id):
            try:
                self._db.update_item(
                    TableName=self._table,
                    Key=self._key(user_id, vendor),
                    ConditionExpression="attribute_exists(user_id)",
                    **update,
                )
            except self._db.exceptions.ConditionalCheckFailedException:
                continue  # disconnected meanwhile
            marked += 1
        return marked

    def _vendor_names(self, user_id: str, *, consistent: bool = False) -> Iterator[str]:
        """The vendors of the user's items, read without their ciphertext."""
        for page in self._pages(
            "query",
            TableName=self._table,
            KeyConditionExpression="user_id = :u",
            ExpressionAttributeValues={":u": {"S": user_id}},
            ProjectionExpression="vendor",
            ConsistentRead=consistent,
        ):
            yield from (item["vendor"]["S"] for item in page.get("Items", []))
