"""Configuration: every environment variable the runtime reads, read once per container into
``Settings``, a pydantic model validated from the environment. template.yaml and infra/*.yaml
set them in AWS; all are optional locally. An empty variable counts as unset.

The model validates the environment mapping itself (each field names its variables as its
validation aliases). pydantic-settings would add only sources the runtime does not use (.env
files, secrets directories, the CLI) and about 45 ms of CPU to every cold start.

Example::

    >>> config = settings_from({"DIRECTIVES_QUEUE_SYNC_URL": "https://q",
    ...                         "AWS_REGION": "eu-west-1"})
    >>> config.directives_queue_urls["sync"], config.alexa_region, config.deadline_seconds
    ('https://q', 'EU', 8.0)

Adapters read their own ``<VENDOR>_<NAME>`` variables and ``ADAPTER_SETTINGS`` through the
plugin contract (``skill.plugins.AdapterContext``), and Powertools its ``POWERTOOLS_*``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from skill.observability import NAMESPACE, SERVICE
from skill.plugins import Style

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"

#: Alexa event gateway per region, from the Alexa Smart Home "send events" documentation.
GATEWAY_URLS = {
    "NA": "https://api.amazonalexa.com/v3/events",
    "EU": "https://api.eu.amazonalexa.com/v3/events",
    "FE": "https://api.fe.amazonalexa.com/v3/events",
}

#: The AWS region a Smart Home skill's Lambda must run in for each Alexa region.
_REGION_BY_AWS_REGION = {"us-east-1": "NA", "eu-west-1": "EU", "us-west-2": "FE"}


def _env(default: Any, *names: str) -> Any:
    """A setting read from the variable ``names[0]`` (or the later ones, in order)."""
    alias = names[0] if len(names) == 1 else AliasChoices(*names)
    return Field(default, validation_alias=alias)


class Settings(BaseModel):
    """The runtime's settings. Build with ``settings()`` (the process environment) or
    ``settings_from(mapping)``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    # -- queues: the processor of each style (unset when the style is not deployed), the
    # outbox for the dispatcher and its DLQ, poll tickets, the sweep's accounts
    directives_queue_sync_url: str = _env("", "DIRECTIVES_QUEUE_SYNC_URL")
    directives_queue_async_url: str = _env("", "DIRECTIVES_QUEUE_ASYNC_URL")
    directives_queue_optimistic_url: str = _env("", "DIRECTIVES_QUEUE_OPTIMISTIC_URL")
    directives_queue_polling_url: str = _env("", "DIRECTIVES_QUEUE_POLLING_URL")
    outbox_queue_url: str = _env("", "OUTBOX_QUEUE_URL")
    outbox_dlq_url: str = _env("", "OUTBOX_DLQ_URL")
    poll_queue_url: str = _env("", "POLL_QUEUE_URL")
    sweep_queue_url: str = _env("", "SWEEP_QUEUE_URL")

    # -- tables: LWA tokens per user; pending commands, owners, account schedules and breaker
    # rows; Powertools idempotency; the vendor credentials vault and its KMS key
    tokens_table: str = _env("bulb-skill-tokens", "TOKENS_TABLE")
    state_table: str = _env("bulb-skill-state", "STATE_TABLE")
    idempotency_table: str = _env("bulb-skill-idempotency", "IDEMPOTENCY_TABLE")
    credentials_table: str = _env("bulb-skill-credentials", "CREDENTIALS_TABLE")
    credentials_key_id: str = _env("", "CREDENTIALS_KEY_ID")
    #: Days a user's vendor credentials are kept after LWA says the grant is gone.
    credential_grace_days: float = _env(30.0, "CREDENTIAL_GRACE_DAYS")

    # -- Login with Amazon and the Alexa event gateway
    lwa_token_url: str = _env(LWA_TOKEN_URL, "LWA_TOKEN_URL")
    #: Secrets Manager secret holding ``{"client_id", "client_secret"}``.
    lwa_secret_name: str = _env("bulb-skill/lwa", "LWA_SECRET_NAME")
    aws_region: str = _env("us-east-1", "AWS_REGION", "AWS_DEFAULT_REGION")
    #: NA, EU or FE; by default the one whose AWS region the function runs in.
    alexa_region: str = Field(default="", validation_alias="ALEXA_REGION", validate_default=True)
    #: Override of the event gateway (the local stack's fake).
    gateway_url: str | None = _env(None, "GATEWAY_URL")
    #: How long Alexa waits for a deferred answer.
    deadline_seconds: float = _env(8.0, "DEADLINE_SECONDS")

    # -- adapters and their secrets
    #: Enabled adapters, comma-separated; empty: every installed one.
    adapters: str = _env("", "ADAPTERS")
    #: Secrets Manager secret holding the adapters' secrets and the webhook path secrets
    #: (JSON; ``skill.aws.secrets``).
    vendor_secrets_name: str = _env("", "VENDOR_SECRETS_NAME", "WEBHOOK_SECRET_NAME")
    #: The local stack's secrets are plain environment variables.
    local_secrets_from_env: bool = _env(False, "LOCAL_SECRETS_FROM_ENV")
    #: The notifications API's ``.../webhooks/`` (for adapters that register their vendor's
    #: webhook at Discover); unset when no async style is deployed.
    webhook_base_url: str = _env("", "WEBHOOK_BASE_URL")

    # -- account linking: ``cognito`` (the skill's user pool) or ``vendor`` (the one enabled
    # vendor's own OAuth token is the linking token, ``LINKING_VENDOR``)
    account_linking: str = _env("cognito", "ACCOUNT_LINKING")
    cognito_issuer: str = _env("", "COGNITO_ISSUER")
    cognito_client_id: str = _env("", "COGNITO_CLIENT_ID")
    #: Defaults to the issuer's.
    cognito_jwks_url: str = _env("", "COGNITO_JWKS_URL")
    linking_vendor: str = _env("", "LINKING_VENDOR")
    # the linking pages: their public URL, the managed login, their own app client (a JSON
    # secret ``{"client_id", "client_secret"}``), the cookie signing key, account deletion
    linking_base_url: str = _env("", "LINKING_BASE_URL")
    cognito_domain: str = _env("", "COGNITO_DOMAIN")
    linking_client_secret_name: str = _env("", "LINKING_CLIENT_SECRET_NAME")
    session_secret_name: str = _env("", "SESSION_SECRET_NAME")
    user_pool_id: str = _env("", "USER_POOL_ID")

    # -- the sweep
    #: Share of each vendor quota the sweep may spend (``skill.cadence.quota_floor``).
    sweep_quota_share: float = _env(0.2, "SWEEP_QUOTA_SHARE")
    #: Accounts one sweep worker reads at once.
    sweep_concurrency: int = _env(16, "SWEEP_CONCURRENCY")

    # -- feature flags (``skill.flags``): a JSON file locally, AppConfig in AWS
    feature_flags_file: str = _env("", "FEATURE_FLAGS_FILE")
    appconfig_application: str = _env("", "APPCONFIG_APPLICATION")
    appconfig_environment: str = _env("", "APPCONFIG_ENVIRONMENT")
    appconfig_profile: str = _env("flags", "APPCONFIG_PROFILE")
    appconfig_max_age: int = _env(60, "APPCONFIG_MAX_AGE")

    # -- Powertools' logger and metrics (``skill.observability``)
    service_name: str = _env(SERVICE, "POWERTOOLS_SERVICE_NAME")
    metrics_namespace: str = _env(NAMESPACE, "POWERTOOLS_METRICS_NAMESPACE")

    @field_validator("alexa_region")
    @classmethod
    def _alexa_region(cls, value: str, info: Any) -> str:
        return value or _REGION_BY_AWS_REGION.get(info.data.get("aws_region", ""), "NA")

    @property
    def directives_queue_urls(self) -> dict[str, str]:
        """Style -> the queue of its processor ("" when the style is not deployed)."""
        return {s.value: getattr(self, f"directives_queue_{s.value}_url") for s in Style}

    @property
    def enabled_adapters(self) -> list[str]:
        """The adapters ``ADAPTERS`` names; empty: every installed one."""
        return [name.strip() for name in self.adapters.split(",") if name.strip()]

    def gateway_for(self, region: str) -> str:
        """The event gateway for a user's region (the override wins, for the local stack)."""
        return self.gateway_url or GATEWAY_URLS.get(region, GATEWAY_URLS["NA"])


def settings_from(environ: Mapping[str, str]) -> Settings:
    """The settings ``environ`` holds (tests, the workbench, a composition built from its own
    environment). Variable names are case-sensitive; an empty one counts as unset."""
    return Settings.model_validate({name: value for name, value in environ.items() if value})


def settings() -> Settings:
    """The settings the process environment holds now. What is built from them (the
    composition, the flags, the logger) is built once per container and keeps them."""
    return settings_from(os.environ)
