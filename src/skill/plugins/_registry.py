"""Installed adapters, found through the ``bulb_skill.adapters`` entry-point group, and the
deployment's adapter settings (``ADAPTER_SETTINGS``).

Factories are loaded lazily and each adapter is built once per container.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from skill.errors import NoSuchEndpoint
from skill.plugins._contract import Adapter, AdapterContext, AdapterFactory

ENTRY_POINT_GROUP = "bulb_skill.adapters"
#: The environment variable that carries the deployment's adapter settings (JSON), from the
#: stack parameter ``AdapterSettings``.
SETTINGS_VARIABLE = "ADAPTER_SETTINGS"
#: The entry of ``ADAPTER_SETTINGS`` that applies to every adapter (a vendor's own entry wins).
EVERY_ADAPTER = "*"
#: The setting that becomes ``AdapterContext.timeout_seconds``: seconds, more than 0, at most 8
#: (Alexa waits about 8 s for the whole loop).
TIMEOUT_SETTING = "TIMEOUT_SECONDS"
MAX_TIMEOUT_SECONDS = 8.0
_VENDOR = re.compile(r"^[a-z0-9_-]{1,32}$")
_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
_EXAMPLE = '{"acme": {"BASE_URL": "https://eu.api.acme.example/v1", "TIMEOUT_SECONDS": 2.5}}'

#: Settings, per vendor: setting name -> value (a string).
AdapterSettings = dict[str, dict[str, str]]


class AdapterSettingsError(RuntimeError):
    """``ADAPTER_SETTINGS`` (or a vendor's ``<VENDOR>_TIMEOUT_SECONDS``) is not usable; the
    message says what is wrong and what is expected."""


@cache
def installed_adapters() -> dict[str, EntryPoint]:
    """Vendor key -> entry point, for every installed adapter package."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def parse_adapter_settings(
    text: str | None, enabled: Iterable[str] | None = None
) -> AdapterSettings:
    """``ADAPTER_SETTINGS`` read and checked: a JSON object of vendor key -> object of setting
    name -> value, e.g. ``{"acme": {"BASE_URL": "https://eu.api.acme.example/v1"}}``.

    Names are upper-case (``BASE_URL``); values are strings, numbers or booleans (kept as
    strings: ``2.5`` -> ``"2.5"``, ``true`` -> ``"true"``); ``"*"`` holds settings for every
    adapter. ``TIMEOUT_SECONDS`` must be a number of seconds in (0, 8]. With ``enabled``, a
    vendor key that is not one of them is refused (a typo would otherwise go unnoticed).
    Raises ``AdapterSettingsError`` with the reason; empty or absent text is ``{}``.
    """
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise AdapterSettingsError(
            f"{SETTINGS_VARIABLE} is not JSON ({exc}): give a JSON object of adapter -> "
            f"settings, e.g. {_EXAMPLE}"
        ) from None
    if not isinstance(data, dict):
        raise AdapterSettingsError(
            f"{SETTINGS_VARIABLE} must be a JSON object of adapter -> settings, got "
            f"{_kind(data)}; e.g. {_EXAMPLE}"
        )
    settings: AdapterSettings = {}
    for vendor, entries in data.items():
        if vendor != EVERY_ADAPTER and not _VENDOR.match(vendor):
            raise AdapterSettingsError(
                f"{SETTINGS_VARIABLE}: {vendor!r} is not an adapter name (the entry-point name, "
                f"{_VENDOR.pattern}) nor {EVERY_ADAPTER!r}"
            )
        if not isinstance(entries, dict):
            raise AdapterSettingsError(
                f"{SETTINGS_VARIABLE}[{vendor!r}] must be an object of NAME -> value, got "
                f"{_kind(entries)}; e.g. {_EXAMPLE}"
            )
        settings[vendor] = {}
        for name, value in entries.items():
            where = f"{SETTINGS_VARIABLE}[{vendor!r}][{name!r}]"
            if not _NAME.match(name):
                raise AdapterSettingsError(
                    f"{SETTINGS_VARIABLE}[{vendor!r}]: setting names are upper-case letters, "
                    f"digits and _ (BASE_URL), not {name!r}"
                )
            if isinstance(value, bool):
                text_value = "true" if value else "false"
            elif isinstance(value, int | float | str):
                text_value = str(value)
            else:
                raise AdapterSettingsError(
                    f"{where} must be a string, a number or a boolean, got {_kind(value)}"
                )
            if name == TIMEOUT_SETTING:
                timeout_seconds(text_value, where)
            settings[vendor][name] = text_value
    if enabled is not None:
        known = set(enabled)
        unknown = sorted(v for v in settings if v != EVERY_ADAPTER and v not in known)
        if unknown:
            raise AdapterSettingsError(
                f"{SETTINGS_VARIABLE} has settings for adapters this deployment does not enable: "
                f"{unknown} (enabled: {', '.join(sorted(known)) or 'none'})"
            )
    return settings


