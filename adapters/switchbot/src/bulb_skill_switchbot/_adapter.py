"""The SwitchBot adapter: style ``async`` (commands are accepted; the new state is pushed)."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

import requests

from bulb_skill_switchbot import _webhook
from bulb_skill_switchbot._client import (
    DEFAULT_BASE_URL,
    SwitchBotClient,
    WebhookExists,
    account_id,
    key_and_secret,
)
from bulb_skill_switchbot._mapping import (
    LIGHT_TYPES,
    BadValue,
    LightType,
    commands_for,
    state_from,
)
from skill.bulbs import BulbState, Change
from skill.errors import EndpointUnreachable, NoSuchEndpoint
from skill.plugins import (
    Accepted,
    AdapterContext,
    AnyCredential,
    CredentialKind,
    Device,
    KeyAndSecret,
    Notification,
    Style,
    VendorQuotas,
    WebhookRequest,
)

log = logging.getLogger(__name__)

#: Total time one ``execute`` may spend on SwitchBot (several commands), well inside Alexa's 8 s.
DEFAULT_BUDGET_SECONDS = 6.0

#: Device ids whose product (deviceType) this container remembers.
_TYPE_CACHE_SIZE = 4096


class SwitchBotAdapter:
    """SwitchBot lights through SwitchBot API v1.1.

    Every operation takes the user's ``KeyAndSecret`` (``key``: the open token, ``secret``: the
    secret key); a credential of any other kind is refused with
    ``InvalidAuthorizationCredential`` before any request is made.

    Example::

        adapter = create(AdapterContext(vendor="switchbot"))
        credential = KeyAndSecret.of("<open token>", "<secret key>")
        adapter.execute(credential, "84F70353A411", Change(on=True, brightness=40))
    """

    name = "switchbot"
    #: What the linking pages call the vendor, and where they tell the user to find the pair
    #: (SwitchBotAPI README, "Getting Started": app V9.0 and later; before V9.0 there is no
    #: "About" step).
    display_name = "SwitchBot"
    credential_help = (
        "In the SwitchBot app, open Profile > Preferences > About and tap App Version ten times; "
        "Developer Options then shows your token and secret key."
    )
    style = Style.ASYNC
    credential_kind = CredentialKind.KEY_AND_SECRET
    #: The API v1.1 README's "Request limit": "The amount of API calls per day is limited to
    #: 10000 times" (per account: its token and secret); no per-minute or per-device limit.
    quotas = VendorQuotas(
        calls_per_day_per_account=10_000,
        source="https://github.com/OpenWonderLabs/SwitchBotAPI#request-limit",
    )
    #: The settings the adapter reads (``ADAPTER_SETTINGS`` refuses any other for ``switchbot``).
    setting_names = frozenset({"BASE_URL", "TIMEOUT_SECONDS", "BUDGET_SECONDS"})

    def __init__(self, context: AdapterContext, *, session: requests.Session | None = None) -> None:
        self._context = context
        timeout = float(context.setting("TIMEOUT_SECONDS") or context.timeout_seconds)
        self._budget = float(context.setting("BUDGET_SECONDS") or DEFAULT_BUDGET_SECONDS)
        self.client = SwitchBotClient(
            context.setting("BASE_URL") or DEFAULT_BASE_URL,
            timeout=timeout,
            session=session or requests.Session(),
        )
        #: deviceId -> its light type, learnt from the device list and status reads (a
        #: product never changes); ``execute`` needs it for the model's setColor byte order.
        self._types: OrderedDict[str, LightType] = OrderedDict()

    # --- Adapter ---------------------------------------------------------------------------

    def identify_user(self, credential: AnyCredential) -> str:
        pair = key_and_secret(credential)
        self.client.request(pair, "GET", "/devices")  # proves the pair is accepted
        return account_id(pair)

    def list_devices(self, credential: AnyCredential) -> list[Device]:
        body = self.client.request(key_and_secret(credential), "GET", "/devices")
        entries = body.get("deviceList") if isinstance(body, dict) else None
        if not isinstance(entries, list):
            raise EndpointUnreachable("SwitchBot device list without deviceList")
        devices = []
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            light = LIGHT_TYPES.get(str(entry.get("deviceType")))
            device_id = entry.get("deviceId")
            if light is None or not isinstance(device_id, str) or not device_id:
                continue
            if entry.get("enableCloudService") is False:
                continue  # the cloud cannot reach it: Alexa could not control it either
            self._remember(device_id, light)
            name = entry.get("deviceName") or f"{light.device_type} {device_id[-4:]}"
            devices.append(
                Device(
                    id=device_id,
                    name=str(name),
                    features=light.features,
                    manufacturer="SwitchBot",
                    model=light.device_type,
                    description=f"SwitchBot {light.device_type}",
                )
            )
        return devices

    def read_state(self, credential: AnyCredential, device_id: str) -> BulbState:
        pair = key_and_secret(credential)
        body = self.client.request(pair, "GET", f"/devices/{_path_id(device_id)}/status")
        if not isinstance(body, dict) or not body:
            raise EndpointUnreachable("SwitchBot returned an empty device status")
        light = LIGHT_TYPES.get(str(body.get("deviceType")))
        if light is None:
            raise NoSuchEndpoint(f"SwitchBot device is a {body.get('deviceType')!r}, not a light")
        self._remember(device_id, light)
        try:
            return state_from(body, light.features, power_key="power", require_brightness=True)
        except (BadValue, ValueError) as exc:
            raise EndpointUnreachable(f"unreadable SwitchBot status: {exc}") from exc

    def execute(self, credential: AnyCredential, device_id: str, change: Change) -> Accepted:
        """Send one command per attribute (see ``commands_for`` for the order); SwitchBot
        accepts them without saying the result, which arrives later on the webhook."""
        pair = key_and_secret(credential)
        path = f"/devices/{_path_id(device_id)}/commands"
        deadline = time.monotonic() + self._budget
        light = self._types.get(device_id)
        if light is None and change.color is not None:
            light = self._light_type(pair, device_id, deadline)
        reference: str | None = None
        for command, parameter in commands_for(change, light):
            body = self.client.request(
                pair,
                "POST",
                path,
                json={"command": command, "parameter": parameter, "commandType": "command"},
                deadline=deadline,
            )
            if isinstance(body, dict) and isinstance(body.get("commandId"), str):
                reference = body["commandId"]
        return Accepted(reference=reference)

    def _light_type(self, credential: AnyCredential, device_id: str, deadline: float) -> LightType:
        """The device's product, read from its status (one call) when not yet known."""
        body = self.client.request(
            credential, "GET", f"/devices/{_path_id(device_id)}/status", deadline=deadline
        )
        kind = body.get("deviceType") if isinstance(body, dict) else None
        light = LIGHT_TYPES.get(str(kind))
        if light is None:
            raise NoSuchEndpoint(f"SwitchBot device is a {kind!r}, not a light")
        self._remember(device_id, light)
        return light

    def _remember(self, device_id: str, light: LightType) -> None:
        self._types[device_id] = light
        self._types.move_to_end(device_id)
        while len(self._types) > _TYPE_CACHE_SIZE:
            self._types.popitem(last=False)

    # --- PushAdapter -----------------------------------------------------------------------

    def parse_notification(self, request: WebhookRequest) -> list[Notification]:
        return _webhook.parse(request, lambda: self._context.secret(_webhook.SECRET_NAME))

    # --- webhook registration (SwitchBot README, "Webhook") ---------------------------------
    # SwitchBot keeps one webhook URL per account: ``setupWebhook`` is refused (statusCode 190
    # "webhook is exist") while another URL is configured. Registering never removes a URL the
    # user set up for something else; only ``replace_webhooks`` does, once the user said yes.

    def webhook_url(self, base_url: str, account_id: str) -> str:
        """The URL this account must push to: ``base_url?account=<id>&key=<per-account key>``."""
        secret = self._context.secret(_webhook.SECRET_NAME)
        return _webhook.webhook_url(base_url, secret, account_id)

    def register_webhook(self, credential: AnyCredential, base_url: str) -> str:
        """Point the account's pushes (``deviceList: "ALL"``) at this deployment; idempotent
        (``skill.plugins.WebhookRegistrar``; the skill calls it at every Discover).

        Returns the registered URL. When the account already pushes to another URL (the user's
        own server, another smart-home system, another deployment), that URL is left alone and
        ours is not set up: returns ``""`` (logged at info). ``replace_webhooks`` replaces it,
        when the user says so on the linking pages.
        """
        pair = key_and_secret(credential)
        url = self.webhook_url(base_url, account_id(pair))
        urls = self.webhook_urls(pair)
        if url in urls:
            return url
        if urls:
            log.info(
                "SwitchBot account already pushes to another webhook URL; ours is not registered "
                "(the account's bulbs are polled unless the user replaces it)"
            )
            return ""
        try:
            self._setup_webhook(pair, url)
        except WebhookExists:
            # statusCode 190 "webhook is exist": another Discover may have just set ours up, or
            # another URL appeared meanwhile; either way nothing is replaced here.
            if url in self.webhook_urls(pair):
                return url
            log.info("SwitchBot account got another webhook URL meanwhile; ours is not registered")
            return ""
        return url

    def deregister_webhook(self, credential: AnyCredential, base_url: str) -> None:
        """Stop the account pushing to this deployment (the user disconnected SwitchBot).

        Asks SwitchBot first (``queryWebhook``) and deletes only this account's URL for
        ``base_url``, and only when the account has it: a URL the user set up for something
        else, or another deployment's, is left alone. A no-op when ours is not there.
        """
        pair = key_and_secret(credential)
        url = self.webhook_url(base_url, account_id(pair))
        if url not in self.webhook_urls(pair):
            return
        self.delete_webhook(pair, url)

    # --- SingleWebhookVendor: the linking pages ask before replacing -----------------------

    def other_webhooks(self, credential: AnyCredential, base_url: str) -> list[str]:
        """The URLs the account pushes to that are not this deployment's URL for this account
        (``queryWebhook``): empty when it has none or only ours (``SingleWebhookVendor``)."""
        pair = key_and_secret(credential)
        url = self.webhook_url(base_url, account_id(pair))
        return [other for other in self.webhook_urls(pair) if other != url]

    def replace_webhooks(self, credential: AnyCredential, base_url: str) -> str:
        """Delete the account's other URLs, then set up ours; returns ours
        (``SingleWebhookVendor``: only after the user agreed on the linking pages).

        A no-op for ours when it is already there. ``EndpointUnreachable`` when SwitchBot still
        reports another URL after the deletions (one appeared meanwhile): try again.
        """
        pair = key_and_secret(credential)
        url = self.webhook_url(base_url, account_id(pair))
        urls = self.webhook_urls(pair)
        for other in urls:
            if other != url:
                log.info("replacing the SwitchBot account's other webhook URL, as the user asked")
                self.delete_webhook(pair, other)
        if url in urls:
            return url
        try:
            self._setup_webhook(pair, url)
        except WebhookExists as exc:
            if url in self.webhook_urls(pair):
                return url
            raise EndpointUnreachable(
                "SwitchBot kept another webhook URL for this account; try again"
            ) from exc
        return url

    def _setup_webhook(self, credential: KeyAndSecret, url: str) -> None:
        self.client.request(
            credential,
            "POST",
            "/webhook/setupWebhook",
            json={"action": "setupWebhook", "url": url, "deviceList": "ALL"},
        )

    # --- the rest of the webhook API --------------------------------------------------------

    def webhook_urls(self, credential: AnyCredential) -> list[str]:
        """The URLs configured on the account (``queryWebhook`` / ``queryUrl``)."""
        body = self.client.request(
            key_and_secret(credential),
            "POST",
            "/webhook/queryWebhook",
            json={"action": "queryUrl"},
        )
        urls: Any = body.get("urls") if isinstance(body, dict) else None
        return [u for u in urls if isinstance(u, str)] if isinstance(urls, list) else []

    def update_webhook(self, credential: AnyCredential, url: str, *, enable: bool = True) -> None:
        """Enable or disable a configured URL (``updateWebhook``)."""
        self.client.request(
            key_and_secret(credential),
            "POST",
            "/webhook/updateWebhook",
            json={"action": "updateWebhook", "config": {"url": url, "enable": enable}},
        )

    def delete_webhook(self, credential: AnyCredential, url: str) -> None:
        """Remove a configured URL (``deleteWebhook``) as is; ``deregister_webhook`` is the
        safe way to remove this deployment's."""
        self.client.request(
            key_and_secret(credential),
            "POST",
            "/webhook/deleteWebhook",
            json={"action": "deleteWebhook", "url": url},
        )


def _path_id(device_id: str) -> str:
    if not device_id or len(device_id) > 64:
        raise NoSuchEndpoint("not a SwitchBot device id")
    return quote(device_id, safe="")
