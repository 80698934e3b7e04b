"""The Hue adapter: the ``skill.plugins.Adapter`` operations over the Hue Remote API (CLIP v2)."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict, defaultdict
from collections.abc import Mapping

from bulb_skill_hue._client import (
    APPLICATION_KEY_SECRET,
    DEFAULT_BASE_URL,
    HueClient,
    oauth_token,
)
from bulb_skill_hue._mapping import (
    Capabilities,
    Resource,
    capabilities_of,
    device_of,
    owner_of,
    put_body,
    state_of,
)
from bulb_skill_hue._oauth import (
    CLIENT_ID_SECRET,
    CLIENT_SECRET_SECRET,
    DEFAULT_AUTHORIZE_URL,
    DEFAULT_TOKEN_URL,
    HueTokenEndpoint,
)
from skill.bulbs import BulbState, Change
from skill.errors import EndpointUnreachable, InternalError, InvalidValue, NoSuchEndpoint
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

log = logging.getLogger(__name__)

#: CLIP v2 resource ids are UUIDs; anything else cannot be one of ours (and never reaches a URL).
_RESOURCE_ID = re.compile(r"^[0-9A-Za-z-]{1,64}$")
_CACHE_SIZE = 4096


class HueAdapter:
    """Philips Hue lights through ``https://api.meethue.com/route/clip/v2``, ``optimistic`` style.

    A command is one ``PUT /resource/light/{id}``; the bridge answers that it took it, not the
    resulting state, so ``execute`` returns ``Accepted`` and the optimistic processor answers
    Alexa from the expected state. Converting a colour or temperature needs the light's gamut and
    mirek range: they are remembered from discovery and reads (they never change for a light),
    so a command usually costs a single request.

    Every operation takes the user's Hue ``OAuthToken``: its access token is the Bearer token,
    its ``application_key`` the ``hue-application-key``. A credential of another kind is refused
    with ``InvalidAuthorizationCredential`` before any request. ``refresh_credential`` renews an
    expiring one at Hue's OAuth token endpoint; ``authorization_url`` and ``exchange_code``
    connect a user through their Hue account and create the application key on their bridge
    (``skill.plugins.OAuthLinker``, for the linking pages).

    Example::

        adapter = create(AdapterContext(vendor="hue"))
        credential = OAuthToken.bearer("<access token>", application_key="<application key>")
        adapter.execute(credential, light_id, Change(on=True))
    """

    name = "hue"
    #: What the linking pages call the vendor.
    display_name = "Philips Hue"
    style = Style.OPTIMISTIC
    credential_kind = CredentialKind.OAUTH
    #: Philips publishes no call quota for the remote API (its cloud answers 429 when an
    #: application sends too much, at a rate it does not state). What it documents is the
    #: bridge's: "stay roughly around 10 commands per second to the /lights resource" (1 a
    #: second to groups). A linked account is one bridge, so that is declared: 600 calls a
    #: minute per account. Every remote call reaches that bridge.
    quotas = VendorQuotas(
        calls_per_minute_per_account=600,
        source="https://developers.meethue.com/things-you-need-know",
    )

    def __init__(self, client: HueClient, tokens: HueTokenEndpoint | None = None) -> None:
        self._client = client
        self._tokens = tokens
        self._capabilities: OrderedDict[str, Capabilities] = OrderedDict()

    #: The settings ``create`` reads (``ADAPTER_SETTINGS`` refuses any other for ``hue``).
    setting_names = frozenset({"BASE_URL", "TOKEN_URL", "AUTHORIZE_URL", "TIMEOUT_SECONDS"})

    def identify_user(self, credential: AnyCredential) -> str:
        """``hue-<bridge_id>``: the bridge the remote token is linked to (stable across
        re-linking and token refreshes; the id is printed on the bridge, not a secret)."""
        bridges = self._client.request("GET", "bridge", credential).data
        bridge_id = next((b.get("bridge_id") for b in bridges if b.get("bridge_id")), None)
        if not isinstance(bridge_id, str) or not bridge_id:
            raise EndpointUnreachable("Hue listed no bridge for this account")
        return f"hue-{bridge_id.lower()}"

    def list_devices(self, credential: AnyCredential) -> list[Device]:
        lights = self._client.request("GET", "light", credential).data
        devices = {d.get("id"): d for d in self._client.request("GET", "device", credential).data}
        found = []
        try:
            for light in lights:
                self._remember(light)
                found.append(device_of(light, devices.get(owner_of(light))))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise EndpointUnreachable(f"Hue listed lights in an unexpected shape: {exc!r}") from exc
        return found

    def read_state(self, credential: AnyCredential, device_id: str) -> BulbState:
        light = self._light(credential, device_id)
        owner = owner_of(light)
        try:
            links = self._client.request("GET", "zigbee_connectivity", credential).data
        except NoSuchEndpoint:  # a bridge without Zigbee services: nothing says unreachable
            links = []
        status = next((z.get("status") for z in links if owner and owner_of(z) == owner), None)
        if status is not None and not isinstance(status, str):
            raise EndpointUnreachable(
                "Hue described the light's connectivity in an unexpected shape"
            )
        return state_of(light, status)

    def read_all(self, credential: AnyCredential) -> list[DeviceReading]:
        """Every light and its state from one call (``skill.plugins.StateLister``):
        ``GET /clip/v2/resource`` answers all of the bridge's resources, so the lights, their
        devices (names, as ``list_devices``) and their Zigbee links (reachability, as
        ``read_state``) come together. A light that is not ``connected``, or that the bridge
        describes in a shape ``read_state`` could not read, has state None."""
        grouped: dict[str, list[Resource]] = defaultdict(list)
        for resource in self._client.request("GET", "", credential).data:
            if isinstance(resource, Mapping):
                grouped[str(resource.get("type"))].append(resource)
        devices = {d.get("id"): d for d in grouped["device"]}
        links: dict[str, object] = {}
        for link in grouped["zigbee_connectivity"]:
            if (owner := owner_of(link)) is not None:
                links.setdefault(owner, link.get("status"))  # the first, as read_state takes
        readings = []
        try:
            for light in grouped["light"]:
                self._remember(light)
                owner = owner_of(light)
                device = device_of(light, devices.get(owner))
                readings.append(DeviceReading(device, _reading(light, links.get(owner or ""))))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise EndpointUnreachable(f"Hue listed lights in an unexpected shape: {exc!r}") from exc
        return readings

    def execute(
        self, credential: AnyCredential, device_id: str, change: Change
    ) -> BulbState | Accepted:
        oauth_token(credential)  # another vendor's credential is refused, even for no change
        _check(device_id)
        if change.is_empty():
            return Accepted()
        capabilities = self._capabilities.get(device_id)
        if capabilities is None and (
            change.color is not None or change.color_temperature is not None
        ):
            capabilities = self._remember(self._light(credential, device_id))
        body = put_body(change, capabilities or Capabilities(gamut=None, mirek=None))
        answer = self._client.request("PUT", f"light/{device_id}", credential, json=body)
        warnings = [e for e in answer.errors if is_warning(e)]
        problems = [e for e in answer.errors if not is_warning(e)]
        if problems:
            problem = "; ".join(problems)[:200]
            if "not reachable" in problem.lower() or "unreachable" in problem.lower():
                raise EndpointUnreachable(f"the Hue light does not respond: {problem}")
            raise InvalidValue(f"Hue did not apply the command: {problem}")
        if warnings:
            # The bridge took the command and warns that it may not show (the light is "soft
            # off" or has communication issues): an accepted command, not a refused value.
            log.warning("Hue accepted the command with a warning: %s", "; ".join(warnings)[:200])
        return Accepted()

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """Hue's authorize page for this deployment's client (``skill.plugins.OAuthLinker``):
        ``https://api.meethue.com/v2/oauth2/authorize?client_id=...&response_type=code&state=...``.

        ``redirect_uri`` is not sent: Hue redirects to the callback URL registered with the app
        on the Hue developer portal (see ``_oauth``), which must be this ``redirect_uri``.
        ``InternalError`` when ``HUE_CLIENT_ID`` is not configured.
        """
        return self._token_endpoint().authorization_url(state)

    def exchange_code(self, code: str, redirect_uri: str) -> OAuthToken:
        """The user's credential for the code Hue sent back (``skill.plugins.OAuthLinker``):
        the tokens (``expires_at`` from ``expires_in``), then a new application key created on
        the user's bridge with them (``PUT /route/api/0/config {"linkbutton": true}``, ``POST
        /route/api {"devicetype": "bulb-skill"}``), kept in ``application_key``.

        ``InvalidAuthorizationCredential`` when Hue refuses the code or the bridge refuses the
        key; ``InternalError`` when Hue refuses this deployment's client; ``BridgeUnreachable``
        when the bridge is offline; ``EndpointUnreachable`` when Hue is down.
        """
        tokens = self._token_endpoint().exchange(code)
        key = self._client.create_application_key(tokens.access_token.get_secret_value())
        return OAuthToken.model_validate(
            {
                "access_token": tokens.access_token,
                "refresh_token": tokens.refresh_token,
                "expires_at": tokens.expires_at,
                "application_key": key,
            }
        )

    def refresh_credential(self, credential: OAuthToken) -> OAuthToken:
        """A renewed credential from Hue's token endpoint (``skill.plugins.CredentialRefresher``):
        new access token and refresh token, ``expires_at`` from ``expires_in``, the application
        key kept. ``InvalidAuthorizationCredential`` when the refresh token is dead,
        ``EndpointUnreachable`` when the endpoint is down; see ``_oauth``."""
        return self._token_endpoint().refresh(credential)

    # -- helpers -------------------------------------------------------------------------------

    def _token_endpoint(self) -> HueTokenEndpoint:
        if self._tokens is None:
            raise InternalError("this Hue adapter was built without a token endpoint")
        return self._tokens

    def _light(self, credential: AnyCredential, device_id: str) -> Resource:
        _check(device_id)
        for light in self._client.request("GET", f"light/{device_id}", credential).data:
            if light.get("id") == device_id:
                self._remember(light)
                return light
        raise NoSuchEndpoint(f"Hue has no light {device_id!r}")

    def _remember(self, light: Resource) -> Capabilities:
        try:
            capabilities = capabilities_of(light)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise EndpointUnreachable(
                f"Hue described a light in an unexpected shape: {exc!r}"
            ) from exc
        known = self._capabilities.get(str(light.get("id")))
        if known is not None and known.dimmable and not capabilities.dimmable:
            # A product's features never change: a dimmable light described without its
            # ``dimming`` is a malformed answer, not a light at full brightness.
            raise EndpointUnreachable("Hue described a dimmable light without its dimming")
        light_id = str(light.get("id"))
        self._capabilities[light_id] = capabilities
        self._capabilities.move_to_end(light_id)
        while len(self._capabilities) > _CACHE_SIZE:
            self._capabilities.popitem(last=False)
        return capabilities


#: Per-resource ``errors`` of a PUT that the bridge sends beside an accepted command, e.g.
#: ``device (light) has communication issues, command (.on) may not have effect`` and
#: ``device (grouped_light) is "soft off", command (.on) may not have effect`` (bridge firmware
#: 1.50+; reported in home-assistant/core#68231 and Q42.HueApi#283; Home Assistant's Hue
#: integration logs them and goes on).
_WARNING_MARKERS = ("may not have effect", "soft off", "communication issues")


def is_warning(description: str) -> bool:
    """A per-resource error that warns about an accepted command rather than refusing it."""
    text = description.lower()
    return any(marker in text for marker in _WARNING_MARKERS)


def _reading(light: Resource, status: object) -> BulbState | None:
    """The light's state for ``read_all``; None where ``read_state`` says unreachable or
    cannot read it."""
    if status is not None and not isinstance(status, str):
        return None
    try:
        state = state_of(light, status)
    except EndpointUnreachable:
        return None
    return state if state.reachable else None


def _check(device_id: str) -> None:
    if not _RESOURCE_ID.match(device_id):
        raise NoSuchEndpoint(f"{device_id[:64]!r} is not a Hue light id")


def create(ctx: AdapterContext) -> HueAdapter:
    """The ``bulb_skill.adapters`` entry point.

    ``HUE_BASE_URL`` overrides the API root (default ``https://api.meethue.com/route``),
    ``HUE_TOKEN_URL`` the OAuth token endpoint (default
    ``https://api.meethue.com/v2/oauth2/token``), ``HUE_AUTHORIZE_URL`` the authorize page
    (default ``https://api.meethue.com/v2/oauth2/authorize``). Secrets (``ctx.secret``, read
    lazily): ``HUE_APPLICATION_KEY`` serves credentials that carry no application key of their
    own; ``HUE_CLIENT_ID`` and ``HUE_CLIENT_SECRET`` are read only when a user connects or a
    credential is refreshed.
    """
    base_url = ctx.setting("BASE_URL") or DEFAULT_BASE_URL
    read = float(ctx.timeout_seconds)
    timeout = (min(2.0, read), read)
    client = HueClient(
        base_url,
        timeout=timeout,
        application_key=lambda: ctx.secret(APPLICATION_KEY_SECRET),
    )
    tokens = HueTokenEndpoint(
        ctx.setting("TOKEN_URL", DEFAULT_TOKEN_URL) or DEFAULT_TOKEN_URL,
        client_credentials=lambda: (ctx.secret(CLIENT_ID_SECRET), ctx.secret(CLIENT_SECRET_SECRET)),
        session=client.session,
        timeout=timeout,
        authorize_url=ctx.setting("AUTHORIZE_URL") or DEFAULT_AUTHORIZE_URL,
    )
    return HueAdapter(client, tokens)
