"""From vendor devices to Alexa discovery endpoints, and who a token belongs to.

Shared by Discover (entrypoint), AddOrUpdateReport (sweep) and features lookups (processors).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from skill.alexa import capabilities_for, events, features_to_cookie
from skill.alexa.capabilities import AlexaInterface
from skill.errors import BridgeUnreachable, InvalidAuthorizationCredential, SkillError
from skill.plugins import Adapter, AdapterRegistry, Device, WebhookRegistrar, encode_endpoint_id

logger = logging.getLogger(__name__)

#: Alexa accepts at most 300 endpoints in one Discover.Response or AddOrUpdateReport.
MAX_ENDPOINTS = 300


def discovery_endpoint(adapter: Adapter, device: Device) -> dict[str, Any]:
    capabilities = [AlexaInterface().describe()]
    capabilities += [c.describe() for c in capabilities_for(device.features)]
    return events.discovery_endpoint(
        encode_endpoint_id(adapter.name, device.id),
        friendly_name=device.name,
        description=device.description,
        manufacturer=device.manufacturer,
        cookie=features_to_cookie(device.features),
        capabilities=capabilities,
    )


#: Where a vendor must push, per adapter name (None: nowhere, e.g. no webhook API deployed).
WebhookUrls = Callable[[str], str | None]


def devices(
    registry: AdapterRegistry, token: str, webhook_url_for: WebhookUrls | None = None
) -> list[tuple[Adapter, Device]]:
    """Every bulb the token's owner has across the enabled adapters, at most ``MAX_ENDPOINTS``.

    An adapter that rejects the token is skipped (it is another vendor's account); if every
    adapter rejects it, the token is invalid; if none answered, the vendors are unreachable.
    An adapter that needs its vendor told where to push (``WebhookRegistrar``) registers
    ``webhook_url_for(name)`` for the account it listed: Discover follows every account
    linking, so new users get pushes without an operator's step.
    """
    adapters = registry.all()
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(adapters)))) as pool:
        results = list(pool.map(lambda a: _devices_of(a, token, webhook_url_for), adapters))
    found: list[tuple[Adapter, Device]] = []
    errors = [r for r in results if isinstance(r, SkillError)]
    for adapter, result in zip(adapters, results, strict=True):
        if not isinstance(result, SkillError):
            found += [(adapter, device) for device in result]
    if errors and len(errors) == len(adapters):
        if all(isinstance(e, InvalidAuthorizationCredential) for e in errors):
            raise InvalidAuthorizationCredential("no vendor accepts this token")
        raise next((e for e in errors if not isinstance(e, InvalidAuthorizationCredential)),
                   BridgeUnreachable("no vendor answered"))
    if len(found) > MAX_ENDPOINTS:
        logger.warning("discovered %d endpoints; Alexa takes %d", len(found), MAX_ENDPOINTS)
    return found[:MAX_ENDPOINTS]


def _devices_of(
    adapter: Adapter, token: str, webhook_url_for: WebhookUrls | None
) -> list[Device] | SkillError:
    try:
        devices = adapter.list_devices(token)
    except SkillError as error:
        logger.info("adapter %s: %s", adapter.name, error.alexa_type)
        return error
    if webhook_url_for is not None and isinstance(adapter, WebhookRegistrar):
        _register_webhook(adapter, adapter.name, token, webhook_url_for)
    return devices


def _register_webhook(
    registrar: WebhookRegistrar, name: str, token: str, webhook_url_for: WebhookUrls
) -> None:
    """Best effort: without pushes the async style still answers (its watchdog polls), so a
    failure is logged and never fails the discovery; the next Discover tries again."""
    try:
        base_url = webhook_url_for(name)
        if base_url:
            registrar.register_webhook(token, base_url)
    except Exception as error:  # a vendor fault, or the path secret could not be read
        logger.warning("adapter %s: webhook not registered (%s)", name,
                       getattr(error, "alexa_type", type(error).__name__))


def identify_user(registry: AdapterRegistry, token: str, vendor: str | None = None) -> str:
    """The user id a token belongs to: asked of ``vendor``'s adapter, or of each adapter in
    turn. Adapters deployed together share one account system (see docs/adapters.md)."""
    adapters = [registry.get(vendor)] if vendor else registry.all()
    last: SkillError = InvalidAuthorizationCredential("no adapter is enabled")
    for adapter in adapters:
        try:
            return adapter.identify_user(token)
        except InvalidAuthorizationCredential as error:
            last = error
    raise last


def find_device(adapter: Adapter, token: str, device_id: str) -> Device:
    """The vendor's description of one device (used when no cookie says its features)."""
    from skill.errors import NoSuchEndpoint

    for device in adapter.list_devices(token):
        if device.id == device_id:
            return device
    raise NoSuchEndpoint(f"device {device_id[:64]!r} is not in this account")
