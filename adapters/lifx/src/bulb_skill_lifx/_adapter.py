"""The LIFX adapter: the ``skill.plugins.Adapter`` operations over the LIFX HTTP API."""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

from bulb_skill_lifx._client import DEFAULT_BASE_URL, LifxClient, access_token_of
from bulb_skill_lifx._mapping import (
    Light,
    account_id,
    applied,
    device_of,
    features_of,
    set_state_body,
    state_of,
)
from bulb_skill_lifx._oauth import (
    CLIENT_ID_SECRET,
    CLIENT_SECRET_SECRET,
    DEFAULT_AUTHORIZE_URL,
    DEFAULT_TOKEN_URL,
    LifxTokenEndpoint,
)
from skill.bulbs import BulbState, Change, Features
from skill.errors import EndpointUnreachable, InternalError, NoSuchEndpoint
from skill.plugins import (
    Accepted,
    AdapterContext,
    AnyCredential,
    CredentialKind,
    Device,
    DeviceReading,
    OAuthToken,
    Style,
    VendorQuotas,
)

#: LIFX light ids are the bulb's serial (12 hex digits); anything else cannot be one.
_LIGHT_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")
#: Lights whose features this container remembers.
_CACHE_SIZE = 4096


class LifxAdapter:
    """LIFX bulbs through https://api.lifx.com/v1, ``sync`` style.

    Every operation takes the user's LIFX ``OAuthToken`` (its access token is the Bearer token);
    a credential of any other kind is refused with ``InvalidAuthorizationCredential`` before any
    request. ``refresh_credential`` renews an expiring one at LIFX's token endpoint;
    ``authorization_url`` and ``exchange_code`` connect a user through LIFX's sign-in
    (``skill.plugins.OAuthLinker``, for the linking pages).

    ``execute`` costs one request when the core hands it the state it has just read (``known``:
    ``PUT .../state`` with ``fast: false``) and two otherwise (read the light first), and returns
    the state LIFX confirmed: the prior state with the request applied. See the package README
    for why this beats write-then-read under LIFX's 120 requests / 60 s limit.

    Example::

        adapter = LifxAdapter(LifxClient("https://api.lifx.com/v1", timeout=(2.0, 3.0)))
        credential = OAuthToken.bearer("<access token>")
        for device in adapter.list_devices(credential):
            print(device.id, adapter.read_state(credential, device.id))
    """

    name = "lifx"
    #: What the linking pages call the vendor.
    display_name = "LIFX"
    style = Style.SYNC
    credential_kind = CredentialKind.OAUTH
    #: "each access token is limited to 120 requests for a 60 second window" (one token per
    #: linked account); LIFX states no daily or per-light limit.
    quotas = VendorQuotas(
        calls_per_minute_per_account=120,
        source="https://api.developer.lifx.com/docs/rate-limits",
    )

    #: The settings ``create`` reads (``ADAPTER_SETTINGS`` refuses any other for ``lifx``).
    setting_names = frozenset({"BASE_URL", "TOKEN_URL", "AUTHORIZE_URL", "TIMEOUT_SECONDS"})

    def __init__(self, client: LifxClient, tokens: LifxTokenEndpoint | None = None) -> None:
        self._client = client
        self._tokens = tokens
        #: light id -> its features, learnt from every read (a product's never change);
        #: ``execute`` clamps a colour temperature to them.
        self._features: OrderedDict[str, Features] = OrderedDict()

    def identify_user(self, credential: AnyCredential) -> str:
        user = account_id(self._lights(credential))
        if user is None:
            raise NoSuchEndpoint("this LIFX account has no lights to identify it by; add one")
        return user

    def list_devices(self, credential: AnyCredential) -> list[Device]:
        # Lights LIFX sees as disconnected are listed too: they are the user's, only offline.
        try:
            devices = [device_of(light) for light in self._lights(credential)]
        except (AttributeError, TypeError, ValueError) as exc:
            raise EndpointUnreachable(
                f"LIFX listed a light in an unexpected shape: {exc!r}"
            ) from exc
        for device in devices:
            self._remember(device.id, device.features)
        return devices

    def read_state(self, credential: AnyCredential, device_id: str) -> BulbState:
        return state_of(self._light(credential, device_id))

    def read_all(self, credential: AnyCredential) -> list[DeviceReading]:
        """Every light and its state from one ``GET /lights/all`` (``skill.plugins.StateLister``),
        mapped as ``list_devices`` and ``read_state`` map it. A light with ``connected: false``,
        or one LIFX describes in a shape ``read_state`` could not read, has state None."""
        readings = []
        for light in self._lights(credential):
            try:
                device = device_of(light)
            except (AttributeError, TypeError, ValueError) as exc:
                raise EndpointUnreachable(
                    f"LIFX listed a light in an unexpected shape: {exc!r}"
                ) from exc
            self._remember(device.id, device.features)
            try:
                state: BulbState | None = state_of(light)
            except EndpointUnreachable:
                state = None
            readings.append(DeviceReading(device, state if state and state.reachable else None))
        return readings

    def execute(
        self,
        credential: AnyCredential,
        device_id: str,
        change: Change,
        known: BulbState | None = None,
    ) -> BulbState | Accepted:
        """``known`` (the state the core read a moment ago) spares reading the light first."""
        if known is not None:
            access_token_of(credential)  # another vendor's credential: refused, unsent
            _selector(device_id)
            before = known
            features = self._features.get(device_id) or _features_from(known)
        else:
            light = self._light(credential, device_id)
            before, features = state_of(light), features_of(light)
        if change.is_empty():
            return before
        body = set_state_body(change, features)
        answer = self._client.request(
            "PUT", f"/lights/{_selector(device_id)}/state", credential, json=body
        )
        _require_ok(answer, device_id)
        return applied(before, change, features)

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """LIFX's authorize page for this deployment's client (``skill.plugins.OAuthLinker``):
        ``https://cloud.lifx.com/oauth/authorize?client_id=...&scope=remote_control:all&state=...
        &response_type=code&redirect_uri=...``. ``InternalError`` when ``LIFX_CLIENT_ID`` is not
        configured."""
        return self._token_endpoint().authorization_url(redirect_uri, state)

    def exchange_code(self, code: str, redirect_uri: str) -> OAuthToken:
        """The user's credential for the code LIFX sent back (``skill.plugins.OAuthLinker``):
        access token, refresh token, ``expires_at`` from ``expires_in``.
        ``InvalidAuthorizationCredential`` when LIFX refuses the code, ``InternalError`` when it
        refuses this deployment's client, ``EndpointUnreachable`` when it is down; see
        ``_oauth``."""
        return self._token_endpoint().exchange(code, redirect_uri)

    def refresh_credential(self, credential: OAuthToken) -> OAuthToken:
        """A renewed credential from LIFX's token endpoint (``skill.plugins.CredentialRefresher``):
        the refresh token kept unless LIFX rotates it, ``expires_at`` from ``expires_in``.
        ``InvalidAuthorizationCredential`` when the refresh token is dead (``invalid_grant``),
        ``EndpointUnreachable`` when the endpoint is down; see ``_oauth``."""
        return self._token_endpoint().refresh(credential)

    # -- helpers -------------------------------------------------------------------------------

    def _token_endpoint(self) -> LifxTokenEndpoint:
        if self._tokens is None:
            raise InternalError("this LIFX adapter was built without a token endpoint")
        return self._tokens

    def _lights(self, credential: AnyCredential, selector: str = "all") -> list[Light]:
        lights = self._client.request("GET", f"/lights/{selector}", credential)
        if not isinstance(lights, list) or not all(
            isinstance(light, dict) and light.get("id") for light in lights
        ):
            raise EndpointUnreachable("LIFX listed lights in an unexpected shape")
        return lights

    def _light(self, credential: AnyCredential, device_id: str) -> Light:
        for light in self._lights(credential, _selector(device_id)):
            if str(light["id"]).lower() == device_id.lower():
                try:
                    self._remember(device_id, features_of(light))
                except (AttributeError, TypeError, ValueError):
                    pass  # state_of says what is wrong with it
                return light
        raise NoSuchEndpoint(f"LIFX has no light {device_id!r} in this account")

    def _remember(self, device_id: str, features: Features) -> None:
        self._features[device_id] = features
        self._features.move_to_end(device_id)
        while len(self._features) > _CACHE_SIZE:
            self._features.popitem(last=False)


