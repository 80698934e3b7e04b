"""The simulated vendors' bulbs and accounts: wire models, strict body validation, the demo
catalogue, and who each vendor's credentials belong to (``Accounts``).

Deliberately independent of ``skill.bulbs``: the simulator plays a foreign vendor, so a mismatch
between what our adapters send and what a vendor accepts shows up as a 400, as it would for real.
Credentials use the skill's typed credentials (``skill.plugins``) only as the way tests hand
them over; each vendor keeps and checks its own in its own terms.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from skill.plugins import AnyCredential, ApiKey, CredentialKind, KeyAndSecret, OAuthToken

#: Vendor key -> API kind: "sync" answers with the new state, "push" answers 202 and calls the
#: webhook when the bulb has changed, "nopush" answers 202 and says nothing more.
VENDORS: dict[str, str] = {
    "sim-sync": "sync",
    "sim-async": "push",
    "sim-optimistic": "nopush",
    "sim-polling": "nopush",
}

#: Vendor key -> the credential its API takes, each like the real vendor it stands for:
#: ``sim-sync`` OAuth bearer tokens (LIFX), ``sim-async`` a key and a secret with signed requests
#: (SwitchBot API v1.1), ``sim-optimistic`` OAuth (Hue), ``sim-polling`` an API key (Govee).
CREDENTIAL_KINDS: dict[str, CredentialKind] = {
    "sim-sync": CredentialKind.OAUTH,
    "sim-async": CredentialKind.KEY_AND_SECRET,
    "sim-optimistic": CredentialKind.OAUTH,
    "sim-polling": CredentialKind.API_KEY,
}

DEMO_USER = "demo-user"
#: The OAuth client every simulated OAuth vendor knows (fixed local values, not secrets).
OAUTH_CLIENT_ID = "sim-client"
OAUTH_CLIENT_SECRET = "sim-client-secret"
#: How long an access token of a simulated OAuth vendor lives unless told otherwise (seconds).
DEFAULT_TOKEN_LIFETIME = 3600.0
#: How long an authorization code (the authorize page's answer) can be exchanged (seconds).
AUTHORIZATION_CODE_LIFETIME = 120.0
#: OAuth vendors that, like Hue's remote API, want a per-account application key beside the
#: access token once one was created (``POST /<vendor>/v1/appkey``): a token issued through the
#: authorization-code grant, its renewals, and a token added with an ``application_key`` must be
#: sent with ``X-App-Key``. Tokens added without one (the demo user's, load accounts) need none.
APP_KEY_VENDORS: frozenset[str] = frozenset({"sim-optimistic"})

#: Friendly-name prefix and manufacturer per vendor, so Alexa never sees two bulbs with one name.
_BRANDS: dict[str, tuple[str, str]] = {
    "sim-sync": ("Sync", "SimSync Lighting"),
    "sim-async": ("Push", "SimPush Lighting"),
    "sim-optimistic": ("Optimistic", "SimOptimist Lighting"),
    "sim-polling": ("Polling", "SimPoll Lighting"),
}


class BadRequest(ValueError):
    """A body the vendor refuses (400); the message says why, as a vendor's error would.

    A ``ValueError`` so that pydantic validators may raise it too.
    """


class NotFound(LookupError):
    """No such vendor, device or route (404)."""


class Conflict(ValueError):
    """A device with that id already exists (409)."""


class Unauthorized(Exception):
    """The request's credential is missing, unknown, expired or badly signed (401)."""