def timeout_seconds(value: str, where: str = TIMEOUT_SETTING) -> float:
    """A ``TIMEOUT_SECONDS`` setting as seconds; ``AdapterSettingsError`` unless in (0, 8]."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (0 < seconds <= MAX_TIMEOUT_SECONDS):
        raise AdapterSettingsError(
            f"{where} must be a number of seconds more than 0 and at most "
            f"{MAX_TIMEOUT_SECONDS:g} (one vendor call inside Alexa's 8 s), got {value!r}"
        )
    return seconds


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }.get(type(value), "a number")


class AdapterRegistry:
    """The adapters this deployment enables (``ADAPTERS``, comma-separated; default: every
    installed adapter, which in Lambda is what the bundle ships), each built with its settings
    (``ADAPTER_SETTINGS``, see ``parse_adapter_settings``).

    A function builds it with ``AdapterRegistry.from_environment()``; here with one factory::

        >>> registry = AdapterRegistry({"acme": lambda context: context}, environ={},
        ...                            settings={"acme": {"TIMEOUT_SECONDS": "2"}})
        >>> registry.get("acme").timeout_seconds   # built once, with its settings
        2.0
        >>> registry.get("lifx")
        Traceback (most recent call last):
        ...
        skill.errors.NoSuchEndpoint: no adapter 'lifx' in this deployment
        >>> AdapterRegistry.from_environment({"ADAPTERS": "nope"})
        Traceback (most recent call last):
        ...
        RuntimeError: ADAPTERS names adapters that are not installed: ['nope']
    """

    def __init__(
        self,
        factories: Mapping[str, AdapterFactory],
        *,
        environ: Mapping[str, str] | None = None,
        secrets: Callable[[str], str] | None = None,
        settings: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._factories = dict(factories)
        self._environ = environ
        self._secrets = secrets
        self._settings = {vendor: dict(values) for vendor, values in (settings or {}).items()}
        self._built: dict[str, Adapter] = {}

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str] | None = None,
        secrets: Callable[[str], str] | None = None,
    ) -> AdapterRegistry:
        """The registry a function builds at start: ``RuntimeError`` when ``ADAPTERS`` names an
        adapter that is not installed, ``AdapterSettingsError`` when ``ADAPTER_SETTINGS`` is not
        usable (both say why)."""
        environ = os.environ if environ is None else environ
        wanted = [n.strip() for n in environ.get("ADAPTERS", "").split(",") if n.strip()]
        available = installed_adapters()
        # Default: every installed adapter. The simulator's are the workbench's, never in the
        # bundle; the local stack names the ones it runs.
        names = wanted or sorted(available)
        missing = [n for n in names if n not in available]
        if missing:
            raise RuntimeError(f"ADAPTERS names adapters that are not installed: {missing}")
        settings = parse_adapter_settings(environ.get(SETTINGS_VARIABLE), names)
        factories = {n: _lazy(available[n]) for n in names}
        return cls(factories, environ=environ, secrets=secrets, settings=settings)

    @property
    def names(self) -> list[str]:
        return list(self._factories)

    def context_for(self, vendor: str) -> AdapterContext:
        """The ``AdapterContext`` the factory of ``vendor`` gets: the environment, the secret
        source, the vendor's settings (``"*"``'s under its own) and ``timeout_seconds`` from
        ``TIMEOUT_SECONDS``."""
        settings = {**self._settings.get(EVERY_ADAPTER, {}), **self._settings.get(vendor, {})}
        context = AdapterContext(
            vendor=vendor,
            environ=dict(os.environ if self._environ is None else self._environ),
            secrets=self._secrets,
            settings=settings,
        )
        timeout = context.setting(TIMEOUT_SETTING)
        if timeout is not None:
            context = replace(
                context, timeout_seconds=timeout_seconds(timeout, f"{vendor} {TIMEOUT_SETTING}")
            )
        return context

    def get(self, vendor: str) -> Adapter:
        """The adapter for ``vendor``; ``NoSuchEndpoint`` when this deployment has none."""
        adapter = self._built.get(vendor)
        if adapter is None:
            factory = self._factories.get(vendor)
            if factory is None:
                raise NoSuchEndpoint(f"no adapter {vendor!r} in this deployment")
            context = self.context_for(vendor)
            adapter = factory(context)
            _check_setting_names(vendor, adapter, self._settings.get(vendor, {}))
            self._built[vendor] = adapter
        return adapter

    def all(self) -> list[Adapter]:
        return [self.get(name) for name in self._factories]


def _check_setting_names(vendor: str, adapter: Adapter, given: Mapping[str, str]) -> None:
    """An adapter that declares ``setting_names`` (the settings it reads) gets no other: a
    misspelt name would otherwise be ignored without a word."""
    declared = getattr(adapter, "setting_names", None)
    if declared is None:
        return
    accepted = set(declared) | {TIMEOUT_SETTING}
    unknown = sorted(set(given) - accepted)
    if unknown:
        raise AdapterSettingsError(
            f"{SETTINGS_VARIABLE}[{vendor!r}] has {unknown}, which the {vendor} adapter does not "
            f"read (it reads {', '.join(sorted(accepted))})"
        )


def _lazy(entry_point: EntryPoint) -> AdapterFactory:
    def factory(context: AdapterContext) -> Adapter:
        adapter: Adapter = entry_point.load()(context)
        return adapter

    return factory
