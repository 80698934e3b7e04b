"""Constants and payload builders for the SwitchBot adapter tests (unique module name: the
govee tests live in the same pytest session).

Payloads follow https://github.com/OpenWonderLabs/SwitchBotAPI (README v1.1 and
devices/lighting/*.md) exactly, including the error shapes.
"""

from __future__ import annotations

from skill.plugins import AdapterContext, KeyAndSecret

BASE = "https://api.switch-bot.com/v1.1"
OPEN_TOKEN = (
    "4d7f5c0e8a1b2c3d4e5f60718293a4b5"
    "c6d7e8f90a1b2c3d4e5f60718293a4b5"
    "c6d7e8f90a1b2c3d4e5f60718293a4b5"
)
SECRET_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
#: What the vault hands the adapter for this user: the open token and the secret key.
CREDENTIAL = KeyAndSecret.of(OPEN_TOKEN, SECRET_KEY)
WEBHOOK_SECRET = "deployment-webhook-secret-0123456789abcdef"
BULB = "84F70353A411"


def ok(body: object = None) -> dict:
    return {"statusCode": 100, "body": {} if body is None else body, "message": "success"}


def context(environ: dict[str, str] | None = None, secrets: dict[str, str] | None = None):
    store = {"SWITCHBOT_WEBHOOK_SECRET": WEBHOOK_SECRET} if secrets is None else secrets
    return AdapterContext(
        vendor="switchbot",
        environ=environ or {},
        secrets=lambda name: store[name],
        timeout_seconds=2.5,
    )