class OAuthError(Exception):
    """A token-endpoint refusal, as RFC 6749 section 5.2 words it (``error`` code, status)."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class SimColor(_Strict):
    hue: float = Field(ge=0, le=360)
    saturation: float = Field(ge=0, le=1)
    brightness: float = Field(ge=0, le=1)


class SimFeatures(_Strict):
    dimmable: bool = True
    color: bool = False
    ct_min: int | None = Field(default=None, gt=0)
    ct_max: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _range_is_whole(self) -> SimFeatures:
        if (self.ct_min is None) != (self.ct_max is None):
            raise ValueError("ct_min and ct_max go together")
        if self.ct_min is not None and self.ct_max is not None and self.ct_min > self.ct_max:
            raise ValueError("ct_min is above ct_max")
        return self


class SimState(_Strict):
    """What the bulb shows; the colour or colour temperature not in use is null."""

    on: bool = False
    brightness: int = Field(default=100, ge=0, le=100)
    color: SimColor | None = None
    color_temperature: int | None = Field(default=None, gt=0)
    color_mode: Literal["color", "temperature"] | None = None


class Attributes(_Strict):
    """A command body: any subset of the settable attributes (``{}`` is a valid no-op)."""

    on: bool | None = None
    brightness: int | None = Field(default=None, ge=0, le=100)
    color: SimColor | None = None
    color_temperature: int | None = None

    @model_validator(mode="after")
    def _no_nulls_no_conflict(self) -> Attributes:
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"null is not a value for {', '.join(nulls)}")
        if self.color is not None and self.color_temperature is not None:
            raise ValueError("set either color or color_temperature, not both")
        return self


class PhysicalChange(Attributes):
    """What a test does to a bulb by hand (the wall switch, the vendor's own app, a power cut)."""

    online: bool | None = None


class SimDevice(BaseModel):
    """One bulb in a vendor's cloud; mutable, guarded by the simulator's lock."""

    model_config = ConfigDict(strict=True, extra="forbid", validate_assignment=True)

    id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=128)
    manufacturer: str = "Simulated Lighting"
    model: str = "SIM-1"
    features: SimFeatures = SimFeatures()
    state: SimState = SimState()
    online: bool = True

    @model_validator(mode="after")
    def _state_fits_features(self) -> SimDevice:
        check_supported(self.state_attributes(), self.features)
        return self

    def state_attributes(self) -> Attributes:
        """The current state as attributes (what ``check_supported`` understands)."""
        attrs = {"color": self.state.color, "color_temperature": self.state.color_temperature}
        return Attributes(**{name: value for name, value in attrs.items() if value is not None})

    def listing(self) -> dict[str, Any]:
        fields = {"id", "name", "manufacturer", "model", "features"}
        return self.model_dump(mode="json", include=fields)

    def state_json(self) -> dict[str, Any]:
        return {**self.state.model_dump(mode="json"), "online": self.online}


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: bytes | Mapping[str, Any]) -> M:
    """Validate a JSON body (or the same as a mapping) strictly; complaints -> ``BadRequest``."""
    try:
        if isinstance(data, bytes):
            return model.model_validate_json(data or b"null")
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise BadRequest(f"{where}: {first['msg']}") from exc


def check_supported(attrs: Attributes, features: SimFeatures) -> None:
    """Refuse attributes this bulb does not have, like a vendor API does."""
    if attrs.brightness is not None and not features.dimmable:
        raise BadRequest("this device is not dimmable")
    if attrs.color is not None and not features.color:
        raise BadRequest("this device has no colour")
    kelvin = attrs.color_temperature
    if kelvin is not None:
        if features.ct_min is None or features.ct_max is None:
            raise BadRequest("this device has no colour temperature")
        if not features.ct_min <= kelvin <= features.ct_max:
            raise BadRequest(f"color_temperature must be {features.ct_min}-{features.ct_max}")


def applied(state: SimState, attrs: Attributes) -> SimState:
    """The state after ``attrs``: colour and colour temperature exclude each other."""
    update: dict[str, Any] = {
        name: value for name in ("on", "brightness") if (value := getattr(attrs, name)) is not None
    }
    if attrs.color is not None:
        update |= {"color": attrs.color, "color_temperature": None, "color_mode": "color"}
    if attrs.color_temperature is not None:
        update |= {
            "color": None,
            "color_temperature": attrs.color_temperature,
            "color_mode": "temperature",
        }
    return state.model_copy(update=update)


def brand(vendor: str) -> str:
    """The name the simulated vendor goes by on its own pages (its bulbs' manufacturer)."""
    return _BRANDS.get(vendor, (vendor, "Simulated Lighting"))[1]


def default_catalogue(vendor: str) -> list[SimDevice]:
    """The three bulbs every account starts with: colour, tunable white, plain dimmable white."""
    brand, manufacturer = _BRANDS.get(vendor, (vendor, "Simulated Lighting"))
    return [
        SimDevice(
            id="color-1",
            name=f"{brand} Colour Bulb",
            manufacturer=manufacturer,
            model="Colour A19",
            features=SimFeatures(dimmable=True, color=True, ct_min=2000, ct_max=9000),
            state=SimState(brightness=80, color_temperature=2700, color_mode="temperature"),
        ),
        SimDevice(
            id="white-tunable-1",
            name=f"{brand} Tunable White",
            manufacturer=manufacturer,
            model="Tunable White A19",
            features=SimFeatures(dimmable=True, ct_min=2700, ct_max=6500),
            state=SimState(color_temperature=4000, color_mode="temperature"),
        ),
        SimDevice(
            id="white-1",
            name=f"{brand} White Bulb",
            manufacturer=manufacturer,
            model="White A19",
            features=SimFeatures(dimmable=True),
        ),
    ]


# -- accounts and credentials ----------------------------------------------------------------


