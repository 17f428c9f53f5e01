"""The evaluate package's shape: no module imports one that imports it back (type-only imports and
imports inside functions included), and no module is over 500 lines."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "finetune_sdk"
EVALUATE = PACKAGE / "evaluate"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module of the SDK that ``path`` names in an import, wherever the import stands."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("finetune_sdk")}
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else (node.module or "")
            if not target.startswith("finetune_sdk"):
                continue
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}  # ``from . import _figures``
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: imports(path) & modules.keys() for name, path in modules.items()}


def cycle_through(start: str, edges: dict[str, set[str]]) -> list[str] | None:
    """A path of imports from ``start`` back to itself, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for following in sorted(edges.get(node, ())):
            if following == start:
                return [*path, start]
            if following not in seen:
                seen.add(following)
                stack.append((following, [*path, following]))
    return None


def test_no_module_of_evaluate_is_part_of_an_import_cycle() -> None:
    edges = graph()
    # the package's __init__ re-exports its modules (they are its children, not its dependencies)
    for name in edges:
        if name == "finetune_sdk.evaluate":
            edges[name] = set()
    cycles = {name: cycle_through(name, edges) for name in edges if name.startswith("finetune_sdk.evaluate.")}
    assert {name: cycle for name, cycle in cycles.items() if cycle} == {}


def test_the_cycle_finder_finds_one() -> None:
    assert cycle_through("a", {"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_through("a", {"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_import_reader_sees_type_only_and_function_imports(tmp_path: Path) -> None:
    edges = graph()
    assert "finetune_sdk.evaluate._figures" in edges["finetune_sdk.evaluate._comparison"]  # in a function
    assert "finetune_sdk.evaluate._curves" in edges["finetune_sdk.evaluate._comparison"]  # TYPE_CHECKING


def test_no_module_is_over_500_lines() -> None:
    lengths = {
        path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in EVALUATE.glob("*.py")
    }
    assert {name: n for name, n in lengths.items() if n > 500} == {}
