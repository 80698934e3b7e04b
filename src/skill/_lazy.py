"""Packages that import a name's module only when the name is first used (PEP 562).

A Lambda cold start pays for every module its handler's imports reach. A package that
re-exports its submodules' names eagerly makes every importer pay for all of them: the
scheduler would build the bulb models to read one enum. ``lazy_exports`` gives a package's
``__getattr__`` instead; the package keeps its public names (``from skill.plugins import
Device`` works as before) and declares them for type checkers under ``TYPE_CHECKING``.

Example::

    >>> lazy_exports("json", {"JSONDecoder": "decoder"})("JSONDecoder").__name__
    'JSONDecoder'
    >>> lazy_exports("json", {"decoder": "decoder"})("decoder").__name__
    'json.decoder'
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: each name of ``where`` is imported from the
    submodule it maps to on first use (a name that maps to itself is that submodule), then
    kept in the package so later lookups do not come back here."""

    def __getattr__(name: str) -> Any:
        try:
            submodule = where[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module = import_module(f"{package}.{submodule}")
        value = module if submodule == name else getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