def demo_credential(vendor: str, *, expires_at: float | None = None) -> AnyCredential:
    """The demo user's credential at ``vendor``, of that vendor's kind: the access token, API key
    or key ``demo-<vendor>-credential``; for the OAuth vendors the refresh token
    ``demo-<vendor>-refresh`` (and ``expires_at`` as given); for ``sim-async`` the secret
    ``demo-sim-async-secret``. ``VendorSimulator.demo_credential`` adds the expiry it knows."""
    kind = _kind(vendor)
    value = f"demo-{vendor}-credential"
    if kind is CredentialKind.OAUTH:
        return OAuthToken.bearer(
            value, refresh_token=companion(value, "refresh"), expires_at=expires_at
        )
    if kind is CredentialKind.API_KEY:
        return ApiKey.of(value)
    return KeyAndSecret.of(value, companion(value, "secret"))


def companion(key: str, part: Literal["secret", "refresh"]) -> str:
    """The secret (key and secret) or refresh token (OAuth) of an account given only by its key:
    the key with its ``-credential`` suffix, if any, replaced by ``-secret`` / ``-refresh``."""
    return f"{key.removesuffix('-credential')}-{part}"


def looks_like_jwt(value: str) -> bool:
    """A JWS (three base64url parts) or JWE (five) whose first part is a JSON object: the shape
    of the skill's own (Cognito) tokens, which no simulated vendor ever issues."""
    parts = value.split(".")
    if len(parts) not in (3, 5) or not all(parts[:2]):
        return False
    if not all(_is_base64url(part) for part in parts):
        return False
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, binascii.Error):
        return False
    return isinstance(header, dict)


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _is_base64url(part: str) -> bool:
    return all(char in _B64URL for char in part)


def _kind(vendor: str) -> CredentialKind:
    kind = CREDENTIAL_KINDS.get(vendor)
    if kind is None:
        raise NotFound(f"no vendor {vendor!r}")
    return kind


def _secret(value: Any) -> str:
    return value.get_secret_value() if value is not None else ""


@dataclass(slots=True)
class _Account:
    """One credential a vendor accepts: whose it is, and what is kept beside its key."""

    user: str
    secret: str | None = None  # key and secret: the secret the request signature uses
    expires_at: float | None = None  # OAuth access tokens
    app_key: bool = False  # OAuth: this token must come with the account's ``X-App-Key``


@dataclass(slots=True)
class _Grant:
    """A refresh token: whose it is, and whether the tokens it renews need ``X-App-Key``."""

    user: str
    app_key: bool = False


@dataclass(slots=True)
class _Code:
    """An authorization code: issued for one user, client and redirect URI; used once."""

    vendor: str
    user: str
    client_id: str
    redirect_uri: str
    expires_at: float
    spent: bool = False


