"""From vendor devices to Alexa discovery endpoints.

Shared by Discover (entrypoint), AddOrUpdateReport (sweep) and features lookups (processors).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from skill.alexa import capabilities_for, events, features_to_cookie
from skill.alexa.capabilities import AlexaInterface
from skill.errors import (
    BridgeUnreachable,
    InvalidAuthorizationCredential,
    NoSuchEndpoint,
    SkillError,
)
from skill.plugins import Adapter, AnyCredential, Device, WebhookRegistrar, encode_endpoint_id

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
#: A vendor the user connected, and how to get the user's credential for it (from the vault).
Linked = tuple[Adapter, Callable[[], AnyCredential]]


def devices(
    linked: list[Linked],
    webhook_url_for: WebhookUrls | None = None,
    *,
    refusal_is_error: bool = False,
) -> list[tuple[Adapter, Device]]:
    """Every bulb of the vendors the user connected, each vendor asked with its own
    credential, at most ``MAX_ENDPOINTS``.

    A vendor that fails is left out and the others answered. When every vendor failed: a vendor
    down raises its error (Alexa keeps the bulbs it knows); every credential refused gives no
    bulbs (the user has to connect those vendors again), or, with ``refusal_is_error``
    (``vendor`` linking, where the credential is Alexa's token), INVALID_AUTHORIZATION_CREDENTIAL.
    An adapter that needs its vendor told where to push (``WebhookRegistrar``) registers
    ``webhook_url_for(name)`` for the account it listed.
    """
    if not linked:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(linked)))) as pool:
        results = list(
            pool.map(lambda pair: _devices_of(pair[0], pair[1], webhook_url_for), linked)
        )
    found: list[tuple[Adapter, Device]] = []
    errors = [r for r in results if isinstance(r, SkillError)]
    for (adapter, _), result in zip(linked, results, strict=True):
        if not isinstance(result, SkillError):
            found += [(adapter, device) for device in result]
    if errors and len(errors) == len(linked):
        refused = [
            e for e in errors if isinstance(e, InvalidAuthorizationCredential | NoSuchEndpoint)
        ]
        if len(refused) < len(errors):
            raise next(
                (e for e in errors if e not in refused), BridgeUnreachable("no vendor answered")
            )
        if refusal_is_error:
            raise InvalidAuthorizationCredential("the vendor does not accept this token")
    if len(found) > MAX_ENDPOINTS:
        logger.warning("discovered %d endpoints; Alexa takes %d", len(found), MAX_ENDPOINTS)
    return found[:MAX_ENDPOINTS]


def _devices_of(
    adapter: Adapter,
    credential_of: Callable[[], AnyCredential],
    webhook_url_for: WebhookUrls | None,
) -> list[Device] | SkillError:
    try:
        credential = credential_of()
        devices = adapter.list_devices(credential)
    except SkillError as error:
        logger.info("adapter %s: %s", adapter.name, error.alexa_type)
        return error
    if webhook_url_for is not None and isinstance(adapter, WebhookRegistrar):
        _register_webhook(adapter, adapter.name, credential, webhook_url_for)
    return devices


def _register_webhook(
    registrar: WebhookRegistrar, name: str, credential: AnyCredential, webhook_url_for: WebhookUrls
) -> None:
    """Best effort: without pushes the async style still answers (its watchdog polls), so a
    failure is logged and never fails the discovery; the next Discover tries again."""
    try:
        base_url = webhook_url_for(name)
        if base_url:
            registrar.register_webhook(credential, base_url)
    except Exception as error:  # noqa: BLE001 - a vendor fault, or the path secret could not be read
        logger.warning(
            "adapter %s: webhook not registered (%s)",
            name,
            getattr(error, "alexa_type", type(error).__name__),
        )


def find_device(adapter: Adapter, credential: AnyCredential, device_id: str) -> Device:
    """The vendor's description of one device (used when no cookie says its features)."""
    for device in adapter.list_devices(credential):
        if device.id == device_id:
            return device
    raise NoSuchEndpoint(f"device {device_id[:64]!r} is not in this account")
