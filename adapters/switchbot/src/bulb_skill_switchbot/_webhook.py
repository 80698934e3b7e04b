"""SwitchBot webhook pushes: who may send them, and what they say.

SwitchBot does not sign webhook requests. What authenticates a push is the URL itself: each
account registers ``<base>?account=<account id>&key=<HMAC-SHA256(deployment secret, account id)>``.
The deployment secret (``SWITCHBOT_WEBHOOK_SECRET``) never leaves the deployment; a user who
reads back their own webhook URL (``queryWebhook``) learns only their own account's key, which
cannot vouch for another account's devices.

Event shape (README, "Receive events from webhook", and ``devices/lighting/*.md``)::

    {"eventType": "changeReport", "eventVersion": "1",
     "context": {"deviceType": "WoBulb", "deviceMac": "...", "powerState": "ON",
                 "brightness": 10, "color": "255:245:235", "colorTemperature": 3500,
                 "timeOfSample": 123456789}}
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bulb_skill_switchbot._mapping import (
    LIGHT_TYPES,
    WEBHOOK_TYPES,
    BadValue,
    normalise_mac,
    state_from,
)
from skill.errors import InvalidNotification
from skill.plugins import Notification, WebhookRequest

log = logging.getLogger(__name__)

SECRET_NAME = "SWITCHBOT_WEBHOOK_SECRET"
MAX_BODY_BYTES = 64 * 1024
MIN_SECRET_LENGTH = 16
_ACCOUNT = re.compile(r"^[0-9a-f]{32}$")


def account_key(secret: str, account: str) -> str:
    """The per-account key carried in the webhook URL."""
    message = f"switchbot-webhook:{account}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_url(base_url: str, secret: str, account: str) -> str:
    """``base_url`` with ``account`` and ``key`` added to its query."""
    parts = urlsplit(base_url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("account", "key")]
    query += [("account", account), ("key", account_key(secret, account))]
    return urlunsplit(parts._replace(query=urlencode(query)))


def parse(request: WebhookRequest, secret_source: Callable[[], str]) -> list[Notification]:
    """Verify and read one push; ``InvalidNotification`` for anything that is not one.

    A verified push about a device that is not a light (SwitchBot pushes every device of the
    account: meters, locks...) is answered with no notifications, not an error.
    """
    account = request.query.get("account", "")
    key = request.query.get("key", "")
    if not account or not key:
        raise InvalidNotification("missing webhook account or key", status=401)
    try:
        secret = secret_source()
    except Exception as exc:  # any secret-store failure means "cannot verify"
        log.error("SwitchBot webhook secret unavailable: %s", type(exc).__name__)
        raise InvalidNotification("webhook secret not configured", status=503) from exc
    if len(secret) < MIN_SECRET_LENGTH:
        log.error("SwitchBot webhook secret is shorter than %d characters", MIN_SECRET_LENGTH)
        raise InvalidNotification("webhook secret not configured", status=503)
    expected = account_key(secret, account) if _ACCOUNT.match(account) else ""
    if not hmac.compare_digest(expected.encode(), key.encode()) or not expected:
        raise InvalidNotification("wrong webhook key", status=401)
    if len(request.body) > MAX_BODY_BYTES:
        raise InvalidNotification("webhook body too large", status=413)
    try:
        event = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidNotification("webhook body is not JSON", status=400) from exc
    if not isinstance(event, dict) or event.get("eventType") != "changeReport":
        raise InvalidNotification("not a SwitchBot changeReport", status=400)
    context = event.get("context")
    if not isinstance(context, dict):
        raise InvalidNotification("changeReport without a context", status=400)
    device_type, mac = context.get("deviceType"), context.get("deviceMac")
    if not isinstance(device_type, str) or not isinstance(mac, str):
        raise InvalidNotification("changeReport without deviceType/deviceMac", status=400)
    light = LIGHT_TYPES.get(WEBHOOK_TYPES.get(device_type, ""))
    if light is None:
        log.info("ignoring SwitchBot push for device type %r (not a light)", device_type[:40])
        return []
    device_id = normalise_mac(mac)
    if device_id is None:
        raise InvalidNotification("deviceMac is not a MAC address", status=400)
    try:
        state = state_from(context, light.features, power_key="powerState")
    except (BadValue, ValueError) as exc:
        raise InvalidNotification(f"unreadable light state: {exc}", status=400) from exc
    sampled = context.get("timeOfSample")  # milliseconds since the epoch (the README's example)
    if isinstance(sampled, bool) or not isinstance(sampled, int | float):
        raise InvalidNotification("changeReport without a timeOfSample", status=400)
    return [
        Notification(
            device_id=device_id,
            state=state,
            reference=None,
            user_id=account,
            sent_at=sampled / 1000,
        )
    ]
