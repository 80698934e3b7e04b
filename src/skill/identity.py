"""Who a directive is for: the skill user its bearer token identifies.

Two implementations of ``skill.ports.Identity``, chosen by ``ACCOUNT_LINKING``:

- ``CognitoIdentity`` (``cognito``, the default): the token is an access token of the skill's
  own Cognito user pool. PyJWT checks its RS256 signature against the pool's JWKS (fetched once
  per container, fetched again once when a token names a key id it has not seen, at most once
  a minute), its issuer, expiry, ``client_id`` and ``token_use``. The user id is ``sub``.
- ``VendorIdentity`` (``vendor``): the token is the one enabled vendor's own credential; the
  adapter says whose account it is (cached by a hash of the token).

``CognitoIdentity(issuer, client_id, fetch=skill.aws.http.get_json).user_of(token)`` is the
user id, or raises ``IdentityError``; ``fetch`` reads the pool's JWKS, so the tests give it
their own keys.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
from cachetools import TTLCache

from skill.errors import SkillError
from skill.plugins import Adapter, credential_from_linking_token
from skill.ports import IdentityError

logger = logging.getLogger(__name__)

#: Seconds of clock difference tolerated on ``exp`` and ``iat``.
LEEWAY_SECONDS = 30
#: A token naming an unknown key id makes the JWKS be fetched again at once, and then not
#: again for this long (a flood of forged key ids must not become a flood of fetches).
JWKS_REFETCH_SECONDS = 60.0

#: Reads a JSON document over HTTP (``skill.aws.http.get_json``; a fake in tests).
Fetch = Callable[[str], dict[str, Any]]


class JwksCache:
    """The user pool's signing keys, fetched at first use and again on an unknown ``kid``."""

    def __init__(
        self,
        url: str,
        *,
        fetch: Fetch,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] | None = None
        self._refetched_at = float("-inf")
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            if self._keys is None:
                self._load()
            elif (
                kid not in self._keys and self._clock() - self._refetched_at >= JWKS_REFETCH_SECONDS
            ):
                self._refetched_at = self._clock()
                self._load()
            assert self._keys is not None
            found = self._keys.get(kid)
        if found is None:
            raise IdentityError("the token is signed with an unknown key")
        return found

    def _load(self) -> None:
        self.fetches += 1
        try:
            keys = jwt.PyJWKSet.from_dict(self._fetch(self.url)).keys
        # OSError covers every HTTP library's transport errors (requests' among them)
        except (OSError, ValueError, jwt.PyJWKSetError) as error:
            if self._keys is None:
                raise IdentityError(
                    f"the user pool's keys could not be read ({type(error).__name__})"
                ) from None
            logger.warning("JWKS refetch failed; keeping the keys we have")
            return
        self._keys = {k.key_id: k for k in keys if k.key_id}


class CognitoIdentity:
    def __init__(
        self,
        issuer: str,
        client_id: str,
        *,
        jwks_url: str | None = None,
        jwks: JwksCache | None = None,
        fetch: Fetch | None = None,
    ) -> None:
        if not issuer or not client_id:
            raise RuntimeError("cognito linking needs COGNITO_ISSUER and COGNITO_CLIENT_ID")
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        if jwks is None:
            if fetch is None:
                raise TypeError("CognitoIdentity needs jwks or fetch (skill.aws.http.get_json)")
            jwks = JwksCache(jwks_url or f"{self.issuer}/.well-known/jwks.json", fetch=fetch)
        self.jwks = jwks

    def user_of(self, token: str | None) -> str:
        return str(self.claims_of(token)["sub"])

    def claims_of(self, token: str | None) -> dict[str, Any]:
        """The verified claims of an access token of this client (``IdentityError`` else)."""
        if not token or not isinstance(token, str):
            raise IdentityError("no token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise IdentityError("the token is not a JWT") from None
        kid = header.get("kid")
        if header.get("alg") != "RS256" or not isinstance(kid, str):
            raise IdentityError("the token is not signed as the user pool signs")
        key = self.jwks.key(kid)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={
                    "require": ["exp", "iss", "sub", "token_use", "client_id"],
                    "verify_aud": False,
                },  # access tokens carry client_id, not aud
            )
        except jwt.ExpiredSignatureError:
            raise IdentityError("the token has expired") from None
        except jwt.InvalidTokenError as error:
            raise IdentityError(f"the token is not valid ({type(error).__name__})") from None
        if claims.get("token_use") != "access":
            raise IdentityError("not an access token")
        if claims.get("client_id") != self.client_id:
            raise IdentityError("the token was issued to another client")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise IdentityError("the token names no user")
        return claims

    def email_of(self, id_token: str | None, audience: str, subject: str) -> str | None:
        """The e-mail of a verified ID token issued to ``audience`` for ``subject``; None when
        there is none or it does not verify (the caller then shows something else)."""
        if not id_token:
            return None
        try:
            key = self.jwks.key(str(jwt.get_unverified_header(id_token).get("kid")))
            claims = jwt.decode(
                id_token,
                key=key,
                algorithms=["RS256"],
                issuer=self.issuer,
                audience=audience,
                leeway=LEEWAY_SECONDS,
            )
        except (jwt.InvalidTokenError, IdentityError):
            return None
        if claims.get("token_use") != "id" or claims.get("sub") != subject:
            return None
        email = claims.get("email")
        return email if isinstance(email, str) and email else None


class VendorIdentity:
    """``vendor`` linking: the one adapter says whose account the token is."""

    def __init__(self, adapter: Adapter, *, ttl_seconds: float = 600.0) -> None:
        self.adapter = adapter
        self._known: TTLCache[str, str] = TTLCache(maxsize=4096, ttl=ttl_seconds)
        self._lock = threading.Lock()

    def user_of(self, token: str | None) -> str:
        if not token or not isinstance(token, str):
            raise IdentityError("no token")
        key = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            known = self._known.get(key)
        if known is not None:
            return known
        try:
            credential = credential_from_linking_token(self.adapter.credential_kind, token)
        except ValueError as error:
            raise IdentityError(str(error)) from None
        try:
            user_id = self.adapter.identify_user(credential)
        except SkillError as error:
            if error.retryable:
                raise  # the vendor is down: not the user's fault
            raise IdentityError(f"{self.adapter.name} does not accept the token") from None
        with self._lock:
            self._known[key] = user_id
        return user_id
