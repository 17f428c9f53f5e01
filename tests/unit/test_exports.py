"""The export table of ``finetune_sdk``: the lazy table, the type checkers' imports and ``__all__`` say the
same thing, and every name imports from where the table says."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import finetune_sdk

INIT = Path(finetune_sdk.__file__)


def _type_checking_imports() -> dict[str, set[str]]:
    """module -> names, from the ``if TYPE_CHECKING:`` block of ``__init__.py``."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.dump(stmt)
                module = "." * stmt.level + (stmt.module or "")
                found.setdefault(module, set()).update(alias.name for alias in stmt.names)
    return found


def _lazy_table() -> dict[str, set[str]]:
    return {module: set(names.split()) for module, names in finetune_sdk._EXPORTS.items()}


def test_the_table_and_the_type_checkers_imports_agree() -> None:
    assert _type_checking_imports() == _lazy_table()


def test_all_is_the_table_plus_the_version_sorted_and_without_repeats() -> None:
    table = {name for names in _lazy_table().values() for name in names}
    assert set(finetune_sdk.__all__) == table | {"__version__"}
    assert len(finetune_sdk.__all__) == len(set(finetune_sdk.__all__))
    assert sum(len(names) for names in _lazy_table().values()) == len(table)  # no name in two modules


def test_every_exported_name_imports_and_comes_from_its_module() -> None:
    for module, names in _lazy_table().items():
        source = importlib.import_module(module, "finetune_sdk")
        for name in names:
            value = getattr(finetune_sdk, name)
            assert value is getattr(source, name), name


def test_star_import_gives_every_name() -> None:
    code = (
        "from finetune_sdk import *; import finetune_sdk; names = set(dir()); "
        "assert set(finetune_sdk.__all__) <= names, set(finetune_sdk.__all__) - names"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        finetune_sdk.NoSuchName  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchName" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")


def test_the_documented_subpackages_are_reachable_as_attributes() -> None:
    for name in ("chat", "data", "errors", "evaluate", "pagination", "relay", "types"):
        assert getattr(finetune_sdk, name).__name__ == f"finetune_sdk.{name}"
