"""The dataset side's one face: every public name in ``finetune_sdk.data``, async twins that take the same
arguments, small modules and no import cycle inside the package (not even a type-only one)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import finetune_sdk
import finetune_sdk.data as data

PACKAGE = Path(data.__file__).resolve().parent
ROOT = PACKAGE.parent.parent

NAMES = [
    *("Dataset", "Conversation", "Message", "Role", "ValidationIssue", "ValidationReport", "DatasetStats"),
    *("Deduplication", "DroppedDuplicate", "ExactTokens", "Leak", "LeakageReport", "leakage"),
    *("NotARegularFileError", "convert_file", "aconvert_file", "ConversionReport", "FieldMap", "Repairs"),
    *("validate_file", "avalidate_file", "split_file", "asplit_file", "dedupe_file", "adedupe_file"),
    *("sha256_file", "asha256_file", "estimate_cost", "aestimate_cost", "CostEstimate", "SplitReport"),
]


def test_every_public_name_is_on_the_one_face() -> None:
    assert sorted(data.__all__) == sorted(set(data.__all__))
    for name in NAMES:
        assert name in data.__all__, name
        assert getattr(data, name) is not None
    for name in ("Dataset", "Conversation", "convert_file", "leakage", "ExactTokens", "NotARegularFileError"):
        assert getattr(finetune_sdk, name) is getattr(data, name)  # the old ways keep working


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("a") and n[1:] in NAMES])
def test_an_async_twin_takes_the_same_parameters(name: str) -> None:
    twin, plain = inspect.signature(getattr(data, name)), inspect.signature(getattr(data, name[1:]))
    assert inspect.iscoroutinefunction(getattr(data, name))
    shown = [
        (p.name, p.kind, p.default, p.annotation) for p in plain.parameters.values() if p.name != "cancel"
    ]
    assert [(p.name, p.kind, p.default, p.annotation) for p in twin.parameters.values()] == shown
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in twin.parameters.values())


def test_dataset_methods_and_their_twins_take_the_same_parameters() -> None:
    plain = inspect.signature(data.Dataset.validate_file).parameters
    twin = inspect.signature(data.Dataset.avalidate_file).parameters
    assert list(plain) == list(twin)
    assert list(inspect.signature(data.validate_file).parameters)[1:] == list(plain)[1:]


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """Every module of the package that ``module`` imports, anywhere in its text (type-only too)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")
            base = base[: len(base) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                if f"{target}.{alias.name}" in known:
                    found.add(f"{target}.{alias.name}")
                elif target in known:
                    found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
    found.discard(module)
    return found


def test_no_import_cycle_inside_the_data_package() -> None:
    modules = _modules()
    known = set(modules)
    graph = {name: _imports(name, path, known) for name, path in modules.items()}
    # A package's __init__ importing its own modules is how it shows them; a cycle is a module reaching
    # back to itself through others.
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in trail:
                cycle = trail[trail.index(nxt) :]
                if not all(c == "finetune_sdk.data" or c.endswith(".convert") for c in cycle):
                    cycles.append([*cycle, nxt])
                continue
            if len(trail) < 40:
                visit(nxt, [*trail, nxt])

    for start in sorted(graph):
        if not start.endswith(("data", "convert")):
            visit(start, [start])
    assert cycles == []


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_500_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500
