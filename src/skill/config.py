"""Configuration from the environment variables that template.yaml sets, read once per container.

Names (all optional locally, set by template.yaml in AWS):

- ``DIRECTIVES_QUEUE_<STYLE>_URL`` FIFO queue of the processor for adapters of that style
  (``SYNC``, ``ASYNC``, ``OPTIMISTIC``, ``POLLING``); unset when the style is not deployed
- ``OUTBOX_QUEUE_URL``  events waiting for the dispatcher
- ``POLL_QUEUE_URL``    poll tickets (polling style)
- ``TOKENS_TABLE``      LWA tokens per user
- ``PENDING_TABLE``     pending commands (async, polling) and last known device states
- ``IDEMPOTENCY_TABLE`` Powertools idempotency records
- ``LWA_TOKEN_URL``     Login with Amazon token endpoint
- ``LWA_SECRET_NAME``   Secrets Manager secret holding ``{"client_id", "client_secret"}``
- ``WEBHOOK_SECRET_NAME`` Secrets Manager secret holding vendor webhook secrets
- ``ALEXA_REGION``      NA, EU or FE; default from ``AWS_REGION``
- ``GATEWAY_URL``       override of the Alexa event gateway (the local stack's fake)
- ``DEADLINE_SECONDS``  how long Alexa waits for a deferred answer (default 8)
- ``ADAPTERS``          enabled adapters, comma-separated (default: all installed)
- ``OUTBOX_DLQ_URL``    where the dispatcher puts events the gateway refuses for good
- ``VENDOR_SECRETS_NAME`` Secrets Manager secret holding adapters' secrets as JSON
  (``WEBHOOK_PATH_SECRET``, ``SWITCHBOT_WEBHOOK_SECRET``...; see ``skill.secrets``)
- ``WEBHOOK_BASE_URL``  the notifications API's ``.../webhooks/`` (entrypoint, for adapters
  that register their vendor's webhook at Discover); unset when no async style is deployed
- ``ACCOUNT_LINKING``   ``cognito`` (default: the skill's own user pool) or ``vendor`` (the one
  enabled vendor's own OAuth token is the linking token)
- ``COGNITO_ISSUER``, ``COGNITO_CLIENT_ID``, ``COGNITO_JWKS_URL``: the user pool whose access
  tokens Alexa sends (cognito mode; the JWKS URL defaults to the issuer's)
- ``LINKING_VENDOR``    vendor mode: the adapter whose token Alexa sends
- ``CREDENTIALS_TABLE``, ``CREDENTIALS_KEY_ID``: the vendor credentials vault and its KMS key
- ``CREDENTIAL_GRACE_DAYS`` days a user's vendor credentials are kept after LWA says the grant
  is gone (default 30)
- ``FEATURE_FLAGS_FILE`` or ``APPCONFIG_APPLICATION``/``_ENVIRONMENT``/``_PROFILE``: feature
  flags (see ``skill.flags``)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"

#: Alexa event gateway per region, from the Alexa Smart Home "send events" documentation.
GATEWAY_URLS = {
    "NA": "https://api.amazonalexa.com/v3/events",
    "EU": "https://api.eu.amazonalexa.com/v3/events",
    "FE": "https://api.fe.amazonalexa.com/v3/events",
}

#: The AWS region a Smart Home skill's Lambda must run in for each Alexa region.
_REGION_BY_AWS_REGION = {"us-east-1": "NA", "eu-west-1": "EU", "us-west-2": "FE"}


@dataclass(frozen=True, slots=True)
class Settings:
    directives_queue_urls: dict[str, str]
    outbox_queue_url: str
    poll_queue_url: str
    tokens_table: str
    pending_table: str
    idempotency_table: str
    lwa_token_url: str
    lwa_secret_name: str
    webhook_secret_name: str
    alexa_region: str
    gateway_url: str | None
    deadline_seconds: float
    webhook_base_url: str = ""
    account_linking: str = "cognito"
    cognito_issuer: str = ""
    cognito_client_id: str = ""
    cognito_jwks_url: str = ""
    linking_vendor: str = ""
    credentials_table: str = "bulb-skill-credentials"
    credentials_key_id: str = ""
    credential_grace_days: float = 30
    sweep_queue_url: str = ""
    #: Share of each vendor quota the sweep may spend (``skill.cadence.quota_floor``).
    sweep_quota_share: float = 0.2
    #: Accounts one sweep worker reads at once.
    sweep_concurrency: int = 16

    def gateway_for(self, region: str) -> str:
        """The event gateway for a user's region (the override wins, for the local stack)."""
        return self.gateway_url or GATEWAY_URLS.get(region, GATEWAY_URLS["NA"])

    def directives_queue_for(self, style: str) -> str | None:
        """The directives queue of the processor for ``style``; None if not deployed."""
        return self.directives_queue_urls.get(style) or None


def settings_from(environ: dict[str, str] | os._Environ[str]) -> Settings:
    aws_region = environ.get("AWS_REGION", environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    return Settings(
        directives_queue_urls={
            style: environ.get(f"DIRECTIVES_QUEUE_{style.upper()}_URL", "")
            for style in ("sync", "async", "optimistic", "polling")
        },
        outbox_queue_url=environ.get("OUTBOX_QUEUE_URL", ""),
        poll_queue_url=environ.get("POLL_QUEUE_URL", ""),
        tokens_table=environ.get("TOKENS_TABLE", "bulb-skill-tokens"),
        pending_table=environ.get("PENDING_TABLE", "bulb-skill-pending"),
        idempotency_table=environ.get("IDEMPOTENCY_TABLE", "bulb-skill-idempotency"),
        lwa_token_url=environ.get("LWA_TOKEN_URL", LWA_TOKEN_URL),
        lwa_secret_name=environ.get("LWA_SECRET_NAME", "bulb-skill/lwa"),
        webhook_secret_name=environ.get("WEBHOOK_SECRET_NAME", "bulb-skill/webhook"),
        alexa_region=environ.get("ALEXA_REGION") or _REGION_BY_AWS_REGION.get(aws_region, "NA"),
        gateway_url=environ.get("GATEWAY_URL") or None,
        deadline_seconds=float(environ.get("DEADLINE_SECONDS", "8")),
        webhook_base_url=environ.get("WEBHOOK_BASE_URL", ""),
        account_linking=environ.get("ACCOUNT_LINKING", "cognito") or "cognito",
        cognito_issuer=environ.get("COGNITO_ISSUER", ""),
        cognito_client_id=environ.get("COGNITO_CLIENT_ID", ""),
        cognito_jwks_url=environ.get("COGNITO_JWKS_URL", ""),
        linking_vendor=environ.get("LINKING_VENDOR", ""),
        credentials_table=environ.get("CREDENTIALS_TABLE", "bulb-skill-credentials"),
        credentials_key_id=environ.get("CREDENTIALS_KEY_ID", ""),
        credential_grace_days=float(environ.get("CREDENTIAL_GRACE_DAYS", "30")),
        sweep_queue_url=environ.get("SWEEP_QUEUE_URL", ""),
        sweep_quota_share=float(environ.get("SWEEP_QUOTA_SHARE", "0.2")),
        sweep_concurrency=int(environ.get("SWEEP_CONCURRENCY", "16")),
    )


@cache
def settings() -> Settings:
    """The container's settings, read from the environment once."""
    return settings_from(os.environ)