def _features_from(known: BulbState) -> Features:
    """What a state shows of a light's features when the container has not read the light:
    colour when it has one; no kelvin range (the core already clamped to the light's own)."""
    return Features(dimmable=True, color=known.color is not None)


def _selector(device_id: str) -> str:
    if not _LIGHT_ID.match(device_id):
        raise NoSuchEndpoint(f"{device_id[:64]!r} is not a LIFX light id")
    return f"id:{device_id}"


def _require_ok(answer: Any, device_id: str) -> None:
    """Read the 207 multi-status body: ``ok`` or the light did not take the command.

    https://api.developer.lifx.com/docs/reachability: ``timed_out`` (LIFX got no
    acknowledgement) and ``offline`` (powered off or not connected) are both unreachable.
    """
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list):
        raise EndpointUnreachable("LIFX answered set-state without results")
    mine = [
        r
        for r in results
        if isinstance(r, dict) and str(r.get("id", "")).lower() == device_id.lower()
    ]
    if not mine:
        raise EndpointUnreachable(f"LIFX did not report on light {device_id!r}")
    status = mine[0].get("status")
    if status != "ok":
        raise EndpointUnreachable(f"LIFX light {device_id!r} did not take the command: {status}")


def create(ctx: AdapterContext) -> LifxAdapter:
    """The ``bulb_skill.adapters`` entry point.

    ``LIFX_BASE_URL`` overrides the API root, ``LIFX_TOKEN_URL`` the OAuth token endpoint (default
    ``https://cloud.lifx.com/oauth/token``), ``LIFX_AUTHORIZE_URL`` the authorize page (default
    ``https://cloud.lifx.com/oauth/authorize``); the secrets ``LIFX_CLIENT_ID`` and
    ``LIFX_CLIENT_SECRET`` (``ctx.secret``) are read only when a user connects or a credential
    is refreshed.
    """
    base_url = ctx.setting("BASE_URL") or DEFAULT_BASE_URL
    read = float(ctx.timeout_seconds)
    timeout = (min(2.0, read), read)
    client = LifxClient(base_url, timeout=timeout)
    tokens = LifxTokenEndpoint(
        ctx.setting("TOKEN_URL", DEFAULT_TOKEN_URL) or DEFAULT_TOKEN_URL,
        client_credentials=lambda: (ctx.secret(CLIENT_ID_SECRET), ctx.secret(CLIENT_SECRET_SECRET)),
        session=client.session,
        timeout=timeout,
        authorize_url=ctx.setting("AUTHORIZE_URL") or DEFAULT_AUTHORIZE_URL,
    )
    return LifxAdapter(client, tokens)
