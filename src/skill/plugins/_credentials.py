"""What a vendor credential is: the typed value an adapter receives for its own vendor.

An adapter declares its ``credential_kind``; the vault stores one credential per (skill user,
vendor) and hands the adapter only a credential of that kind. Secret parts are ``SecretStr``:
they never show in a repr, a log line or a validation error.

Example::

    >>> credential = OAuthToken.bearer("abc")
    >>> credential.access_token
    SecretStr('**********')
    >>> credential.access_token.get_secret_value()
    'abc'
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter


class CredentialKind(StrEnum):
    """What a vendor needs to be called on a user's behalf (the linking pages ask for it)."""

    OAUTH = "oauth"  # an OAuth access token (and refresh token) from the vendor's own login
    API_KEY = "api_key"  # one key the user copies from the vendor's app (Govee)
    KEY_AND_SECRET = "key_and_secret"  # a token and a secret key (SwitchBot)


class _Credential(BaseModel):
    # defer_build: built at first use, so a cold start pays only for its vendor's kind
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class OAuthToken(_Credential):
    """An OAuth credential. ``expires_at`` (epoch seconds) None: it does not expire, or its
    expiry is not known (a token Alexa relayed in ``vendor`` linking mode)."""

    kind: Literal["oauth"] = "oauth"
    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_at: float | None = None
    #: A second per-account key some OAuth vendors require beside the token (Hue's
    #: application key, created once when the user connects).
    application_key: SecretStr | None = None

    @classmethod
    def bearer(cls, access_token: str, **fields: object) -> OAuthToken:
        return cls.model_validate({"access_token": access_token, **fields})

    def expires_within(self, seconds: float, now: float) -> bool:
        return self.expires_at is not None and self.expires_at - now <= seconds


class ApiKey(_Credential):
    kind: Literal["api_key"] = "api_key"
    api_key: SecretStr

    @classmethod
    def of(cls, api_key: str) -> ApiKey:
        return cls.model_validate({"api_key": api_key})


class KeyAndSecret(_Credential):
    kind: Literal["key_and_secret"] = "key_and_secret"
    key: SecretStr
    secret: SecretStr

    @classmethod
    def of(cls, key: str, secret: str) -> KeyAndSecret:
        return cls.model_validate({"key": key, "secret": secret})


#: The credential an adapter receives: always of the kind it declares, for its own vendor.
AnyCredential = OAuthToken | ApiKey | KeyAndSecret
Credential = Annotated[AnyCredential, Field(discriminator="kind")]
CREDENTIAL: TypeAdapter[OAuthToken | ApiKey | KeyAndSecret] = TypeAdapter(
    Credential, config=ConfigDict(defer_build=True)
)

_CLASSES: dict[CredentialKind, type[_Credential]] = {
    CredentialKind.OAUTH: OAuthToken,
    CredentialKind.API_KEY: ApiKey,
    CredentialKind.KEY_AND_SECRET: KeyAndSecret,
}


def credential_class(kind: CredentialKind) -> type[_Credential]:
    return _CLASSES[kind]


def credential_to_json(credential: OAuthToken | ApiKey | KeyAndSecret) -> bytes:
    """The plaintext the vault encrypts: every secret revealed, so handle it only there."""
    data = {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in credential
    }
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def credential_from_json(plaintext: bytes) -> OAuthToken | ApiKey | KeyAndSecret:
    return CREDENTIAL.validate_json(plaintext)


def credential_from_linking_token(
    kind: CredentialKind, token: str
) -> OAuthToken | ApiKey | KeyAndSecret:
    """``vendor`` linking mode: the token Alexa sends is the vendor's own credential. A key and
    secret travel as ``"<key>:<secret>"``; ``ValueError`` when the token has not that shape."""
    token = (token or "").strip()
    if not token:
        raise ValueError("the linking token is empty")
    if kind is CredentialKind.OAUTH:
        return OAuthToken.bearer(token)
    if kind is CredentialKind.API_KEY:
        return ApiKey.of(token)
    key, sep, secret = token.rpartition(":")
    if not sep or not key or not secret:
        raise ValueError("a key-and-secret linking token must be '<key>:<secret>'")
    return KeyAndSecret.of(key, secret)


def kind_of(credential: OAuthToken | ApiKey | KeyAndSecret) -> CredentialKind:
    return CredentialKind(credential.kind)
