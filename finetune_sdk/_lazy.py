"""Packages whose public names load from their modules on first use.

A package lists its names in one table, ``{module: "Name other_name ..."}`` (modules relative to the
package), imports the same names under ``if TYPE_CHECKING:`` for the type checkers (a test checks that
both agree), and takes its ``__getattr__`` and ``__dir__`` from :func:`module_hooks`. ``import
finetune_sdk`` then costs only what a caller touches.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any

__all__ = ["ModuleDir", "ModuleGetattr", "module_hooks"]

ModuleGetattr = Callable[[str], Any]
"""A package's ``__getattr__``."""
ModuleDir = Callable[[], list[str]]
"""A package's ``__dir__``."""


def module_hooks(
    package: str,
    exports: Mapping[str, str],
    namespace: MutableMapping[str, Any],
    public: Iterable[str],
    submodules: Iterable[str] = (),
) -> tuple[ModuleGetattr, ModuleDir]:
    """``__getattr__`` and ``__dir__`` for ``package`` (its ``__name__``), whose ``namespace`` (its
    ``globals()``) gets each name of ``exports`` on first use; ``submodules`` are reachable as
    attributes too (``finetune_sdk.relay``)."""
    where = {name: module for module, names in exports.items() for name in names.split()}
    children = frozenset(submodules)
    shown = sorted(set(public))

    def get(name: str) -> Any:
        if name in children:
            return importlib.import_module(f".{name}", package)
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value  # later lookups skip this function
        return value

    def listing() -> list[str]:
        return sorted(set(namespace) | set(shown))

    return get, listing
