"""Where adapters' secrets come from: Secrets Manager in AWS, the environment locally.

In AWS, ``VENDOR_SECRETS_NAME`` names one Secrets Manager secret holding a JSON object of
secrets (``{"SWITCHBOT_WEBHOOK_SECRET": "...", ...}``), read through Powertools parameters and
cached for five minutes. The local stack sets ``LOCAL_SECRETS_FROM_ENV=1`` instead, so that
secrets are plain variables of its own process (never of a deployed function).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping


def secret_source(environ: Mapping[str, str] | None = None) -> Callable[[str], str]:
    environ = os.environ if environ is None else environ

    def lookup(name: str) -> str:
        if environ.get("LOCAL_SECRETS_FROM_ENV") == "1" and name in environ:
            return environ[name]
        secret_name = environ.get("VENDOR_SECRETS_NAME") or environ.get("WEBHOOK_SECRET_NAME")
        if not secret_name:
            raise KeyError(f"secret {name} is not configured")
        from skill.aws import get_json_secret

        values = get_json_secret(secret_name)
        if not isinstance(values, dict) or name not in values:
            raise KeyError(f"secret {name} is not in {secret_name}")
        return str(values[name])

    return lookup
