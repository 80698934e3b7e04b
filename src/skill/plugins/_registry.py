"""Installed adapters, found through the ``bulb_skill.adapters`` entry-point group.

Factories are loaded lazily and each adapter is built once per container.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from importlib.metadata import EntryPoint, entry_points

from skill.errors import NoSuchEndpoint
from skill.plugins._contract import Adapter, AdapterContext, AdapterFactory

ENTRY_POINT_GROUP = "bulb_skill.adapters"
SIMULATOR_PREFIX = "sim-"


@cache
def installed_adapters() -> dict[str, EntryPoint]:
    """Vendor key -> entry point, for every installed adapter package."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


class AdapterRegistry:
    """The adapters this deployment enables (``ADAPTERS``, comma-separated; default: every
    installed adapter except the local simulator's ``sim-*`` ones).

    Example::

        registry = AdapterRegistry.from_environment()
        adapter = registry.get("lifx")
    """

    def __init__(
        self,
        factories: Mapping[str, AdapterFactory],
        *,
        environ: Mapping[str, str] | None = None,
        secrets: Callable[[str], str] | None = None,
    ) -> None:
        self._factories = dict(factories)
        self._environ = environ
        self._secrets = secrets
        self._built: dict[str, Adapter] = {}

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str] | None = None,
        secrets: Callable[[str], str] | None = None,
    ) -> AdapterRegistry:
        environ = os.environ if environ is None else environ
        wanted = [n.strip() for n in environ.get("ADAPTERS", "").split(",") if n.strip()]
        available = installed_adapters()
        # Default: every installed vendor, but never the local simulator's adapters (they are
        # installed with the package; only the local stack, which names them, uses them).
        names: Iterable[str] = wanted or sorted(n for n in available if not n.startswith(SIMULATOR_PREFIX))
        missing = [n for n in names if n not in available]
        if missing:
            raise RuntimeError(f"ADAPTERS names adapters that are not installed: {missing}")
        factories = {n: _lazy(available[n]) for n in names}
        return cls(factories, environ=environ, secrets=secrets)

    @property
    def names(self) -> list[str]:
        return list(self._factories)

    def get(self, vendor: str) -> Adapter:
        """The adapter for ``vendor``; ``NoSuchEndpoint`` when this deployment has none."""
        adapter = self._built.get(vendor)
        if adapter is None:
            factory = self._factories.get(vendor)
            if factory is None:
                raise NoSuchEndpoint(f"no adapter {vendor!r} in this deployment")
            context = AdapterContext(
                vendor=vendor,
                environ=dict(os.environ if self._environ is None else self._environ),
                secrets=self._secrets,
            )
            adapter = self._built[vendor] = factory(context)
        return adapter

    def all(self) -> list[Adapter]:
        return [self.get(name) for name in self._factories]


def _lazy(entry_point: EntryPoint) -> AdapterFactory:
    def factory(context: AdapterContext) -> Adapter:
        return entry_point.load()(context)

    return factory
