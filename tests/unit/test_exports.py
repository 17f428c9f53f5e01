"""The export tables of ``finetune_sdk``, ``finetune_sdk.data``, ``finetune_sdk.evaluate`` and
``finetune_sdk.types``: the lazy table, the type checkers' imports and ``__all__`` say the same thing, and
every name imports from where the table says."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import finetune_sdk
import finetune_sdk.data
import finetune_sdk.evaluate
import finetune_sdk.types

PACKAGES = [finetune_sdk, finetune_sdk.data, finetune_sdk.evaluate, finetune_sdk.types]
EXTRA = {"finetune_sdk": {"__version__"}}  # names in __all__ that are not in the table


@pytest.fixture(params=PACKAGES, ids=lambda p: p.__name__)
def package(request: pytest.FixtureRequest) -> ModuleType:
    return request.param  # type: ignore[no-any-return]


def _type_checking_imports(package: ModuleType) -> dict[str, set[str]]:
    """module -> names, from the ``if TYPE_CHECKING:`` block of the package's ``__init__.py``."""
    tree = ast.parse(Path(str(package.__file__)).read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.dump(stmt)
                module = "." * stmt.level + (stmt.module or "")
                found.setdefault(module, set()).update(alias.name for alias in stmt.names)
    return found


def _lazy_table(package: ModuleType) -> dict[str, set[str]]:
    exports: dict[str, str] = package._EXPORTS
    return {module: set(names.split()) for module, names in exports.items()}


def test_the_table_and_the_type_checkers_imports_agree(package: ModuleType) -> None:
    assert _type_checking_imports(package) == _lazy_table(package)


def test_all_is_the_table_sorted_and_without_repeats(package: ModuleType) -> None:
    table = {name for names in _lazy_table(package).values() for name in names}
    assert set(package.__all__) == table | EXTRA.get(package.__name__, set())
    assert len(package.__all__) == len(set(package.__all__))
    assert sum(len(names) for names in _lazy_table(package).values()) == len(table)  # no name twice


def test_every_exported_name_imports_and_comes_from_its_module(package: ModuleType) -> None:
    for module, names in _lazy_table(package).items():
        source = importlib.import_module(module, package.__name__)
        for name in names:
            value = getattr(package, name)
            assert value is getattr(source, name), name
            assert name in dir(package)


def test_star_import_gives_every_name(package: ModuleType) -> None:
    name = package.__name__
    code = (
        f"from {name} import *; import {name} as p; names = set(dir()); "
        "assert set(p.__all__) <= names, set(p.__all__) - names"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_unknown_name_is_an_attribute_error(package: ModuleType) -> None:
    with pytest.raises(AttributeError, match="NoSuchName"):
        getattr(package, "NoSuchName")  # noqa: B009


def test_the_documented_subpackages_are_reachable_as_attributes() -> None:
    for name in ("chat", "data", "errors", "evaluate", "pagination", "relay", "types"):
        assert getattr(finetune_sdk, name).__name__ == f"finetune_sdk.{name}"
