"""Run-time switches, no redeploy: Powertools feature flags backed by AppConfig in AWS and by a
JSON file in the local stack.

Flags (Powertools feature-flag schema, evaluated with context ``{"vendor": <name>}``):

- ``vendor_style`` (non-boolean, default ``""``): a style that replaces the adapter's own, e.g.
  ``"optimistic"`` for an async vendor whose webhooks fail.
- ``vendor_paused`` (boolean, default false): stop calling the vendor; its directives are
  answered ``ENDPOINT_UNREACHABLE`` at once.
- ``sweep_enabled`` (boolean, default true): the minute sweep runs.

Example rule that switches SwitchBot to the optimistic style::

    {"vendor_style": {"default": "", "boolean_type": false, "rules": {
        "switchbot webhooks down": {"when_match": "optimistic", "conditions": [
            {"action": "EQUALS", "key": "vendor", "value": "switchbot"}]}}}}

Configured by ``FEATURE_FLAGS_FILE`` (local) or ``APPCONFIG_APPLICATION``,
``APPCONFIG_ENVIRONMENT`` and ``APPCONFIG_PROFILE`` (AWS); with neither, every flag is its default.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skill.plugins import Style

if TYPE_CHECKING:
    from skill.config import Settings

logger = logging.getLogger(__name__)


class Flags:
    def __init__(self, feature_flags: Any | None) -> None:
        self._flags = feature_flags

    def _evaluate(self, name: str, vendor: str | None, default: Any) -> Any:
        if self._flags is None:
            return default
        context = {"vendor": vendor} if vendor else {}
        return self._flags.evaluate(name=name, context=context, default=default)

    def style_for(self, vendor: str) -> Style | None:
        style = self._evaluate("vendor_style", vendor, "")
        if not style:
            return None
        try:
            return Style(style)
        except ValueError:
            logger.warning("feature flag vendor_style=%r is not a style; ignored", style)
            return None

    def paused(self, vendor: str) -> bool:
        return bool(self._evaluate("vendor_paused", vendor, False))

    def sweep_enabled(self) -> bool:
        return bool(self._evaluate("sweep_enabled", None, True))


def _file_store(path: str) -> Any:
    from aws_lambda_powertools.utilities.feature_flags.base import StoreProvider

    class FileStore(StoreProvider):
        """Flags from a JSON file, re-read when it changes (the local stack's AppConfig)."""

        def __init__(self, file: Path) -> None:
            self._file = file
            self._seen: tuple[float, dict[str, Any]] | None = None

        @property
        def get_raw_configuration(self) -> dict[str, Any]:
            return self.get_configuration()

        def get_configuration(self) -> dict[str, Any]:
            try:
                mtime = self._file.stat().st_mtime
            except FileNotFoundError:
                return {}
            if self._seen is None or self._seen[0] != mtime:
                self._seen = (mtime, json.loads(self._file.read_text() or "{}"))
            return self._seen[1]

    return FileStore(Path(path))


def flags_from(environ: Mapping[str, str]) -> Flags:
    """The flags the variables of ``environ`` configure (tests)."""
    from skill.config import settings_from

    return flags_for(settings_from(environ))


def flags_for(config: Settings) -> Flags:
    if config.feature_flags_file:
        store = _file_store(config.feature_flags_file)
    elif config.appconfig_application:
        from aws_lambda_powertools.utilities.feature_flags import AppConfigStore

        store = AppConfigStore(
            environment=config.appconfig_environment,
            application=config.appconfig_application,
            name=config.appconfig_profile,
            max_age=config.appconfig_max_age,
        )
    else:
        return Flags(None)
    from aws_lambda_powertools.utilities.feature_flags import FeatureFlags

    return Flags(FeatureFlags(store=store))