class Accounts:
    """Each vendor's credentials and whose they are; issues and renews OAuth tokens.

    A vendor knows its credentials by their key: the access token (OAuth), the key (key and
    secret; the secret is kept beside it) or the API key. Thread-safe. Every value any vendor
    ever issued or was given is remembered as that vendor's (``owners``), so a credential shown
    to another vendor can be recognised as foreign even after it was renewed or revoked.
    """

    def __init__(
        self,
        token_lifetime: float | None = DEFAULT_TOKEN_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token_lifetime = token_lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, dict[str, _Account]] = {vendor: {} for vendor in VENDORS}
        self._refresh: dict[str, dict[str, _Grant]] = {vendor: {} for vendor in VENDORS}
        self._codes: dict[str, _Code] = {}
        self._app_keys: dict[str, dict[str, str]] = {vendor: {} for vendor in VENDORS}
        self._owners: dict[str, set[str]] = {}

    # -- adding and removing ---------------------------------------------------------------------

    def add(self, vendor: str, user: str, credential: AnyCredential) -> None:
        """``credential`` is ``user``'s at ``vendor`` from now on (``ValueError``: of another
        kind than the vendor takes, or empty). An OAuth token without ``expires_at`` lives
        ``token_lifetime`` from now."""
        kind = _kind(vendor)
        if credential.kind != kind:
            raise ValueError(f"{vendor} takes {kind} credentials, not {credential.kind}")
        if not user:
            raise ValueError("the user id is empty")
        with self._lock:
            if isinstance(credential, OAuthToken):
                access = self._nonempty(credential.access_token.get_secret_value())
                expires_at = credential.expires_at
                if expires_at is None:
                    expires_at = self._expiry_from_now()
                app_key = credential.application_key is not None and vendor in APP_KEY_VENDORS
                if credential.application_key is not None:
                    value = self._nonempty(_secret(credential.application_key))
                    self._own(vendor, value)
                    if app_key:
                        self._app_keys[vendor][value] = user
                self._put(vendor, access, _Account(user, expires_at=expires_at, app_key=app_key))
                if credential.refresh_token is not None:
                    refresh = self._nonempty(_secret(credential.refresh_token))
                    self._put_refresh(vendor, refresh, _Grant(user, app_key))
            elif isinstance(credential, ApiKey):
                self._put(vendor, self._nonempty(_secret(credential.api_key)), _Account(user))
            else:
                key = self._nonempty(_secret(credential.key))
                secret = self._nonempty(_secret(credential.secret))
                self._put(vendor, key, _Account(user, secret=secret))
                self._own(vendor, secret)

    def add_key(self, vendor: str, key: str, user: str) -> None:
        """An account given by its key alone (the simulator's ``accounts=``): the secret or
        refresh token it needs is ``companion(key, ...)``."""
        kind = _kind(vendor)
        if kind is CredentialKind.OAUTH:
            self.add(vendor, user, OAuthToken.bearer(key, refresh_token=companion(key, "refresh")))
        elif kind is CredentialKind.API_KEY:
            self.add(vendor, user, ApiKey.of(key))
        else:
            self.add(vendor, user, KeyAndSecret.of(key, companion(key, "secret")))

    def revoke(self, vendor: str, credential: AnyCredential) -> str | None:
        """The vendor forgets ``credential`` (its key, and an OAuth token's refresh token); the
        account and its devices stay. Returns the user it was, or None if unknown."""
        _kind(vendor)
        with self._lock:
            if isinstance(credential, OAuthToken):
                self._refresh[vendor].pop(_secret(credential.refresh_token), None)
                self._app_keys[vendor].pop(_secret(credential.application_key), None)
                account = self._keys[vendor].pop(_secret(credential.access_token), None)
            elif isinstance(credential, ApiKey):
                account = self._keys[vendor].pop(_secret(credential.api_key), None)
            else:
                account = self._keys[vendor].pop(_secret(credential.key), None)
        return account.user if account else None

    # -- checking --------------------------------------------------------------------------------

    def bearer(self, vendor: str, token: str) -> str:
        """The user an OAuth access token is for; ``Unauthorized`` if unknown or expired."""
        return self.bearer_account(vendor, token)[0]

    def bearer_account(self, vendor: str, token: str) -> tuple[str, bool]:
        """``(user, needs X-App-Key)`` of an OAuth access token; ``Unauthorized`` if unknown or
        expired."""
        with self._lock:
            account = self._keys[vendor].get(token)
        if account is None:
            raise Unauthorized("unknown access token")
        if account.expires_at is not None and account.expires_at <= self._clock():
            raise Unauthorized("the access token has expired")
        return account.user, account.app_key

    def app_key_user(self, vendor: str, key: str) -> str | None:
        """The user an application key was created for (None: unknown)."""
        with self._lock:
            return self._app_keys[vendor].get(key)

    def api_key(self, vendor: str, key: str) -> str:
        with self._lock:
            account = self._keys[vendor].get(key)
        if account is None:
            raise Unauthorized("unknown API key")
        return account.user

    def key_and_secret(self, vendor: str, key: str) -> tuple[str, str]:
        """``(user, secret)`` of a key; ``Unauthorized`` if unknown."""
        with self._lock:
            account = self._keys[vendor].get(key)
        if account is None or account.secret is None:
            raise Unauthorized("unknown token")
        return account.user, account.secret

    def refresh(self, vendor: str, refresh_token: str) -> dict[str, Any]:
        """Renew: a new access token and a new refresh token (the old refresh token is spent;
        the old access token lives until it expires). The RFC 6749 section 5.1 answer."""
        with self._lock:
            grant = self._refresh[vendor].pop(refresh_token, None)
            if grant is None:
                raise OAuthError(400, "invalid_grant", "the refresh token is unknown or spent")
            return self._issue(vendor, grant)

    def issue_code(self, vendor: str, user: str, client_id: str, redirect_uri: str) -> str:
        """A single-use authorization code for ``user``'s account at ``vendor``, bound to the
        client and redirect URI it was asked for; it lives ``AUTHORIZATION_CODE_LIFETIME``."""
        _kind(vendor)
        now = self._clock()
        code = f"{vendor}-code-{secrets.token_urlsafe(18)}"
        with self._lock:
            for stale in [c for c, v in self._codes.items() if v.expires_at <= now]:
                del self._codes[stale]
            self._codes[code] = _Code(
                vendor, user, client_id, redirect_uri, now + AUTHORIZATION_CODE_LIFETIME
            )
            self._own(vendor, code)
        return code

    def redeem_code(
        self, vendor: str, code: str, client_id: str, redirect_uri: str
    ) -> tuple[str, dict[str, Any]]:
        """``(user, token answer)`` for an authorization code (RFC 6749 section 4.1.3): a fresh
        access and refresh token for the account the code was issued for. ``invalid_grant``
        when the code is unknown, another vendor's, expired, already used, or was issued to
        another client or redirect URI (then it stays usable by the right one)."""
        with self._lock:
            found = self._codes.get(code)
            if found is None or found.vendor != vendor:
                raise OAuthError(400, "invalid_grant", "the authorization code is unknown")
            if found.spent:
                raise OAuthError(400, "invalid_grant", "the authorization code was already used")
            if found.expires_at <= self._clock():
                raise OAuthError(400, "invalid_grant", "the authorization code has expired")
            if not hmac.compare_digest(found.client_id.encode(), client_id.encode()):
                raise OAuthError(400, "invalid_grant", "the code was issued to another client")
            if found.redirect_uri != redirect_uri:
                raise OAuthError(
                    400, "invalid_grant", "redirect_uri differs from the authorization request's"
                )
            found.spent = True
            return found.user, self._issue(vendor, _Grant(found.user, vendor in APP_KEY_VENDORS))

    def create_app_key(self, vendor: str, user: str) -> str:
        """A new application key for ``user``'s account (Hue's ``POST /api``)."""
        if vendor not in APP_KEY_VENDORS:
            raise NotFound(f"{vendor} has no application keys")
        key = f"{vendor}-appkey-{secrets.token_hex(16)}"
        with self._lock:
            self._app_keys[vendor][key] = user
            self._own(vendor, key)
        return key

    def _issue(self, vendor: str, grant: _Grant) -> dict[str, Any]:
        """A new access and refresh token for ``grant`` (lock held); the RFC 6749 section 5.1
        answer."""
        access = f"{vendor}-access-{secrets.token_hex(16)}"
        rotated = f"{vendor}-refresh-{secrets.token_hex(16)}"
        account = _Account(grant.user, expires_at=self._expiry_from_now(), app_key=grant.app_key)
        self._put(vendor, access, account)
        self._put_refresh(vendor, rotated, _Grant(grant.user, grant.app_key))
        answer: dict[str, Any] = {
            "access_token": access,
            "refresh_token": rotated,
            "token_type": "bearer",
        }
        if self.token_lifetime is not None:
            lifetime = float(self.token_lifetime)
            answer["expires_in"] = int(lifetime) if lifetime.is_integer() else lifetime
        return answer

    # -- reading ---------------------------------------------------------------------------------

    def owners(self, value: str) -> frozenset[str]:
        """The vendors that issued or were given ``value`` as (part of) a credential."""
        with self._lock:
            return frozenset(self._owners.get(value, ()))

    def expires_at(self, vendor: str, access_token: str) -> float | None:
        with self._lock:
            account = self._keys[vendor].get(access_token)
        return account.expires_at if account else None

    def users(self, vendor: str) -> list[str]:
        with self._lock:
            return sorted({account.user for account in self._keys[vendor].values()})

    def by_key(self) -> dict[str, dict[str, str]]:
        """``{vendor: {credential key: user}}`` (access token, key or API key)."""
        with self._lock:
            return {
                vendor: {key: account.user for key, account in keys.items()}
                for vendor, keys in self._keys.items()
            }

    # -- internals -------------------------------------------------------------------------------

    def _expiry_from_now(self) -> float | None:
        return None if self.token_lifetime is None else self._clock() + self.token_lifetime

    def _put(self, vendor: str, key: str, account: _Account) -> None:
        self._keys[vendor][key] = account
        self._own(vendor, key)

    def _put_refresh(self, vendor: str, token: str, grant: _Grant) -> None:
        self._refresh[vendor][token] = grant
        self._own(vendor, token)

    def _own(self, vendor: str, value: str) -> None:
        if value:
            self._owners.setdefault(value, set()).add(vendor)

    @staticmethod
    def _nonempty(value: str) -> str:
        if not value or any(char.isspace() for char in value):
            raise ValueError("a credential part is empty or contains white space")
        return value


def initial_devices(
    vendor: str, devices: Iterable[SimDevice | Mapping[str, Any]] | None
) -> list[SimDevice]:
    """What an account starts with: ``devices`` (validated), or the default catalogue."""
    if devices is None:
        return default_catalogue(vendor)
    return [d if isinstance(d, SimDevice) else parse(SimDevice, d) for d in devices]
